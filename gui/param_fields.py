"""One input widget per parameter kind (the widgets a parameter form is built from).

Every field has ``value()`` (the raw value, ``None`` when empty), ``set_value(v)`` and a
``changed`` signal. Fields never judge values: the form passes them to the core's
:func:`aaspi_py.framework.params.check_param`, which is also what the CLI uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aaspi_py.framework.params import Param

from .qt import Qt, QtGui, QtWidgets, Signal

_INT_LIMIT = 2**31 - 1
#: file parameters that take a training set (a folder under training/ or a CSV table)
TRAINING_SET_PARAMS = ("training", "training_set")
TRAINING_SET_PATTERN = "Training sets (training_set.json *.csv)"


class _WheelOnlyWhenFocused:
    """Mixin: the mouse wheel over an unfocused field scrolls the form instead of changing
    the value (a value only changes when the user clicked or tabbed into the field)."""

    def _guard_wheel(self) -> None:
        self.setFocusPolicy(Qt.StrongFocus)

    def wheelEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if self.hasFocus():
            super().wheelEvent(ev)
            return
        # hand the wheel to the scroll bar of the enclosing scroll area (an ignored event
        # would reach it too, but only for wheel events from the system)
        w = self.parentWidget()
        while w is not None and not isinstance(w, QtWidgets.QAbstractScrollArea):
            w = w.parentWidget()
        if w is not None:
            QtWidgets.QApplication.sendEvent(w.verticalScrollBar(), ev)
            ev.accept()
        else:
            ev.ignore()


class _Combo(_WheelOnlyWhenFocused, QtWidgets.QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self._guard_wheel()


class Field(QtWidgets.QWidget):
    """Base class: a widget for one parameter."""

    changed = Signal()

    def __init__(self, param: Param, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self._layout = QtWidgets.QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_value(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_choices(self, names: list[str]) -> None:
        """Names a field may offer (the project's volumes or facies)."""


# ---------------------------------------------------------------- numbers

class _IntSpin(_WheelOnlyWhenFocused, QtWidgets.QSpinBox):
    """Arrows stay inside the declared range; a typed value outside it is kept, so the
    form can show the core's message instead of silently clamping."""

    def __init__(self, low: float | None, high: float | None) -> None:
        super().__init__()
        self._guard_wheel()
        self.setRange(-_INT_LIMIT, _INT_LIMIT)
        self.low = -_INT_LIMIT if low is None else int(math.ceil(low))
        self.high = _INT_LIMIT if high is None else int(math.floor(high))

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        self.setValue(min(max(self.value() + steps, self.low), self.high))

    def stepEnabled(self):  # noqa: N802
        flags = QtWidgets.QAbstractSpinBox.StepNone
        if self.value() < self.high:
            flags |= QtWidgets.QAbstractSpinBox.StepUpEnabled
        if self.value() > self.low:
            flags |= QtWidgets.QAbstractSpinBox.StepDownEnabled
        return flags


class _FloatSpin(_WheelOnlyWhenFocused, QtWidgets.QDoubleSpinBox):
    """Shows values as ``%g`` (0.02, 1e-06), steps inside the declared range."""

    def __init__(self, low: float | None, high: float | None, step: float) -> None:
        super().__init__()
        self._guard_wheel()
        self.setDecimals(12)
        self.setRange(-1e300, 1e300)
        self.setSingleStep(step)
        self.low = -math.inf if low is None else float(low)
        self.high = math.inf if high is None else float(high)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.8g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            float(text)
            return QtGui.QValidator.Acceptable, text, pos
        except ValueError:
            partial = text.strip().lower().rstrip("+-e.")
            ok = partial == "" or partial.replace(".", "", 1).replace("e", "", 1).lstrip("+-").isdigit()
            return (QtGui.QValidator.Intermediate if ok else QtGui.QValidator.Invalid), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        self.setValue(min(max(self.value() + steps * self.singleStep(), self.low), self.high))


def _nice_step(param: Param) -> float:
    if param.low is not None and param.high is not None and param.high > param.low:
        span = (param.high - param.low) / 100
    elif isinstance(param.default, int | float) and not isinstance(param.default, bool) and param.default:
        span = abs(param.default) / 10
    else:
        span = 0.1
    exp = math.floor(math.log10(span))
    return min((m * 10.0**exp for m in (1, 2, 5, 10)), key=lambda s: abs(s - span))


class IntField(Field):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.spin = _IntSpin(param.low, param.high)
        start = param.default if isinstance(param.default, int) else max(self.spin.low, 0)
        self.spin.setValue(start)
        self.spin.valueChanged.connect(self.changed)
        self._layout.addWidget(self.spin)
        self._layout.addStretch(1)

    def value(self) -> int:
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.setValue(int(value))


class FloatField(Field):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.spin = _FloatSpin(param.low, param.high, _nice_step(param))
        start = param.default if isinstance(param.default, int | float) else (param.low or 0.0)
        self.spin.setValue(float(start))
        self.spin.valueChanged.connect(self.changed)
        self._layout.addWidget(self.spin)
        self._layout.addStretch(1)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.setValue(float(value))


# ---------------------------------------------------------------- simple widgets

class BoolField(Field):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.box = QtWidgets.QCheckBox()
        self.box.setChecked(bool(param.default) if isinstance(param.default, bool) else False)
        self.box.toggled.connect(self.changed)
        self._layout.addWidget(self.box)
        self._layout.addStretch(1)

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        if isinstance(value, str):
            value = value.strip().lower() in ("true", "yes", "on", "1")
        self.box.setChecked(bool(value))


class ChoiceField(Field):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.combo = _Combo()
        for c in param.choices:
            self.combo.addItem(str(c), c)
        if param.default in param.choices:
            self.combo.setCurrentIndex(param.choices.index(param.default))
        self.combo.currentIndexChanged.connect(self.changed)
        self._layout.addWidget(self.combo)
        self._layout.addStretch(1)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        i = self.combo.findText(str(value))
        if i < 0:  # keep an unknown value visible so the message can name it
            self.combo.addItem(str(value), value)
            i = self.combo.count() - 1
        self.combo.setCurrentIndex(i)


class TextField(Field):
    """Str and Ints (``3,3,3``)."""

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.edit = QtWidgets.QLineEdit()
        if param.kind == "ints":
            self.edit.setPlaceholderText("e.g. 3,3,3")
        if not param.required and param.default is not None:
            self.set_value(param.default)
        self.edit.textChanged.connect(self.changed)
        self._layout.addWidget(self.edit)

    def value(self) -> str | None:
        text = self.edit.text()
        if self.param.kind == "ints" or self.param.required:
            return text.strip() or None
        return text

    def set_value(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        self.edit.setText("" if value is None else str(value))


class VolumeField(Field):
    """A volume of the project (editable: a path to a .zarr elsewhere also works)."""

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.combo = _Combo()
        self.combo.setEditable(True)
        self.combo.setMinimumContentsLength(18)
        self.combo.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.combo.currentTextChanged.connect(self.changed)
        self._layout.addWidget(self.combo, 1)
        if isinstance(param.default, str):
            self.combo.setEditText(param.default)

    def set_choices(self, names: list[str]) -> None:
        current = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(names)
        # a required volume starts on the first one; an optional one keeps its default ("")
        self.combo.setEditText(current if current or not names or not self.param.required else names[0])
        self.combo.blockSignals(False)
        self.changed.emit()

    def value(self) -> str | None:
        return self.combo.currentText().strip() or None

    def set_value(self, value: Any) -> None:
        self.combo.setEditText("" if value is None else str(value))


class FileField(Field):
    """A path (relative to the project when inside it) with a Browse button."""

    def __init__(self, param: Param, parent=None, root: Callable[[], Path | None] = lambda: None) -> None:
        super().__init__(param, parent)
        self._root = root
        self.edit = QtWidgets.QLineEdit()
        if isinstance(param.default, str):
            self.edit.setText(param.default)
        self.edit.textChanged.connect(self.changed)
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self._layout.addWidget(self.edit, 1)
        self._layout.addWidget(browse)

    @property
    def takes_training_set(self) -> bool:
        return self.param.name in TRAINING_SET_PARAMS

    def browse(self) -> None:
        start = str(self._root() or Path.cwd())
        pattern = self.param.pattern or "All files (*)"
        if self.takes_training_set:
            pattern = TRAINING_SET_PATTERN
            training = (self._root() or Path.cwd()) / "training"
            start = str(training if training.is_dir() else start)
        if self.param.output:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, self.param.title, start, pattern)
        else:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, self.param.title, start, pattern)
        if path:
            self.set_value(self.accepted_path(path))

    def accepted_path(self, path: str) -> str:
        """What the field stores for a chosen file: a training set is its folder (the
        dialog shows its ``training_set.json``), relative to the project when inside it."""
        if self.takes_training_set and Path(path).name == "training_set.json":
            path = str(Path(path).parent)
        return _relative(path, self._root())

    def value(self) -> str | None:
        text = self.edit.text().strip()
        return text if text or not self.param.required else None

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))
        self.edit.setCursorPosition(0)  # the start of a path says more than its end


