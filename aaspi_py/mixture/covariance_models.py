"""The nine Celeux–Govaert covariance models with a closed-form M-step.

A covariance model constrains each cluster covariance Σ_k = λ_k D_k A_k D_kᵀ (volume λ_k,
orientation D_k, shape A_k, |A_k| = 1) to be equal (E), variable (V) or the identity (I)
across clusters, in mclust's names. Each M-step below maps the cluster counts ``n_k`` and
the (regularised) scatter matrices ``W_k = Σ_i z_ik (x_i − x̄_k)(x_i − x̄_k)ᵀ`` of a hard or
soft partition to the maximum-likelihood covariances (Celeux & Govaert, 1995):

======  =====================================================================
EII     λ = tr(W)/(N d)
VII     λ_k = tr(W_k)/(n_k d)
EEI     Σ = diag(W)/N
EVI     Σ_k = λ B_k,  B_k = diag(W_k)/|diag(W_k)|^(1/d),  λ = Σ_k |diag(W_k)|^(1/d)/N
VVI     Σ_k = diag(W_k)/n_k
EEE     Σ = W/N
EEV     W_k = L_k Ω_k L_kᵀ (eigenvalues descending),  Σ_k = L_k diag(Σ_j Ω_j / N) L_kᵀ
EVV     Σ_k = λ W_k/|W_k|^(1/d),  λ = Σ_k |W_k|^(1/d)/N
VVV     Σ_k = W_k/n_k
======  =====================================================================

with W = Σ_k W_k, N = Σ_k n_k and d the number of attributes. The EEV line is the same as
``λ L_k A L_kᵀ`` with ``A = ΣΩ_k/|ΣΩ_k|^(1/d)`` and ``λ = |ΣΩ_k|^(1/d)/N``.

The functions are compiled with numba so the fitting loop (:mod:`aaspi_py.mixture.em`) calls
them directly; from Python they take and return numpy arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: the models with a closed-form M-step, in mclust's order of complexity
MODELS = ("EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV", "VVV")
#: the corresponding scikit-learn ``covariance_type`` where one exists
SKLEARN_TYPES = {"VII": "spherical", "VVI": "diag", "EEE": "tied", "VVV": "full"}

#: which part of the quadratic features a model's log-density difference between clusters
#: needs (0: linear terms, 1: plus squares, 2: plus cross products) and which part of the
#: sufficient statistics its M-step needs (1: squares, 2: cross products)
E_PART = np.array([0, 1, 0, 1, 1, 0, 2, 2, 2], dtype=np.int64)
S_PART = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2], dtype=np.int64)


#: the models each model contains (same number of clusters): Σ_k = λ_k D_k A_k D_kᵀ with
#: some of λ, D, A equal across clusters or fixed is a special case of the same with fewer
#: constraints, so its maximum likelihood is at most theirs
CONTAINS = {
    "VVV": {"EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV"},
    "EVV": {"EII", "EEI", "EVI", "EEE", "EEV"},
    "EEV": {"EII", "EEI", "EEE"},
    "EEE": {"EII", "EEI"},
    "VVI": {"EII", "VII", "EEI", "EVI"},
    "EVI": {"EII", "EEI"},
    "VII": {"EII"},
    "EEI": {"EII"},
    "EII": set(),
}
#: an order in which every model comes after all models that contain it
FITTING_ORDER = ("VVV", "VVI", "EVV", "EEV", "EEE", "EVI", "VII", "EEI", "EII")


def model_code(model: str) -> int:
    """Index of a model name in :data:`MODELS` (case-insensitive)."""
    try:
        return MODELS.index(model.upper())
    except (ValueError, AttributeError):
        raise ValueError(f"unknown covariance model {model!r}; use one of {', '.join(MODELS)}") from None


# ---------------------------------------------------------------- parameter counts

def n_covariance_parameters(model: str, n_attributes: int, n_clusters: int) -> int:
    """Free covariance parameters of a model (mclust's ``nVarParams``).

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    n_attributes : int
        Dimension d.
    n_clusters : int
        Number of clusters K.
    """
    d, k = int(n_attributes), int(n_clusters)
    rot = d * (d - 1) // 2  # an orientation D
    counts = {
        "EII": 1,
        "VII": k,
        "EEI": d,
        "EVI": 1 + k * (d - 1),
        "VVI": k * d,
        "EEE": d * (d + 1) // 2,
        "EEV": d + k * rot,
        "EVV": 1 + k * (d - 1) + k * rot,
        "VVV": k * d * (d + 1) // 2,
    }
    return counts[MODELS[model_code(model)]]


def n_parameters(model: str, n_attributes: int, n_clusters: int) -> int:
    """All free parameters: covariances, K·d means and K − 1 weights."""
    d, k = int(n_attributes), int(n_clusters)
    return n_covariance_parameters(model, d, k) + k * d + k - 1


# ---------------------------------------------------------------- small helpers

@njit(cache=True, nogil=True)
def _log_det_spd(a):
    """log|A| of a symmetric positive definite matrix by Cholesky; -inf when not PD."""
    d = a.shape[0]
    low = np.zeros((d, d))
    out = 0.0
    for j in range(d):
        s = a[j, j]
        for m in range(j):
            s -= low[j, m] * low[j, m]
        if not s > 0.0:
            return -np.inf
        low[j, j] = np.sqrt(s)
        out += np.log(s)
        for i in range(j + 1, d):
            t = a[i, j]
            for m in range(j):
                t -= low[i, m] * low[j, m]
            low[i, j] = t / low[j, j]
    return out


@njit(cache=True, nogil=True)
def symmetric_eigen(a, values, vectors):
    """Eigenvalues (descending) and eigenvectors (columns) of a small symmetric matrix.

    Cyclic Jacobi rotations: no allocation beyond one copy and accurate to rounding for the
    d ≤ 20 of attribute spaces; larger matrices go to LAPACK.
    """
    d = a.shape[0]
    if d > 20:
        w, v = np.linalg.eigh(a)
        for j in range(d):
            values[j] = w[d - 1 - j]
            vectors[:, j] = v[:, d - 1 - j]
        return
    b = a.copy()
    for i in range(d):
        for j in range(d):
            vectors[i, j] = 1.0 if i == j else 0.0
    for _ in range(60):
        off = 0.0
        diag = 0.0
        for p in range(d):
            diag += b[p, p] * b[p, p]
            for q in range(p + 1, d):
                off += b[p, q] * b[p, q]
        if off <= 1e-32 * diag or off == 0.0:
            break
        for p in range(d - 1):
            for q in range(p + 1, d):
                apq = b[p, q]
                if apq == 0.0:
                    continue
                theta = (b[q, q] - b[p, p]) / (2.0 * apq)
                t = 1.0 / (abs(theta) + np.sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                for k in range(d):
                    bkp = b[k, p]
                    bkq = b[k, q]
                    b[k, p] = c * bkp - s * bkq
                    b[k, q] = s * bkp + c * bkq
                for k in range(d):
                    bpk = b[p, k]
                    bqk = b[q, k]
                    b[p, k] = c * bpk - s * bqk
                    b[q, k] = s * bpk + c * bqk
                for k in range(d):
                    vkp = vectors[k, p]
                    vkq = vectors[k, q]
                    vectors[k, p] = c * vkp - s * vkq
                    vectors[k, q] = s * vkp + c * vkq
    for j in range(d):
        values[j] = b[j, j]
    # sort descending (insertion sort: d is small)
    for j in range(1, d):
        m = j
        while m > 0 and values[m - 1] < values[m]:
            values[m - 1], values[m] = values[m], values[m - 1]
            for k in range(d):
                vectors[k, m - 1], vectors[k, m] = vectors[k, m], vectors[k, m - 1]
            m -= 1


# ---------------------------------------------------------------- M-steps
# Each takes the counts nk (K,), the regularised scatter matrices W_k (K, d, d) and writes
# the covariances (K, d, d) into ``out``.

@njit(cache=True, nogil=True)
def covariance_eii(nk, scatter, out):
    """EII: Σ_k = λ I with λ = tr(W)/(N d)."""
    k_, d = scatter.shape[0], scatter.shape[1]
    t = 0.0
    for k in range(k_):
        for j in range(d):
            t += scatter[k, j, j]
    lam = t / (nk.sum() * d)
    out[:] = 0.0
    for k in range(k_):
        for j in range(d):
            out[k, j, j] = lam


@njit(cache=True, nogil=True)
def covariance_vii(nk, scatter, out):
    """VII: Σ_k = λ_k I with λ_k = tr(W_k)/(n_k d)."""
    k_, d = scatter.shape[0], scatter.shape[1]
    out[:] = 0.0
    for k in range(k_):
        t = 0.0
        for j in range(d):
            t += scatter[k, j, j]
        for j in range(d):
            out[k, j, j] = t / (nk[k] * d)


@njit(cache=True, nogil=True)
def covariance_eei(nk, scatter, out):
    """EEI: Σ_k = diag(W)/N."""
    k_, d = scatter.shape[0], scatter.shape[1]
    n = nk.sum()
    out[:] = 0.0
    for j in range(d):
        t = 0.0
        for k in range(k_):
            t += scatter[k, j, j]
        for k in range(k_):
            out[k, j, j] = t / n


@njit(cache=True, nogil=True)
def covariance_evi(nk, scatter, out):
    """EVI: Σ_k = λ B_k, B_k = diag(W_k)/|diag(W_k)|^(1/d), λ = Σ_k |diag(W_k)|^(1/d)/N."""
    k_, d = scatter.shape[0], scatter.shape[1]
    out[:] = 0.0
    total = 0.0
    for k in range(k_):
        s = 0.0
        for j in range(d):
            s += np.log(max(scatter[k, j, j], 1e-300))
        g = np.exp(s / d)
        total += g
        for j in range(d):
            out[k, j, j] = scatter[k, j, j] / g
    lam = total / nk.sum()
    for k in range(k_):
        for j in range(d):
            out[k, j, j] *= lam


@njit(cache=True, nogil=True)
def covariance_vvi(nk, scatter, out):
    """VVI: Σ_k = diag(W_k)/n_k."""
    k_, d = scatter.shape[0], scatter.shape[1]
    out[:] = 0.0
    for k in range(k_):
        for j in range(d):
            out[k, j, j] = scatter[k, j, j] / nk[k]


@njit(cache=True, nogil=True)
def covariance_eee(nk, scatter, out):
    """EEE: Σ_k = W/N."""
    k_, d = scatter.shape[0], scatter.shape[1]
    n = nk.sum()
    for j in range(d):
        for m in range(d):
            t = 0.0
            for k in range(k_):
                t += scatter[k, j, m]
            for k in range(k_):
                out[k, j, m] = t / n


@njit(cache=True, nogil=True)
def covariance_eev(nk, scatter, out):
    """EEV: W_k = L_k Ω_k L_kᵀ, Σ_k = L_k diag(Σ_j Ω_j/N) L_kᵀ (eigenvalues descending)."""
    k_, d = scatter.shape[0], scatter.shape[1]
    vectors = np.empty((k_, d, d))
    values = np.empty(d)
    omega = np.zeros(d)
    for k in range(k_):
        symmetric_eigen(scatter[k], values, vectors[k])
        for j in range(d):
            omega[j] += values[j]
    n = nk.sum()
    for k in range(k_):
        v = vectors[k]
        for i in range(d):
            for m in range(i, d):
                t = 0.0
                for j in range(d):
                    t += v[i, j] * v[m, j] * omega[j]
                out[k, i, m] = t / n
                out[k, m, i] = t / n


@njit(cache=True, nogil=True)
def covariance_evv(nk, scatter, out):
    """EVV: Σ_k = λ W_k/|W_k|^(1/d), λ = Σ_k |W_k|^(1/d)/N."""
    k_, d = scatter.shape[0], scatter.shape[1]
    total = 0.0
    for k in range(k_):
        g = max(np.exp(_log_det_spd(scatter[k]) / d), 1e-300)
        total += g
        for j in range(d):
            for m in range(d):
                out[k, j, m] = scatter[k, j, m] / g
    lam = total / nk.sum()
    for k in range(k_):
        for j in range(d):
            for m in range(d):
                out[k, j, m] *= lam


@njit(cache=True, nogil=True)
def covariance_vvv(nk, scatter, out):
    """VVV: Σ_k = W_k/n_k."""
    k_, d = scatter.shape[0], scatter.shape[1]
    for k in range(k_):
        for j in range(d):
            for m in range(d):
                out[k, j, m] = scatter[k, j, m] / nk[k]


@njit(cache=True, nogil=True)
def m_step_covariances(model, nk, scatter, out):
    """Write the covariances of model number ``model`` (index in :data:`MODELS`) into ``out``."""
    if model == 0:
        covariance_eii(nk, scatter, out)
    elif model == 1:
        covariance_vii(nk, scatter, out)
    elif model == 2:
        covariance_eei(nk, scatter, out)
    elif model == 3:
        covariance_evi(nk, scatter, out)
    elif model == 4:
        covariance_vvi(nk, scatter, out)
    elif model == 5:
        covariance_eee(nk, scatter, out)
    elif model == 6:
        covariance_eev(nk, scatter, out)
    elif model == 7:
        covariance_evv(nk, scatter, out)
    else:
        covariance_vvv(nk, scatter, out)


def m_step(model: str, nk: np.ndarray, scatter: np.ndarray, reg_covar: float = 0.0) -> np.ndarray:
    """Closed-form covariances of ``model`` from counts and scatter matrices.

    ``reg_covar`` is added to the diagonal of every ``W_k / n_k`` before the closed form
    (for VVV, EEE, VVI and VII this is scikit-learn's rule of adding it to the result).

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    nk : array of shape (n_clusters,)
    scatter : array of shape (n_clusters, d, d)
    reg_covar : float

    Returns
    -------
    covariances : array of shape (n_clusters, d, d)
    """
    nk = np.asarray(nk, dtype=np.float64)
    w = np.array(scatter, dtype=np.float64)
    d = w.shape[1]
    w += nk[:, None, None] * reg_covar * np.eye(d)
    out = np.empty_like(w)
    m_step_covariances(model_code(model), nk, w, out)
    return out
