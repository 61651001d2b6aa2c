"""Slice viewer: inline / crossline / time slices of any volume, with an optional overlay.

Used by the results views (and run alone for a quick look:
``python -m aaspi_py.gui.slice_viewer PROJECT [VOLUME [OVERLAY]]``). Amplitude in a
seismic colour map with a symmetric percentile clip, class volumes in a discrete palette
with a legend (facies colours from the project's facies files), probability and other
attributes with a colour bar, and a result co-rendered over amplitude with an opacity.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.volume import open_volume

from .display_controls import DisplayControls
from .qt import Qt, QtWidgets, Signal
from .slice_plot import DIRECTIONS, PALETTE, Layer, SlicePlot, axis_names, read_slice, slice_title

NONE = "(none)"


def direction_label(direction: str, ds=None) -> str:
    if direction != "sample":
        return direction
    return ds["sample"].attrs.get("domain", "time") if ds is not None else "time"


class LineSelector(QtWidgets.QWidget):
    """Spin box + slider over the line numbers (or sample times) of one axis."""

    index_changed = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.coords = np.array([0.0])
        self.spin = QtWidgets.QDoubleSpinBox()
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(80)
        self.slider = QtWidgets.QSlider(Qt.Horizontal)
        self.slider.setMinimumWidth(140)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.spin)
        lay.addWidget(self.slider, 1)
        self.spin.valueChanged.connect(self._spin_changed)
        self.slider.valueChanged.connect(self._slider_changed)

    def set_coords(self, coords: np.ndarray, index: int | None = None) -> None:
        """New line numbers; the line shown stays when they are the same as before."""
        coords = np.asarray(coords, dtype=float)
        if index is None and coords.shape == self.coords.shape and np.array_equal(coords, self.coords):
            index = self.index
        self.coords = coords
        whole = bool(np.all(np.mod(self.coords, 1) == 0))
        step = abs(float(self.coords[1] - self.coords[0])) if len(self.coords) > 1 else 1.0
        self.blockSignals(True)
        for w in (self.spin, self.slider):
            w.blockSignals(True)
        self.spin.setDecimals(0 if whole else 3)
        self.spin.setRange(float(self.coords.min()), float(self.coords.max()))
        self.spin.setSingleStep(step)
        self.slider.setRange(0, len(self.coords) - 1)
        for w in (self.spin, self.slider):
            w.blockSignals(False)
        self.blockSignals(False)
        self.set_index(len(self.coords) // 2 if index is None else index, force=True)

    @property
    def index(self) -> int:
        return self.slider.value()

    @property
    def line(self) -> float:
        return float(self.coords[self.index])

    def set_index(self, index: int, force: bool = False) -> None:
        index = int(np.clip(index, 0, len(self.coords) - 1))
        changed = force or index != self.slider.value()
        for w in (self.spin, self.slider):
            w.blockSignals(True)
        self.slider.setValue(index)
        self.spin.setValue(float(self.coords[index]))
        for w in (self.spin, self.slider):
            w.blockSignals(False)
        if changed:
            self.index_changed.emit(index)

    def set_line(self, line: float) -> None:
        self.set_index(int(np.argmin(np.abs(self.coords - float(line)))))

    def _spin_changed(self, value: float) -> None:
        self.set_line(value)

    def _slider_changed(self, index: int) -> None:
        self.set_index(index, force=True)


def facies_colors(project: Project | None) -> dict[str, str]:
    """Facies name → colour, from the project's facies files (the library's one source)."""
    from aaspi_py.training.polygons import facies_colors as colors

    return colors(project) if project is not None else {}


class SliceViewer(QtWidgets.QWidget):
    """Choose a volume, an overlay, a direction and a line; see the slice."""

    def __init__(self, project: Project | None = None, volumes: dict[str, Path] | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.paths: dict[str, Path] = {}
        self._cache: dict[str, tuple] = {}
        self.base_combo = QtWidgets.QComboBox()
        self.overlay_combo = QtWidgets.QComboBox()
        self.opacity = QtWidgets.QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.direction = QtWidgets.QComboBox()
        for d in DIRECTIONS:
            self.direction.addItem(direction_label(d), d)
        self.line = LineSelector()
        self.plot = SlicePlot()
        self.display = DisplayControls(self.plot)
        self.legend = QtWidgets.QLabel()
        self.legend.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.legend.setMinimumWidth(110)
        self.message = QtWidgets.QLabel()
        self.message.setStyleSheet("color: #c0392b;")

        for combo in (self.base_combo, self.overlay_combo):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToContents)
        self.opacity.setMinimumWidth(90)
        layers = QtWidgets.QHBoxLayout()
        for text, w in (("Volume", self.base_combo), ("over it", self.overlay_combo), ("opacity", self.opacity)):
            layers.addWidget(QtWidgets.QLabel(text))
            layers.addWidget(w)
        layers.addStretch(1)
        where = QtWidgets.QHBoxLayout()
        where.addWidget(QtWidgets.QLabel("Slice"))
        where.addWidget(self.direction)
        where.addWidget(self.line, 1)
        where.addWidget(self.display)
        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addWidget(self.legend)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(layers)
        lay.addLayout(where)
        lay.addLayout(body, 1)
        lay.addWidget(self.plot.readout)
        lay.addWidget(self.message)

        self.base_combo.currentIndexChanged.connect(self._volume_changed)
        self.overlay_combo.currentIndexChanged.connect(self.refresh)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.direction.currentIndexChanged.connect(self._direction_changed)
        self.line.index_changed.connect(self.refresh)
        if volumes is None and project is not None:
            volumes = {n: project.volume_path(n) for n in project.volumes()}
        self.set_volumes(volumes or {})

    # -- volumes
    def set_volumes(self, volumes: dict[str, str | os.PathLike]) -> None:
        self.paths = {k: Path(v) for k, v in volumes.items()}
        for combo, extra in ((self.base_combo, []), (self.overlay_combo, [NONE])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(extra + list(self.paths))
            combo.blockSignals(False)
        self._volume_changed()

    def show_volumes(self, base: str | None, overlay: str | None = None, opacity: float | None = None) -> None:
        """Select what to draw (names of :meth:`set_volumes`)."""
        self.overlay_combo.blockSignals(True)
        self.overlay_combo.setCurrentText(overlay or NONE)
        self.overlay_combo.blockSignals(False)
        if opacity is not None:
            self.opacity.blockSignals(True)
            self.opacity.setValue(int(round(opacity * 100)))
            self.opacity.blockSignals(False)
        if base is not None and base != self.base_combo.currentText():
            self.base_combo.setCurrentText(base)
        else:
            self.refresh()

    def set_slice(self, direction: str, line: float | None = None) -> None:
        self.direction.setCurrentIndex(DIRECTIONS.index(direction))
        if line is not None:
            self.line.set_line(line)

    def dataset(self, name: str):
        if name not in self._cache:
            ds = open_volume(self.paths[name])
            self._cache[name] = (ds, Layer(ds, facies_colors(self.project), name=name))
        return self._cache[name]

    # -- drawing
    def _volume_changed(self, *_args) -> None:
        self._direction_changed()

    def _direction_changed(self, *_args) -> None:
        name = self.base_combo.currentText()
        if not name:
            return
        ds, _ = self.dataset(name)
        d = self.direction.currentData()
        self.direction.setItemText(2, direction_label("sample", ds))
        same = len(self.line.coords) == ds.sizes[d] and np.allclose(self.line.coords, ds[d].values)
        if same:
            self.refresh()
        else:
            self.line.set_coords(ds[d].values)  # emits index_changed → refresh

    def _opacity_changed(self, value: int) -> None:
        self.plot.overlay.setOpacity(value / 100)

    def refresh(self, *_args) -> None:
        name = self.base_combo.currentText()
        if not name:
            return
        self.message.clear()
        try:
            ds, layer = self.dataset(name)
            d, index = self.direction.currentData(), self.line.index
            sl = read_slice(ds, d, index)
            overlay = None
            over = self.overlay_combo.currentText()
            if over not in ("", NONE):
                ods, olayer = self.dataset(over)
                if ods["data"].shape != ds["data"].shape:
                    self.message.setText(f"'{over}' is not on the grid of '{name}'; not drawn over it.")
                else:
                    overlay = (read_slice(ods, d, index), olayer)
            self.plot.show_slice(sl, layer, axis_names(ds, d), overlay, self.opacity.value() / 100,
                                 where=slice_title(sl, ds))
            self.display.sync()
            self._legend(layer, sl.image, overlay)
        except AaspiError as e:
            self.message.setText(str(e))

    def _legend(self, layer: Layer, image: np.ndarray, overlay) -> None:
        rows = []
        pairs = [(layer, image)] + ([(overlay[1], overlay[0].image)] if overlay else [])
        for lay, img in pairs:
            if lay.classes:
                for k in lay.class_numbers(img):
                    color = lay.colors.get(k, PALETTE[(k - 1) % len(PALETTE)])
                    name = lay.names.get(k, "")
                    rows.append(f"<tr><td style='background:{color}'>&nbsp;&nbsp;&nbsp;&nbsp;</td>"
                                f"<td>&nbsp;{k} {name}</td></tr>")
        self.legend.setText(f"<b>classes</b><table>{''.join(rows)}</table>" if rows else "")
        self.legend.setVisible(bool(rows))


if __name__ == "__main__":
    import sys

    from .qt import application

    app = application()
    proj = Project.open(sys.argv[1] if len(sys.argv) > 1 else ".")
    viewer = SliceViewer(proj)
    if len(sys.argv) > 2:
        viewer.show_volumes(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    viewer.resize(1000, 650)
    viewer.show()
    app.exec_()
