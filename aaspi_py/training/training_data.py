"""Generate a training set: ordered facies files × ordered attribute volumes.

For M facies files and N attribute volumes (all on one grid), the voxels inside each
facies' polygons (:mod:`aaspi_py.training.rasterize`: closed polygons, nodes on edges count, dead
traces skipped) give a :class:`~aaspi_py.training.training_set.TrainingSet`: values (V, N), facies
index, positions (inline, crossline, sample in survey units) and polygon ids.

Rules:

- the attribute volumes must share inline, crossline and sample coordinates, else the
  error names both volumes; a trace dead in any of them is skipped;
- a voxel inside several polygons of one facies counts once, for the first of them in
  the file (the polygon id it carries);
- a voxel inside polygons of two different facies is an error naming both (a voxel can
  train only one facies);
- a voxel where any attribute is NaN or infinite is left out (counted in the summary);
- a facies with no voxel at all is an error (its polygons enclose no live node).

Voxels are ordered by facies, then polygon (file order), then inline, crossline, sample.
Values are read with one point-wise dask gather per volume, so only the chunks holding
training voxels are read, a few at a time (one task per chunk): memory grows with the
training voxels, not with the volume, and a training set too large for memory is refused
before its voxels are listed (:mod:`aaspi_py.training.training_memory`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.training.facies_file import FaciesFile, fmt_number, read_facies
from aaspi_py.training.rasterize import Grid, mask_voxels, slice_mask
from aaspi_py.training.training_memory import check_training_memory
from aaspi_py.training.training_set import TrainingSet
from aaspi_py.volume import open_volume


@dataclass
class Extraction:
    """What a generation found besides the training set (for the summary).

    Attributes
    ----------
    files : list of FaciesFile, length M
    polygon_counts : list of dict, length M: polygon id -> voxels kept (0 included)
    dropped_nonfinite : int
        Voxels left out because an attribute was NaN or infinite there.
    """

    files: list[FaciesFile]
    polygon_counts: list[dict[int, int]]
    dropped_nonfinite: int = 0


def _unique(names: Sequence[str], what: str) -> list[str]:
    names = [str(n) for n in names]
    if not names:
        raise AaspiError(f"No {what} given; choose at least one.")
    seen = set()
    for n in names:
        if n in seen:
            raise AaspiError(f"{what.capitalize()} '{n}' is listed twice; list each once.")
        seen.add(n)
    return names


def _volume_name(name: str) -> str:
    stem = Path(name).name
    return stem[:-5] if stem.endswith(".zarr") else stem


def check_same_grid(volumes: Sequence[tuple[str, object]]) -> Grid:
    """The common grid of (name, dataset) pairs; trace masks are combined (AND).

    Raises a one-line error naming the first pair of volumes that differ.
    """
    name0, ds0 = volumes[0]
    grid0 = Grid.from_dataset(ds0)
    mask = grid0.trace_mask.copy()
    for name, ds in volumes[1:]:
        g = Grid.from_dataset(ds)
        for axis in ("inline", "crossline", "sample"):
            a, b = grid0.coords(axis), g.coords(axis)
            if a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=1e-6 * max(1.0, float(np.abs(a).max()))):
                raise AaspiError(
                    f"Attribute volumes '{name0}' and '{name}' are not on the same grid: {axis}s "
                    f"{_span(a)} vs {_span(b)}; use volumes of one survey geometry.")
        mask &= g.trace_mask
    return Grid(grid0.inline, grid0.crossline, grid0.sample, mask, grid0.units)


def _span(c: np.ndarray) -> str:
    if len(c) == 0:
        return "none"
    return f"{fmt_number(c[0])}..{fmt_number(c[-1])} ({len(c)})"


def collect_voxels(files: Sequence[FaciesFile], grid: Grid, check: Callable[[int, int], None] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterise every polygon of every facies file.

    Parameters
    ----------
    files : facies files, in class order
    grid : the attribute volumes' grid
    check : callable, optional
        Called with the running count of voxels and the facies file position, after each
        polygon is rasterised and before its voxels are listed, so a training set too large
        for memory is refused while only slice masks are held.

    Returns
    -------
    index : int array of shape (V, 3)
        Inline, crossline, sample positions (0-based) of the voxels.
    facies_index : int array of shape (V,), 0..M-1
    polygon : int array of shape (V,), polygon id within its facies file
    """
    lin_all, fac_all, pid_all = [], [], []
    total = 0
    for m, ff in enumerate(files):
        lins, orders = [], []
        for order, poly in enumerate(ff.polygons):
            mask = slice_mask(poly, grid, ff.source)
            total += int(np.count_nonzero(mask))
            if check is not None:
                check(total, m)
            vox = mask_voxels(mask, poly, grid)
            lins.append(np.ravel_multi_index(vox.T, grid.shape))
            orders.append(np.full(len(vox), order))
        if not lins:
            continue
        lin, order = np.concatenate(lins), np.concatenate(orders)
        # overlapping polygons of one facies: keep the voxel once, for the first polygon
        lin, first = np.unique(lin, return_index=True)
        order = order[first]
        keep = np.lexsort((lin, order))
        lin_all.append(lin[keep])
        fac_all.append(np.full(len(lin), m))
        pid_all.append(np.array([ff.polygons[o].id for o in order[keep]], dtype=np.int64))
    if not lin_all:
        return np.empty((0, 3), np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    lin, fac, pid = np.concatenate(lin_all), np.concatenate(fac_all), np.concatenate(pid_all)
    _refuse_shared_voxels(lin, fac, pid, files, grid)
    return np.column_stack(np.unravel_index(lin, grid.shape)).astype(np.int64), fac, pid


def _refuse_shared_voxels(lin, fac, pid, files, grid) -> None:
    values, counts = np.unique(lin, return_counts=True)
    if (counts == 1).all():
        return
    shared = values[counts > 1][0]
    a, b = np.flatnonzero(lin == shared)[:2]
    i, j, k = np.unravel_index(shared, grid.shape)
    raise AaspiError(
        f"Voxel (inline {fmt_number(grid.inline[i])}, crossline {fmt_number(grid.crossline[j])}, sample "
        f"{fmt_number(grid.sample[k])}) is inside polygon {pid[a]} of {files[fac[a]].source} and polygon "
        f"{pid[b]} of {files[fac[b]].source}; a voxel can train only one facies: move or delete one of them.")


def read_values(datasets: Sequence[object], index: np.ndarray, progress=None) -> np.ndarray:
    """Values of each volume at voxel positions, shape (V, N), float64.

    One point-wise gather (``vindex``) per volume, computed together, so each chunk
    holding training voxels is read once per volume and no other chunk is read.
    """
    from aaspi_py.framework.scheduler import compute

    if len(index) == 0:
        return np.empty((0, len(datasets)))
    i, j, k = index.T
    lazy = [ds["data"].data.vindex[i, j, k] if hasattr(ds["data"].data, "vindex")
            else np.asarray(ds["data"].values[i, j, k]) for ds in datasets]
    cols = compute(*lazy, progress=progress, status="reading attribute values")
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])


