"""The attribute families present in this package, found from their files."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path

from ._family import Attribute, Family

#: families listed first, in this order (others follow alphabetically)
ORDER = ("complex_trace", "geometric", "coherence", "spectral", "texture")


def discover() -> dict[str, Family]:
    """Every ``FAMILY`` defined by a public file of ``aaspi_py.attributes``, in :data:`ORDER`."""
    found: dict[str, Family] = {}
    files = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")]
    files.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in files:
        family = getattr(importlib.import_module(f"{__package__}.{name}"), "FAMILY", None)
        if isinstance(family, Family):
            found[family.name] = family
    seen: dict[str, str] = {}
    for family in found.values():
        for attr in family.names:
            if attr in seen:  # a programming error: two files claim one name
                raise RuntimeError(f"attribute {attr!r} is defined by families {seen[attr]!r} and {family.name!r}")
            seen[attr] = family.name
    return found


def by_name(families: Mapping[str, Family]) -> dict[str, tuple[Family, Attribute]]:
    return {a.name: (f, a) for f in families.values() for a in f.attributes}


def option_defaults(families: Mapping[str, Family]) -> dict[str, object]:
    """Every option of every family with its default (the first family declaring it wins)."""
    out: dict[str, object] = {}
    for family in families.values():
        for key, value in family.options.items():
            out.setdefault(key, value)
    return out


def option_help(families: Mapping[str, Family]) -> dict[str, str]:
    out: dict[str, str] = {}
    for family in families.values():
        for key in family.options:
            users = [f.name for f in families.values() if key in f.options]
            out.setdefault(key, family.help.get(key) or f"Option of the {' and '.join(users)} attributes.")
    return out
