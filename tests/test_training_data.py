"""Training sets from facies polygons: values, positions, counts, refusals, the module."""

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from module_contract import ModuleContract

import aaspi_py
from aaspi_py.cli.commands import main
from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress
from aaspi_py.framework.registry import get_module
from aaspi_py.training import polygons as P
from aaspi_py.training.training_data import read_values
from aaspi_py.training.training_set import TrainingSet, read_text_training_file

INLINE, CROSSLINE, SAMPLE = np.arange(100, 108), np.arange(10, 26, 2), np.arange(8) * 4.0


def _save(project, name, data, mask=None, **coords):
    kw = dict(inline=INLINE, crossline=CROSSLINE, sample=SAMPLE)
    kw.update(coords)
    aaspi_py.save_volume(data, project.volumes_dir / f"{name}.zarr", trace_mask=mask, chunks=(3, 3, 3), **kw)


def make_survey(project):
    """Volumes 'a' (value encodes the position) and 'b' (random), one dead trace, and
    facies 'salt' (inline + sample polygons that overlap) and 'shale' (crossline triangle)."""
    i, j, k = np.meshgrid(INLINE, CROSSLINE, SAMPLE, indexing="ij")
    mask = np.ones((8, 8), bool)
    mask[2, 3] = False  # inline 102, crossline 16
    _save(project, "a", i * 10000 + j * 10 + k / 4, mask)
    _save(project, "b", np.random.default_rng(1).standard_normal((8, 8, 8)), mask)
    # salt 1: inline 102, crosslines 12..18 × samples 4..16: 16 nodes, 4 on the dead trace
    P.save_polygon_to_new_file(project, "inline", 102, [(12, 4), (18, 4), (18, 16), (12, 16)],
                               facies="salt", volume="a")
    # salt 2: sample 8, inlines 101..103 × crosslines 12..14: 6 nodes, 2 shared with salt 1
    P.add_polygon(project, "salt", "sample", 8.0, [(101, 12), (103, 12), (103, 14), (101, 14)])
    # shale 1: crossline 22, triangle inline index + sample index <= 4: 15 nodes
    P.save_polygon_to_new_file(project, "inline", 100, [(10, 0), (12, 0), (12, 4)], facies="shale")
    P.delete_polygon(project, "shale", 1)
    P.add_polygon(project, "shale", "crossline", 22, [(100, 0), (104, 0), (100, 16)])
    return project


@pytest.fixture
def survey(project):
    return make_survey(project)


def _volume(project, name):
    return aaspi_py.open_volume(project.volumes_dir / f"{name}.zarr")["data"].values


def _indices(positions):
    return (np.searchsorted(INLINE, positions[:, 0]), np.searchsorted(CROSSLINE, positions[:, 1]),
            np.searchsorted(SAMPLE, positions[:, 2]))


# ---------------------------------------------------------------- extraction

def test_values_are_the_volume_values_at_the_polygon_voxels(survey):
    ts = aaspi_py.training_set(survey, facies=["salt", "shale"], attributes=["a", "b"])
    assert ts.facies == ["salt", "shale"] and ts.attributes == ["a", "b"]
    assert ts.counts() == {"salt": 16, "shale": 15}
    assert ts.polygon_counts() == {"salt": {1: 12, 2: 4}, "shale": {1: 15}}
    idx = _indices(ts.positions)
    for n, name in enumerate("ab"):
        assert np.array_equal(ts.values[:, n], _volume(survey, name)[idx].astype(np.float64))
    # 'a' encodes the position, so the positions are the survey coordinates of the values
    il, xl, s = ts.positions.T
    assert np.allclose(ts.values[:, 0], il * 10000 + xl * 10 + s / 4)
    # salt 1 is inline 102 without the dead crossline 16; salt 2 adds its 4 other voxels
    salt1 = ts.positions[(ts.facies_index == 0) & (ts.polygon == 1)]
    assert set(salt1[:, 0]) == {102} and 16 not in salt1[:, 1]
    salt2 = ts.positions[(ts.facies_index == 0) & (ts.polygon == 2)]
    assert sorted(map(tuple, salt2)) == [(101, 12, 8), (101, 14, 8), (103, 12, 8), (103, 14, 8)]
    shale = ts.positions[ts.facies_index == 1]
    assert set(shale[:, 1]) == {22} and all(
        (il - 100) + s / 4 <= 4 for il, _, s in shale)
    assert len(np.unique(ts.positions, axis=0)) == len(ts)  # overlapping salt voxels counted once


