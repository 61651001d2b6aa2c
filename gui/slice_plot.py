"""A plot of one slice of a volume, in survey coordinates (line numbers and ms).

Slice directions use the names of the facies files: ``inline`` (x = crossline, y = sample),
``crossline`` (x = inline, y = sample) and ``sample``, the time/depth slice (x = inline,
y = crossline). A point of the plot is therefore directly a polygon vertex ``[x, y]``.

Layers: a base image (seismic colour map with a symmetric percentile clip for signed data,
a sequential map with a colour bar otherwise, a discrete palette for class volumes) and an
optional overlay drawn over it with an opacity (e.g. a classification over amplitude).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .qt import QtCore, QtGui, QtWidgets, pg

DIRECTIONS = ("inline", "crossline", "sample")
CLASS_KINDS = ("classification", "facies")
#: class/facies colours: red, green, blue first (salt, MTD, conformal in the course notes)
PALETTE = ("#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")

SEISMIC = pg.ColorMap([0.0, 0.25, 0.5, 0.75, 1.0],
                      [(0, 0, 110), (40, 80, 230), (255, 255, 255), (230, 40, 30), (110, 0, 0)],
                      name="seismic")
GREYS = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)], name="grey")
#: colour maps offered in the display controls (name → map, made on first use)
COLOR_MAPS = ("seismic", "grey", "viridis", "inferno", "CET-D1")
#: default clip: the 98th percentile of |amplitude| (signed data), 1st-99th otherwise
DEFAULT_CLIP = 98.0


def color_map(name: str) -> pg.ColorMap:
    """A colour map by the name shown in the display controls."""
    return {"seismic": SEISMIC, "grey": GREYS}.get(name) or pg.colormap.get(name)


def axis_names(ds: xr.Dataset, direction: str) -> tuple[str, str]:
    """Axis titles (x, y) of a slice, with the sample units."""
    units = ds["sample"].attrs.get("units", "ms")
    domain = ds["sample"].attrs.get("domain", "time")
    return {"inline": ("crossline", f"{domain} ({units})"),
            "crossline": ("inline", f"{domain} ({units})"),
            "sample": ("inline", "crossline")}[direction]


def slice_title(sl: Slice, ds: xr.Dataset | None = None) -> str:
    """``inline 120``, ``crossline 330`` or ``time 700 ms`` (``depth …`` for depth data)."""
    if sl.direction != "sample":
        return f"{sl.direction} {sl.line:g}"
    attrs = ds["sample"].attrs if ds is not None else {}
    return f"{attrs.get('domain', 'time')} {sl.line:g} {attrs.get('units', 'ms')}"


def slice_dims(direction: str) -> tuple[str, str]:
    """The volume dims along x and y of a slice."""
    return {"inline": ("crossline", "sample"), "crossline": ("inline", "sample"),
            "sample": ("inline", "crossline")}[direction]


@dataclass
class Slice:
    """A slice ready to draw: ``image[row = y, column = x]``, coordinates ascending."""

    image: np.ndarray
    x: np.ndarray
    y: np.ndarray
    direction: str
    line: float

    def rect(self) -> QtCore.QRectF:
        """Pixel centres sit on the coordinates."""
        dx = float(self.x[1] - self.x[0]) if len(self.x) > 1 else 1.0
        dy = float(self.y[1] - self.y[0]) if len(self.y) > 1 else 1.0
        return QtCore.QRectF(self.x[0] - dx / 2, self.y[0] - dy / 2, dx * len(self.x), dy * len(self.y))


def read_slice(ds: xr.Dataset, direction: str, index: int) -> Slice:
    """The slice at position ``index`` along ``direction``; dead traces become NaN (or 0)."""
    data = ds["data"].isel({direction: index})
    mask = ds["trace_mask"]
    mask = mask.isel({direction: index}) if direction != "sample" else mask
    xd, yd = slice_dims(direction)
    values = data.transpose(yd, xd).values
    live = mask.broadcast_like(data).transpose(yd, xd).values if direction != "sample" else mask.transpose(yd, xd).values
    if np.issubdtype(values.dtype, np.integer):
        values = np.where(live, values, 0)
    else:
        values = np.where(live, values.astype(np.float32), np.nan)
    x, y = ds[xd].values, ds[yd].values
    if len(x) > 1 and x[1] < x[0]:
        x, values = x[::-1], values[:, ::-1]
    if len(y) > 1 and y[1] < y[0]:
        y, values = y[::-1], values[::-1]
    return Slice(np.ascontiguousarray(values), x, y, direction, ds[direction].values[index].item())


def class_names(ds: xr.Dataset) -> dict[int, str]:
    """Class number → name, from the volume's attributes when it records them."""
    for key in ("classes", "class_names", "facies"):
        names = ds.attrs.get(key)
        if isinstance(names, dict):
            return {int(k): str(v) for k, v in names.items()}
        if isinstance(names, list | tuple):
            return {i + 1: str(v) for i, v in enumerate(names)}
    return {}


