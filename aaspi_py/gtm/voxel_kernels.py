"""Numba kernels of the GTM volume mapping: every output of a voxel from its own values.

Each voxel is mapped on its own, by one fixed sequence of operations, so its outputs are
bitwise identical whichever chunk (or position in a chunk) it is computed in. The loops
run over the K nodes innermost, laid out (D, K) and (C, K), so LLVM vectorises them
(AVX-512 on x86 when present); the kernel is serial and releases the GIL (dask runs
chunks on several threads).

Numerics, for a voxel x (standardised, centred like the node centres y_k):

- exponents ``a_k = -β/2 ||x - y_k||²`` enter every output only through
  ``a_k - max_j a_j``; the kernel computes ``g_k = β x·y_k - β/2 ||y_k||²`` (a D-term dot
  product per node) and ``g_k - max_j g_j``, in which ``||x||²`` cancels exactly. Its
  rounding error is about ``(D + 2) ε β (||x|| ||y||max + ||y||²max)``, below 1e-12 for
  ordinary voxels and still 1e-8 at 100,000 standard deviations, where ``||x - y||²``
  formed from differences would lose ``ε β ||x||²`` (1e-4) instead;
- every voxel is shifted by its own maximum (log-sum-exp), so the sum of the
  exponentials is at least 1: no voxel is too far from every node;
- shifted exponents are clipped at a floor (-600, or -300 for the half exponents of the
  facies outputs): a clipped term weighs under 1e-260 of the largest and stays a normal
  number (subnormal arithmetic is ~100x slower);
- ``exp`` is evaluated in the loop (range reduction by ln 2 split in two parts, degree-12
  Taylor polynomial, exponent bits set directly): relative error below 3e-14 on
  [-708, 0], vectorised where the library ``exp`` would be a scalar call per node;
- only the nodes from the first to the last block of ``LANES`` nodes holding a term of at
  least ``exp(-cut)`` are exponentiated (``cut = ln K + 54 ln 2``, set by the caller): the
  others weigh under ``2**-54`` of the sum together, below its float64 rounding;
- the latent mode is the first node of largest ``g`` (the exponent's argmax).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# Reassociation lets LLVM vectorise the sums over nodes (in one fixed order for every
# voxel); no nnan/ninf flags, as voxels with a missing attribute must be recognised.
_FAST = {"reassoc", "contract", "nsz", "arcp"}
_OPTS = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": _FAST}

_LOG2E = 1.4426950408889634
# ln 2 in two parts: n * _LN2_HI is exact for |n| < 2**20
_LN2_HI = 0.693147180369123816490
_LN2_LO = 1.90821492927058770002e-10
_C = tuple(1.0 / math.factorial(i) for i in range(13))
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _C


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _larger(typingctx, a, b):
    """``a if a > b else b`` for finite floats, marked so LLVM vectorises max reductions
    (numba's own ``max`` keeps NaN semantics, which blocks the vectoriser)."""
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        above = builder.fcmp_ordered(">", args[0], args[1], flags=("fast",))
        return builder.select(above, args[0], args[1], flags=("fast",))

    return sig, codegen


@njit(cache=True, nogil=True)
def _finite(x):
    """Whether ``x`` is finite; without fast-math flags (numba's ``isfinite`` tests
    ``x - x``, which reassociation folds to 0)."""
    return abs(x) < math.inf


@njit(inline="always", **_OPTS)
def exp_nonpositive(x):
    """``exp(x)`` for ``-708 <= x <= 0`` (relative error below 3e-14; vectorisable).
    Below -708 the exponent field would underflow: callers clip first."""
    n = np.floor(x * _LOG2E + 0.5)
    r = x - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = p * r + _C1
    p = p * r + _C0
    return p * _bits_as_float((np.int64(n) + 1023) << 52)


@njit(**_OPTS)
def exp_array(x, out):
    """:func:`exp_nonpositive` of every element of ``x`` into ``out`` (for tests)."""
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


#: nodes are visited in blocks of this many (one AVX-512 vector of float64)
LANES = 8


@njit(**_OPTS)
def map_voxels(values, trace_live, n_samples, center, scale, offset, weights, bias, half, floor, cut,
               latent, node_posterior, sqrt_pdfs, by_posterior, channels, classes, pdf):
    """Map the voxels of one chunk.

    Parameters
    ----------
    values : ndarray of shape (D, n), float32 or float64
        Attribute values, voxel ``v`` of trace ``v // n_samples``.
    trace_live : ndarray of shape (n // n_samples,), bool
    n_samples : int
    center, scale, offset : ndarray of shape (D,)
        The GTM sees ``(value - center) / scale - offset``.
    weights : ndarray of shape (Dp, Kp), Dp >= D a multiple of 3, Kp >= K a multiple of LANES
        ``β y_k`` (zeros past D and K).
    bias : ndarray of shape (Kp,)
        ``-β/2 ||y_k||²``; -1e300 for the padding nodes past K, which never count.
    half : bool
        Exponentiate ``(a - max a) / 2`` (square roots of the responsibilities, for the
        Bhattacharyya coefficients) and square it, rather than ``a - max a``.
    floor : float
        Clip of the exponentiated (halved) shifted exponents.
    cut : float
        Only the nodes from the first to the last block of LANES nodes that holds a
        (halved) shifted exponent of at least ``-cut`` are exponentiated; the others
        count as 0.
    latent : ndarray of shape (2, Kp)
    node_posterior, sqrt_pdfs : ndarray of shape (M, Kp)
        ``P(m|k)`` and ``sqrt(p_mk)``.
    by_posterior : bool
        The class maximises the posterior (else the Bhattacharyya coefficient).
    channels : ndarray of shape (3 + 2M, n), float32, zeros
        Receives u1, u2, mode (1..K), Bhattacharyya coefficients, posteriors.
    classes : ndarray of shape (n,), int16, zeros
        Receives the most probable facies 1..M (when M > 0).
    pdf : ndarray of shape (Kp,), float64
        Responsibilities of the live voxels are added to it.

    Returns
    -------
    int
        Number of live voxels.
    """
    d, n = values.shape
    dp, k = weights.shape
    m = sqrt_pdfs.shape[0]
    x = np.zeros(dp)
    g = np.empty(k)
    h = np.empty(k)
    e = np.empty(k)
    score = np.empty(m, dtype=np.float32)
    u1 = latent[0]
    u2 = latent[1]
    sc = 0.5 if half else 1.0
    live_count = 0
    for v in range(n):
        if not trace_live[v // n_samples]:
            continue
        finite = True
        for j in range(d):
            xj = (np.float64(values[j, v]) - center[j]) / scale[j] - offset[j]
            finite = finite and _finite(xj)
            x[j] = xj
        if not finite:
            continue
        live_count += 1
        # g_k = bias_k + Σ_j x_j w_jk, three attributes per pass over the nodes; the last
        # pass also finds the largest
        x0 = x[dp - 3]
        x1 = x[dp - 2]
        x2 = x[dp - 1]
        w0 = weights[dp - 3]
        w1 = weights[dp - 2]
        w2 = weights[dp - 1]
        for i in range(k):
            g[i] = bias[i] + x0 * w0[i] + x1 * w1[i] + x2 * w2[i]
        for j in range(dp - 6, -1, -3):
            x0 = x[j]
            x1 = x[j + 1]
            x2 = x[j + 2]
            w0 = weights[j]
            w1 = weights[j + 1]
            w2 = weights[j + 2]
            for i in range(k):
                g[i] += x0 * w0[i] + x1 * w1[i] + x2 * w2[i]
        top = g[0]
        for i in range(k):
            top = _larger(g[i], top)
        # the mode, and the span of blocks holding a term above exp(-cut)
        low = top - cut / sc
        mode = k
        first = k
        last = 0
        for i in range(k):
            mode = min(mode, i if g[i] == top else k)
            first = min(first, i if g[i] >= low else k)
            last = max(last, i if g[i] >= low else 0)
        lo = first - first % LANES
        hi = last - last % LANES + LANES
        # loops over slices: numba indexes them without the negative-index check that
        # keeps a loop from ``lo`` from vectorising
        gs = g[lo:hi]
        hs = h[lo:hi]
        es = e[lo:hi]
        u1s = u1[lo:hi]
        u2s = u2[lo:hi]
        total = 0.0
        s1 = 0.0
        s2 = 0.0
        if half:
            for i in range(gs.shape[0]):
                hi_ = exp_nonpositive(_larger(0.5 * (gs[i] - top), floor))
                ei = hi_ * hi_
                hs[i] = hi_
                es[i] = ei
                total += ei
                s1 += ei * u1s[i]
                s2 += ei * u2s[i]
        else:
            for i in range(gs.shape[0]):
                ei = exp_nonpositive(_larger(gs[i] - top, floor))
                es[i] = ei
                total += ei
                s1 += ei * u1s[i]
                s2 += ei * u2s[i]
        inv = 1.0 / total
        channels[0, v] = s1 * inv
        channels[1, v] = s2 * inv
        channels[2, v] = mode + 1
        ps = pdf[lo:hi]
        for i in range(es.shape[0]):
            ps[i] += es[i] * inv
        if m:
            root = math.sqrt(inv)
            for f in range(m):
                post = node_posterior[f, lo:hi]
                sp = sqrt_pdfs[f, lo:hi]
                sb = 0.0
                sq = 0.0
                for i in range(es.shape[0]):
                    sb += hs[i] * sp[i]
                    sq += es[i] * post[i]
                bc = np.float32(min(sb * root, 1.0))
                q = np.float32(sq * inv)
                channels[3 + f, v] = bc
                channels[3 + m + f, v] = q
                score[f] = q if by_posterior else bc
            best = 0
            for f in range(1, m):
                if score[f] > score[best]:
                    best = f
            classes[v] = best + 1
    return live_count
