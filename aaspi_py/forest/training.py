"""Training rfc3d's random forest: cross-validated tree count, importances, the final model.

As in AASPI's rfc3d, K-fold cross-validation (default five) tries three tree counts (default
n/2, n, 2n) and the count with the best mean accuracy is used for the final forest, fitted
on every training voxel. Beyond the notes:

* **Grouped folds.** Voxels of one polygon (or one well) are near copies of each other, so
  random folds put neighbours on both sides and overstate accuracy. With ``groups`` the folds
  keep whole groups together (``StratifiedGroupKFold``). Groups are the polygon ids when the
  training file comes from define_training_data, otherwise the connected patches of
  same-class training voxels (a hand-drawn polygon or a well track is one patch); with fewer
  than two groups the folds fall back to stratified random ones and say so.
* **Permutation importance** on the held-out folds (the accuracy lost when one attribute's
  values are shuffled), beside the normalised Gini importance of the final forest.
* **Class weights** ``balanced`` for facies with few voxels.
* **Normalisation** z-scores each attribute with the training mean and std, stored in the
  model. A tree only compares one attribute with a threshold, so scaling does not change
  which voxels a split separates; what it changes is scikit-learn's absolute tolerance
  (1e-7) for telling two values apart: an attribute whose values differ by less than that
  (e.g. in odd units) is treated as constant and never used unless normalised.

The CV folds use statistics of all training voxels (the final model's), a negligible leak
for trees and the same inputs as the final model. Folds are fitted with ``warm_start``: the
first n/2 trees of the 2n-tree forest are the n/2-tree forest, so the three counts cost one
fit of 2n trees per fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aaspi_py.forest.model import ForestModel
from aaspi_py.framework.errors import AaspiError

# ---------------------------------------------------------------- inputs


def zscore_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (1 where an attribute is constant) of X, shape (V, N) → two (N,) arrays."""
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    std[~(std > 0)] = 1.0
    return mean, std


def transform(X: np.ndarray, mean: np.ndarray | None, std: np.ndarray | None) -> np.ndarray:
    """The float32 values the trees see: ``(X - mean) / std`` in float64, rounded (as the kernel)."""
    X = np.asarray(X, dtype=np.float64)
    if mean is None:
        return X.astype(np.float32)
    return ((X - mean) / std).astype(np.float32)


