"""`python -m aaspi_py.cli` runs the `aaspi` command."""

import sys

from aaspi_py.cli.commands import main

if __name__ == "__main__":  # importing the package tree (docs, checks) runs nothing
    sys.exit(main())
