"""``aaspi-util`` entry point: says in one line what is missing before Qt is imported.

Without the ``gui`` extra the launcher's imports would end in a ModuleNotFoundError
traceback, and without a display Qt aborts the process (exit 134) with a multi-line plugin
message. This file imports no Qt, so it can check both first.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or blocked installation counts as missing
        return False


def missing_packages() -> list[str]:
    """GUI packages that are not installed."""
    return [name for name in ("PyQt5", "pyqtgraph") if not _installed(name)]


def display_problem() -> str | None:
    """Why Qt could not open a window here, or None."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs...: the user chose it
    if not sys.platform.startswith("linux"):
        return None  # macOS and Windows always have their native platform
    if platform.startswith("wayland"):
        return None if os.environ.get("WAYLAND_DISPLAY") else "QT_QPA_PLATFORM is wayland but WAYLAND_DISPLAY is not set"
    if os.environ.get("DISPLAY") or (not platform and os.environ.get("WAYLAND_DISPLAY")):
        return None
    return "no display: DISPLAY is not set"


def main(argv: list[str] | None = None) -> int:
    """Check the GUI packages and the display, then start the launcher."""
    missing = missing_packages()
    if missing:
        print(f"aaspi-util: error: the launcher needs {' and '.join(missing)}; install the gui extra: "
              "pip install 'aaspi_py[gui]'", file=sys.stderr)
        return 2
    problem = display_problem()
    if problem:
        print(f"aaspi-util: error: {problem}; run it in a desktop session, over `ssh -X`, or under "
              "`xvfb-run aaspi-util` (the `aaspi` command works without a display).", file=sys.stderr)
        return 2
    from .launcher import main as launcher_main

    return launcher_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
