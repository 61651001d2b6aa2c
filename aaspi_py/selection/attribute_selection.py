"""Which attributes separate the facies: Gaussian mixtures and Bhattacharyya distances.

For every attribute combination a (all 2^N − 1 subsets, or a search strategy for large N)
and every facies, Gaussian mixtures of 1 … ``max_clusters`` clusters and each covariance
model are fitted to that facies' training voxels in that subspace (k-means → SEM → CEM,
:mod:`aaspi_py.mixture.em`); the one with the highest BIC = log L − ½ p log V (course-notes
eq. 6, **higher is better**) represents the facies. The **average cumulative distance** of a
is the mean Bhattacharyya distance (eq. 7) over its cluster pairs — pairs from different
facies (``pairs="between"``) or every pair of its J clusters (``"all"``, J(J − 1)/2 as the
notes count them). O_n is its maximum over the combinations of n attributes and the notes'
best combination the argmax over n (eq. 9).

Normalisation of O_n: the notes' eq. 8 is garbled; we average over the cluster pairs of one
combination and take the maximum over the combinations of size n. The further division by
A_n (the number of combinations of size n) and M² J K that eq. 8 seems to show is dropped: it
would rescale each O_n by a constant of n that changes the argmax over n without measuring
separation.

Beyond the notes: O_n is a mean over a number of cluster pairs that changes with the
combination, and a facies-independent attribute that is not Gaussian is split into clusters
whose cross-facies distances look like separation, so argmax O_n often holds noise or
redundant attributes. The **recommended** combination is chosen instead on the held-out
separation of the facies themselves (:mod:`aaspi_py.selection.facies_separation`: held-out log
posterior of the true facies, cross-validated by polygon, smallest set within one standard
error of the best). The best combination of each n is also validated on held-out training
voxels (whole polygons where a facies has several).

Degenerate attributes (near-constant, near-discrete, heavy outliers) are flagged and tamed
before fitting (:mod:`aaspi_py.selection.attribute_checks`). Attributes are then standardised with the
pooled training mean and standard deviation (the distances do not change; the numerics do).
Everything is seeded.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.mixture import em as gmm_em
from aaspi_py.mixture.bhattacharyya import bhattacharyya, log_det
from aaspi_py.mixture.covariance_models import (
    CONTAINS,
    FITTING_ORDER,
    MODELS,
    model_code,
    n_parameters,
)
from aaspi_py.selection.attribute_checks import (
    AttributeCheck,
    check_attributes,
    outlier_voxels,
    variance_floor,
)
from aaspi_py.selection.facies_separation import (
    CRITERION,
    HeldOutScorer,
    Recommendation,
    assign_folds,
    log_density,
    recommend,
)
from aaspi_py.training.training_set import TrainingSet

STRATEGIES = ("auto", "exhaustive", "screen")
#: ``strategy="auto"`` screens instead of enumerating from this many attributes on
AUTO_SCREEN_FROM = 12
#: beyond this many subsets the screen scores a beam of subsets instead of all of them
MAX_SCREENED_SUBSETS = 1 << 20
PAIRS = ("between", "all")
NORMALISATION = (
    "O_n = max over the combinations a of n attributes of the mean Bhattacharyya distance over "
    "the cluster pairs of a (pairs: {pairs}); the notes' extra division by A_n, M^2 and J K "
    "(garbled eq. 8) is not applied."
)
BIC_NOTE = "BIC = log L - 1/2 p log V (course-notes eq. 6): higher is better (scikit-learn's sign is opposite)."


# ---------------------------------------------------------------- results

@dataclass
class FaciesFit:
    """The mixture that represents one facies in one attribute combination (standardised units)."""

    n_clusters: int
    model: str
    bic: float
    log_likelihood: float
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


@dataclass
class Combination:
    """One attribute combination (0-based attribute indices) and its score."""

    attributes: tuple[int, ...]
    score: float
    n_clusters: int
    n_pairs: int
    fits: list[FaciesFit]


@dataclass
class SelectionResult:
    """What :func:`select_attributes` found.

    ``by_n[n]`` holds, for each number of attributes n: ``attributes`` (names of the best
    combination), ``indices`` (0-based), ``score`` (O_n), ``n_combinations`` (evaluated
    exactly), ``n_possible`` (C(N, n)), ``n_clusters`` and ``n_comparisons`` (summed over the
    evaluated combinations), ``validation_accuracy`` and ``confusion`` (rows: true facies).
    ``recommendation`` holds the held-out criterion's path and choice, ``checks`` what the
    degenerate-attribute checks found.
    """

    attributes: list[str]
    facies: list[str]
    combinations: list[Combination]
    by_n: dict[int, dict]
    best_n: int
    recommendation: Recommendation
    checks: list[AttributeCheck]
    strategy: str
    strategy_detail: str
    pairs: str
    mean: np.ndarray
    std: np.ndarray
    counts: dict[str, int]
    validation: dict
    parameters: dict
    seconds: float = 0.0
    screen_scores: dict = field(default_factory=dict)

    @property
    def best(self) -> list[str]:
        """The notes' answer: the best combination of the n with the largest O_n."""
        return self.by_n[self.best_n]["attributes"]

    @property
    def recommended(self) -> list[str]:
        """The combination chosen on held-out facies separation (attribute order)."""
        return [self.attributes[a] for a in self.recommendation.attributes]

    @property
    def recommended_n(self) -> int:
        return len(self.recommendation.attributes)

    @property
    def warnings(self) -> list[str]:
        """One line per degenerate attribute."""
        return [w for w in (c.warning() for c in self.checks) if w]

    def combination(self, attributes) -> Combination:
        """The evaluated combination with these attribute names or indices."""
        idx = tuple(sorted(self.attributes.index(a) if isinstance(a, str) else int(a) for a in attributes))
        for c in self.combinations:
            if c.attributes == idx:
                return c
        raise KeyError(f"combination {attributes} was not evaluated")

    @property
    def normalisation(self) -> str:
        return NORMALISATION.format(pairs=self.pairs)


