"""The attribute formulas written as a user scripts them with plain numpy/scipy/scikit-image
calls on a whole volume in memory: the yardstick of ``benches/attributes.py``.

Each function takes a float32 (inline, crossline, sample) array and the family's options and
returns ``{name: float64 array}`` computed with whole-array calls (``scipy.signal.hilbert``,
``scipy.ndimage`` box filters, ``numpy.fft``, ``numpy.linalg.eigvalsh``), edges treated as
the ``attributes`` module treats them, so the two give the same values (the benchmark prints
the largest difference). Where one voxel needs a small matrix (eigenstructure coherence, the
GLCM) or a short-window spectrum, the work is done per inline or per few inlines so memory
stays within a workstation's; ``inlines`` restricts those to a range of output inlines so a
benchmark can time a subset and scale it.

Nothing here is used by the package; tests keep their own small per-voxel references.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


# ---------------------------------------------------------------- complex trace

def complex_trace(x: np.ndarray, dt_ms: float = 4.0, trace_window: int = 9) -> dict[str, np.ndarray]:
    """Envelope, phase, cos(phase), weighted instantaneous frequency and bandwidth, sweetness
    and RMS amplitude from ``scipy.signal.hilbert`` on the whole array (float64)."""
    dt_s = dt_ms / 1000.0
    x64 = x.astype(np.float64)
    z = signal.hilbert(x64, axis=-1)
    env = np.abs(z)
    phase = np.angle(z)
    power = env**2

    def weighted(values):
        if trace_window == 1:
            return values
        num = ndimage.uniform_filter1d(values * power, trace_window, axis=-1, mode="reflect")
        return _ratio(num, ndimage.uniform_filter1d(power, trace_window, axis=-1, mode="reflect"))

    freq = weighted(np.gradient(np.unwrap(phase, axis=-1), dt_s, axis=-1) / (2 * np.pi))
    alive = env > 1e-30
    bw = np.abs(np.gradient(np.log(np.maximum(env, 1e-30)), dt_s, axis=-1)) / (2 * np.pi)
    bw = weighted(np.where(alive, bw, 0.0))
    rms = np.sqrt(ndimage.uniform_filter1d(x64**2, trace_window, axis=-1, mode="reflect"))
    return {"envelope": env, "instantaneous_phase": np.degrees(phase), "cos_phase": _ratio(x64, env),
            "instantaneous_frequency": freq, "instantaneous_bandwidth": bw,
            "sweetness": env / np.sqrt(np.maximum(freq, 1.0)), "rms_amplitude": rms}


# ---------------------------------------------------------------- geometric

def _phase_gradient(z: np.ndarray, axis: int) -> np.ndarray:
    """arg(z[k+1] z*[k-1]) / 2 inside, the one-sided step at both ends, along ``axis``."""
    zf = np.moveaxis(z, axis, -1)
    g = np.empty(zf.shape)
    g[..., 1:-1] = np.angle(zf[..., 2:] * np.conj(zf[..., :-2])) / 2
    g[..., 0] = np.angle(zf[..., 1] * np.conj(zf[..., 0]))
    g[..., -1] = np.angle(zf[..., -1] * np.conj(zf[..., -2]))
    return np.moveaxis(g, -1, axis)


def geometric(x: np.ndarray, dip_traces: int = 5, dip_samples: int = 9, deviation_traces: int = 11,
              deviation_samples: int = 9) -> dict[str, np.ndarray]:
    """Structure-tensor dips and the dip/energy attributes from ``scipy.signal.hilbert`` and
    ``scipy.ndimage.uniform_filter`` on the whole array (float64). The volume is first mirrored
    by the module's halo (it computes each block with its halo the same way)."""
    h = 1 + dip_traces // 2 + deviation_traces // 2
    xp = np.pad(x.astype(np.float64), ((h, h), (h, h), (0, 0)), mode="symmetric")
    small = (dip_traces, dip_traces, dip_samples)
    large = (deviation_traces, deviation_traces, deviation_samples)

    def mean(a, size):
        return ndimage.uniform_filter(a, size, mode="reflect")

    z = signal.hilbert(xp, axis=-1)
    w = np.abs(z) ** 2
    kt = _phase_gradient(z, 2)
    ki = _phase_gradient(z, 0)
    kj = _phase_gradient(z, 1)
    del z
    t_tt = mean(w * kt * kt, small)
    p = -_ratio(mean(w * kt * ki, small), t_tt)
    q = -_ratio(mean(w * kt * kj, small), t_tt)
    del w, kt, ki, kj
    magnitude = np.hypot(p, q)
    deviation = np.hypot(p - mean(p, large), q - mean(q, large))
    convergence = np.hypot(np.gradient(p, axis=2), np.gradient(q, axis=2))
    energy = mean(xp**2, small)
    gradient = np.hypot(np.gradient(energy, axis=0), np.gradient(energy, axis=1))
    background = mean(energy, large)
    covariance = mean(magnitude * energy, large) - mean(magnitude, large) * background
    out = {"inline_dip": p, "crossline_dip": q, "dip_magnitude": magnitude, "dip_deviation": deviation,
           "reflector_convergence": convergence, "energy_gradient": gradient,
           "energy_deviation": _ratio(energy - background, background), "dip_energy_covariance": covariance}
    return {k: v[h:-h, h:-h] for k, v in out.items()}


