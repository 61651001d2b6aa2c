"""Parameters, registry, runner: validation messages, atomic outputs, run records."""

import numpy as np
import pytest

import aaspi_py
from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.params import Choice, Float, Int, Volumes, template, validate

PARAMS = (
    Int("max_clusters", 2, low=1, help="Maximum clusters."),
    Float("tolerance", 0.02, low=0, high=1),
    Choice("pairs", "between", choices=("between", "all")),
    Volumes("attributes", help="Ordered attribute volumes."),
)


def test_range_message_is_generated():
    with pytest.raises(AaspiError) as e:
        validate("attribute_selection", PARAMS, {"max_clusters": 0, "attributes": ["a"]})
    assert str(e.value) == ("The 'max_clusters' parameter of attribute_selection must be an int in the "
                            "range [1, inf). Got 0 instead.")


def test_text_values_are_coerced_and_defaults_filled():
    out = validate("m", PARAMS, {"max_clusters": "3", "attributes": "a, b,c"})
    assert out == {"max_clusters": 3, "tolerance": 0.02, "pairs": "between", "attributes": ["a", "b", "c"]}


def test_unknown_and_missing_parameters():
    with pytest.raises(AaspiError, match="Unknown parameter 'max_cluster' for m"):
        validate("m", PARAMS, {"max_cluster": 3, "attributes": []})
    with pytest.raises(AaspiError, match="'attributes' parameter of m is required"):
        validate("m", PARAMS, {})
    with pytest.raises(AaspiError, match="must be one of 'between', 'all'. Got 'some' instead"):
        validate("m", PARAMS, {"pairs": "some", "attributes": []})


def test_template_round_trips_through_toml(tmp_path):
    import tomllib

    text = template("m", PARAMS, {"attributes": ["x", "y"]})
    data = tomllib.loads(text)
    assert validate("m", PARAMS, data)["attributes"] == ["x", "y"]
    assert "# Maximum clusters." in text


def test_every_builtin_module_is_registered_and_valid():
    mods = aaspi_py.load_modules()
    for mid in ("segy_import", "segy_export", "volume_info"):
        assert mid in mods
    for m in mods.values():
        assert m.all_params[-2].name == "project_name"


def test_volume_round_trip_and_label_indexing(tmp_path, rng):
    a = rng.standard_normal((6, 7, 20)).astype("f4")
    p = aaspi_py.save_volume(a, tmp_path / "v.zarr", inline=np.arange(100, 106),
                             crossline=np.arange(10, 24, 2), sample=np.arange(20) * 4.0)
    ds = aaspi_py.open_volume(p)
    assert np.array_equal(ds["data"].values, a)
    assert np.array_equal(ds.iline[103], a[3])
    assert np.array_equal(ds.xline[14], a[:, 2])
    assert np.array_equal(ds.depth_slice[8.0], a[:, :, 2])
    with pytest.raises(KeyError, match="inline 99 is not in this volume"):
        ds.iline[99]
    with pytest.raises(AaspiError, match="already exists; pass --overwrite"):
        aaspi_py.save_volume(a, p)
    # geometry copied from `like`; classes stored as int16
    q = aaspi_py.save_volume(np.ones_like(a), tmp_path / "c.zarr", like=ds, kind="classification")
    c = aaspi_py.open_volume(q)
    assert c["data"].dtype == np.int16 and c["inline"].values.tolist() == list(range(100, 106))
    assert sorted(x.name for x in tmp_path.iterdir()) == ["c.zarr", "v.zarr"]  # no temporaries left


def test_run_writes_record_and_refuses_overwrite(project, rng):
    a = rng.standard_normal((4, 5, 10)).astype("f4")
    aaspi_py.save_volume(a, project.volumes_dir / "amp.zarr")
    res = aaspi_py.run("volume_info", project.root, volume="amp")
    assert res.report["shape"] == [4, 5, 10]
    assert res.log_path.name == "aaspi_volume_info_test.out"
    text = res.log_path.read_text()
    assert "status: completed" in text and 'volume = "amp"' in text
    with pytest.raises(AaspiError, match="Volume 'nope' \\(parameter 'volume'\\) not found"):
        aaspi_py.run("volume_info", project.root, volume="nope")


def test_public_names_resolve_to_the_library_objects():
    from aaspi_py.filters.kuwahara import kuwahara
    from aaspi_py.mixture.gaussian_mixture import GaussianMixture

    for name in aaspi_py.__all__:
        assert callable(getattr(aaspi_py, name)), name
    # the filter stays a function even after its file was imported
    assert aaspi_py.kuwahara is kuwahara and aaspi_py.GaussianMixture is GaussianMixture
