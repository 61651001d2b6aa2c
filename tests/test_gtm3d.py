"""gtm3d: volume outputs, chunking, training voxels read from the inputs, model, demo."""

import dask.array as da
import numpy as np
import pytest
from module_contract import ModuleContract

import aaspi_py
from aaspi_py.framework.errors import AaspiError
from aaspi_py.gtm.volume_mapping import VolumeGTM, map_volume, positions_to_index
from aaspi_py.training.training_set import TrainingSet

INLINE, CROSSLINE, SAMPLE = np.arange(100, 112), np.arange(300, 320, 2), 600.0 + 4.0 * np.arange(18)
SHAPE = (len(INLINE), len(CROSSLINE), len(SAMPLE))
FACIES = ["salt", "mtd", "background"]
SMALL = dict(latent_grid=[6, 6], rbf_grid=[3, 3], max_iter=15, sample_size=1500)


def truth():
    """Facies 1..3: salt on the first inlines, mtd in a deep band, background elsewhere."""
    f = np.full(SHAPE, 3, dtype=np.int16)
    f[:, :, 11:] = 2
    f[:4, :, 4:] = 1
    return f


def raw_attributes(seed=0):
    rng = np.random.default_rng(seed)
    f = truth()
    means = np.array([[2.0, -1.0, 0.5], [-1.5, 1.5, 0.0], [0.0, 0.0, -0.5]])
    return [means[f - 1, j] + 0.6 * rng.standard_normal(SHAPE) for j in range(3)]


def dead_traces():
    mask = np.ones(SHAPE[:2], bool)
    mask[5, 2] = mask[0, 0] = False
    return mask


def save(project, name, data, chunks=(5, 4, 7), attrs=None):
    aaspi_py.save_volume(data, project.volumes_dir / f"{name}.zarr", inline=INLINE, crossline=CROSSLINE,
                         sample=SAMPLE, trace_mask=dead_traces(), chunks=chunks, attrs=attrs)


def training_set(values, seed=1, per_facies=40):
    """Training voxels drawn inside each facies, with their survey positions."""
    rng = np.random.default_rng(seed)
    f, mask = truth(), dead_traces()
    picks, index = [], []
    for m in range(3):
        cand = np.argwhere((f == m + 1) & mask[:, :, None])
        picks.append(cand[rng.choice(len(cand), per_facies, replace=False)])
        index.append(np.full(per_facies, m))
    idx = np.concatenate(picks)
    positions = np.column_stack([INLINE[idx[:, 0]], CROSSLINE[idx[:, 1]], SAMPLE[idx[:, 2]]])
    vals = np.column_stack([v[tuple(idx.T)] for v in values])
    return TrainingSet(facies=FACIES, attributes=["a1", "a2", "a3"], values=vals,
                       facies_index=np.concatenate(index), positions=positions, name="train")


def make_project(project, chunks=(5, 4, 7)):
    values = raw_attributes()
    for j, v in enumerate(values):
        save(project, f"a{j + 1}", v, chunks)
    training_set(values).save(project.training_dir / "train")
    return project


def outputs(project, run="test"):
    names = ["latent_u1", "latent_u2", "latent_mode", *[f"probability_{f}" for f in FACIES],
             *[f"posterior_{f}" for f in FACIES], "classification"]
    return {n: aaspi_py.open_volume(project.volumes_dir / f"gtm3d_{n}_{run}.zarr")["data"].values for n in names}


class TestContract(ModuleContract):
    module_id = "gtm3d"

    def setup_project(self, project):
        make_project(project)
        return dict(inputs=["a1", "a2", "a3"], training_set="train", **SMALL)


# ---------------------------------------------------------------- outputs

def test_outputs_are_probabilities_and_do_not_depend_on_chunking(tmp_path):
    first = make_project(aaspi_py.Project.create(tmp_path / "p1", "test"), chunks=(5, 4, 7))
    second = make_project(aaspi_py.Project.create(tmp_path / "p2", "test"), chunks=(12, 10, 18))
    for p in (first, second):
        aaspi_py.run("gtm3d", p.root, inputs=["a1", "a2", "a3"], training_set="train", **SMALL)
    a, b = outputs(first), outputs(second)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    live = np.broadcast_to(dead_traces()[:, :, None], SHAPE)
    prob = np.stack([a[f"probability_{f}"] for f in FACIES])
    post = np.stack([a[f"posterior_{f}"] for f in FACIES])
    assert prob.min() >= 0.0 and prob.max() <= 1.0 and prob[:, live].max() > 0.9
    assert post.min() >= 0.0 and post.max() <= 1.0
    np.testing.assert_allclose(post[:, live].sum(axis=0), 1.0, atol=1e-5)
    assert np.all(prob[:, ~live] == 0) and np.all(a["classification"][~live] == 0)
    assert set(np.unique(a["classification"][live])) <= {1, 2, 3}
    assert np.abs(a["latent_u1"]).max() <= 1.0 and set(np.unique(a["latent_mode"][live])) <= set(range(1, 37))
    # the posterior classification follows the posterior volumes
    np.testing.assert_array_equal(a["classification"][live], post[:, live].argmax(axis=0) + 1)


