"""The contract every attribute family file fulfils.

A family file (``complex_trace.py``, ``geometric.py``, ``coherence.py``, ``spectral.py``,
``texture.py``) defines one module-level ``FAMILY = Family(...)``. Families compute several
attributes at once because they share work (one analytic trace, one structure tensor, one
set of short-window spectra).

``compute(block, names, *, sample_interval, **options)`` receives a float32 numpy block of
shape (inline, crossline, sample) that already carries the family's halo on the inline and
crossline axes and always holds whole traces (the sample axis is never split). It returns
``{name: float32 array of the block's shape}`` for each requested name; the caller crops the
halo. It must not read outside the block, so the result is the same for any chunking.
``halo(options)`` gives (inline, crossline) halo widths in traces for the given options.
``sample_interval`` is in ms (time) or m (depth); frequencies are in Hz for time data and
cycles/km for depth data.

Options form one flat namespace over all families (the module shows each once as a
parameter): a name two families declare must mean the same thing there, so family-specific
windows carry a family prefix or a precise name (``trace_window``). ``help`` gives each
option's one-line help (module parameter help, CLI, tooltip); ``check(options)`` returns a
one-line message for a bad combination of values, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Attribute:
    """One attribute: its units and a one-line description (formula or reference, window)."""

    name: str
    units: str
    doc: str


@dataclass(frozen=True)
class Family:
    name: str
    attributes: tuple[Attribute, ...]
    compute: Callable[..., dict[str, np.ndarray]]
    halo: Callable[[Mapping], tuple[int, int]]
    #: options this family reads, with their defaults (window sizes, grey levels, ...)
    options: Mapping[str, object] = field(default_factory=dict)
    #: one-line help per option (falls back to a generic text)
    help: Mapping[str, str] = field(default_factory=dict)
    #: returns a one-line message when the (complete) options are invalid, else None
    check: Callable[[Mapping], str | None] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)