def _relative(path: str, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return path


class ListField(Field):
    """An ordered list (attributes, facies, files) with Add / Remove / Up / Down."""

    def __init__(self, param: Param, parent=None, root: Callable[[], Path | None] = lambda: None) -> None:
        super().__init__(param, parent)
        self._root = root
        self._choices: list[str] = []
        #: why some volumes are not offered (other grid, class volumes), shown in the picker
        self.choices_note = ""
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.list.setMinimumHeight(90)
        self.list.setMaximumHeight(150)
        buttons = QtWidgets.QVBoxLayout()
        for text, slot in (("Add…", self._add_clicked), ("Remove", self.remove_selected),
                           ("Up", lambda: self.move_selected(-1)), ("Down", lambda: self.move_selected(1))):
            b = QtWidgets.QPushButton(text)
            b.setObjectName(f"{param.name}_{text.strip('…').lower()}")
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self._layout.addWidget(self.list, 1)
        self._layout.addLayout(buttons)
        if isinstance(param.default, list | tuple):
            self.set_value(param.default)

    def items(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def set_choices(self, names: list[str]) -> None:
        self._choices = list(names)

    def add_items(self, names: list[str]) -> None:
        self.list.addItems([n for n in names if n])
        self.changed.emit()

    def _add_clicked(self) -> None:
        if self.param.kind == "files":
            paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
                self, self.param.title, str(self._root() or Path.cwd()), self.param.pattern or "All files (*)")
            self.add_items([_relative(p, self._root()) for p in paths])
            return
        picker = self.picker()
        if picker.exec_() == QtWidgets.QDialog.Accepted:
            self.add_items(picker.selected_names())

    def picker(self) -> ChoicePicker:
        """The dialog listing what can still be added (type to filter, select several)."""
        have = set(self.items())
        return ChoicePicker(f"Add to {self.param.title}", [n for n in self._choices if n not in have],
                            note=self.choices_note, parent=self)

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def move_selected(self, step: int) -> None:
        rows = sorted((self.list.row(i) for i in self.list.selectedItems()), reverse=step > 0)
        for row in rows:
            new = row + step
            if 0 <= new < self.list.count():
                self.list.insertItem(new, self.list.takeItem(row))
                self.list.item(new).setSelected(True)
        self.changed.emit()

    def value(self) -> list[str] | None:
        items = self.items()
        return items if items or not self.param.required else None

    def set_value(self, value: Any) -> None:
        self.list.clear()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        self.add_items([str(v) for v in (value or [])])


class ChoicePicker(QtWidgets.QDialog):
    """Names to add to a list: type to filter, select several (Ctrl/Shift+click), OK."""

    def __init__(self, title: str, names: list[str], note: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.filter = QtWidgets.QLineEdit()
        self.filter.setPlaceholderText("type to filter")
        self.filter.setClearButtonEnabled(True)
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.list.addItems(names)
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        select_all = buttons.addButton("Select shown", QtWidgets.QDialogButtonBox.ActionRole)
        select_all.clicked.connect(self.select_shown)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        if not names:
            lay.addWidget(QtWidgets.QLabel("Nothing left to add."))
        if note:
            hint = QtWidgets.QLabel(note)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: #555;")
            lay.addWidget(hint)
        lay.addWidget(buttons)
        self.resize(360, 420)
        self.filter.textChanged.connect(self._filter)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            hide = not all(w in item.text().lower() for w in words)
            item.setHidden(hide)
            if hide:
                item.setSelected(False)

    def shown_names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def select_shown(self) -> None:
        for i in range(self.list.count()):
            self.list.item(i).setSelected(not self.list.item(i).isHidden())

    def selected_names(self) -> list[str]:
        """Selected names in list order (the order of the choices, not of the clicks)."""
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).isSelected() and not self.list.item(i).isHidden()]

    def keyPressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        # Enter in the filter box adds what is selected, or everything shown when nothing is
        if ev.key() in (Qt.Key_Return, Qt.Key_Enter) and not self.list.selectedItems():
            self.select_shown()
        super().keyPressEvent(ev)


