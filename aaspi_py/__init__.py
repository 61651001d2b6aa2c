"""aaspi_py: open seismic facies classification on chunked 3D volumes.

Volumes are xarray objects over zarr, estimators follow the scikit-learn API, and every
module is callable as a function through :func:`run`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

from .errors import AaspiError, Cancelled
from .progress import Progress
from .project import Project
from .runner import RunResult, run
from .training import TrainingSet
from .volume import open_volume, save_volume

# Heavier parts load on first use, so `import aaspi_py` stays quick.
_LAZY = {
    "import_segy": "aaspi_py.segy_io",
    "export_segy": "aaspi_py.segy_io",
    "read_sep": "aaspi_py.sep_io",
    "write_sep": "aaspi_py.sep_io",
    "import_sep": "aaspi_py.sep_io",
    "export_sep": "aaspi_py.sep_io",
    "best_mixture": "aaspi_py.gmm",
    "select_attributes": "aaspi_py.attribute_selection",
    "ForestModel": "aaspi_py.forest_model",
    "GaussianMixture": "aaspi_py.gmm",
    "bhattacharyya": "aaspi_py.gmm",
    "kuwahara": "aaspi_py.kuwahara_filter",
    "GTM": "aaspi_py.gtm",
    "training_set": "aaspi_py.polygons",
    "load_modules": "aaspi_py.registry",
    "Module": "aaspi_py.registry",
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
