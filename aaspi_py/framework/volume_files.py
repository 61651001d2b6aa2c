"""Volume files without xarray: the default chunk shape and outputs written under a
temporary name, then renamed.

Kept apart from :mod:`aaspi_py.volume` (which loads xarray, dask and pandas, about a second)
so that the SEG-Y import can create a volume without loading them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aaspi_py.framework.errors import AaspiError

#: default zarr chunk shape (inline, crossline, sample); see benches/ for the choice
DEFAULT_CHUNKS = (64, 64, 128)


def temporary_path(path: str | os.PathLike) -> Path:
    """Hidden name beside ``path`` to write to before the rename (see :mod:`aaspi_py.framework.leftovers`)."""
    from aaspi_py.framework.leftovers import temporary_name

    return temporary_name(path)


def commit_path(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Move a finished temporary output onto its final name."""
    path = Path(path)
    if path.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
            raise AaspiError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it.")
        from aaspi_py.framework.leftovers import temporary_name

        trash = temporary_name(path, "old")
        os.replace(path, trash)
        os.replace(tmp, path)
        shutil.rmtree(trash, ignore_errors=True) if trash.is_dir() else trash.unlink(missing_ok=True)
    else:
        os.replace(tmp, path)


def remove_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
