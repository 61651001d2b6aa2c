"""The synthetic sample survey: determinism, layout, facies, polygons, attribute groups."""

import json

import numpy as np
import pytest
from aaspi_py.sample_volumes import (
    ATTRIBUTES,
    CONTROLS,
    FACIES,
    FACIES_CODES,
    FACIES_COLORS,
    INFORMATIVE,
    NOISE,
    REDUNDANT,
    SIZES,
    build_sample_project,
    make_survey,
)
from matplotlib.path import Path as PolygonPath
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LinearRegression

import aaspi_py
from aaspi_py.framework.errors import AaspiError


@pytest.fixture(scope="module")
def volumes(sample_project):
    """Every volume of the small sample project as numpy arrays."""
    return {name: aaspi_py.open_volume(sample_project.volume_path(name)) for name in sample_project.volumes()}


@pytest.fixture(scope="module")
def balanced(volumes):
    """Up to 1500 voxels of each facies: (attribute values by name, facies codes)."""
    facies = volumes["true_facies"]["data"].values.ravel()
    rng = np.random.default_rng(0)
    index = np.concatenate([rng.choice(np.flatnonzero(facies == c), 1500, replace=False)
                            for c in FACIES_CODES.values()])
    values = {name: volumes[name]["data"].values.ravel()[index] for name in ATTRIBUTES}
    return values, facies[index]


def test_same_seed_gives_identical_arrays_and_another_seed_does_not():
    a = make_survey((16, 18, 24), seed=3)
    b = make_survey((16, 18, 24), seed=3)
    c = make_survey((16, 18, 24), seed=4)
    assert sorted(a) == sorted(["amplitude", "true_facies", *ATTRIBUTES])
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert a[name].shape == (16, 18, 24)
    assert not np.array_equal(a["amplitude"], c["amplitude"])


def test_project_volumes_are_the_generator_output(sample_project, volumes):
    survey = make_survey(SIZES["small"], seed=0)
    for name in ("amplitude", "dip_deviation", "noise_uniform", "true_facies"):
        np.testing.assert_array_equal(volumes[name]["data"].values, survey[name], err_msg=name)


def test_names_shapes_kinds_and_geometry(sample_project, volumes):
    assert len(ATTRIBUTES) >= 9 and len(set(ATTRIBUTES)) == len(ATTRIBUTES)
    assert sorted(INFORMATIVE + REDUNDANT + NOISE) == sorted(ATTRIBUTES)
    assert FACIES == ["salt", "mtd", "background"] and set(FACIES_COLORS) == set(FACIES)
    assert sample_project.name == "sample"
    assert sample_project.volumes() == sorted(["amplitude", "true_facies", *ATTRIBUTES])
    assert sample_project.facies() == sorted(FACIES)
    for name, ds in volumes.items():
        assert ds["data"].shape == SIZES["small"], name
        expected = {"amplitude": "amplitude", "true_facies": "facies"}.get(name, "attribute")
        assert ds.attrs["kind"] == expected, name
        assert ds["data"].dtype == (np.int16 if name == "true_facies" else np.float32), name
    amp = volumes["amplitude"]
    np.testing.assert_array_equal(amp["inline"].values, np.arange(100, 140))
    np.testing.assert_array_equal(amp["crossline"].values, np.arange(300, 340))
    np.testing.assert_allclose(np.diff(amp["sample"].values), 4.0)
    assert amp["sample"].values[0] == 600.0 and amp["sample"].attrs["units"] == "ms"
    # 25 m bins: neighbouring traces are 25 m apart along both axes
    dx = np.hypot(np.diff(amp["cdp_x"].values, axis=0), np.diff(amp["cdp_y"].values, axis=0))
    np.testing.assert_allclose(dx, 25.0)
    assert bool(amp["trace_mask"].values.all())
    record = json.loads((sample_project.root / "sample_survey.json").read_text())
    assert record["informative"] == INFORMATIVE and record["shape"] == list(SIZES["small"])


