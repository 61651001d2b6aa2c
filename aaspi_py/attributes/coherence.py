"""Coherence: semblance and eigenstructure coherence over a window of traces x samples.

The window holds ``coherence_traces`` x ``coherence_traces`` traces centred on the output trace
and ``coherence_samples`` samples centred on the output sample (cut short at the trace ends).
With C the K x K matrix of the window's trace cross-products, C_kl = sum_t x_k(t) x_l(t)
(not centred, as Gersztenkorn and Marfurt 1999 define it):

- semblance = 1^T C 1 / (K trace C) = sum_t (sum_k x_k)^2 / (K sum_t sum_k x_k^2);
- eigenstructure coherence = lambda_1 / trace C, lambda_1 the largest eigenvalue of C.

Both lie in [0, 1]: 1 for laterally continuous flat reflectors (eigenstructure also when the
amplitude changes from trace to trace), near 1/K for random noise. Both are 0 where the window
holds no energy. Windows are flat, or with ``coherence_along_dip`` tilted along the local
reflector dip (the geometric family's structure-tensor dips over its ``dip_traces`` x
``dip_samples`` window): each neighbour trace is read at t + p di + q dj, linearly
interpolated, so dipping reflectors stay coherent. Traces beyond the block are mirrored.
The largest eigenvalue comes from a few power steps started from the previous sample's
eigenvector (C changes little from one sample to the next) when their residual proves it within
1e-7 of lambda_1, else from K Lanczos steps with full reorthogonalisation and bisection, which
is exact up to rounding (equal to LAPACK's ``eigvalsh`` to ~1e-15, 1.3x faster per matrix here).
"""

from __future__ import annotations

from collections.abc import Mapping

import numba
import numpy as np

from . import geometric
from ._box import _mirror
from ._family import Attribute
from ._windows import check_windows, family, odd_window_problem
from .geometric import dips

ATTRIBUTES = (
    Attribute("semblance", "unitless",
              "sum_t (sum_k x_k)^2 / (K sum_t sum_k x_k^2) over coherence_traces^2 traces x coherence_samples"),
    Attribute("eigenstructure_coherence", "unitless",
              "lambda_1 / trace C of the traces' cross-product matrix (Gersztenkorn and Marfurt 1999), "
              "same window"),
)

OPTIONS = {"coherence_traces": 3, "coherence_samples": 11, "coherence_along_dip": False,
           "dip_traces": geometric.OPTIONS["dip_traces"], "dip_samples": geometric.OPTIONS["dip_samples"]}
HELP = {
    "coherence_traces": "Traces (odd) along inline and crossline in the coherence window (3 = 3 x 3 traces).",
    "coherence_samples": "Samples (odd) in the coherence window.",
    "coherence_along_dip": "Tilt each coherence window along the local reflector dip (structure-oriented; slower).",
    "dip_traces": geometric.HELP["dip_traces"],
    "dip_samples": geometric.HELP["dip_samples"],
}
_WINDOWS = ("coherence_traces", "coherence_samples", "dip_traces", "dip_samples")


def _check(options: Mapping) -> str | None:
    return odd_window_problem(options, *_WINDOWS)


def halo(options: Mapping) -> tuple[int, int]:
    """The window's half width; along dip, also the reach of the dip at the output voxel."""
    opts = {**OPTIONS, **options}
    h = opts["coherence_traces"] // 2
    if opts["coherence_along_dip"]:
        h = max(h, geometric.halo({"dip_traces": opts["dip_traces"], "deviation_traces": 1})[0])
    return h, h


@numba.njit(cache=True)
def _top_eigenvalue_tridiagonal(alpha, beta, m, upper):
    """Largest eigenvalue of the symmetric tridiagonal (alpha[:m], beta[:m-1]) by bisection on
    Sturm counts, between 0 and ``upper``."""
    lo, hi = 0.0, upper
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        below = 0  # eigenvalues smaller than mid
        d = 1.0
        for k in range(m):
            off = beta[k - 1] * beta[k - 1] / d if k > 0 else 0.0
            d = alpha[k] - mid - off
            if d == 0.0:
                d = -1e-300
            if d < 0.0:
                below += 1
        if below == m:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True, inline="always")
def _dot(a, b, n):
    s = 0.0
    for k in range(n):
        s += a[k] * b[k]
    return s


@numba.njit(cache=True, inline="always")
def _orthogonalise(w, q, j, n):
    """w minus its projections on q[0..j], twice (Parlett's "twice is enough")."""
    for _ in range(2):
        for k in range(j + 1):
            proj = _dot(q[k], w, n)
            for a in range(n):
                w[a] -= proj * q[k, a]


