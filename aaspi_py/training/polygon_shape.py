"""The shape of a polygon: degenerate or self-intersecting rings are refused in one line.

Pure geometry on vertex arrays, so the facies file model and the rasteriser can both check
shapes without importing each other.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from aaspi_py.framework.errors import AaspiError


class Polygon(Protocol):
    """What a shape check needs of a polygon (:class:`aaspi_py.training.facies_file.Polygon`)."""

    id: int

    @property
    def array(self) -> np.ndarray: ...

_EPS = 1e-12  # orientation tests, in unit-square coordinates of the polygon's bounding box


def _clean(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated consecutive vertices (and a closing copy of the first); keep numbers."""
    keep = np.ones(len(vertices), dtype=bool)
    for i in range(1, len(vertices)):
        if np.array_equal(vertices[i], vertices[np.flatnonzero(keep[:i])[-1]]):
            keep[i] = False
    idx = np.flatnonzero(keep)
    if len(idx) > 1 and np.array_equal(vertices[idx[-1]], vertices[idx[0]]):
        idx = idx[:-1]
    return vertices[idx], idx + 1


def _orient(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed twice-area of triangles p, q, r (arrays of shape (..., 2)), 0 within _EPS."""
    o = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
    return np.where(np.abs(o) <= _EPS, 0.0, o)


def _on_segment(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """For collinear p, q, r: is r within the bounding box of segment p-q."""
    return ((np.minimum(p[..., 0], q[..., 0]) - _EPS <= r[..., 0]) & (r[..., 0] <= np.maximum(p[..., 0], q[..., 0]) + _EPS)
            & (np.minimum(p[..., 1], q[..., 1]) - _EPS <= r[..., 1]) & (r[..., 1] <= np.maximum(p[..., 1], q[..., 1]) + _EPS))


def shape_problem(vertices: np.ndarray) -> str | None:
    """Why a polygon cannot be rasterised (degenerate, self-intersecting), or None.

    Parameters
    ----------
    vertices : array of shape (K, 2)
        Open ring in any units (each axis is rescaled to the bounding box first, so the
        answer does not depend on units).
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    v, number = _clean(v)
    if len(v) < 3:
        return f"degenerate: {len(v)} distinct vertices, a polygon needs at least 3"
    span = v.max(axis=0) - v.min(axis=0)
    if (span == 0).any():
        return "degenerate: zero area (all vertices on one line)"
    u = (v - v.min(axis=0)) / span
    # all vertices on one line: the centred vertices have rank 1 (a bowtie's signed area is
    # zero too, but that is a self-intersection, reported below)
    sv = np.linalg.svd(u - u.mean(axis=0), compute_uv=False)
    if sv[1] <= 1e-9 * sv[0]:
        return "degenerate: zero area (all vertices on one line)"
    n = len(u)
    a, b = u, np.roll(u, -1, axis=0)
    # an edge doubling back along the previous one
    prev = np.roll(np.arange(n), 1)
    back = (_orient(a[prev], b[prev], b) == 0) & (np.sum((b[prev] - a[prev]) * (b - a), axis=1) < 0)
    if back.any():
        i = int(np.flatnonzero(back)[0])
        return (f"self-intersecting: edges {_edge(prev[i], number)} and {_edge(i, number)} "
                f"overlap (the outline doubles back)")
    i, j = np.triu_indices(n, k=2)
    pair = ~((i == 0) & (j == n - 1))  # first and last edges share vertex 1
    i, j = i[pair], j[pair]
    p1, p2, q1, q2 = a[i], b[i], a[j], b[j]
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    hit = ((d1 * d2 < 0) & (d3 * d4 < 0)) \
        | ((d1 == 0) & _on_segment(q1, q2, p1)) | ((d2 == 0) & _on_segment(q1, q2, p2)) \
        | ((d3 == 0) & _on_segment(p1, p2, q1)) | ((d4 == 0) & _on_segment(p1, p2, q2))
    if hit.any():
        k = int(np.flatnonzero(hit)[0])
        return f"self-intersecting: edges {_edge(i[k], number)} and {_edge(j[k], number)} cross or touch"
    return None


def _edge(i: int, number: np.ndarray) -> str:
    """Edge i of the cleaned ring, named by the vertex numbers of the original list."""
    return f"{number[i]}-{number[(i + 1) % len(number)]}"


def check_shape(polygon: Polygon, source: str) -> None:
    """Raise a one-line :class:`AaspiError` for a degenerate or self-intersecting polygon."""
    problem = shape_problem(polygon.array)
    if problem:
        raise AaspiError(f"{source}: polygon {polygon.id}: {problem}; redraw it.")
