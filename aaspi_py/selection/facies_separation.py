"""The recommended attribute combination: held-out separation of the facies, with parsimony.

The notes' O_n averages Bhattacharyya distances over *cluster* pairs. A facies-independent
attribute that is not Gaussian (Student t, uniform, skewed, bimodal, ±1) is split into two
clusters per facies, and the distances between different facies' halves look like
separation; a redundant attribute raises O_n too. The recommendation therefore measures
separation at the level of the facies, on voxels the mixtures did not see:

* **criterion**: the held-out log posterior of the true facies, log p(m | x) = log f_m(x) −
  log Σ_m' f_m'(x) with equal priors, where f_m is facies m's mixture fitted on the other
  folds (K and covariance model as BIC chose them for O_n on all the facies' voxels, or by
  BIC on the fold's rest for a set the O_n search did not fit). Folds are whole polygons for
  a facies drawn in several polygons, else spatial blocks of the voxels' positions, else
  seeded random voxels (:func:`assign_folds`): neighbouring voxels share their attribute
  windows, so random voxels held out next to fitted ones would overstate what a set
  generalises. Each facies counts equally (mean of the per-facies means), and a voxel counts
  at most ``log(POSTERIOR_FLOOR)`` against a set, so a handful of voxels far outside every
  mixture cannot decide the choice. An attribute with the same law in every facies leaves
  log p(m | x) unchanged in expectation, whatever its shape; on held-out voxels it can only
  cost (the mixtures overfit it).
* **search**: forward selection (add the attribute that raises the criterion most; stop after
  ``PATIENCE`` steps without a new best), then backward elimination from the parsimonious set.
* **parsimony rule**: from the best set on the forward path, backward elimination: drop the
  attribute whose removal leaves the highest criterion, as long as the set without it is not
  clearly worse than the best: its log posterior within ``n_se`` standard errors of the
  difference (paired over the same held-out voxels, with spatial blocks or polygons as the
  units, so correlated neighbours are not counted as independent evidence), or its held-out
  accuracy less than ``min_gain`` (one point by default) below the best's. An attribute stays
  only if it adds both a detectable and a practically useful separation. Redundant
  attributes picked early (the best single proxy for two informative ones) leave here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

POSTERIOR_FLOOR = 1e-3
SPATIAL_BLOCKS = 16
PATIENCE = 2
CRITERION = ("held-out log posterior of the true facies (equal priors, mean over facies, each voxel "
             f"floored at log {POSTERIOR_FLOOR:g}), {{folds}}-fold cross-validation; forward selection, "
             "then backward elimination from the best set while the set stays within {n_se:g} standard "
             "error(s) of the paired difference to the best, or loses less than {min_gain:.3g} of held-out accuracy")


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


def assign_folds(facies_index: np.ndarray, polygon: np.ndarray, n_folds: int, seed: int,
                 positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Fold of every voxel (0 … n_folds − 1), its spatial block, and how each facies was split.

    Neighbouring voxels of a seismic volume are not independent (every attribute is computed
    over a window), so both the folds and the standard error work on *blocks* of voxels:

    * a facies with two or more polygons: a block is a polygon; its polygons, in a seeded
      random order, are dealt to min(n_folds, n_polygons) folds, so no polygon is split;
    * else, when the voxels' positions are known and spread over at least ``n_folds``
      blocks: ``SPATIAL_BLOCKS`` blocks of about equal counts, cut at the quantiles of inline,
      then of crossline within each (whole columns of samples), dealt in a seeded random order
      to the folds;
    * else: seeded random voxels, each voxel its own block.

    Block numbers are unique across facies.
    """
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(facies_index), dtype=np.int64)
    block = np.zeros(len(facies_index), dtype=np.int64)
    how = []
    next_block = 0
    for m in range(int(facies_index.max()) + 1):
        where = np.flatnonzero(facies_index == m)
        polys = np.unique(polygon[where])
        polys = polys[polys >= 0]
        pos = None if positions is None else positions[where]
        if len(polys) >= 2:
            k = min(n_folds, len(polys))
            for i, p in enumerate(rng.permutation(polys)):
                fold[where[polygon[where] == p]] = i % k
            _, local = np.unique(polygon[where], return_inverse=True)
            how.append(f"whole polygons ({len(polys)} in {k} folds)")
        elif (pos is not None and np.isfinite(pos[:, :2]).all() and len(where) >= SPATIAL_BLOCKS * 2
              and (local := _spatial_blocks(pos, SPATIAL_BLOCKS)).max() + 1 >= n_folds):
            order = rng.permutation(int(local.max()) + 1)
            fold[where] = order[local] % n_folds
            how.append(f"spatial blocks ({int(local.max()) + 1} in {n_folds} folds)")
        else:
            local = rng.permutation(len(where))
            fold[where] = local % n_folds
            how.append(f"random voxels ({n_folds} folds)")
        block[where] = next_block + local
        next_block += int(local.max()) + 1
    return fold, block, how


def _spatial_blocks(pos: np.ndarray, count: int) -> np.ndarray:
    """Blocks of about equal voxel counts: inline quantile slabs, each cut by crossline quantiles."""
    side = max(1, int(round(math.sqrt(count))))
    out = np.empty(len(pos), dtype=np.int64)
    slab = _quantile_bins(pos[:, 0], side)
    for s in range(side):
        sel = np.flatnonzero(slab == s)
        out[sel] = s * side + _quantile_bins(pos[sel, 1], side)
    return np.unique(out, return_inverse=True)[1]


