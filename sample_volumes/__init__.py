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

#: candidate attributes in listing order: volumes computed from the synthetic amplitude by
#: aaspi_py.attributes with default windows, plus the pure-noise CONTROLS
ATTRIBUTES = ["envelope", "instantaneous_frequency", "cos_phase", "semblance", "glcm_entropy", "glcm_variance",
              "dip_deviation", "energy_deviation", "dip_energy_covariance", "reflector_convergence",
              "spectral_bandwidth", "spectral_roughness", "noise_uniform", "noise_lognormal"]
#: facies-independent random fields with non-Gaussian marginals (never to be selected)
CONTROLS = ["noise_uniform", "noise_lognormal"]
#: as measured on the demo survey (``python -m aaspi_py.sample_volumes.separation``, table in
#: sample_volumes/README.md): INFORMATIVE are the first four of a greedy forward selection
#: (quadratic discriminant, each adds at least a point of accuracy); REDUNDANT respond to the
#: facies (ROC AUC >= 0.6 for some pair) but add at most 1.2 points to the informative ones;
#: NOISE respond to no facies (AUC <= 0.52 for every pair): the two controls and cos_phase
INFORMATIVE = ["dip_deviation", "instantaneous_frequency", "semblance", "envelope"]
REDUNDANT = ["glcm_entropy", "glcm_variance", "energy_deviation", "dip_energy_covariance", "reflector_convergence",
             "spectral_bandwidth", "spectral_roughness"]
NOISE = ["cos_phase", "noise_uniform", "noise_lognormal"]

#: survey shapes (inlines, crosslines, samples)
SIZES = {"small": (40, 40, 60), "demo": (200, 200, 300)}

# numpy/scipy load on first use so importing F3_PATH stays quick
_LAZY = {"build_sample_project": ".project", "make_survey": ".synthetic"}

__all__ = ["F3_PATH", "FACIES", "FACIES_CODES", "FACIES_COLORS", "ATTRIBUTES", "CONTROLS", "INFORMATIVE",
           "REDUNDANT", "NOISE", "SIZES", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
