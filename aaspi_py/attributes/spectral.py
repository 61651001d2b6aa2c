"""Spectral attributes from short-window spectra, one spectrum per sample.

At each sample the ``spectral_window`` samples centred on it (mirrored at the trace ends) are
tapered with a Hann window and Fourier transformed with zero padding to ``spectral_nfft``
points (a finer frequency grid, not finer resolution). The transforms are one BLAS product of
the windows with the tapered DFT matrix: for windows this short that is several times faster
than an FFT per window. From the amplitude spectrum A(f):

- peak_frequency: the f of the largest A (f > 0), refined by a parabola through the three
  bins around it;
- spectral_bandwidth: the power-weighted standard deviation sqrt(sum (f - fc)^2 A^2 / sum A^2)
  around the power-weighted mean frequency fc;
- spectral_roughness: the depths of the spectrum's notches summed, over max A: the total
  variation sum |A(f_k+1) - A(f_k)| less the climb to the peak and the descent from it
  (2 max A - A(0) - A(Nyquist)), over 2 max A. 0 for a spectrum with one peak, about 1 for one
  notch down to zero (two interfering reflectors), more for ragged spectra.

Frequencies are in Hz for time data (sample_interval in ms) and cycles/km for depth data (m).
Each trace is processed alone, so no lateral halo is needed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numba
import numpy as np
from scipy import signal
from threadpoolctl import threadpool_limits

from aaspi_py.framework.errors import AaspiError

from ._family import Attribute
from ._windows import check_windows, family, odd_window_problem

ATTRIBUTES = (
    Attribute("peak_frequency", "Hz",
              "argmax_f A(f) of the Hann-tapered spectrum of spectral_window samples (parabolic refinement)"),
    Attribute("spectral_bandwidth", "Hz",
              "sqrt(sum (f - fc)^2 A^2 / sum A^2), fc = sum f A^2 / sum A^2, same short-window spectrum"),
    Attribute("spectral_roughness", "unitless",
              "(sum_k |A(f_k+1) - A(f_k)| - (2 max A - A(0) - A(fN))) / (2 max A): summed notch depths "
              "over the peak; 0 for one peak"),
)

OPTIONS = {"spectral_window": 31, "spectral_nfft": 64}
HELP = {
    "spectral_window": "Samples (odd) in the short window of each spectrum of the spectral attributes.",
    "spectral_nfft": "FFT length (>= spectral_window) of the spectral attributes; longer = finer frequency grid.",
}


def _check(options: Mapping) -> str | None:
    problem = odd_window_problem(options, "spectral_window", minimum=3)
    if problem:
        return problem
    if options["spectral_nfft"] < options["spectral_window"]:
        return (f"spectral_nfft ({options['spectral_nfft']}) must be at least spectral_window "
                f"({options['spectral_window']})")
    return None


@numba.njit(cache=True)
def _moments(spectra, n_bins, df, peak, bandwidth, roughness):
    """The three attributes from spectra (n_windows, 2 n_bins): real parts, then imaginary."""
    n_windows = spectra.shape[0]
    for w in range(n_windows):
        s = spectra[w]
        amplitude = np.empty(n_bins, dtype=np.float32)
        best, best_value = 1, np.float32(-1.0)
        power = 0.0
        first = 0.0
        variation = 0.0
        for b in range(n_bins):
            a = np.sqrt(s[b] * s[b] + s[n_bins + b] * s[n_bins + b])
            amplitude[b] = a
            p = np.float64(a) * a
            power += p
            first += b * p
            if b > 0:
                variation += abs(a - amplitude[b - 1])
                if a > best_value:
                    best, best_value = b, a
        if power <= 0.0:
            peak[w] = 0.0
            bandwidth[w] = 0.0
            roughness[w] = 0.0
            continue
        centre = first / power
        second = 0.0
        for b in range(n_bins):
            second += (b - centre) ** 2 * (np.float64(amplitude[b]) * amplitude[b])
        bandwidth[w] = np.sqrt(second / power) * df
        offset = 0.0
        if best < n_bins - 1:
            left, right = np.float64(amplitude[best - 1]), np.float64(amplitude[best + 1])
            curvature = left - 2.0 * best_value + right
            if curvature < 0.0 and left <= best_value and right <= best_value:
                offset = min(max(0.5 * (left - right) / curvature, -0.5), 0.5)
        peak[w] = (best + offset) * df
        # variation beyond the climb to the peak and the descent from it = twice the notch depths
        top = max(best_value, amplitude[0])
        single = 2.0 * top - amplitude[0] - amplitude[n_bins - 1]
        roughness[w] = max(variation - single, 0.0) / (2.0 * top)


def _dft_matrix(window: int, nfft: int) -> np.ndarray:
    """Hann taper times the DFT of a window zero-padded to ``nfft``: (window, 2 n_bins) float32,
    cosines then sines, so the spectra of many windows are one BLAS matrix product."""
    taper = signal.windows.hann(window + 2, sym=True)[1:-1]  # no zero end samples
    angle = 2 * np.pi * np.outer(np.arange(window), np.arange(nfft // 2 + 1)) / nfft
    return np.hstack([taper[:, None] * np.cos(angle), -taper[:, None] * np.sin(angle)]).astype(np.float32)


def compute(block: np.ndarray, names, *, sample_interval: float, spectral_window: int = 31,
            spectral_nfft: int = 64, **_: object) -> dict[str, np.ndarray]:
    """The requested spectral attributes of ``block`` (inline, crossline, sample), float32."""
    check_windows({"spectral_window": spectral_window}, "spectral_window", minimum=3)
    if spectral_nfft < spectral_window:
        raise AaspiError(f"Bad attribute option: spectral_nfft ({spectral_nfft}) must be at least "
                         f"spectral_window ({spectral_window}).")
    names = list(names)
    x = np.asarray(block, dtype=np.float32)
    ni, nx, ns = x.shape
    half = spectral_window // 2
    matrix = _dft_matrix(spectral_window, spectral_nfft)
    n_bins = spectral_nfft // 2 + 1
    # cycles per second (ms input) or per km (m input)
    df = 1.0 / (spectral_nfft * sample_interval / 1000.0)
    peak = np.empty(ni * nx * ns, dtype=np.float32)
    bandwidth = np.empty_like(peak)
    roughness = np.empty_like(peak)
    traces = x.reshape(ni * nx, ns)
    # a few hundred traces at a time keeps the windows and spectra small
    step = max(1, 1_000_000 // (ns * max(spectral_window, 2 * n_bins)))
    # one BLAS thread: the products are small, and blocks already run in parallel
    with threadpool_limits(1, user_api="blas"):
        _spectra_moments(traces, step, half, spectral_window, matrix, n_bins, df, peak, bandwidth, roughness)
    out = {"peak_frequency": peak, "spectral_bandwidth": bandwidth, "spectral_roughness": roughness}
    return {name: out[name].reshape(ni, nx, ns) for name in names}


def _spectra_moments(traces, step, half, spectral_window, matrix, n_bins, df, peak, bandwidth, roughness):
    ns = traces.shape[1]
    for start in range(0, traces.shape[0], step):
        part = traces[start:start + step]
        padded = np.pad(part, ((0, 0), (half, half)), mode="symmetric" if half < ns else "wrap")
        windows = np.lib.stride_tricks.sliding_window_view(padded, spectral_window, axis=-1)
        spectra = windows.reshape(-1, spectral_window) @ matrix
        done = slice(start * ns, (start + part.shape[0]) * ns)
        _moments(spectra, n_bins, df, peak[done], bandwidth[done], roughness[done])


FAMILY = family(
    name="spectral",
    attributes=ATTRIBUTES,
    compute=compute,
    halo=lambda options: (0, 0),
    options=OPTIONS,
    help=HELP,
    check=_check,
)
