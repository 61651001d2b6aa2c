"""Numba kernels of the Kuwahara filter, working on one block padded by ``w - 1`` per side.

Shapes used throughout, per axis: the block handed in is ``P = B + 2 h`` voxels long, where
``B`` is the output block and ``h = w - 1`` the halo; the window-start grid is
``G = P - w + 1 = B + h`` long (one window per start position inside the padded block).
Output voxel ``i`` sits at padded position ``i + h``; its candidate windows start at grid
positions ``i + d`` with ``d = 0 .. h`` (``all``) or ``d in {0, h}`` (``octants``).

Every sum is taken directly over the window in a fixed order (never a running sum), so a
window's statistics are bitwise identical whichever block it is computed in: the filter
does not depend on the chunking. Loops run along the contiguous sample axis innermost so
LLVM vectorises them. The block kernels are serial and release the GIL (dask runs blocks
on several threads).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# numpy error model: 0/0 gives NaN (no exception) and divisions vectorise
_OPTS = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_OPTS)
def _all_finite(x):
    for v in x.ravel():
        if not np.isfinite(v):
            return False
    return True


# ---------------------------------------------------------------- one plane at a time

@njit(**_OPTS)
def _plane_sums(x, a, w1, w2, gaps, rs, rq, rc, ts, tq, tc, out_s, out_q, out_c):
    """Sum, sum of squares and count of the finite voxels of every (w1, w2) window of
    plane ``a`` of ``x`` into ``out_*`` of shape (G1, G2) (count only when ``gaps``)."""
    p1 = x.shape[1]
    p2 = x.shape[2]
    g1, g2 = out_s.shape
    # along axis 2, each row
    for j in range(p1):
        row = x[a, j]
        if gaps:
            for k in range(p2):
                v = np.float64(row[k])
                ok = np.isfinite(v)
                rs[k] = v if ok else 0.0
                rq[k] = v * v if ok else 0.0
                rc[k] = 1.0 if ok else 0.0
        else:
            for k in range(p2):
                v = np.float64(row[k])
                rs[k] = v
                rq[k] = v * v
        t_s = ts[j]
        t_q = tq[j]
        for k in range(g2):
            t_s[k] = rs[k]
            t_q[k] = rq[k]
        for d in range(1, w2):
            for k in range(g2):
                t_s[k] += rs[k + d]
                t_q[k] += rq[k + d]
        if gaps:
            t_c = tc[j]
            for k in range(g2):
                t_c[k] = rc[k]
            for d in range(1, w2):
                for k in range(g2):
                    t_c[k] += rc[k + d]
    # then along axis 1
    for j in range(g1):
        o_s = out_s[j]
        o_q = out_q[j]
        for k in range(g2):
            o_s[k] = ts[j, k]
            o_q[k] = tq[j, k]
        for d in range(1, w1):
            t_s = ts[j + d]
            t_q = tq[j + d]
            for k in range(g2):
                o_s[k] += t_s[k]
                o_q[k] += t_q[k]
        if gaps:
            o_c = out_c[j]
            for k in range(g2):
                o_c[k] = tc[j, k]
            for d in range(1, w1):
                t_c = tc[j + d]
                for k in range(g2):
                    o_c[k] += t_c[k]


@njit(**_OPTS)
def _plane_statistics(ring_s, ring_q, ring_c, b, gaps, full, min_valid, s, q, c, mean, var):
    """Mean and variance (G1, G2) of the windows starting at plane ``b``, from the ring of
    the last w0 planes' 2D sums; summed in the order b, b+1, ... whatever the ring slot."""
    w0 = ring_s.shape[0]
    g1, g2 = mean.shape
    r0 = b % w0
    for j in range(g1):
        for k in range(g2):
            s[k] = ring_s[r0, j, k]
            q[k] = ring_q[r0, j, k]
        if gaps:
            for k in range(g2):
                c[k] = ring_c[r0, j, k]
        else:
            for k in range(g2):
                c[k] = full
        for d in range(1, w0):
            rr = (b + d) % w0
            for k in range(g2):
                s[k] += ring_s[rr, j, k]
                q[k] += ring_q[rr, j, k]
            if gaps:
                for k in range(g2):
                    c[k] += ring_c[rr, j, k]
        m_row = mean[j]
        v_row = var[j]
        for k in range(g2):
            n = c[k]
            m = s[k] / n
            v = q[k] / n - m * m
            m_row[k] = m if n > 0.0 else np.nan
            v_row[k] = (v if v > 0.0 else 0.0) if n >= min_valid else np.inf


