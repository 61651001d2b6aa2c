"""``aaspi polygon new|add|rename|list|delete``: facies polygon files from the terminal.

A thin shim over :mod:`aaspi_py.training.polygons`. Vertices are given as ``--vertices "x1,y1
x2,y2 x3,y3"`` in survey coordinates (the slice's two axes: crossline and sample on an
inline slice, inline and sample on a crossline slice, inline and crossline on a sample
slice), or read with ``--from FILE``: a JSON list of ``[x, y]`` pairs (or a facies-style
object with ``"vertices"``), or a CSV/text file of two columns.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from aaspi_py.framework.errors import AaspiError

_VERTICES_HELP = ('vertices in survey coordinates, "x1,y1 x2,y2 x3,y3" (crossline,sample on an inline '
                  'slice; inline,sample on a crossline slice; inline,crossline on a sample slice); write --vertices="-5,10 ..." when a '
                  'value starts with a minus sign')


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``polygon`` and its subcommands on the ``aaspi`` subparsers."""
    p = sub.add_parser("polygon", help="facies polygon files: new, add, rename, list, delete")
    ps = p.add_subparsers(dest="polygon_command", required=True)

    def shape_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("--project", "-p", default=".", help="project folder")
        q.add_argument("--slice", choices=("inline", "crossline", "sample"), help="slice direction")
        q.add_argument("--line", help="inline or crossline number, or sample time/depth of the slice")
        q.add_argument("--vertices", nargs="+", help=_VERTICES_HELP)
        q.add_argument("--from", dest="from_file", metavar="FILE",
                       help="read the vertices from a JSON list of [x, y] pairs or a two-column CSV")

    q = ps.add_parser("new", help="save a polygon to a new facies file (Save Polygon to New File)")
    shape_options(q)
    q.add_argument("--facies", default="polygon", help="facies name (default: polygon)")
    q.add_argument("--volume", default="", help="volume the polygon was picked on")
    q.add_argument("--color", help="facies colour #rrggbb (default: next palette colour)")
    q.add_argument("--overwrite", action="store_true", help="replace an existing facies file")

    q = ps.add_parser("add", help="add a polygon to an existing facies file (Add Polygon to Current File)")
    q.add_argument("facies")
    shape_options(q)
    q.add_argument("--volume", help="volume the polygon was picked on (default: the facies file's)")

    q = ps.add_parser("rename", help="rename a facies (its file and the name inside)")
    q.add_argument("old")
    q.add_argument("new")
    q.add_argument("--project", "-p", default=".", help="project folder")
    q.add_argument("--overwrite", action="store_true", help="replace an existing facies of the new name")

    q = ps.add_parser("list", help="list facies and their polygons")
    q.add_argument("facies", nargs="*", help="facies to list (default: all)")
    q.add_argument("--project", "-p", default=".", help="project folder")

    q = ps.add_parser("delete", help="delete a polygon from a facies file")
    q.add_argument("facies")
    q.add_argument("id", help="polygon id (`aaspi polygon list` shows them)")
    q.add_argument("--project", "-p", default=".", help="project folder")


# ---------------------------------------------------------------- vertex input

def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise AaspiError(f"{what}: {text!r} is not a number.") from None


def parse_vertices(text: str) -> list[tuple[float, float]]:
    """``"x1,y1 x2,y2 x3,y3"`` (spaces or ``;`` between pairs) → list of pairs."""
    pairs = [t for t in re.split(r"[\s;]+", text.strip()) if t]
    out = []
    for t in pairs:
        parts = t.split(",")
        if len(parts) != 2:
            raise AaspiError(f"--vertices: {t!r} is not an x,y pair; write vertices as 'x1,y1 x2,y2 x3,y3'.")
        out.append((_number(parts[0], "--vertices"), _number(parts[1], "--vertices")))
    if not out:
        raise AaspiError("--vertices is empty; write vertices as 'x1,y1 x2,y2 x3,y3'.")
    return out


