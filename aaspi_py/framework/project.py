"""The project folder: aaspi_project.toml, volumes/, polygons/, training/, results/, logs/.

All paths stored in project files are relative and must stay inside the project.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from aaspi_py.framework.errors import AaspiError

FOLDERS = ("volumes", "polygons", "training", "results", "logs")
PROJECT_FILE = "aaspi_project.toml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# a suffix is appended to a name, so it may start with '_', '.' or '-' ("_v2")
_SUFFIX = re.compile(r"^[A-Za-z0-9_.-]*$")


def check_name(name: str, what: str = "name") -> str:
    """Names become file names: letters, digits, ``_ . -`` only."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise AaspiError(
            f"Invalid {what} {name!r}: use letters, digits, '_', '.' or '-' (no spaces or slashes)."
        )
    return name


def check_suffix(suffix: str, what: str = "suffix") -> str:
    """A suffix of output names (``_v2``): the characters of a name, possibly empty."""
    if not isinstance(suffix, str) or not _SUFFIX.match(suffix) or ".." in suffix:
        raise AaspiError(
            f"Invalid {what} {suffix!r}: use letters, digits, '_', '.' or '-' (no spaces, slashes or '..')."
        )
    return suffix


@dataclass
class Project:
    root: Path
    name: str

    # -- construction
    @classmethod
    def create(cls, root: str | Path, name: str | None = None) -> Project:
        root = Path(root).resolve()
        name = check_name(name or root.name, "project name")
        if root.exists() and not root.is_dir():
            raise AaspiError(f"{root} is a file, not a folder; give a new or existing folder for the project.")
        root.mkdir(parents=True, exist_ok=True)
        for f in FOLDERS:
            (root / f).mkdir(exist_ok=True)
        pf = root / PROJECT_FILE
        if not pf.exists():
            pf.write_text(f'# aaspi_py project\nname = "{name}"\n', encoding="utf-8")
        return cls.open(root)

    @classmethod
    def open(cls, root: str | Path, *, create: bool = False) -> Project:
        if isinstance(root, Project):
            return root
        root = Path(root).resolve()
        pf = root / PROJECT_FILE
        if not pf.exists():
            if create:
                return cls.create(root)
            raise AaspiError(
                f"{root} is not an aaspi_py project (no {PROJECT_FILE}); "
                f"create one with `aaspi new-project {root}`."
            )
        try:
            data = tomllib.loads(pf.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise AaspiError(f"{pf} is not valid TOML ({e}); fix or recreate it.") from None
        for f in FOLDERS:
            if not (root / f).is_dir():  # a read-only project with all its folders still opens
                (root / f).mkdir(exist_ok=True)
        return cls(root=root, name=str(data.get("name", root.name)))

    # -- folders
    @property
    def volumes_dir(self) -> Path:
        return self.root / "volumes"

    @property
    def polygons_dir(self) -> Path:
        return self.root / "polygons"

    @property
    def training_dir(self) -> Path:
        return self.root / "training"

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    # -- lookups
    def volume_path(self, name: str) -> Path:
        """Path of a volume given its name (``amplitude``), file name or a path."""
        p = Path(name)
        if p.suffix == ".zarr" and (p.is_absolute() or p.exists()):
            return p.resolve()
        if p.is_absolute():
            return p
        stem = name[:-5] if name.endswith(".zarr") else name
        return self.volumes_dir / f"{stem}.zarr"

    def existing_volume(self, name: str, *, param: str = "volume") -> Path:
        path = self.volume_path(name)
        if not (path / "zarr.json").exists():
            have = ", ".join(self.volumes()) or "none"
            raise AaspiError(
                f"Volume '{name}' (parameter '{param}') not found in {self.volumes_dir}; "
                f"volumes in the project: {have}. Import one with `aaspi import-segy`."
            )
        return path

    def volumes(self) -> list[str]:
        return sorted(p.stem for p in self.volumes_dir.glob("*.zarr") if not p.name.startswith("."))

    def facies(self) -> list[str]:
        return sorted(p.stem for p in self.polygons_dir.glob("*.json"))

    def training_sets(self) -> list[str]:
        return sorted(p.name for p in self.training_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def training_set_path(self, value: str | Path, param: str = "training_set") -> Path:
        """The training set a parameter names: a path in the project, or a name under ``training/``.

        Raises a one-line :class:`AaspiError` listing the project's training sets when none exists.
        """
        given = Path(value)
        candidates = [self.resolve(given)]
        if not given.is_absolute():
            candidates.append(self.training_dir / given)
        for candidate in candidates:
            if candidate.exists():
                return candidate
        have = ", ".join(self.training_sets()) or "none"
        raise AaspiError(f"Training set '{value}' (parameter '{param}') not found; training sets in the "
                         f"project: {have}. Make one with define_training_data.")

    def resolve(self, path: str | Path) -> Path:
        """A path given relative to the project (or absolute)."""
        p = Path(path)
        return p if p.is_absolute() else (self.root / p)

    def contains(self, path: str | Path) -> bool:
        """Whether ``path`` lies inside the project once links and ``..`` are resolved."""
        return self.resolve(path).resolve().is_relative_to(self.root.resolve())

    def inside(self, path: str | Path, what: str = "output") -> Path:
        """``path`` (relative to the project, or absolute) resolved; refused when outside the project.

        Real containment: symbolic links and ``..`` are resolved first, so neither
        ``../x`` nor a link out of the project nor a name sharing the project's prefix
        (``/work/big_x.sgy`` for project ``/work/big``) passes.
        """
        p = self.resolve(path).resolve()
        if not p.is_relative_to(self.root.resolve()):
            raise AaspiError(f"The {what} {p} is outside the project {self.root}; write it inside the "
                             f"project (e.g. results/{Path(path).name}) and copy it from there.")
        return p

    def relative(self, path: str | Path) -> str:
        """Relative form for storing in project files; refuses paths outside the project."""
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            raise AaspiError(f"{p} is outside the project {self.root}; copy it into the project first.") from None
