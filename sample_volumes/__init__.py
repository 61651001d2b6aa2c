"""Sample survey: the real F3 cut and a deterministic synthetic survey generator.

``build_sample_project(root, size="small"|"demo")`` writes the synthetic survey as a project
(amplitude, the candidate attributes of :data:`ATTRIBUTES`, ``true_facies`` and facies
polygons); ``make_survey(shape, seed)`` returns the same volumes as numpy arrays.
"""

from importlib import import_module
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
F3_PATH = HERE / "f3.sgy"

#: facies of the synthetic survey, in class order (codes 1, 2, 3 in ``true_facies``)
FACIES = ["salt", "mtd", "background"]
FACIES_CODES = {"salt": 1, "mtd": 2, "background": 3}
FACIES_COLORS = {"salt": "#d62728", "mtd": "#2ca02c", "background": "#1f77b4"}

#: candidate attributes in listing order; INFORMATIVE separate the facies, REDUNDANT are
#: linear mixes of informative ones, NOISE do not respond to the facies
ATTRIBUTES = ["envelope", "inst_frequency", "cos_phase", "coherence", "glcm_entropy",
              "glcm_variance", "dip_deviation", "energy_deviation", "reflector_convergence",
              "spectral_bandwidth"]
INFORMATIVE = ["envelope", "inst_frequency", "coherence", "dip_deviation"]
REDUNDANT = ["glcm_entropy", "glcm_variance", "energy_deviation"]
NOISE = ["cos_phase", "reflector_convergence", "spectral_bandwidth"]

#: survey shapes (inlines, crosslines, samples)
SIZES = {"small": (40, 40, 60), "demo": (200, 200, 300)}

# numpy/scipy load on first use so importing F3_PATH stays quick
_LAZY = {"build_sample_project": ".project", "make_survey": ".synthetic"}

__all__ = ["F3_PATH", "FACIES", "FACIES_CODES", "FACIES_COLORS", "ATTRIBUTES", "INFORMATIVE",
           "REDUNDANT", "NOISE", "SIZES", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
