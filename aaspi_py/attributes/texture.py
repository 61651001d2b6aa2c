"""Texture attributes from grey-level co-occurrence matrices (GLCM; Haralick et al. 1973).

Amplitudes are quantised to ``glcm_levels`` grey levels in one of two ways, neither of which
depends on how the volume is cut into blocks:

- by default (``glcm_clip_low`` = ``glcm_clip_high`` = 0) each amplitude is divided by the RMS
  amplitude around it (``glcm_traces`` x ``glcm_traces`` traces x ``glcm_rms_samples``
  samples, an AGC) and the levels are equal bins over +/-2.5 RMS: the texture describes the
  reflection pattern, not its strength, and the levels depend only on data within the halo;
- with a fixed amplitude range [``glcm_clip_low``, ``glcm_clip_high``] the levels are equal bins
  of amplitude itself. :func:`glcm_clip` gives +/- the 99th percentile of |amplitude| from a
  regular subset of a whole volume's traces (the same for any chunking of a numpy or dask
  volume), to compute once and pass as the two options.

Values beyond the range take the end levels. For every voxel the co-occurrence matrix counts,
symmetrically, every pair of neighbours one step apart along inline, crossline and sample
inside a window of ``glcm_traces`` x ``glcm_traces`` traces x ``glcm_samples`` samples
(mirrored beyond the block and the trace ends). The properties follow scikit-image's
``graycoprops`` on the normalised matrix P: they equal ``graycoprops`` of the sum of
``graycomatrix(..., distances=[1], symmetric=True)`` over the window's slices.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aaspi_py.framework.errors import AaspiError

from ._family import Attribute
from ._glcm_kernel import glcm_properties
from ._windows import box_mean, check_windows, family, odd_window_problem

_WINDOW = "over glcm_traces^2 traces x glcm_samples, neighbours along inline, crossline and sample"
ATTRIBUTES = (
    Attribute("glcm_entropy", "unitless", f"-sum P ln P of the symmetric GLCM {_WINDOW}"),
    Attribute("glcm_variance", "grey levels^2", f"sum P (i - mu)^2, mu = sum i P, of the GLCM {_WINDOW}"),
    Attribute("glcm_contrast", "grey levels^2", f"sum P (i - j)^2 of the GLCM {_WINDOW}"),
    Attribute("glcm_homogeneity", "unitless", f"sum P / (1 + (i - j)^2) of the GLCM {_WINDOW}"),
    Attribute("glcm_energy", "unitless", f"sqrt(sum P^2) of the GLCM {_WINDOW}"),
)
_INDEX = {a.name: k for k, a in enumerate(ATTRIBUTES)}

OPTIONS = {"glcm_levels": 16, "glcm_traces": 5, "glcm_samples": 9, "glcm_rms_samples": 51,
           "glcm_clip_low": 0.0, "glcm_clip_high": 0.0}
#: grey levels span +/- this many local RMS amplitudes (default quantisation)
RMS_RANGE = 2.5
HELP = {
    "glcm_levels": "Grey levels (2-256) the amplitude is quantised to for the GLCM attributes.",
    "glcm_traces": "Traces (odd) along inline and crossline in the GLCM window.",
    "glcm_samples": "Samples (odd) in the GLCM window.",
    "glcm_rms_samples": "Samples (odd) of the RMS amplitude the GLCM levels are scaled by (when no clip is given).",
    "glcm_clip_low": "Amplitude of the lowest GLCM grey level (with glcm_clip_high; both 0 = +/-2.5 local RMS).",
    "glcm_clip_high": "Amplitude of the highest GLCM grey level (with glcm_clip_low; both 0 = +/-2.5 local RMS).",
}


def _problem(options: Mapping) -> str | None:
    problem = odd_window_problem(options, "glcm_traces", "glcm_samples", "glcm_rms_samples")
    if problem:
        return problem
    levels = options["glcm_levels"]
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or not 2 <= levels <= 256:
        return f"glcm_levels must be a whole number from 2 to 256; got {levels!r}"
    low, high = options["glcm_clip_low"], options["glcm_clip_high"]
    if not (np.isfinite(low) and np.isfinite(high)) or (low > high) or (low == high != 0):
        return (f"glcm_clip_low ({low}) must be below glcm_clip_high ({high}), or both 0 to scale by the "
                f"local RMS amplitude")
    return None


def _local_rms(options: Mapping) -> bool:
    return options.get("glcm_clip_low", 0.0) == 0.0 and options.get("glcm_clip_high", 0.0) == 0.0


def halo(options: Mapping) -> tuple[int, int]:
    """The GLCM window's half width, twice with the local RMS (the levels use their own window)."""
    h = options.get("glcm_traces", OPTIONS["glcm_traces"]) // 2
    return (2 * h, 2 * h) if _local_rms(options) else (h, h)


