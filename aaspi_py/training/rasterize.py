"""Polygons to voxels: the grid nodes of a slice that a polygon encloses.

A voxel's centre is the grid node at its line numbers and sample value. Each polygon lives
on one slice, so it selects voxels of that slice only.

Boundary rule
-------------
The polygon is **closed**: a node strictly inside it, or on one of its edges or vertices,
belongs to it. "On" means within 1e-6 of a grid step of the boundary, measured after
mapping survey coordinates to grid-index coordinates (node ``(j, k)`` at integers), so a
vertex placed on a node, or an edge running along a row of nodes, picks those nodes
whatever the sample rate or line increment. Away from the boundary the even-odd
crossing-number test decides. The result does not depend on the vertex order or
orientation. Consequence: two polygons sharing an edge both get the nodes on it, which is
harmless within one facies (counted once) and an error between facies
(:mod:`aaspi_py.training.training_data`).

Refusals (one line naming the file and polygon):

- degenerate: fewer than 3 distinct vertices, or zero area (all vertices on one line);
- self-intersecting: two non-adjacent edges cross or touch, or an edge doubles back on
  the previous one (every pair of edges is tested);
- out of survey: the slice line is not a line (or sample) of the volume, or a vertex lies
  outside the volume's line/sample range.

Nodes on masked (dead or missing) traces are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from aaspi_py.framework.errors import AaspiError
from aaspi_py.training.facies_file import SLICE_AXES, Polygon, fmt_number
from aaspi_py.training.polygon_shape import check_shape, shape_problem  # noqa: F401  (part of this module's API)

#: distance, in grid steps, within which a node counts as on the boundary
TOLERANCE = 1e-6
_DIMS = ("inline", "crossline", "sample")


# ---------------------------------------------------------------- survey grid

@dataclass(frozen=True)
class Grid:
    """Line numbers, samples and live traces of a volume.

    Attributes
    ----------
    inline : array of shape (n_inline,)
    crossline : array of shape (n_crossline,)
    sample : array of shape (n_sample,), ms or m
    trace_mask : bool array of shape (n_inline, n_crossline), False on dead traces
    units : str
        Units of ``sample`` (for messages).
    """

    inline: np.ndarray
    crossline: np.ndarray
    sample: np.ndarray
    trace_mask: np.ndarray
    units: str = "ms"

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Grid:
        ni, nx = ds.sizes["inline"], ds.sizes["crossline"]
        mask = ds["trace_mask"].values.astype(bool) if "trace_mask" in ds.coords or "trace_mask" in ds \
            else np.ones((ni, nx), dtype=bool)
        return cls(np.asarray(ds["inline"].values), np.asarray(ds["crossline"].values),
                   np.asarray(ds["sample"].values, dtype=np.float64), mask,
                   str(ds["sample"].attrs.get("units", "ms")))

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.inline), len(self.crossline), len(self.sample)

    def coords(self, axis: str) -> np.ndarray:
        return {"inline": self.inline, "crossline": self.crossline, "sample": self.sample}[axis]

    def describe(self, axis: str) -> str:
        """``inlines 100..200`` / ``samples 0..996 ms``, for messages."""
        c = self.coords(axis)
        lo, hi = fmt_number(c.min()), fmt_number(c.max())
        return f"{axis}s {lo}..{hi}" + (f" {self.units}" if axis == "sample" else "")

    def index(self, axis: str, values: np.ndarray) -> np.ndarray:
        """Fractional grid index of survey coordinates along ``axis`` (nodes at integers).

        Regular axes (every survey grid) map affinely, which keeps containment exact;
        irregular ones are interpolated piecewise linearly.
        """
        c = self.coords(axis).astype(np.float64)
        values = np.asarray(values, dtype=np.float64)
        if len(c) == 1:
            return values - c[0]
        d = np.diff(c)
        if np.allclose(d, d[0], rtol=1e-9, atol=0):
            return (values - c[0]) / d[0]
        order = np.argsort(c)
        return np.interp(values, c[order], order.astype(np.float64), left=-np.inf, right=np.inf)

    def line_index(self, axis: str, line: float) -> int | None:
        """Position of a line (or sample value) on ``axis``, or None if it is not a node."""
        f = float(self.index(axis, np.array([line]))[0])
        i = int(round(f)) if np.isfinite(f) else -1
        if 0 <= i < len(self.coords(axis)) and abs(f - i) <= TOLERANCE:
            return i
        return None


# ---------------------------------------------------------------- geometry

def point_in_polygon(points: np.ndarray, vertices: np.ndarray, tol: float = TOLERANCE) -> np.ndarray:
    """Closed even-odd point-in-polygon test.

    Parameters
    ----------
    points : array of shape (P, 2)
    vertices : array of shape (K, 2)
        Open ring, K >= 3, same units as ``points``.
    tol : float
        A point within ``tol`` of an edge or vertex counts as inside.

    Returns
    -------
    bool array of shape (P,)
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    # sorted by y, the points an edge can affect (its y-range widened by tol) are one
    # contiguous run, so each edge only looks at its own band of points
    order = np.argsort(pts[:, 1], kind="stable")
    xs, ys = pts[order, 0], pts[order, 1]
    odd = np.zeros(len(pts), dtype=bool)
    near = np.zeros(len(pts), dtype=bool)
    for a, b in zip(v, np.roll(v, -1, axis=0)):
        start = np.searchsorted(ys, min(a[1], b[1]) - tol, side="left")
        stop = np.searchsorted(ys, max(a[1], b[1]) + tol, side="right")
        if start == stop:
            continue
        x, y = xs[start:stop], ys[start:stop]
        # even-odd: the half-open rule (a.y > y) != (b.y > y) counts a ray through a
        # vertex once and ignores horizontal edges
        crosses = (a[1] > y) != (b[1] > y)
        if crosses.any():
            xi = a[0] + (y - a[1]) * (b[0] - a[0]) / np.where(crosses, b[1] - a[1], 1.0)
            odd[start:stop] ^= crosses & (x < xi)
        # closed: distance to the segment within tol
        e = b - a
        ee = float(e @ e)
        t = np.clip(((x - a[0]) * e[0] + (y - a[1]) * e[1]) / ee, 0.0, 1.0) if ee > 0 else 0.0
        near[start:stop] |= np.hypot(x - (a[0] + t * e[0]), y - (a[1] + t * e[1])) <= tol
    inside = np.empty(len(pts), dtype=bool)
    inside[order] = odd | near
    return inside