def test_every_chunk_is_mapped_once_for_all_outputs(project, monkeypatch):
    import aaspi_py.gtm.volume_mapping as gv

    calls = []
    original = gv.map_chunk
    monkeypatch.setattr(gv, "map_chunk", lambda *a: calls.append(1) or original(*a))
    make_project(project, chunks=(5, 4, 7))
    res = aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], training_set="train", **SMALL)
    assert len([n for n in res.outputs if not n.endswith((".png", "model_test"))]) == 10
    assert len(calls) == 3 * 3 * 3  # one task per input chunk feeds the ten volumes and the PDF


def test_classification_beats_chance(project):
    make_project(project)
    res = aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], training_set="train", **SMALL)
    pred, f = outputs(project)["classification"], truth()
    live = np.broadcast_to(dead_traces()[:, :, None], SHAPE)
    counts = np.bincount(pred[live], minlength=4)[1:]
    assert list(res.report["classified_share"].values()) == pytest.approx(counts / counts.sum(), abs=1e-4)
    accuracy = np.mean(pred[live] == f[live])
    share = np.bincount(f[live], minlength=4)[1:] / live.sum()
    # three well separated facies: far above the majority class
    assert accuracy > share.max() + 0.3, (accuracy, share)


def test_model_reloads_and_reproduces_the_volumes(project):
    make_project(project)
    res = aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], training_set="train", **SMALL)
    model = VolumeGTM.load(project.results_dir / "gtm3d_model_test")
    assert model.attributes == ["a1", "a2", "a3"] and model.facies == FACIES
    X = np.column_stack([v.ravel() for v in raw_attributes()])
    live = np.repeat(dead_traces().ravel(), SHAPE[2])
    bc, post = model.facies_probabilities(X[live])
    out = outputs(project)
    for m, f in enumerate(FACIES):
        np.testing.assert_allclose(out[f"probability_{f}"].reshape(-1)[live], bc[:, m], atol=2e-7)
        np.testing.assert_allclose(out[f"posterior_{f}"].reshape(-1)[live], post[:, m], atol=2e-7)
    Z = model.gtm.transform(model.standardize(X[live]))
    np.testing.assert_allclose(out["latent_u1"].reshape(-1)[live], Z[:, 0], atol=2e-7)
    # the unsupervised PDF sums the responsibilities of every live voxel
    assert model.unsupervised_pdf.sum() == pytest.approx(live.sum(), rel=1e-10)
    assert res.report["live_voxels"] == live.sum()
    png = project.results_dir / "gtm3d_latent_density_test.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (project.results_dir / "gtm3d_loglik_test.png").stat().st_size > 1000


def test_training_voxels_are_read_from_the_inputs_at_their_positions(project):
    """A training set made on raw attributes, inputs filtered: PDFs come from the inputs."""
    raw = raw_attributes()
    filtered = [np.tanh(v) ** 3 for v in raw]  # not an affine map: standardising cannot undo it
    prov = {"module": "kuwahara3d", "parameters": {"project_name": "", "suffix": ""}}
    for j, v in enumerate(filtered):
        save(project, f"kuwahara3d_a{j + 1}_test", v, attrs=prov)
    ts = training_set(raw)
    ts.save(project.training_dir / "train")
    inputs = [f"kuwahara3d_a{j}_test" for j in (1, 2, 3)]
    aaspi_py.run("gtm3d", project.root, inputs=inputs, training_set="train", **SMALL)
    model = VolumeGTM.load(project.results_dir / "gtm3d_model_test")
    idx, inside = positions_to_index(ts.positions, INLINE, CROSSLINE, SAMPLE)
    assert inside.all()
    from_inputs = np.column_stack([v[tuple(idx.T)] for v in filtered]).astype(np.float32)
    R = model.responsibilities(from_inputs)
    expected = np.stack([R[ts.facies_index == m].mean(axis=0) for m in range(3)])
    np.testing.assert_allclose(model.facies_pdfs, expected, rtol=1e-6, atol=1e-12)
    R_raw = model.responsibilities(ts.values)
    wrong = np.stack([R_raw[ts.facies_index == m].mean(axis=0) for m in range(3)])
    assert np.abs(model.facies_pdfs - wrong).max() > 1e-3


