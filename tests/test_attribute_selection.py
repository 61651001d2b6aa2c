"""attribute_selection: planted training sets, strategies, outputs, the module contract."""

import json

import numpy as np
import pytest
from module_contract import ModuleContract

import aaspi_py
from aaspi_py.framework.errors import AaspiError
from aaspi_py.selection.attribute_selection import select_attributes, subsample, validation_split
from aaspi_py.selection.planted import planted_training_set
from aaspi_py.selection.planted_shapes import noise_attribute, planted_shapes_training_set
from aaspi_py.training.training_set import TrainingSet

FAST = {"sem_iterations": 30}
# the recommendation does not depend on O_n: screen with one exact fit per n to keep tests fast
REC_ONLY = {"sem_iterations": 30, "strategy": "screen", "screen_top": 1, "validation_fraction": 0}


@pytest.mark.parametrize("seed, n_informative", [(0, 3), (1, 3), (2, 4), (3, 4)])
def test_recommended_combination_is_the_planted_subset(seed, n_informative):
    training, planted = planted_training_set(2000, 9, n_informative, 3, seed=seed)
    res = select_attributes(training, seed=seed, **FAST)
    assert res.strategy == "exhaustive" and len(res.combinations) == 511
    assert sorted(res.recommended) == sorted(planted)
    assert res.by_n[n_informative]["attributes"] == res.recommended
    assert "held-out log posterior" in res.recommendation.criterion
    # the separation keeps growing until the planted subset is complete, then stays flat
    scores = [res.by_n[n]["score"] for n in range(1, 10)]
    assert all(b > a * 1.05 for a, b in zip(scores[:n_informative - 1], scores[1:n_informative]))
    assert max(scores) <= scores[n_informative - 1] * 1.02
    # and the held-out voxels agree: the planted subset classifies far better than one attribute
    acc = {n: res.by_n[n]["validation_accuracy"] for n in res.by_n}
    assert acc[n_informative] > acc[1] + 0.2 and acc[n_informative] > 0.85


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_recommended_is_the_planted_subset_despite_non_gaussian_noise(seed):
    # noise attributes t, uniform, gamma, bimodal and ±1 (same law in every facies), two redundant
    # linear mixes, a bimodal facies: held-out facies separation keeps exactly the informative three
    training, planted = planted_shapes_training_set(600, n_redundant=2, seed=seed)
    res = select_attributes(training, seed=seed, **REC_ONLY)
    assert sorted(res.recommended) == sorted(planted)
    # every attribute of the recommendation adds held-out separation: dropping any leaves the band
    path_best = res.recommendation.best.score
    assert res.recommendation.score >= res.recommendation.threshold
    assert res.recommendation.score > path_best - 3 * res.recommendation.best.se


@pytest.mark.parametrize("shape", ["t", "uniform", "gamma", "bimodal", "pm1", "gaussian"])
def test_a_facies_independent_attribute_does_not_change_the_recommendation(shape):
    training, planted = planted_shapes_training_set(600, noise=(), n_redundant=1, seed=7)
    before = select_attributes(training, seed=7, **REC_ONLY)
    extra = noise_attribute(shape, len(training), np.random.default_rng(11)) * 40.0 + 3.0
    wider = TrainingSet(training.facies, [*training.attributes, f"noise_{shape}"],
                        np.column_stack([training.values, extra]), training.facies_index, polygon=training.polygon)
    after = select_attributes(wider, seed=7, **REC_ONLY)
    assert sorted(before.recommended) == sorted(after.recommended) == sorted(planted)


def test_degenerate_attributes_are_reported_and_cannot_dominate():
    training, planted = planted_shapes_training_set(500, noise=("pm1",), n_redundant=0, seed=3)
    rng = np.random.default_rng(0)
    n = len(training)
    spiky = rng.standard_normal(n)
    spiky[rng.choice(n, 4, replace=False)] = 1e6  # dead-trace spikes
    flag = np.where(rng.random(n) < 0.98, 0.0, 1.0)  # almost always 0
    names = [*training.attributes, "spiky", "flag"]
    wide = TrainingSet(training.facies, names, np.column_stack([training.values, spiky, flag]),
                       training.facies_index, polygon=training.polygon)
    res = select_attributes(wide, seed=3, validation_fraction=0, **FAST)
    pm1 = next(a for a in names if a.startswith("noise_pm1"))
    warned = {w.split("'")[1]: w for w in res.warnings}
    assert set(warned) == {pm1, "spiky", "flag"}
    assert "near-discrete" in warned[pm1] and "near-constant" in warned["flag"]
    assert "4 heavy outliers" in warned["spiky"]
    # on its own (O_1) none of them outscores the weakest informative attribute (a ±1 attribute
    # would otherwise have needle-thin clusters at ±1 and distances in the thousands)
    informative = min(res.combination([a]).score for a in planted)
    for name in (pm1, "spiky", "flag"):
        assert res.combination([name]).score < 0.6 * informative
    assert sorted(res.recommended) == sorted(planted)


