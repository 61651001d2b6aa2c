"""Facies polygon files and the polygons in them: picked on inline, crossline and time/depth slices.

A facies file ``polygons/<facies>.json`` is human-readable and versioned::

    {"format": "aaspi_py.facies", "version": 1, "facies": "salt", "color": "#d62728",
     "volume": "amplitude",
     "polygons": [{"id": 1, "slice": "inline", "line": 120, "vertices": [[xl, t], ...]},
                  {"id": 2, "slice": "crossline", "line": 340, "vertices": [[il, t], ...]},
                  {"id": 3, "slice": "sample", "line": 800.0, "vertices": [[il, xl], ...]}]}

Vertices are in survey coordinates (line numbers, ms or m), never pixels, as an open ring
(the first vertex is not repeated). The vertex axes of each slice direction are in
:data:`SLICE_AXES`.

The project-level operations on these files (the buttons of AASPI's define_training_data
window) are in :mod:`aaspi_py.training.polygons`.

Loading checks the file's structure; the shape of a polygon (degenerate, self-intersecting)
is checked when it is saved or added and again when it is rasterised, and its position
against the survey when the facies file's volume is in the project and when training data
are generated (:mod:`aaspi_py.training.rasterize`). Every refusal is one line naming the file and
the polygon.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project, check_name

FORMAT = "aaspi_py.facies"
VERSION = 1
#: slice directions a polygon can be drawn on
SLICES = ("inline", "crossline", "sample")
#: the two survey coordinates of a vertex on each slice direction (horizontal, vertical)
SLICE_AXES = {
    "inline": ("crossline", "sample"),
    "crossline": ("inline", "sample"),
    "sample": ("inline", "crossline"),
}
#: facies name given by "Save Polygon to New File" (as in AASPI)
DEFAULT_FACIES = "polygon"
#: facies colours, in the order new facies get them (red, green, blue as in the course notes)
PALETTE = ("#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def fmt_number(x: float) -> str:
    """A survey coordinate as written in messages and files (``120``, ``801.5``)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.6f}".rstrip("0")


def _json_number(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool) \
        and math.isfinite(float(x))


def _fields_problem(id: Any, slice: Any, line: Any, vertices: Any) -> str | None:
    """What is wrong with a polygon's fields, or None (shape is checked elsewhere)."""
    if not isinstance(id, int | np.integer) or isinstance(id, bool) or id < 1:
        return f"id must be a positive integer, got {id!r}"
    if slice not in SLICES:
        return f"slice must be one of {', '.join(SLICES)}, got {slice!r}"
    if not _is_number(line):
        return f"line must be a finite number, got {line!r}"
    if slice != "sample" and not float(line).is_integer():
        return f"{slice} line must be a whole line number, got {line!r}"
    if isinstance(vertices, np.ndarray):
        vertices = vertices.tolist()
    if not isinstance(vertices, list | tuple) or not all(
            isinstance(v, list | tuple) and len(v) == 2 and all(_is_number(c) for c in v) for v in vertices):
        return "vertices must be a list of [x, y] pairs of finite numbers"
    return None


