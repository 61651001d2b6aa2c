"""Degenerate attributes: near-constant, near-discrete, heavy outliers — found, reported, tamed.

A Gaussian mixture fitted to an attribute whose values pile up on a few numbers (a clipped
cos(phase) at ±1, an integer flag) shrinks clusters onto those numbers, and the Bhattacharyya
distance between two such clusters grows without bound: one degenerate attribute then
dominates every score it takes part in. A few wild values (dead traces, spikes) do the same
by drawing a cluster of their own. The checks here flag those attributes and say how they are
tamed before fitting:

* **heavy outliers** (values more than ``OUTLIER_SPREAD`` times the central 98 % range
  (1st to 99th percentile) beyond that range): clipped to that limit. Percentiles rather than
  the median absolute deviation, whose median can sit inside one mode of a two-valued
  attribute and call the other mode outliers;
* **near-constant** (``CONSTANT_SHARE`` of the voxels on one value) and **near-discrete**
  (at most ``DISCRETE_VALUES`` distinct values, or ``DISCRETE_SHARE`` of the voxels in the
  ``DISCRETE_VALUES`` fullest of ``BINS`` equal bins): no cluster may be narrower than the
  attribute's pooled training variance along it (a variance floor added to every cluster
  covariance), so such an attribute can shift cluster means but cannot make needle-thin
  clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTLIER_SPREAD = 3.0
CONSTANT_SHARE = 0.95
DISCRETE_VALUES = 10
DISCRETE_SHARE = 0.5
BINS = 1000
#: variance floor along a near-constant or near-discrete attribute, in units of its pooled variance
DEGENERATE_VARIANCE_FLOOR = 1.0


@dataclass
class AttributeCheck:
    """What the checks found for one attribute."""

    name: str
    kind: str            # "ok", "near-constant", "near-discrete"
    n_outliers: int      # voxels clipped
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
            parts.append(f"{self.kind} ({self.detail}); clusters get a variance floor equal to its pooled "
                         "variance along it, so it cannot dominate a distance")
        if self.n_outliers:
            parts.append(f"{self.n_outliers} heavy outliers (beyond {OUTLIER_SPREAD:g} times the 1st-99th percentile "
                         f"range), clipped to [{self.low:.6g}, {self.high:.6g}] for fitting")
        return f"warning: attribute '{self.name}': " + "; ".join(parts) if parts else None


def check_attribute(name: str, x: np.ndarray) -> AttributeCheck:
    """Classify one attribute's training values (1-D, finite)."""
    q1, q99 = np.percentile(x, [1, 99])
    low, high = q1 - OUTLIER_SPREAD * (q99 - q1), q99 + OUTLIER_SPREAD * (q99 - q1)
    n_out = int(((x < low) | (x > high)).sum())
    if n_out == 0:
        low, high = -np.inf, np.inf
    values, counts = np.unique(x, return_counts=True)
    top_share = counts.max() / len(x)
    if len(values) == 1 or top_share >= CONSTANT_SHARE:
        return AttributeCheck(name, "near-constant", n_out, low, high,
                              f"{100 * top_share:.1f} % of the voxels equal {values[counts.argmax()]:.6g}")
    if len(values) <= DISCRETE_VALUES:
        return AttributeCheck(name, "near-discrete", n_out, low, high, f"{len(values)} distinct values")
    clipped = np.clip(x, low, high)
    hist, _ = np.histogram(clipped, bins=BINS)
    share = np.sort(hist)[::-1][:DISCRETE_VALUES].sum() / len(x)
    if share >= DISCRETE_SHARE:
        return AttributeCheck(name, "near-discrete", n_out, low, high,
                              f"{100 * share:.0f} % of the voxels in {DISCRETE_VALUES} of {BINS} bins of its range")
    return AttributeCheck(name, "ok", n_out, low, high)


def check_attributes(names, values: np.ndarray) -> list[AttributeCheck]:
    """:func:`check_attribute` for every column of ``values`` (n_voxels, N)."""
    return [check_attribute(n, values[:, j]) for j, n in enumerate(names)]


def tame(values: np.ndarray, checks: list[AttributeCheck]) -> np.ndarray:
    """The values with heavy outliers clipped (a copy; well-behaved columns unchanged)."""
    out = values.copy()
    for j, c in enumerate(checks):
        if c.n_outliers:
            out[:, j] = np.clip(out[:, j], c.low, c.high)
    return out


def variance_floor(checks: list[AttributeCheck], reg_covar: float) -> np.ndarray:
    """Per-attribute regularisation in standardised units: ``reg_covar``, or the floor when degenerate."""
    return np.array([DEGENERATE_VARIANCE_FLOOR if c.degenerate else reg_covar for c in checks])
