"""A parameter form generated from a module's declaration (``Module.all_params``).

Each parameter gets the widget of its kind (see :mod:`.param_fields`), its help text as
tooltip, and a message line under it. Values are checked by the core
(:func:`aaspi_py.params.check_param`, :func:`~aaspi_py.params.validate`), exactly as the
CLI checks them; the form only shows the messages. Save/Load write and read the same TOML
parameter files as ``aaspi params`` / ``aaspi run --params``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aaspi_py.errors import AaspiError
from aaspi_py.params import COMMON, check_param, read_param_file, validate, write_param_file
from aaspi_py.project import Project
from aaspi_py.registry import Module

from .param_fields import Field, make_field
from .qt import QtWidgets, Signal

_COMMON = {p.name for p in COMMON}


class ParamForm(QtWidgets.QWidget):
    """The fields of one module; ``checked_values()`` gives what the run receives."""

    changed = Signal()

    def __init__(self, module: Module, project: Project | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.module = module
        self.project = project
        self.fields: dict[str, Field] = {}
        self.messages: dict[str, QtWidgets.QLabel] = {}
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        own = [p for p in module.all_params if p.name not in _COMMON]
        common = [p for p in module.all_params if p.name in _COMMON]
        for title, params in (("Parameters", own), ("Output names", common)):
            if params:
                outer.addWidget(self._group(title, params))
        outer.addStretch(1)
        self.set_project(project)

    def _group(self, title: str, params) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox(title)
        grid = QtWidgets.QGridLayout(box)
        grid.setColumnStretch(1, 1)
        for row, p in enumerate(params):
            field = make_field(p, root=lambda: self.project.root if self.project else None)
            field.setObjectName(f"field_{p.name}")
            tip = f"{p.help}\n({p.describe()})" if p.help else p.describe()
            label = QtWidgets.QLabel(p.title + ("  *" if p.required else ""))
            label.setToolTip(tip)
            field.setToolTip(tip)
            message = QtWidgets.QLabel()
            message.setObjectName(f"message_{p.name}")
            message.setWordWrap(True)
            message.setStyleSheet("color: #c0392b;")
            message.hide()
            grid.addWidget(label, 2 * row, 0)
            grid.addWidget(field, 2 * row, 1)
            grid.addWidget(message, 2 * row + 1, 1)
            field.changed.connect(lambda name=p.name: self._field_changed(name))
            self.fields[p.name] = field
            self.messages[p.name] = message
        return box

    # -- project
    def set_project(self, project: Project | None) -> None:
        """Offer the project's volumes and facies in the pickers."""
        self.project = project
        volumes = project.volumes() if project else []
        facies = project.facies() if project else []
        for p in self.module.all_params:
            if p.kind in ("volume", "volumes"):
                self.fields[p.name].set_choices(volumes)
            elif p.kind == "facies":
                self.fields[p.name].set_choices(facies)

    # -- values
    def raw_values(self) -> dict[str, Any]:
        """What the widgets hold (``None`` for empty fields)."""
        return {name: f.value() for name, f in self.fields.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill fields from a dict (e.g. a parameter file); unknown names are an error."""
        unknown = {k: v for k, v in values.items() if k not in self.fields}
        if unknown:
            validate(self.module.id, self.module.all_params, unknown)  # raises the CLI's message
        for name, value in values.items():
            self.fields[name].set_value(value)
        self.check_all()

    def check(self, name: str) -> str | None:
        """Check one field with the core's rules; show and return the message (or None)."""
        p = self.module.param(name)
        value = self.fields[name].value()
        try:
            if value is None:
                validate(self.module.id, (p,), {})  # the "required" message, or the default
            else:
                check_param(self.module.id, p, value)
            error = None
        except AaspiError as e:
            error = str(e)
        label = self.messages[name]
        label.setText(error or "")
        label.setVisible(error is not None)
        return error

    def errors(self) -> dict[str, str]:
        return {name: err for name in self.fields if (err := self.check(name))}

    def check_all(self) -> bool:
        return not self.errors()

    def checked_values(self) -> dict[str, Any] | None:
        """The validated parameters (what ``aaspi run`` would get), or None if a field is wrong."""
        if not self.check_all():
            return None
        raw = {k: v for k, v in self.raw_values().items() if v is not None}
        return validate(self.module.id, self.module.all_params, raw)

    def _field_changed(self, name: str) -> None:
        self.check(name)
        self.changed.emit()

    # -- parameter files
    def save(self, path: str | Path) -> None:
        values = self.checked_values()
        if values is None:
            raise AaspiError("Some parameters are not valid (see the messages in red); fix them before saving.")
        write_param_file(path, self.module.id, self.module.all_params, values)

    def load(self, path: str | Path) -> None:
        self.set_values(read_param_file(path))


if __name__ == "__main__":
    import sys

    from aaspi_py.registry import get_module

    from .qt import application

    app = application()
    form = ParamForm(get_module(sys.argv[1] if len(sys.argv) > 1 else "segy_import"),
                     Project.open(sys.argv[2]) if len(sys.argv) > 2 else None)
    form.resize(600, 500)
    form.show()
    app.exec_()
