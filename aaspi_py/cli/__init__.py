"""The `aaspi` command: a thin shim over the library.

Top layer: may import every other subpackage, never Qt.
"""

from aaspi_py.cli.main import main

__all__ = ["main"]