def read_vertices(path: str | Path) -> list[tuple[float, float]]:
    """Vertices from a JSON file (list of pairs, or an object with ``vertices``) or a CSV."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise AaspiError(f"Cannot read vertex file {path}: {e.strerror}.") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise AaspiError(f"{path} is not valid JSON (line {e.lineno}: {e.msg}).") from None
        if isinstance(data, dict):
            data = data.get("vertices")
        if not isinstance(data, list) or not all(isinstance(v, list) and len(v) == 2 for v in data):
            raise AaspiError(f"{path}: expected a JSON list of [x, y] pairs.")
        try:
            return [(float(x), float(y)) for x, y in data]
        except (TypeError, ValueError):
            raise AaspiError(f"{path}: every vertex must be two numbers.") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [t for t in re.split(r"[\s,;]+", line) if t]
        try:
            x, y = (float(t) for t in parts)
        except ValueError:
            if not out and n == 1:  # a header row such as "crossline,sample"
                continue
            raise AaspiError(f"{path}, line {n}: expected two numbers 'x,y', got {line!r}.") from None
        out.append((x, y))
    if not out:
        raise AaspiError(f"{path} holds no vertices; write one 'x,y' pair per line.")
    return out


def _shape(args) -> tuple[str, float, list[tuple[float, float]]]:
    if args.slice is None:
        raise AaspiError("Give the slice direction with --slice inline|crossline|sample.")
    if args.line is None:
        raise AaspiError("Give the slice with --line (inline or crossline number, or sample time/depth).")
    if (args.vertices is None) == (args.from_file is None):
        raise AaspiError("Give the vertices with either --vertices 'x1,y1 x2,y2 x3,y3' or --from FILE.")
    verts = parse_vertices(" ".join(args.vertices)) if args.vertices else read_vertices(args.from_file)
    return args.slice, _number(args.line, "--line"), verts


# ---------------------------------------------------------------- commands

def dispatch(args: argparse.Namespace) -> int:
    """Run one ``aaspi polygon`` subcommand; returns the exit status."""
    import aaspi_py.training.polygons as P

    cmd = args.polygon_command
    if cmd in ("new", "add") and args.volume:
        # the polygon is checked against the survey of the volume it was picked on, so a
        # mistyped volume name must not silently skip that check
        from aaspi_py.framework.project import Project

        Project.open(args.project).existing_volume(args.volume, param="--volume")
    if cmd == "new":
        slice_, line, verts = _shape(args)
        ff = P.save_polygon_to_new_file(args.project, slice_, line, verts, facies=args.facies,
                                        volume=args.volume, color=args.color, overwrite=args.overwrite)
        print(f"saved polygon 1 of facies '{ff.facies}' ({ff.color}) to {ff.path}")
        return 0
    if cmd == "add":
        slice_, line, verts = _shape(args)
        poly = P.add_polygon(args.project, args.facies, slice_, line, verts, volume=args.volume)
        print(f"added {poly.describe()} to {P.facies_path(args.project, args.facies)}")
        return 0
    if cmd == "rename":
        ff = P.rename_facies(args.project, args.old, args.new, overwrite=args.overwrite)
        print(f"renamed facies '{args.old}' to '{args.new}': {ff.path}")
        return 0
    if cmd == "list":
        names = args.facies or P.list_facies(args.project)
        if not names:
            print("no facies files in the project; save a polygon with `aaspi polygon new`")
        for name in names:
            ff = P.read_facies(args.project, name)
            picked = f", picked on {ff.volume}" if ff.volume else ""
            print(f"{ff.facies} ({ff.color or 'no colour'}{picked}): {len(ff.polygons)} polygons")
            for poly in ff.polygons:
                print(f"  {poly.describe()}")
        return 0
    if cmd == "delete":
        try:
            pid = int(args.id)
        except ValueError:
            raise AaspiError(f"Polygon id {args.id!r} is not a whole number; `aaspi polygon list` shows the ids.") from None
        poly = P.delete_polygon(args.project, args.facies, pid)
        print(f"deleted {poly.describe()} from {P.facies_path(args.project, args.facies)}")
        return 0
    raise AssertionError(cmd)