@numba.njit(cache=True)
def _lanczos_top(c, start, q, alpha, beta, w):
    """Largest eigenvalue of the symmetric K x K ``c``: K Lanczos steps with full
    reorthogonalisation (exact up to rounding), restarting on a unit vector at a breakdown."""
    n = c.shape[0]
    norm = np.sqrt(_dot(start, start, n))
    for a in range(n):
        q[0, a] = start[a] / norm if norm > 0 else 1.0 / np.sqrt(n)
    scale = 0.0
    for a in range(n):
        scale += c[a, a]
    for j in range(n):
        for a in range(n):
            s = 0.0
            for b in range(n):
                s += c[a, b] * q[j, b]
            w[a] = s
        alpha[j] = _dot(q[j], w, n)
        if j == n - 1:
            break
        _orthogonalise(w, q, j, n)
        b = np.sqrt(_dot(w, w, n))
        if b <= 1e-12 * scale:
            # breakdown (an invariant subspace): continue on the unit vector least in it
            beta[j] = 0.0
            best, best_norm = 0, -1.0
            for e in range(n):
                nn = 1.0
                for k in range(j + 1):
                    nn -= q[k, e] * q[k, e]
                if nn > best_norm:
                    best, best_norm = e, nn
            for a in range(n):
                w[a] = 1.0 if a == best else 0.0
            _orthogonalise(w, q, j, n)
            b = np.sqrt(_dot(w, w, n))
        else:
            beta[j] = b
        for a in range(n):
            q[j + 1, a] = w[a] / b
    upper = 0.0
    for k in range(n):
        radius = abs(alpha[k]) + (abs(beta[k - 1]) if k > 0 else 0.0) + (abs(beta[k]) if k < n - 1 else 0.0)
        upper = max(upper, radius)
    return _top_eigenvalue_tridiagonal(alpha, beta, n, upper)


@numba.njit(cache=True)
def _largest_eigenvalue(c, energy, v, w, q, alpha, beta):
    """lambda_1 of the cross-product matrix ``c`` (trace ``energy``); ``v`` holds the previous
    sample's eigenvector on entry and this one's on return; w, q, alpha, beta are work arrays."""
    n = c.shape[0]
    # fast path: a few power steps from the previous eigenvector, kept when the residual proves
    # the Rayleigh quotient within 1e-7 of lambda_1 (an eigenvalue above trace/2 is the largest;
    # its error is <= |r|^2 / gap)
    for _ in range(3):
        rayleigh = 0.0
        norm2 = 0.0
        for a in range(n):
            s = 0.0
            for b in range(n):
                s += c[a, b] * v[b]
            w[a] = s
            rayleigh += v[a] * s
            norm2 += s * s
        if norm2 <= 0.0:
            break
        residual = np.sqrt(max(norm2 - rayleigh * rayleigh, 0.0))
        inv = 1.0 / np.sqrt(norm2)
        for a in range(n):
            v[a] = w[a] * inv
        gap = 2.0 * (rayleigh - residual) - energy
        if gap > 0.0 and residual * residual <= 1e-7 * energy * gap:
            return rayleigh
    return _lanczos_top(c, v, q, alpha, beta, w)


@numba.njit(cache=True)
def _coherence_along_dip(x, p, q_dip, r_trace, r_sample, eigen):
    """As :func:`_coherence` with each neighbour's window shifted along the output voxel's dip:
    trace (i+a, j+b) is read at t + s + p a + q b (linear interpolation, held at the trace ends)."""
    ni, nx, ns = x.shape
    width = 2 * r_trace + 1
    k_traces = width * width
    semblance = np.zeros((ni, nx, ns), dtype=np.float32)
    coherence = np.zeros((ni, nx, ns), dtype=np.float32)
    for i in range(ni):
        d = np.empty((k_traces, 2 * r_sample + 1), dtype=np.float64)
        c = np.empty((k_traces, k_traces), dtype=np.float64)
        v = np.empty(k_traces, dtype=np.float64)
        w = np.empty(k_traces, dtype=np.float64)
        q = np.empty((k_traces, k_traces), dtype=np.float64)
        alpha = np.zeros(k_traces, dtype=np.float64)
        beta = np.zeros(k_traces, dtype=np.float64)
        for j in range(nx):
            v[:] = 1.0 / np.sqrt(k_traces)
            for t in range(ns):
                t0, t1 = max(t - r_sample, 0), min(t + r_sample + 1, ns)
                m = t1 - t0
                k = 0
                for di in range(-r_trace, r_trace + 1):
                    for dj in range(-r_trace, r_trace + 1):
                        src = x[_mirror(i + di, ni), _mirror(j + dj, nx)]
                        shift = p[i, j, t] * di + q_dip[i, j, t] * dj
                        for u in range(m):
                            tau = min(max(t0 + u + shift, 0.0), ns - 1.0)
                            lo = min(int(tau), ns - 2) if ns > 1 else 0
                            frac = tau - lo
                            d[k, u] = src[lo] * (1.0 - frac) + src[min(lo + 1, ns - 1)] * frac
                        k += 1
                total = 0.0
                energy = 0.0
                for a in range(k_traces):
                    for b in range(a, k_traces):
                        value = 0.0
                        for u in range(m):
                            value += d[a, u] * d[b, u]
                        c[a, b] = value
                        c[b, a] = value
                        total += value if a == b else 2.0 * value
                    energy += c[a, a]
                if energy <= 0.0:
                    continue
                semblance[i, j, t] = total / (k_traces * energy)
                if eigen:
                    lam = _largest_eigenvalue(c, energy, v, w, q, alpha, beta)
                    coherence[i, j, t] = min(max(lam / energy, 0.0), 1.0)
    return semblance, coherence


