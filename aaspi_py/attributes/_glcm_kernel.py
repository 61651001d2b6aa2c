"""The GLCM hot loop: co-occurrence statistics in a window sliding down each trace.

For every output voxel the window holds ``2 r_trace + 1`` x ``2 r_trace + 1`` traces x
``2 r_sample + 1`` samples of grey levels (mirrored beyond the block and the trace ends). Its
co-occurrence matrix counts, symmetrically, every pair of neighbours one step apart along
inline, crossline and sample inside the window: the sum of scikit-image's ``graycomatrix``
(distance 1, ``symmetric=True``) over the window's slices. Moving one sample down the trace
removes the pairs of the top sample row and adds those of the new bottom row, and every
statistic the properties need is updated with the changed cells, so a voxel costs the pairs
of one row instead of the whole window.
"""

from __future__ import annotations

import numba
import numpy as np

from ._box import _mirror


@numba.njit(cache=True, inline="always")
def _cell(counts, a, b, delta, acc, clogc):
    """Change cell (a, b) by ``delta``: update sum c^2 (acc[0]); return the change of sum c log c."""
    old = counts[a, b]
    new = old + delta
    counts[a, b] = new
    acc[0] += new * new - old * old
    return clogc[new] - clogc[old]


@numba.njit(cache=True, inline="always")
def _pair(counts, a, b, delta, acc, diff, clogc):
    """Add (delta = 1) or remove (-1) the neighbour pair (a, b) symmetrically: cells (a, b) and
    (b, a), a diagonal cell twice, as P + P.T does; return the change of sum c log c.

    acc holds the integer sums [sum c^2, sum c (i-j)^2, sum c i, sum c i^2] and diff the counts
    per |i - j|."""
    d = a - b if a >= b else b - a
    acc[1] += 2 * delta * d * d
    acc[2] += delta * (a + b)
    acc[3] += delta * (a * a + b * b)
    diff[d] += 2 * delta
    if a == b:
        return _cell(counts, a, a, 2 * delta, acc, clogc)
    return _cell(counts, a, b, delta, acc, clogc) + _cell(counts, b, a, delta, acc, clogc)


@numba.njit(cache=True, inline="always")
def _row(window, u, wi, wx, delta, counts, acc, diff, clogc):
    """Pairs inside sample row ``u`` (inline and crossline neighbours)."""
    s = 0.0
    for a in range(wi):
        for b in range(wx):
            k = a * wx + b
            g = window[k, u]
            if a + 1 < wi:
                s += _pair(counts, g, window[k + wx, u], delta, acc, diff, clogc)
            if b + 1 < wx:
                s += _pair(counts, g, window[k + 1, u], delta, acc, diff, clogc)
    return s


@numba.njit(cache=True, inline="always")
def _between(window, u, n_traces, delta, counts, acc, diff, clogc):
    """Pairs between sample rows ``u`` and ``u + 1`` of every trace."""
    s = 0.0
    for k in range(n_traces):
        s += _pair(counts, window[k, u], window[k, u + 1], delta, acc, diff, clogc)
    return s


@numba.njit(cache=True)
def glcm_properties(levels, n_levels, r_trace, r_sample):
    """Entropy, variance, contrast, homogeneity and energy (scikit-image's ``graycoprops``
    definitions) of every voxel's window: float32 array (5, n_inlines, n_crosslines, n_samples).

    Parameters
    ----------
    levels : uint8 array (n_inlines, n_crosslines, n_samples) of grey levels < n_levels
    """
    ni, nx, ns = levels.shape
    wi = wx = 2 * r_trace + 1
    ws = 2 * r_sample + 1
    n_traces = wi * wx
    pairs = n_traces * (ws - 1) + ((wi - 1) * wx + wi * (wx - 1)) * ws
    total = 2 * pairs
    clogc = np.zeros(total + 1, dtype=np.float64)
    for c in range(1, total + 1):
        clogc[c] = c * np.log(c)
    inverse = 1.0 / total
    homogeneity_weight = np.empty(n_levels, dtype=np.float64)
    for d in range(n_levels):
        homogeneity_weight[d] = 1.0 / (1.0 + d * d)
    out = np.empty((5, ni, nx, ns), dtype=np.float32)
    for i in range(ni):
        window = np.empty((n_traces, ns + 2 * r_sample), dtype=np.int64)
        counts = np.zeros((n_levels, n_levels), dtype=np.int64)
        acc = np.zeros(4, dtype=np.int64)
        diff = np.zeros(n_levels, dtype=np.int64)
        for j in range(nx):
            k = 0
            for di in range(-r_trace, r_trace + 1):
                for dj in range(-r_trace, r_trace + 1):
                    src = levels[_mirror(i + di, ni), _mirror(j + dj, nx)]
                    for u in range(ns + 2 * r_sample):
                        window[k, u] = src[_mirror(u - r_sample, ns)]
                    k += 1
            counts[:] = 0
            acc[:] = 0
            diff[:] = 0
            clogc_sum = 0.0
            for u in range(ws):
                clogc_sum += _row(window, u, wi, wx, 1, counts, acc, diff, clogc)
                if u + 1 < ws:
                    clogc_sum += _between(window, u, n_traces, 1, counts, acc, diff, clogc)
            for t in range(ns):
                if t > 0:
                    # the window moves down one sample: rows t-1 .. t-1+ws-1 -> t .. t+ws-1
                    clogc_sum += _row(window, t - 1, wi, wx, -1, counts, acc, diff, clogc)
                    clogc_sum += _between(window, t - 1, n_traces, -1, counts, acc, diff, clogc)
                    clogc_sum += _row(window, t + ws - 1, wi, wx, 1, counts, acc, diff, clogc)
                    clogc_sum += _between(window, t + ws - 2, n_traces, 1, counts, acc, diff, clogc)
                mean = acc[2] * inverse
                homogeneity = 0.0
                for d in range(n_levels):
                    homogeneity += diff[d] * homogeneity_weight[d]
                out[0, i, j, t] = max(np.log(total) - clogc_sum * inverse, 0.0)
                out[1, i, j, t] = max(acc[3] * inverse - mean * mean, 0.0)
                out[2, i, j, t] = acc[1] * inverse
                out[3, i, j, t] = homogeneity * inverse
                out[4, i, j, t] = np.sqrt(acc[0]) * inverse
    return out