def class_lut(colors: dict[int, str], n: int) -> np.ndarray:
    """RGBA lookup table for classes 0..n-1; class 0 (no class, dead trace) is transparent."""
    lut = np.zeros((max(n, 2), 4), dtype=np.uint8)
    for k in range(1, len(lut)):
        c = QtGui.QColor(colors.get(k, PALETTE[(k - 1) % len(PALETTE)]))
        lut[k] = (c.red(), c.green(), c.blue(), 255)
    return lut


class Layer:
    """How a volume is drawn: colour map and levels, or class palette.

    ``name`` and ``units`` label the colour bar; :meth:`set_clip` and :meth:`set_cmap` are
    the display controls (the clip is a percentile of values read once per volume).
    """

    def __init__(self, ds: xr.Dataset, colors: dict[str, str] | None = None, name: str = "") -> None:
        self.kind = ds.attrs.get("kind", "attribute")
        self.name = name or str(ds.attrs.get("name", "")) or self.kind
        self.units = str(ds.attrs.get("units", "") or "")
        self.classes = self.kind in CLASS_KINDS or np.issubdtype(ds["data"].dtype, np.integer)
        self.names = class_names(ds)
        self.colors: dict[int, str] = {}
        if self.classes:
            by_name = colors or {}
            self.colors = {k: by_name[n] for k, n in self.names.items() if n in by_name}
            return
        self._sample = _sample_values(ds)
        self.signed = bool(self._sample.size and self._sample.min() < 0 < self._sample.max())
        self.cmap_name = "seismic" if self.signed and self.kind != "probability" else "viridis"
        self.cmap = color_map(self.cmap_name)
        self.clip = DEFAULT_CLIP
        self.set_clip(DEFAULT_CLIP)

    @property
    def label(self) -> str:
        """Colour bar title: the volume and its units."""
        return f"{self.name} ({self.units})" if self.units else self.name

    def set_clip(self, percentile: float) -> None:
        """Levels from a percentile: symmetric ±P-th percentile of |value| for signed data,
        the (100-P)-th to P-th percentiles otherwise; probabilities keep 0..1."""
        self.clip = float(percentile)
        sample = self._sample
        if self.kind == "probability":
            self.levels = (0.0, 1.0)
        elif self.signed:
            clip = float(np.percentile(np.abs(sample), percentile)) or 1.0
            self.levels = (-clip, clip)
        else:
            lo, hi = (np.percentile(sample, [100 - percentile, percentile]) if sample.size else (0.0, 1.0))
            self.levels = (float(lo), float(hi) if hi > lo else float(lo) + 1)

    def set_cmap(self, name: str) -> None:
        self.cmap_name, self.cmap = name, color_map(name)

    def class_numbers(self, image: np.ndarray) -> list[int]:
        present = set(np.unique(image).tolist()) - {0}
        return sorted(present | set(self.names))

    def render(self, item: pg.ImageItem, image: np.ndarray) -> None:
        if self.classes:  # paint RGBA directly: exact colours, transparent class 0
            labels = np.clip(image, 0, None).astype(np.intp)
            lut = class_lut(self.colors, int(max(labels.max(initial=0), max(self.names, default=0))) + 1)
            item.setLookupTable(None)
            item.setImage(lut[labels], autoLevels=False, levels=(0, 255))
        else:
            item.setLookupTable(self.cmap.getLookupTable(nPts=256))
            item.setImage(image, levels=self.levels, autoLevels=False)


