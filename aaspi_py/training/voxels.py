"""Training voxels of a text training file, located in a stack of attribute volumes.

rfc3d reads a text training file (``#`` header lines, then ``inline crossline sample class``
rows; see :func:`aaspi_py.training.training_set.read_text_training_file`), finds each row's voxel in the
attribute volumes and reads the attribute values there. Every way this can go wrong gives
one line naming the file line: a voxel outside the volumes, on a dead trace or with a NaN
attribute, a class outside ``1..n_classes`` or a class with no voxels; and volumes on
different grids are refused before anything is read.

Class names come from the header line ``# classes: 1=salt, 2=mtd`` that define_training_data
writes, when present; otherwise classes are called ``class1``, ``class2``...
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from aaspi_py.framework.errors import AaspiError
from aaspi_py.training.training_set import read_text_training_file
from aaspi_py.volume import describe_grid

_CLASSES = re.compile(r"^#\s*classes\s*:\s*(.*)$", re.IGNORECASE)


@dataclass
class TrainingVoxels:
    """The rows of a training file, their voxels and attribute values.

    Attributes
    ----------
    positions : float array of shape (V, 3): inline, crossline, sample as written in the file
    lines : int array of shape (V,): line number of each row in the file (for messages)
    index : int array of shape (V, 3): voxel indices (inline, crossline, sample) in the volumes
    classes : int array of shape (V,): class numbers 1..M
    values : float64 array of shape (V, N): attribute values at the voxels
    class_names : list of str, length M
    polygon : int array of shape (V,) or None: polygon id of each row when known
    """

    positions: np.ndarray
    lines: np.ndarray
    index: np.ndarray
    classes: np.ndarray
    values: np.ndarray
    class_names: list[str]
    polygon: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.classes)

    def counts(self) -> dict[int, int]:
        """Voxels per class number."""
        ids, n = np.unique(self.classes, return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, n)}


def live_mask(datasets: list[xr.Dataset]) -> np.ndarray:
    """Traces live in every volume, bool array of shape (n_inline, n_crossline)."""
    mask = np.ones(datasets[0]["data"].shape[:2], dtype=bool)
    for ds in datasets:
        if "trace_mask" in ds.coords:
            mask &= np.asarray(ds["trace_mask"].values, dtype=bool)
    return mask


# ---------------------------------------------------------------- text file

def row_line_numbers(path: str | os.PathLike, skip: int | None) -> np.ndarray:
    """File line number (1-based) of each data row, with the same rule as the reader."""
    lines = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if (skip is not None and lineno <= skip) or (skip is None and line.lstrip().startswith("#")):
                continue
            if line.strip():
                lines.append(lineno)
    return np.asarray(lines, dtype=np.int64)


def header_class_names(path: str | os.PathLike) -> dict[int, str]:
    """``{1: "salt", ...}`` from a ``# classes: 1=salt, 2=mtd`` header line, else empty."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.lstrip().startswith("#"):
                break
            hit = _CLASSES.match(line.strip())
            if hit:
                names = {}
                for item in hit.group(1).split(","):
                    key, _, name = item.partition("=")
                    if key.strip().isdigit() and name.strip():
                        names[int(key)] = name.strip()
                return names
    return {}


