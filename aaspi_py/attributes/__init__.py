"""Volumetric attributes computed from an amplitude volume (SPEC 3.7), one file per family.

>>> from aaspi_py import attributes
>>> out = attributes.compute(amplitude, ["envelope", "sweetness"], sample_interval=4.0)

``NAMES`` lists every attribute of every family file present; ``describe(name)`` gives its
one-line documentation and ``units(name, domain)`` its units. Numpy in gives numpy out;
dask in gives lazy dask out, computed block by block on whole traces with each family's
halo, equal for any chunking and equal to the numpy result.

Imports numpy, scipy, numba, dask and the framework (its errors) only; never modules or Qt.
"""

from __future__ import annotations

from collections.abc import Iterable

from aaspi_py.framework.errors import AaspiError

from ._compute import check_names, check_options, compute_family, prepare
from ._family import Attribute, Family
from ._registry import by_name, discover, option_defaults, option_help

#: attribute families by name, in listing order
FAMILIES: dict[str, Family] = discover()
_BY_NAME = by_name(FAMILIES)
#: every attribute name, family by family
NAMES: tuple[str, ...] = tuple(_BY_NAME)
#: every option of every family with its default
OPTIONS: dict[str, object] = option_defaults(FAMILIES)
#: one-line help of every option
OPTION_HELP: dict[str, str] = option_help(FAMILIES)

__all__ = ["NAMES", "FAMILIES", "OPTIONS", "OPTION_HELP", "Attribute", "Family", "compute", "describe",
           "family_of", "units"]


def family_of(name: str) -> str:
    """The family computing attribute ``name``."""
    return _BY_NAME[check_names([name], _BY_NAME)[0]][0].name


def describe(name: str) -> str:
    """One line: formula or reference, window, units."""
    family, attr = _BY_NAME[check_names([name], _BY_NAME)[0]]
    return f"{attr.name} ({family.name}, {attr.units}): {attr.doc}"


def units(name: str, domain: str = "time") -> str:
    """Units of attribute ``name``; frequencies are cycles/km for depth data, Hz for time."""
    u = _BY_NAME[check_names([name], _BY_NAME)[0]][1].units
    return u.replace("Hz", "cycles/km") if domain == "depth" else u


def compute(data, names: str | Iterable[str], *, sample_interval: float = 4.0, mask=None,
            **options) -> dict:
    """Attributes of an amplitude volume.

    Parameters
    ----------
    data : numpy or dask array of shape (n_inlines, n_crosslines, n_samples)
        Amplitude; any dask chunking (chunks are made whole traces). NaN samples count as 0.
    names : attribute names from :data:`NAMES` (a list, or one comma-separated string)
    sample_interval : float
        Sample interval in ms (time data: frequencies in Hz) or m (depth: cycles/km).
    mask : bool array of shape (n_inlines, n_crosslines), optional
        Live traces; dead traces are zero in the input seen by neighbours and in every output.
    **options
        Family options (window sizes, ...), see :data:`OPTIONS`.

    Returns
    -------
    dict name -> float32 array of the data's shape; numpy for numpy input, lazy dask for dask.
    """
    names = check_names(names, _BY_NAME)
    if not (isinstance(sample_interval, (int, float)) and sample_interval > 0):
        raise AaspiError(f"sample_interval must be a positive number of ms or m; got {sample_interval!r}.")
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(_BY_NAME[name][0].name, []).append(name)
    families = [FAMILIES[f] for f in groups]
    opts = check_options(options, OPTIONS, families)
    data, live = prepare(data, mask)
    out = {}
    for family in families:
        own = {k: v for k, v in opts.items() if k in family.options}
        stacked = compute_family(data, family, groups[family.name], live, float(sample_interval), own)
        for k, name in enumerate(groups[family.name]):
            out[name] = stacked[k]
    return {name: out[name] for name in names}