def test_pruning_does_not_change_the_answer():
    training, planted = planted_training_set(1000, 6, 3, 2, seed=5)
    on = select_attributes(training, validation_fraction=0, **FAST)
    off = select_attributes(training, validation_fraction=0, bic_pruning=False, **FAST)
    assert on.counts["pruned"] > 0 and off.counts["pruned"] == 0
    assert on.counts["fitted"] < off.counts["fitted"]
    assert sorted(on.recommended) == sorted(off.recommended) == sorted(planted)
    for n in on.by_n:
        assert on.by_n[n]["attributes"] == off.by_n[n]["attributes"]
        assert on.by_n[n]["score"] == pytest.approx(off.by_n[n]["score"], rel=1e-9)


def test_pairs_all_counts_every_cluster_pair():
    training, _ = planted_training_set(600, 4, 3, 1, seed=2)
    between = select_attributes(training, validation_fraction=0, **FAST)
    every = select_attributes(training, validation_fraction=0, pairs="all", **FAST)
    for c_b, c_a in zip(between.combinations, every.combinations):
        j = c_a.n_clusters
        assert c_a.n_pairs == j * (j - 1) // 2
        assert c_b.n_pairs == j * (j - 1) // 2 - sum(f.n_clusters * (f.n_clusters - 1) // 2 for f in c_b.fits)


def test_large_n_screens_and_still_finds_the_planted_subset():
    training, planted = planted_training_set(1000, 13, 3, 4, seed=4)
    res = select_attributes(training, validation_fraction=0, screen_top=4, **FAST)
    assert res.strategy == "screen" and "screen: marginal scores of all 8191" in res.strategy_detail
    assert len(res.combinations) < 60  # 4 per n, not 8191
    assert sorted(res.recommended) == sorted(planted)
    # the screen ranks by exact marginals of the full-dimensional mixtures
    idx = tuple(training.attributes.index(a) for a in sorted(planted, key=training.attributes.index))
    assert res.screen_scores[3][0] == idx


def test_csv_table_gives_the_same_answer_as_the_training_folder(tmp_path):
    training, _ = planted_training_set(500, 5, 3, 1, seed=6)
    training.save(tmp_path / "planted")
    training.to_csv(tmp_path / "planted.csv")
    a = select_attributes(tmp_path / "planted", **FAST)
    b = select_attributes(tmp_path / "planted.csv", **FAST)
    assert a.by_n[3]["attributes"] == b.by_n[3]["attributes"]
    assert [c.score for c in a.combinations] == pytest.approx([c.score for c in b.combinations], rel=1e-5)


def test_validation_holds_out_whole_polygons():
    training, _ = planted_training_set(400, 4, 3, 1, seed=0, n_polygons=5)
    held = validation_split(training, 0.3, seed=1)
    for m in range(3):
        sel = training.facies_index == m
        for poly in np.unique(training.polygon[sel]):
            in_poly = held[sel][training.polygon[sel] == poly]
            assert in_poly.all() or not in_poly.any()  # never split
        assert 0.3 <= held[sel].mean() < 0.3 + 1 / 5 + 1e-9
        assert not held[sel].all()
    # one polygon (or none recorded): a seeded random fraction
    single = TrainingSet(training.facies, training.attributes, training.values, training.facies_index)
    held = validation_split(single, 0.3, seed=1)
    assert held.mean() == pytest.approx(0.3, abs=0.01)
    assert np.array_equal(held, validation_split(single, 0.3, seed=1))


def test_subsample_keeps_at_most_n_voxels_per_facies():
    training, _ = planted_training_set(300, 4, 3, 1, seed=0)
    small = subsample(training, 120, seed=3)
    assert small.counts() == {"salt": 120, "mtd": 120, "background": 120}
    assert np.array_equal(small.values, subsample(training, 120, seed=3).values)