def subsample(y: np.ndarray, max_voxels: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_voxels`` voxels, proportional per class (>= 50 each when possible)."""
    n = len(y)
    if not max_voxels or n <= max_voxels:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        take = min(len(members), max(50, round(max_voxels * len(members) / n)))
        keep.append(rng.choice(members, take, replace=False))
    return np.sort(np.concatenate(keep))


def patch_groups(index: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Connected patches of same-class voxels (26-neighbours), one group id per voxel.

    Parameters
    ----------
    index : int array of shape (V, 3), voxel indices
    classes : int array of shape (V,)

    Returns
    -------
    int array of shape (V,), 0..n_groups-1
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    idx = np.asarray(index, dtype=np.int64) + 1  # room for the -1 neighbour
    dims = idx.max(axis=0) + 3  # a neighbour key never reaches the next row or class
    cls = np.asarray(classes, dtype=np.int64)
    key = ((cls * dims[0] + idx[:, 0]) * dims[1] + idx[:, 1]) * dims[2] + idx[:, 2]
    order = np.argsort(key)
    sorted_key = key[order]
    rows, cols = [], []
    # half of the 26 neighbour offsets: each edge is found once
    offsets = [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if (a, b, c) > (0, 0, 0)]
    for a, b, c in offsets:
        nb = key + (a * dims[1] + b) * dims[2] + c
        pos = np.clip(np.searchsorted(sorted_key, nb), 0, len(key) - 1)
        hit = sorted_key[pos] == nb
        rows.append(np.flatnonzero(hit))
        cols.append(order[pos[hit]])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(key), len(key)))
    return connected_components(graph, directed=False)[1]


def make_folds(y: np.ndarray, groups: np.ndarray | None, n_folds: int, seed: int):
    """Train/test index pairs and a description of how the folds were made."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    smallest = int(np.bincount(y)[np.unique(y)].min())
    if groups is not None:
        n_groups = len(np.unique(groups))
        k = min(n_folds, n_groups)
        if k >= 2:
            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            return list(cv.split(np.zeros(len(y)), y, groups)), f"{k}-fold, grouped ({n_groups} groups)"
        note = "only one group: stratified random folds instead"
    else:
        note = ""
    k = max(2, min(n_folds, smallest))
    if smallest < 2:
        raise AaspiError("Cross-validation needs at least 2 training voxels of every class; "
                         "add voxels to the smallest class.")
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    text = f"{k}-fold, stratified random" + (f" ({note})" if note else "")
    return list(cv.split(np.zeros(len(y)), y)), text


# ---------------------------------------------------------------- fitting


@dataclass
class ForestParams:
    """Hyper-parameters shared by the CV fits and the final fit."""

    max_depth: int | None = 12
    class_weight: str | None = None
    seed: int = 0
    n_jobs: int = -1

    def estimator(self, n_trees: int, y: np.ndarray, warm_start: bool = False):
        """A ``RandomForestClassifier`` for classes ``y``; "balanced" becomes explicit weights
        from ``y`` (the same numbers, and valid with warm start, where the preset is not)."""
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.utils.class_weight import compute_class_weight

        weight = self.class_weight
        if weight == "balanced":
            classes = np.unique(y)
            weight = dict(zip(classes.tolist(), compute_class_weight("balanced", classes=classes, y=y)))
        return RandomForestClassifier(n_estimators=n_trees, max_depth=self.max_depth,
                                      class_weight=weight, random_state=self.seed,
                                      n_jobs=self.n_jobs, warm_start=warm_start)


@dataclass
class CVResult:
    """Cross-validation of several tree counts.

    Attributes
    ----------
    tree_counts : list of int, ascending
    accuracy : float array of shape (n_counts, n_folds)
    best : int, the tree count with the best mean accuracy (the smaller on a tie)
    predicted : int array of shape (V,), out-of-fold predictions with ``best`` trees
    confusion : int array of shape (M, M), rows true class, columns predicted
    permutation : float array of shape (N, 2), mean and std accuracy drop per attribute (NaN: skipped)
    folds : str, how the folds were made
    """

    tree_counts: list[int]
    accuracy: np.ndarray
    best: int
    predicted: np.ndarray
    confusion: np.ndarray
    permutation: np.ndarray
    folds: str

    @property
    def mean(self) -> np.ndarray:
        return self.accuracy.mean(axis=1)

    @property
    def best_accuracy(self) -> float:
        return float(self.mean[self.tree_counts.index(self.best)])


def cross_validate(X: np.ndarray, y: np.ndarray, *, tree_counts: list[int], params: ForestParams,
                   groups: np.ndarray | None = None, n_folds: int = 5, repeats: int = 5,
                   progress=None) -> CVResult:
    """K-fold CV of ``tree_counts`` on float32 values X (V, N) and classes y (V,).

    The folds are fitted once each with warm start through the ascending tree counts;
    permutation importance is measured on the held-out voxels with the best count.
    """
    counts = sorted(set(int(c) for c in tree_counts))
    folds, how = make_folds(y, groups, n_folds, params.seed)
    classes = np.unique(y)
    acc = np.zeros((len(counts), len(folds)))
    oof = np.zeros((len(counts), len(y)), dtype=y.dtype)
    fitted = []
    for f, (tr, te) in enumerate(folds):
        est = params.estimator(counts[0], y[tr], warm_start=True)
        for c, n in enumerate(counts):
            if progress is not None:
                progress.check()
            est.set_params(n_estimators=n)
            est.fit(X[tr], y[tr])
            oof[c, te] = est.predict(X[te])
            acc[c, f] = float(np.mean(oof[c, te] == y[te]))
            if progress is not None:
                progress.update((f + (c + 1) / len(counts)) / len(folds), f"CV fold {f + 1}, {n} trees")
        fitted.append(est)
    best_i = int(np.argmax(acc.mean(axis=1)))  # argmax: the first (smallest count) on a tie
    best = counts[best_i]
    names = [str(i) for i in range(X.shape[1])]
    rng = np.random.default_rng(params.seed)
    drops = np.zeros((X.shape[1], max(repeats, 1)))
    for est, (_, te) in zip(fitted, folds):
        model = ForestModel.from_sklearn(est, names, n_trees=best)
        drops += len(te) / len(y) * permutation_drop(model, X[te], y[te], repeats, rng)
    confusion = confusion_matrix(y, oof[best_i], classes)
    perm = np.column_stack([drops.mean(axis=1), drops.std(axis=1)]) if repeats else np.full((X.shape[1], 2), np.nan)
    return CVResult(tree_counts=counts, accuracy=acc, best=best, predicted=oof[best_i],
                    confusion=confusion, permutation=perm, folds=how)


def permutation_drop(model: ForestModel, X: np.ndarray, y: np.ndarray, repeats: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Accuracy lost when each attribute is shuffled, shape (N, repeats)."""
    base = float(np.mean(model.predict(X) == y))
    out = np.zeros((X.shape[1], max(repeats, 1)))
    for a in range(X.shape[1] if repeats else 0):
        for r in range(repeats):
            Xp = X.copy()
            Xp[:, a] = rng.permutation(Xp[:, a])
            out[a, r] = base - float(np.mean(model.predict(Xp) == y))
    return out


def confusion_matrix(y: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Counts (M, M): row = true class, column = predicted class, in the order of ``classes``."""
    pos = {int(c): i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(cm, (np.array([pos[int(c)] for c in y]), np.array([pos[int(c)] for c in pred])), 1)
    return cm


# ---------------------------------------------------------------- the whole training


@dataclass
class Training:
    """Result of :func:`train`: the final model, the CV and the importances."""

    model: ForestModel
    cv: CVResult
    gini: np.ndarray
    info: dict = field(default_factory=dict)
    #: the fitted scikit-learn forest (not saved; for comparisons)
    forest: object = None


def default_tree_counts(n_trees: int) -> list[int]:
    """AASPI's three tree counts: n/2, n, 2n."""
    return sorted({max(1, n_trees // 2), n_trees, 2 * n_trees})


def train(values: np.ndarray, classes: np.ndarray, attributes: list[str], class_names: list[str], *,
          n_trees: int = 100, tree_counts: list[int] | None = None, params: ForestParams | None = None,
          normalize: bool = True, groups: np.ndarray | None = None, n_folds: int = 5,
          repeats: int = 5, progress=None) -> Training:
    """Cross-validate the tree count, then fit the final forest on every voxel given.

    Parameters
    ----------
    values : float array of shape (V, N), raw attribute values
    classes : int array of shape (V,), class numbers 1..M
    attributes, class_names : names (N and M)
    groups : int array of shape (V,), optional: CV groups (polygons, patches); None = random folds

    Returns
    -------
    Training
    """
    params = params or ForestParams()
    y = np.asarray(classes, dtype=np.int64)
    mean, std = zscore_stats(values) if normalize else (None, None)
    X = transform(values, mean, std)
    counts = list(tree_counts) if tree_counts else default_tree_counts(n_trees)
    sub = progress.sub(0.0, 0.85) if progress is not None else None
    cv = cross_validate(X, y, tree_counts=counts, params=params, groups=groups, n_folds=n_folds,
                        repeats=repeats, progress=sub)
    if progress is not None:
        progress.update(0.9, f"fitting the final forest ({cv.best} trees)")
        progress.check()
    forest = params.estimator(cv.best, y).fit(X, y)
    info = {"cv_accuracy": {str(n): float(a) for n, a in zip(cv.tree_counts, cv.mean)},
            "cv_folds": cv.folds, "training_voxels": int(len(y)), "max_depth": params.max_depth,
            "class_weight": params.class_weight or "none", "seed": params.seed}
    model = ForestModel.from_sklearn(forest, attributes, class_names=class_names, mean=mean, std=std,
                                     info=info)
    if progress is not None:
        progress.update(1.0, "forest trained")
    return Training(model=model, cv=cv, gini=np.asarray(forest.feature_importances_, dtype=np.float64),
                    info=info, forest=forest)