@dataclass
class Polygon:
    """One polygon on one slice, in survey coordinates.

    Attributes
    ----------
    id : int
        Positive, unique within its facies file.
    slice : {'inline', 'crossline', 'sample'}
        Slice direction the polygon was drawn on.
    line : int or float
        The slice: an inline or crossline number, or a sample time/depth (ms or m).
    vertices : list of (float, float), length K
        Open ring; the coordinates are :data:`SLICE_AXES` ``[slice]`` (e.g. crossline and
        sample on an inline slice).
    """

    id: int
    slice: str
    line: float
    vertices: list[tuple[float, float]]

    def __post_init__(self) -> None:
        problem = _fields_problem(self.id, self.slice, self.line, self.vertices)
        if problem:
            raise AaspiError(f"Polygon {self.id!r}: {problem}.")
        self.id = int(self.id)
        self.line = int(self.line) if self.slice != "sample" else float(self.line)
        verts = self.vertices.tolist() if isinstance(self.vertices, np.ndarray) else self.vertices
        self.vertices = [(float(x), float(y)) for x, y in verts]

    @property
    def axes(self) -> tuple[str, str]:
        """Names of the two vertex coordinates (horizontal, vertical)."""
        return SLICE_AXES[self.slice]

    @property
    def array(self) -> np.ndarray:
        """Vertices as a float array of shape (K, 2)."""
        return np.asarray(self.vertices, dtype=np.float64).reshape(-1, 2)

    def describe(self) -> str:
        """``polygon 2: inline 120, 5 vertices``."""
        return f"polygon {self.id}: {self.slice} {fmt_number(self.line)}, {len(self.vertices)} vertices"

    def to_json(self) -> dict[str, Any]:
        """The polygon as stored in a facies file."""
        return {"id": self.id, "slice": self.slice, "line": _json_number(self.line),
                "vertices": [[_json_number(x), _json_number(y)] for x, y in self.vertices]}