def test_inputs_are_checked():
    training, _ = planted_training_set(200, 3, 3, 0, seed=0)
    one = TrainingSet(["salt"], training.attributes, training.values[:10], np.zeros(10, int))
    with pytest.raises(AaspiError, match="at least two facies"):
        select_attributes(one)
    bad = TrainingSet(training.facies, training.attributes, training.values.copy(), training.facies_index)
    bad.values[5, 1] = np.nan
    with pytest.raises(AaspiError, match=f"NaN or infinite values in attribute '{training.attributes[1]}'"):
        select_attributes(bad)
    with pytest.raises(ValueError, match="unknown covariance model 'XYZ'"):
        select_attributes(training, models=["XYZ"])


def test_constant_attribute_and_tiny_facies_give_finite_scores():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((90, 3))
    values[:, 2] = 7.0  # constant everywhere
    values[:30, 0] += 3
    training = TrainingSet(["a", "b", "c"], ["x", "y", "const"], values, np.repeat([0, 1, 2], 30))
    res = select_attributes(training, validation_fraction=0.3, **FAST)
    assert all(np.isfinite(c.score) for c in res.combinations)
    assert res.combination(["const"]).score == 0.0
    # a constant attribute neither separates nor blurs: same score with or without it
    assert res.combination(["x", "const"]).score == pytest.approx(res.combination(["x"]).score, rel=1e-9)
    assert res.by_n[1]["attributes"] == ["x"]


# ---------------------------------------------------------------- the module

class TestAttributeSelectionModule(ModuleContract):
    module_id = "attribute_selection"

    def setup_project(self, project):
        training, _ = planted_training_set(300, 4, 3, 1, seed=1)
        training.save(project.training_dir / "planted")
        return {"training": "planted", "sem_iterations": 20}

    def test_outputs_and_report(self, project):
        params = self.setup_project(project)
        res = aaspi_py.run("attribute_selection", project.root, suffix="_t", **params)
        names = sorted(p.name for p in res.outputs.values())
        assert names == ["attribute_selection_ellipses_test_t.png", "attribute_selection_scores_test_t.png",
                         "attribute_selection_test_t.csv", "attribute_selection_test_t.json",
                         "attribute_selection_test_t.out", "attribute_selection_validation_test_t.png"]
        data = json.loads((project.results_dir / "attribute_selection_test_t.json").read_text())
        assert set(data["best_by_n"]) == {"1", "2", "3", "4"}
        assert {"attributes", "score", "validation_accuracy"} <= set(data["best_by_n"]["3"])
        assert data["recommended"] == res.report["recommended"]
        assert data["recommended_n"] == len(data["recommended"])
        path = data["recommendation"]["path"]
        assert path[0]["log_posterior"] < max(step["log_posterior"] for step in path)
        assert "held-out log posterior" in data["recommendation"]["criterion"]
        assert data["strategy"] == "exhaustive" and data["best"] == data["best_by_n"][str(data["best_n"])]["attributes"]
        text = (project.results_dir / "attribute_selection_test_t.out").read_text()
        assert "higher is better" in text and "garbled eq. 8" in text
        assert text.count("\n  3 ") == 1 and "recommended (held-out facies separation)" in text
        assert "recommendation criterion: held-out log posterior" in text and "parsimony: drop an attribute" in text
        rows = (project.results_dir / "attribute_selection_test_t.csv").read_text().splitlines()
        assert len(rows) == 1 + 15 and rows[0].startswith("n,attributes,indices,score")
        assert any("recommended" in line for line in res.report["summary"])
        png = (project.results_dir / "attribute_selection_scores_test_t.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

    def test_checks_counts_and_models(self, project):
        params = self.setup_project(project)
        with pytest.raises(AaspiError, match="'n_attributes' parameter of attribute_selection is 5 but"):
            aaspi_py.run("attribute_selection", project.root, n_attributes=5, **params)
        with pytest.raises(AaspiError, match="'n_facies' parameter of attribute_selection is 2 but"):
            aaspi_py.run("attribute_selection", project.root, n_facies=2, **params)
        with pytest.raises(AaspiError, match="'covariance_models' parameter .* Got 'VVV,ABC' instead"):
            aaspi_py.run("attribute_selection", project.root, covariance_models="VVV,ABC", **params)
        with pytest.raises(AaspiError, match=r"Training set 'nothing' \(parameter 'training'\) not found; training sets in the project: planted"):
            aaspi_py.run("attribute_selection", project.root, training="nothing")


def test_later_modules_take_the_recommendation_by_reference(project):
    from aaspi_py.framework.registry import get_module
    from aaspi_py.framework.selection_reference import resolve

    training, planted = planted_training_set(300, 5, 3, 1, seed=2)
    training.save(project.training_dir / "planted")
    res = aaspi_py.run("attribute_selection", project.root, training="planted", suffix="_x", sem_iterations=20)
    recommended = res.report["recommended"]
    assert sorted(recommended) == sorted(planted)
    for module, param in (("rfc3d", "attributes"), ("kuwahara3d", "inputs"), ("gtm3d", "inputs")):
        params = get_module(module).all_params
        assert resolve(project, module, params, {param: ["@attribute_selection_test_x"]})[param] == recommended
    got = resolve(project, "gtm3d", get_module("gtm3d").all_params,
                  {"inputs": ["amplitude", "@attribute_selection_test_x:kuwahara3d_{}_test"]})["inputs"]
    assert got == ["amplitude", *(f"kuwahara3d_{a}_test" for a in recommended)]
    # the runner resolves it before the module sees its parameters (here: the volumes do not exist)
    with pytest.raises(AaspiError, match=f"'{recommended[0]}'"):
        aaspi_py.run("kuwahara3d", project.root, inputs="@attribute_selection_test_x")
    with pytest.raises(AaspiError, match=r"The 'attributes' parameter of rfc3d refers to '@attribute_selection_nope', "
                                         r"but .*attribute_selection_nope.json does not exist; run attribute_selection "
                                         r"first .* Finished runs: attribute_selection_test_x"):
        aaspi_py.run("rfc3d", project.root, attributes="@attribute_selection_nope", training_file="x.txt")


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory):
    from aaspi_py.sample_volumes import build_sample_project

    return build_sample_project(tmp_path_factory.mktemp("sample") / "survey", size="small")