def generate_training_set(
    project: Project | str | os.PathLike,
    facies: Sequence[str],
    attributes: Sequence[str],
    *,
    name: str | None = None,
    progress=None,
) -> TrainingSet:
    """The training set of ordered facies files × ordered attribute volumes.

    Parameters
    ----------
    project : Project or path
    facies : sequence of str, length M
        Facies names (``polygons/<facies>.json``) or paths to facies files ending in
        ``.json``; class numbers are 1..M in this order. The file name names the facies
        in the training set.
    attributes : sequence of str, length N
        Attribute volume names (or ``.zarr`` paths), in the order of the value columns.
    name : str, optional
        Name of the training set (default ``training``).
    progress : Progress, optional
        Progress and cancel handle for reading the values.

    Returns
    -------
    TrainingSet
        values of shape (V, N), facies_index (V,), positions (V, 3) in survey units,
        polygon (V,).
    """
    return extract_training_set(project, facies, attributes, name=name, progress=progress)[0]


def extract_training_set(
    project: Project | str | os.PathLike,
    facies: Sequence[str],
    attributes: Sequence[str],
    *,
    name: str | None = None,
    progress=None,
) -> tuple[TrainingSet, Extraction]:
    """:func:`generate_training_set` plus what the summary needs (per-polygon counts)."""
    proj = Project.open(project)
    facies = _unique(facies, "facies")
    attributes = _unique(attributes, "attribute volumes")
    files = [read_facies(proj, f) for f in facies]
    datasets = [open_volume(proj.existing_volume(a, param="attributes")) for a in attributes]
    names = [_volume_name(a) for a in attributes]
    grid = check_same_grid(list(zip(names, datasets)))

    chunks = datasets[0]["data"].data.chunksize if hasattr(datasets[0]["data"].data, "chunksize") \
        else datasets[0]["data"].shape

    def fits(n_voxels: int, m: int) -> None:
        facies_so_far = ", ".join(f"'{ff.facies}'" for ff in files[:m + 1])
        check_training_memory(n_voxels, len(datasets), chunks, f"The polygons of facies {facies_so_far}",
                              "draw smaller or fewer polygons, or split the facies over several training sets")

    index, fac, pid = collect_voxels(files, grid, fits)
    for m, ff in enumerate(files):
        if not ff.polygons:
            raise AaspiError(f"{ff.source} has no polygons; draw and add polygons for facies '{ff.facies}'.")
        if not (fac == m).any():
            raise AaspiError(f"{ff.source}: facies '{ff.facies}' has no training voxels (its polygons enclose "
                             f"no grid node on a live trace); draw larger polygons.")
    values = read_values(datasets, index, progress)
    finite = np.isfinite(values).all(axis=1)
    dropped = int((~finite).sum())
    if dropped:
        index, fac, pid, values = index[finite], fac[finite], pid[finite], values[finite]
    positions = np.column_stack([grid.inline[index[:, 0]], grid.crossline[index[:, 1]],
                                 grid.sample[index[:, 2]]]).astype(np.float64)
    # facies are named as requested (the file name), so a file renamed by hand, as the
    # AASPI notes do, names its facies even if the name inside still says "polygon"
    ts = TrainingSet(facies=[Path(f).stem for f in facies], attributes=names, values=values,
                     facies_index=fac, positions=positions, polygon=pid, volumes=list(attributes),
                     name=name or "training")
    counts = [{p.id: int(((fac == m) & (pid == p.id)).sum()) for p in ff.polygons}
              for m, ff in enumerate(files)]
    return ts, Extraction(files, counts, dropped)


def summary_lines(ts: TrainingSet, info: Extraction | None = None) -> list[str]:
    """Voxel counts per facies and per polygon, as printed after a run."""
    lines = [f"training set '{ts.name}': {ts.n_facies} facies x {ts.n_attributes} attributes, "
             f"{len(ts)} voxels"]
    per_polygon = info.polygon_counts if info is not None else \
        [ts.polygon_counts().get(f, {}) for f in ts.facies]
    for m, (f, n) in enumerate(ts.counts().items()):
        polys = ", ".join(f"polygon {i}: {c}" for i, c in per_polygon[m].items())
        lines.append(f"  class {m + 1} {f}: {n} voxels ({polys})")
    if info is not None and info.dropped_nonfinite:
        lines.append(f"  {info.dropped_nonfinite} voxels left out: an attribute is NaN or infinite there")
    return lines