# ---------------------------------------------------------------- per-facies data

class _Facies:
    """One facies' standardised voxels, their quadratic features and the SEM sample and noise."""

    def __init__(self, x: np.ndarray, sem_sample: int, sem_iterations: int, use_sem: bool,
                 max_clusters: int, rng: np.random.Generator) -> None:
        self.x = np.ascontiguousarray(x)
        self.n = len(x)
        self.phi = gmm_em.quadratic_features(self.x)
        self.phi_sum = self.phi.sum(axis=1)
        self.mean = self.x.mean(axis=0)
        centred = self.x - self.mean
        self.scatter = centred.T @ centred
        self.sem_index = None
        if use_sem and sem_sample and self.n > sem_sample:
            self.sem_index = np.sort(rng.choice(self.n, sem_sample, replace=False))
        n_sem = self.n if self.sem_index is None else len(self.sem_index)
        self.phi_sem = self.phi if self.sem_index is None else np.ascontiguousarray(self.phi[:, self.sem_index])
        self.phi_sem_sum = self.phi_sem.sum(axis=1)
        # one draw of SEM noise per number of clusters, shared by every combination and model
        self.noise = {k: rng.gumbel(size=(sem_iterations if use_sem else 0, n_sem, k))
                      for k in range(2, max_clusters + 1)}