def polygon_ids(path: Path, positions: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """Polygon of each row from the training set folder the file sits in, or None.

    define_training_data stores ``training/<name>/<name>.txt`` beside ``training_set.json``
    and ``positions.npz`` (positions and polygon id of every voxel, by facies). A file made
    by hand has no such folder; then None.
    """
    folder = path.parent
    manifest = folder / "training_set.json"
    if not manifest.exists() or not (folder / "positions.npz").exists():
        return None
    try:
        n_facies = len(json.loads(manifest.read_text(encoding="utf-8"))["facies"])
        lookup: dict[tuple, int] = {}
        with np.load(folder / "positions.npz", allow_pickle=False) as z:
            for m in range(n_facies):
                pos, poly = z[f"f{m + 1:02d}_position"], z[f"f{m + 1:02d}_polygon"]
                for p, g in zip(np.round(pos, 3).tolist(), poly.tolist()):
                    lookup[(m + 1, *p)] = int(g)
    except (OSError, KeyError, ValueError):
        return None
    keys = np.column_stack([classes, np.round(positions, 3)]).tolist()
    ids = [lookup.get((int(k[0]), *k[1:]), None) for k in keys]
    if any(i is None or i < 0 for i in ids):
        return None
    return np.asarray(ids, dtype=np.int64)


# ---------------------------------------------------------------- locating

def _line_index(coord: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of each value in a coordinate of line numbers (exact), -1 when absent."""
    order = np.argsort(coord, kind="stable")
    pos = np.clip(np.searchsorted(coord[order], values), 0, len(coord) - 1)
    hit = coord[order][pos] == values
    return np.where(hit, order[pos], -1)


def _sample_index(coord: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Nearest sample within half a sample interval, -1 outside the trace."""
    step = float(coord[1] - coord[0]) if len(coord) > 1 else 1.0
    k = np.rint((values - coord[0]) / step).astype(np.int64)
    inside = (k >= 0) & (k < len(coord))
    k = np.where(inside, k, 0)
    inside &= np.abs(coord[k] - values) <= 0.5 * abs(step) * (1 + 1e-9)
    return np.where(inside, k, -1)


def locate(positions: np.ndarray, lines: np.ndarray, ds: xr.Dataset, path: Path) -> np.ndarray:
    """Voxel indices (V, 3) of rows ``inline crossline sample``; refuses rows outside the volumes."""
    idx = np.column_stack([
        _line_index(ds["inline"].values, positions[:, 0]),
        _line_index(ds["crossline"].values, positions[:, 1]),
        _sample_index(ds["sample"].values.astype(np.float64), positions[:, 2]),
    ])
    bad = np.flatnonzero((idx < 0).any(axis=1))
    if bad.size:
        i = bad[0]
        il, xl, s = positions[i]
        raise AaspiError(
            f"{path}, line {lines[i]}: voxel inline {il:g} crossline {xl:g} sample {s:g} is outside the "
            f"attribute volumes ({describe_grid(ds)})" + (f" ({bad.size} such rows)" if bad.size > 1 else "")
            + "; fix the training file or choose volumes of the same survey."
        )
    return idx


# ---------------------------------------------------------------- the whole read

def read_training_voxels(path: str | os.PathLike, skip: int | None, datasets: list[xr.Dataset],
                         names: list[str], n_classes: int = 0) -> TrainingVoxels:
    """Read a text training file and the attribute values at its voxels.

    Parameters
    ----------
    path : training file (``#`` header, then ``inline crossline sample class`` rows)
    skip : header lines to skip (None: every line starting with ``#``)
    datasets : attribute volumes (same grid), in model order
    names : their names, for messages
    n_classes : expected number of classes M (0: the largest class number in the file)

    Returns
    -------
    TrainingVoxels
    """
    path = Path(path)
    if path.is_file():  # a missing file is refused by the reader, in its own words
        _check_memory(path, skip, datasets)
    rows = read_text_training_file(path, skip)
    lines = row_line_numbers(path, skip)
    positions, raw = rows[:, :3], rows[:, 3]
    classes = np.rint(raw).astype(np.int64)
    odd = np.flatnonzero((classes != raw) | (classes < 1))
    if odd.size:
        raise AaspiError(f"{path}, line {lines[odd[0]]}: class {raw[odd[0]]:g} is not a class number "
                         f"1, 2, ...; the fourth column holds the class.")
    top = int(classes.max())
    if n_classes and top > n_classes:
        i = int(np.argmax(classes > n_classes))
        raise AaspiError(f"{path}, line {lines[i]}: class {classes[i]} is outside 1..{n_classes} "
                         f"(n_classes = {n_classes}); set n_classes = {top} or fix the file.")
    m = n_classes or top
    present = set(np.unique(classes).tolist())
    empty = [c for c in range(1, m + 1) if c not in present]
    if empty:
        raise AaspiError(f"{path}: class {empty[0]} has no training voxels (classes in the file: "
                         f"{', '.join(map(str, sorted(present)))}); set n_classes = {len(present)} "
                         f"and number the classes 1..{len(present)}, or add voxels of class {empty[0]}.")
    idx = locate(positions, lines, datasets[0], path)
    live = live_mask(datasets)[idx[:, 0], idx[:, 1]]
    if not live.all():
        i = int(np.argmin(live))
        raise AaspiError(f"{path}, line {lines[i]}: voxel inline {positions[i, 0]:g} crossline "
                         f"{positions[i, 1]:g} is on a dead trace of the attribute volumes; "
                         f"remove the row ({int((~live).sum())} rows on dead traces).")
    values = extract(datasets, idx)
    nan = ~np.isfinite(values)
    if nan.any():
        i, a = (int(x) for x in np.argwhere(nan)[0])
        raise AaspiError(f"{path}, line {lines[i]}: attribute '{names[a]}' is NaN at voxel inline "
                         f"{positions[i, 0]:g} crossline {positions[i, 1]:g} sample {positions[i, 2]:g} "
                         f"({int(nan.any(axis=1).sum())} rows with NaN); recompute the attribute or "
                         f"remove those rows.")
    header = header_class_names(path)
    class_names = [header.get(c, f"class{c}") for c in range(1, m + 1)]
    return TrainingVoxels(positions=positions, lines=lines, index=idx, classes=classes,
                          values=values, class_names=class_names,
                          polygon=polygon_ids(path, positions, classes))


def _check_memory(path: Path, skip: int | None, datasets: list[xr.Dataset]) -> None:
    """Refuse a file whose rows cannot be held in memory, before parsing them (a count
    of the lines costs one pass and no memory)."""
    from aaspi_py.training.training_memory import TEXT_FILE_BYTES, check_training_memory

    with open(path, encoding="utf-8") as fh:
        n_rows = sum(1 for lineno, line in enumerate(fh, 1) if line.strip() and not (
            (skip is not None and lineno <= skip) or (skip is None and line.lstrip().startswith("#"))))
    data = datasets[0]["data"].data
    chunks = data.chunksize if hasattr(data, "chunksize") else data.shape
    check_training_memory(n_rows, len(datasets), chunks, f"The rows of {path}",
                          "thin the file (rfc3d trains on at most max_voxels of its rows) or free memory",
                          per_voxel=TEXT_FILE_BYTES)


def extract(datasets: list[xr.Dataset], idx: np.ndarray) -> np.ndarray:
    """Attribute values at voxel indices (V, 3) → float64 array (V, N); reads only the chunks hit."""
    import dask

    cols = []
    for ds in datasets:
        arr = ds["data"].data
        where = (idx[:, 0], idx[:, 1], idx[:, 2])
        cols.append(arr.vindex[where] if hasattr(arr, "vindex") else np.asarray(arr)[where])
    return np.column_stack(dask.compute(*cols)).astype(np.float64)