def _quantile_bins(v: np.ndarray, n: int) -> np.ndarray:
    """Bin of each value among n bins of about equal counts (ties stay in one bin)."""
    if not len(v):
        return np.zeros(0, dtype=np.int64)
    edges = np.quantile(v, np.linspace(0, 1, n + 1)[1:-1])
    return np.searchsorted(edges, v, side="right")


def _block_se(values: np.ndarray, block: np.ndarray) -> float:
    """Standard error of the mean of ``values`` when voxels of one block are correlated.

    The cluster-robust (sandwich) variance over blocks: Σ_j n_j² (b_j − mean)² / N² × J/(J−1),
    b_j the block means. With one voxel per block it is the usual var/N (times N/(N−1)).
    """
    ids, inv = np.unique(block, return_inverse=True)
    if len(ids) < 2:  # no spread to measure: the accuracy rule alone decides (see _search)
        return 0.0
    mean = values.mean()
    sums = np.bincount(inv, weights=values - mean)
    return float(math.sqrt((sums**2).sum() * len(ids) / (len(ids) - 1)) / len(values))


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
    removed: list[tuple[int, float, float]] = field(default_factory=list)  # attribute, score, accuracy without it
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
                 fit: Callable, block_of: list[np.ndarray] | None = None) -> None:
        self.facies_x = facies_x
        self.fold_of = fold_of
        self.block_of = block_of or [np.arange(len(x)) for x in facies_x]
        self.n_folds = n_folds
        self.fit = fit
        self.cache: dict[tuple[int, ...], Step] = {}
        self.voxels: dict[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]] = {}

    def __call__(self, cols: tuple[int, ...]) -> Step:
        key = tuple(sorted(cols))
        if key in self.cache:
            return Step(tuple(cols), *self._fields(self.cache[key]))
        m_count = len(self.facies_x)
        arr = np.asarray(key, dtype=np.int64)
        per_facies = [[] for _ in range(m_count)]
        blocks = [[] for _ in range(m_count)]
        hits = [[] for _ in range(m_count)]
        for f in range(self.n_folds):
            if not any((fo == f).any() for fo in self.fold_of):
                continue
            fits = [self.fit(f, m, arr) for m in range(m_count)]
            for m in range(m_count):
                in_fold = self.fold_of[m] == f
                held = self.facies_x[m][in_fold]
                if not len(held):
                    continue
                ld = np.column_stack([log_density(fit, held[:, arr]) for fit in fits])
                top = ld.max(axis=1, keepdims=True)
                lse = (top + np.log(np.exp(ld - top).sum(axis=1, keepdims=True)))[:, 0]
                per_facies[m].append(np.maximum(ld[:, m] - lse, math.log(POSTERIOR_FLOOR)))
                blocks[m].append(self.block_of[m][in_fold])
                hits[m].append(ld.argmax(axis=1) == m)
        lp = [(np.concatenate(p), np.concatenate(b)) for p, b in zip(per_facies, blocks) if p]
        self.voxels[key] = lp
        score = float(np.mean([p.mean() for p, _ in lp]))
        se = float(math.sqrt(sum(_block_se(p, b) ** 2 for p, b in lp)) / len(lp))
        acc = float(np.mean([np.concatenate(h).mean() for h in hits if h]))
        step = Step(key, score, se, acc)
        self.cache[key] = step
        return Step(tuple(cols), score, se, acc)

    def difference_se(self, a: tuple[int, ...], b: tuple[int, ...]) -> float:
        """Standard error of score(a) − score(b), paired over the same held-out voxels.

        Both sets are scored on the same voxels, so what the voxels share (how hard each one
        is) cancels; blocks stay the units (cluster-robust), as for :attr:`Step.se`.
        """
        self(a), self(b)
        va, vb = self.voxels[tuple(sorted(a))], self.voxels[tuple(sorted(b))]
        return float(math.sqrt(sum(_block_se(pa - pb, block) ** 2 for (pa, block), (pb, _) in zip(va, vb)))
                     / len(va))

    @staticmethod
    def _fields(step: Step) -> tuple[float, float, float]:
        return step.score, step.se, step.accuracy


def recommend(scorer: HeldOutScorer, n_attributes: int, n_se: float = 1.0, progress=None,
              n_jobs: int = 1, min_gain: float = 0.01) -> Recommendation:
    """Forward selection, then backward elimination while a set is not clearly worse (module docstring).

    The candidate sets of one step are scored in ``n_jobs`` threads (the fits release the GIL).
    """
    pool = ThreadPoolExecutor(max_workers=n_jobs)
    try:
        return _search(scorer, n_attributes, n_se, progress, pool, min_gain)
    finally:
        pool.shutdown(cancel_futures=True)


def _search(scorer, n_attributes, n_se, progress, pool, min_gain) -> Recommendation:
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
    current = list(best.attributes)
    removed = []
    while len(current) > 1:
        trials = list(zip(pool.map(scorer, [tuple(a for a in current if a != r) for r in current]), current))
        trials.sort(key=lambda t: (t[0].score, t[1]), reverse=True)
        step, r = trials[0]
        band = best.score - n_se * scorer.difference_se(step.attributes, best.attributes)
        if step.score < band and best.accuracy - step.accuracy >= min_gain:
            break
        current.remove(r)
        removed.append((r, step.score, step.accuracy))
    final = scorer(tuple(current))
    threshold = best.score - n_se * scorer.difference_se(final.attributes, best.attributes)
    return Recommendation(attributes=tuple(sorted(current)), score=final.score, threshold=threshold,
                          best=best, path=path, removed=removed, evaluated=len(scorer.cache))
