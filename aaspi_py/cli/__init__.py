"""The `aaspi` command: a thin shim over the library.

Top layer: may import every other subpackage, never Qt.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    # loaded on use: `python -m aaspi_py.cli.commands` then finds no copy imported before it runs
    if name == "main":
        from aaspi_py.cli.commands import main

        return main
    raise AttributeError(f"module 'aaspi_py.cli' has no attribute {name!r}")
