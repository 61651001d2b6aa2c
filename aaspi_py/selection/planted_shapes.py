"""Planted training sets whose uninformative attributes are not Gaussian (tests, benchmarks).

The informative and redundant attributes are those of
:func:`aaspi_py.selection.planted.planted_training_set` (three informative attributes, the
mtd facies bimodal along the second; redundant = (x_a + x_b)/√2 plus facies-independent
noise). Each *noise* attribute has one law in every facies, of a named shape:

``t`` Student t with 3 degrees of freedom (heavy tails), ``uniform``, ``gamma`` (shape 2,
skewed), ``bimodal`` (two well-separated Gaussians, 30/70), ``pm1`` (±1 with a tiny jitter,
as cos(phase) of a clipped trace), ``gaussian``.
"""

from __future__ import annotations

import numpy as np

from aaspi_py.selection.planted import _SHIFTS, FACIES, assemble
from aaspi_py.training.training_set import TrainingSet

SHAPES = ("t", "uniform", "gamma", "bimodal", "pm1", "gaussian")


def noise_attribute(shape: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n facies-independent values of the given shape (see the module docstring)."""
    if shape == "t":
        return rng.standard_t(3, n)
    if shape == "uniform":
        return rng.uniform(-1, 1, n)
    if shape == "gamma":
        return rng.gamma(2.0, 1.0, n)
    if shape == "bimodal":
        return np.where(rng.random(n) < 0.3, -3.0, 3.0) + rng.standard_normal(n)
    if shape == "pm1":
        return np.where(rng.random(n) < 0.5, -1.0, 1.0) + 1e-4 * rng.standard_normal(n)
    if shape == "gaussian":
        return rng.standard_normal(n)
    raise ValueError(f"unknown noise shape {shape!r}; use one of {', '.join(SHAPES)}")


def planted_shapes_training_set(n_per_facies: int = 2000, noise=("t", "uniform", "gamma", "bimodal", "pm1"),
                                n_redundant: int = 1, seed: int = 0,
                                n_polygons: int = 4) -> tuple[TrainingSet, list[str]]:
    """A training set (3 informative, ``n_redundant`` redundant, one noise attribute per shape).

    Returns the training set and the names of the informative attributes (attribute order).
    Attribute names say what they are (``informative_2``, ``redundant_5``, ``noise_bimodal_1``)
    and appear in a seeded random order, with random scales and offsets.
    """
    rng = np.random.default_rng(seed)
    m, v = len(FACIES), n_per_facies
    labels = np.repeat(np.arange(m), v)
    base = rng.standard_normal((m * v, 3)) + _SHIFTS[:3][:, labels].T
    mtd = np.flatnonzero(labels == 1)
    base[mtd, 1] += np.where(rng.random(len(mtd)) < 0.5, -2.0, 2.0)
    columns = [base[:, j] for j in range(3)]
    kinds = ["informative"] * 3
    for r in range(n_redundant):
        a, b = r % 3, (r + 1) % 3
        columns.append((base[:, a] + base[:, b]) / np.sqrt(2) + 0.7 * rng.standard_normal(m * v))
        kinds.append("redundant")
    for shape in noise:
        columns.append(noise_attribute(shape, m * v, rng))
        kinds.append(f"noise_{shape}")
    return assemble(columns, kinds, labels, v, n_polygons, rng, "planted_shapes")
