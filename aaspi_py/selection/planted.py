"""Synthetic training sets with a known informative attribute subset (tests, benchmarks).

Three facies (salt, mtd, background). The *informative* attributes shift the facies means
(each one separates a facies the others do not fully separate; mtd is bimodal along the
second one, so it needs two clusters). *Redundant* attributes are (x_a + x_b)/√2 of two
informative ones plus class-independent noise: alone they separate the facies, but with the
informative ones they add nothing (their noise is the same in every facies). *Noise*
attributes do not depend on the facies. Every attribute gets a random scale and offset.
The planted subset is therefore the smallest combination with the largest separation.
"""

from __future__ import annotations

import numpy as np

from aaspi_py.training.training_set import TrainingSet

FACIES = ["salt", "mtd", "background"]
# facies mean shifts of the informative attributes (rows) for salt, mtd, background
_SHIFTS = np.array([
    [2.5, 0.0, 0.0],
    [0.0, 2.5, 0.0],
    [0.0, 0.0, -2.5],
    [1.5, -1.5, 0.0],
])


def planted_training_set(n_per_facies: int = 5000, n_attributes: int = 9, n_informative: int = 3,
                         n_redundant: int = 3, seed: int = 0, n_polygons: int = 4) -> tuple[TrainingSet, list[str]]:
    """A training set and the names of its informative attributes.

    Parameters
    ----------
    n_per_facies : voxels per facies
    n_attributes : N, at least ``n_informative + n_redundant``
    n_informative : 3 or 4
    n_redundant : attributes mixing two informative ones; the rest are noise
    seed : the same seed gives the same training set
    n_polygons : polygons per facies (ids 1..n_polygons), for held-out validation

    Returns
    -------
    training : TrainingSet
    informative : list of str, in attribute order
    """
    if n_informative not in (3, 4):
        raise ValueError("n_informative must be 3 or 4")
    if n_attributes < n_informative + n_redundant:
        raise ValueError("n_attributes must be at least n_informative + n_redundant")
    rng = np.random.default_rng(seed)
    m, v = len(FACIES), n_per_facies
    labels = np.repeat(np.arange(m), v)
    base = rng.standard_normal((m * v, n_informative))
    base += _SHIFTS[:n_informative][:, labels].T
    # mtd: two sub-clusters along the second informative attribute
    mtd = np.flatnonzero(labels == 1)
    base[mtd, 1] += np.where(rng.random(len(mtd)) < 0.5, -2.0, 2.0)
    columns = [base[:, j] for j in range(n_informative)]
    kinds = ["informative"] * n_informative
    for r in range(n_redundant):
        a, b = r % n_informative, (r + 1) % n_informative
        columns.append((base[:, a] + base[:, b]) / np.sqrt(2) + 0.7 * rng.standard_normal(m * v))
        kinds.append("redundant")
    while len(columns) < n_attributes:
        columns.append(rng.standard_normal(m * v))
        kinds.append("noise")
    return assemble(columns, kinds, labels, v, n_polygons, rng, "planted")


def assemble(columns: list[np.ndarray], kinds: list[str], labels: np.ndarray, n_per_facies: int,
             n_polygons: int, rng: np.random.Generator, name: str) -> tuple[TrainingSet, list[str]]:
    """Columns in a seeded random order, each with its own scale and offset, as a training set
    of ``n_polygons`` polygons per facies; also the names of the informative columns."""
    order = rng.permutation(len(columns))
    values = np.column_stack([columns[i] for i in order])
    values = values * 10.0 ** rng.uniform(-1, 2, len(columns)) + rng.uniform(-100, 100, len(columns))
    names = [f"{kinds[i]}_{k + 1}" for k, i in enumerate(order)]
    polygon = np.tile(1 + (np.arange(n_per_facies) * n_polygons) // n_per_facies, len(FACIES))
    training = TrainingSet(facies=list(FACIES), attributes=names, values=values,
                           facies_index=labels, polygon=polygon, name=name)
    return training, [n for n in names if n.startswith("informative")]
