"""The attributes module: contract, outputs named and placed like every module's, equal to
the scripting call, dead traces, export of an attribute as SEG-Y."""

import numpy as np
import pytest
from module_contract import ModuleContract

import aaspi_py
from aaspi_py import attributes
from aaspi_py.framework.errors import AaspiError
from aaspi_py.volume import open_volume, save_volume


def _write_amplitude(project, rng, shape=(9, 8, 40), dead=((2, 3),), sample=None, domain="time", noise=0.3):
    t = np.arange(shape[2])
    x = np.sin(2 * np.pi * t / 9.0)[None, None, :] + noise * rng.standard_normal(shape)
    mask = np.ones(shape[:2], bool)
    for i, j in dead:
        mask[i, j] = False
    x[~mask] = 0
    sample = np.arange(shape[2]) * 4.0 + 100.0 if sample is None else sample
    path = save_volume(x.astype(np.float32), project.volumes_dir / "amp.zarr", kind="amplitude",
                       inline=np.arange(50, 50 + shape[0]), crossline=np.arange(7, 7 + shape[1]),
                       sample=sample, trace_mask=mask, chunks=(4, 3, 16))
    if domain != "time":
        import zarr

        arr = zarr.open_array(path / "sample", mode="r+")
        arr.attrs.update(domain=domain, units="m" if domain == "depth" else "ms")
    return x.astype(np.float32), mask


class TestAttributesModule(ModuleContract):
    module_id = "attributes"

    def setup_project(self, project):
        _write_amplitude(project, np.random.default_rng(1))
        return {"volume": "amp", "attributes": "envelope,cos_phase"}


def test_outputs_equal_the_scripting_call(project, rng):
    x, mask = _write_amplitude(project, rng)
    names = [n for n in attributes.NAMES if attributes.family_of(n) == "complex_trace"]
    res = aaspi_py.run("attributes", project.root, volume="amp", attributes=",".join(names), trace_window=5,
                       suffix="_a")
    expected = attributes.compute(x, names, sample_interval=4.0, mask=mask, trace_window=5)
    assert set(res.outputs) == {f"attributes_{n}_test_a" for n in names}
    for n in names:
        ds = open_volume(project.volumes_dir / f"attributes_{n}_test_a.zarr")
        np.testing.assert_allclose(ds["data"].values, expected[n], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(ds["trace_mask"].values, mask)
        np.testing.assert_array_equal(ds["inline"].values, np.arange(50, 59))
        assert ds.attrs["kind"] == "attribute" and ds.attrs["units"] == attributes.units(n)
        assert (ds["data"].values[~mask] == 0).all()


def test_depth_volume_gives_frequencies_in_cycles_per_km(project, rng):
    dz = 10.0
    x, _ = _write_amplitude(project, rng, sample=np.arange(40) * dz + 1000.0, domain="depth",
                            noise=0.01)
    res = aaspi_py.run("attributes", project.root, volume="amp", attributes="instantaneous_frequency")
    ds = open_volume(res.outputs["attributes_instantaneous_frequency_test"])
    assert ds.attrs["units"] == "cycles/km"
    assert ds["sample"].attrs["domain"] == "depth" and ds["sample"].attrs["units"] == "m"
    # a 9-sample period at 10 m is 1000 / 90 cycles/km
    live = ds["data"].values[ds["trace_mask"].values]
    assert np.median(live[:, 10:-10]) == pytest.approx(1000.0 / 90.0, rel=0.02)
    assert "10 m" in res.report["summary"][0]


def test_unknown_attribute_is_one_line_naming_the_valid_ones(project, rng):
    _write_amplitude(project, rng)
    with pytest.raises(AaspiError, match="Unknown attribute 'envelop'; valid names: envelope"):
        aaspi_py.run("attributes", project.root, volume="amp", attributes="envelop")


def test_an_attribute_exports_as_segy(project, rng, tmp_path):
    segyio = pytest.importorskip("segyio")
    _write_amplitude(project, rng, dead=())
    res = aaspi_py.run("attributes", project.root, volume="amp", attributes="envelope")
    aaspi_py.run("segy_export", project.root, volume="attributes_envelope_test", dst="results/env.sgy")
    with segyio.open(project.root / "results" / "env.sgy") as f:
        cube = segyio.tools.cube(f)
        assert list(f.ilines) == list(range(50, 59))
    ds = open_volume(res.outputs["attributes_envelope_test"])
    np.testing.assert_allclose(cube, ds["data"].values, rtol=1e-6)


def test_a_chunking_that_cannot_fit_is_refused_before_anything_is_written(project, rng, monkeypatch):
    from aaspi_py.framework import volume_store

    _write_amplitude(project, rng)
    monkeypatch.setattr(volume_store, "available_memory", lambda: 1000)  # a kB left
    with pytest.raises(AaspiError) as e:
        aaspi_py.run("attributes", project.root, volume="amp", attributes="dip_deviation,glcm_entropy")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("attributes needs about ") and "smaller chunks" in msg
    assert not list(project.volumes_dir.glob("attributes_*"))