@njit(**_OPTS)
def _plane_best(score, h1, h2, s1, s2, val1, code1, val_out, code_out):
    """Least score over the candidate starts along axes 2 then 1: (G1, G2) -> (B1, B2),
    with the winning start's offset coded ``d1 * G2 + d2`` (its flat offset in the plane).
    Starts are scanned in increasing order with a strict ``<``.

    The offset, not the window's payload, is carried: a select between a constant and the
    running code vectorises, where a select between two loaded payloads does not (the
    compiler turns it into a load through a selected pointer)."""
    g1 = score.shape[0]
    b1, b2 = val_out.shape
    for j in range(g1):
        sc = score[j]
        v1 = val1[j]
        c1 = code1[j]
        for k in range(b2):
            v1[k] = sc[k]
            c1[k] = 0
        for d in range(s2, h2 + 1, s2):
            sd = sc[d:]
            for k in range(b2):
                v = sd[k]
                cur = v1[k]
                better = v < cur
                v1[k] = v if better else cur
                c1[k] = d if better else c1[k]
    stride = score.shape[1]
    for j in range(b1):
        vo = val_out[j]
        co = code_out[j]
        v1 = val1[j]
        c1 = code1[j]
        for k in range(b2):
            vo[k] = v1[k]
            co[k] = c1[k]
        for d in range(s1, h1 + 1, s1):
            v1 = val1[j + d]
            c1 = code1[j + d]
            add = d * stride
            for k in range(b2):
                v = v1[k]
                cur = vo[k]
                better = v < cur
                vo[k] = v if better else cur
                co[k] = c1[k] + add if better else co[k]


@njit(**_OPTS)
def _axis0_best(vals, codes, i, h0, s0, plane, best, code_out):
    """Output plane ``i``: least score over the candidate planes i + d (ring of h0 + 1
    planes of 2D minima, codes from :func:`_plane_best`); the window's flat offset
    ``d0 * plane + d1 * G2 + d2`` from the voxel's own start (``plane = G1 * G2``), -1
    where no candidate is finite."""
    nring = vals.shape[0]
    b1, b2 = code_out.shape
    r0 = i % nring
    for j in range(b1):
        co = code_out[j]
        v0 = vals[r0, j]
        c0 = codes[r0, j]
        for k in range(b2):
            best[k] = v0[k]
            co[k] = c0[k]
        for d in range(s0, h0 + 1, s0):
            rr = (i + d) % nring
            vr = vals[rr, j]
            cr = codes[rr, j]
            add = d * plane
            for k in range(b2):
                v = vr[k]
                cur = best[k]
                better = v < cur
                best[k] = v if better else cur
                co[k] = cr[k] + add if better else co[k]
        for k in range(b2):
            co[k] = co[k] if best[k] < np.inf else -1


@njit(**_OPTS)
def _take_means(means, code, i, h0, base, out):
    """``out[j, k]``: the mean of the window at flat offset ``code[j, k]`` from the voxel's
    own start (from the ring of the last h0 + 1 planes of window means), NaN for -1.
    ``base`` (h0 + 1,) is scratch; no divisions (the ring slot comes from comparisons)."""
    nring, g1, g2 = means.shape
    plane = g1 * g2
    flat = means.ravel()
    for d in range(h0 + 1):
        base[d] = ((i + d) % nring) * plane - d * plane
    b1, b2 = out.shape
    for j in range(b1):
        cj = code[j]
        oj = out[j]
        row = j * g2
        for k in range(b2):
            c = cj[k]
            d0 = 0
            for d in range(1, h0 + 1):
                d0 += c >= d * plane
            v = flat[base[d0] + row + k + c] if c >= 0 else np.nan
            oj[k] = v


@njit(**_OPTS)
def _flat_index(code, i, g1, g2, out):
    """Flat index into the (G0, G1, G2) grid of the window at offset ``code[j, k]`` from
    output voxel (i, j, k)'s own start (float64, NaN for -1)."""
    b1, b2 = out.shape
    for j in range(b1):
        for k in range(b2):
            c = code[j, k]
            out[j, k] = (i * g1 + j) * g2 + k + c if c >= 0 else np.nan