@dataclass
class FaciesFile:
    """A facies: its name, colour, the volume it was picked on, and its polygons.

    ``path`` is where it was loaded from or saved to (used in messages); it does not take
    part in comparisons.
    """

    facies: str
    color: str = ""
    volume: str = ""
    polygons: list[Polygon] = field(default_factory=list)
    path: Path | None = field(default=None, compare=False, repr=False)

    @property
    def source(self) -> str:
        """How messages name this file."""
        return str(self.path) if self.path is not None else f"facies '{self.facies}'"

    def polygon(self, polygon_id: int) -> Polygon:
        """The polygon with this id (one-line error listing the ids if there is none)."""
        for p in self.polygons:
            if p.id == polygon_id:
                return p
        have = ", ".join(str(p.id) for p in self.polygons) or "none"
        raise AaspiError(f"{self.source}: no polygon {polygon_id} (polygons: {have}).")

    def next_id(self) -> int:
        """The id a new polygon gets: one more than the highest."""
        return max((p.id for p in self.polygons), default=0) + 1

    def add(self, slice: str, line: float, vertices: Sequence[Sequence[float]] | np.ndarray) -> Polygon:
        """Append a polygon with the next free id; its shape is checked first."""
        from aaspi_py.training.polygon_shape import check_shape

        poly = Polygon(self.next_id(), slice, line, vertices)
        check_shape(poly, self.source)
        self.polygons.append(poly)
        return poly

    def remove(self, polygon_id: int) -> Polygon:
        """Take the polygon with this id out of the file (in memory) and return it."""
        poly = self.polygon(polygon_id)
        self.polygons.remove(poly)
        return poly

    def on_slice(self, slice: str, line: float) -> list[Polygon]:
        """Polygons drawn on the given slice (sample slices compared to 1e-6 of a unit)."""
        return [p for p in self.polygons if p.slice == slice and abs(p.line - float(line)) <= 1e-6]

    # -- JSON
    def to_json(self) -> dict[str, Any]:
        """The file's content (format v1)."""
        return {"format": FORMAT, "version": VERSION, "facies": self.facies, "color": self.color,
                "volume": self.volume, "polygons": [p.to_json() for p in self.polygons]}

    @classmethod
    def from_json(cls, data: Any, source: str = "facies file") -> FaciesFile:
        """Build from parsed JSON, refusing anything that is not a v1 facies file."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise AaspiError(f"{source} is not an aaspi_py facies file (no \"format\": \"{FORMAT}\").")
        if data.get("version") != VERSION:
            raise AaspiError(f"{source}: facies file version {data.get('version')!r} is not supported "
                             f"(this aaspi_py reads version {VERSION}); upgrade aaspi_py.")
        facies = data.get("facies")
        if not isinstance(facies, str) or not facies:
            raise AaspiError(f"{source}: 'facies' must be a non-empty name.")
        color = data.get("color", "")
        if not isinstance(color, str) or (color and not _COLOR.match(color)):
            raise AaspiError(f"{source}: color {color!r} is not '#rrggbb'; fix it or remove the key.")
        volume = data.get("volume", "")
        if not isinstance(volume, str):
            raise AaspiError(f"{source}: 'volume' must be a volume name, got {volume!r}.")
        polys = data.get("polygons", [])
        if not isinstance(polys, list):
            raise AaspiError(f"{source}: 'polygons' must be a list.")
        out, seen = [], set()
        for n, p in enumerate(polys, 1):
            pid = p.get("id") if isinstance(p, dict) else None
            name = f"polygon {pid}" if isinstance(pid, int) and not isinstance(pid, bool) else f"polygon #{n}"
            if not isinstance(p, dict):
                raise AaspiError(f"{source}: {name}: must be an object with id, slice, line, vertices.")
            missing = [k for k in ("id", "slice", "line", "vertices") if k not in p]
            if missing:
                raise AaspiError(f"{source}: {name}: missing '{missing[0]}'.")
            problem = _fields_problem(p["id"], p["slice"], p["line"], p["vertices"])
            if problem:
                raise AaspiError(f"{source}: {name}: {problem}.")
            if p["id"] in seen:
                raise AaspiError(f"{source}: {name}: id {p['id']} is used twice; give each polygon its own id.")
            seen.add(p["id"])
            out.append(Polygon(p["id"], p["slice"], p["line"], p["vertices"]))
        return cls(facies=facies, color=color, volume=volume, polygons=out)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FaciesFile:
        """Read a facies file; a bad file raises one line naming it (and the polygon)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AaspiError(f"Facies file {path} not found; save a polygon to a new file first.") from None
        except OSError as e:
            raise AaspiError(f"Cannot read facies file {path}: {e.strerror}.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise AaspiError(f"{path} is not valid JSON (line {e.lineno}: {e.msg}); fix or delete it.") from None
        ff = cls.from_json(data, str(path))
        ff.path = path
        return ff

    def save(self, path: str | os.PathLike | None = None, *, overwrite: bool = True) -> Path:
        """Write atomically (temporary name, then rename) to ``path`` or ``self.path``."""
        path = Path(path) if path is not None else self.path
        if path is None:
            raise AaspiError(f"Facies '{self.facies}' has no file; give a path to save it to.")
        if path.exists() and not overwrite:
            raise AaspiError(f"{path} already exists; choose another facies name or allow overwriting.")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
        tmp.write_text(_dumps(self.to_json()), encoding="utf-8")
        os.replace(tmp, path)
        self.path = path
        return path


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one line per field and one line per polygon (readable, diff-friendly)."""
    head = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items() if k != "polygons"]
    polys = [f"    {json.dumps(p)}" for p in data["polygons"]]
    body = ",\n".join([*head, '  "polygons": [' + ("\n" + ",\n".join(polys) + "\n  ]" if polys else "]")])
    return "{\n" + body + "\n}\n"


# ---------------------------------------------------------------- project operations

def _project(project: Project | str | os.PathLike) -> Project:
    return Project.open(project)


def facies_path(project: Project | str | os.PathLike, facies: str) -> Path:
    """``<project>/polygons/<facies>.json`` (the name is checked to be a safe file name)."""
    return _project(project).polygons_dir / f"{check_name(facies, 'facies name')}.json"


def list_facies(project: Project | str | os.PathLike) -> list[str]:
    """Names of the facies files in the project, sorted."""
    return _project(project).facies()


def read_facies(project: Project | str | os.PathLike, facies: str) -> FaciesFile:
    """Load ``polygons/<facies>.json`` of a project (a name ending in ``.json`` is a path)."""
    proj = _project(project)
    if facies.endswith(".json"):
        return FaciesFile.load(proj.resolve(facies))
    path = facies_path(proj, facies)
    if not path.exists():
        have = ", ".join(proj.facies()) or "none"
        raise AaspiError(f"Facies '{facies}' not found (no {path}); facies in the project: {have}.")
    return FaciesFile.load(path)
