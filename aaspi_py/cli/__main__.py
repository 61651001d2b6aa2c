"""`python -m aaspi_py.cli` runs the `aaspi` command."""

import sys

from aaspi_py.cli.commands import main

sys.exit(main())