@njit(**_OPTS)
def _steps(h0, h1, h2, octants):
    # octants: only the starts p - h and p (step h); otherwise every start (step 1)
    s0 = h0 if (octants and h0 > 0) else 1
    s1 = h1 if (octants and h1 > 0) else 1
    s2 = h2 if (octants and h2 > 0) else 1
    return s0, s1, s2


# ---------------------------------------------------------------- whole blocks

@njit(**_OPTS)
def box_statistics(x, w0, w1, w2, min_valid, mean, var):
    """Mean and variance of the finite voxels of every window of size (w0, w1, w2).

    Parameters
    ----------
    x : ndarray of shape (P0, P1, P2), float32 or float64, C-contiguous
        Padded block; NaN (and inf) voxels are left out.
    w0, w1, w2 : int
        Window size per axis.
    min_valid : int
        A window with fewer finite voxels gets variance ``inf`` (it cannot be chosen).
    mean, var : ndarray of shape (P0 - w0 + 1, P1 - w1 + 1, P2 - w2 + 1), float64
        Filled in place: mean (NaN for a window without finite voxels) and population
        variance of each window, indexed by the window's first voxel.
    """
    p0, p1, p2 = x.shape
    g1 = p1 - w1 + 1
    g2 = p2 - w2 + 1
    gaps = not _all_finite(x)
    ring_s = np.empty((w0, g1, g2))
    ring_q = np.empty((w0, g1, g2))
    ring_c = np.empty((w0 if gaps else 1, g1, g2))
    rs, rq, rc = np.empty(p2), np.empty(p2), np.empty(p2)
    ts, tq, tc = np.empty((p1, g2)), np.empty((p1, g2)), np.empty((p1 if gaps else 1, g2))
    s, q, c = np.empty(g2), np.empty(g2), np.empty(g2)
    full = float(w0 * w1 * w2)
    for a in range(p0):
        r = a % w0
        _plane_sums(x, a, w1, w2, gaps, rs, rq, rc, ts, tq, tc,
                    ring_s[r], ring_q[r], ring_c[r if gaps else 0])
        if a >= w0 - 1:
            b = a - w0 + 1
            _plane_statistics(ring_s, ring_q, ring_c, b, gaps, full, min_valid, s, q, c,
                              mean[b], var[b])


@njit(**_OPTS)
def choose_window(score, h0, h1, h2, octants, out):
    """For each output voxel, the flat grid index of its candidate window of least score.

    Ties go to the window whose start is smallest, compared inline first, then crossline,
    then sample: starts are scanned in increasing order with a strict ``<``, one axis at a
    time (the lexicographic minimum of (score, start) over a box is separable).

    Parameters
    ----------
    score : ndarray of shape (G0, G1, G2), float64
        Score of each window (``inf``: not a candidate), indexed by its start.
    h0, h1, h2 : int
        Halo per axis (window size - 1).
    octants : bool
        Only the two extreme starts per axis (the 8 corner windows) instead of all ``h+1``.
    out : ndarray of shape (G0 - h0, G1 - h1, G2 - h2), float64
        Filled in place with the chosen window's flat index into the (G0, G1, G2) grid
        (for :func:`gather_mean` and :func:`gather_median`), NaN where no candidate has
        a finite score.
    """
    g0, g1, g2 = score.shape
    b0, b1, b2 = out.shape
    s0, s1, s2 = _steps(h0, h1, h2, octants)
    val1, code1 = np.empty((g1, b2)), np.empty((g1, b2), np.int64)
    vals, codes = np.empty((h0 + 1, b1, b2)), np.empty((h0 + 1, b1, b2), np.int64)
    best, chosen = np.empty(b2), np.empty((b1, b2), np.int64)
    plane = g1 * g2
    for b in range(g0):
        r = b % (h0 + 1)
        _plane_best(score[b], h1, h2, s1, s2, val1, code1, vals[r], codes[r])
        if b >= h0:
            _axis0_best(vals, codes, b - h0, h0, s0, plane, best, chosen)
            _flat_index(chosen, b - h0, g1, g2, out[b - h0])


