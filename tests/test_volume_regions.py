"""Modules that read each chunk with its halo straight from zarr (volume_store.write_regions):
the same output whatever the chunking, equal to the filter on the whole volume in memory."""

import numpy as np
import pytest
from scipy import ndimage

import aaspi_py
from aaspi_py.filters.kuwahara import kuwahara
from aaspi_py.framework.volume_store import (
    TASK_SAMPLES,
    reflect_indices,
    region_tasks,
    write_regions,
)
from aaspi_py.volume import build_dataset


@pytest.mark.parametrize("n", [1, 2, 5, 9])
@pytest.mark.parametrize("halo", [0, 1, 3, 11])
def test_reflection_is_numpy_symmetric_padding(n, halo):
    assert np.array_equal(reflect_indices(0, n, n, halo), np.pad(np.arange(n), halo, mode="symmetric"))


class BoxSum:
    """Sum over a (2h+1)^3 box of the padded block: picklable, exact for small integers."""

    def __init__(self, halo):
        self.halo = halo

    def __call__(self, blocks, index, region):
        (x,) = blocks
        h0, h1, h2 = self.halo
        s = ndimage.correlate(x.astype(np.float64), np.ones((2 * h0 + 1, 2 * h1 + 1, 2 * h2 + 1)), mode="constant")
        out = s[h0:x.shape[0] - h0, h1:x.shape[1] - h1, h2:x.shape[2] - h2].astype(np.float32)
        assert out.shape == tuple(r.stop - r.start for r in region)
        return [out], np.array([out.size, out.sum(dtype=np.float64)])


@pytest.mark.parametrize("chunks", [(4, 5, 6), (9, 13, 20), (3, 1, 7)])
@pytest.mark.parametrize("whole_traces", [False, True])
def test_regions_with_halos_equal_the_whole_volume_filter(tmp_path, rng, chunks, whole_traces):
    x = rng.integers(0, 10, (9, 13, 20)).astype(np.float32)
    src = aaspi_py.save_volume(x, tmp_path / "x.zarr", chunks=chunks)
    halo = (2, 1, 0 if whole_traces else 3)
    total = write_regions([(build_dataset(x, kind="attribute"), tmp_path / "y.zarr")], [src], BoxSum(halo),
                          halo=halo, n_partial=2, chunks=chunks, whole_traces=whole_traces)
    # scipy's "reflect" is the half-sample reflection of the volume's edges
    ref = ndimage.correlate(x.astype(np.float64), np.ones([2 * h + 1 for h in halo]), mode="reflect")
    y = aaspi_py.open_volume(tmp_path / "y.zarr")["data"].values
    np.testing.assert_array_equal(y, ref.astype(np.float32))
    assert total[0] == x.size and total[1] == pytest.approx(ref.astype(np.float32).sum(dtype=np.float64))


