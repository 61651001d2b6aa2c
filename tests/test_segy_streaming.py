"""SEG-Y import and export streaming: chunk files written and read without zarr's machinery
are zarr's own, odd chunk shapes stay exact, failures in the writer thread reach the caller."""

from __future__ import annotations

import json

import numpy as np
import pytest
import segyio
from segy_files import (
    SEGY,
    endian_of,
    records,
    renumbered_small,
    segyio_traces,
    set_field,
    shuffled_small,
    write,
)

import aaspi_py.io.segy as segy_io
from aaspi_py import open_volume
from aaspi_py.io.segy import export_segy, import_segy


def _chunk_files(volume):
    root = volume / "data" / "c"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, chunks", [("f3.sgy", (4, 3, 7)), ("small-lsb.sgy", (2, 3, 16)),
                                          ("ex2_complete_3d_75x71x26.segy", (64, 64, 128)),
                                          ("small.sgy", (2, 2, 16))])
@pytest.mark.parametrize("one_pass", [True, False])
def test_chunk_files_are_those_zarr_writes(tmp_path, monkeypatch, name, chunks, one_pass):
    """The plain chunk files (edge chunks padded), written in one pass or in two, are byte
    for byte what zarr itself writes."""
    monkeypatch.setattr(segy_io, "ONE_PASS", one_pass)
    import_segy(SEGY / name, tmp_path / "direct.zarr", chunks=chunks)
    monkeypatch.setattr(segy_io, "ONE_PASS", False)
    monkeypatch.setattr(segy_io, "plain_chunks", lambda array, shape: False)
    import_segy(SEGY / name, tmp_path / "zarr.zarr", chunks=chunks)
    direct, through_zarr = _chunk_files(tmp_path / "direct.zarr"), _chunk_files(tmp_path / "zarr.zarr")
    assert direct.keys() == through_zarr.keys() and len(direct) > 1
    assert direct == through_zarr
    one, two = open_volume(tmp_path / "direct.zarr"), open_volume(tmp_path / "zarr.zarr")
    for name in ("trace_mask", "trace_header", "trace_order", "cdp_x", "cdp_y", "inline", "crossline"):
        np.testing.assert_array_equal(one[name].values, two[name].values)
    assert {k: v for k, v in one.attrs.items() if k != "segy_headers_id"} == \
        {k: v for k, v in two.attrs.items() if k != "segy_headers_id"}


@pytest.mark.parametrize("chunks", [(4, 3, 7), (23, 18, 75), (5, 18, 16)])
def test_odd_chunk_shapes_stay_exact_both_ways(tmp_path, chunks):
    """Values equal segyio's and the export is identical to the file, whatever the chunking."""
    vol = tmp_path / "v.zarr"
    import_segy(SEGY / "f3.sgy", vol, chunks=chunks)
    ds = open_volume(vol)
    assert ds["data"].encoding["chunks"] == chunks
    with segyio.open(SEGY / "f3.sgy") as f:
        np.testing.assert_array_equal(ds["data"].values, segyio.tools.cube(f).astype(np.float32))
    export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == (SEGY / "f3.sgy").read_bytes()


def test_unsorted_file_with_small_chunks_round_trip(tmp_path):
    """Traces in random order, blocks of several chunks: file order and values kept."""
    path, _ = shuffled_small(tmp_path)
    vol = tmp_path / "v.zarr"
    import_segy(path, vol, chunks=(2, 2, 8))
    traces, _ = segyio_traces(path)
    ds = open_volume(vol)
    order = ds["trace_order"].values
    np.testing.assert_array_equal(ds["data"].values[order >= 0], traces[order[order >= 0]])
    export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == path.read_bytes()


def test_export_of_an_open_dataset_equals_export_of_the_path(tmp_path):
    """Reading through xarray (a Dataset given) and from the chunk files give the same file."""
    vol = tmp_path / "v.zarr"
    import_segy(SEGY / "small-lsb.sgy", vol, chunks=(2, 2, 16))
    export_segy(vol, tmp_path / "a.sgy")
    export_segy(open_volume(vol), tmp_path / "b.sgy")
    assert (tmp_path / "a.sgy").read_bytes() == (tmp_path / "b.sgy").read_bytes() \
        == (SEGY / "small-lsb.sgy").read_bytes()
    assert endian_of(SEGY / "small-lsb.sgy") == "little"


@pytest.mark.parametrize("one_pass", [True, False])
def test_writer_failure_reaches_the_caller_and_leaves_nothing(tmp_path, monkeypatch, one_pass):
    """A write error in the writer thread (a full disk) stops the import with that error."""
    import aaspi_py.io.segy_stream as segy_stream

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segy_io, "ONE_PASS", one_pass)
    monkeypatch.setattr(segy_io, "write_chunk_files", full_disk)
    monkeypatch.setattr(segy_stream._ChunkGroupWriter, "_write", full_disk)
    monkeypatch.setattr(segy_io, "BLOCK_BYTES", 4096)  # many blocks: the reader must stop too
    monkeypatch.setattr(segy_stream, "BATCH_BYTES", 4096)
    with pytest.raises(OSError, match="No space left on device"):
        import_segy(SEGY / "f3.sgy", tmp_path / "v.zarr", chunks=(2, 2, 75))
    assert list(tmp_path.iterdir()) == []