def check_in_survey(polygon: Polygon, grid: Grid, source: str) -> int:
    """Raise if the polygon's slice or a vertex is outside the survey; return the slice index."""
    line = grid.line_index(polygon.slice, polygon.line)
    if line is None:
        raise AaspiError(f"{source}: polygon {polygon.id}: {polygon.slice} {fmt_number(polygon.line)} is not "
                         f"in the volume ({grid.describe(polygon.slice)}); pick it on one of the volume's "
                         f"{polygon.slice}s.")
    ax0, ax1 = polygon.axes
    v = polygon.array
    for n, ax in enumerate((ax0, ax1)):
        f = grid.index(ax, v[:, n])
        out = np.flatnonzero(~((f >= -TOLERANCE) & (f <= len(grid.coords(ax)) - 1 + TOLERANCE)))
        if out.size:
            k = int(out[0])
            raise AaspiError(
                f"{source}: polygon {polygon.id}: vertex {k + 1} ({ax0} {fmt_number(v[k, 0])}, {ax1} "
                f"{fmt_number(v[k, 1])}) is outside the survey ({grid.describe(ax0)}, "
                f"{grid.describe(ax1)}); move it inside the volume.")
    return line


# ---------------------------------------------------------------- rasterisation

def slice_mask(polygon: Polygon, grid: Grid, source: str = "unsaved polygon") -> np.ndarray:
    """The nodes of the polygon's slice that belong to it, on live traces only.

    Returns
    -------
    bool array of shape (n_a, n_b)
        Axes :data:`~aaspi_py.training.polygons.SLICE_AXES` ``[polygon.slice]``: (crossline,
        sample) for an inline slice, (inline, sample) for a crossline slice, (inline,
        crossline) for a sample slice.
    """
    check_shape(polygon, source)
    line = check_in_survey(polygon, grid, source)
    ax0, ax1 = SLICE_AXES[polygon.slice]
    v = polygon.array
    fv = np.column_stack([grid.index(ax0, v[:, 0]), grid.index(ax1, v[:, 1])])
    n0, n1 = len(grid.coords(ax0)), len(grid.coords(ax1))
    mask = np.zeros((n0, n1), dtype=bool)
    # only nodes in the polygon's bounding box can be inside
    lo = np.maximum(np.ceil(fv.min(axis=0) - TOLERANCE), 0).astype(int)
    hi = np.minimum(np.floor(fv.max(axis=0) + TOLERANCE), [n0 - 1, n1 - 1]).astype(int)
    if (hi >= lo).all():
        g0, g1 = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="ij")
        inside = point_in_polygon(np.column_stack([g0.ravel(), g1.ravel()]), fv)
        mask[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1] = inside.reshape(g0.shape)
    if polygon.slice == "inline":
        mask &= grid.trace_mask[line, :, None]
    elif polygon.slice == "crossline":
        mask &= grid.trace_mask[:, line, None]
    else:
        mask &= grid.trace_mask
    return mask


def polygon_voxels(polygon: Polygon, grid: Grid, source: str = "unsaved polygon") -> np.ndarray:
    """Voxel indices (inline, crossline, sample positions) of a polygon, shape (V, 3).

    Rows are in lexicographic order of the indices.
    """
    return mask_voxels(slice_mask(polygon, grid, source), polygon, grid)


def mask_voxels(mask: np.ndarray, polygon: Polygon, grid: Grid) -> np.ndarray:
    """Voxel indices, shape (V, 3), of the nodes of ``mask`` (:func:`slice_mask` of ``polygon``)."""
    line = grid.line_index(polygon.slice, polygon.line)
    a, b = np.nonzero(mask)
    fixed = np.full(a.shape, line)
    cols = {"inline": (fixed, a, b), "crossline": (a, fixed, b), "sample": (a, b, fixed)}[polygon.slice]
    return np.column_stack(cols).astype(np.int64)