def test_facies_proportions_are_sensible(volumes):
    facies = volumes["true_facies"]["data"].values
    share = {name: float((facies == code).mean()) for name, code in FACIES_CODES.items()}
    assert 0.03 < share["salt"] < 0.25
    assert 0.02 < share["mtd"] < 0.20
    assert share["background"] > 0.6
    assert set(np.unique(facies)) == {0, 1, 2, 3}
    # the water column (code 0) is only at the top of every trace
    assert (facies[:, :, 0] == 0).all() and not (facies[:, :, -1] == 0).any()


def _polygon_voxels(poly, facies_ds):
    """Facies codes of the voxels whose centres lie inside ``poly`` (matplotlib.path)."""
    il, xl, t = (facies_ds[k].values for k in ("inline", "crossline", "sample"))
    data = facies_ds["data"].values
    if poly["slice"] == "inline":
        plane, a, b = data[np.flatnonzero(il == poly["line"])[0]], xl, t
    elif poly["slice"] == "crossline":
        plane, a, b = data[:, np.flatnonzero(xl == poly["line"])[0]], il, t
    else:
        plane, a, b = data[:, :, np.flatnonzero(np.isclose(t, poly["line"]))[0]], il, xl
    ga, gb = np.meshgrid(a, b, indexing="ij")
    inside = PolygonPath(np.asarray(poly["vertices"])).contains_points(np.c_[ga.ravel(), gb.ravel()])
    return plane.ravel()[inside]


def test_polygons_lie_inside_their_true_facies(sample_project, volumes):
    facies_ds = volumes["true_facies"]
    for name, code in FACIES_CODES.items():
        doc = json.loads((sample_project.polygons_dir / f"{name}.json").read_text())
        assert (doc["format"], doc["version"], doc["facies"]) == ("aaspi_py.facies", 1, name)
        assert doc["color"] == FACIES_COLORS[name] and doc["volume"] == "amplitude"
        assert {p["slice"] for p in doc["polygons"]} == {"inline", "crossline", "sample"}, name
        assert len(doc["polygons"]) >= 4
        assert [p["id"] for p in doc["polygons"]] == list(range(1, len(doc["polygons"]) + 1))
        for poly in doc["polygons"]:
            inside = _polygon_voxels(poly, facies_ds)
            assert inside.size >= 10, (name, poly["id"])
            assert (inside == code).all(), (name, poly["id"], np.unique(inside))


def test_facies_look_like_the_course_notes(balanced):
    values, facies = balanced

    def mean(attribute, name):
        return values[attribute][facies == FACIES_CODES[name]].mean()

    # salt: weak, low-frequency, chaotic dips; MTD: strong, disrupted; layers: continuous
    assert mean("envelope", "salt") < mean("envelope", "background") < mean("envelope", "mtd")
    assert mean("instantaneous_frequency", "salt") < mean("instantaneous_frequency", "background") - 3.0
    assert mean("dip_deviation", "salt") > 2 * mean("dip_deviation", "background")
    assert mean("semblance", "background") > mean("semblance", "salt") + 0.1
    assert mean("semblance", "background") > mean("semblance", "mtd") + 0.1
    # grey levels follow amplitude over its local RMS: chaotic facies have the more disordered texture
    assert min(mean("glcm_entropy", "mtd"), mean("glcm_entropy", "salt")) > mean("glcm_entropy", "background")


def test_candidates_are_the_attributes_module_output(sample_project_copy):
    """No stand-ins: each candidate volume is what the attributes module computes from the amplitude."""
    from aaspi_py import attributes

    names = [a for a in ATTRIBUTES if a not in CONTROLS]
    assert set(names) <= set(attributes.NAMES)
    res = aaspi_py.run("attributes", sample_project_copy.root, volume="amplitude",
                       attributes=",".join(["glcm_entropy", "dip_deviation"]))
    for name in ("glcm_entropy", "dip_deviation"):
        module = aaspi_py.open_volume(res.outputs[f"attributes_{name}_sample"])["data"].values
        survey = aaspi_py.open_volume(sample_project_copy.volume_path(name))["data"].values
        np.testing.assert_allclose(survey, module, rtol=1e-5, atol=1e-6 * float(np.abs(module).max()))


