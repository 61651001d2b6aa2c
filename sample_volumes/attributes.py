"""Candidate attributes of the synthetic survey, computed from its amplitude by
:mod:`aaspi_py.attributes` (the code of the ``attributes`` module), plus pure-noise controls.

Every candidate except the controls is the real attribute of the synthetic amplitude, with
the module's default windows. The controls ``noise_uniform`` and ``noise_lognormal`` are
smooth random fields, independent of the facies and deliberately non-Gaussian (uniform and
log-normal marginals), so attribute selection has attributes that must never be chosen.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, special

from . import ATTRIBUTES, CONTROLS


def noise_controls(shape: tuple[int, int, int], seed: int) -> dict[str, np.ndarray]:
    """The pure-noise control volumes: smooth, facies-independent, non-Gaussian."""
    rng = np.random.default_rng(seed + 104729)

    def field(sigma) -> np.ndarray:
        f = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma)
        return (f - f.mean()) / max(float(f.std()), 1e-12)

    return {"noise_uniform": special.ndtr(field((0.8, 0.8, 1.0))).astype(np.float32),
            "noise_lognormal": np.exp(0.6 * field((0.8, 0.8, 1.0))).astype(np.float32)}


def compute_attributes(amplitude: np.ndarray, *, seed: int = 0, dt_ms: float = 4.0,
                       progress=None) -> dict[str, np.ndarray]:
    """All candidate attributes of :data:`ATTRIBUTES`, float32 arrays of the amplitude's shape.

    ``progress`` (optional) gets an update before each attribute family and may cancel there.
    """
    import dask.array as da

    from aaspi_py import attributes

    amplitude = np.asarray(amplitude, dtype=np.float32)
    # dask blocks of whole traces: the families run on every core, with equal results
    lazy = da.from_array(amplitude, chunks=(64, 64, -1))
    real = [a for a in ATTRIBUTES if a not in CONTROLS]
    families: dict[str, list[str]] = {}
    for name in real:
        families.setdefault(attributes.family_of(name), []).append(name)
    out: dict[str, np.ndarray] = {}
    for k, (family, names) in enumerate(families.items()):
        if progress is not None:
            progress.update(k / (len(families) + 1), f"computing {family} attributes")
            progress.check()
        result = attributes.compute(lazy, names, sample_interval=dt_ms)
        out.update(zip(result, da.compute(*result.values(), scheduler="threads")))
    if progress is not None:
        progress.update(len(families) / (len(families) + 1), "computing noise controls")
        progress.check()
    out.update(noise_controls(amplitude.shape, seed))
    return {k: out[k] for k in ATTRIBUTES}