def test_facies_order_sets_the_classes(survey):
    ts = aaspi_py.training_set(survey, facies=["shale", "salt"], attributes=["b"])
    assert ts.counts() == {"shale": 15, "salt": 16}
    assert (ts.facies_index[:15] == 0).all() and (ts.facies_index[15:] == 1).all()
    df = ts.to_dataframe()
    assert list(df.columns[:2]) == ["facies", "b"] and df["facies"].iloc[0] == "shale"
    assert ts.to_xarray()["values"].shape == (31, 1)


def test_a_facies_file_renamed_by_hand_is_named_by_its_file(survey):
    (survey.polygons_dir / "salt.json").rename(survey.polygons_dir / "polygon_salt.json")
    ts = aaspi_py.training_set(survey, facies=["polygon_salt", "shale"], attributes=["a"])
    assert ts.facies == ["polygon_salt", "shale"] and ts.counts()["polygon_salt"] == 16


def test_voxels_on_two_facies_are_refused(survey):
    P.add_polygon(survey, "shale", "inline", 102, [(18, 16), (20, 16), (20, 20)])
    with pytest.raises(AaspiError) as e:
        aaspi_py.training_set(survey, facies=["salt", "shale"], attributes=["a"])
    d = survey.polygons_dir
    assert str(e.value) == (f"Voxel (inline 102, crossline 18, sample 16) is inside polygon 1 of {d / 'salt.json'} "
                            f"and polygon 2 of {d / 'shale.json'}; a voxel can train only one facies: move or "
                            f"delete one of them.")


def test_volumes_on_another_grid_are_refused(survey):
    _save(survey, "c", np.zeros((8, 7, 8)), crossline=np.arange(10, 24, 2))
    _save(survey, "d", np.zeros((8, 8, 8)), sample=np.arange(8) * 2.0)
    with pytest.raises(AaspiError) as e:
        aaspi_py.training_set(survey, facies=["salt"], attributes=["a", "c"])
    assert str(e.value) == ("Attribute volumes 'a' and 'c' are not on the same grid: crosslines 10..24 (8) vs "
                            "10..22 (7); use volumes of one survey geometry.")
    with pytest.raises(AaspiError) as e:
        aaspi_py.training_set(survey, facies=["salt"], attributes=["b", "a", "d"])
    assert str(e.value) == ("Attribute volumes 'b' and 'd' are not on the same grid: samples 0..28 (8) vs "
                            "0..14 (8); use volumes of one survey geometry.")


def test_polygon_outside_the_attribute_grid_is_refused(survey):
    P.add_polygon(survey, "shale", "sample", 40.0, [(100, 10), (102, 10), (102, 12)], volume="")
    with pytest.raises(AaspiError) as e:
        aaspi_py.training_set(survey, facies=["shale"], attributes=["a"])
    assert str(e.value) == (f"{survey.polygons_dir / 'shale.json'}: polygon 2: sample 40 is not in the volume "
                            f"(samples 0..28 ms); pick it on one of the volume's samples.")


def test_bad_requests(survey):
    cases = [
        (dict(facies=["salt", "salt"], attributes=["a"]), "Facies 'salt' is listed twice; list each once."),
        (dict(facies=[], attributes=["a"]), "No facies given; choose at least one."),
        (dict(facies=["salt"], attributes=["a", "nope"]), "Volume 'nope' (parameter 'attributes') not found"),
    ]
    for kw, message in cases:
        with pytest.raises(AaspiError) as e:
            aaspi_py.training_set(survey, **kw)
        assert str(e.value).startswith(message)
    P.save_polygon_to_new_file(survey, "inline", 107, [(10, 0), (12, 0), (12, 4)], facies="empty")
    P.delete_polygon(survey, "empty", 1)
    with pytest.raises(AaspiError) as e:
        aaspi_py.training_set(survey, facies=["salt", "empty"], attributes=["a"])
    assert str(e.value) == f"{survey.polygons_dir / 'empty.json'} has no polygons; draw and add polygons for facies 'empty'."
    # a thin sliver between nodes encloses no node
    P.add_polygon(survey, "empty", "inline", 107, [(10.5, 1), (11.5, 1), (11.5, 2)])
    with pytest.raises(AaspiError, match="facies 'empty' has no training voxels"):
        aaspi_py.training_set(survey, facies=["empty"], attributes=["a"])


