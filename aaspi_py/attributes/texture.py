"""Texture attributes from grey-level co-occurrence matrices (GLCM; Haralick et al. 1973).

Amplitudes are quantised to ``glcm_levels`` grey levels over a fixed amplitude range
[``glcm_clip_low``, ``glcm_clip_high``] (values beyond it take the end levels), so the levels,
and the attributes, do not depend on how the volume is cut into blocks. The range must come
from the whole volume: :func:`glcm_clip` gives +/- the 99th percentile of |amplitude| from a
regular subset of its traces; pass it as the two options (:func:`prepare` fills them in an
options mapping). Left at its default (low = high = 0), the range is taken from the block
itself, which is right only when the block is the whole volume (a numpy volume computed in one
piece).

For every voxel the co-occurrence matrix counts, symmetrically, every pair of neighbours one
step apart along inline, crossline and sample inside a window of ``glcm_traces`` x
``glcm_traces`` traces x ``glcm_samples`` samples (mirrored beyond the block and the trace
ends). The properties follow scikit-image's ``graycoprops`` on the normalised matrix P: they
equal ``graycoprops`` of the sum of ``graycomatrix(..., distances=[1], symmetric=True)`` over
the window's slices.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aaspi_py.errors import AaspiError

from ._family import Attribute
from ._glcm_kernel import glcm_properties
from ._windows import check_windows, family, odd_window_problem

_WINDOW = "over glcm_traces^2 traces x glcm_samples, neighbours along inline, crossline and sample"
ATTRIBUTES = (
    Attribute("glcm_entropy", "unitless", f"-sum P ln P of the symmetric GLCM {_WINDOW}"),
    Attribute("glcm_variance", "grey levels^2", f"sum P (i - mu)^2, mu = sum i P, of the GLCM {_WINDOW}"),
    Attribute("glcm_contrast", "grey levels^2", f"sum P (i - j)^2 of the GLCM {_WINDOW}"),
    Attribute("glcm_homogeneity", "unitless", f"sum P / (1 + (i - j)^2) of the GLCM {_WINDOW}"),
    Attribute("glcm_energy", "unitless", f"sqrt(sum P^2) of the GLCM {_WINDOW}"),
)
_INDEX = {a.name: k for k, a in enumerate(ATTRIBUTES)}

OPTIONS = {"glcm_levels": 16, "glcm_traces": 5, "glcm_samples": 9, "glcm_clip_low": 0.0, "glcm_clip_high": 0.0}
HELP = {
    "glcm_levels": "Grey levels (2-256) the amplitude is quantised to for the GLCM attributes.",
    "glcm_traces": "Traces (odd) along inline and crossline in the GLCM window.",
    "glcm_samples": "Samples (odd) in the GLCM window.",
    "glcm_clip_low": "Amplitude mapped to the lowest grey level (with glcm_clip_high; both 0 = from the data).",
    "glcm_clip_high": "Amplitude mapped to the highest grey level (with glcm_clip_low; both 0 = from the data).",
}


def _problem(options: Mapping) -> str | None:
    problem = odd_window_problem(options, "glcm_traces", "glcm_samples")
    if problem:
        return problem
    levels = options["glcm_levels"]
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or not 2 <= levels <= 256:
        return f"glcm_levels must be a whole number from 2 to 256; got {levels!r}"
    low, high = options["glcm_clip_low"], options["glcm_clip_high"]
    if not (np.isfinite(low) and np.isfinite(high)) or (low > high) or (low == high != 0):
        return (f"glcm_clip_low ({low}) must be below glcm_clip_high ({high}), or both 0 to take the range "
                f"from the data")
    return None


def halo(options: Mapping) -> tuple[int, int]:
    h = options.get("glcm_traces", OPTIONS["glcm_traces"]) // 2
    return h, h


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


def prepare(data, options: Mapping) -> dict:
    """``options`` with the grey-level range filled from the whole volume ``data`` (numpy or
    dask) when it is left at 0, 0: for a caller to run once before cutting the volume into
    blocks. Offered to the framework as ``Family.prepare`` where the contract has that field."""
    out = dict(options)
    if out.get("glcm_clip_low", 0.0) == 0.0 and out.get("glcm_clip_high", 0.0) == 0.0:
        out["glcm_clip_low"], out["glcm_clip_high"] = glcm_clip(data)
    return out


def quantise(x: np.ndarray, low: float, high: float, levels: int) -> np.ndarray:
    """Grey levels 0 .. levels-1 of ``x``: equal bins over [low, high], clipped at both ends."""
    scaled = (np.asarray(x, dtype=np.float64) - low) * (levels / (high - low))
    return np.clip(np.floor(scaled), 0, levels - 1).astype(np.uint8)


def compute(block: np.ndarray, names, *, sample_interval: float, glcm_levels: int = 16, glcm_traces: int = 5,
            glcm_samples: int = 9, glcm_clip_low: float = 0.0, glcm_clip_high: float = 0.0,
            **_: object) -> dict[str, np.ndarray]:
    """The requested GLCM attributes of ``block`` (inline, crossline, sample), float32."""
    opts = dict(glcm_levels=glcm_levels, glcm_traces=glcm_traces, glcm_samples=glcm_samples,
                glcm_clip_low=glcm_clip_low, glcm_clip_high=glcm_clip_high)
    check_windows(opts, "glcm_traces", "glcm_samples")
    problem = _problem(opts)
    if problem:
        raise AaspiError(f"Bad attribute option: {problem}.")
    names = list(names)
    x = np.asarray(block, dtype=np.float32)
    low, high = (glcm_clip_low, glcm_clip_high) if glcm_clip_high > glcm_clip_low else glcm_clip(x)
    levels = quantise(x, low, high, glcm_levels)
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
    prepare=prepare,
)
