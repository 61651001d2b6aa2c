"""Display controls of a slice plot: clip percentile, colour map and Fit view.

The clip and colour map belong to the volume's :class:`~.slice_plot.Layer`, so they stay
with the volume when the slice changes; class volumes have neither (their colours are the
facies colours), so the controls are disabled for them.
"""

from __future__ import annotations

from .qt import QtWidgets
from .slice_plot import COLOR_MAPS, SlicePlot


class DisplayControls(QtWidgets.QWidget):
    """``Clip [98.0] %  Colours [seismic]  [Fit view]`` for one :class:`SlicePlot`."""

    def __init__(self, plot: SlicePlot, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self.clip = QtWidgets.QDoubleSpinBox()
        self.clip.setRange(50.0, 100.0)
        self.clip.setDecimals(1)
        self.clip.setSingleStep(0.5)
        self.clip.setSuffix(" %")
        self.clip.setKeyboardTracking(False)
        self.clip.setToolTip("Clip: percentile of |amplitude| mapped to the ends of the colour bar")
        self.cmap = QtWidgets.QComboBox()
        self.cmap.addItems(COLOR_MAPS)
        self.cmap.setToolTip("Colour map of the slice")
        self.fit_button = QtWidgets.QPushButton("Fit view")
        self.fit_button.setToolTip("Show the whole slice (Home)")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for text, w in (("Clip", self.clip), ("Colours", self.cmap)):
            lay.addWidget(QtWidgets.QLabel(text))
            lay.addWidget(w)
        lay.addWidget(self.fit_button)
        self.clip.valueChanged.connect(self._clip_changed)
        self.cmap.currentTextChanged.connect(self._cmap_changed)
        self.fit_button.clicked.connect(plot.fit_view)

    def sync(self) -> None:
        """Show the shown layer's clip and colour map (after a new slice or volume)."""
        layer = self.plot.layer
        usable = layer is not None and not layer.classes
        for w in (self.clip, self.cmap):
            w.setEnabled(usable)
        if usable:
            for w, set_value in ((self.clip, lambda: self.clip.setValue(layer.clip)),
                                 (self.cmap, lambda: self.cmap.setCurrentText(layer.cmap_name))):
                w.blockSignals(True)
                set_value()
                w.blockSignals(False)

    def _clip_changed(self, value: float) -> None:
        layer = self.plot.layer
        if layer is not None and not layer.classes:
            layer.set_clip(value)
            self.plot.redraw()

    def _cmap_changed(self, name: str) -> None:
        layer = self.plot.layer
        if layer is not None and not layer.classes:
            layer.set_cmap(name)
            self.plot.redraw()