def _qda_accuracy(training, names, groups):
    """Held-out balanced accuracy of scikit-learn's quadratic discriminant, 3 folds of spatial groups."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold

    x = training.values[:, [training.attributes.index(n) for n in names]]
    y = training.facies_index
    scores = [balanced_accuracy_score(y[test], QuadraticDiscriminantAnalysis(reg_param=1e-6).fit(x[fit], y[fit]).predict(x[test]))
              for fit, test in GroupKFold(3).split(x, y, groups)]
    return float(np.mean(scores))


def test_sample_survey_recommendation_leaves_out_noise_and_nothing_useful(sample_project):
    from aaspi_py.modules.attribute_selection import _true_facies_training
    from aaspi_py.sample_volumes import ATTRIBUTES, INFORMATIVE, NOISE

    name = _true_facies_training(sample_project, per_facies=1500)
    res = aaspi_py.run("attribute_selection", sample_project.root, training=name, sem_iterations=20,
                       covariance_models="EII,VVI,EEE,VVV", overwrite=True)
    by_n = res.report["best_by_n"]
    assert set(by_n) == {str(n) for n in range(1, len(ATTRIBUTES) + 1)}
    rec = res.report["recommendation"]
    assert all("spatial blocks" in f for f in rec["folds"])
    recommended = res.report["recommended"]
    # the survey declares which attributes respond to no facies: none is recommended
    assert not set(NOISE) & set(recommended)
    assert set(INFORMATIVE) & set(recommended) and len(recommended) < len(ATTRIBUTES) - len(NOISE)
    # judged by an independent classifier on independent spatial folds (scikit-learn's QDA,
    # 4 x 4 lateral tiles): no attribute left out adds three points of held-out accuracy to the
    # recommendation, and it comes within three points of every non-noise attribute together
    # (substitutes such as dip_deviation and reflector_convergence may stand in for each other)
    training = aaspi_py.TrainingSet.load(sample_project.training_dir / name)
    tiles = (np.digitize(training.positions[:, 0], np.quantile(training.positions[:, 0], [0.25, 0.5, 0.75])) * 4
             + np.digitize(training.positions[:, 1], np.quantile(training.positions[:, 1], [0.25, 0.5, 0.75])))
    base = _qda_accuracy(training, recommended, tiles)
    gains = {a: _qda_accuracy(training, [*recommended, a], tiles) - base for a in ATTRIBUTES if a not in recommended}
    assert max(gains.values()) < 0.03, gains
    useful = [a for a in ATTRIBUTES if a not in NOISE]
    assert base > _qda_accuracy(training, useful, tiles) - 0.03
    # the per-facies mixtures classify the held-out voxels of the synthetic survey
    assert by_n[str(len(ATTRIBUTES))]["validation_accuracy"] > 0.85
    assert all(row["validation_accuracy"] > 0.5 for row in by_n.values())


@pytest.mark.slow
def test_demo_step(sample_project):
    from aaspi_py.modules import attribute_selection, define_training_data

    from aaspi_py.framework.progress import Progress

    define_training_data.demo(sample_project, Progress())
    lines = attribute_selection.demo(sample_project, Progress())
    assert any(line.startswith("recommended") for line in lines)


def test_demo_carries_the_recommendation_forward(sample_project):
    # the demo's later steps take the recommended attributes of the demo's attribute_selection run
    from aaspi_py.modules import define_training_data, kuwahara3d, rfc3d
    from aaspi_py.modules.attribute_selection import _true_facies_training

    from aaspi_py.framework.progress import Progress

    name = _true_facies_training(sample_project, per_facies=400)
    res = aaspi_py.run("attribute_selection", sample_project.root, training=name, sem_iterations=10,
                       covariance_models="EII,VVV", validation_fraction=0, overwrite=True)
    recommended = res.report["recommended"]
    lines = kuwahara3d.demo(sample_project, Progress())
    assert lines[0] == "inputs: the attributes recommended by attribute_selection_sample"
    made = sorted(p.name for p in sample_project.volumes_dir.glob("kuwahara3d_*_sample.zarr"))
    assert made == sorted(f"kuwahara3d_{a}_sample.zarr" for a in recommended)
    define_training_data.demo(sample_project, Progress())
    assert rfc3d.demo(sample_project, Progress())[0] == f"attributes: {', '.join(recommended)}"


def test_folds_follow_polygons_then_spatial_blocks_then_voxels():
    from aaspi_py.selection.facies_separation import assign_folds

    rng = np.random.default_rng(0)
    n = 400
    facies = np.repeat([0, 1, 2, 3], n)
    polygon = np.concatenate([np.repeat([0, 1, 2, 3], n // 4), np.full(3 * n, -1)])
    positions = np.column_stack([rng.integers(0, 50, 4 * n), rng.integers(0, 50, 4 * n), rng.uniform(0, 400, 4 * n)])
    positions[3 * n:, :2] = 7.0  # facies 3: one trace column, no lateral extent to cut into blocks
    positions[2 * n:3 * n] = np.nan  # facies 2: no positions
    fold, block, how = assign_folds(facies, polygon, 3, seed=0, positions=positions)
    assert how == ["whole polygons (4 in 3 folds)", "spatial blocks (16 in 3 folds)", "random voxels (3 folds)",
                   "random voxels (3 folds)"]
    # a polygon, and a spatial block, lies in one fold; every fold holds some of every facies
    for b in np.unique(block[: 2 * n]):
        assert len(np.unique(fold[block == b])) == 1
    assert len(np.unique(block[:n])) == 4
    for m in range(4):
        assert set(fold[facies == m]) == {0, 1, 2}
    # blocks cut the lateral extent: no block of facies 1 spans more than half the inlines
    for b in np.unique(block[n:2 * n]):
        span = np.ptp(positions[block == b, 0])
        assert span <= 25, span


def test_block_standard_error_counts_correlated_voxels_once():
    from aaspi_py.selection.facies_separation import _block_se

    rng = np.random.default_rng(1)
    blocks = np.repeat(np.arange(20), 50)
    # equal blocks: the standard error of the block means (ddof 1)
    v = rng.normal(size=1000) + np.repeat(rng.normal(size=20), 50)
    means = np.array([v[blocks == b].mean() for b in range(20)])
    assert _block_se(v, blocks) == pytest.approx(means.std(ddof=1) / np.sqrt(20))
    # voxels sharing a block offset: the block standard error matches the spread of the mean
    # over repeated surveys; treating voxels as independent understates it about fivefold
    sims = [rng.normal(size=1000) + np.repeat(rng.normal(size=20), 50) for _ in range(400)]
    spread = np.std([s.mean() for s in sims])
    block_se = np.mean([_block_se(s, blocks) for s in sims])
    naive = np.mean([s.std() / np.sqrt(len(s)) for s in sims])
    assert block_se == pytest.approx(spread, rel=0.15)
    assert naive < spread / 4
