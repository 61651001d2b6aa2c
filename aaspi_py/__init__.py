"""aaspi_py: open seismic facies classification on chunked 3D volumes.

Volumes are xarray objects over zarr, estimators follow the scikit-learn API, and every
module is callable as a function through :func:`run`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

from aaspi_py.framework.errors import AaspiError, Cancelled
from aaspi_py.framework.progress import Progress

# Everything else loads on first use, so `import aaspi_py` (and any aaspi_py.io module)
# stays quick: xarray, dask and pandas cost about a second, which the SEG-Y import spends
# reading the file instead.
_LAZY = {
    "Project": "aaspi_py.framework.project",
    "RunResult": "aaspi_py.framework.runner",
    "run": "aaspi_py.framework.runner",
    "TrainingSet": "aaspi_py.training.training_set",
    "open_volume": "aaspi_py.volume",
    "save_volume": "aaspi_py.volume",
    "import_segy": "aaspi_py.io.segy",
    "export_segy": "aaspi_py.io.segy",
    "read_sep": "aaspi_py.io.sep",
    "write_sep": "aaspi_py.io.sep",
    "import_sep": "aaspi_py.io.sep",
    "export_sep": "aaspi_py.io.sep",
    "best_mixture": "aaspi_py.mixture.gaussian_mixture",
    "select_attributes": "aaspi_py.selection.attribute_selection",
    "ForestModel": "aaspi_py.forest.model",
    "GaussianMixture": "aaspi_py.mixture.gaussian_mixture",
    "bhattacharyya": "aaspi_py.mixture.gaussian_mixture",
    "kuwahara": "aaspi_py.filters.kuwahara",
    "GTM": "aaspi_py.gtm.estimator",
    "training_set": "aaspi_py.training.polygons",
    "load_modules": "aaspi_py.framework.registry",
    "Module": "aaspi_py.framework.registry",
}

__all__ = [
    "AaspiError", "Cancelled", "Progress", "Project", "RunResult", "TrainingSet",
    "open_volume", "save_volume", "run", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aaspi_py' has no attribute {name!r}")
