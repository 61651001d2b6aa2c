"""What the project's volumes are, for choosing inputs: kind and grid of each volume, the
ones usable as attributes on a given grid, and the checks of a run's inputs and earlier
outputs that can be made before it starts.

The GUI's pickers and its Execute button call these, so a form offers exactly what the
module accepts; scripts can call them too. Nothing here reads voxel data: only the
volume's attributes and coordinates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.volume import open_volume

#: kinds that make sense as attribute inputs of a classification (not class volumes)
ATTRIBUTE_KINDS = ("amplitude", "attribute", "filtered", "probability", "latent")
#: suffixes of module outputs (volumes, figures, reports, tables); model folders have none
_OUTPUT_SUFFIXES = (".zarr", ".png", ".json", ".txt", ".csv", ".out", ".npz")


@dataclass(frozen=True)
class VolumeEntry:
    """A volume of the project: its name, kind and survey axes (inline, crossline, sample)."""

    name: str
    kind: str
    axes: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]

    def same_grid(self, other: VolumeEntry) -> bool:
        """Same inline, crossline and sample coordinates (to 1e-6 of a unit)."""
        return all(len(a) == len(b) and np.allclose(a, b, rtol=0, atol=1e-6) for a, b in zip(self.axes, other.axes))

    def describe(self) -> str:
        """``amplitude (amplitude; 40 × 40 × 60)``."""
        return f"{self.name} ({self.kind}; {' × '.join(str(len(a)) for a in self.axes)})"


def catalog(project: Project) -> dict[str, VolumeEntry]:
    """Every readable volume of the project by name (unreadable ones are left out)."""
    out = {}
    for name in project.volumes():
        try:
            ds = open_volume(project.volume_path(name))
        except (AaspiError, OSError, ValueError, KeyError):
            continue
        axes = tuple(tuple(float(v) for v in ds[d].values) for d in ("inline", "crossline", "sample"))
        out[name] = VolumeEntry(name, str(ds.attrs.get("kind", "attribute")), axes)
    return out


def usable_volumes(project: Project, like: str | None = None,
                   kinds: tuple[str, ...] = ATTRIBUTE_KINDS,
                   entries: dict[str, VolumeEntry] | None = None) -> list[str]:
    """Names of volumes of the given kinds, on the grid of ``like`` when it is given.

    ``true_facies`` and classifications are not attributes, and a volume of another survey
    cannot be combined with ``like``, so neither is offered where attributes are chosen.
    """
    entries = catalog(project) if entries is None else entries
    ref = entries.get(like) if like else None
    return [n for n, e in entries.items() if e.kind in kinds and (ref is None or e.same_grid(ref))]


def check_input_volumes(project: Project, names: list[str], param: str) -> str | None:
    """The first problem with a list of input volumes (missing, or not on one grid), or None."""
    from aaspi_py.training.training_data import check_same_grid

    try:
        pairs = [(n, open_volume(project.existing_volume(n, param=param))) for n in names]
        if len(pairs) > 1:
            check_same_grid(pairs)
    except AaspiError as e:
        return str(e)
    return None


def training_set_manifest(project: Project, value: str) -> dict[str, Any] | None:
    """The manifest (facies, attributes, volumes) of a training set given as a name under
    ``training/``, a folder, its ``training_set.json`` or its text training file; None when
    there is none (e.g. a CSV table or a training file made by hand)."""
    if not value:
        return None
    p = Path(value)
    candidates = [project.resolve(p)]
    if not p.is_absolute() and len(p.parts) == 1:
        candidates.append(project.training_dir / p)
    for c in candidates:
        folder = c if c.is_dir() else c.parent
        mf = folder / "training_set.json"
        if mf.is_file() and (c.is_dir() or c.name == mf.name or c.suffix == ".txt"):
            try:
                return json.loads(mf.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
    return None


def training_set_volumes(project: Project, value: str) -> list[str] | None:
    """The attribute volumes a training set was extracted from, in its order (or None)."""
    manifest = training_set_manifest(project, value)
    if manifest is None:
        return None
    return list(manifest.get("volumes") or manifest.get("attributes") or []) or None


def earlier_outputs(project: Project, module_id: str, run_name: str) -> list[Path]:
    """Volumes and results files named like this module's outputs for this run name
    (``<module>_<what>_<run_name>``): what a run would refuse to replace without overwrite."""
    found = []
    for folder in (project.volumes_dir, project.results_dir):
        for p in sorted(folder.glob(f"{module_id}_*")):
            stem = p.stem if p.suffix in _OUTPUT_SUFFIXES else p.name
            if stem.endswith(f"_{run_name}") and not p.name.startswith("."):
                found.append(p)
    return found
