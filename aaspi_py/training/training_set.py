"""The training set: attribute values inside facies polygons.

For M facies and N attributes, a training set holds the M×N one-dimensional arrays of
attribute values (AASPI names them by facies index then attribute index, ``f01_a03``), the
voxel positions (inline, crossline, sample in survey units), the polygon each voxel came
from, and the ordered facies and attribute names.

On disk, ``training/<name>/`` holds ``training_set.json`` (names, volumes, counts),
``values.npz`` (``fMM_aNN`` arrays), ``positions.npz`` (``fMM_position`` (V, 3) and
``fMM_polygon``) and ``<name>.txt``, the plain text training file (``#`` header lines, then
``inline crossline sample class`` rows, class 1..M) that rfc3d reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError

FORMAT = "aaspi_py.training_set"
VERSION = 1


@dataclass
class TrainingSet:
    """Training voxels of M facies in N attributes.

    Attributes
    ----------
    facies : list of str, length M (ordered; class numbers are 1..M in that order)
    attributes : list of str, length N (ordered)
    values : float array of shape (n_voxels, N)
    facies_index : int array of shape (n_voxels,), 0..M-1
    positions : float array of shape (n_voxels, 3): inline, crossline, sample (ms or m)
    polygon : int array of shape (n_voxels,): polygon id within its facies file (-1 unknown)
    volumes : list of str, length N: the attribute volumes the values came from
    """

    facies: list[str]
    attributes: list[str]
    values: np.ndarray
    facies_index: np.ndarray
    positions: np.ndarray | None = None
    polygon: np.ndarray | None = None
    volumes: list[str] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.facies_index = np.asarray(self.facies_index, dtype=np.int64)
        n = len(self.values)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.attributes):
            raise AaspiError(
                f"Training set: values have shape {self.values.shape}, expected (voxels, {len(self.attributes)} attributes)."
            )
        if self.facies_index.shape != (n,):
            raise AaspiError("Training set: one facies index per voxel is needed.")
        if n and (self.facies_index.min() < 0 or self.facies_index.max() >= len(self.facies)):
            raise AaspiError(f"Training set: facies index outside 0..{len(self.facies) - 1}.")
        if self.positions is None:
            self.positions = np.full((n, 3), np.nan)
        self.positions = np.asarray(self.positions, dtype=np.float64)
        if self.polygon is None:
            self.polygon = np.full(n, -1, dtype=np.int64)
        self.polygon = np.asarray(self.polygon, dtype=np.int64)
        if not self.volumes:
            self.volumes = list(self.attributes)

    # -- shapes
    @property
    def n_facies(self) -> int:
        return len(self.facies)

    @property
    def n_attributes(self) -> int:
        return len(self.attributes)

    def __len__(self) -> int:
        return len(self.values)

    def array(self, facies: int, attribute: int) -> np.ndarray:
        """AASPI's 1D volume ``f{facies+1:02d}_a{attribute+1:02d}`` (0-based arguments)."""
        return self.values[self.facies_index == facies, attribute]

    def facies_values(self, facies: int) -> np.ndarray:
        """All attributes of one facies, shape (n_voxels_of_facies, N)."""
        return self.values[self.facies_index == facies]

    def counts(self) -> dict[str, int]:
        return {f: int((self.facies_index == m).sum()) for m, f in enumerate(self.facies)}

    def polygon_counts(self) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        for m, f in enumerate(self.facies):
            ids, n = np.unique(self.polygon[self.facies_index == m], return_counts=True)
            out[f] = {int(i): int(c) for i, c in zip(ids, n)}
        return out

    # -- views
    def to_dataframe(self):
        import pandas as pd

        df = pd.DataFrame(self.values, columns=self.attributes)
        df.insert(0, "facies", [self.facies[i] for i in self.facies_index])
        df["inline"], df["crossline"], df["sample"] = self.positions.T
        df["polygon"] = self.polygon
        return df

    def to_xarray(self):
        import xarray as xr

        return xr.Dataset(
            {"values": (("voxel", "attribute"), self.values),
             "facies": ("voxel", np.asarray(self.facies)[self.facies_index]),
             "facies_index": ("voxel", self.facies_index),
             "polygon": ("voxel", self.polygon),
             "inline": ("voxel", self.positions[:, 0]),
             "crossline": ("voxel", self.positions[:, 1]),
             "sample": ("voxel", self.positions[:, 2])},
            coords={"attribute": self.attributes},
        )

    # -- CSV table (facies + one column per attribute)
    def to_csv(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        df = self.to_dataframe()[["facies", *self.attributes]]
        df.to_csv(path, index=False)
        return path

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> TrainingSet:
        """A table with a ``facies`` column and one numeric column per attribute."""
        import pandas as pd

        path = Path(path)
        try:
            df = pd.read_csv(path)
        except (OSError, ValueError) as e:
            raise AaspiError(f"Cannot read training table {path}: {e}") from None
        if "facies" not in df.columns:
            raise AaspiError(f"{path} has no 'facies' column; the table needs 'facies' plus one column per attribute.")
        attrs = [c for c in df.columns if c not in ("facies", "inline", "crossline", "sample", "polygon")]
        if not attrs:
            raise AaspiError(f"{path} has no attribute columns besides 'facies'.")
        bad = [c for c in attrs if not np.issubdtype(df[c].dtype, np.number)]
        if bad:
            raise AaspiError(f"{path}: column '{bad[0]}' is not numeric; every attribute column must hold numbers.")
        facies = list(dict.fromkeys(df["facies"].astype(str)))
        index = df["facies"].astype(str).map({f: i for i, f in enumerate(facies)}).to_numpy()
        pos = None
        if {"inline", "crossline", "sample"} <= set(df.columns):
            pos = df[["inline", "crossline", "sample"]].to_numpy(float)
        poly = df["polygon"].to_numpy() if "polygon" in df.columns else None
        return cls(facies=facies, attributes=attrs, values=df[attrs].to_numpy(float),
                   facies_index=index, positions=pos, polygon=poly, name=path.stem)

    # -- text training file
    def write_text(self, path: str | os.PathLike, header: list[str] | None = None) -> Path:
        """``#`` header lines, then ``inline crossline sample class`` (class 1..M)."""
        path = Path(path)
        lines = header or [
            f"# aaspi_py training file: {len(self)} voxels, {self.n_facies} classes",
            "# classes: " + ", ".join(f"{i + 1}={f}" for i, f in enumerate(self.facies)),
            "# columns: inline crossline sample class",
        ]
        body = np.column_stack([self.positions, self.facies_index + 1])
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
            for il, xl, s, c in body:
                fh.write(f"{il:g} {xl:g} {s:g} {int(c)}\n")
        return path

    # -- folder
    def save(self, folder: str | os.PathLike) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = self.name or folder.name
        M, N = self.n_facies, self.n_attributes
        values = {f"f{m + 1:02d}_a{n + 1:02d}": self.array(m, n).astype(np.float32)
                  for m in range(M) for n in range(N)}
        pos = {}
        for m in range(M):
            sel = self.facies_index == m
            pos[f"f{m + 1:02d}_position"] = self.positions[sel]
            pos[f"f{m + 1:02d}_polygon"] = self.polygon[sel]
        np.savez(folder / "values.npz", **values)
        np.savez(folder / "positions.npz", **pos)
        manifest = {"format": FORMAT, "version": VERSION, "name": name, "facies": self.facies,
                    "attributes": self.attributes, "volumes": self.volumes,
                    "counts": self.counts(),
                    "polygon_counts": {f: {str(k): v for k, v in d.items()} for f, d in self.polygon_counts().items()},
                    "text_file": f"{name}.txt"}
        (folder / "training_set.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        self.write_text(folder / f"{name}.txt")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> TrainingSet:
        folder = Path(folder)
        if folder.suffix == ".csv":
            return cls.from_csv(folder)
        mf = folder / "training_set.json"
        if not mf.exists():
            raise AaspiError(f"{folder} is not a training set (no training_set.json); "
                             f"make one with define_training_data or pass a CSV table.")
        manifest = json.loads(mf.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise AaspiError(f"{mf} is not an aaspi_py training set manifest.")
        M, N = len(manifest["facies"]), len(manifest["attributes"])
        with np.load(folder / "values.npz", allow_pickle=False) as v, \
                np.load(folder / "positions.npz", allow_pickle=False) as p:
            values, index, pos, poly = [], [], [], []
            for m in range(M):
                cols = [v[f"f{m + 1:02d}_a{n + 1:02d}"] for n in range(N)]
                values.append(np.column_stack(cols) if cols else np.empty((0, 0)))
                index.append(np.full(len(cols[0]), m))
                pos.append(p[f"f{m + 1:02d}_position"])
                poly.append(p[f"f{m + 1:02d}_polygon"])
        return cls(facies=manifest["facies"], attributes=manifest["attributes"],
                   values=np.concatenate(values), facies_index=np.concatenate(index),
                   positions=np.concatenate(pos), polygon=np.concatenate(poly),
                   volumes=manifest.get("volumes", []), name=manifest.get("name", folder.name))


def read_text_training_file(path: str | os.PathLike, skip: int | None = None) -> np.ndarray:
    """Rows ``inline crossline sample class`` of a text training file, shape (V, 4).

    ``skip`` header lines are skipped (AASPI's parameter); with ``None`` every line
    starting with ``#`` is a header line.
    """
    path = Path(path)
    if not path.exists():
        raise AaspiError(f"Training file {path} not found; generate one with define_training_data.")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if (skip is not None and lineno <= skip) or (skip is None and line.lstrip().startswith("#")):
                continue
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4:
                raise AaspiError(
                    f"{path}, line {lineno}: expected 4 columns 'inline crossline sample class', got {len(parts)}; "
                    f"check the number of header lines to skip."
                )
            try:
                rows.append([float(x) for x in parts])
            except ValueError:
                raise AaspiError(f"{path}, line {lineno}: not numbers ({line.strip()!r}); "
                                 f"check the number of header lines to skip.") from None
    if not rows:
        raise AaspiError(f"{path} has no training rows after its header.")
    return np.asarray(rows)