def test_noise_controls_are_non_gaussian_and_blind_to_facies(balanced):
    from scipy import stats

    values, facies = balanced
    assert set(CONTROLS) <= set(NOISE)
    for name in CONTROLS:
        x = values[name]
        # a Gaussian has skewness 0 and excess kurtosis 0: uniform is flat, log-normal skewed
        assert abs(stats.skew(x)) > 0.5 or abs(stats.kurtosis(x)) > 0.8, name
        groups = [x[facies == c] for c in FACIES_CODES.values()]
        assert max(g.mean() for g in groups) - min(g.mean() for g in groups) < 0.3 * x.std(), name


def _accuracy(values, facies, names):
    x = np.stack([values[n] for n in names], axis=1)
    return LinearDiscriminantAnalysis().fit(x, facies).score(x, facies)


def test_informative_attributes_separate_the_facies_and_noise_ones_do_not(balanced):
    values, facies = balanced
    informative = _accuracy(values, facies, INFORMATIVE)
    noise = _accuracy(values, facies, NOISE)
    assert informative > 0.75
    assert noise < 0.45  # chance is 1/3 on this balanced sample
    assert informative > noise + 0.35
    for name in NOISE:
        assert _accuracy(values, facies, [name]) < 0.42, name


def test_redundant_attributes_add_little_to_the_informative_ones(balanced):
    values, facies = balanced
    x = np.stack([values[n] for n in INFORMATIVE], axis=1)
    base = _accuracy(values, facies, INFORMATIVE)
    # the groups are measured on the demo survey (at most 1.2 points there); on this small one
    # the texture of the few salt and MTD voxels still adds up to 5 points (glcm_entropy)
    for name in REDUNDANT:
        gain = _accuracy(values, facies, [*INFORMATIVE, name]) - base
        assert gain < 0.06, name
    for name in NOISE:
        assert LinearRegression().fit(x, values[name]).score(x, values[name]) < 0.05, name


def test_existing_project_needs_overwrite(sample_project_copy):
    root = sample_project_copy.root
    with pytest.raises(AaspiError, match="already exists; pass --overwrite"):
        build_sample_project(root)
    (root / "results" / "old.png").write_bytes(b"x")
    project = build_sample_project(root, overwrite=True)
    assert project.volumes() == sorted(["amplitude", "true_facies", *ATTRIBUTES])
    assert not (root / "results" / "old.png").exists()


def test_refuses_unknown_size_and_foreign_folders(tmp_path):
    with pytest.raises(AaspiError, match="Unknown sample survey size 'huge'; use one of small, demo"):
        build_sample_project(tmp_path / "p", size="huge")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(AaspiError, match="is not an aaspi_py project"):
        build_sample_project(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


class CancelAt(aaspi_py.Progress):
    """Asks to stop when the build reports ``status``."""

    def __init__(self, status):
        super().__init__()
        self.stop_at = status

    def update(self, fraction, status=None):
        super().update(fraction, status)
        if status == self.stop_at:
            self.cancel()


@pytest.mark.parametrize("status", ["computing geometric attributes", "writing dip_deviation"])
def test_cancel_leaves_nothing_behind(tmp_path, status):
    progress = CancelAt(status)
    with pytest.raises(aaspi_py.Cancelled):
        build_sample_project(tmp_path / "p", progress=progress)
    assert progress.status == status
    assert list(tmp_path.iterdir()) == []  # neither the project nor its temporary folder


@pytest.mark.slow
def test_demo_size_builds(tmp_path):
    project = build_sample_project(tmp_path / "demo", size="demo")
    ds = aaspi_py.open_volume(project.volume_path("amplitude"))
    assert ds["data"].shape == SIZES["demo"] and min(SIZES["demo"]) >= 200
