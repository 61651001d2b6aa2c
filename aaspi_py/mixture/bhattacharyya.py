"""Bhattacharyya distance between Gaussian clusters (course notes, eq. 7).

    D = ⅛ (μ₂ − μ₁)ᵀ Σ⁻¹ (μ₂ − μ₁) + ½ ln( |Σ| / √(|Σ₁| |Σ₂|) ),   Σ = (Σ₁ + Σ₂)/2,

which equals −ln ∫ √(p₁(x) p₂(x)) dx for the two normal densities. Determinants are taken as
log-determinants from Cholesky factors, so near-singular covariances (|Σ| ≈ 1e-300) neither
underflow nor lose the difference of the three log-determinants; a covariance that is not
numerically positive definite has its eigenvalues floored at ``1e-14 × largest``.
"""

from __future__ import annotations

import numpy as np


def _log_det(cov: np.ndarray) -> np.ndarray:
    """log|Σ| over the leading dimensions of an array (..., d, d)."""
    try:
        low = np.linalg.cholesky(cov)
        return 2.0 * np.log(np.diagonal(low, axis1=-2, axis2=-1)).sum(-1)
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(0.5 * (cov + np.swapaxes(cov, -1, -2)))
        floor = 1e-14 * np.maximum(w.max(-1, keepdims=True), 1e-300)
        return np.log(np.maximum(w, floor)).sum(-1)


def _mahalanobis(cov: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """diffᵀ Σ⁻¹ diff over the leading dimensions."""
    try:
        low = np.linalg.cholesky(cov)
        z = np.linalg.solve(low, diff[..., None])[..., 0]
        return (z * z).sum(-1)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(0.5 * (cov + np.swapaxes(cov, -1, -2)))
        floor = 1e-14 * np.maximum(w.max(-1, keepdims=True), 1e-300)
        proj = np.einsum("...ji,...j->...i", v, diff)
        return (proj * proj / np.maximum(w, floor)).sum(-1)


def bhattacharyya(mean1, cov1, mean2, cov2, *, log_det1=None, log_det2=None) -> np.ndarray:
    """Bhattacharyya distance between normal distributions N(μ₁, Σ₁) and N(μ₂, Σ₂).

    Broadcasts over leading dimensions, so one call measures many cluster pairs.

    Parameters
    ----------
    mean1, mean2 : array-like of shape (..., d)
    cov1, cov2 : array-like of shape (..., d, d)
        Symmetric positive (semi-)definite covariances.
    log_det1, log_det2 : array-like of shape (...), optional
        log|Σ₁| and log|Σ₂| when already known (saves two factorisations per pair).

    Returns
    -------
    distance : ndarray of shape (...)
        Non-negative; 0 for identical distributions.

    Examples
    --------
    >>> from aaspi_py import bhattacharyya
    >>> float(bhattacharyya([0.0], [[1.0]], [2.0], [[1.0]]))
    0.5
    """
    m1 = np.asarray(mean1, dtype=np.float64)
    m2 = np.asarray(mean2, dtype=np.float64)
    c1 = np.asarray(cov1, dtype=np.float64)
    c2 = np.asarray(cov2, dtype=np.float64)
    if m1.shape[-1] != c1.shape[-1] or m2.shape[-1] != c2.shape[-1] or m1.shape[-1] != m2.shape[-1]:
        raise ValueError("means and covariances must have the same dimension d")
    if m1.shape[-1] == 0:
        return np.zeros(np.broadcast_shapes(m1.shape, m2.shape)[:-1])
    cov = 0.5 * (c1 + c2)
    diff = m2 - m1
    cov, diff = np.broadcast_arrays(cov, diff[..., None, :])
    diff = diff[..., 0, :]
    ld1 = _log_det(c1) if log_det1 is None else np.asarray(log_det1, dtype=np.float64)
    ld2 = _log_det(c2) if log_det2 is None else np.asarray(log_det2, dtype=np.float64)
    out = 0.125 * _mahalanobis(cov, diff) + 0.5 * (_log_det(cov) - 0.5 * (ld1 + ld2))
    return np.maximum(out, 0.0)


def log_det(cov) -> np.ndarray:
    """log|Σ| of covariances (..., d, d), robust to near-singular ones."""
    return _log_det(np.asarray(cov, dtype=np.float64))
