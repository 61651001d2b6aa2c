"""Candidate attributes of the synthetic survey, computed from the amplitude.

Each is a local operation (Hilbert transform along traces, small moving windows), so it
could run chunk by chunk with overlap. Three groups, so attribute selection has a known
right answer:

- informative: ``envelope`` (salt weak, MTD mixed, layers medium), ``inst_frequency``
  (salt low), ``coherence`` (layers high, salt and MTD low), ``dip_deviation`` (chaotic
  dips in salt and MTD);
- redundant: ``glcm_entropy``, ``glcm_variance``, ``energy_deviation`` are linear mixes
  of informative ones plus a little noise: they separate the facies but add nothing;
- noise: ``cos_phase`` (cosine of the instantaneous phase: the same distribution in every
  facies), ``reflector_convergence`` and ``spectral_bandwidth`` (smooth random fields
  standing for attributes that do not respond to these facies).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from . import ATTRIBUTES, INFORMATIVE


def _standard(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / max(float(x.std()), 1e-12)


def semblance(re: np.ndarray, im: np.ndarray, traces: int = 3, samples: int = 7) -> np.ndarray:
    """Analytic-trace semblance in a ``traces`` x ``traces`` x ``samples`` window, in [0, 1]."""
    lateral = (traces, traces, 1)
    mean_re = ndimage.uniform_filter(re, lateral)
    mean_im = ndimage.uniform_filter(im, lateral)
    num = ndimage.uniform_filter1d(mean_re**2 + mean_im**2, samples, axis=-1)
    den = ndimage.uniform_filter1d(ndimage.uniform_filter(re**2 + im**2, lateral), samples, axis=-1)
    return np.clip(num / np.maximum(den, 1e-12 * float(den.max() or 1.0)), 0.0, 1.0)


def dip_deviation(amplitude: np.ndarray, window: int = 5) -> np.ndarray:
    """Local standard deviation of the apparent inline and crossline dips (samples/trace).

    Dips come from the gradient structure tensor (smoothed over a few samples), so in
    conformal layers they vary slowly and in chaotic facies they scatter.
    """
    g = [ndimage.gaussian_filter(amplitude, 1.0, order=o) for o in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    gtt = ndimage.gaussian_filter(g[2] * g[2], 1.5)
    eps = 1e-3 * float(gtt.mean())
    deviation = np.zeros_like(amplitude)
    for k in (0, 1):
        dip = -ndimage.gaussian_filter(g[k] * g[2], 1.5) / (gtt + eps)
        mean = ndimage.uniform_filter(dip, window)
        deviation += np.maximum(ndimage.uniform_filter(dip * dip, window) - mean * mean, 0.0)
    return np.sqrt(deviation)


def compute_attributes(amplitude: np.ndarray, *, seed: int = 0, dt_ms: float = 4.0,
                       progress=None) -> dict[str, np.ndarray]:
    """All candidate attributes of :data:`ATTRIBUTES`, float32 arrays of the amplitude's shape.

    ``progress`` (optional) gets an update before each attribute and may cancel there.
    """

    def step(fraction: float, name: str) -> None:
        if progress is not None:
            progress.update(fraction, f"computing {name}")
            progress.check()

    amplitude = np.asarray(amplitude, dtype=np.float32)
    rng = np.random.default_rng(seed + 104729)
    shape = amplitude.shape
    # mirrored padding keeps the FFT's wrap-around out of the first and last samples
    pad = min(32, shape[-1] - 1)
    padded = np.pad(amplitude, ((0, 0), (0, 0), (pad, pad)), mode="reflect")
    re, im = amplitude, signal.hilbert(padded, axis=-1).imag[..., pad:-pad].astype(np.float32)
    del padded
    power = re * re + im * im
    out: dict[str, np.ndarray] = {}

    # smoothed over about a wavelet length, so layer interference does not show as facies
    step(0.0, "envelope")
    out["envelope"] = ndimage.gaussian_filter(np.sqrt(power), (1.5, 1.5, 3.0))

    step(0.15, "inst_frequency")
    # instantaneous frequency weighted by energy, so noise in quiet zones does not dominate
    d_re = np.gradient(re, axis=-1)
    d_im = np.gradient(im, axis=-1)
    weighted = (re * d_im - im * d_re) / (2 * np.pi * dt_ms / 1000.0)
    smooth = (1.5, 1.5, 3.0)
    freq = ndimage.gaussian_filter(weighted, smooth) / np.maximum(ndimage.gaussian_filter(power, smooth), 1e-6)
    out["inst_frequency"] = np.clip(freq, 0.0, 500.0 / dt_ms)
    del d_re, d_im, weighted

    out["cos_phase"] = re / np.sqrt(np.maximum(power, 1e-12))
    step(0.35, "coherence")
    out["coherence"] = ndimage.gaussian_filter(semblance(re, im, samples=9), (1.0, 1.0, 2.0))
    step(0.5, "dip_deviation")
    out["dip_deviation"] = dip_deviation(amplitude)
    step(0.8, "redundant and noise attributes")

    z = {k: _standard(out[k]) for k in INFORMATIVE}

    def jitter(scale: float) -> np.ndarray:
        return scale * rng.standard_normal(shape, dtype=np.float32)

    # texture and energy attributes here are linear mixes: they carry no new information
    out["glcm_entropy"] = 3.0 - 0.8 * z["coherence"] + 0.1 * z["dip_deviation"] + jitter(0.05)
    out["glcm_variance"] = 2.0 + 0.9 * z["envelope"] + 0.2 * z["inst_frequency"] + jitter(0.05)
    out["energy_deviation"] = 1.0 + 0.5 * z["envelope"] + 0.5 * z["dip_deviation"] + jitter(0.05)

    def random_field(sigma) -> np.ndarray:
        return _standard(ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma))

    out["reflector_convergence"] = 0.3 * random_field((1.0, 1.0, 1.5))
    out["spectral_bandwidth"] = 25.0 + 4.0 * random_field((1.0, 1.0, 2.0))
    return {k: out[k].astype(np.float32, copy=False) for k in ATTRIBUTES}
