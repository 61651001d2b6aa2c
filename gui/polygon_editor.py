"""The polygon being drawn on a slice plot: click to add a vertex, double-click to close,
drag a vertex to move it, click on an edge of a closed polygon to insert a vertex there,
Ctrl+click a vertex to delete it, undo.

Mouse positions are mapped to survey coordinates of the slice (see
:mod:`.slice_plot`), so vertices are never pixels. The editor only holds the drawing;
checking and saving a polygon are the define_training_data API's job
(:mod:`aaspi_py.training.polygons`).
"""

from __future__ import annotations

from .qt import Qt, QtCore, Signal, pg

#: vertices are stored to this many decimals (1/1000 of a line or of a ms is plenty)
DECIMALS = 3
#: a click this close to an edge of a closed polygon (screen pixels) inserts a vertex
EDGE_PIXELS = 7.0


class _Handles(pg.ScatterPlotItem):
    """Vertex handles that can be dragged."""

    def __init__(self, editor: PolygonEditor) -> None:
        super().__init__(size=9, pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush(255, 255, 0, 230))
        self.editor = editor
        self._dragging: int | None = None

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        if ev.button() != Qt.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            hits = self.pointsAt(ev.buttonDownPos())
            if len(hits) == 0:
                ev.ignore()
                return
            self._dragging = int(hits[0].index())
            self.editor.begin_change()
        elif self._dragging is None:
            ev.ignore()
            return
        pos = ev.pos()
        self.editor.move_vertex(self._dragging, pos.x(), pos.y(), record=False)
        if ev.isFinish():
            self._dragging = None
        ev.accept()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        # a click on a handle must not add a vertex there; a double-click still closes
        hits = self.pointsAt(ev.pos()) if ev.button() == Qt.LeftButton else []
        if len(hits):
            if ev.modifiers() & Qt.ControlModifier:
                self.editor.delete_vertex(int(hits[0].index()))
            elif ev.double():
                self.editor.close()
            ev.accept()
        else:
            ev.ignore()


class PolygonEditor(QtCore.QObject):
    """Vertices of one polygon in survey coordinates, drawn on a :class:`SlicePlot`."""

    changed = Signal()

    def __init__(self, plot: pg.PlotWidget) -> None:
        super().__init__(plot)
        self.plot = plot
        self.vertices: list[tuple[float, float]] = []
        self.closed = False
        self._history: list[tuple[list, bool]] = []
        self.edges = pg.PlotCurveItem(pen=pg.mkPen("k", width=2, style=Qt.DashLine))
        self.handles = _Handles(self)
        for z, item in ((5, self.edges), (6, self.handles)):
            item.setZValue(z)
            plot.addItem(item)
        plot.scene().sigMouseClicked.connect(self._clicked)

    # -- mouse
    def _clicked(self, ev) -> None:
        if ev.button() != Qt.LeftButton or ev.isAccepted():
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return  # a click on an axis or the colour bar
        p = vb.mapSceneToView(ev.scenePos())
        if ev.double():
            self.close()
        elif self.closed:
            edge = self._edge_near(ev.scenePos())
            if edge is None:
                return  # not on this polygon: leave the click to others (e.g. selection)
            self.insert_vertex(edge + 1, p.x(), p.y())
        else:
            self.add_vertex(p.x(), p.y())
        ev.accept()

    def _edge_near(self, scene_pos) -> int | None:
        """Index i of the edge (vertex i → i+1) within EDGE_PIXELS of a scene point."""
        vb = self.plot.getPlotItem().getViewBox()
        pts = [vb.mapViewToScene(QtCore.QPointF(x, y)) for x, y in self.vertices]
        best, best_d = None, EDGE_PIXELS
        for i, a in enumerate(pts):
            b = pts[(i + 1) % len(pts)]
            d = _segment_distance(scene_pos, a, b)
            if d <= best_d:
                best, best_d = i, d
        return best

    # -- edits (each one can be undone)
    def begin_change(self) -> None:
        self._history.append((list(self.vertices), self.closed))

    def add_vertex(self, x: float, y: float) -> bool:
        if self.closed:
            return False
        self.begin_change()
        self.vertices.append((round(float(x), DECIMALS), round(float(y), DECIMALS)))
        self._update()
        return True

    def move_vertex(self, index: int, x: float, y: float, record: bool = True) -> None:
        if record:
            self.begin_change()
        self.vertices[index] = (round(float(x), DECIMALS), round(float(y), DECIMALS))
        self._update()

    def insert_vertex(self, index: int, x: float, y: float) -> None:
        self.begin_change()
        self.vertices.insert(index, (round(float(x), DECIMALS), round(float(y), DECIMALS)))
        self._update()

    def delete_vertex(self, index: int) -> bool:
        """Remove one vertex; a closed polygon keeps at least three."""
        if not 0 <= index < len(self.vertices) or (self.closed and len(self.vertices) <= 3):
            return False
        self.begin_change()
        del self.vertices[index]
        self._update()
        return True

    def remove_last(self) -> bool:
        """Backspace: reopen a closed polygon, else remove the last vertex."""
        if self.closed:
            self.begin_change()
            self.closed = False
            self._update()
            return True
        return self.delete_vertex(len(self.vertices) - 1)

    def close(self) -> bool:
        if self.closed or len(self.vertices) < 3:
            return False
        self.begin_change()
        self.closed = True
        self._update()
        return True

    def clear(self) -> None:
        if self.vertices:
            self.begin_change()
        self.vertices, self.closed = [], False
        self._update()

    def undo(self) -> bool:
        if not self._history:
            return False
        self.vertices, self.closed = self._history.pop()
        self._update()
        return True

    def reset(self) -> None:
        """Forget the drawing and its history (it was saved)."""
        self.vertices, self.closed, self._history = [], False, []
        self._update()

    @property
    def can_undo(self) -> bool:
        return bool(self._history)

    def state(self) -> tuple[list, bool, list]:
        """The drawing with its undo history, to put it aside while another slice is shown."""
        return list(self.vertices), self.closed, list(self._history)

    def restore(self, state: tuple[list, bool, list] | None) -> None:
        """Bring back a drawing put aside with :meth:`state` (``None``: an empty drawing)."""
        self.vertices, self.closed, self._history = (list(state[0]), state[1], list(state[2])) \
            if state else ([], False, [])
        self._update()

    def _update(self) -> None:
        xs = [v[0] for v in self.vertices]
        ys = [v[1] for v in self.vertices]
        if self.closed:
            xs, ys = xs + xs[:1], ys + ys[:1]
        style = Qt.SolidLine if self.closed else Qt.DashLine
        self.edges.setPen(pg.mkPen("k", width=2, style=style))
        self.edges.setData(xs, ys)
        self.handles.setData([v[0] for v in self.vertices], [v[1] for v in self.vertices])
        self.changed.emit()


def _segment_distance(p, a, b) -> float:
    """Distance from point p to segment ab (QPointF)."""
    ax, ay, bx, by, px, py = a.x(), a.y(), b.x(), b.y(), p.x(), p.y()
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


if __name__ == "__main__":
    from .qt import application

    app = application()
    plot = pg.PlotWidget()
    plot.setRange(xRange=(0, 10), yRange=(0, 10))
    editor = PolygonEditor(plot)
    editor.changed.connect(lambda: plot.setTitle(f"{len(editor.vertices)} vertices, closed={editor.closed}"))
    plot.resize(700, 600)
    plot.show()
    app.exec_()