def test_tasks_cover_every_chunk_once_with_work_for_every_thread():
    shape, chunks = (384, 384, 1000), (64, 64, 128)
    tasks = region_tasks(shape, chunks, threads=2)
    cover = np.zeros(shape[:2] + (8,), int)
    for rows, col, samples in tasks:
        for a, b in rows:
            for s0, _ in samples:
                cover[a:b, col[0]:col[1], s0 // 128] += 1
    assert (cover == 1).all()
    assert len(tasks) >= 8  # four per thread at least
    assert all(s[-1][1] - s[0][0] <= TASK_SAMPLES for _, _, s in tasks)  # a task holds a bounded depth


@pytest.mark.parametrize("selection", ["each", "joint", "guide"])
def test_kuwahara3d_output_is_the_same_for_any_chunking(tmp_path, rng, selection):
    shape = (11, 9, 14)
    a = rng.standard_normal(shape).astype("f4")
    b = (0.5 * rng.standard_normal(shape) + 2.0).astype("f4")
    mask = rng.random(shape[:2]) > 0.15
    a[~mask] = 0.0
    outs = []
    for chunks in [(11, 9, 14), (4, 4, 5), (2, 3, 2)]:  # halos wider than a chunk in the last
        project = aaspi_py.Project.create(tmp_path / "x".join(map(str, chunks)), "t")
        for name, v in (("a", a), ("b", b)):
            aaspi_py.save_volume(v, project.volumes_dir / f"{name}.zarr", trace_mask=mask, chunks=chunks)
        res = aaspi_py.run("kuwahara3d", project.root, inputs=["a", "b"], window=[3, 5, 3], selection=selection,
                           guide="b")
        outs.append([aaspi_py.open_volume(res.outputs[f"kuwahara3d_{n}_t"])["data"].values for n in "ab"])
    ref = kuwahara([a, b], (3, 5, 3), selection=selection, guide=1, mask=mask)
    for got in outs:
        for g, r in zip(got, ref):
            assert np.array_equal(g, r, equal_nan=True)


def test_a_block_with_its_halo_is_read_as_the_reflected_volume(tmp_path, rng):
    import zarr

    from aaspi_py.framework.volume_store import read_indices

    shape = (9, 13, 20)
    x = rng.standard_normal(shape).astype("f4")
    z = zarr.create_array(store=str(tmp_path / "x.zarr"), shape=shape, chunks=(4, 5, 6), dtype="f4")
    z[...] = x
    for halo in [(0, 0, 0), (1, 2, 3), (7, 1, 11)]:  # the last longer than a chunk and an axis
        for start, stop in [((0, 0, 0), shape), ((4, 5, 6), (8, 10, 12)), ((8, 12, 18), shape)]:
            index = [reflect_indices(a, b, n, h) for a, b, n, h in zip(start, stop, shape, halo)]
            np.testing.assert_array_equal(read_indices(z, index), x[np.ix_(*index)])


@pytest.mark.parametrize("family", ["geometric", "coherence", "texture"])
def test_attributes_module_equals_the_whole_volume_call_for_any_chunking(tmp_path, rng, family):
    from aaspi_py import attributes

    shape = (12, 11, 40)
    t = np.arange(shape[2])
    x = (np.sin(2 * np.pi * (t[None, None, :] - 0.3 * np.arange(shape[0])[:, None, None]) / 9.0)
         + 0.3 * rng.standard_normal(shape)).astype("f4")
    mask = np.ones(shape[:2], bool)
    mask[2, 3] = mask[11, 0] = False
    x[~mask] = 0
    names = list(attributes.FAMILIES[family].names)
    expected = attributes.compute(x, names, sample_interval=4.0, mask=mask)
    for chunks in [(4, 3, 16), (12, 11, 40)]:
        project = aaspi_py.Project.create(tmp_path / f"{family}{chunks[0]}", "t")
        aaspi_py.save_volume(x, project.volumes_dir / "amp.zarr", kind="amplitude", sample=t * 4.0,
                             trace_mask=mask, chunks=chunks)
        res = aaspi_py.run("attributes", project.root, volume="amp", attributes=",".join(names))
        for n in names:
            got = aaspi_py.open_volume(res.outputs[f"attributes_{n}_t"])["data"].values
            np.testing.assert_array_equal(got, expected[n], err_msg=f"{n} with chunks {chunks}")


def test_kuwahara3d_with_a_separate_guide_volume_equals_the_function(tmp_path, rng):
    shape = (9, 10, 12)
    a = rng.standard_normal(shape).astype("f4")
    g = np.repeat(rng.standard_normal(shape[:2] + (1,)), shape[2], axis=2).astype("f4")  # blocky guide
    project = aaspi_py.Project.create(tmp_path / "p", "t")
    aaspi_py.save_volume(a, project.volumes_dir / "a.zarr", chunks=(4, 4, 5))
    aaspi_py.save_volume(g, project.volumes_dir / "g.zarr", chunks=(4, 4, 5))
    res = aaspi_py.run("kuwahara3d", project.root, inputs=["a"], selection="guide", guide="g")
    got = aaspi_py.open_volume(res.outputs["kuwahara3d_a_t"])["data"].values
    assert np.array_equal(got, kuwahara([a], (3, 3, 3), selection="guide", guide=g)[0])
    assert not np.array_equal(got, kuwahara(a))  # the guide, not the volume itself, chose


def test_outputs_sharing_a_geometry_are_written_as_xarray_writes_each(tmp_path, rng):
    import json

    from aaspi_py.framework.volume_store import create_volume, create_volumes

    src = aaspi_py.open_volume(aaspi_py.save_volume(rng.normal(size=(9, 13, 20)).astype(np.float32),
                                                    tmp_path / "x.zarr", chunks=(4, 5, 20)))
    outs = []
    for i, units in enumerate(["deg", "Hz", "Hz"]):
        ds = src.copy()
        ds.attrs = {"kind": "attribute", "name": f"a{i}", "window": np.int64(i)}
        ds["data"].attrs = {"units": units}
        outs.append(ds)
    made = create_volumes([(ds, tmp_path / f"m{i}.zarr") for i, ds in enumerate(outs)])
    for i, ds in enumerate(outs):
        create_volume(ds, tmp_path / f"s{i}.zarr")
        one, many = tmp_path / f"s{i}.zarr", tmp_path / f"m{i}.zarr"
        files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(many) for p in many.rglob("*") if p.is_file())
        for f in files:
            if f.name == "zarr.json":
                assert json.loads((one / f).read_text()) == json.loads((many / f).read_text()), f
            else:
                assert (one / f).read_bytes() == (many / f).read_bytes(), f
        made[i][...] = np.full(ds["data"].shape, i, np.float32)
    # each output's data is its own, and it reads back with its own attributes
    for i, ds in enumerate(outs):
        back = aaspi_py.open_volume(tmp_path / f"m{i}.zarr")
        assert (back["data"].values == i).all() and back.attrs["name"] == f"a{i}"
        assert back["data"].attrs["units"] == ds["data"].attrs["units"]
        np.testing.assert_array_equal(back["cdp_x"].values, src["cdp_x"].values)
