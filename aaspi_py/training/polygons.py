"""The buttons of AASPI's define_training_data window, as functions on a project's facies files.

The GUI, the CLI (``aaspi polygon ...``) and notebooks share them:

- :func:`save_polygon_to_new_file` ("Save Polygon to New File", default facies ``polygon``),
- :func:`add_polygon` ("Add Polygon to Current File"),
- :func:`rename_facies` (AASPI's "change the default name polygon to polygon_salt"),
- :func:`list_polygons`, :func:`polygons_on_slice`, :func:`replace_polygon` (vertices
  dragged), :func:`delete_polygon`, :func:`restore_polygon` (undo of a delete),
  :func:`facies_colors`,
- :func:`training_set` ("Generate Training File", as a function returning the arrays).

The file format and the :class:`Polygon` / :class:`FaciesFile` model live in
:mod:`aaspi_py.training.facies_file` (re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.training.facies_file import (  # noqa: F401  (re-exported: the polygon API in one place)
    _COLOR,
    DEFAULT_FACIES,
    FORMAT,
    PALETTE,
    SLICE_AXES,
    SLICES,
    VERSION,
    FaciesFile,
    Polygon,
    _project,
    facies_path,
    fmt_number,
    list_facies,
    read_facies,
)


def _next_color(proj: Project) -> str:
    used = set()
    for name in proj.facies():
        try:
            used.add(FaciesFile.load(facies_path(proj, name)).color.lower())
        except AaspiError:
            continue
    for c in PALETTE:
        if c not in used:
            return c
    return PALETTE[len(used) % len(PALETTE)]


def _check_against_volume(proj: Project, poly: Polygon, volume: str, source: str) -> None:
    """Refuse a polygon outside the survey of the volume it was picked on, if that exists."""
    if not volume:
        return
    path = proj.volume_path(volume)
    if not (path / "zarr.json").exists():
        return
    from aaspi_py.training.rasterize import Grid, check_in_survey
    from aaspi_py.volume import open_volume

    check_in_survey(poly, Grid.from_dataset(open_volume(path)), source)


def save_polygon_to_new_file(
    project: Project | str | os.PathLike,
    slice: str,
    line: float,
    vertices: Sequence[Sequence[float]] | np.ndarray,
    *,
    facies: str = DEFAULT_FACIES,
    volume: str = "",
    color: str | None = None,
    overwrite: bool = False,
) -> FaciesFile:
    """"Save Polygon to New File": a new facies file holding this one polygon (id 1).

    Parameters
    ----------
    project : Project or path
    slice : {'inline', 'crossline', 'sample'}
    line : int or float
        Inline or crossline number, or sample time/depth of the slice.
    vertices : array-like of shape (K, 2)
        Survey coordinates :data:`SLICE_AXES` ``[slice]``, open ring.
    facies : str
        Facies name, the file name ``polygons/<facies>.json``; AASPI's default ``polygon``.
    volume : str
        The volume the polygon was picked on; when it is in the project the polygon is
        checked to lie inside its survey.
    color : str, optional
        ``#rrggbb``; default: the first palette colour no other facies uses.
    overwrite : bool
        Replace an existing facies file of that name (refused otherwise).

    Returns
    -------
    FaciesFile
        As written, with ``path`` set.
    """
    proj = _project(project)
    path = facies_path(proj, facies)
    if path.exists() and not overwrite:
        raise AaspiError(f"Facies file {path} already exists; rename that facies first, add the polygon "
                         f"to it, or allow overwriting.")
    if color is not None and not _COLOR.match(color):
        raise AaspiError(f"Colour {color!r} is not '#rrggbb' (e.g. '#d62728').")
    ff = FaciesFile(facies=facies, color=color or _next_color(proj), volume=volume, path=path)
    poly = ff.add(slice, line, vertices)
    _check_against_volume(proj, poly, volume, ff.source)
    ff.save(path, overwrite=overwrite)
    return ff


def add_polygon(
    project: Project | str | os.PathLike,
    facies: str,
    slice: str,
    line: float,
    vertices: Sequence[Sequence[float]] | np.ndarray,
    *,
    volume: str | None = None,
) -> Polygon:
    """"Add Polygon to Current File": append a polygon (next free id) to a facies file.

    ``volume`` (default: the facies file's) is the volume it was picked on, used to check
    that the polygon lies inside the survey. Returns the new polygon.
    """
    proj = _project(project)
    ff = read_facies(proj, facies)
    poly = ff.add(slice, line, vertices)
    _check_against_volume(proj, poly, ff.volume if volume is None else volume, ff.source)
    ff.save()
    return poly


def rename_facies(project: Project | str | os.PathLike, old: str, new: str, *,
                  overwrite: bool = False) -> FaciesFile:
    """Rename a facies: the file ``polygons/<new>.json`` and the name inside it.

    Refuses to replace an existing facies ``new`` unless ``overwrite``.
    """
    proj = _project(project)
    ff = read_facies(proj, old)
    dst = facies_path(proj, new)
    src = ff.path
    if dst.exists() and dst.resolve() != src.resolve() and not overwrite:
        raise AaspiError(f"Cannot rename facies '{old}' to '{new}': {dst} already exists; "
                         f"choose another name or allow overwriting.")
    ff.facies = new
    ff.save(dst, overwrite=True)
    if src.resolve() != dst.resolve():
        src.unlink()
    return ff


def replace_polygon(
    project: Project | str | os.PathLike,
    facies: str,
    polygon_id: int,
    vertices: Sequence[Sequence[float]] | np.ndarray,
    *,
    volume: str | None = None,
) -> Polygon:
    """Replace the vertices of a saved polygon (an edit in the picking window), keeping its
    id, slice and place in the file. The new shape is checked as when adding."""
    from aaspi_py.training.rasterize import check_shape

    proj = _project(project)
    ff = read_facies(proj, facies)
    old = ff.polygon(int(polygon_id))
    new = Polygon(old.id, old.slice, old.line, vertices)
    check_shape(new, ff.source)
    _check_against_volume(proj, new, ff.volume if volume is None else volume, ff.source)
    ff.polygons[ff.polygons.index(old)] = new
    ff.save()
    return new


def delete_polygon(project: Project | str | os.PathLike, facies: str, polygon_id: int) -> Polygon:
    """Remove one polygon from a facies file (the file stays, possibly empty)."""
    ff = read_facies(project, facies)
    poly = ff.remove(int(polygon_id))
    ff.save()
    return poly


def restore_polygon(project: Project | str | os.PathLike, facies: str, polygon: Polygon) -> Polygon:
    """Put a deleted polygon back with its id, in id order (undo of :func:`delete_polygon`).

    Refuses when a polygon with that id exists again (one was added meanwhile).
    """
    ff = read_facies(project, facies)
    if any(p.id == polygon.id for p in ff.polygons):
        raise AaspiError(f"{ff.source}: polygon {polygon.id} exists again; cannot put the deleted one back "
                         f"under that id.")
    ff.polygons.append(Polygon(polygon.id, polygon.slice, polygon.line, list(polygon.vertices)))
    ff.polygons.sort(key=lambda p: p.id)
    ff.save()
    return ff.polygon(polygon.id)


def facies_colors(project: Project | str | os.PathLike) -> dict[str, str]:
    """Facies name → ``#rrggbb`` from the project's facies files (unreadable files skipped).

    The one source of facies colours: polygons in the picking window, class volumes in the
    slice viewer and the class PNGs all use it.
    """
    proj = _project(project)
    out = {}
    for name in proj.facies():
        try:
            ff = read_facies(proj, name)
        except AaspiError:
            continue
        if ff.color:
            out[ff.facies] = ff.color
    return out


def list_polygons(project: Project | str | os.PathLike,
                  facies: str | Iterable[str] | None = None) -> list[tuple[FaciesFile, Polygon]]:
    """Every polygon of the given facies (default: all facies), with its facies file."""
    proj = _project(project)
    names = proj.facies() if facies is None else [facies] if isinstance(facies, str) else list(facies)
    out = []
    for name in names:
        ff = read_facies(proj, name)
        out.extend((ff, p) for p in ff.polygons)
    return out


def polygons_on_slice(project: Project | str | os.PathLike, slice: str,
                      line: float) -> list[tuple[FaciesFile, Polygon]]:
    """Polygons of every facies drawn on one slice (what the picking window overlays).

    A facies file that cannot be read is skipped here, so one bad file does not hide the
    others while picking; generating training data reports it.
    """
    proj = _project(project)
    out = []
    for name in proj.facies():
        try:
            ff = read_facies(proj, name)
        except AaspiError:
            continue
        out.extend((ff, p) for p in ff.on_slice(slice, line))
    return out


def training_set(project: Project | str | os.PathLike, facies: Sequence[str],
                 attributes: Sequence[str], name: str | None = None):
    """The training set of ordered facies × ordered attribute volumes, in memory.

    ``aaspi_py.training_set(project, facies=["salt", "mtd"], attributes=["envelope",
    "coherence"])`` returns a :class:`~aaspi_py.training.training_set.TrainingSet` (arrays, plus
    ``.to_dataframe()`` and ``.to_xarray()`` views); ``.save(project.training_dir / name)``
    writes it as the define_training_data module does. See
    :func:`aaspi_py.training.training_data.generate_training_set` for the rules.
    """
    from aaspi_py.training.training_data import generate_training_set

    return generate_training_set(project, facies, attributes, name=name)
