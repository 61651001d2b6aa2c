"""One loop for EM, SEM and CEM on Gaussian mixtures, compiled with numba.

Used by :class:`aaspi_py.mixture.gaussian_mixture.GaussianMixture` (one covariance model) and by the attribute
search (:mod:`aaspi_py.selection.attribute_selection`, the nine models of one facies and one attribute
combination per call). Everything works on *quadratic features*: a voxel x of d attributes
becomes φ(x) = [1, x_1..x_d, x_1²..x_d², x_j x_l (j < l)], so that

* a cluster's log-density log(π_k f(x|μ_k, Σ_k)) is the dot product c_k · φ(x), with
  c_k built once per iteration from (π_k, μ_k, Σ_k);
* the sufficient statistics of a partition (counts, sums, second moments) are sums of φ
  over its voxels.

One iteration is then a few dense passes over a (n_features, n_voxels) array, with no per-voxel
linear algebra. Only the differences c_k − c_K are evaluated per voxel (for K = 2, one dot
product gives both the posterior and, with Σ φ, the log-likelihood); models with equal or
diagonal covariances skip the quadratic or cross terms that cancel or vanish.

Algorithms (``algorithm`` code):

* ``EM`` (0): soft responsibilities, stop when the mean log-likelihood changes by less than
  ``tol`` (scikit-learn's rule, so the two agree from the same start).
* ``CEM`` (1): label = argmax posterior; stop when the partition no longer changes.
* ``SEM_CEM`` (2): SEM (labels drawn from the posteriors with the Gumbel-max trick, given
  pre-drawn noise so that every model and combination shares the same random numbers), the
  iterate with the highest log-likelihood kept, then CEM on all voxels from there.

CEM with two clusters skips voxels whose label provably cannot change: |Δr_i| ≤ ‖φ(x_i)‖ ·
‖Δc‖ by Cauchy–Schwarz, so a voxel is recomputed only once the accumulated change of the
coefficients reaches |r_i| / ‖φ(x_i)‖ (its *slack*); the final log-likelihood is exact over
all voxels. The partition and parameters are the same as with full E-steps.

Hard partitions need at least ``min_count`` voxels per cluster: an SEM draw below it is
rejected (the parameters stay), a CEM partition below it stops the fit at the last valid
parameters with status :data:`DEGENERATE`. ``reg_covar`` (one value per attribute) is added
to every ``W_k/n_k`` diagonal; a covariance that is still not positive definite gets more
jitter. No NaN leaves this module.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from aaspi_py.mixture.covariance_models import E_PART, S_PART, m_step_covariances

EM, CEM, SEM_CEM = 0, 1, 2
#: fit status codes
CONVERGED, MAX_ITER, DEGENERATE, PRUNED = 0, 1, 2, 3

_LOG_2PI = math.log(2.0 * math.pi)
_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}

# log1p(exp(-t)) on [0, 40] with its derivative, for cubic Hermite interpolation
# (error < 1e-13 per voxel); beyond 40 the term is below 5e-18 and dropped.
_SP_STEP = 256.0
_SP_LIMIT = 40.0
_t = np.arange(int(_SP_LIMIT * _SP_STEP) + 2) / _SP_STEP
_SP_F = np.log1p(np.exp(-_t))
_SP_D = -1.0 / (1.0 + np.exp(_t))
del _t


# ---------------------------------------------------------------- features

def n_features(d: int) -> int:
    """Length of φ(x) for d attributes: 1 + 2d + d(d − 1)/2."""
    return 1 + 2 * d + d * (d - 1) // 2


def feature_rows(columns, n_attributes: int) -> np.ndarray:
    """Rows of φ over ``n_attributes`` that make φ over the subset ``columns`` (sorted).

    Lets one feature array per facies serve every attribute combination.
    """
    cols = [int(c) for c in columns]
    n = int(n_attributes)
    rows = [0] + [1 + c for c in cols] + [1 + n + c for c in cols]
    for a in range(len(cols)):
        for b in range(a + 1, len(cols)):
            j, m = cols[a], cols[b]
            rows.append(1 + 2 * n + j * n - j * (j + 1) // 2 + (m - j - 1))
    return np.asarray(rows, dtype=np.int64)


@njit(cache=True, nogil=True)
def quadratic_features(x):
    """φ(x) for every row of ``x`` (n_voxels, d); returns an array (n_features(d), n_voxels)."""
    n, d = x.shape
    phi = np.empty((1 + 2 * d + d * (d - 1) // 2, n))
    for i in range(n):
        phi[0, i] = 1.0
    for j in range(d):
        for i in range(n):
            phi[1 + j, i] = x[i, j]
            phi[1 + d + j, i] = x[i, j] * x[i, j]
    p = 1 + 2 * d
    for j in range(d):
        for m in range(j + 1, d):
            for i in range(n):
                phi[p, i] = x[i, j] * x[i, m]
            p += 1
    return phi


@njit(cache=True, nogil=True)
def _cross_index(d):
    idx = np.zeros((d, d), dtype=np.int64)
    p = 1 + 2 * d
    for j in range(d):
        for m in range(j + 1, d):
            idx[j, m] = p
            idx[m, j] = p
            p += 1
    return idx


# ---------------------------------------------------------------- small linear algebra

@njit(cache=True, nogil=True)
def _cholesky(a, low):
    """Lower Cholesky factor of ``a`` into ``low``; False when ``a`` is not positive definite."""
    d = a.shape[0]
    for j in range(d):
        s = a[j, j]
        for m in range(j):
            s -= low[j, m] * low[j, m]
        if not s > 0.0 or not np.isfinite(s):
            return False
        low[j, j] = np.sqrt(s)
        for i in range(j + 1, d):
            t = a[i, j]
            for m in range(j):
                t -= low[i, m] * low[j, m]
            low[i, j] = t / low[j, j]
        for i in range(j):
            low[i, j] = 0.0
    return True


@njit(cache=True, nogil=True)
def _safe_cholesky(cov, low):
    """Cholesky of ``cov``, adding diagonal jitter (in place) until it is positive definite."""
    if _cholesky(cov, low):
        return True
    d = cov.shape[0]
    scale = 0.0
    for j in range(d):
        scale += abs(cov[j, j])
    scale = max(scale / d, 1e-300)
    jitter = 1e-10 * scale
    for _ in range(40):
        for j in range(d):
            cov[j, j] += jitter
        if _cholesky(cov, low):
            return True
        jitter *= 10.0
    return False


@njit(cache=True, nogil=True)
def _coefficients(weights, means, covs, coef, low, inv, cross):
    """c_k such that c_k · φ(x) = log(π_k f(x | μ_k, Σ_k)); False if a covariance is unusable."""
    k_, d = means.shape
    for k in range(k_):
        if not _safe_cholesky(covs[k], low):
            return False
        logdet = 0.0
        for j in range(d):
            logdet += 2.0 * np.log(low[j, j])
        # inverse of the lower factor, column by column (forward substitution)
        for c in range(d):
            for i in range(c):
                inv[i, c] = 0.0
            inv[c, c] = 1.0 / low[c, c]
            for i in range(c + 1, d):
                s = 0.0
                for m in range(c, i):
                    s -= low[i, m] * inv[m, c]
                inv[i, c] = s / low[i, i]
        # precision = invᵀ inv, only what the features need
        quad = 0.0
        for j in range(d):
            h = 0.0
            for m in range(d):
                pjm = 0.0
                for i in range(max(j, m), d):
                    pjm += inv[i, j] * inv[i, m]
                h += pjm * means[k, m]
                if m == j:
                    coef[k, 1 + d + j] = -0.5 * pjm
                elif m > j:
                    coef[k, cross[j, m]] = -pjm
            coef[k, 1 + j] = h
            quad += h * means[k, j]
        w = max(weights[k], 1e-300)
        coef[k, 0] = np.log(w) - 0.5 * (d * _LOG_2PI + logdet + quad)
    return True


# ---------------------------------------------------------------- E-step

@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _lse_parts(r, i, k_):
    """Shift ``m`` and sum ``s`` of voxel i's log-sum-exp over the log-ratios r[:, i] to the last
    cluster (whose own ratio is 0): log Σ_k exp(r_k) = m + log s."""
    m = 0.0
    for k in range(k_ - 1):
        m = max(m, r[k, i])
    s = math.exp(-m)
    for k in range(k_ - 1):
        s += math.exp(r[k, i] - m)
    return m, s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _softplus(x):
    """log(1 + exp(x)) by table (cubic Hermite; error < 1e-13)."""
    a = abs(x) * _SP_STEP
    v = max(x, 0.0)
    if a < _SP_LIMIT * _SP_STEP:
        j = int(a)
        u = a - j
        u2 = u * u
        u3 = u2 * u
        h = 1.0 / _SP_STEP
        v += ((2.0 * u3 - 3.0 * u2 + 1.0) * _SP_F[j] + (u3 - 2.0 * u2 + u) * h * _SP_D[j]
              + (3.0 * u2 - 2.0 * u3) * _SP_F[j + 1] + (u3 - u2) * h * _SP_D[j + 1])
    return v


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _e_step(phi, phi_sum, e_rows, coef, r):
    """Log-posterior ratios r[k, i] = log(π_k f_k(x_i)) − log(π_K f_K(x_i)) and the log-likelihood.

    Σ_i log π_K f_K(x_i) = c_K · Σ_i φ(x_i), so only the K − 1 differences touch the voxels.
    """
    k_ = coef.shape[0]
    n = phi.shape[1]
    last = coef[k_ - 1]
    for k in range(k_ - 1):
        rk = r[k]
        c0 = coef[k, 0] - last[0]
        for i in range(n):
            rk[i] = c0
        for p in range(1, e_rows):
            c = coef[k, p] - last[p]
            if c != 0.0:
                row = phi[p]
                for i in range(n):
                    rk[i] += c * row[i]
    ll = 0.0
    for p in range(phi_sum.size):
        ll += last[p] * phi_sum[p]
    if k_ == 1:
        return ll
    if k_ == 2:
        r0 = r[0]
        for i in range(n):
            ll += _softplus(r0[i])
        return ll
    for i in range(n):
        m, s = _lse_parts(r, i, k_)
        ll += m + math.log(s)
    return ll


# ---------------------------------------------------------------- partitions and statistics

@njit(cache=True, nogil=True)
def _classify(r, labels, noise, k_, counts):
    """C-step (argmax posterior) or, given Gumbel noise (n, K), the S-step draw."""
    n = labels.size
    counts[:] = 0
    stochastic = noise.shape[0] > 0
    for i in range(n):
        best = 0.0
        if stochastic:
            best = noise[i, k_ - 1]
        lab = k_ - 1
        for k in range(k_ - 1):
            v = r[k, i]
            if stochastic:
                v += noise[i, k]
            if v > best:
                best = v
                lab = k
        labels[i] = lab
        counts[lab] += 1


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _hard_stats(phi, phi_sum, labels, k_, s_rows, stats, mask):
    """Σ φ over each cluster of a partition (the last cluster by difference from the total)."""
    n = phi.shape[1]
    stats[:] = 0.0
    for k in range(k_ - 1):
        for i in range(n):
            mask[i] = 1.0 if labels[i] == k else 0.0
        for p in range(s_rows):
            row = phi[p]
            s = 0.0
            for i in range(n):
                s += mask[i] * row[i]
            stats[k, p] = s
    for p in range(s_rows):
        s = phi_sum[p]
        for k in range(k_ - 1):
            s -= stats[k, p]
        stats[k_ - 1, p] = s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _soft_stats(phi, r, s_rows, k_, stats):
    """Σ_i w_ik φ(x_i) with responsibilities from the log-ratios; counts get 10·eps as in scikit-learn."""
    n = phi.shape[1]
    resp = np.empty((k_, n))
    for i in range(n):
        m, s = _lse_parts(r, i, k_)
        for k in range(k_ - 1):
            resp[k, i] = math.exp(r[k, i] - m) / s
        resp[k_ - 1, i] = math.exp(-m) / s
    stats[:] = 0.0
    for k in range(k_):
        w = resp[k]
        for p in range(s_rows):
            row = phi[p]
            s = 0.0
            for i in range(n):
                s += w[i] * row[i]
            stats[k, p] = s
        stats[k, 0] += 10.0 * np.finfo(np.float64).eps


@njit(cache=True, nogil=True)
def _parameters(model, stats, d, full, reg, cross, weights, means, scatter, covs):
    """Weights, means and covariances from sufficient statistics (the M-step), in place."""
    k_ = stats.shape[0]
    nk = stats[:, 0]
    total = 0.0
    for k in range(k_):
        total += nk[k]
        for j in range(d):
            means[k, j] = stats[k, 1 + j] / nk[k]
        for j in range(d):
            w = stats[k, 1 + d + j] - nk[k] * means[k, j] * means[k, j]
            scatter[k, j, j] = max(w, 0.0) + nk[k] * reg[j]
            for m in range(j + 1, d):
                w = 0.0
                if full:
                    w = stats[k, cross[j, m]] - nk[k] * means[k, j] * means[k, m]
                scatter[k, j, m] = w
                scatter[k, m, j] = w
    m_step_covariances(model, nk, scatter, covs)
    for k in range(k_):
        weights[k] = nk[k] / total


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _row_norms(phi, rows, out):
    """‖φ(x_i)[:rows]‖ for every voxel (bounds how far a log-ratio can move)."""
    n = phi.shape[1]
    out[:] = 0.0
    for p in range(rows):
        row = phi[p]
        for i in range(n):
            out[i] += row[i] * row[i]
    for i in range(n):
        out[i] = np.sqrt(out[i])


# ---------------------------------------------------------------- the loop

@njit(cache=True, nogil=True)
def fit_mixtures(phi, phi_sum, phi_sem, phi_sem_sum, d, models, k_, init_labels,
                 init_weights, init_means, init_covs, noise, algorithm, max_iter, tol,
                 reg, min_count, n_params, bic_floor, contained_in):
    """Fit K-cluster mixtures of several covariance models to the same voxels.

    Parameters
    ----------
    phi, phi_sum : arrays of shape (P, n) and (P,)
        Quadratic features of all voxels (the final fit) and their sum.
    phi_sem, phi_sem_sum : arrays of shape (P, n_sem) and (P,)
        Features of the voxels SEM explores (all voxels or a seeded sample).
    d : int
        Number of attributes (P = n_features(d)).
    models : int array of shape (n_models,)
        Indices in :data:`aaspi_py.mixture.covariance_models.MODELS`.
    k_ : int
        Number of clusters K.
    init_labels : int array
        Starting partition of ``phi_sem`` (SEM) or ``phi`` (EM, CEM), or empty to start
        from ``init_weights`` (K,), ``init_means`` (K, d), ``init_covs`` (K, d, d).
    noise : array of shape (n_sem_iterations, n_sem, K)
        Gumbel noise of the SEM draws (length 0 without SEM).
    algorithm : int
        EM, CEM or SEM_CEM.
    max_iter, tol, reg, min_count
        CEM/EM iteration cap, EM tolerance on the mean log-likelihood, ``reg_covar`` per
        attribute (array of shape (d,)),
        smallest cluster of a hard partition.
    n_params : float array of shape (n_models,), bic_floor : float,
    contained_in : bool array of shape (n_models, n_models)
        BIC pruning (``bic_floor`` = -inf: none). ``contained_in[i, j]``: model j contains
        model i (:data:`aaspi_py.mixture.covariance_models.CONTAINS`), so model i's likelihood cannot exceed
        model j's. The lowest log-likelihood of the models fitted so far that contain model
        i stands for what model i could reach; if its BIC = log L − ½ p log n could then not
        exceed the best BIC so far (starting at ``bic_floor``, e.g. the best one-cluster BIC),
        model i is not fitted and gets status PRUNED. Give containing models first.

    Returns
    -------
    weights (n_models, K), means (n_models, K, d), covariances (n_models, K, d, d),
    log_likelihood (n_models,) on ``phi``, status (n_models,), n_iter (n_models,),
    sem_best (n_models,) the SEM iteration kept (-1 without SEM).
    """
    n_models = models.size
    n = phi.shape[1]
    n_feat = phi.shape[0]
    out_w = np.zeros((n_models, k_))
    out_m = np.zeros((n_models, k_, d))
    out_c = np.zeros((n_models, k_, d, d))
    out_ll = np.full(n_models, -np.inf)
    out_status = np.zeros(n_models, dtype=np.int64)
    out_iter = np.zeros(n_models, dtype=np.int64)
    out_best = np.full(n_models, -1, dtype=np.int64)

    sem = algorithm == SEM_CEM and noise.shape[0] > 0
    n_sem = phi_sem.shape[1]
    kr = max(k_ - 1, 1)
    r = np.empty((kr, n))
    r_sem = np.empty((kr, n_sem))
    labels = np.empty(n, dtype=np.int64)
    labels_sem = np.empty(n_sem, dtype=np.int64)
    mask = np.empty(max(n, n_sem))
    counts = np.zeros(k_, dtype=np.int64)
    no_noise = np.empty((0, k_))
    slack = np.empty(n)
    phit = np.empty((0, n_feat))  # voxel-major copy for the bounded CEM steps
    cross = _cross_index(d)
    low = np.zeros((d, d))
    inv = np.zeros((d, d))
    stats = np.zeros((k_, n_feat))
    coef = np.zeros((k_, n_feat))
    coef_new = np.zeros((k_, n_feat))
    diff_old = np.zeros(n_feat)
    weights, means, covs = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d, d))
    cand_w, cand_m, cand_c = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d, d))
    best_w, best_m, best_c = np.zeros(k_), np.zeros((k_, d)), np.zeros((k_, d, d))
    scatter = np.zeros((k_, d, d))
    rows = np.array([1 + d, 1 + 2 * d, n_feat])
    norms = np.zeros((3, n))
    have_norms = np.zeros(3, dtype=np.bool_)

    log_n = np.log(n)
    prune = bic_floor > -np.inf
    best_bic = bic_floor
    for mi in range(n_models):
        model = models[mi]
        if prune:
            bound = np.inf
            for mj in range(mi):
                # a degenerate fit stopped early: its likelihood bounds nothing
                if contained_in[mi, mj] and out_status[mj] != PRUNED and out_status[mj] != DEGENERATE:
                    bound = min(bound, out_ll[mj])
            if bound - 0.5 * n_params[mi] * log_n < best_bic:
                out_status[mi] = PRUNED
                continue
        e_rows = rows[E_PART[model]]
        s_rows = rows[S_PART[model]]
        full = S_PART[model] == 2

        # -- start
        if init_labels.size > 0:
            if sem:
                _hard_stats(phi_sem, phi_sem_sum, init_labels, k_, s_rows, stats, mask)
            else:
                _hard_stats(phi, phi_sum, init_labels, k_, s_rows, stats, mask)
            for k in range(k_):
                stats[k, 0] = max(stats[k, 0], 1e-12)
            _parameters(model, stats, d, full, reg, cross, weights, means, scatter, covs)
        else:
            weights[:] = init_weights
            means[:] = init_means
            covs[:] = init_covs
        if not _coefficients(weights, means, covs, coef, low, inv, cross):
            out_status[mi] = DEGENERATE
            continue

        # -- SEM on phi_sem: keep the iterate of highest log-likelihood
        if sem:
            best_ll = -np.inf
            for t in range(noise.shape[0] + 1):
                ll = _e_step(phi_sem, phi_sem_sum, e_rows, coef, r_sem)
                if ll > best_ll:
                    best_ll = ll
                    best_w[:] = weights
                    best_m[:] = means
                    best_c[:] = covs
                    out_best[mi] = t
                if t == noise.shape[0]:
                    break
                _classify(r_sem, labels_sem, noise[t], k_, counts)
                if counts.min() < min_count:
                    continue
                _hard_stats(phi_sem, phi_sem_sum, labels_sem, k_, s_rows, stats, mask)
                _parameters(model, stats, d, full, reg, cross, cand_w, cand_m, scatter, cand_c)
                if _coefficients(cand_w, cand_m, cand_c, coef_new, low, inv, cross):
                    weights[:] = cand_w
                    means[:] = cand_m
                    covs[:] = cand_c
                    coef[:] = coef_new
            weights[:] = best_w
            means[:] = best_m
            covs[:] = best_c
            _coefficients(weights, means, covs, coef, low, inv, cross)

        # -- CEM or EM on phi
        status = MAX_ITER
        ll = -np.inf
        prev_ll = -np.inf
        fresh = False  # do r and ll belong to the current parameters (all voxels exact)?
        it = 0
        bounded = algorithm != EM and k_ == 2
        if bounded and not have_norms[E_PART[model]]:
            _row_norms(phi, e_rows, norms[E_PART[model]])
            have_norms[E_PART[model]] = True
            if phit.shape[0] == 0:
                phit = np.ascontiguousarray(phi.T)
        norm = norms[E_PART[model]]
        drift = 0.0
        for it in range(1, max_iter + 1):
            if bounded and it > 1:
                # CEM with K = 2: a voxel whose log-ratio cannot have changed sign since it was
                # last computed (|r_i| > ‖φ_i‖ · Σ‖Δc‖) keeps its label; recompute the others
                step = 0.0
                for p in range(e_rows):
                    dc = coef[0, p] - coef[1, p]
                    step += (dc - diff_old[p]) ** 2
                    diff_old[p] = dc
                drift += np.sqrt(step) * (1.0 + 1e-9) + 1e-12
                flips = 0
                for i in range(n):
                    if slack[i] > drift:
                        continue
                    x = phit[i]
                    v = 0.0
                    for p in range(e_rows):
                        v += diff_old[p] * x[p]
                    slack[i] = drift + abs(v) / norm[i]
                    lab = 0 if v > 0.0 else 1
                    if lab != labels[i]:
                        flips += 1
                        counts[labels[i]] -= 1
                        counts[lab] += 1
                        labels[i] = lab
                        sign = 1.0 if lab == 0 else -1.0
                        for p in range(s_rows):
                            stats[0, p] += sign * x[p]
                if flips == 0:
                    status = CONVERGED
                    break
                if counts.min() < min_count:
                    status = DEGENERATE
                    break
                for p in range(s_rows):
                    stats[1, p] = phi_sum[p] - stats[0, p]
            else:
                ll = _e_step(phi, phi_sum, e_rows, coef, r)
                fresh = True
                if algorithm == EM:
                    _soft_stats(phi, r, s_rows, k_, stats)
                else:
                    if it > 1:
                        # labels still hold the previous partition
                        same = True
                        for i in range(n):
                            lab = k_ - 1
                            best = 0.0
                            for k in range(k_ - 1):
                                if r[k, i] > best:
                                    best = r[k, i]
                                    lab = k
                            if lab != labels[i]:
                                same = False
                                break
                        if same:
                            status = CONVERGED
                            break
                    _classify(r, labels, no_noise, k_, counts)
                    if counts.min() < min_count:
                        status = DEGENERATE
                        break
                    _hard_stats(phi, phi_sum, labels, k_, s_rows, stats, mask)
                    if bounded:
                        # slack: the accumulated parameter drift at which a voxel's label
                        # could first change
                        drift = 0.0
                        for i in range(n):
                            slack[i] = abs(r[0, i]) / norm[i]
                        for p in range(e_rows):
                            diff_old[p] = coef[0, p] - coef[1, p]
            _parameters(model, stats, d, full, reg, cross, cand_w, cand_m, scatter, cand_c)
            if not _coefficients(cand_w, cand_m, cand_c, coef_new, low, inv, cross):
                status = DEGENERATE
                break
            weights[:] = cand_w
            means[:] = cand_m
            covs[:] = cand_c
            coef[:] = coef_new
            fresh = False
            if algorithm == EM:
                if abs(ll - prev_ll) / n < tol:
                    status = CONVERGED
                    break
                prev_ll = ll
        if not fresh:
            ll = _e_step(phi, phi_sum, e_rows, coef, r)
        out_w[mi] = weights
        out_m[mi] = means
        out_c[mi] = covs
        out_ll[mi] = ll if np.isfinite(ll) else -np.inf
        out_status[mi] = status
        out_iter[mi] = it
        if np.isfinite(ll) and status != DEGENERATE:
            best_bic = max(best_bic, ll - 0.5 * n_params[mi] * log_n)
    return out_w, out_m, out_c, out_ll, out_status, out_iter, out_best


# ---------------------------------------------------------------- initialisation

@njit(cache=True, nogil=True)
def kmeans_pca_labels(phi, phi_sum, d, k_, max_iter):
    """k-means partition in the plane of the first two eigenvectors of the covariance.

    The data itself when d = 1. Deterministic: the starting centres are the means of K
    equal-count slices along the first eigenvector; an emptied cluster takes the voxel
    farthest from its centre. Stops after ``max_iter`` iterations or when no label changes.

    Returns
    -------
    labels : int array of shape (n,)
    """
    n = phi.shape[1]
    labels = np.zeros(n, dtype=np.int64)
    if k_ == 1 or n == 0:
        return labels
    mean = phi_sum[1:1 + d] / n
    q = min(2, d)
    basis = np.zeros((d, q))
    if d == 1:
        basis[0, 0] = 1.0
    else:
        cross = _cross_index(d)
        cov = np.empty((d, d))
        for j in range(d):
            cov[j, j] = phi_sum[1 + d + j] / n - mean[j] * mean[j]
            for m in range(j + 1, d):
                c = phi_sum[cross[j, m]] / n - mean[j] * mean[m]
                cov[j, m] = c
                cov[m, j] = c
        w, v = np.linalg.eigh(cov)
        for c in range(q):
            basis[:, c] = v[:, d - 1 - c]
    y = np.zeros((n, q))
    for i in range(n):
        for c in range(q):
            s = 0.0
            for j in range(d):
                s += (phi[1 + j, i] - mean[j]) * basis[j, c]
            y[i, c] = s
    order = np.argsort(y[:, 0], kind="mergesort")
    centres = np.zeros((k_, q))
    counts = np.zeros(k_, dtype=np.int64)
    for rank in range(n):
        k = min(rank * k_ // n, k_ - 1)
        labels[order[rank]] = k
        counts[k] += 1
        centres[k] += y[order[rank]]
    for k in range(k_):
        centres[k] /= max(counts[k], 1)
    dist = np.empty(n)
    for _ in range(max_iter):
        changed = False
        counts[:] = 0
        for i in range(n):
            best = np.inf
            lab = 0
            for k in range(k_):
                s = 0.0
                for c in range(q):
                    t = y[i, c] - centres[k, c]
                    s += t * t
                if s < best:
                    best = s
                    lab = k
            dist[i] = best
            if lab != labels[i]:
                changed = True
                labels[i] = lab
            counts[lab] += 1
        for k in range(k_):
            if counts[k] == 0:
                far = np.argmax(dist)
                counts[labels[far]] -= 1
                labels[far] = k
                counts[k] = 1
                dist[far] = -1.0
                changed = True
        sums = np.zeros((k_, q))
        for i in range(n):
            sums[labels[i]] += y[i]
        for k in range(k_):
            if counts[k] > 0:  # a cluster emptied by the reseeding above keeps its centre
                centres[k] = sums[k] / counts[k]
        if not changed:
            break
    return labels