@njit(**_OPTS)
def gather_mean(mean, index, out):
    """``out[v] = mean.flat[index[v]]``, NaN where ``index`` is NaN.

    ``mean`` has the grid's shape (G0, G1, G2); ``index`` and ``out`` the block's (B0, B1, B2).
    """
    flat = mean.ravel()
    b0, b1, b2 = index.shape
    for i in range(b0):
        for j in range(b1):
            for k in range(b2):
                f = index[i, j, k]
                out[i, j, k] = flat[np.int64(f)] if np.isfinite(f) else np.nan


@njit(**_OPTS)
def _select(a, n, kth):
    """The kth smallest of ``a[:n]`` (Hoare quickselect, in place); afterwards every
    ``a[:kth]`` is <= it."""
    lo = 0
    hi = n - 1
    while hi > lo:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            break
    return a[kth]


@njit(**_OPTS)
def _median_plane(x, w0, w1, w2, g0, g1, g2, index, out):
    """Median of the finite voxels of the chosen window of each voxel of one plane.

    ``index`` (B1, B2) holds flat indices into the (g0, g1, g2) window-start grid (NaN:
    none); ``out`` (B1, B2) gets the median (mean of the two middle values for an even
    count, as ``numpy.median``), NaN where no window or no finite voxel.
    """
    buf = np.empty(w0 * w1 * w2)
    srt = np.empty(w0 * w1 * w2)
    b1, b2 = index.shape
    for j in range(b1):
        for k in range(b2):
            f = index[j, k]
            if not np.isfinite(f):
                out[j, k] = np.nan
                continue
            n = np.int64(f)
            a0 = n // (g1 * g2)
            a1 = (n // g2) % g1
            a2 = n % g2
            m = 0
            for u in range(a0, a0 + w0):
                for v in range(a1, a1 + w1):
                    row = x[u, v]
                    for t in range(a2, a2 + w2):
                        y = np.float64(row[t])
                        if np.isfinite(y):
                            buf[m] = y
                            m += 1
            if m == 0:
                out[j, k] = np.nan
                continue
            if m <= 32:
                # small windows: rank counting (branch-free, about twice quickselect's speed)
                for t in range(m):
                    y = buf[t]
                    r = 0
                    for u in range(m):
                        r += buf[u] < y
                    for u in range(t):
                        r += buf[u] == y
                    srt[r] = y
                upper = srt[m // 2]
                lower = srt[m // 2 - 1] if m > 1 else upper
            else:
                upper = _select(buf, m, m // 2)
                lower = buf[0]
                for t in range(1, m // 2):
                    lower = max(lower, buf[t])
            out[j, k] = upper if m % 2 == 1 else 0.5 * (lower + upper)


@njit(**_OPTS)
def gather_median(x, w0, w1, w2, grid, index, out):
    """Median of the finite voxels of each voxel's chosen window.

    Parameters
    ----------
    x : ndarray of shape (P0, P1, P2)
        Padded block.
    w0, w1, w2 : int
        Window size.
    grid : tuple of 3 int
        Shape (G0, G1, G2) of the window-start grid that ``index`` points into.
    index : ndarray of shape (B0, B1, B2), float64
        Flat grid index of the chosen window per output voxel (from
        :func:`choose_window`), NaN for none.
    out : ndarray of shape (B0, B1, B2)
        Filled in place, NaN where no window or no finite voxel.
    """
    for i in range(index.shape[0]):
        _median_plane(x, w0, w1, w2, grid[0], grid[1], grid[2], index[i], out[i])


@njit(**_OPTS)
def kuwahara_block(x, w0, w1, w2, octants, min_valid, median, out):
    """One volume choosing its own windows: statistics, choice and output of one block.

    Streams plane by plane (box sums -> window statistics -> 2D arg-min -> arg-min over
    inlines) through rings of a few planes, so the work arrays stay in cache.

    Parameters
    ----------
    x : ndarray of shape (B0 + 2 h0, B1 + 2 h1, B2 + 2 h2), C-contiguous
        Padded block (``h = w - 1``).
    w0, w1, w2 : int
        Window size.
    octants, min_valid :
        As in :func:`choose_window` and :func:`box_statistics`.
    median : bool
        Output the median of the chosen window instead of its mean.
    out : ndarray of shape (B0, B1, B2)
        Filled in place.
    """
    p0, p1, p2 = x.shape
    h0, h1, h2 = w0 - 1, w1 - 1, w2 - 1
    g1 = p1 - h1
    g2 = p2 - h2
    b1, b2 = out.shape[1], out.shape[2]
    gaps = not _all_finite(x)
    full = float(w0 * w1 * w2)
    s0, s1, s2 = _steps(h0, h1, h2, octants)
    ring_s = np.empty((w0, g1, g2))
    ring_q = np.empty((w0, g1, g2))
    ring_c = np.empty((w0 if gaps else 1, g1, g2))
    rs, rq, rc = np.empty(p2), np.empty(p2), np.empty(p2)
    ts, tq, tc = np.empty((p1, g2)), np.empty((p1, g2)), np.empty((p1 if gaps else 1, g2))
    s, q, c = np.empty(g2), np.empty(g2), np.empty(g2)
    means, var = np.empty((h0 + 1, g1, g2)), np.empty((g1, g2))
    val1, code1 = np.empty((g1, b2)), np.empty((g1, b2), np.int64)
    vals, codes = np.empty((h0 + 1, b1, b2)), np.empty((h0 + 1, b1, b2), np.int64)
    best, chosen = np.empty(b2), np.empty((b1, b2), np.int64)
    index, base = np.empty((b1, b2)), np.empty(h0 + 1, np.int64)
    plane = g1 * g2
    for a in range(p0):
        r = a % w0
        _plane_sums(x, a, w1, w2, gaps, rs, rq, rc, ts, tq, tc,
                    ring_s[r], ring_q[r], ring_c[r if gaps else 0])
        if a < h0:
            continue
        b = a - h0
        rb = b % (h0 + 1)
        _plane_statistics(ring_s, ring_q, ring_c, b, gaps, full, min_valid, s, q, c, means[rb], var)
        _plane_best(var, h1, h2, s1, s2, val1, code1, vals[rb], codes[rb])
        if b < h0:
            continue
        i = b - h0
        _axis0_best(vals, codes, i, h0, s0, plane, best, chosen)
        if median:
            _flat_index(chosen, i, g1, g2, index)
            _median_plane(x, w0, w1, w2, p0 - h0, g1, g2, index, out[i])
        else:
            _take_means(means, chosen, i, h0, base, out[i])


# the change statistics are report figures summed in any order (per region, then over
# regions): reassociation lets the eight running sums vectorise; NaN and inf keep their
# meaning (no "nnan"/"ninf" flags), as the finite tests need
_SUMS = {**_OPTS, "fastmath": {"reassoc", "contract"}}


@njit(**_SUMS)
def change_sums(x, y, live, h0, h1, h2):
    """What the filter changed in one block, in one pass (for the run report).

    Parameters
    ----------
    x : ndarray of shape (B0 + 2 h0, B1 + 2 h1, B2 + 2 h2), C-contiguous
        Padded input block (its centre is compared: a contiguous array keeps the loop
        vectorised, where a view of the centre would not).
    y : ndarray of shape (B0, B1, B2)
        Filtered block.
    h0, h1, h2 : int
        Halo of ``x`` per axis.
    live : ndarray of shape (B0, B1), bool
        Trace mask; dead traces of ``x`` are left out (they may hold zeros).

    Returns
    -------
    ndarray of shape (8,), float64
        Count, sum and sum of squares of the finite live input voxels, the same for the
        finite output voxels, then the count of voxels finite in both and their summed
        absolute change.
    """
    out = np.zeros(8)
    b0, b1, b2 = y.shape
    for i in range(b0):
        for j in range(b1):
            if not live[i, j]:
                continue
            xr = x[i + h0, j + h1, h2:]
            yr = y[i, j]
            n_u = s_u = q_u = n_v = s_v = q_v = n_b = a_b = 0.0
            for k in range(b2):
                u = np.float64(xr[k])
                v = np.float64(yr[k])
                fu = np.isfinite(u)
                fv = np.isfinite(v)
                uu = u if fu else 0.0
                vv = v if fv else 0.0
                both = fu and fv
                n_u += fu
                s_u += uu
                q_u += uu * uu
                n_v += fv
                s_v += vv
                q_v += vv * vv
                n_b += both
                a_b += abs(uu - vv) if both else 0.0
            out[0] += n_u
            out[1] += s_u
            out[2] += q_u
            out[3] += n_v
            out[4] += s_v
            out[5] += q_v
            out[6] += n_b
            out[7] += a_b
    return out
