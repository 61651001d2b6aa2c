"""One declaration of a module's parameters.

From a tuple of :class:`Param` come the CLI options, the TOML parameter file (with a
commented template), the GUI form and the validation messages. Constraints are data, so
messages are generated, e.g. ``The 'max_clusters' parameter of attribute_selection must be
an int in the range [1, inf). Got 0 instead.``
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aaspi_py.framework.errors import AaspiError

REQUIRED = object()

#: kinds of parameter; the GUI picks a widget from the kind
KINDS = (
    "int", "float", "bool", "str", "choice", "ints",
    "volume", "volumes",  # names of volumes in the project (or paths)
    "file", "files",      # paths (relative to the project, or absolute)
    "facies",             # ordered list of facies names (polygons/<facies>.json)
)


@dataclass(frozen=True)
class Param:
    """A module parameter: name, kind, default, range and a one-line help."""

    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    label: str = ""
    #: file dialogs filter (e.g. "SEG-Y (*.sgy *.segy)"), for file kinds
    pattern: str = ""
    #: an output parameter names something the run writes (GUI: save dialog)
    output: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def is_list(self) -> bool:
        return self.kind in ("volumes", "files", "facies", "ints")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def describe(self) -> str:
        """The constraint in words, for messages and the parameter template."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind in ("int", "float", "ints"):
            word = {"int": "an int", "float": "a float", "ints": "a list of ints"}[self.kind]
            if self.low is None and self.high is None:
                return word
            lo = "-inf" if self.low is None else _fmt(self.low)
            hi = "inf" if self.high is None else _fmt(self.high)
            left = "(" if self.low is None else "["
            right = ")" if self.high is None else "]"
            each = " each" if self.kind == "ints" else ""
            return f"{word}{each} in the range {left}{lo}, {hi}{right}"
        return {
            "bool": "true or false",
            "str": "a string",
            "volume": "the name of a volume in the project",
            "volumes": "a list of volume names",
            "file": "a file path",
            "files": "a list of file paths",
            "facies": "a list of facies names",
        }[self.kind]


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


# Short constructors read better in module declarations.
def Int(name, default=REQUIRED, *, low=None, high=None, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "int", default, help, low, high, **kw)


def Float(name, default=REQUIRED, *, low=None, high=None, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "float", default, help, low, high, **kw)


def Bool(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "bool", default, help, **kw)


def Str(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "str", default, help, **kw)


def Choice(name, default=REQUIRED, *, choices, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "choice", default, help, choices=tuple(choices), **kw)


def Ints(name, default=REQUIRED, *, low=None, high=None, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "ints", default, help, low, high, **kw)


def Volume(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "volume", default, help, **kw)


def Volumes(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "volumes", default, help, **kw)


def File(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "file", default, help, **kw)


def Files(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "files", default, help, **kw)


def Facies(name, default=REQUIRED, *, help="", **kw) -> Param:  # noqa: N802
    return Param(name, "facies", default, help, **kw)


#: every module also takes these (AASPI's "unique project name" and "suffix")
COMMON = (
    Str("project_name", "", help="Unique project name used in output names (default: the project's name)."),
    Str("suffix", "", help="Suffix appended to output names, to keep several runs apart."),
)


# ---------------------------------------------------------------- validation

def _bad(module: str, p: Param, value: Any) -> AaspiError:
    return AaspiError(
        f"The '{p.name}' parameter of {module} must be {p.describe()}. Got {value!r} instead."
    )


def _coerce_scalar(module: str, p: Param, kind: str, value: Any) -> Any:
    if kind == "int":
        if isinstance(value, bool):
            raise _bad(module, p, value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _bad(module, p, value) from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise _bad(module, p, value)
        return value
    if kind == "float":
        if isinstance(value, bool):
            raise _bad(module, p, value)
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise _bad(module, p, value) from None
        if not isinstance(value, int | float) or math.isnan(value):
            raise _bad(module, p, value)
        return float(value)
    if kind == "bool":
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "yes", "on", "1"):
                return True
            if low in ("false", "no", "off", "0"):
                return False
            raise _bad(module, p, value)
        if not isinstance(value, bool):
            raise _bad(module, p, value)
        return value
    if not isinstance(value, str):
        raise _bad(module, p, value)
    return value


def _split_list(value: Any) -> list:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def check_param(module: str, p: Param, value: Any) -> Any:
    """Coerce ``value`` (from TOML, CLI text or Python) to the declared kind, or raise."""
    if p.is_list:
        item_kind = "int" if p.kind == "ints" else "str"
        items = [_coerce_scalar(module, p, item_kind, v) for v in _split_list(value)]
        if p.kind == "ints":
            for v in items:
                if (p.low is not None and v < p.low) or (p.high is not None and v > p.high):
                    raise _bad(module, p, value)
        return items
    kind = {"choice": "str", "volume": "str", "file": "str"}.get(p.kind, p.kind)
    value = _coerce_scalar(module, p, kind, value)
    if p.kind == "choice" and value not in p.choices:
        raise _bad(module, p, value)
    if p.kind in ("int", "float"):
        if (p.low is not None and value < p.low) or (p.high is not None and value > p.high):
            raise _bad(module, p, value)
    return value


def validate(module: str, params: tuple[Param, ...], values: dict[str, Any]) -> dict[str, Any]:
    """Check every value against the declaration; fill defaults; refuse unknown names."""
    by_name = {p.name: p for p in params}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        known = ", ".join(by_name)
        raise AaspiError(
            f"Unknown parameter '{unknown[0]}' for {module}; known parameters: {known} "
            f"(`aaspi params {module}` prints them with their help)."
        )
    out: dict[str, Any] = {}
    for p in params:
        if p.name in values and values[p.name] is not None:
            out[p.name] = check_param(module, p, values[p.name])
        elif p.required:
            raise AaspiError(
                f"The '{p.name}' parameter of {module} is required ({p.describe()}): "
                f"set it with --set {p.name}=... or in the parameter file."
            )
        else:
            out[p.name] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


# ---------------------------------------------------------------- TOML files

def read_param_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise AaspiError(f"Cannot read parameter file {path}: {e.strerror}.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise AaspiError(f"Parameter file {path} is not valid TOML ({e}); fix that line.") from None
    # a [module] table is allowed, so one file can say which module it is for
    if len(data) == 1 and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))
    return data


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def template(module: str, params: tuple[Param, ...], values: dict[str, Any] | None = None) -> str:
    """A commented TOML parameter file: every parameter with its help and constraint."""
    values = values or {}
    lines = [f"# Parameters of {module}.  Run with: aaspi run {module} --project DIR --params THIS_FILE", ""]
    for p in params:
        lines.append(f"# {p.help}" if p.help else f"# {p.title}")
        lines.append(f"# ({p.describe()})")
        value = values.get(p.name, p.default)
        if value is REQUIRED or value is None:
            example = "[]" if p.is_list else ('""' if p.kind not in ("int", "float", "bool") else "0")
            lines.append(f"# {p.name} = {example}    # required")
        else:
            if isinstance(value, tuple):
                value = list(value)
            lines.append(f"{p.name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def write_param_file(path: str | Path, module: str, params: tuple[Param, ...], values: dict) -> None:
    Path(path).write_text(template(module, params, values), encoding="utf-8")
