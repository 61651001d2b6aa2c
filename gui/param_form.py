"""A parameter form generated from a module's declaration (``Module.all_params``).

Each parameter gets the widget of its kind (see :mod:`.param_fields`), its help text as
tooltip, and a message line under it. Values are checked by the core
(:func:`aaspi_py.framework.params.check_param`, :func:`~aaspi_py.framework.params.validate`), exactly as the
CLI checks them; the form only shows the messages. Save/Load write and read the same TOML
parameter files as ``aaspi params`` / ``aaspi run --params``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.params import (
    COMMON,
    check_param,
    read_param_file,
    validate,
    write_param_file,
)
from aaspi_py.framework.project import Project
from aaspi_py.framework.registry import Module
from aaspi_py.training.volume_catalog import (
    catalog,
    check_input_volumes,
    training_set_volumes,
    usable_volumes,
)

from .param_fields import Field, make_field
from .qt import QtWidgets, Signal
from .wording import gui_message

#: file parameters naming a training set or training file, whose attribute volumes fill
#: the module's attribute list (rfc3d: training_file → attributes, gtm3d: training_set → inputs)
TRAINING_SOURCES = ("training_file", "training_set")

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
        self._entries: dict = {}
        #: attribute lists filled from a training set (name → the list filled), so a change
        #: of training set refills them but a list the user edited is left alone
        self._filled: dict[str, list[str]] = {}
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
        self._entries = catalog(project) if project else {}
        volumes = project.volumes() if project else []
        facies = project.facies() if project else []
        for p in self.module.all_params:
            if p.kind == "volume":
                self.fields[p.name].set_choices(volumes)
            elif p.kind == "facies":
                self.fields[p.name].set_choices(facies)
        self._offer_attributes()

    def _offer_attributes(self) -> None:
        """Attribute lists offer volumes of attribute kinds on the grid of the first volume
        already chosen in any list of the form (all attribute volumes when none is)."""
        lists = [p.name for p in self.module.all_params if p.kind == "volumes"]
        chosen = [v for name in lists for v in (self.fields[name].value() or [])]
        like = next((v for v in chosen if v in self._entries), None)
        offer = usable_volumes(self.project, like, entries=self._entries) if self.project else []
        hidden = len(self._entries) - len(offer)
        note = (f"{hidden} volume{'s' if hidden != 1 else ''} not offered: class volumes"
                f"{' or volumes not on the grid of ' + repr(like) if like else ''}." if hidden else "")
        for name in lists:
            self.fields[name].set_choices(offer)
            self.fields[name].choices_note = note

    def _fill_from_training(self, source: str) -> None:
        """A training set (or its text file) chosen: its attribute volumes, in order, fill
        the form's attribute list when that list is empty or was filled the same way."""
        if self.project is None:
            return
        volumes = training_set_volumes(self.project, self.fields[source].value() or "")
        if not volumes:
            return
        for p in self.module.all_params:
            if p.kind == "volumes":
                field = self.fields[p.name]
                current = field.value() or []
                if not current or current == self._filled.get(p.name):
                    field.set_value(volumes)
                    self._filled[p.name] = list(volumes)
                    self.messages[p.name].setText("")

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
        return self._show(name, error)

    def _show(self, name: str, error: str | None) -> str | None:
        label = self.messages[name]
        error = gui_message(error) if error else None
        label.setText(error or "")
        label.setVisible(error is not None)
        return error

    def input_errors(self) -> dict[str, str]:
        """Problems found before a run: each field's value, then input volumes that are
        missing or not on one grid, and input files that do not exist; shown in red."""
        errors = self.errors()
        if self.project is None or errors:
            return errors
        for p in self.module.all_params:
            value = self.fields[p.name].value()
            if not value:
                continue
            problem = None
            if p.kind in ("volume", "volumes"):
                problem = check_input_volumes(self.project, [value] if p.kind == "volume" else value, p.name)
            elif p.kind == "file" and not p.output and not self._file_exists(value):
                problem = (f"'{value}' (parameter '{p.name}') does not exist in the project {self.project.root}; "
                           f"choose it with Browse.")
            if problem:
                errors[p.name] = self._show(p.name, problem)
        return errors

    def _file_exists(self, value: str) -> bool:
        p = self.project.resolve(value)
        named = Path(value)
        return p.exists() or (not named.is_absolute() and (self.project.training_dir / named).exists())

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
        if name in TRAINING_SOURCES:
            self._fill_from_training(name)
        if self.module.param(name).kind == "volumes" and self.project is not None:
            self._offer_attributes()
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

    from aaspi_py.framework.registry import get_module

    from .qt import application

    app = application()
    form = ParamForm(get_module(sys.argv[1] if len(sys.argv) > 1 else "segy_import"),
                     Project.open(sys.argv[2]) if len(sys.argv) > 2 else None)
    form.resize(600, 500)
    form.show()
    app.exec_()