# ---------------------------------------------------------------- coherence

def semblance(x: np.ndarray, coherence_traces: int = 3, coherence_samples: int = 11) -> np.ndarray:
    """sum_t (sum_k x_k)^2 / (K sum_t sum_k x_k^2) with ``scipy.ndimage`` box filters: traces
    mirrored at the survey edges, the sample window cut short at the trace ends (zeros)."""
    x64 = x.astype(np.float64)
    lateral = (coherence_traces, coherence_traces, 1)
    stack = ndimage.uniform_filter(x64, lateral, mode="reflect")  # sum_k x_k / K
    energy = ndimage.uniform_filter(x64**2, lateral, mode="reflect")  # sum_k x_k^2 / K
    num = ndimage.uniform_filter1d(stack**2, coherence_samples, axis=-1, mode="constant")
    den = ndimage.uniform_filter1d(energy, coherence_samples, axis=-1, mode="constant")
    return _ratio(num, den)


def eigenstructure_coherence(x: np.ndarray, coherence_traces: int = 3, coherence_samples: int = 11,
                             inlines: slice = slice(None)) -> np.ndarray:
    """lambda_1 / trace C of each voxel's K x K cross-product matrix, ``numpy.linalg.eigvalsh``
    on the matrices of one inline at a time (the window's K traces x 11 samples are summed
    with ``scipy.ndimage.uniform_filter1d``); returns the ``inlines`` requested."""
    r = coherence_traces // 2
    ni, nx, ns = x.shape
    xp = np.pad(x.astype(np.float64), ((r, r), (r, r), (0, 0)), mode="symmetric")
    rows = range(ni)[inlines]
    out = np.zeros((len(rows), nx, ns))
    offsets = [(a, b) for a in range(coherence_traces) for b in range(coherence_traces)]
    k = len(offsets)
    for n, i in enumerate(rows):
        d = np.stack([xp[i + a, b:b + nx] for a, b in offsets])  # (K, nx, ns)
        c = np.empty((nx, ns, k, k))
        for a in range(k):
            for b in range(a, k):
                c[..., a, b] = c[..., b, a] = ndimage.uniform_filter1d(d[a] * d[b], coherence_samples,
                                                                       axis=-1, mode="constant")
        trace = np.trace(c, axis1=-2, axis2=-1)
        out[n] = _ratio(np.linalg.eigvalsh(c)[..., -1], trace).clip(0, 1)
    return out


# ---------------------------------------------------------------- spectral

def spectral(x: np.ndarray, dt_ms: float = 4.0, spectral_window: int = 31, spectral_nfft: int = 64,
             inlines: slice = slice(None), group: int = 8) -> dict[str, np.ndarray]:
    """Peak frequency, bandwidth and roughness of Hann-tapered ``numpy.fft.rfft`` spectra of
    every sample's window (trace ends mirrored), ``group`` inlines at a time."""
    half = spectral_window // 2
    taper = signal.windows.hann(spectral_window + 2)[1:-1]
    f = np.fft.rfftfreq(spectral_nfft, dt_ms / 1000.0)
    rows = np.arange(x.shape[0])[inlines]
    out = {n: np.zeros((len(rows), *x.shape[1:])) for n in ("peak_frequency", "spectral_bandwidth",
                                                             "spectral_roughness")}
    for start in range(0, len(rows), group):
        part = x[rows[start:start + group]].astype(np.float64)
        padded = np.pad(part, ((0, 0), (0, 0), (half, half)), mode="symmetric")
        windows = np.lib.stride_tricks.sliding_window_view(padded, spectral_window, axis=-1) * taper
        a = np.abs(np.fft.rfft(windows, n=spectral_nfft, axis=-1))
        p = a**2
        total = p.sum(-1)
        centre = _ratio((p * f).sum(-1), total)
        bandwidth = np.sqrt(_ratio((p * (f - centre[..., None]) ** 2).sum(-1), total))
        best = np.argmax(a[..., 1:], axis=-1) + 1
        peak_value = np.take_along_axis(a, best[..., None], -1)[..., 0]
        inner = best < a.shape[-1] - 1
        left = np.take_along_axis(a, (best - 1)[..., None], -1)[..., 0]
        right = np.take_along_axis(a, np.minimum(best + 1, a.shape[-1] - 1)[..., None], -1)[..., 0]
        curvature = left - 2 * peak_value + right
        parabola = inner & (curvature < 0) & (left <= peak_value) & (right <= peak_value)
        offset = np.where(parabola, np.clip(0.5 * (left - right) / np.where(parabola, curvature, -1.0),
                                            -0.5, 0.5), 0.0)
        top = np.maximum(peak_value, a[..., 0])
        roughness = _ratio(np.maximum(np.abs(np.diff(a, axis=-1)).sum(-1) - (2 * top - a[..., 0] - a[..., -1]), 0),
                           2 * top)
        done = slice(start, start + len(part))
        dead = total <= 0
        out["peak_frequency"][done] = np.where(dead, 0.0, (best + offset) * f[1])
        out["spectral_bandwidth"][done] = bandwidth
        out["spectral_roughness"][done] = np.where(dead, 0.0, roughness)
    return out