def test_headers_read_through_many_small_maps(tmp_path, monkeypatch):
    """Header maps of a few traces each (as for a survey far wider than one map) keep every
    raw header: the export is still identical to the file."""
    import aaspi_py.io.segy_geometry as segy_geometry

    path, _ = shuffled_small(tmp_path)
    monkeypatch.setattr(segy_geometry, "MAP_BYTES", 3 * 440)  # small.sgy traces are 440 bytes
    vol = tmp_path / "v.zarr"
    import_segy(path, vol)
    export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == path.read_bytes()


def _no_header_pass(*args, **kwargs):
    raise AssertionError("the header pass ran")


@pytest.mark.parametrize("name", ["f3.sgy", "small-lsb.sgy", "multiformats/Format1lsb.sgy",
                                  "multiformats/Format1msb.sgy", "multiformats/Format2msb.sgy",
                                  "multiformats/Format16msb.sgy", "renumbered"])
def test_files_filling_their_grid_in_inline_order_are_read_once(tmp_path, monkeypatch, name):
    """No separate header pass for a full grid in inline order (reversed, negative and
    decimated line numbers too); values equal segyio's, the export is identical to the file."""
    path = renumbered_small(tmp_path) if name == "renumbered" else SEGY / name
    monkeypatch.setattr(segy_io, "scan_headers", _no_header_pass)
    vol = tmp_path / "v.zarr"
    import_segy(path, vol, chunks=(4, 4, 16))
    traces, _ = segyio_traces(path)
    ds = open_volume(vol)
    np.testing.assert_array_equal(ds["data"].values.reshape(len(traces), -1), traces)
    export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == path.read_bytes()


def test_a_wrong_guess_of_the_grid_falls_back_to_two_passes(tmp_path, monkeypatch):
    """Two crosslines swapped inside the third inline: the first inline, the second and the
    last trace look like a full grid in inline order, the traces are not; every trace still
    lands at its own inline and crossline."""
    head, recs, _ = records(SEGY / "small.sgy")
    recs[[11, 13]] = recs[[13, 11]]
    path = write(tmp_path / "swapped.sgy", head, recs)
    passes = []
    real_scan = segy_io.scan_headers
    monkeypatch.setattr(segy_io, "scan_headers", lambda *a, **k: passes.append(1) or real_scan(*a, **k))
    vol = tmp_path / "v.zarr"
    import_segy(path, vol)
    assert passes == [1]
    with segyio.open(SEGY / "small.sgy") as f:
        np.testing.assert_array_equal(open_volume(vol)["data"].values, segyio.tools.cube(f).astype(np.float32))
    export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == path.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _metadata(volume):
    out = {}
    for path in sorted(volume.rglob("zarr.json")):
        meta = json.loads(path.read_text())
        meta.get("attributes", {}).pop("segy_headers_id", None)
        out[path.relative_to(volume).as_posix()] = meta
    return out