def make_field(param: Param, root: Callable[[], Path | None]) -> Field:
    """The widget for a parameter, chosen from its kind."""
    if param.kind in ("volumes", "facies", "files"):
        return ListField(param, root=root)
    if param.kind == "file":
        return FileField(param, root=root)
    return {"int": IntField, "float": FloatField, "bool": BoolField, "choice": ChoiceField,
            "volume": VolumeField}.get(param.kind, TextField)(param)


if __name__ == "__main__":
    from aaspi_py.framework.params import Bool, Choice, Facies, File, Float, Int, Ints, Str, Volume

    from .qt import application

    app = application()
    demo = QtWidgets.QWidget()
    form = QtWidgets.QFormLayout(demo)
    for p in (Int("n", 3, low=1, high=9), Float("f", 0.02, low=0, high=1), Bool("b", True),
              Choice("c", "a", choices=("a", "b")), Str("s", "text"), Ints("w", (3, 3, 3)),
              Volume("v", "amplitude"), File("path", ""), Facies("facies", ("salt", "mtd"))):
        field = make_field(p, root=lambda: None)
        field.set_choices(["amplitude", "envelope", "salt", "mtd", "background"])
        field.changed.connect(lambda f=field: print(f.param.name, "=", f.value()))
        form.addRow(p.title, field)
    demo.show()
    app.exec_()