# ---------------------------------------------------------------- texture

def _box_sum_valid(a: np.ndarray, size: tuple[int, int, int]) -> np.ndarray:
    """Sum over every ``size`` box that fits inside ``a`` (a summed-area table, numpy only)."""
    s = np.zeros(tuple(n + 1 for n in a.shape), dtype=np.int32)
    s[1:, 1:, 1:] = a.cumsum(0, dtype=np.int32).cumsum(1).cumsum(2)
    (u, v, w) = size
    return (s[u:, v:, w:] - s[:-u, v:, w:] - s[u:, :-v, w:] - s[u:, v:, :-w]
            + s[:-u, :-v, w:] + s[:-u, v:, :-w] + s[u:, :-v, :-w] - s[:-u, :-v, :-w])


def grey_levels(x: np.ndarray, glcm_levels: int = 16, glcm_traces: int = 5, glcm_rms_samples: int = 51,
                rms_range: float = 2.5) -> np.ndarray:
    """Grey levels of amplitude over its local RMS (``scipy.ndimage.uniform_filter``), equal bins
    over +/- ``rms_range`` RMS."""
    x64 = x.astype(np.float64)
    rms = np.sqrt(ndimage.uniform_filter(x64**2, (glcm_traces, glcm_traces, glcm_rms_samples), mode="reflect"))
    scaled = _ratio(x64, rms)
    return np.clip(np.floor((scaled + rms_range) * (glcm_levels / (2 * rms_range))), 0, glcm_levels - 1
                   ).astype(np.uint8)


def texture(x: np.ndarray, glcm_levels: int = 16, glcm_traces: int = 5, glcm_samples: int = 9,
            glcm_rms_samples: int = 51, inlines: slice = slice(None), grey: np.ndarray | None = None
            ) -> dict[str, np.ndarray]:
    """scikit-image's ``graycoprops`` (entropy, variance, contrast, homogeneity, energy) of each
    voxel's symmetric co-occurrence matrix, its counts made with one box sum per pair of grey
    levels and direction (neighbours one step along inline, crossline, sample). ``grey``: the
    levels of :func:`grey_levels` when already computed."""
    levels = glcm_levels
    r, rs = glcm_traces // 2, glcm_samples // 2
    if grey is None:
        grey = grey_levels(x, levels, glcm_traces, glcm_rms_samples)
    rows = np.arange(x.shape[0])[inlines]
    padded = np.pad(grey, ((r, r), (r, r), (rs, rs)), mode="symmetric")[rows[0]:rows[-1] + 1 + 2 * r]
    t = glcm_traces
    # neighbour pairs per direction (first, second grey level) and the box of pair positions
    # each output voxel's window holds
    directions = [(padded[:-1], padded[1:], (t - 1, t, glcm_samples)),
                  (padded[:, :-1], padded[:, 1:], (t, t - 1, glcm_samples)),
                  (padded[:, :, :-1], padded[:, :, 1:], (t, t, glcm_samples - 1))]
    directions = [(np.minimum(a, b), np.maximum(a, b), size) for a, b, size in directions]
    pairs = t * t * (glcm_samples - 1) + 2 * (t - 1) * t * glcm_samples
    inverse = 1.0 / (2 * pairs)
    shape = (len(rows), *x.shape[1:])
    entropy, mean, second, contrast, homogeneity, energy = (np.zeros(shape) for _ in range(6))
    for a in range(levels):
        for b in range(a, levels):
            count = sum(_box_sum_valid(((lo == a) & (hi == b)).view(np.uint8), size) for lo, hi, size in directions)
            cells = 1 if a == b else 2  # (a, b) and (b, a) of P + P.T; the diagonal cell counts twice
            p = count * (inverse * (2 if a == b else 1))
            entropy -= cells * p * np.log(np.where(p > 0, p, 1.0))
            mean += p * (a + b) if a != b else p * a
            second += p * (a * a + b * b) if a != b else p * a * a
            contrast += cells * p * (a - b) ** 2
            homogeneity += cells * p / (1.0 + (a - b) ** 2)
            energy += cells * p * p
    return {"glcm_entropy": entropy, "glcm_variance": np.maximum(second - mean**2, 0),
            "glcm_contrast": contrast, "glcm_homogeneity": homogeneity, "glcm_energy": np.sqrt(energy)}

