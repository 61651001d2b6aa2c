"""Temporary names of outputs being written, and the leftovers of runs that were killed.

An output is written to ``.<name>.tmp-<host>-<pid>-<random>`` beside its final name and
renamed when the run succeeds; a replaced output is first moved to ``.<name>.old-…``. A
run stopped by Ctrl-C, Cancel or SIGTERM removes its own temporaries. A run killed with
SIGKILL (or a power loss) cannot, so the next run on the project, or ``aaspi clean``, removes
every temporary whose process no longer runs on this host. Hidden names keep them out of
``Project.volumes()`` and the GUI lists, so they are never mistaken for outputs.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

#: the host part of a temporary name: letters, digits and dots only, so '-' separates fields
HOST = re.sub(r"[^A-Za-z0-9.]", "", platform.node())[:40] or "host"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?:(?P<host>[A-Za-z0-9.]*)-(?P<pid>\d+)-)?[0-9a-f]{8}$")


def temporary_name(final: str | os.PathLike, what: str = "tmp") -> Path:
    """``.<name>.<what>-<host>-<pid>-<random>`` beside ``final``."""
    final = Path(final)
    return final.with_name(f".{final.name}.{what}-{HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@dataclass(frozen=True)
class Leftover:
    path: Path
    host: str | None
    pid: int | None

    @property
    def size(self) -> int:
        if self.path.is_dir():
            return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return self.path.stat().st_size if self.path.exists() else 0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _candidates(root: Path, depth: int = 3):
    """Hidden temporary names in the project, without walking into volumes (thousands of chunks)."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        level = len(here.relative_to(root).parts)
        for name in (*dirnames, *filenames):
            if _TEMP.match(name):
                yield here / name
        # a temporary is removed whole; a volume holds only chunks; stop at the depth limit
        dirnames[:] = [] if level >= depth else [
            d for d in dirnames if not _TEMP.match(d) and not (here / d / "zarr.json").exists()]


def find_leftovers(root: str | os.PathLike, *, any_host: bool = False) -> list[Leftover]:
    """Temporaries in the project whose run is over.

    A temporary of a process still running on this host is left alone; one made on another
    host is kept unless ``any_host`` (its process cannot be checked from here). Names
    without host and process (written before they carried them) count as leftovers.
    """
    found = []
    for path in _candidates(Path(root)):
        m = _TEMP.match(path.name)
        host, pid = m["host"], int(m["pid"]) if m["pid"] else None
        if pid is not None and host == HOST and _alive(pid):
            continue
        if pid is not None and host != HOST and not any_host:
            continue
        found.append(Leftover(path, host, pid))
    return sorted(found, key=lambda x: str(x.path))


def remove_leftovers(root: str | os.PathLike, *, any_host: bool = False) -> list[Leftover]:
    """Remove the leftovers of killed runs; returns what was removed."""
    removed = []
    for left in find_leftovers(root, any_host=any_host):
        try:
            if left.path.is_dir() and not left.path.is_symlink():
                shutil.rmtree(left.path, ignore_errors=True)
            else:
                left.path.unlink(missing_ok=True)
        except OSError:  # a read-only folder: the run goes on, `aaspi clean` can retry later
            continue
        if not left.path.exists():
            removed.append(left)
    return removed


def other_hosts(root: str | os.PathLike) -> list[Leftover]:
    """Temporaries made on other hosts (kept by :func:`remove_leftovers` without ``any_host``)."""
    mine = {x.path for x in find_leftovers(root)}
    return [x for x in find_leftovers(root, any_host=True) if x.path not in mine]