def _sample_values(ds: xr.Dataset) -> np.ndarray:
    """Live values of the middle inline and crossline: enough for a clip, cheap to read."""
    parts = []
    for dim in ("inline", "crossline"):
        s = read_slice(ds, dim, ds.sizes[dim] // 2).image
        parts.append(s[np.isfinite(s)])
    return np.concatenate(parts)


class SlicePlot(pg.PlotWidget):
    """Base image + optional overlay of one slice, axes in survey units.

    The view is fitted to the slice (not to the items drawn on it, such as polygons of
    another slice) whenever the slice direction or size changes, and on :meth:`fit_view`
    (the Fit view button, the Home key). Stepping to the next line of the same direction
    keeps the zoom, so a body can be followed line by line. ``readout`` says what is under
    the cursor: the slice, both coordinates and the value.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.base = pg.ImageItem()
        self.overlay = pg.ImageItem()
        self.overlay.setZValue(1)
        self.addItem(self.base)
        self.addItem(self.overlay)
        self.colorbar: pg.ColorBarItem | None = None
        self.current: Slice | None = None
        self.layer: Layer | None = None
        self.xy_names: tuple[str, str] = ("x", "y")
        self.where = ""
        self.getPlotItem().hideButtons()
        self.getPlotItem().getViewBox().disableAutoRange()
        self.readout = QtWidgets.QLabel(" ")
        self.readout.setObjectName("readout")
        self.readout.setStyleSheet("color: #333; font-family: monospace;")
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)

    def show_slice(self, sl: Slice, layer: Layer, xy_names: tuple[str, str],
                   overlay: tuple[Slice, Layer] | None = None, opacity: float = 0.6,
                   fit: bool = False, where: str = "") -> None:
        """Draw a slice; the view is fitted when ``fit`` or when the direction or size changed.

        ``where`` names the slice in the cursor readout (``inline 120``, ``time 700 ms``)."""
        fit = fit or self.current is None or self.current.direction != sl.direction \
            or self.current.image.shape != sl.image.shape
        self.current, self.layer, self.xy_names = sl, layer, xy_names
        self.where = where or slice_title(sl)
        layer.render(self.base, sl.image)
        self.base.setRect(sl.rect())
        self._colorbar(None if layer.classes else layer)
        if overlay is not None:
            osl, olayer = overlay
            olayer.render(self.overlay, osl.image)
            self.overlay.setRect(osl.rect())
            self.overlay.setOpacity(opacity)
            self.overlay.show()
            if not olayer.classes:
                self._colorbar(olayer)
        else:
            self.overlay.hide()
        pi = self.getPlotItem()
        pi.setLabel("bottom", xy_names[0])
        pi.setLabel("left", xy_names[1])
        pi.invertY(sl.direction != "sample")
        if fit:
            self.fit_view()

    def redraw(self) -> None:
        """Draw the base image again with its layer's current clip and colour map."""
        if self.current is not None and self.layer is not None:
            self.layer.render(self.base, self.current.image)
            self._colorbar(None if self.layer.classes else self.layer)

    def fit_view(self) -> None:
        """Show the whole slice, and only the slice."""
        if self.current is not None:
            self.getPlotItem().getViewBox().setRange(rect=self.current.rect(), padding=0.0)

    def view_rect(self) -> QtCore.QRectF:
        """The survey area shown (x, y ranges of the view)."""
        (x0, x1), (y0, y1) = self.getPlotItem().getViewBox().viewRange()
        return QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)

    def keyPressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        if ev.key() == QtCore.Qt.Key_Home:
            self.fit_view()
            ev.accept()
        elif ev.key() == QtCore.Qt.Key_Backspace:
            ev.ignore()  # the view box would use it for its zoom history; the window's editor wants it
        else:
            super().keyPressEvent(ev)

    def _colorbar(self, layer: Layer | None) -> None:
        """One colour bar, made once and re-coloured; it is not linked to an image so it
        never rewrites an image's lookup table."""
        if layer is None:
            if self.colorbar is not None:
                self.colorbar.hide()
            return
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=layer.levels, colorMap=layer.cmap, interactive=False,
                                            width=14, colorMapMenu=False)
            self.colorbar.axis.setWidth(62)
            self.getPlotItem().layout.addItem(self.colorbar, 2, 5)
        self.colorbar.setColorMap(layer.cmap)
        self.colorbar.setLevels(values=layer.levels)
        self.colorbar.axis.setLabel(layer.label)
        self.colorbar.show()

    # -- cursor readout
    def voxel_at(self, x: float, y: float) -> tuple[float, float, float] | None:
        """The grid node nearest a survey point and the base image's value there (None
        outside the slice): what the readout shows, so coordinates and value agree."""
        sl = self.current
        if sl is None or not sl.rect().contains(QtCore.QPointF(x, y)):
            return None
        col = int(np.argmin(np.abs(sl.x - x)))
        row = int(np.argmin(np.abs(sl.y - y)))
        return float(sl.x[col]), float(sl.y[row]), sl.image[row, col].item()

    def describe_point(self, x: float, y: float) -> str:
        """``inline 120   crossline 305   time 652 ms   amplitude 0.153`` at the voxel under a point."""
        voxel = self.voxel_at(x, y)
        if voxel is None:
            return ""
        parts = [self.where] if self.where else []
        for name, v in zip(self.xy_names, voxel[:2]):
            label, _, unit = name.partition(" (")
            parts.append(f"{label} {v:g} {unit.rstrip(')')}" if unit else f"{label} {v:g}")
        what = self.layer.name if self.layer is not None else "value"
        value = voxel[2]
        parts.append(f"{what} {value:.4g}" if isinstance(value, float) else f"{what} {value}")
        return "   ".join(parts)

    def _mouse_moved(self, pos) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        x, y = self.pixel_to_view(pos)
        self.readout.setText(self.describe_point(x, y) or " ")

    # -- coordinates
    def view_to_pixel(self, x: float, y: float) -> QtCore.QPoint:
        """Widget pixel of a survey point (what a mouse click at that point would carry)."""
        scene = self.getPlotItem().getViewBox().mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)

    def pixel_to_view(self, pos: QtCore.QPointF) -> tuple[float, float]:
        p = self.getPlotItem().getViewBox().mapSceneToView(pos)
        return p.x(), p.y()


if __name__ == "__main__":
    import sys

    from aaspi_py.volume import open_volume

    from .qt import application

    app = application()
    ds = open_volume(sys.argv[1])  # a volume (.zarr); optional direction and index
    direction = sys.argv[2] if len(sys.argv) > 2 else "inline"
    index = int(sys.argv[3]) if len(sys.argv) > 3 else ds.sizes[direction] // 2
    plot = SlicePlot()
    plot.show_slice(read_slice(ds, direction, index), Layer(ds), axis_names(ds, direction))
    plot.resize(900, 600)
    plot.show()
    app.exec_()
