"""Helpers shared by the geometric, coherence, spectral and texture families: window checks,
the analytic trace, box means (re-exported from ``_box``), and building a ``Family`` from the fields the contract knows."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
from scipy import fft

from aaspi_py.framework.errors import AaspiError

from ._box import box_mean  # noqa: F401  (re-exported for the family files)
from ._family import Family


def family(**fields) -> Family:
    """A :class:`Family` from ``fields``; fields a version of the contract lacks (``help``,
    ``check``) are left out, so a family file works with either version."""
    known = {f.name for f in dataclasses.fields(Family)}
    return Family(**{k: v for k, v in fields.items() if k in known})


def odd_window_problem(options: Mapping, *keys: str, minimum: int = 1) -> str | None:
    """A one-line message when one of ``options[keys]`` is not an odd integer >= ``minimum``."""
    for key in keys:
        w = options[key]
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < minimum or w % 2 == 0:
            return f"{key} must be an odd whole number >= {minimum}; got {w!r}"
    return None


def check_windows(options: Mapping, *keys: str, minimum: int = 1) -> None:
    """Raise :class:`AaspiError` with the message of :func:`odd_window_problem`, if any."""
    message = odd_window_problem(options, *keys, minimum=minimum)
    if message:
        raise AaspiError(f"Bad attribute option: {message}.")


def quadrature(x: np.ndarray) -> np.ndarray:
    """H[x] along the last axis in float32: the imaginary part of ``scipy.signal.hilbert(x)``,
    the inverse real FFT of -i X for positive frequencies (DC and, for an even length, the
    Nyquist bin zeroed, as ``hilbert`` keeps them real): two real FFTs instead of two complex."""
    n = x.shape[-1]
    spectrum = fft.rfft(np.asarray(x, dtype=np.float32), axis=-1, workers=-1)
    spectrum[..., 0] = 0
    if n % 2 == 0:
        spectrum[..., -1] = 0
    # -i X: (a + ib) -> (b - ia)
    pairs = spectrum.view(np.float32).reshape(*spectrum.shape, 2)
    real = pairs[..., 0].copy()
    pairs[..., 0] = pairs[..., 1]
    pairs[..., 1] = -real
    return fft.irfft(spectrum, n, axis=-1, workers=-1, overwrite_x=True).astype(np.float32, copy=False)


def analytic_trace(x: np.ndarray) -> np.ndarray:
    """The analytic trace x + iH[x] along the last axis, as ``scipy.signal.hilbert`` computes it
    (whole trace), in complex64 to halve the memory traffic."""
    x = np.asarray(x, dtype=np.float32)
    z = np.empty(x.shape, dtype=np.complex64)
    z.real = x
    z.imag = quadrature(x)
    return z
