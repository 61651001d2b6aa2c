"""``build_sample_project``: the synthetic survey written as a project, ready for the workflow."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress, SubProgress
from aaspi_py.framework.project import FOLDERS, PROJECT_FILE, Project
from aaspi_py.volume import DIMS, save_volume

from . import (
    ATTRIBUTES,
    CONTROLS,
    FACIES,
    FACIES_CODES,
    FACIES_COLORS,
    INFORMATIVE,
    NOISE,
    REDUNDANT,
    SIZES,
)

PROJECT_NAME = "sample"
#: what the sample project holds (size, seed, attribute groups), in its root folder
RECORD = "sample_survey.json"
FIRST_INLINE, FIRST_CROSSLINE = 100, 300
FIRST_SAMPLE_MS = 600.0
#: bin size (m) and grid azimuth of the made-up acquisition grid
BIN_M, AZIMUTH_DEG = 25.0, 30.0
ORIGIN_X, ORIGIN_Y = 605_000.0, 6_075_000.0


def survey_coordinates(shape: tuple[int, int, int], dt_ms: float) -> dict[str, np.ndarray]:
    """Line numbers, sample times and CDP x/y of a survey of ``shape``."""
    ni, nx, ns = shape
    inline = np.arange(FIRST_INLINE, FIRST_INLINE + ni, dtype=np.int32)
    crossline = np.arange(FIRST_CROSSLINE, FIRST_CROSSLINE + nx, dtype=np.int32)
    sample = FIRST_SAMPLE_MS + dt_ms * np.arange(ns, dtype=np.float64)
    gi, gx = np.meshgrid(np.arange(ni) * BIN_M, np.arange(nx) * BIN_M, indexing="ij")
    a = np.deg2rad(AZIMUTH_DEG)
    return {"inline": inline, "crossline": crossline, "sample": sample,
            "cdp_x": ORIGIN_X + gi * np.cos(a) - gx * np.sin(a),
            "cdp_y": ORIGIN_Y + gi * np.sin(a) + gx * np.cos(a)}


def _dataset(data: np.ndarray, coords: dict[str, np.ndarray]) -> xr.Dataset:
    ds = xr.Dataset({"data": (DIMS, data)},
                    coords={"inline": coords["inline"], "crossline": coords["crossline"],
                            "sample": coords["sample"],
                            "cdp_x": (DIMS[:2], coords["cdp_x"]), "cdp_y": (DIMS[:2], coords["cdp_y"])})
    ds["sample"].attrs.update(domain="time", units="ms")
    return ds


def _check_root(root: Path, overwrite: bool) -> None:
    if not root.exists() or not any(root.iterdir()):
        return
    if not (root / PROJECT_FILE).exists():
        raise AaspiError(f"{root} exists and is not an aaspi_py project; choose an empty or new folder "
                         "for the sample project.")
    if not overwrite:
        raise AaspiError(f"The sample project {root} already exists; pass --overwrite (overwrite=True) "
                         "to rebuild it.")


def _move_into(tmp: Path, root: Path) -> None:
    """Replace the project parts of ``root`` by the freshly built ones in ``tmp``."""
    root.mkdir(parents=True, exist_ok=True)
    for part in (*FOLDERS, PROJECT_FILE, RECORD):
        target = root / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(tmp / part, target)
    shutil.rmtree(tmp, ignore_errors=True)


def build_sample_project(root: str | Path, size: str = "small", *, overwrite: bool = False,
                         progress=None, seed: int = 0) -> Project:
    """Create the sample project at ``root`` from the synthetic survey.

    Volumes: ``amplitude``, every attribute of :data:`ATTRIBUTES`, ``true_facies`` (kind
    "facies": 1 salt, 2 mtd, 3 background, 0 none). Polygons: ``polygons/<facies>.json``
    for each of :data:`FACIES`. ``sample_survey.json`` records the size, seed and which
    attributes are informative, redundant or noise.

    Parameters
    ----------
    root : project folder (created)
    size : "small" (tests) or "demo" (the demo and benchmarks); see :data:`SIZES`
    overwrite : rebuild an existing sample project (its volumes, polygons, training sets,
        results and logs are replaced; other files in the folder are kept)
    progress : optional :class:`aaspi_py.Progress`; cancel is honoured between steps
    seed : the same seed gives the same survey
    """
    if size not in SIZES:
        raise AaspiError(f"Unknown sample survey size {size!r}; use one of {', '.join(SIZES)}.")
    progress = progress if progress is not None else Progress()
    root = Path(root).resolve()
    _check_root(root, overwrite)
    # built beside the target and moved in at the end, so a cancel or crash leaves nothing
    tmp = root.with_name(f".{root.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        _build(tmp, size, seed, progress)
        _move_into(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.update(1.0, "sample project ready")
    return Project.open(root)


def _build(root: Path, size: str, seed: int, progress) -> None:
    from .facies_polygons import dumps, facies_polygons
    from .synthetic import DT_MS, make_survey

    t0 = time.perf_counter()
    shape = SIZES[size]
    survey = make_survey(shape, seed=seed, progress=SubProgress(progress, 0.0, 0.45))
    coords = survey_coordinates(shape, DT_MS)

    project = Project.create(root, PROJECT_NAME)
    names = ["amplitude", *ATTRIBUTES, "true_facies"]
    amplitude_path = project.volume_path("amplitude")
    for i, name in enumerate(names):
        progress.update(0.45 + 0.5 * i / len(names), f"writing {name}")
        progress.check()
        kind = {"amplitude": "amplitude", "true_facies": "facies"}.get(name, "attribute")
        attrs = {"source": f"aaspi_py.sample_volumes synthetic survey ({size}, seed {seed})"}
        if name == "amplitude":
            save_volume(_dataset(survey[name], coords), amplitude_path, kind=kind, attrs=attrs)
        else:
            save_volume(survey[name], project.volume_path(name), like=amplitude_path, kind=kind, attrs=attrs)

    progress.update(0.95, "facies polygons")
    files = facies_polygons(survey["true_facies"], coords["inline"], coords["crossline"], coords["sample"],
                            FACIES_CODES, FACIES_COLORS, seed=seed)
    for name in FACIES:
        (project.polygons_dir / f"{name}.json").write_text(dumps(files[name]), encoding="utf-8")
    record = {"size": size, "shape": list(shape), "seed": seed, "facies": FACIES, "facies_codes": FACIES_CODES,
              "attributes": ATTRIBUTES, "informative": INFORMATIVE, "redundant": REDUNDANT, "noise": NOISE,
              "controls": CONTROLS,
              "seconds": round(time.perf_counter() - t0, 2)}
    (root / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
