"""numpy values in JSON: the ``default`` hook of :func:`json.dumps` for metadata files."""

from __future__ import annotations

from typing import Any

import numpy as np


def json_default(value: Any) -> Any:
    """numpy scalars as Python numbers, arrays as lists, anything else as its text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
