"""Centred box means on (inline, crossline, sample) float32 volumes, the geometric hot loop.

Along the sample axis each output is a direct sum over its window; across traces a running
sum accumulated in float64, so a value does not depend on where a block starts beyond float32
rounding (chunked results equal whole-volume results to ~1e-7 relative). Edges mirror like
``scipy.ndimage`` mode "reflect" (d c b a | a b c d); the result equals
``scipy.ndimage.uniform_filter1d`` along each axis, about 3x faster on float32 (which
``ndimage`` computes in float64 and with strided access on the lateral axes).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _mirror(k: int, n: int) -> int:
    # scipy "reflect": -1 -> 0, n -> n - 1; repeated for windows wider than the axis
    period = 2 * n
    k = k % period
    return k if k < n else period - 1 - k


@numba.njit(cache=True)
def _sum_lateral(a, r, axis):
    # a running sum along the lateral axis, accumulated in float64 so that the value does not
    # depend (beyond float32 rounding) on where the block starts
    ni, nx, ns = a.shape
    out = np.empty_like(a)
    n = ni if axis == 0 else nx
    m = nx if axis == 0 else ni
    for other in range(m):
        acc = np.zeros(ns, dtype=np.float64)
        for k in range(-r, r + 1):
            src = a[_mirror(k, n), other] if axis == 0 else a[other, _mirror(k, n)]
            for t in range(ns):
                acc[t] += src[t]
        for c in range(n):
            dst = out[c, other] if axis == 0 else out[other, c]
            for t in range(ns):
                dst[t] = acc[t]
            if c + 1 < n:
                add = a[_mirror(c + r + 1, n), other] if axis == 0 else a[other, _mirror(c + r + 1, n)]
                sub = a[_mirror(c - r, n), other] if axis == 0 else a[other, _mirror(c - r, n)]
                for t in range(ns):
                    acc[t] += np.float64(add[t]) - np.float64(sub[t])
    return out


@numba.njit(cache=True)
def _sum_lateral_direct(a, r, axis):
    # a direct sum over the window in a fixed order: bit-identical for any block start
    ni, nx, ns = a.shape
    out = np.zeros_like(a)
    for i in range(ni):
        for j in range(nx):
            dst = out[i, j]
            for k in range(-r, r + 1):
                src = a[_mirror(i + k, ni), j] if axis == 0 else a[i, _mirror(j + k, nx)]
                for t in range(ns):
                    dst[t] += src[t]
    return out


@numba.njit(cache=True)
def _sum_samples(a, r):
    ni, nx, ns = a.shape
    out = np.zeros_like(a)
    for i in range(ni):
        padded = np.empty(ns + 2 * r, dtype=a.dtype)
        for j in range(nx):
            src = a[i, j]
            # mirrored ends only where the window leaves the trace (the index arithmetic of
            # _mirror for every sample costs more than the sums)
            for t in range(ns + 2 * r):
                if t < 2 * r or t >= ns:
                    padded[t] = src[_mirror(t - r, ns)]
                else:
                    padded[t] = src[t - r]
            dst = out[i, j]
            # k outer, t inner: the same order of additions for every sample, vectorised
            for k in range(2 * r + 1):
                for t in range(ns):
                    dst[t] += padded[t + k]
    return out


def box_mean(a: np.ndarray, size: tuple[int, int, int], dtype=np.float32, exact: bool = False) -> np.ndarray:
    """Mean of ``a`` over a centred box of ``size`` = (inline, crossline, sample) odd widths.

    Parameters
    ----------
    a : array of shape (n_inlines, n_crosslines, n_samples)
    size : odd window widths; 1 leaves that axis alone
    dtype : float32, or float64 where a difference of means would cancel
    exact : direct sums across traces too (slower for wide windows), so the result is
        bit-identical for any block start, where a later threshold must not flip

    Returns
    -------
    array of ``a``'s shape and ``dtype``
    """
    out = np.ascontiguousarray(a, dtype=dtype)
    scale = 1.0
    for axis, n in enumerate(size):
        if n > 1:
            if axis == 2:
                out = _sum_samples(out, n // 2)
            else:
                out = (_sum_lateral_direct if exact else _sum_lateral)(out, n // 2, axis)
            scale *= n
    if scale != 1.0:
        out *= out.dtype.type(1.0 / scale)
    return out