@numba.njit(cache=True)
def _coherence(x, r_trace, r_sample, eigen):
    ni, nx, ns = x.shape
    width = 2 * r_trace + 1
    k_traces = width * width
    semblance = np.zeros((ni, nx, ns), dtype=np.float32)
    coherence = np.zeros((ni, nx, ns), dtype=np.float32)
    for i in range(ni):
        traces = np.empty((k_traces, ns), dtype=np.float64)
        # prefix[k, l, t] = sum_{s < t} x_k(s) x_l(s), so a window sum is two lookups
        prefix = np.zeros((k_traces, k_traces, ns + 1), dtype=np.float64)
        c = np.empty((k_traces, k_traces), dtype=np.float64)
        v = np.empty(k_traces, dtype=np.float64)
        w = np.empty(k_traces, dtype=np.float64)
        q = np.empty((k_traces, k_traces), dtype=np.float64)
        alpha = np.zeros(k_traces, dtype=np.float64)
        beta = np.zeros(k_traces, dtype=np.float64)
        for j in range(nx):
            k = 0
            for di in range(-r_trace, r_trace + 1):
                for dj in range(-r_trace, r_trace + 1):
                    src = x[_mirror(i + di, ni), _mirror(j + dj, nx)]
                    for t in range(ns):
                        traces[k, t] = src[t]
                    k += 1
            for a in range(k_traces):
                for b in range(a, k_traces):
                    acc = 0.0
                    for t in range(ns):
                        acc += traces[a, t] * traces[b, t]
                        prefix[a, b, t + 1] = acc
            v[:] = 1.0 / np.sqrt(k_traces)
            for t in range(ns):
                t0, t1 = max(t - r_sample, 0), min(t + r_sample + 1, ns)
                total = 0.0
                energy = 0.0
                for a in range(k_traces):
                    for b in range(a, k_traces):
                        value = prefix[a, b, t1] - prefix[a, b, t0]
                        c[a, b] = value
                        c[b, a] = value
                        total += value if a == b else 2.0 * value
                    energy += c[a, a]
                if energy <= 0.0:
                    continue
                semblance[i, j, t] = total / (k_traces * energy)
                if not eigen:
                    continue
                lam = _largest_eigenvalue(c, energy, v, w, q, alpha, beta)
                coherence[i, j, t] = min(max(lam / energy, 0.0), 1.0)
    return semblance, coherence


def compute(block: np.ndarray, names, *, sample_interval: float, coherence_traces: int = 3,
            coherence_samples: int = 11, coherence_along_dip: bool = False, dip_traces: int = 5,
            dip_samples: int = 9, **_: object) -> dict[str, np.ndarray]:
    """The requested coherence attributes of ``block`` (inline, crossline, sample), float32."""
    check_windows({"coherence_traces": coherence_traces, "coherence_samples": coherence_samples,
                   "dip_traces": dip_traces, "dip_samples": dip_samples},
                  "coherence_traces", "coherence_samples", "dip_traces", "dip_samples")
    names = list(names)
    x = np.ascontiguousarray(block, dtype=np.float32)
    eigen = "eigenstructure_coherence" in names
    if coherence_along_dip:
        p, q, _magnitude = dips(x, (dip_traces, dip_traces, dip_samples))
        semblance, coherence = _coherence_along_dip(x, p, q, coherence_traces // 2, coherence_samples // 2, eigen)
    else:
        semblance, coherence = _coherence(x, coherence_traces // 2, coherence_samples // 2, eigen)
    out = {"semblance": semblance, "eigenstructure_coherence": coherence}
    return {name: out[name] for name in names}


FAMILY = family(
    name="coherence",
    attributes=ATTRIBUTES,
    compute=compute,
    halo=halo,
    options=OPTIONS,
    help=HELP,
    check=_check,
)
