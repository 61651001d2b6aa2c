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


def axis_names(ds: xr.Dataset, direction: str) -> tuple[str, str]:
    """Axis titles (x, y) of a slice, with the sample units."""
    units = ds["sample"].attrs.get("units", "ms")
    domain = ds["sample"].attrs.get("domain", "time")
    return {"inline": ("crossline", f"{domain} ({units})"),
            "crossline": ("inline", f"{domain} ({units})"),
            "sample": ("inline", "crossline")}[direction]


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
    """How a volume is drawn: colour map and levels, or class palette."""

    def __init__(self, ds: xr.Dataset, colors: dict[str, str] | None = None) -> None:
        self.kind = ds.attrs.get("kind", "attribute")
        self.classes = self.kind in CLASS_KINDS or np.issubdtype(ds["data"].dtype, np.integer)
        self.names = class_names(ds)
        self.colors: dict[int, str] = {}
        if self.classes:
            by_name = colors or {}
            self.colors = {k: by_name[n] for k, n in self.names.items() if n in by_name}
            return
        sample = _sample_values(ds)
        if self.kind == "probability":
            self.cmap, self.levels = pg.colormap.get("viridis"), (0.0, 1.0)
        elif sample.size and sample.min() < 0 < sample.max():
            clip = float(np.percentile(np.abs(sample), 98)) or 1.0
            self.cmap, self.levels = SEISMIC, (-clip, clip)
        else:
            lo, hi = (np.percentile(sample, [1, 99]) if sample.size else (0.0, 1.0))
            self.cmap, self.levels = pg.colormap.get("viridis"), (float(lo), float(hi) if hi > lo else float(lo) + 1)

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
    """Base image + optional overlay of one slice, axes in survey units."""

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
        self.getPlotItem().hideButtons()

    def show_slice(self, sl: Slice, layer: Layer, xy_names: tuple[str, str],
                   overlay: tuple[Slice, Layer] | None = None, opacity: float = 0.6) -> None:
        first = self.current is None or self.current.direction != sl.direction \
            or self.current.image.shape != sl.image.shape
        self.current = sl
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
        if first:
            pi.getViewBox().autoRange(padding=0.0)

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
            self.getPlotItem().layout.addItem(self.colorbar, 2, 5)
        self.colorbar.setColorMap(layer.cmap)
        self.colorbar.setLevels(values=layer.levels)
        self.colorbar.show()

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
