"""define_training_data: rasterising polygons and extracting training voxels.

1. Rasterise a 200-vertex polygon over a 1000 × 1000 time slice (closed even-odd test on
   every node) — anchor: matplotlib ``Path.contains_points`` on the same nodes.
2. Extract a training set (3 facies, polygons on inline, crossline and time slices) from
   5 attribute volumes of 200 × 200 × 300 in zarr — anchor: reading the same volumes whole
   into memory (``ds["data"].values``), the least a whole-volume approach has to do.

Run: ``.venv/bin/python benches/training_data.py``
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.path import Path as MplPath

import aaspi_py
from aaspi_py.training import polygons as P
from aaspi_py.training.rasterize import Grid, slice_mask


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rasterise() -> None:
    n = 1000
    grid = Grid(np.arange(n), np.arange(n), np.arange(4.0), np.ones((n, n), bool))
    a = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    verts = np.column_stack([500 + 440 * np.cos(a) * (1 + 0.1 * np.sin(5 * a)), 500 + 440 * np.sin(a)])
    poly = P.Polygon(1, "sample", 1.0, verts)
    nodes = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1).reshape(-1, 2)
    ours = best_of(lambda: slice_mask(poly, grid))
    theirs = best_of(lambda: MplPath(verts).contains_points(nodes))
    print(f"rasterise 200-vertex polygon, 1000x1000 slice: {ours * 1e3:.0f} ms; "
          f"matplotlib contains_points {theirs * 1e3:.0f} ms; ratio {ours / theirs:.2f}")


def extract() -> None:
    shape = (200, 200, 300)
    names = [f"attr{i}" for i in range(5)]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        proj = aaspi_py.Project.create(Path(tmp) / "bench", "bench")
        for name in names:
            aaspi_py.save_volume(rng.standard_normal(shape, dtype=np.float32), proj.volumes_dir / f"{name}.zarr",
                                 inline=np.arange(1, 201), crossline=np.arange(1, 201), sample=np.arange(300) * 4.0)
        for m, facies in enumerate(("salt", "mtd", "background")):
            c = 40 + 60 * m
            P.save_polygon_to_new_file(proj, "inline", c, [(c - 30, 100), (c + 30, 100), (c, 900)], facies=facies)
            P.add_polygon(proj, facies, "crossline", c + 10, [(c - 30, 200), (c + 30, 200), (c + 30, 600)])
            P.add_polygon(proj, facies, "sample", 400.0 + 200 * m, [(c - 30, 10), (c + 30, 10), (c, 190)])
        facies = ["salt", "mtd", "background"]
        ts = aaspi_py.training_set(proj, facies, names)
        ours = best_of(lambda: aaspi_py.training_set(proj, facies, names))
        anchor = best_of(lambda: [aaspi_py.open_volume(proj.volumes_dir / f"{n}.zarr")["data"].values
                                  for n in names])
    print(f"extract {len(ts)} voxels x 5 attributes (200x200x300 zarr): {ours:.2f} s; "
          f"reading the 5 volumes whole {anchor:.2f} s; ratio {ours / anchor:.2f}")


if __name__ == "__main__":
    rasterise()
    extract()
