"""Interpreter-style facies polygons for the synthetic survey, drawn well inside each body.

On a few inline, crossline and time slices through each facies, a polygon is placed around
the point deepest inside the facies (largest distance to any other facies on that slice)
and kept within that distance minus a margin, so every voxel centre inside it has the
polygon's facies. Vertices are in survey coordinates (line numbers, ms), open rings, as in
the v1 facies file format.
"""

from __future__ import annotations

import json

import numpy as np
from scipy import ndimage

#: slices per orientation and polygons per slice
SLICES = {"inline": 2, "crossline": 1, "sample": 2}
POLYGONS_PER_SLICE = 2
#: grid cells kept between a polygon and the facies boundary
MARGIN = 2.0


def _pick_slices(counts: np.ndarray, n: int) -> list[int]:
    """The ``n`` slices crossing most of the facies, at least a sixth of the axis apart.

    The outer tenth of the survey on each side is avoided, as an interpreter would.
    """
    counts = counts.copy()
    edge = len(counts) // 10
    counts[:edge] = 0
    counts[len(counts) - edge:] = 0
    order = np.argsort(-counts, kind="stable")
    gap = max(1, len(counts) // 6)
    chosen: list[int] = []
    for i in order:
        if counts[i] == 0 or len(chosen) == n:
            break
        if all(abs(int(i) - j) >= gap for j in chosen):
            chosen.append(int(i))
    return sorted(chosen)


def _ring(rng: np.random.Generator, centre, radius: float, n_vertices: int = 7) -> np.ndarray:
    """An irregular convex-ish ring of vertices within ``radius`` of ``centre`` (grid units)."""
    step = 2 * np.pi / n_vertices
    angles = np.arange(n_vertices) * step + rng.uniform(-0.25, 0.25, n_vertices) * step
    radii = radius * rng.uniform(0.7, 1.0, n_vertices)
    return np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], axis=1)


def slice_polygons(mask: np.ndarray, rng: np.random.Generator, *, count: int = POLYGONS_PER_SLICE,
                   max_radius: float | None = None) -> list[np.ndarray]:
    """Polygons (grid-index vertices, arrays of shape (n, 2)) inside a 2D facies ``mask``."""
    mask = mask.copy()
    max_radius = max_radius or 0.15 * min(mask.shape)
    out = []
    for _ in range(count):
        # a False border keeps polygons inside the survey too
        depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
        centre = np.unravel_index(int(np.argmax(depth)), depth.shape)
        room = float(depth[centre]) - MARGIN
        if room < 1.5:
            break
        radius = min(room, max_radius)
        out.append(_ring(rng, centre, radius))
        # the next polygon goes elsewhere on the slice
        yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
        mask &= (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 > (2 * radius + 2 * MARGIN) ** 2
    return out


def facies_polygons(true_facies: np.ndarray, inline: np.ndarray, crossline: np.ndarray,
                    sample: np.ndarray, codes: dict[str, int], colors: dict[str, str],
                    *, seed: int = 0, volume: str = "amplitude") -> dict[str, dict]:
    """Facies files (v1 format, as dicts) for each facies in ``codes``.

    Parameters
    ----------
    true_facies : int array of shape (n_inlines, n_crosslines, n_samples)
    inline, crossline, sample : the survey coordinates of the three axes
    codes : facies name -> code in ``true_facies``
    colors : facies name -> colour "#rrggbb"
    """
    rng = np.random.default_rng(seed + 31337)
    axes = {"inline": 0, "crossline": 1, "sample": 2}
    coords = (np.asarray(inline), np.asarray(crossline), np.asarray(sample, dtype=float))
    files = {}
    for name, code in codes.items():
        body = true_facies == code
        polygons = []
        for slice_kind, n_slices in SLICES.items():
            axis = axes[slice_kind]
            other = [a for a in range(3) if a != axis]
            counts = body.sum(axis=tuple(other))
            for index in _pick_slices(counts, n_slices):
                mask = np.take(body, index, axis=axis)
                for ring in slice_polygons(mask, rng):
                    vertices = [[_to_survey(coords[other[0]], p[0]), _to_survey(coords[other[1]], p[1])]
                                for p in ring]
                    line = coords[axis][index]
                    polygons.append({"id": len(polygons) + 1, "slice": slice_kind,
                                     "line": float(line) if slice_kind == "sample" else int(line),
                                     "vertices": vertices})
        files[name] = {"format": "aaspi_py.facies", "version": 1, "facies": name,
                       "color": colors[name], "volume": volume, "polygons": polygons}
    return files


def _to_survey(axis_coords: np.ndarray, position: float) -> float:
    """Grid position (fractional index) to survey units on a regular axis."""
    step = float(axis_coords[1] - axis_coords[0]) if len(axis_coords) > 1 else 1.0
    return round(float(axis_coords[0]) + float(position) * step, 3)


def dumps(doc: dict) -> str:
    """A facies file as JSON text, one polygon per line so it diffs and reads well."""
    head = json.dumps({k: v for k, v in doc.items() if k != "polygons"}, indent=1)
    polygons = ",\n".join("  " + json.dumps(p) for p in doc["polygons"])
    return f'{head[:-2]},\n "polygons": [\n{polygons}\n ]\n}}\n'