@dataclass
class _Settings:
    max_clusters: int
    models: tuple[int, ...]
    use_sem: bool
    cem_max_iterations: int
    reg_covar: np.ndarray  # per attribute, standardised units
    bic_pruning: bool
    n_attributes: int
    _cache: dict = field(default_factory=dict)

    def n_params(self, code: int, d: int, k: int) -> int:
        key = (code, d, k)
        if key not in self._cache:
            self._cache[key] = n_parameters(MODELS[code], d, k)
        return self._cache[key]

    def fitting_order(self, d: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model codes with containing models first, their parameter counts, and who contains whom."""
        key = ("order", d, k)
        if key not in self._cache:
            order = sorted(self.models, key=lambda c: FITTING_ORDER.index(MODELS[c]))
            names = [MODELS[c] for c in order]
            contained = np.array([[a in CONTAINS[b] for b in names] for a in names], dtype=np.bool_)
            self._cache[key] = (np.array(order, dtype=np.int64),
                                np.array([self.n_params(c, d, k) for c in order], dtype=np.float64),
                                contained)
        return self._cache[key]


_SHAPE = {"EII": 0, "VII": 0, "EEI": 1, "VVI": 1, "EVI": 1}  # others: full (2)


def _one_cluster_fits(fd: _Facies, cols: np.ndarray, st: _Settings) -> list[tuple[float, int, FaciesFit]]:
    """Closed-form K = 1 fits of every model from the facies' sufficient statistics.

    With one cluster the nine models reduce to three covariances: λI (EII, VII), a diagonal
    (EEI, VVI, EVI) and a full one (EEE, EEV, EVV, VVV); they differ only in their BIC.
    """
    d = len(cols)
    n = fd.n
    w = fd.scatter[np.ix_(cols, cols)]
    full = w / n + np.diag(st.reg_covar[cols])
    shapes = np.stack([np.eye(d) * np.trace(full) / d, np.diag(np.diag(full)), full])
    sign, logdet = np.linalg.slogdet(shapes)
    trace = np.trace(np.linalg.solve(shapes, np.broadcast_to(w, shapes.shape)), axis1=1, axis2=2)
    ll = -0.5 * (n * d * math.log(2 * math.pi) + n * logdet + trace)
    out = []
    for code in st.models:
        name = MODELS[code]
        shape = _SHAPE.get(name, 2)
        if sign[shape] <= 0:
            continue
        bic = ll[shape] - 0.5 * st.n_params(code, d, 1) * math.log(n)
        out.append((bic, code, FaciesFit(1, name, bic, float(ll[shape]), np.ones(1), fd.mean[cols][None].copy(),
                                         shapes[shape][None].copy())))
    return out


def _fit_facies(fd: _Facies, cols: np.ndarray, st: _Settings, counts: dict,
                only: tuple[int, str] | None = None) -> FaciesFit:
    """The best mixture (by BIC) of one facies in the subspace ``cols``.

    ``only`` = (K, model): fit that one mixture (the choice BIC made on all the facies'
    voxels), or, should it degenerate on these voxels, choose again among all.
    """
    d = len(cols)
    candidates = _one_cluster_fits(fd, cols, st)
    if only is not None:
        if only[0] == 1:
            return next((c[2] for c in candidates if MODELS[c[1]] == only[1]), None) or \
                _fit_facies(fd, cols, st, counts)
        candidates = []
    floor = max((c[0] for c in candidates), default=-np.inf)
    rows = gmm_em.feature_rows(cols, st.n_attributes)
    phi = np.ascontiguousarray(fd.phi[rows])
    phi_sum = fd.phi_sum[rows]
    if fd.sem_index is None:
        phi_sem, phi_sem_sum = phi, phi_sum
    else:
        phi_sem = np.ascontiguousarray(fd.phi_sem[rows])
        phi_sem_sum = fd.phi_sem_sum[rows]
    no_init = (np.zeros(0), np.zeros((0, d)), np.zeros((0, d, d)))
    for k in range(2, st.max_clusters + 1) if only is None else (only[0],):
        if fd.n < k * (d + 1):
            continue
        sem = st.use_sem and fd.noise[k].shape[0] > 0
        start_phi, start_sum = (phi_sem, phi_sem_sum) if sem else (phi, phi_sum)
        labels = gmm_em.kmeans_pca_labels(start_phi, start_sum, d, k, 300)
        # containing models first: their likelihoods bound the others' (BIC pruning)
        codes, n_par, contained = st.fitting_order(d, k)
        if only is not None:
            keep = np.array([MODELS[c] == only[1] for c in codes.tolist()])
            codes, n_par, contained = codes[keep], n_par[keep], contained[np.ix_(keep, keep)]
        algorithm = gmm_em.SEM_CEM if sem else gmm_em.CEM
        w, m, c, ll, status, _, _ = gmm_em.fit_mixtures(
            phi, phi_sum, phi_sem, phi_sem_sum, d, codes, k, labels, *no_init, fd.noise[k],
            algorithm, st.cem_max_iterations, 1e-3, np.ascontiguousarray(st.reg_covar[cols]), d + 1, n_par,
            floor if st.bic_pruning and only is None else -np.inf, contained)
        for i, code in enumerate(codes.tolist()):
            if status[i] == gmm_em.PRUNED:
                counts["pruned"] += 1
                continue
            counts["fitted"] += 1
            if status[i] == gmm_em.DEGENERATE or not np.isfinite(ll[i]):
                counts["degenerate"] += 1
                continue
            bic = ll[i] - 0.5 * n_par[i] * math.log(fd.n)
            candidates.append((bic, code, FaciesFit(k, MODELS[code], bic, float(ll[i]), w[i], m[i], c[i])))
            floor = max(floor, bic)
    if not candidates and only is not None:
        return _fit_facies(fd, cols, st, counts)
    if not candidates:
        raise AaspiError("No Gaussian mixture could be fitted; check the training voxels for NaN values.")
    # highest BIC; ties (e.g. EII and VII with one cluster) go to the simpler model
    best = max(candidates, key=lambda t: (t[0], -t[2].n_clusters, -MODELS.index(t[2].model)))
    return best[2]


def _score(fits: list[FaciesFit], pairs: str) -> tuple[float, int, int]:
    """Average cumulative distance of a combination, its cluster count and its pair count."""
    facies = np.concatenate([[m] * f.n_clusters for m, f in enumerate(fits)])
    means = np.concatenate([f.means for f in fits])
    covs = np.concatenate([f.covariances for f in fits])
    j, k = np.triu_indices(len(facies), 1)
    if pairs == "between":
        keep = facies[j] != facies[k]
        j, k = j[keep], k[keep]
    if len(j) == 0:
        return 0.0, len(facies), 0
    ld = log_det(covs)
    dist = bhattacharyya(means[j], covs[j], means[k], covs[k], log_det1=ld[j], log_det2=ld[k])
    return float(dist.mean()), len(facies), len(j)


def _evaluate(facies: list[_Facies], combos: list[tuple[int, ...]], st: _Settings, pairs: str,
              n_jobs: int, progress, counts: dict, label: str) -> list[Combination]:
    """Fit every facies in every combination (in parallel threads) and score the combinations."""
    if not combos:
        return []

    def work(chunk):
        local = {"fitted": 0, "pruned": 0, "degenerate": 0}
        out = []
        for combo in chunk:
            cols = np.asarray(combo, dtype=np.int64)
            fits = [_fit_facies(fd, cols, st, local) for fd in facies]
            score, n_clusters, n_pairs = _score(fits, pairs)
            out.append(Combination(tuple(combo), score, n_clusters, n_pairs, fits))
        return out, local

    # small chunks, larger combinations first, so the threads finish together
    ordered = sorted(combos, key=len, reverse=True)
    size = max(1, min(32, len(ordered) // (8 * n_jobs) or 1))
    chunks = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    results: list[Combination] = []
    done = 0
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        futures = [pool.submit(work, ch) for ch in chunks]
        try:
            for fut in futures:
                out, local = fut.result()
                results.extend(out)
                for key in local:
                    counts[key] += local[key]
                done += len(out)
                if progress is not None:
                    progress.update(done / len(ordered), f"{label}: {done}/{len(ordered)} combinations")
                    progress.check()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return results


# ---------------------------------------------------------------- screening (large N)

def _marginal_scores(full_fits: list[FaciesFit], subsets: np.ndarray, pairs: str) -> np.ndarray:
    """Scores of many subsets (rows of 0-based indices, one size) from the marginals of full fits.

    The marginal of a Gaussian mixture on a subset of attributes is exact: same weights,
    sub-vectors of the means and sub-blocks of the covariances.
    """
    facies = np.concatenate([[m] * f.n_clusters for m, f in enumerate(full_fits)])
    means = np.concatenate([f.means for f in full_fits])
    covs = np.concatenate([f.covariances for f in full_fits])
    j, k = np.triu_indices(len(facies), 1)
    if pairs == "between":
        keep = facies[j] != facies[k]
        j, k = j[keep], k[keep]
    n = subsets.shape[1]
    out = np.empty(len(subsets))
    block = max(1, int(2e7 // max(1, len(facies) * n * n)))
    for s in range(0, len(subsets), block):
        idx = subsets[s:s + block]
        mu = means[:, idx].transpose(1, 0, 2)                                      # (B, J, n)
        cv = covs[:, idx[:, :, None], idx[:, None, :]].transpose(1, 0, 2, 3)      # (B, J, n, n)
        ld = log_det(cv)
        dist = bhattacharyya(mu[:, j], cv[:, j], mu[:, k], cv[:, k], log_det1=ld[:, j], log_det2=ld[:, k])
        out[s:s + block] = dist.mean(axis=1) if len(j) else 0.0
    return out


def _screen(facies: list[_Facies], st: _Settings, pairs: str, top: int, progress, counts: dict) -> tuple[list[tuple[int, ...]], str, dict]:
    """Candidates per n from the exact marginals of full-dimensional mixtures."""
    n_attr = st.n_attributes
    all_cols = np.arange(n_attr)
    full = [_fit_facies(fd, all_cols, st, counts) for fd in facies]
    n_subsets = (1 << n_attr) - 1
    candidates: list[tuple[int, ...]] = []
    scores: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if n_subsets <= MAX_SCREENED_SUBSETS:
        how = f"marginal scores of all {n_subsets} combinations"
        for n in range(1, n_attr + 1):
            subsets = np.array(list(combinations(range(n_attr), n)), dtype=np.int64)
            s = _marginal_scores(full, subsets, pairs)
            scores[n] = (subsets, s)
            if progress is not None:
                progress.update(0.1 * n / n_attr, f"screening {n}-attribute combinations")
                progress.check()
    else:
        width = max(64, 4 * top)
        how = f"marginal scores along a beam of width {width}"
        beam = np.arange(n_attr)[:, None]
        for n in range(1, n_attr + 1):
            if n > 1:
                ext = {tuple(sorted((*row, a))) for row in beam.tolist() for a in range(n_attr) if a not in row}
                beam = np.array(sorted(ext), dtype=np.int64)
            s = _marginal_scores(full, beam, pairs)
            keep = np.argsort(-s, kind="stable")[:width]
            beam = beam[keep]
            scores[n] = (beam, s[keep])
            if progress is not None:
                progress.update(0.1 * n / n_attr, f"beam over {n}-attribute combinations")
                progress.check()
    for subsets, s in scores.values():
        for i in np.argsort(-s, kind="stable")[:top]:
            candidates.append(tuple(int(a) for a in subsets[i]))
    detail = (f"screen: {how} from full-dimensional mixtures (exact marginals), then exact fits "
              f"of the top {top} per n ({len(candidates)} combinations)")
    best_marginal = {n: (tuple(int(a) for a in sub[np.argmax(s)]), float(s.max())) for n, (sub, s) in scores.items()}
    return candidates, detail, best_marginal


# ---------------------------------------------------------------- validation

def validation_split(training: TrainingSet, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out voxels: whole polygons where a facies has several, else random.

    For a facies with two or more polygons, polygons are held out in a seeded random order
    until at least ``fraction`` of its voxels are held out, always keeping one polygon for
    fitting; otherwise a seeded random ``fraction`` of its voxels.
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(len(training), dtype=bool)
    if fraction <= 0:
        return held
    for m in range(training.n_facies):
        where = np.flatnonzero(training.facies_index == m)
        polys = np.unique(training.polygon[where])
        polys = polys[polys >= 0]
        if len(polys) >= 2:
            order = rng.permutation(polys)
            target = fraction * len(where)
            taken = 0
            for p in order[:-1]:
                sel = where[training.polygon[where] == p]
                held[sel] = True
                taken += len(sel)
                if taken >= target:
                    break
        else:
            n_out = int(round(fraction * len(where)))
            n_out = min(n_out, len(where) - 2)
            if n_out > 0:
                held[rng.choice(where, n_out, replace=False)] = True
    return held


def classify(fits: list[FaciesFit], x: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Facies of maximum posterior (log prior + mixture log-density) for standardised voxels."""
    scores = np.column_stack([log_density(f, x) + math.log(max(p, 1e-300)) for f, p in zip(fits, priors)])
    return scores.argmax(axis=1)


def _validate(facies_x: list[np.ndarray], held: list[np.ndarray], cols: tuple[int, ...],
              st: _Settings, seeds: tuple[int, int, int, int]) -> dict:
    """Fit the facies on the kept voxels of a combination and classify the held-out ones."""
    sem_sample, sem_iterations, max_clusters, seed = seeds
    rng = np.random.default_rng(seed)
    cols_arr = np.asarray(cols, dtype=np.int64)
    fits, priors = [], []
    counts = {"fitted": 0, "pruned": 0, "degenerate": 0}
    for x, h in zip(facies_x, held):
        fd = _Facies(x[~h], sem_sample, sem_iterations, st.use_sem, max_clusters, rng)
        fits.append(_fit_facies(fd, cols_arr, st, counts))
        priors.append((~h).sum())
    priors = np.asarray(priors, float) / sum(priors)
    m = len(facies_x)
    confusion = np.zeros((m, m), dtype=np.int64)
    for true, (x, h) in enumerate(zip(facies_x, held)):
        if h.any():
            pred = classify(fits, x[h][:, cols_arr], priors)
            confusion[true] += np.bincount(pred, minlength=m)
    total = confusion.sum()
    return {"accuracy": float(np.trace(confusion) / total) if total else None,
            "confusion": confusion.tolist()}


# ---------------------------------------------------------------- the search

def select_attributes(
    training: TrainingSet | str | os.PathLike,
    *,
    max_clusters: int = 2,
    use_sem: bool = True,
    sem_iterations: int = 200,
    sem_sample: int = 256,
    cem_max_iterations: int = 100,
    models=MODELS,
    pairs: str = "between",
    folds: int = 3,
    n_se: float = 1.0,
    min_gain: float = 0.01,
    validation_fraction: float = 0.3,
    seed: int = 0,
    strategy: str = "auto",
    screen_top: int = 10,
    bic_pruning: bool = True,
    reg_covar: float = 1e-6,
    n_jobs: int | None = None,
    progress=None,
) -> SelectionResult:
    """Find the attribute combination that best separates the facies of a training set.

    Parameters
    ----------
    training : TrainingSet, or a training-set folder or CSV table (``facies`` column plus
        one column per attribute)
    max_clusters : int
        Largest number of Gaussian clusters per facies (K = 1 … max_clusters, by BIC).
    use_sem, sem_iterations, sem_sample
        Run SEM before CEM, for this many iterations, on a seeded sample of at most
        ``sem_sample`` voxels per facies (CEM and the BIC always use every voxel).
    cem_max_iterations : int
        Cap on CEM iterations (CEM otherwise runs until the partition stops changing).
    models : sequence of str
        Covariance models among :data:`aaspi_py.mixture.covariance_models.MODELS`.
    pairs : {"between", "all"}
        Cluster pairs averaged: from different facies only, or every pair.
    folds : int
        Cross-validation folds of the held-out criterion that chooses the recommended
        combination (whole polygons where a facies has several).
    n_se, min_gain : float
        Parsimony: an attribute of the best set is dropped while the set without it stays
        within ``n_se`` standard errors of the paired difference to the best held-out
        criterion, or loses less than ``min_gain`` of held-out accuracy
        (:mod:`aaspi_py.selection.facies_separation`).
    validation_fraction : float
        Share of each facies held out to validate the best combination of each n (0: skip).
    seed : int
        Seeds the SEM samples and draws and the validation split.
    strategy : {"auto", "exhaustive", "screen"}
        ``exhaustive`` fits all 2^N − 1 combinations; ``screen`` scores every combination by
        the exact marginals of full-dimensional mixtures (a beam of them beyond 2^20) and fits
        the top ``screen_top`` per n exactly; ``auto`` screens from N = 12 on.
    bic_pruning : bool
        Skip a covariance model when its BIC could not beat the best so far even with the
        likelihood of the fitted models that contain it (VVV contains all; VVI the diagonal
        ones; see :func:`aaspi_py.mixture.em.fit_mixtures`). Exact when the containing fits reach
        their maximum likelihood; the recommendation is unchanged in the benchmark and tests, the
        notes' best can change on non-Gaussian attributes (the containing fits are local optima).
    n_jobs : int or None
        Threads (None or 0: one per core).
    progress : optional :class:`aaspi_py.Progress`

    Returns
    -------
    SelectionResult
    """
    t0 = time.perf_counter()
    if not isinstance(training, TrainingSet):
        training = TrainingSet.load(training)
    n_attr, n_fac = training.n_attributes, training.n_facies
    if n_fac < 2:
        raise AaspiError(f"Attribute selection needs at least two facies; the training set has {n_fac}.")
    if n_attr < 1:
        raise AaspiError("The training set has no attributes.")
    if strategy not in STRATEGIES:
        raise AaspiError(f"Unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    if pairs not in PAIRS:
        raise AaspiError(f"Unknown pairs {pairs!r}; use 'between' or 'all'.")
    codes = tuple(dict.fromkeys(model_code(m) for m in models))
    if not codes:
        raise AaspiError("No covariance model given; use some of " + ", ".join(MODELS) + ".")
    values = training.values
    if not np.isfinite(values).all():
        bad = training.attributes[int(np.flatnonzero(~np.isfinite(values).all(axis=0))[0])]
        raise AaspiError(f"Training voxels hold NaN or infinite values in attribute '{bad}'; "
                         "remove them (e.g. dead traces) and rebuild the training set.")
    for m, name in enumerate(training.facies):
        if (training.facies_index == m).sum() < 2:
            raise AaspiError(f"Facies '{name}' has fewer than 2 training voxels; draw larger polygons.")
    if folds < 2:
        raise AaspiError(f"The 'folds' parameter of attribute_selection must be at least 2. Got {folds} instead.")
    n_jobs = n_jobs or os.cpu_count() or 1
    if strategy == "auto":
        strategy = "screen" if n_attr >= AUTO_SCREEN_FROM else "exhaustive"

    checks = check_attributes(training.attributes, values)
    outliers = outlier_voxels(values, checks)
    if outliers.any():
        training = _subset(training, ~outliers)
        values = training.values
        for m, name in enumerate(training.facies):
            if (training.facies_index == m).sum() < 2:
                raise AaspiError(f"Facies '{name}' keeps fewer than 2 training voxels once the voxels with heavy "
                                 "outliers are left out; check its attribute values (dead traces, spikes).")
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    z = (values - mean) / std
    rng = np.random.default_rng(seed)
    st = _Settings(max_clusters, codes, use_sem, cem_max_iterations, variance_floor(checks, reg_covar, z),
                   bic_pruning, n_attr)
    facies_x = [z[training.facies_index == m] for m in range(n_fac)]
    facies = [_Facies(x, sem_sample, sem_iterations, use_sem, max_clusters, rng) for x in facies_x]
    counts = {"fitted": 0, "pruned": 0, "degenerate": 0}

    screen_scores: dict = {}
    if strategy == "exhaustive":
        combos = [c for n in range(1, n_attr + 1) for c in combinations(range(n_attr), n)]
        detail = f"exhaustive: all {len(combos)} combinations fitted"
        sub = progress.sub(0.0, 0.9) if progress is not None else None
    else:
        combos, detail, screen_scores = _screen(facies, st, pairs, screen_top, progress, counts)
        sub = progress.sub(0.1, 0.9) if progress is not None else None
    combos = list(dict.fromkeys(combos))
    evaluated = _evaluate(facies, combos, st, pairs, n_jobs, sub, counts, "fitting")
    evaluated.sort(key=lambda c: (len(c.attributes), c.attributes))

    by_n: dict[int, dict] = {}
    for n in range(1, n_attr + 1):
        group = [c for c in evaluated if len(c.attributes) == n]
        if not group:
            continue
        top = max(group, key=lambda c: c.score)
        by_n[n] = {"attributes": [training.attributes[a] for a in top.attributes],
                   "indices": list(top.attributes), "score": top.score,
                   "n_combinations": len(group), "n_possible": math.comb(n_attr, n),
                   "n_clusters": int(sum(c.n_clusters for c in group)),
                   "n_comparisons": int(sum(c.n_pairs for c in group)),
                   "validation_accuracy": None, "confusion": None}
    best_n = max(by_n, key=lambda n: (by_n[n]["score"], -n))
    # the cross-validation fits reuse the mixture (K, model) that BIC chose on all the voxels
    chosen = {c.attributes: [(f.n_clusters, f.model) for f in c.fits] for c in evaluated}
    recommendation = _recommend(training, facies_x, st, folds, (n_se, min_gain), chosen, seed,
                                (sem_sample, sem_iterations, max_clusters), counts,
                                progress.sub(0.9, 0.95) if progress is not None else None, n_jobs)

    validation = {"fraction": validation_fraction, "held_out": 0, "method": "none"}
    if validation_fraction > 0:
        held_all = validation_split(training, validation_fraction, seed)
        held = [held_all[training.facies_index == m] for m in range(n_fac)]
        multi = [len(np.unique(training.polygon[training.facies_index == m][training.polygon[training.facies_index == m] >= 0])) >= 2
                 for m in range(n_fac)]
        validation = {"fraction": validation_fraction, "held_out": int(held_all.sum()),
                      "method": ", ".join(f"{f}: {'whole polygons' if mp else 'random voxels'}"
                                          for f, mp in zip(training.facies, multi))}
        if all(h.any() for h in held):
            def validate(n):
                return _validate(facies_x, held, tuple(by_n[n]["indices"]), st,
                                 (sem_sample, sem_iterations, max_clusters, seed + 1))

            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                results = list(zip(sorted(by_n), pool.map(validate, sorted(by_n))))
            for i, (n, res) in enumerate(results):
                by_n[n]["validation_accuracy"] = res["accuracy"]
                by_n[n]["confusion"] = res["confusion"]
                if progress is not None:
                    progress.update(0.95 + 0.05 * (i + 1) / len(by_n), f"validating n = {n}")
                    progress.check()
        else:
            validation["method"] += " (skipped: a facies has too few voxels to hold any out)"

    params = {"max_clusters": max_clusters, "use_sem": use_sem, "sem_iterations": sem_iterations,
              "sem_sample": sem_sample, "cem_max_iterations": cem_max_iterations,
              "models": [MODELS[c] for c in codes], "pairs": pairs,
              "folds": folds, "n_se": n_se, "min_gain": min_gain, "validation_fraction": validation_fraction,
              "seed": seed, "strategy": strategy, "screen_top": screen_top, "bic_pruning": bic_pruning,
              "reg_covar": reg_covar}
    return SelectionResult(
        attributes=list(training.attributes), facies=list(training.facies), combinations=evaluated,
        by_n=by_n, best_n=best_n, recommendation=recommendation, checks=checks, strategy=strategy,
        strategy_detail=detail, pairs=pairs,
        mean=mean, std=std, counts=counts, validation=validation, parameters=params,
        seconds=time.perf_counter() - t0, screen_scores=screen_scores)


def _recommend(training: TrainingSet, facies_x: list[np.ndarray], st: _Settings, n_folds: int,
               parsimony: tuple[float, float], chosen: dict,
               seed: int, sem: tuple[int, int, int], counts: dict, progress, n_jobs: int) -> Recommendation:
    """The held-out criterion's choice, with mixtures fitted as for O_n on each fold's rest.

    Where the O_n search fitted a combination, each facies' fold fit is the (K, covariance
    model) that BIC chose there on all the facies' voxels (one fit instead of up to
    2 × 9); other combinations choose by BIC on the fold's rest.
    """
    t0 = time.perf_counter()
    fold, block, how = assign_folds(training.facies_index, training.polygon, n_folds, seed, training.positions)
    fold_of = [fold[training.facies_index == m] for m in range(training.n_facies)]
    block_of = [block[training.facies_index == m] for m in range(training.n_facies)]
    rng = np.random.default_rng(seed + 2)
    rest = {}
    for f in range(n_folds):
        for m, x in enumerate(facies_x):
            keep = fold_of[m] != f
            if keep.sum() < 2:
                raise AaspiError(f"Facies '{training.facies[m]}' has too few training voxels for {n_folds}-fold "
                                 "cross-validation; draw larger polygons or lower 'folds'.")
            rest[f, m] = _Facies(x[keep], sem[0], sem[1], st.use_sem, sem[2], rng)

    lock = threading.Lock()

    def fit(f, m, cols):
        local = {"fitted": 0, "pruned": 0, "degenerate": 0}
        choice = chosen.get(tuple(cols.tolist()))
        out = _fit_facies(rest[f, m], cols, st, local, None if choice is None else choice[m])
        with lock:
            for key, value in local.items():
                counts[key] += value
        return out

    scorer = HeldOutScorer(facies_x, fold_of, n_folds, fit, block_of)
    n_se, min_gain = parsimony
    rec = recommend(scorer, st.n_attributes, n_se, progress, n_jobs, min_gain)
    rec.criterion = CRITERION.format(folds=n_folds, n_se=n_se, min_gain=min_gain)
    rec.folds = [f"{name}: {h}" for name, h in zip(training.facies, how)]
    rec.seconds = time.perf_counter() - t0
    return rec


def subsample(training: TrainingSet, max_voxels: int, seed: int = 0) -> TrainingSet:
    """At most ``max_voxels`` voxels per facies (seeded; order kept), polygons and positions kept."""
    rng = np.random.default_rng(seed)
    keep = []
    for m in range(training.n_facies):
        where = np.flatnonzero(training.facies_index == m)
        keep.append(np.sort(rng.choice(where, max_voxels, replace=False)) if len(where) > max_voxels else where)
    return _subset(training, np.concatenate(keep))


def _subset(training: TrainingSet, keep: np.ndarray) -> TrainingSet:
    """The voxels ``keep`` (indices or mask) of a training set, with their positions and polygons."""
    return TrainingSet(facies=list(training.facies), attributes=list(training.attributes),
                       values=training.values[keep], facies_index=training.facies_index[keep],
                       positions=training.positions[keep], polygon=training.polygon[keep],
                       volumes=list(training.volumes), name=training.name)


def load_training(path: str | os.PathLike, project=None) -> TrainingSet:
    """A training set from a folder name under ``project/training/``, a folder path or a CSV."""
    if project is not None:
        return TrainingSet.load(project.training_set_path(path, "training"))
    if not Path(path).exists():
        raise AaspiError(f"Training set '{path}' not found; give a training set folder (define_training_data) "
                         f"or a CSV table with a facies column and one column per attribute.")
    return TrainingSet.load(path)