def test_nan_voxels_are_left_out(survey):
    b = _volume(survey, "b")
    b[2, 1, 1] = np.nan  # inline 102, crossline 12, sample 4: inside salt 1
    _save(survey, "bnan", b)
    ts = aaspi_py.training_set(survey, facies=["salt"], attributes=["a", "bnan"])
    assert len(ts) == 15 and np.isfinite(ts.values).all()
    assert not ((ts.positions == [102, 12, 4]).all(axis=1)).any()


def test_only_chunks_holding_training_voxels_are_read():
    allowed = {(0, 0, 0), (1, 1, 1)}

    def block(x, block_info=None):
        loc = tuple(block_info[0]["chunk-location"])
        if loc not in allowed:
            raise AssertionError(f"chunk {loc} was read")
        return x

    data = da.map_blocks(block, da.arange(6 * 6 * 6, chunks=3, dtype=float).reshape(6, 6, 6).rechunk(3),
                         dtype=float)
    ds = xr.Dataset({"data": (("inline", "crossline", "sample"), data)})
    index = np.array([[0, 1, 2], [4, 4, 5], [2, 0, 0]])
    assert read_values([ds], index)[:, 0].tolist() == [8.0, 4 * 36 + 4 * 6 + 5, 72.0]


def test_a_polygon_over_a_whole_inline_gives_the_whole_inline_as_numpy_reads_it(project):
    """Training voxels grow with the polygons (not with the volume): a polygon covering a whole
    inline of a volume stored in many chunks gives exactly that inline's values."""
    shape = (9, 20, 36)
    values = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    aaspi_py.save_volume(values, project.volumes_dir / "v.zarr", inline=np.arange(100, 109),
                         crossline=np.arange(1, 21), sample=np.arange(36) * 2.0, chunks=(4, 6, 8))
    P.save_polygon_to_new_file(project, "inline", 104, [(1, 0), (20, 0), (20, 70), (1, 70)], facies="all")
    ts = aaspi_py.training_set(project, facies=["all"], attributes=["v"])
    # ordered by inline, crossline, sample: the inline slice in C order
    assert np.array_equal(ts.values[:, 0], values[4].ravel().astype(np.float64))
    assert np.array_equal(ts.positions[:, 1], np.repeat(np.arange(1, 21), 36))