def glcm_clip(data, percentile: float = 99.0, max_samples: int = 4_000_000) -> tuple[float, float]:
    """Amplitude range for the GLCM grey levels: +/- the ``percentile`` of |amplitude|.

    Computed from a regular subset of whole traces (every k-th inline and crossline, k chosen so
    that at most ``max_samples`` samples are read), so it is the same for any chunking of a
    numpy or dask volume.

    Parameters
    ----------
    data : numpy or dask array of shape (n_inlines, n_crosslines, n_samples)

    Returns
    -------
    (glcm_clip_low, glcm_clip_high); (-1, 1) for an all-zero volume
    """
    ni, nx, ns = data.shape
    step = max(1, int(np.ceil(np.sqrt(ni * nx * ns / max_samples))))
    subset = data[::step, ::step]
    subset = np.asarray(subset.compute() if hasattr(subset, "compute") else subset, dtype=np.float64)
    subset = np.abs(subset[np.isfinite(subset)])
    high = float(np.percentile(subset, percentile)) if subset.size else 0.0
    high = high if high > 0 else 1.0
    return -high, high


def quantise(x: np.ndarray, low: float, high: float, levels: int) -> np.ndarray:
    """Grey levels 0 .. levels-1 of ``x``: equal bins over [low, high], clipped at both ends."""
    scaled = (np.asarray(x, dtype=np.float64) - low) * (levels / (high - low))
    return np.clip(np.floor(scaled), 0, levels - 1).astype(np.uint8)


def rms_levels(x: np.ndarray, levels: int, traces: int, samples: int) -> np.ndarray:
    """Grey levels of ``x`` over its local RMS amplitude: equal bins over +/-2.5 RMS, the RMS
    taken over ``traces`` x ``traces`` x ``samples`` (0 where the window is dead)."""
    rms = np.sqrt(box_mean(x * x, (traces, traces, samples), exact=True))
    scaled = np.divide(x, rms, out=np.zeros_like(x), where=rms > 0)
    return quantise(scaled, -RMS_RANGE, RMS_RANGE, levels)


def compute(block: np.ndarray, names, *, sample_interval: float, glcm_levels: int = 16, glcm_traces: int = 5,
            glcm_samples: int = 9, glcm_rms_samples: int = 51, glcm_clip_low: float = 0.0,
            glcm_clip_high: float = 0.0, **_: object) -> dict[str, np.ndarray]:
    """The requested GLCM attributes of ``block`` (inline, crossline, sample), float32."""
    opts = dict(glcm_levels=glcm_levels, glcm_traces=glcm_traces, glcm_samples=glcm_samples,
                glcm_rms_samples=glcm_rms_samples, glcm_clip_low=glcm_clip_low, glcm_clip_high=glcm_clip_high)
    check_windows(opts, "glcm_traces", "glcm_samples", "glcm_rms_samples")
    problem = _problem(opts)
    if problem:
        raise AaspiError(f"Bad attribute option: {problem}.")
    names = list(names)
    x = np.asarray(block, dtype=np.float32)
    if _local_rms(opts):
        levels = rms_levels(x, glcm_levels, glcm_traces, glcm_rms_samples)
    else:
        levels = quantise(x, glcm_clip_low, glcm_clip_high, glcm_levels)
    props = glcm_properties(levels, glcm_levels, glcm_traces // 2, glcm_samples // 2)
    return {name: props[_INDEX[name]] for name in names}


FAMILY = family(
    name="texture",
    attributes=ATTRIBUTES,
    compute=compute,
    halo=halo,
    options=OPTIONS,
    help=HELP,
    check=_problem,
)