@pytest.mark.parametrize("keep_headers, domain", [(True, "time"), (False, "depth")])
def test_one_pass_metadata_is_what_xarray_writes(tmp_path, monkeypatch, keep_headers, domain):
    """The one-pass import writes its metadata with zarr alone: every zarr.json equals the
    one xarray writes in the two-pass import, and the small arrays hold the same values."""
    kwargs = {"keep_headers": keep_headers, "domain": domain, "chunks": (4, 3, 32)}
    import_segy(SEGY / "f3.sgy", tmp_path / "one.zarr", **kwargs)
    monkeypatch.setattr(segy_io, "ONE_PASS", False)
    import_segy(SEGY / "f3.sgy", tmp_path / "two.zarr", **kwargs)
    one, two = _metadata(tmp_path / "one.zarr"), _metadata(tmp_path / "two.zarr")
    assert one == two and len(one) == (10 if keep_headers else 8)  # the group and its arrays
    a, b = open_volume(tmp_path / "one.zarr"), open_volume(tmp_path / "two.zarr")
    for name in [*a.variables]:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def _cube_file(tmp_path, ni: int = 5, nx: int = 7, ns: int = 300):
    """An inline-sorted IEEE-float survey with traces long enough for O_DIRECT chunk rows."""
    head = bytearray((SEGY / "small.sgy").read_bytes()[:3600])
    head[3220:3222] = ns.to_bytes(2, "big")
    head[3224:3226] = (5).to_bytes(2, "big")
    recs = np.zeros((ni * nx, 240 + 4 * ns), np.uint8)
    k = np.arange(ni * nx)
    set_field(recs, 189, 100 + k // nx)
    set_field(recs, 193, 10 + 2 * (k % nx))
    set_field(recs, 115, ns, size=2)
    values = np.random.default_rng(5).standard_normal((ni * nx, ns)).astype(">f4")
    values[3] = 0  # a dead trace
    recs[:, 240:] = values.view(np.uint8).reshape(ni * nx, -1)
    return write(tmp_path / "cube.sgy", bytes(head), recs)


@pytest.mark.parametrize("refused", [None, "open", "write", "read"])
def test_direct_chunk_writes(tmp_path, monkeypatch, refused):
    """Chunk rows of whole disk blocks written with O_DIRECT (DIRECT_WRITES): the files are those zarr
    writes (edge chunks padded in every direction); where the file system refuses O_DIRECT
    (at open or at the first write) they are written the ordinary way, the same files; and
    where it refuses O_DIRECT reads of the SEG-Y file, the file is read the ordinary way."""
    import errno
    import fcntl
    import os

    import aaspi_py.io.segy_stream as segy_stream

    path, chunks = _cube_file(tmp_path), (2, 3, 128)  # rows of 3 x 128 float32: 1536 bytes
    monkeypatch.setattr(segy_stream, "DIRECT_WRITES", True)
    real_open, real_pwritev, real_preadv = os.open, os.pwritev, os.preadv
    direct_fds, attempts, direct_reads = set(), [], []

    def counting_open(path, flags, *args, **kwargs):
        if flags & os.O_DIRECT and flags & os.O_WRONLY:  # a chunk file (the SEG-Y is read with O_DIRECT too)
            attempts.append(path)
            if refused == "open":
                raise OSError(errno.EINVAL, "Invalid argument")
        fd = real_open(path, flags, *args, **kwargs)
        (direct_fds.add if flags & os.O_DIRECT and flags & os.O_WRONLY else direct_fds.discard)(fd)  # reused
        return fd

    def refusing_preadv(fd, buffers, offset):
        if refused == "read" and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            direct_reads.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_preadv(fd, buffers, offset)

    def refusing_pwritev(fd, buffers, offset):
        if fd in direct_fds and refused == "write":
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwritev(fd, buffers, offset)

    monkeypatch.setattr(segy_stream.os, "open", counting_open)
    monkeypatch.setattr(segy_stream.os, "pwritev", refusing_pwritev)
    monkeypatch.setattr(segy_stream.os, "preadv", refusing_preadv)
    import_segy(path, tmp_path / "one.zarr", chunks=chunks)
    monkeypatch.undo()
    # 3 x 3 x 3 chunk files: all opened with O_DIRECT; or refused at the first open; or
    # refused at the first write, after the 3 x 3 files of the first group were opened
    assert len(attempts) == {None: 27, "read": 27, "open": 1, "write": 9}[refused]
    assert len(direct_reads) == (1 if refused == "read" else 0)
    monkeypatch.setattr(segy_io, "ONE_PASS", False)
    monkeypatch.setattr(segy_io, "plain_chunks", lambda array, shape: False)
    import_segy(path, tmp_path / "zarr.zarr", chunks=chunks)
    one, through_zarr = _chunk_files(tmp_path / "one.zarr"), _chunk_files(tmp_path / "zarr.zarr")
    assert one.keys() == through_zarr.keys() and len(one) == 27
    assert one == through_zarr
    traces, _ = segyio_traces(path)
    ds = open_volume(tmp_path / "one.zarr")
    np.testing.assert_array_equal(ds["data"].values.reshape(len(traces), -1), traces)
    assert int(ds["trace_mask"].sum()) == len(traces) - 1


def test_metadata_failure_in_one_pass_reaches_the_caller_and_leaves_nothing(tmp_path, monkeypatch):
    """The volume's metadata is written on a thread of its own: its failure stops the import."""
    import aaspi_py.io.segy_stream as segy_stream

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segy_io, "_skeleton_zarr", full_disk)
    monkeypatch.setattr(segy_stream, "BATCH_BYTES", 4096)
    with pytest.raises(OSError, match="No space left on device"):
        import_segy(SEGY / "f3.sgy", tmp_path / "v.zarr", chunks=(2, 2, 75))
    assert list(tmp_path.iterdir()) == []


def test_inlines_larger_than_a_batch(tmp_path, monkeypatch):
    """An inline larger than a read batch is read a few chunk columns at a time: the same
    chunk files as zarr's, the same values as segyio's."""
    import aaspi_py.io.segy_stream as segy_stream

    path, chunks = _cube_file(tmp_path), (2, 3, 128)
    monkeypatch.setattr(segy_stream, "BATCH_BYTES", 4096)  # an inline is 7 traces of 1440 bytes
    assert {(b.r1 - b.r0, b.c1 - b.c0) for b in segy_stream._batches(5, 7, chunks, 1440)} == {(1, 3), (1, 1)}
    import_segy(path, tmp_path / "one.zarr", chunks=chunks)
    monkeypatch.setattr(segy_io, "ONE_PASS", False)
    monkeypatch.setattr(segy_io, "plain_chunks", lambda array, shape: False)
    import_segy(path, tmp_path / "zarr.zarr", chunks=chunks)
    assert _chunk_files(tmp_path / "one.zarr") == _chunk_files(tmp_path / "zarr.zarr")
    traces, _ = segyio_traces(path)
    np.testing.assert_array_equal(open_volume(tmp_path / "one.zarr")["data"].values.reshape(len(traces), -1),
                                  traces)
