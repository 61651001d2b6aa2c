"""Modules and their registry.

A module is a small static :class:`Module` descriptor (id, title, tab, one-line
description, parameter declaration) plus a ``run(ctx, params)`` function. Every module,
built-in or third-party, registers through the entry-point group ``aaspi_py.modules``
(``name = package.module:MODULE``). A plugin that fails to load is a warning, not a crash.
Module files keep heavy imports inside ``run`` so listing modules stays fast.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.params import COMMON, Param

GROUP = "aaspi_py.modules"
#: the tabs of the launcher, in order (as in aaspi_util)
CATEGORIES = ("Utilities", "Volumetric Attributes", "Image Processing", "Volumetric Classification")


@dataclass(frozen=True)
class Module:
    """What the launcher, the CLI and the runner need to know about a module."""

    id: str
    title: str
    category: str
    description: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    #: optional step of ``aaspi demo``: ``demo(project, progress) -> list of summary lines``
    demo: Callable[..., list[str]] | None = None
    #: position of the demo step (lower runs first)
    demo_order: int = 100
    #: a module with its own window in the launcher (e.g. define_training_data)
    gui: str | None = None
    #: optional ``outputs(ctx, params) -> [(kind, path), ...]``: what a run will write
    #: (``ctx.planned_volume/planned_file/planned_dir``), checked before any compute
    outputs: Callable[..., list] | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"module {self.id}: category must be one of {CATEGORIES}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"module {self.id}: duplicate parameter names")

    @property
    def all_params(self) -> tuple[Param, ...]:
        """The module's own parameters followed by the common ones (project_name, suffix)."""
        own = {p.name for p in self.params}
        return self.params + tuple(p for p in COMMON if p.name not in own)

    def param(self, name: str) -> Param:
        for p in self.all_params:
            if p.name == name:
                return p
        raise KeyError(name)


_cache: dict[str, Module] | None = None


def load_modules(*, refresh: bool = False) -> dict[str, Module]:
    """Every module installed, by id, in a stable order (tab, then id)."""
    global _cache
    if _cache is not None and not refresh:
        return _cache
    found: dict[str, Module] = {}
    for ep in entry_points(group=GROUP):
        try:
            mod = ep.load()
        except Exception as e:  # a broken plugin must not take the suite down
            warnings.warn(f"aaspi_py module '{ep.name}' ({ep.value}) failed to load: {type(e).__name__}: {e}",
                          RuntimeWarning, stacklevel=2)
            continue
        if not isinstance(mod, Module):
            warnings.warn(f"aaspi_py module '{ep.name}' ({ep.value}) is not an aaspi_py.Module; skipped.",
                          RuntimeWarning, stacklevel=2)
            continue
        if mod.id in found:
            warnings.warn(f"aaspi_py module id '{mod.id}' registered twice; keeping the first.",
                          RuntimeWarning, stacklevel=2)
            continue
        found[mod.id] = mod
    _cache = dict(sorted(found.items(), key=lambda kv: (CATEGORIES.index(kv[1].category), kv[0])))
    return _cache


def get_module(module_id: str) -> Module:
    mods = load_modules()
    if module_id not in mods:
        raise AaspiError(
            f"Unknown module '{module_id}'; installed modules: {', '.join(mods) or 'none'} (`aaspi modules`)."
        )
    return mods[module_id]