def test_a_training_set_too_large_for_memory_is_refused_in_one_line(survey, monkeypatch, capsys):
    from aaspi_py.training.training_memory import training_memory

    # salt's first polygon (12 live nodes) fits; with its second (6 more) the training set does not
    fits = training_memory(12, 2, (3, 3, 3))
    monkeypatch.setattr("aaspi_py.framework.resources.available_bytes", lambda: fits)
    code = main(["run", "define_training_data", "-p", str(survey.root), "--facies", "salt,shale",
                 "--attributes", "a,b", "--name", "big"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("aaspi: error: The polygons of facies 'salt' give 18 training voxels; with 2 "
                             "attribute(s) they need about "), err
    assert err[0].endswith("is available; draw smaller or fewer polygons, or split the facies over several "
                           "training sets."), err
    assert not (survey.training_dir / "big").exists()
    # with the memory the whole set needs (both facies, 31 voxels, counted per polygon) it runs
    monkeypatch.setattr("aaspi_py.framework.resources.available_bytes", lambda: training_memory(35, 2, (3, 3, 3)))
    assert len(aaspi_py.training_set(survey, facies=["salt", "shale"], attributes=["a", "b"])) == 31


# ---------------------------------------------------------------- module

class TestDefineTrainingData(ModuleContract):
    module_id = "define_training_data"

    def setup_project(self, project):
        make_survey(project)
        return {"facies": ["salt", "shale"], "attributes": ["a", "b"], "name": "t1"}

    def test_descriptor_opens_the_picking_window(self):
        assert self.module.gui == "define_training_data"
        assert self.module.category == "Volumetric Classification" and self.module.demo_order == 40

    def test_outputs_text_file_csv_and_summary(self, project):
        params = self.setup_project(project)
        res = aaspi_py.run(self.module_id, project.root, **params)
        folder = project.training_dir / "t1"
        assert res.outputs == {"t1": folder}
        assert sorted(p.name for p in folder.iterdir()) == ["positions.npz", "t1.csv", "t1.txt",
                                                            "training_set.json", "values.npz"]
        ts = TrainingSet.load(folder)
        direct = aaspi_py.training_set(project, params["facies"], params["attributes"])
        assert np.array_equal(ts.values, direct.values.astype(np.float32).astype(np.float64))
        assert np.array_equal(ts.positions, direct.positions) and np.array_equal(ts.polygon, direct.polygon)
        rows = read_text_training_file(folder / "t1.txt")
        assert np.array_equal(rows[:, :3], direct.positions) and np.array_equal(rows[:, 3], direct.facies_index + 1)
        table = TrainingSet.from_csv(folder / "t1.csv")
        assert table.facies == ["salt", "shale"] and table.attributes == ["a", "b"]
        assert np.allclose(table.values, direct.values)
        assert res.report["summary"] == ["training set 't1': 2 facies x 2 attributes, 31 voxels",
                                         "  class 1 salt: 16 voxels (polygon 1: 12, polygon 2: 4)",
                                         "  class 2 shale: 15 voxels (polygon 1: 15)"]
        assert res.report["polygon_counts"] == {"salt": {"1": 12, "2": 4}, "shale": {"1": 15}}
        assert "class 1 salt: 16 voxels" in res.log_path.read_text()
        with pytest.raises(AaspiError, match="already exists; pass --overwrite"):
            aaspi_py.run(self.module_id, project.root, **params)

    def test_csv_toggle_and_cli(self, project, capsys):
        self.setup_project(project)
        code = main(["run", "define_training_data", "-p", str(project.root), "--facies", "shale,salt",
                     "--attributes", "b", "--name", "t2", "--csv", "false", "--quiet"])
        out = capsys.readouterr().out
        assert code == 0 and "  class 1 shale: 15 voxels (polygon 1: 15)" in out.splitlines()
        assert not (project.training_dir / "t2" / "t2.csv").exists()
        assert (project.training_dir / "t2" / "t2.txt").exists()
        code = main(["run", "define_training_data", "-p", str(project.root), "--facies", "salt",
                     "--attributes", "b", "--name", "bad name"])
        assert code == 2


# ---------------------------------------------------------------- sample survey

def test_sample_survey_training_set_matches_the_true_facies(sample_project_copy):
    from aaspi_py.sample_volumes import ATTRIBUTES, FACIES, FACIES_CODES

    project = sample_project_copy
    lines = get_module("define_training_data").demo(project, Progress())  # the `aaspi demo` step
    ts = TrainingSet.load(project.training_dir / "sample")
    assert ts.facies == FACIES and ts.attributes == ATTRIBUTES
    assert lines[0] == f"training set 'sample': 3 facies x {len(ATTRIBUTES)} attributes, {len(ts)} voxels"
    assert (project.training_dir / "sample" / "sample.txt").exists()
    truth = aaspi_py.open_volume(project.volumes_dir / "true_facies.zarr")
    idx = tuple(np.searchsorted(truth[d].values, ts.positions[:, n]) for n, d in
                enumerate(("inline", "crossline", "sample")))
    got = truth["data"].values[idx]
    codes = np.array([FACIES_CODES[f] for f in FACIES])[ts.facies_index]
    assert np.array_equal(got, codes)
    assert all(c > 0 for c in ts.counts().values())
    # values are the attribute volumes' values at those voxels
    env = aaspi_py.open_volume(project.volumes_dir / f"{ATTRIBUTES[0]}.zarr")["data"].values
    assert np.allclose(ts.values[:, 0], env[idx])
