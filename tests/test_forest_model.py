"""The flat forest: equal to scikit-learn voxel for voxel, saved without pickle, reloaded identically."""

import json

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from aaspi_py.forest.model import ForestModel, _float32_at_most
from aaspi_py.forest.training import transform, zscore_stats
from aaspi_py.framework.errors import AaspiError


def _data(rng, n=3000, n_attr=5):
    X = rng.standard_normal((n, n_attr)).astype(np.float32)
    y = 1 + (X[:, 0] + 0.7 * X[:, 1] + 0.8 * rng.standard_normal(n) > 0) + (X[:, 2] > 0.9)
    return X, y


@pytest.mark.parametrize("max_depth", [3, 12, None])
def test_predictions_equal_sklearn(rng, max_depth):
    X, y = _data(rng)
    rf = RandomForestClassifier(15, max_depth=max_depth, random_state=0, n_jobs=1).fit(X, y)
    model = ForestModel.from_sklearn(rf, ["a", "b", "c", "d", "e"])
    # unseen values, and the training values themselves (they sit next to thresholds)
    for Z in (rng.standard_normal((20000, 5)).astype(np.float32), X):
        assert np.array_equal(model.predict(Z), rf.predict(Z))
        np.testing.assert_allclose(model.predict_proba(Z), rf.predict_proba(Z), rtol=0, atol=1e-6)
    assert model.depths.max() == max(e.tree_.max_depth for e in rf.estimators_)


def test_first_trees_only(rng):
    X, y = _data(rng)
    rf = RandomForestClassifier(12, max_depth=6, random_state=1, n_jobs=1).fit(X, y)
    small = RandomForestClassifier(5, max_depth=6, random_state=1, n_jobs=1).fit(X, y)
    model = ForestModel.from_sklearn(rf, list("abcde"), n_trees=5)
    assert model.n_trees == 5
    assert np.array_equal(model.predict(X), small.predict(X))


def test_float32_threshold_is_exact():
    t = np.array([0.1, -2.5, 1e-30, 3.4e38, np.float64(np.float32(0.3))])
    t32 = _float32_at_most(t)
    assert np.all(t32.astype(np.float64) <= t)
    above = np.nextafter(t32, np.float32(np.inf))
    assert np.all(above.astype(np.float64) > t)  # the largest float32 not above t


def test_normalised_model_applies_training_statistics(rng):
    X, y = _data(rng)
    X = X * np.array([1e4, 1e-3, 7, 1, 250], dtype=np.float32) + 100
    mean, std = zscore_stats(X.astype(np.float64))
    Z = transform(X, mean, std)
    rf = RandomForestClassifier(10, max_depth=8, random_state=2, n_jobs=1).fit(Z, y)
    model = ForestModel.from_sklearn(rf, list("abcde"), mean=mean, std=std)
    # the model takes raw values and normalises them exactly as training did
    assert np.array_equal(model.predict(X), rf.predict(Z))


def test_save_load_round_trip_without_pickle(tmp_path, rng):
    X, y = _data(rng)
    rf = RandomForestClassifier(8, max_depth=10, random_state=3, n_jobs=1).fit(X, y)
    mean, std = zscore_stats(X.astype(np.float64))
    model = ForestModel.from_sklearn(rf, list("abcde"), class_names=["salt", "mtd", "background"],
                                     mean=mean, std=std, info={"cv_accuracy": {"8": 0.9}})
    folder = model.save(tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "trees.npz"]
    with np.load(folder / "trees.npz", allow_pickle=False) as z:  # plain numbers only
        assert all(z[k].dtype != object for k in z.files)
    again = ForestModel.load(folder / "model.json")
    Z = rng.standard_normal((5000, 5)).astype(np.float32)
    assert np.array_equal(again.predict(Z), model.predict(Z))
    assert np.array_equal(again.predict_proba(Z), model.predict_proba(Z))
    assert again.class_names == ["salt", "mtd", "background"] and again.attributes == list("abcde")
    assert again.info["cv_accuracy"] == {"8": 0.9}
    np.testing.assert_array_equal(again.mean, mean)


def test_load_refuses_other_files(tmp_path, rng):
    with pytest.raises(AaspiError, match="is not a saved rfc3d model"):
        ForestModel.load(tmp_path)
    X, y = _data(rng, 300)
    folder = ForestModel.from_sklearn(RandomForestClassifier(2, random_state=0).fit(X, y), list("abcde")).save(tmp_path / "m")
    meta = json.loads((folder / "model.json").read_text())
    meta["format"] = "something.else"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(AaspiError, match="is not an aaspi_py forest model"):
        ForestModel.load(folder)


def test_invalid_voxels_get_class_zero(rng):
    X, y = _data(rng, 500)
    model = ForestModel.from_sklearn(RandomForestClassifier(4, random_state=0).fit(X, y), list("abcde"))
    Z = rng.standard_normal((10, 5)).astype(np.float32)
    Z[2, 1] = np.nan
    Z[3, 4] = np.inf
    valid = np.ones(10, bool)
    valid[7] = False
    cls, prob = model.predict_values(Z, valid, proba=True)
    assert set(np.flatnonzero(cls == 0)) == {2, 3, 7}
    assert np.all(prob[[2, 3, 7]] == 0)
    np.testing.assert_allclose(prob[[0, 1, 4, 5, 6, 8, 9]].sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(model.classes[prob[cls > 0].argmax(axis=1)], cls[cls > 0])


def test_threads_do_not_change_the_result(rng):
    X, y = _data(rng)
    model = ForestModel.from_sklearn(RandomForestClassifier(6, random_state=0).fit(X, y), list("abcde"))
    Z = rng.standard_normal((300_000, 5)).astype(np.float32)
    assert np.array_equal(model.predict_values(Z, threads=1), model.predict_values(Z, threads=3))


def test_damaged_node_arrays_are_refused(tmp_path, rng):
    # the kernel has no bounds checks, so a child index past the end must never load
    X, y = _data(rng, 300)
    folder = ForestModel.from_sklearn(RandomForestClassifier(2, random_state=0).fit(X, y), list("abcde")).save(tmp_path / "m")
    with np.load(folder / "trees.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["left"][0] = len(arrays["left"]) - 1  # a split whose right child is past the end
    np.savez(folder / "trees.npz", **arrays)
    with pytest.raises(AaspiError, match="node indices out of range; the model file is damaged"):
        ForestModel.load(folder)


def test_two_predictions_in_one_dask_compute_stay_apart(rng):
    import dask

    from aaspi_py.forest.predict import predict_dask
    from aaspi_py.volume import build_dataset

    X = rng.standard_normal((500, 2))
    y = 1 + (X[:, 0] > 0)
    m1 = ForestModel.from_sklearn(RandomForestClassifier(3, random_state=0).fit(X, y), ["a", "b"])
    m2 = ForestModel.from_sklearn(RandomForestClassifier(3, random_state=0).fit(X, 3 - y), ["a", "b"])
    vols = [build_dataset(rng.standard_normal((6, 5, 4)).astype("f4")) for _ in range(2)]
    a, b = dask.compute(predict_dask(m1, vols)[0], predict_dask(m2, vols)[0])
    assert np.all(a + b == 3)  # the second model says the opposite class everywhere