def test_training_attribute_order_must_match_the_inputs(project):
    make_project(project)
    with pytest.raises(AaspiError, match=r"Input 1 'a2' does not match attribute 1 'a1' of training set 'train'"):
        aaspi_py.run("gtm3d", project.root, inputs=["a2", "a1", "a3"], training_set="train", **SMALL)
    # fewer inputs than training attributes: the inputs' columns are picked by name
    res = aaspi_py.run("gtm3d", project.root, inputs=["a3", "a1"], training_set="train", suffix="_sub", **SMALL)
    assert res.report["facies"] == FACIES
    save(project, "b2", raw_attributes()[1])
    with pytest.raises(AaspiError, match="Input 'b2' matches none of the 3 attributes of training set 'train'"):
        aaspi_py.run("gtm3d", project.root, inputs=["a1", "b2"], training_set="train", **SMALL)
    with pytest.raises(AaspiError, match="Training set 'nope' .* not found; training sets in the project: train"):
        aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], training_set="nope", **SMALL)
    with pytest.raises(AaspiError, match="'latent_grid' parameter of gtm3d needs two sizes"):
        aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], latent_grid=[4, 4, 4])
    # renamed volumes are accepted once the check is turned off
    res = aaspi_py.run("gtm3d", project.root, inputs=["a2", "a1", "a3"], training_set="train",
                       check_attribute_names=False, **SMALL)
    assert res.report["facies"] == FACIES


def test_without_training_set_only_latent_outputs(project):
    make_project(project)
    res = aaspi_py.run("gtm3d", project.root, inputs=["a1", "a2", "a3"], standardize=False, **SMALL)
    assert sorted(n for n in res.outputs if n.endswith("_test") and "model" not in n) == [
        "gtm3d_latent_mode_test", "gtm3d_latent_u1_test", "gtm3d_latent_u2_test"]
    model = VolumeGTM.load(res.outputs["gtm3d_model_test"])
    assert model.facies_pdfs is None and np.all(model.scale == 1.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_map_volume_matches_the_estimator_on_any_chunking():
    values = raw_attributes()
    X = np.column_stack([v.ravel() for v in values])
    model = VolumeGTM.fit(X[::3], ["a1", "a2", "a3"], latent_shape=(5, 5), rbf_shape=(2, 2), max_iter=10)
    f = truth().ravel() - 1
    model.fit_facies(X[::7], f[::7], FACIES)
    mask = dead_traces()
    live = np.repeat(mask.ravel(), SHAPE[2])
    pdfs = []
    for chunks in ((3, 4, 5), SHAPE):
        maps = map_volume(model, [da.from_array(v, chunks=chunks) for v in values], mask,
                          classify_by="bhattacharyya")
        bc0, cls, pdf = da.compute(maps.bhattacharyya[0], maps.classification, maps.pdf)
        pdfs.append(pdf)
        bc, _ = model.facies_probabilities(X[live])
        np.testing.assert_allclose(bc0.reshape(-1)[live], bc[:, 0], atol=2e-7)
        np.testing.assert_array_equal(cls.reshape(-1)[live], bc.argmax(axis=1) + 1)
    np.testing.assert_allclose(pdfs[0], pdfs[1], rtol=1e-12)
    np.testing.assert_allclose(pdfs[0], model.responsibilities(X[live]).sum(axis=0), rtol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_node_posterior_is_bayes_with_training_priors():
    X = np.column_stack([v.ravel() for v in raw_attributes()])
    model = VolumeGTM.fit(X[::4], ["a1", "a2", "a3"], latent_shape=(4, 4), rbf_shape=(2, 2), max_iter=5)
    f = truth().ravel() - 1
    picks = np.concatenate([np.flatnonzero(f == 0)[:30], np.flatnonzero(f == 1)[:10], np.flatnonzero(f == 2)[:60]])
    model.fit_facies(X[picks], f[picks], FACIES)
    R = model.responsibilities(X[picks])
    # P(m|k): the responsibility-weighted share of facies m among the training voxels at k
    expected = np.stack([R[f[picks] == m].sum(axis=0) for m in range(3)]) / R.sum(axis=0)
    np.testing.assert_allclose(model.node_posterior(), expected, rtol=1e-10)
    np.testing.assert_allclose(model.node_posterior().sum(axis=0), 1.0)


# ---------------------------------------------------------------- the demo step

def test_demo_on_the_sample_survey_beats_chance(sample_project_copy):
    from aaspi_py.sample_volumes import FACIES as SAMPLE_FACIES

    from aaspi_py.framework.registry import get_module

    project = sample_project_copy
    get_module("define_training_data").demo(project, aaspi_py.Progress())
    lines = get_module("gtm3d").demo(project, aaspi_py.Progress())
    assert any(line.startswith("most probable facies vs true_facies") for line in lines), lines
    pred = aaspi_py.open_volume(project.volume_path("gtm3d_classification_sample"))["data"].values
    true = aaspi_py.open_volume(project.volume_path("true_facies"))["data"].values
    known = (true > 0) & (pred > 0)
    recall = [np.mean(pred[known & (true == m)] == m) for m in range(1, len(SAMPLE_FACIES) + 1)]
    # balanced accuracy (mean recall per facies) against 1/M for a guess
    assert np.mean(recall) > 1 / len(SAMPLE_FACIES) + 0.25, recall
