"""The recommended attribute combination: held-out separation of the facies, one-SE parsimony.

The notes' O_n averages Bhattacharyya distances over *cluster* pairs. A facies-independent
attribute that is not Gaussian (Student t, uniform, skewed, bimodal, ±1) is split into two
clusters per facies, and the distances between different facies' halves look like
separation; a redundant attribute raises O_n too. The recommendation therefore measures
separation at the level of the facies, on voxels the mixtures did not see:

* **criterion**: the held-out log posterior of the true facies, log p(m | x) = log f_m(x) −
  log Σ_m' f_m'(x) with equal priors, where f_m is facies m's mixture (K and covariance model
  by BIC, exactly as for O_n) fitted on the other folds. Folds are whole polygons for a facies
  drawn in several polygons, else seeded random voxels. Each facies counts equally (mean of
  the per-facies means), and a voxel counts at most ``log(POSTERIOR_FLOOR)`` against a set, so
  a handful of voxels far outside every mixture cannot decide the choice. An attribute with
  the same law in every facies leaves log p(m | x) unchanged in expectation, whatever its
  shape; on held-out voxels it can only cost (the mixtures overfit it).
* **search**: forward selection (add the attribute that raises the criterion most; stop after
  ``PATIENCE`` steps without a new best), then backward elimination from the parsimonious set.
* **parsimony rule**: from the best set on the forward path, backward elimination: drop the
  attribute whose removal leaves the highest criterion, as long as it stays within one standard
  error (``n_se``) of the best — the smallest set the search finds within one standard error.
  Redundant attributes picked early (the best single proxy for two informative ones) leave
  here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

POSTERIOR_FLOOR = 1e-3
PATIENCE = 2
CRITERION = ("held-out log posterior of the true facies (equal priors, mean over facies, each voxel "
             f"floored at log {POSTERIOR_FLOOR:g}), {{folds}}-fold cross-validation; forward selection, "
             "then backward elimination from the best set while the criterion stays within "
             "{n_se:g} standard error(s) of the best")


def log_density(fit, x: np.ndarray) -> np.ndarray:
    """Log-density of a fitted facies mixture (weights, means, covariances) at voxels x (n, d)."""
    out = np.empty((len(x), fit.n_clusters))
    d = x.shape[1]
    for k in range(fit.n_clusters):
        low = np.linalg.cholesky(fit.covariances[k])
        z = np.linalg.solve(low, (x - fit.means[k]).T)
        out[:, k] = (math.log(max(fit.weights[k], 1e-300)) - 0.5 * d * math.log(2 * math.pi)
                     - np.log(np.diag(low)).sum() - 0.5 * (z * z).sum(axis=0))
    top = out.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(out - top).sum(axis=1, keepdims=True)))[:, 0]


def assign_folds(facies_index: np.ndarray, polygon: np.ndarray, n_folds: int,
                 seed: int) -> tuple[np.ndarray, list[str]]:
    """Fold of every voxel (0 … n_folds − 1) and how each facies was split.

    A facies with two or more polygons: its polygons, in a seeded random order, are dealt to
    min(n_folds, n_polygons) folds, so no polygon is split and every fold keeps some of the
    facies for fitting. Otherwise: seeded random voxels, dealt evenly to the n_folds folds.
    """
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(facies_index), dtype=np.int64)
    how = []
    for m in range(int(facies_index.max()) + 1):
        where = np.flatnonzero(facies_index == m)
        polys = np.unique(polygon[where])
        polys = polys[polys >= 0]
        if len(polys) >= 2:
            k = min(n_folds, len(polys))
            for i, p in enumerate(rng.permutation(polys)):
                fold[where[polygon[where] == p]] = i % k
            how.append(f"whole polygons ({len(polys)} in {k} folds)")
        else:
            fold[where[rng.permutation(len(where))]] = np.arange(len(where)) % n_folds
            how.append(f"random voxels ({n_folds} folds)")
    return fold, how


@dataclass
class Step:
    """One evaluated attribute set (0-based indices, in the order they were added)."""

    attributes: tuple[int, ...]
    score: float
    se: float
    accuracy: float


@dataclass
class Recommendation:
    """What the held-out criterion chose and how."""

    attributes: tuple[int, ...]
    score: float
    threshold: float
    best: Step
    path: list[Step]
    removed: list[tuple[int, float]] = field(default_factory=list)
    criterion: str = ""
    folds: list[str] = field(default_factory=list)
    evaluated: int = 0
    seconds: float = 0.0


class HeldOutScorer:
    """Held-out log posterior of attribute sets, memoised.

    ``fit(fold, facies, cols)`` returns facies ``facies``' mixture fitted in the columns
    ``cols`` on the voxels outside fold ``fold``; ``facies_x[m]`` are facies m's
    (standardised) voxels and ``fold_of[m]`` their folds.
    """

    def __init__(self, facies_x: list[np.ndarray], fold_of: list[np.ndarray], n_folds: int,
                 fit: Callable) -> None:
        self.facies_x = facies_x
        self.fold_of = fold_of
        self.n_folds = n_folds
        self.fit = fit
        self.cache: dict[tuple[int, ...], Step] = {}

    def __call__(self, cols: tuple[int, ...]) -> Step:
        key = tuple(sorted(cols))
        if key in self.cache:
            return Step(tuple(cols), *self._fields(self.cache[key]))
        m_count = len(self.facies_x)
        arr = np.asarray(key, dtype=np.int64)
        per_facies = [[] for _ in range(m_count)]
        hits = [[] for _ in range(m_count)]
        for f in range(self.n_folds):
            if not any((fo == f).any() for fo in self.fold_of):
                continue
            fits = [self.fit(f, m, arr) for m in range(m_count)]
            for m in range(m_count):
                held = self.facies_x[m][self.fold_of[m] == f]
                if not len(held):
                    continue
                ld = np.column_stack([log_density(fit, held[:, arr]) for fit in fits])
                top = ld.max(axis=1, keepdims=True)
                lse = (top + np.log(np.exp(ld - top).sum(axis=1, keepdims=True)))[:, 0]
                per_facies[m].append(np.maximum(ld[:, m] - lse, math.log(POSTERIOR_FLOOR)))
                hits[m].append(ld.argmax(axis=1) == m)
        lp = [np.concatenate(p) for p in per_facies if p]
        score = float(np.mean([p.mean() for p in lp]))
        se = float(math.sqrt(sum(p.var() / len(p) for p in lp)) / len(lp))
        acc = float(np.mean([np.concatenate(h).mean() for h in hits if h]))
        step = Step(key, score, se, acc)
        self.cache[key] = step
        return Step(tuple(cols), score, se, acc)

    @staticmethod
    def _fields(step: Step) -> tuple[float, float, float]:
        return step.score, step.se, step.accuracy


def recommend(scorer: HeldOutScorer, n_attributes: int, n_se: float = 1.0, progress=None,
              n_jobs: int = 1) -> Recommendation:
    """Forward selection, then backward elimination within the one-SE band (module docstring).

    The candidate sets of one step are scored in ``n_jobs`` threads (the fits release the GIL).
    """
    pool = ThreadPoolExecutor(max_workers=n_jobs)
    try:
        return _search(scorer, n_attributes, n_se, progress, pool)
    finally:
        pool.shutdown(cancel_futures=True)


def _search(scorer, n_attributes, n_se, progress, pool) -> Recommendation:
    path: list[Step] = []
    chosen: tuple[int, ...] = ()
    best: Step | None = None
    since_best = 0
    while len(chosen) < n_attributes and since_best < PATIENCE:
        trials = list(pool.map(scorer, [(*chosen, a) for a in range(n_attributes) if a not in chosen]))
        step = max(trials, key=lambda s: (s.score, -s.attributes[-1]))
        path.append(step)
        chosen = step.attributes
        if best is None or step.score > best.score:
            best, since_best = step, 0
        else:
            since_best += 1
        if progress is not None:
            progress.update(min(0.9, len(path) / n_attributes), f"held-out separation: {len(chosen)} attributes")
            progress.check()
    threshold = best.score - n_se * best.se
    current = list(best.attributes)
    removed = []
    while len(current) > 1:
        trials = list(zip(pool.map(scorer, [tuple(a for a in current if a != r) for r in current]), current))
        step, r = max(trials, key=lambda t: (t[0].score, t[1]))
        if step.score < threshold:
            break
        current.remove(r)
        removed.append((r, step.score))
    final = scorer(tuple(current))
    return Recommendation(attributes=tuple(sorted(current)), score=final.score, threshold=threshold,
                          best=best, path=path, removed=removed, evaluated=len(scorer.cache))
