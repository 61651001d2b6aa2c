"""Degenerate attributes: near-constant, near-discrete, heavy outliers — found, reported, tamed.

A Gaussian mixture fitted to an attribute whose values pile up on a few numbers (a clipped
cos(phase) at ±1, an integer flag) shrinks clusters onto those numbers, and the Bhattacharyya
distance between two such clusters grows without bound: one degenerate attribute then
dominates every score it takes part in. A few wild values (dead traces, spikes) do the same
by drawing a cluster of their own. The checks here flag those attributes and say how they are
tamed before fitting:

* **heavy outliers** (values more than ``OUTLIER_SPREAD`` times the central 98 % range
  (1st to 99th percentile) beyond that range): those voxels are left out of every fit, as an
  interpreter would leave out a dead trace or a spike (clipped, they would pile up on the
  limit and make a needle-thin cluster of their own). Percentiles rather than
  the median absolute deviation, whose median can sit inside one mode of a two-valued
  attribute and call the other mode outliers;
* **near-constant** (``CONSTANT_SHARE`` of the voxels on one value) and **near-discrete**
  (at most ``DISCRETE_VALUES`` distinct values, or ``DISCRETE_SHARE`` of the voxels in the
  ``DISCRETE_VALUES`` fullest of ``BINS`` equal bins): every cluster covariance gets a variance
  floor along it, the larger of its pooled training variance and (range / 2)². Any two clusters
  then differ along it by at most its range with an average variance of at least (range / 2)²,
  so its share of the Bhattacharyya mean term is at most range² / (8 (range / 2)²) = 1/2: such
  an attribute can shift cluster means but cannot make needle-thin clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTLIER_SPREAD = 3.0
CONSTANT_SHARE = 0.95
DISCRETE_VALUES = 10
DISCRETE_SHARE = 0.5
BINS = 1000


@dataclass
class AttributeCheck:
    """What the checks found for one attribute."""

    name: str
    kind: str            # "ok", "near-constant", "near-discrete"
    n_outliers: int      # voxels outside [low, high], left out
    low: float           # clip range (−inf/inf: none)
    high: float
    detail: str = ""

    @property
    def degenerate(self) -> bool:
        return self.kind != "ok"

    def warning(self) -> str | None:
        """One report line, or None for a well-behaved attribute."""
        parts = []
        if self.kind != "ok":
            parts.append(f"{self.kind} ({self.detail}); clusters get a variance floor of (range / 2)^2 "
                         "along it (at least its pooled variance), so it cannot dominate a distance")
        if self.n_outliers:
            parts.append(f"{self.n_outliers} heavy outliers (outside [{self.low:.6g}, {self.high:.6g}], "
                         f"{OUTLIER_SPREAD:g} times the 1st-99th percentile range beyond it): voxels left out")
        return f"warning: attribute '{self.name}': " + "; ".join(parts) if parts else None


def check_attribute(name: str, x: np.ndarray) -> AttributeCheck:
    """Classify one attribute's training values (1-D, finite)."""
    q1, q99 = np.percentile(x, [1, 99])
    low, high = q1 - OUTLIER_SPREAD * (q99 - q1), q99 + OUTLIER_SPREAD * (q99 - q1)
    n_out = int(((x < low) | (x > high)).sum()) if q99 > q1 else 0
    if n_out == 0:
        low, high = -np.inf, np.inf
    values, counts = np.unique(x, return_counts=True)
    top_share = counts.max() / len(x)
    if len(values) == 1 or top_share >= CONSTANT_SHARE:
        return AttributeCheck(name, "near-constant", n_out, low, high,
                              f"{100 * top_share:.1f} % of the voxels equal {values[counts.argmax()]:.6g}")
    if len(values) <= DISCRETE_VALUES:
        return AttributeCheck(name, "near-discrete", n_out, low, high, f"{len(values)} distinct values")
    hist, _ = np.histogram(x[(x >= low) & (x <= high)], bins=BINS)
    share = np.sort(hist)[::-1][:DISCRETE_VALUES].sum() / len(x)
    if share >= DISCRETE_SHARE:
        return AttributeCheck(name, "near-discrete", n_out, low, high,
                              f"{100 * share:.0f} % of the voxels in {DISCRETE_VALUES} of {BINS} bins of its range")
    return AttributeCheck(name, "ok", n_out, low, high)


def check_attributes(names, values: np.ndarray) -> list[AttributeCheck]:
    """:func:`check_attribute` for every column of ``values`` (n_voxels, N)."""
    return [check_attribute(n, values[:, j]) for j, n in enumerate(names)]


def outlier_voxels(values: np.ndarray, checks: list[AttributeCheck]) -> np.ndarray:
    """Boolean mask of the voxels with a heavy outlier in any attribute."""
    out = np.zeros(len(values), dtype=bool)
    for j, c in enumerate(checks):
        if c.n_outliers:
            out |= (values[:, j] < c.low) | (values[:, j] > c.high)
    return out


def variance_floor(checks: list[AttributeCheck], reg_covar: float, z: np.ndarray) -> np.ndarray:
    """Per-attribute regularisation for standardised values z: ``reg_covar``, or the floor when degenerate."""
    half_range = 0.5 * (z.max(axis=0) - z.min(axis=0))
    # an exactly constant attribute needs no floor: every cluster has the same mean along it
    return np.array([max(1.0, float(h) ** 2) if c.degenerate and h > 0 else reg_covar
                     for c, h in zip(checks, half_range)])
