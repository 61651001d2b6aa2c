"""Plain float32 chunk files read and written directly (framework/chunk_files): the same
values and the same files as zarr, for whole chunks, parts of chunks, edge chunks and chunks
never written."""

import numpy as np
import pytest
import zarr

from aaspi_py.framework.chunk_files import chunk_files
from aaspi_py.framework.volume_store import read_indices, reflect_indices

SHAPE, CHUNKS = (9, 13, 20), (4, 5, 6)


def plain(path, fill=float("nan"), dtype="f4", compressors=None):
    return zarr.create_array(store=str(path), shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill,
                             compressors=compressors)


def test_only_plain_float32_arrays_are_read_directly(tmp_path):
    assert chunk_files(plain(tmp_path / "a.zarr")) is not None
    assert chunk_files(plain(tmp_path / "b.zarr", compressors="auto")) is None  # zstd: through zarr
    assert chunk_files(plain(tmp_path / "c.zarr", dtype="f8")) is None


def test_boxes_read_directly_equal_zarr_reads(tmp_path, rng):
    z = plain(tmp_path / "x.zarr")
    x = rng.standard_normal(SHAPE).astype("f4")
    z[...] = x
    z[4:8, 5:10, 6:12] = np.nan  # zarr writes no file for a chunk of fill values only
    files = chunk_files(z)
    for _ in range(40):
        lo = [int(rng.integers(0, n)) for n in SHAPE]
        hi = [int(rng.integers(a + 1, n + 1)) for a, n in zip(lo, SHAPE)]
        out = np.full([b - a for a, b in zip(lo, hi)], 7.0, dtype="f4")
        files.read_box(lo, hi, out)
        np.testing.assert_array_equal(out, z[tuple(slice(a, b) for a, b in zip(lo, hi))])
    # into a strided view (a block with room for its halo), as the region tasks read
    big = np.zeros((9, 17, 24), dtype="f4")
    files.read_box((0, 0, 0), SHAPE, big[:, 2:15, 2:22])
    np.testing.assert_array_equal(big[:, 2:15, 2:22], z[...])
    for halo in [(0, 0, 0), (1, 2, 3), (7, 1, 11)]:
        for start, stop in [((0, 0, 0), SHAPE), ((4, 5, 6), (8, 10, 12)), ((8, 12, 18), SHAPE)]:
            index = [reflect_indices(a, b, n, h) for a, b, n, h in zip(start, stop, SHAPE, halo)]
            np.testing.assert_array_equal(read_indices(z, index, files), read_indices(z, index))


def test_written_chunk_files_are_the_files_zarr_writes(tmp_path, rng):
    x = rng.standard_normal(SHAPE).astype("f4")
    ours, theirs = plain(tmp_path / "ours.zarr", fill=0.0), plain(tmp_path / "theirs.zarr", fill=0.0)
    files = chunk_files(ours)
    for i in range(0, SHAPE[0], CHUNKS[0]):  # regions of one chunk row, one column, all samples
        for j in range(0, SHAPE[1], CHUNKS[1]):
            files.write_box((i, j, 0), x[i:i + 4, j:j + 5])
    theirs[...] = x
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "ours.zarr"))[...], x)
    written = sorted(p.relative_to(tmp_path / "ours.zarr") for p in (tmp_path / "ours.zarr" / "c").rglob("*")
                     if p.is_file())
    assert written == sorted(p.relative_to(tmp_path / "theirs.zarr")
                             for p in (tmp_path / "theirs.zarr" / "c").rglob("*") if p.is_file())
    for p in written:  # edge chunks padded with the fill value, as zarr pads them
        assert (tmp_path / "ours.zarr" / p).read_bytes() == (tmp_path / "theirs.zarr" / p).read_bytes()


def test_a_box_off_the_chunk_grid_and_a_damaged_chunk_are_refused(tmp_path, rng):
    z = plain(tmp_path / "x.zarr")
    z[...] = rng.standard_normal(SHAPE).astype("f4")
    files = chunk_files(z)
    with pytest.raises(ValueError, match="not on the chunk grid"):
        files.write_box((1, 0, 0), np.zeros((4, 5, 6), "f4"))
    (tmp_path / "x.zarr" / "c" / "0" / "0" / "0").write_bytes(b"\0" * 100)
    for box in [((0, 0, 0), CHUNKS), ((1, 1, 1), (3, 3, 3))]:
        with pytest.raises(OSError, match="c/0/0/0 is .*shorter than a chunk|c/0/0/0 is not one chunk long"):
            files.read_box(*box, np.empty([b - a for a, b in zip(*box)], "f4"))


def test_an_output_with_an_inputs_frame_is_a_copy_of_its_geometry(tmp_path, rng):
    import os

    import xarray as xr

    import aaspi_py
    from aaspi_py.framework.volume_store import create_volumes
    from aaspi_py.volume import build_dataset

    x = rng.standard_normal((20, 30, 40)).astype("f4")
    mask = np.ones((20, 30), bool)
    mask[3, 4] = False
    src = aaspi_py.save_volume(x, tmp_path / "in.zarr", chunks=(8, 8, 16), trace_mask=mask, kind="amplitude")
    inp = aaspi_py.open_volume(src)
    out = build_dataset(x * 2, like=inp, kind="filtered", attrs={"module": "m", "parameters": {"a": [1, 2]}},
                        trace_mask=mask)
    copied = create_volumes([(out, tmp_path / "copied.zarr")], chunks=(8, 8, 16), templates=[src])
    written = create_volumes([(out, tmp_path / "written.zarr")], chunks=(8, 8, 16))
    for a in (copied, written):
        a[0][...] = x * 2
    a, b = aaspi_py.open_volume(tmp_path / "copied.zarr"), aaspi_py.open_volume(tmp_path / "written.zarr")
    xr.testing.assert_identical(a.load(), b.load())
    assert os.stat(tmp_path / "copied.zarr" / "trace_mask" / "c" / "0" / "0").st_ino == \
        os.stat(src / "trace_mask" / "c" / "0" / "0").st_ino  # hard-linked, not rewritten
    # another chunking, or another trace mask: not the input's frame, written through xarray
    other = build_dataset(x, like=inp, kind="filtered", trace_mask=~mask)
    create_volumes([(other, tmp_path / "other.zarr")], chunks=(8, 8, 16), templates=[src])
    assert os.stat(tmp_path / "other.zarr" / "trace_mask" / "c" / "0" / "0").st_nlink == 1
    assert np.array_equal(aaspi_py.open_volume(tmp_path / "other.zarr")["trace_mask"].values, ~mask)
    create_volumes([(out, tmp_path / "rechunked.zarr")], chunks=(4, 8, 16), templates=[src])
    assert zarr.open_array(str(tmp_path / "rechunked.zarr" / "data")).chunks == (4, 8, 16)
