"""A fitted random forest as flat arrays: saved without pickle, predicted by a numba kernel.

:class:`ForestModel` holds the trees of a scikit-learn ``RandomForestClassifier`` as five
arrays over all nodes of all trees, plus the attribute names, class numbers and the
z-score statistics of the training set. It is written as ``model.json`` (names, classes,
statistics, provenance) and ``trees.npz`` (numbers only, loaded with
``allow_pickle=False``), so loading a model never runs code from the file.

Layout, chosen for a fast branch-free walk: each tree's nodes are renumbered breadth-first
so that the two children of a split are adjacent (``right = left + 1``), and a leaf points
to itself with threshold +inf. A voxel then descends ``depth`` steps with
``node = left[node] + (x[feature[node]] > threshold[node])``, with no test for leaves.
Thresholds are stored as the largest float32 not above scikit-learn's float64 threshold:
for float32 inputs (scikit-learn casts to float32 too) ``x <= t`` and ``x <= t32`` agree,
so predictions equal ``RandomForestClassifier.predict`` voxel for voxel.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.forest.kernel import predict_block
from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.json_values import json_default

FORMAT = "aaspi_py.forest_model"  # the saved-model format name (kept when the code moved)
VERSION = 1
_ARRAYS = ("feature", "threshold", "left", "value", "roots", "depths")


@dataclass
class ForestModel:
    """A random forest classifier as flat node arrays.

    Attributes
    ----------
    attributes : list of str, length N
        Attribute (volume) names, in the order the model expects them.
    classes : int array of shape (M,)
        Class numbers predicted (1..M in a training file).
    class_names : list of str, length M
    mean, std : float64 arrays of shape (N,) or None
        z-score statistics of the training set, applied before the trees when not None.
    feature : int32 array of shape (n_nodes,)
    threshold : float32 array of shape (n_nodes,), +inf at leaves
    left : int32 array of shape (n_nodes,), global index of the left child (right = left + 1)
    value : float64 array of shape (n_nodes, M), class fractions at leaves (rows sum to 1)
    roots : int32 array of shape (n_trees,), global index of each tree's root
    depths : int32 array of shape (n_trees,), depth of each tree
    info : dict
        Provenance and training summary written to ``model.json``.
    """

    attributes: list[str]
    classes: np.ndarray
    class_names: list[str]
    mean: np.ndarray | None
    std: np.ndarray | None
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depths: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = np.asarray(self.classes, dtype=np.int64)
        self.feature = np.ascontiguousarray(self.feature, dtype=np.int32)
        self.threshold = np.ascontiguousarray(self.threshold, dtype=np.float32)
        self.left = np.ascontiguousarray(self.left, dtype=np.int32)
        self.value = np.ascontiguousarray(self.value, dtype=np.float64)
        self.roots = np.ascontiguousarray(self.roots, dtype=np.int32)
        self.depths = np.ascontiguousarray(self.depths, dtype=np.int32)
        n = len(self.feature)
        if not (len(self.threshold) == len(self.left) == len(self.value) == n):
            raise AaspiError("Forest model: node arrays have different lengths; the model file is damaged.")
        if self.value.shape[1:] != (len(self.classes),) or len(self.class_names) != len(self.classes):
            raise AaspiError("Forest model: class table does not match the leaf values; the model file is damaged.")
        # the kernel runs without bounds checks: every index it can follow must be valid
        split = self.threshold != np.inf
        if n and (self.left.min() < 0 or self.left.max() >= n or np.any(self.left[split] + 1 >= n)
                  or self.feature.min() < 0 or self.feature.max() >= len(self.attributes)
                  or self.roots.min(initial=0) < 0 or self.roots.max(initial=0) >= n
                  or self.depths.min(initial=0) < 0 or len(self.depths) != len(self.roots)):
            raise AaspiError("Forest model: node indices out of range; the model file is damaged.")
        if self.mean is not None:
            self.mean = np.asarray(self.mean, dtype=np.float64)
            self.std = np.asarray(self.std, dtype=np.float64)

    # -- sizes
    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_attributes(self) -> int:
        return len(self.attributes)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def normalize(self) -> bool:
        return self.mean is not None

    # -- construction
    @classmethod
    def from_sklearn(cls, forest, attributes: list[str], *, class_names: list[str] | None = None,
                     mean: np.ndarray | None = None, std: np.ndarray | None = None,
                     n_trees: int | None = None, info: dict | None = None) -> ForestModel:
        """Export the first ``n_trees`` trees (default all) of a fitted ``RandomForestClassifier``.

        ``mean``/``std`` are the z-score statistics the forest was trained with (None when
        it was trained on raw attributes).
        """
        trees = forest.estimators_[: n_trees or len(forest.estimators_)]
        parts = [_flatten_tree(t.tree_) for t in trees]
        sizes = np.array([len(p[0]) for p in parts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        feature = np.concatenate([p[0] for p in parts])
        threshold = np.concatenate([p[1] for p in parts])
        left = np.concatenate([p[2] + off for p, off in zip(parts, offsets)])
        value = np.concatenate([p[3] for p in parts])
        classes = np.asarray(forest.classes_)
        names = list(class_names) if class_names else [f"class{c}" for c in classes]
        return cls(attributes=list(attributes), classes=classes, class_names=names,
                   mean=mean, std=std, feature=feature, threshold=threshold, left=left,
                   value=value, roots=offsets, depths=[p[4] for p in parts], info=dict(info or {}))

    # -- prediction
    def _prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_attributes:
            raise AaspiError(f"Forest model: expected values of shape (voxels, {self.n_attributes} attributes); "
                             f"got {X.shape}.")
        return np.ascontiguousarray(X, dtype=np.float32)

    def predict_values(self, X: np.ndarray, valid: np.ndarray | None = None, *,
                       proba: bool = False, threads: int | None = None):
        """Classes (and class probabilities) of voxels given as attribute rows.

        Parameters
        ----------
        X : array of shape (n_voxels, N)
            Raw attribute values (normalisation, if any, is applied here).
        valid : bool array of shape (n_voxels,), optional
            False marks voxels to leave unclassified (class 0, probabilities 0).
            Voxels with a NaN attribute are unclassified too.
        proba : bool
            Also return the class probabilities.
        threads : int, optional
            Worker threads (default: CPU count); the kernel releases the GIL.

        Returns
        -------
        classes : int16 array of shape (n_voxels,)
        probabilities : float32 array of shape (n_voxels, M), only with ``proba=True``
        """
        X = self._prepare(X)
        n = len(X)
        valid = np.ones(n, dtype=bool) if valid is None else np.ascontiguousarray(valid, dtype=bool)
        out = np.zeros(n, dtype=np.int16)
        prob = np.zeros((n, self.n_classes) if proba else (0, self.n_classes), dtype=np.float32)
        threads = threads or os.cpu_count() or 1
        step = max(65536, -(-n // threads))
        spans = [(a, min(n, a + step)) for a in range(0, n, step)]

        def work(span):
            a, b = span
            self.predict_into(X[a:b].T, valid[a:b], out[a:b], prob[a:b] if proba else prob)

        if len(spans) <= 1:
            for s in spans:
                work(s)
        else:
            with ThreadPoolExecutor(min(threads, len(spans))) as pool:
                list(pool.map(work, spans))
        return (out, prob) if proba else out

    def predict_into(self, columns: np.ndarray, valid: np.ndarray, out: np.ndarray,
                     prob: np.ndarray) -> None:
        """Kernel call on one block: ``columns`` (N, n) float32 → ``out`` (n,), ``prob`` (n, M) or (0, M)."""
        mean = self.mean if self.mean is not None else np.zeros(self.n_attributes)
        std = self.std if self.std is not None else np.ones(self.n_attributes)
        predict_block(columns, valid, self.normalize, mean, std, self.feature, self.threshold,
                      self.left, self.value, self.roots, self.depths,
                      self.classes.astype(np.int16), out, prob)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class numbers of rows of ``X`` (n_voxels, N), like ``RandomForestClassifier.predict``."""
        return self.predict_values(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (n_voxels, M) as float32 (mean of the trees' leaf fractions)."""
        return self.predict_values(X, proba=True)[1]

    # -- files
    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``model.json`` and ``trees.npz`` into ``folder`` (created)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "trees.npz", **{k: getattr(self, k) for k in _ARRAYS})
        meta = {"format": FORMAT, "version": VERSION, "attributes": self.attributes,
                "classes": self.classes.tolist(), "class_names": self.class_names,
                "normalize": self.normalize,
                "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist(),
                "n_trees": self.n_trees, "max_depth": int(self.depths.max(initial=0)),
                "n_nodes": len(self.feature), "info": self.info}
        (folder / "model.json").write_text(json.dumps(meta, indent=2, default=json_default), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike) -> ForestModel:
        """Read a model folder (or its ``model.json``) written by :meth:`save`."""
        path = Path(path)
        folder = path.parent if path.name == "model.json" else path
        meta_file, trees_file = folder / "model.json", folder / "trees.npz"
        if not meta_file.exists() or not trees_file.exists():
            raise AaspiError(f"{path} is not a saved rfc3d model (needs model.json and trees.npz); "
                             f"give the results/rfc3d_model_<project><suffix> folder of a training run.")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except ValueError as e:
            raise AaspiError(f"{meta_file} is not valid JSON ({e}).") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise AaspiError(f"{meta_file} is not an aaspi_py forest model (format {FORMAT} v{VERSION}).")
        try:
            with np.load(trees_file, allow_pickle=False) as z:
                arrays = {k: z[k] for k in _ARRAYS}
        except (KeyError, ValueError, OSError) as e:
            raise AaspiError(f"{trees_file} cannot be read ({e}); save the model again.") from None
        normalize = bool(meta.get("normalize"))
        return cls(attributes=list(meta["attributes"]), classes=meta["classes"],
                   class_names=list(meta["class_names"]),
                   mean=np.asarray(meta["mean"]) if normalize else None,
                   std=np.asarray(meta["std"]) if normalize else None,
                   info=meta.get("info", {}), **arrays)


def _float32_at_most(t: np.ndarray) -> np.ndarray:
    """The largest float32 ``<= t`` for each float64 ``t`` (exact threshold for float32 inputs)."""
    t32 = t.astype(np.float32)
    above = t32.astype(np.float64) > t
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _flatten_tree(tree) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """One sklearn ``Tree`` renumbered breadth-first with adjacent children and self-looping leaves.

    Returns feature, threshold (float32), left (local indices), value (fractions) and depth.
    """
    cl, cr = tree.children_left, tree.children_right
    n = tree.node_count
    order = np.empty(n, dtype=np.int64)   # new index -> old index
    new = np.empty(n, dtype=np.int64)     # old index -> new index
    order[0], new[0] = 0, 0
    nxt, head = 1, 0
    while head < nxt:  # breadth-first: the children of a split get consecutive numbers
        old = order[head]
        if cl[old] != -1:
            order[nxt], order[nxt + 1] = cl[old], cr[old]
            new[cl[old]], new[cr[old]] = nxt, nxt + 1
            nxt += 2
        head += 1
    is_leaf = cl[order] == -1
    feature = np.where(is_leaf, 0, tree.feature[order]).astype(np.int32)
    threshold = _float32_at_most(tree.threshold[order].astype(np.float64))
    threshold[is_leaf] = np.inf
    left = np.where(is_leaf, np.arange(n), new[np.where(is_leaf, 0, cl[order])]).astype(np.int32)
    # as DecisionTreeClassifier.predict_proba: leaf values divided by their sum
    value = tree.value[order, 0, :].astype(np.float64)
    total = value.sum(axis=1)[:, np.newaxis]
    total[total == 0.0] = 1.0
    value = value / total
    value[~is_leaf] = 0.0
    return feature, threshold, left, value, int(tree.max_depth)
