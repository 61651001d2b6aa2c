"""Training: CV of tree counts, grouped folds, class weights, normalisation, importances."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from aaspi_py.forest.training import (
    ForestParams,
    cross_validate,
    default_tree_counts,
    make_folds,
    patch_groups,
    subsample,
    train,
    transform,
)

FAST = ForestParams(max_depth=8, seed=0, n_jobs=1)


def test_default_tree_counts_are_half_n_and_double():
    assert default_tree_counts(100) == [50, 100, 200]
    assert default_tree_counts(1) == [1, 2]


def test_warm_start_prefix_is_the_smaller_forest(rng):
    # cross_validate relies on it: the first n trees of a warm-started forest are the n-tree forest
    X = rng.standard_normal((400, 3))
    y = (X[:, 0] > 0).astype(int)
    grown = FAST.estimator(3, y, warm_start=True).fit(X, y)
    grown.set_params(n_estimators=7).fit(X, y)
    fresh = FAST.estimator(7, y).fit(X, y)
    for a, b in zip(grown.estimators_, fresh.estimators_):
        assert np.array_equal(a.tree_.threshold, b.tree_.threshold)


def test_patch_groups_are_connected_same_class_patches():
    index = np.array([[0, 0, 0], [0, 0, 1], [1, 1, 2],   # a diagonal chain: one patch
                      [5, 5, 5], [5, 5, 6],              # far away: another
                      [0, 0, 2]])                        # touches the first patch, other class
    classes = np.array([1, 1, 1, 1, 1, 2])
    g = patch_groups(index, classes)
    assert g[0] == g[1] == g[2] and g[3] == g[4]
    assert len({g[0], g[3], g[5]}) == 3


def test_subsample_keeps_every_class(rng):
    y = np.array([1] * 10000 + [2] * 30)
    sel = subsample(y, 1000, seed=0)
    assert len(sel) <= 1030 and np.all(np.diff(sel) > 0)
    assert (y[sel] == 2).sum() == 30  # a rare class keeps up to 50 voxels
    assert np.array_equal(subsample(y, 0, 0), np.arange(len(y)))


def _patchy(rng, n_patches=24, per=60, n_classes=3):
    """Voxels in patches; each patch has its own offset: neighbours share more than their class does."""
    classes = np.repeat(np.arange(n_patches) % n_classes + 1, per)
    groups = np.repeat(np.arange(n_patches), per)
    offset = rng.standard_normal((n_patches, 4)) * 1.5
    X = 0.5 * classes[:, None] * np.array([1, 0.5, 0, 0]) + offset[groups] + 0.1 * rng.standard_normal((len(classes), 4))
    return X, classes, groups


def test_grouped_cv_is_not_fooled_by_neighbouring_voxels(rng):
    X, y, groups = _patchy(rng)
    Xf = transform(X, None, None)
    random_cv = cross_validate(Xf, y, tree_counts=[10], params=FAST, repeats=0)
    grouped_cv = cross_validate(Xf, y, tree_counts=[10], params=FAST, groups=groups, repeats=0)
    assert "grouped (24 groups)" in grouped_cv.folds and "stratified random" in random_cv.folds
    # random folds recognise the patches (near-perfect); held-out patches show the real skill
    assert random_cv.best_accuracy > 0.95
    assert grouped_cv.best_accuracy < random_cv.best_accuracy - 0.2


def test_single_group_falls_back_to_random_folds(rng):
    y = np.repeat([1, 2], 20)
    folds, how = make_folds(y, np.zeros(40, int), 5, 0)
    assert len(folds) == 5 and "only one group" in how


def test_balanced_weights_raise_recall_of_a_rare_class(rng):
    n_common, n_rare = 3000, 60
    X = np.vstack([rng.normal(0, 1, (n_common, 2)), rng.normal(1.2, 1, (n_rare, 2))])
    y = np.array([1] * n_common + [2] * n_rare)
    recall = {}
    for weight in (None, "balanced"):
        p = ForestParams(max_depth=4, class_weight=weight, seed=0, n_jobs=1)
        cv = cross_validate(transform(X, None, None), y, tree_counts=[20], params=p, repeats=0)
        recall[weight] = cv.confusion[1, 1] / cv.confusion[1].sum()
    assert recall[None] < 0.2 and recall["balanced"] > recall[None] + 0.3


def _two_attribute_problem(rng, n=1500):
    X = rng.standard_normal((n, 3))
    y = 1 + (X[:, 0] > 0).astype(int)
    return X, y


def test_normalise_keeps_an_attribute_of_tiny_range_usable(rng):
    X, y = _two_attribute_problem(rng)
    X[:, 0] *= 1e-9  # the only informative attribute, in odd units: steps below sklearn's 1e-7
    kw = dict(n_trees=10, params=FAST, repeats=2, n_folds=3)
    raw = train(X, y, list("abc"), ["one", "two"], normalize=False, **kw)
    norm = train(X, y, list("abc"), ["one", "two"], normalize=True, **kw)
    assert raw.gini[0] == 0.0 and raw.cv.best_accuracy < 0.65   # treated as constant
    assert norm.gini[0] > 0.8 and norm.cv.best_accuracy > 0.97
    assert np.array_equal(norm.model.mean, X.mean(axis=0)) and norm.model.normalize and not raw.model.normalize


def test_normalised_forest_does_not_see_attribute_scaling(rng):
    X, y = _two_attribute_problem(rng)
    kw = dict(n_trees=10, params=FAST, repeats=0, n_folds=3, normalize=True)
    a = train(X, y, list("abc"), ["one", "two"], **kw)
    b = train(X * [1000.0, 0.01, 5.0] - 3.0, y, list("abc"), ["one", "two"], **kw)
    assert np.array_equal(a.cv.accuracy, b.cv.accuracy)
    Z = rng.standard_normal((2000, 3))
    assert np.mean(a.model.predict(Z) == b.model.predict(Z * [1000.0, 0.01, 5.0] - 3.0)) > 0.99


def test_train_returns_cv_table_importances_and_a_model_equal_to_sklearn(rng):
    X, y = _two_attribute_problem(rng)
    X[:, 1] += 0.5 * y  # weakly informative; column 2 is noise
    res = train(X, y, ["strong", "weak", "noise"], ["one", "two"], n_trees=8, params=FAST, repeats=3)
    cv = res.cv
    assert cv.tree_counts == [4, 8, 16] and cv.accuracy.shape == (3, 5)
    assert cv.best == cv.tree_counts[int(np.argmax(cv.accuracy.mean(axis=1)))]
    assert cv.confusion.sum() == len(y) and np.trace(cv.confusion) == np.sum(cv.predicted == y)
    assert res.gini.sum() == pytest.approx(1.0) and np.argmax(res.gini) == 0
    assert cv.permutation[0, 0] > 0.3 and abs(cv.permutation[2, 0]) < 0.02  # noise: nothing lost
    assert isinstance(res.forest, RandomForestClassifier) and res.model.n_trees == cv.best
    assert np.array_equal(res.model.predict(X), res.forest.predict(transform(X, res.model.mean, res.model.std)))
