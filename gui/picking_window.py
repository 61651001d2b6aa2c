"""The define_training_data window: pick facies polygons on slices, then generate the
training file.

Page "Pick polygons" follows the course notes' steps: (1) choose a volume, (2) a slice
direction and number, (3) Execute plots the slice; (4) click vertices, double-click (or
Enter) to close, drag a vertex to edit it, Undo; (5) Save Polygon to New File (asks the
facies name, default ``polygon``), (6-7) Add Polygon to Current File, rename the facies,
(8) Clear Polygon. Saved polygons of every facies on the shown slice are drawn in their
colours; the list beside the plot holds every facies with its polygons (slice and line),
from which a polygon is selected, shown ("Go to Slice"), edited or deleted, with undo.
Page "Generate Training File": (9) ordered facies, (10) ordered attributes, (11) Execute,
then the voxel counts per facies and polygon.

Choices written down here because an interpreter relies on them:

- A polygon being drawn is never lost by browsing: when another slice is shown it is put
  aside with its undo history and comes back when its slice is shown again.
- Only a closed polygon is saved; an open one gets a message saying how to close it.
- The view fits the slice when the direction or volume changes and on Execute; stepping
  lines keeps the zoom. Fit view (button, Home) shows the whole slice.
- Keys: Ctrl+Z undo, Backspace remove the last vertex (reopens a closed polygon), Delete
  the selected saved polygon (else the last vertex), Enter close, Esc cancel the drawing
  (or the edit), Home fit view.

Every operation is a call of the define_training_data API (:mod:`aaspi_py.training.polygons`) or a
run of the module; the window only maps the mouse to survey coordinates and draws.
"""

from __future__ import annotations

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.framework.registry import get_module
from aaspi_py.training import polygons as api
from aaspi_py.volume import open_volume

from .display_controls import DisplayControls
from .module_window import ModulePanel
from .polygon_editor import PolygonEditor
from .qt import Qt, QtGui, QtWidgets, pg
from .slice_plot import DIRECTIONS, Layer, SlicePlot, axis_names, read_slice, slice_title
from .slice_viewer import LineSelector, direction_label

PICK_VOLUME = "amplitude"
SIDE_WIDTH = 280


def _swatch(color: str) -> QtGui.QIcon:
    pix = QtGui.QPixmap(14, 14)
    pix.fill(QtGui.QColor(color or "#888888"))
    return QtGui.QIcon(pix)


def _where(slice_: str, line: float) -> str:
    return f"{'time' if slice_ == 'sample' else slice_} {api.fmt_number(line)}"


class _Label(pg.TextItem):
    """A polygon's label on the plot; a click on it selects the polygon."""

    def __init__(self, text: str, color, on_click) -> None:
        super().__init__(text, color=color, anchor=(0.5, 0.5), fill=(255, 255, 255, 190))
        self._on_click = on_click

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.LeftButton:
            self._on_click()
            ev.accept()


def _label_positions(centres: list[tuple[float, float]], plot: SlicePlot) -> list[tuple[float, float]]:
    """Label anchors at the polygon centres, moved apart (in screen pixels) where two would
    overlap, so labels of neighbouring polygons stay readable."""
    vb = plot.getPlotItem().getViewBox()
    placed: list = []
    out = []
    for x, y in centres:
        p = vb.mapViewToScene(pg.Point(x, y))
        while any(abs(p.x() - q.x()) < 70 and abs(p.y() - q.y()) < 16 for q in placed):
            p = pg.Point(p.x(), p.y() + 17)
        placed.append(p)
        v = vb.mapSceneToView(p)
        out.append((v.x(), v.y()))
    return out



class PickPage(QtWidgets.QWidget):
    """Slice plot, the polygon being drawn, and the facies files of the project."""

    def __init__(self, project: Project | None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.shown: tuple[str, str, float] | None = None    # volume, slice, line on the plot
        self._saved_items: list = []
        #: drawings put aside per slice (direction, line): editor state and edit target
        self.drafts: dict[tuple[str, float], tuple] = {}
        #: the saved polygon loaded in the editor, (facies, id), while it is edited
        self.editing: tuple[str, int] | None = None
        #: the saved polygon selected in the list or on the plot
        self.selected: tuple[str, int] | None = None
        #: undo of changes to saved polygons: ("delete", facies, Polygon) / ("edit", facies, Polygon)
        self.history: list[tuple[str, str, api.Polygon]] = []

        self.volume = QtWidgets.QComboBox()
        self.volume.setMinimumContentsLength(14)
        self.direction = QtWidgets.QComboBox()
        for d in DIRECTIONS:
            self.direction.addItem(direction_label(d), d)
        self.line = LineSelector()
        self.execute_button = QtWidgets.QPushButton("Execute")
        self.plot = SlicePlot()
        self.display = DisplayControls(self.plot)
        self.editor = PolygonEditor(self.plot)

        self.facies = QtWidgets.QTreeWidget()
        self.facies.setHeaderHidden(True)
        self.facies.setFixedWidth(SIDE_WIDTH)
        self.save_new_button = QtWidgets.QPushButton("Save Polygon to New File")
        self.add_button = QtWidgets.QPushButton("Add Polygon to Current File")
        self.save_edit_button = QtWidgets.QPushButton("Save Edited Polygon")
        self.clear_button = QtWidgets.QPushButton("Clear Polygon")
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last change (Ctrl+Z)")
        self.rename_button = QtWidgets.QPushButton("Rename Facies…")
        self.goto_button = QtWidgets.QPushButton("Go to Slice")
        self.edit_button = QtWidgets.QPushButton("Edit")
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected saved polygon (Delete key); Undo brings it back")
        self.generate_button = QtWidgets.QPushButton("Generate Training File ›")
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.drafts_label = QtWidgets.QLabel()
        self.drafts_label.setWordWrap(True)
        self.drafts_label.setStyleSheet("color: #8a5a00;")
        hint = QtWidgets.QLabel("Click to add vertices; double-click or Enter closes. Drag a vertex to "
                                "move it, click an edge to insert one, Ctrl+click a vertex to delete it. "
                                "Backspace, Esc, Ctrl+Z, Home (fit view).")
        hint.setWordWrap(True)
        hint.setMaximumWidth(SIDE_WIDTH)
        hint.setStyleSheet("color: #555;")

        top = QtWidgets.QHBoxLayout()
        for text, w in (("Volume", self.volume), ("Slice", self.direction)):
            top.addWidget(QtWidgets.QLabel(text))
            top.addWidget(w)
        top.addWidget(self.line, 1)
        top.addWidget(self.execute_button)
        view_row = QtWidgets.QHBoxLayout()
        view_row.addWidget(self.plot.readout, 1)
        view_row.addWidget(self.display)
        polygon_buttons = QtWidgets.QHBoxLayout()
        for b in (self.goto_button, self.edit_button, self.delete_button):
            polygon_buttons.addWidget(b)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(QtWidgets.QLabel("Facies files and their polygons"))
        side.addWidget(self.facies, 1)
        side.addLayout(polygon_buttons)
        for b in (self.save_new_button, self.add_button, self.save_edit_button, self.clear_button,
                  self.undo_button, self.rename_button):
            side.addWidget(b)
        side.addWidget(hint)
        side.addWidget(self.generate_button)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(view_row)
        left.addWidget(self.plot, 1)
        left.addWidget(self.drafts_label)
        left.addWidget(self.status)
        body = QtWidgets.QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(side)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(body, 1)
        self.setMinimumSize(820, 520)

        self.execute_button.clicked.connect(lambda: self.plot_slice(fit=True))
        self.volume.currentIndexChanged.connect(self._volume_changed)
        self.direction.currentIndexChanged.connect(self._axis_changed)
        self.line.index_changed.connect(self._line_changed)
        self.save_new_button.clicked.connect(lambda: self.save_to_new_file())
        self.add_button.clicked.connect(self.add_to_current_file)
        self.save_edit_button.clicked.connect(self.save_edit)
        self.clear_button.clicked.connect(self.editor.clear)
        self.undo_button.clicked.connect(self.undo)
        self.rename_button.clicked.connect(lambda: self.rename_facies())
        self.goto_button.clicked.connect(lambda: self.go_to_selected())
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.facies.currentItemChanged.connect(self._tree_selection)
        self.facies.itemDoubleClicked.connect(lambda *_: self.go_to_selected())
        self.editor.changed.connect(self._buttons)
        self.set_project(project)

    # -- project and facies files
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self._volumes: dict[str, tuple] = {}
        names = project.volumes() if project else []
        self.volume.blockSignals(True)
        self.volume.clear()
        self.volume.addItems(names)
        if PICK_VOLUME in names:
            self.volume.setCurrentText(PICK_VOLUME)
        self.volume.blockSignals(False)
        self.refresh_facies()
        self._axis_changed()

    @property
    def current_facies(self) -> str | None:
        item = self.facies.currentItem()
        if item is None:
            return None
        return item.data(0, Qt.UserRole)[1]

    def refresh_facies(self, select: str | tuple[str, int] | None = None) -> None:
        """Fill the list: each facies (colour, polygon count) with its polygons (slice, line)."""
        select = select or (self.selected if self.selected else self.current_facies)
        self.facies.blockSignals(True)
        self.facies.clear()
        current = None
        for name in api.list_facies(self.project) if self.project is not None else []:
            try:
                ff = api.read_facies(self.project, name)
            except AaspiError:
                item = QtWidgets.QTreeWidgetItem([f"{name}  (unreadable)"])
                item.setData(0, Qt.UserRole, ("facies", name))
                self.facies.addTopLevelItem(item)
                continue
            n = len(ff.polygons)
            item = QtWidgets.QTreeWidgetItem([f"{ff.facies}  ({n} polygon{'s' if n != 1 else ''})"])
            item.setIcon(0, _swatch(ff.color))
            item.setData(0, Qt.UserRole, ("facies", name))
            self.facies.addTopLevelItem(item)
            if select == name:
                current = item
            for poly in ff.polygons:
                child = QtWidgets.QTreeWidgetItem(
                    [f"{_where(poly.slice, poly.line)}  #{poly.id}  ({len(poly.vertices)} vertices)"])
                child.setData(0, Qt.UserRole, ("polygon", name, poly.id))
                item.addChild(child)
                if select == (name, poly.id):
                    current = child
            item.setExpanded(True)
        if current is not None:
            self.facies.setCurrentItem(current)
        self.facies.blockSignals(False)
        self._tree_selection(self.facies.currentItem())

    def _tree_selection(self, item, *_args) -> None:
        data = item.data(0, Qt.UserRole) if item is not None else None
        new = (data[1], data[2]) if data and data[0] == "polygon" else None
        if new != self.selected:
            self.selected = new
            self.draw_saved()
        self._buttons()

    def select_polygon(self, facies: str, polygon_id: int) -> None:
        """Select a saved polygon (as a click on it in the list or on its label does)."""
        for i in range(self.facies.topLevelItemCount()):
            top = self.facies.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, Qt.UserRole)[1:] == (facies, polygon_id):
                    self.facies.setCurrentItem(top.child(j))
                    return

    def _buttons(self) -> None:
        has = self.selected is not None
        for b in (self.goto_button, self.edit_button, self.delete_button):
            b.setEnabled(has)
        self.save_edit_button.setVisible(self.editing is not None)
        self.undo_button.setEnabled(self.editor.can_undo or bool(self.history))

    # -- slices
    def volume_layer(self, name: str) -> tuple:
        """The volume and how it is drawn (its clip is measured once per volume)."""
        if name not in self._volumes:
            ds = open_volume(self.project.volume_path(name))
            self._volumes[name] = (ds, Layer(ds, name=name))
        return self._volumes[name]

    def _volume_changed(self, *_args) -> None:
        self._axis_changed(fit=True)

    def _axis_changed(self, *_args, fit: bool = False) -> None:
        name = self.volume.currentText()
        if not name or self.project is None:
            return
        try:
            ds, _ = self.volume_layer(name)
        except AaspiError as e:
            self.say(str(e), error=True)
            return
        d = self.direction.currentData()
        self.direction.setItemText(2, direction_label("sample", ds))
        self.line.blockSignals(True)
        self.line.set_coords(ds[d].values)
        self.line.blockSignals(False)
        if self.shown is not None:
            self.plot_slice(fit=fit)

    def _line_changed(self, _index: int) -> None:
        if self.shown is not None:  # once a slice is up, browsing redraws at once
            self.plot_slice()

    def slice_key(self) -> tuple[str, float]:
        d = self.direction.currentData()
        line = self.line.line
        return d, (float(line) if d == "sample" else int(round(line)))

    def plot_slice(self, fit: bool = False) -> None:
        """Execute: draw the chosen slice and the saved polygons on it.

        A drawing in progress is put aside with its undo history and brought back when its
        slice is shown again. ``fit`` fits the view to the slice (it is fitted anyway when
        the direction or the slice size changes)."""
        name = self.volume.currentText()
        if self.project is None or not name:
            self.say("Choose a project with at least one volume first.", error=True)
            return
        d, line = self.slice_key()
        ds, layer = self.volume_layer(name)
        sl = read_slice(ds, d, self.line.index)
        self.plot.show_slice(sl, layer, axis_names(ds, d), fit=fit, where=slice_title(sl, ds))
        self.display.sync()
        old = self.shown[1:] if self.shown is not None else None
        if old is not None and old != (d, line):
            self._put_aside(old)
            self._bring_back((d, line))
        self.shown = (name, d, line)
        self.draw_saved()

    def _put_aside(self, key: tuple[str, float]) -> None:
        if self.editor.vertices or self.editing is not None:
            self.drafts[key] = (self.editor.state(), self.editing)
            self.say(f"The unsaved polygon on {_where(*key)} is kept; it comes back when you show that slice.")
        self.editor.restore(None)
        self.editing = None
        self._show_drafts()

    def _bring_back(self, key: tuple[str, float]) -> None:
        state, editing = self.drafts.pop(key, (None, None))
        if state is not None:
            self.editor.restore(state)
            self.editing = editing
            self.say(f"Your unsaved polygon on {_where(*key)} is back.")
        self._show_drafts()

    def _show_drafts(self) -> None:
        keys = sorted(self.drafts, key=lambda k: (DIRECTIONS.index(k[0]), k[1]))
        self.drafts_label.setText("Unsaved polygons on: " + ", ".join(_where(*k) for k in keys) if keys else "")
        self.drafts_label.setVisible(bool(keys))
        self._buttons()

    def fit_view(self) -> None:
        self.plot.fit_view()

    def draw_saved(self) -> None:
        """The polygons of every facies on the shown slice, in the facies' colours; the
        selected one drawn thicker, the one being edited left to the editor."""
        for item in self._saved_items:
            self.plot.removeItem(item)
        self._saved_items = []
        if self.shown is None or self.project is None:
            return
        _, d, line = self.shown
        shown = [(ff, poly) for ff, poly in api.polygons_on_slice(self.project, d, line)
                 if (ff.facies, poly.id) != self.editing]
        centres = [tuple(np.mean(poly.array, axis=0)) for _, poly in shown]
        for (ff, poly), (lx, ly) in zip(shown, _label_positions(centres, self.plot)):
            selected = (ff.facies, poly.id) == self.selected
            color = QtGui.QColor(ff.color or "#888888")
            fill = QtGui.QColor(color)
            fill.setAlpha(90 if selected else 60)
            shape = QtWidgets.QGraphicsPolygonItem(QtGui.QPolygonF([pg.Point(x, y) for x, y in poly.vertices]))
            pen = pg.mkPen(color, width=4.5 if selected else 2.5)
            pen.setCosmetic(True)
            shape.setPen(pen)
            shape.setBrush(pg.mkBrush(fill))
            shape.setZValue(3)
            label = _Label(f"{ff.facies} {poly.id}", color,
                           lambda f=ff.facies, i=poly.id: self.select_polygon(f, i))
            label.setPos(lx, ly)
            label.setZValue(4)
            for item in (shape, label):
                self.plot.addItem(item)
                self._saved_items.append(item)

    # -- saved polygons: go to, edit, delete, undo
    def _selected_polygon(self) -> tuple[api.FaciesFile, api.Polygon] | None:
        if self.selected is None:
            self.say("Select a polygon in the list (or click its label on the plot) first.", error=True)
            return None
        ff = api.read_facies(self.project, self.selected[0])
        return ff, ff.polygon(self.selected[1])

    def go_to_selected(self) -> bool:
        """Show the slice of the selected polygon, fitted."""
        found = self._selected_polygon()
        if found is None:
            return False
        _, poly = found
        self.direction.blockSignals(True)
        self.direction.setCurrentIndex(DIRECTIONS.index(poly.slice))
        self.direction.blockSignals(False)
        self._axis_changed()
        self.line.blockSignals(True)
        self.line.set_line(poly.line)
        self.line.blockSignals(False)
        self.plot_slice(fit=True)
        return True

    def edit_selected(self) -> bool:
        """Load the selected saved polygon into the editor (its slice is shown first)."""
        found = self._selected_polygon()
        if found is None:
            return False
        ff, poly = found
        if self.shown is None or self.shown[1:] != (poly.slice, poly.line):
            self.go_to_selected()
        if self.editor.vertices:
            return self.say("Save or clear the polygon being drawn on this slice before editing another.",
                            error=True)
        self.editing = (ff.facies, poly.id)
        self.editor.restore((list(poly.vertices), True, []))
        self.draw_saved()
        self._buttons()
        return self.say(f"Editing {ff.facies} polygon {poly.id}: drag, insert or delete vertices, then "
                        f"Save Edited Polygon (Esc cancels).") or True

    def save_edit(self) -> bool:
        if self.editing is None:
            return self.say("No saved polygon is being edited.", error=True)
        if not self.editor.closed:
            return self.say("The polygon is not closed: double-click the last vertex or press Enter, then save.",
                            error=True)
        facies, pid = self.editing
        try:
            old = api.read_facies(self.project, facies).polygon(pid)
            api.replace_polygon(self.project, facies, pid, list(self.editor.vertices), volume=self.shown[0])
        except AaspiError as e:
            return self.say(str(e), error=True)
        self.history.append(("edit", facies, old))
        self.editing = None
        self._saved(facies, f"saved the edited polygon {pid} of {facies}", select=(facies, pid))
        return True

    def delete_selected(self) -> bool:
        """Delete the selected saved polygon (Undo puts it back)."""
        found = self._selected_polygon()
        if found is None:
            return False
        ff, poly = found
        try:
            api.delete_polygon(self.project, ff.facies, poly.id)
        except AaspiError as e:
            return self.say(str(e), error=True)
        self.history.append(("delete", ff.facies, poly))
        if self.editing == (ff.facies, poly.id):
            self.editing = None
            self.editor.restore(None)
        self.selected = None
        self._saved(ff.facies, f"deleted {ff.facies} polygon {poly.id} ({_where(poly.slice, poly.line)}); "
                               f"Undo brings it back")
        return True

    def undo(self) -> bool:
        """Undo the last change of the drawing, else the last edit or delete of a saved polygon."""
        if self.editor.can_undo:
            return self.editor.undo()
        if not self.history:
            return self.say("Nothing to undo.") or False
        what, facies, poly = self.history.pop()
        try:
            if what == "delete":
                api.restore_polygon(self.project, facies, poly)
                message = f"polygon {poly.id} of {facies} is back"
            else:
                api.replace_polygon(self.project, facies, poly.id, poly.vertices)
                message = f"undid the edit of {facies} polygon {poly.id}"
        except AaspiError as e:
            return self.say(str(e), error=True)
        self._saved(facies, message, select=(facies, poly.id), reset=False)
        return True

    def cancel_drawing(self) -> None:
        """Esc: stop editing a saved polygon (unchanged), or clear the drawing (undoable)."""
        if self.editing is not None:
            facies, pid = self.editing
            self.editing = None
            self.editor.restore(None)
            self.draw_saved()
            self._buttons()
            self.say(f"edit of {facies} polygon {pid} cancelled; it is unchanged")
        else:
            self.editor.clear()

    # -- keyboard
    def keyPressEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        key = ev.key()
        if ev.matches(QtGui.QKeySequence.Undo):
            self.undo()
        elif key == Qt.Key_Backspace:
            self.editor.remove_last()
        elif key == Qt.Key_Delete:
            if self.selected is not None and not self.editor.vertices:
                self.delete_selected()
            else:
                self.editor.remove_last()
        elif key in (Qt.Key_Return, Qt.Key_Enter):
            if not self.editor.close() and not self.editor.closed:
                self.say("A polygon needs at least three vertices to be closed.", error=True)
        elif key == Qt.Key_Escape:
            self.cancel_drawing()
        elif key == Qt.Key_Home:
            self.fit_view()
        else:
            super().keyPressEvent(ev)
            return
        ev.accept()

    # -- the buttons
    def _polygon(self) -> tuple[str, float, list] | None:
        if self.shown is None:
            self.say("Execute first to plot a slice, then click the vertices.", error=True)
            return None
        if not self.editor.vertices:
            self.say("Draw a polygon first: click its vertices on the slice.", error=True)
            return None
        if not self.editor.closed:
            self.say("The polygon is not closed: double-click the last vertex or press Enter, then save.",
                     error=True)
            return None
        _, d, line = self.shown
        return d, line, list(self.editor.vertices)

    def save_to_new_file(self, facies: str | None = None) -> bool:
        """Save Polygon to New File (asks the facies name, default ``polygon``)."""
        poly = self._polygon()
        if poly is None:
            return False
        if facies is None:
            facies, ok = QtWidgets.QInputDialog.getText(self, "Save Polygon to New File", "Facies name:",
                                                        text=api.DEFAULT_FACIES)
            if not ok:
                return False
        try:
            ff = api.save_polygon_to_new_file(self.project, *poly, facies=facies.strip(),
                                              volume=self.shown[0])
        except AaspiError as e:
            return self.say(str(e), error=True)
        self.editing = None
        self._saved(ff.facies, f"saved polygon 1 to new facies file {ff.facies}")
        return True

    def add_to_current_file(self) -> bool:
        poly = self._polygon()
        if poly is None:
            return False
        facies = self.current_facies
        if facies is None:
            return self.say("Select the current facies file in the list (or save to a new file).", error=True)
        try:
            new = api.add_polygon(self.project, facies, *poly, volume=self.shown[0])
        except AaspiError as e:
            return self.say(str(e), error=True)
        self.editing = None
        self._saved(facies, f"added polygon {new.id} to {facies}")
        return True

    def rename_facies(self, new: str | None = None) -> bool:
        old = self.current_facies
        if old is None:
            return self.say("Select the facies to rename in the list.", error=True)
        if new is None:
            new, ok = QtWidgets.QInputDialog.getText(self, "Rename facies", f"New name of '{old}':", text=old)
            if not ok:
                return False
        try:
            ff = api.rename_facies(self.project, old, new.strip())
        except AaspiError as e:
            return self.say(str(e), error=True)
        self.selected = None
        self.refresh_facies(select=ff.facies)
        self.draw_saved()
        return self.say(f"renamed facies {old} to {ff.facies}") or True

    def _saved(self, facies: str, message: str, select=None, reset: bool = True) -> None:
        if reset:
            self.editor.reset()
        self.refresh_facies(select=select or facies)
        self.draw_saved()
        self._buttons()
        self.say(message)

    def say(self, text: str, error: bool = False) -> bool:
        self.status.setStyleSheet("color: #c0392b;" if error else "color: #1e6e32;")
        self.status.setText(text)
        return False


class PickingWindow(QtWidgets.QMainWindow):
    """define_training_data: the picking page and the Generate Training File page."""

    def __init__(self, project: Project | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("define_training_data — pick facies polygons")
        self.pick = PickPage(project)
        self.generate = ModulePanel(get_module("define_training_data"), project)
        self.counts: QtWidgets.QTableWidget | None = None
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.pick, "Pick polygons")
        self.tabs.addTab(self.generate, "Generate Training File")
        self.setCentralWidget(self.tabs)
        self.resize(1250, 780)
        self.pick.generate_button.clicked.connect(lambda: self.tabs.setCurrentWidget(self.generate))
        self.tabs.currentChanged.connect(self._page_changed)
        self.generate.run_done.connect(self._show_counts)

    def set_project(self, project: Project | None) -> None:
        self.pick.set_project(project)
        self.generate.set_project(project)

    def _page_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.generate:
            self.generate.set_project(self.pick.project)  # facies saved meanwhile become choices

    def _show_counts(self, result: dict) -> None:
        """Voxels per facies and per polygon, from the run's report."""
        report = result.get("report", {})
        rows = []
        for facies, n in report.get("counts", {}).items():
            rows.append((facies, "all", n))
            rows += [(facies, pid, c) for pid, c in report.get("polygon_counts", {}).get(facies, {}).items()]
        # a new table each run: the results view drops its tabs when the next run ends
        self.counts = QtWidgets.QTableWidget(len(rows), 3)
        self.counts.setHorizontalHeaderLabels(["facies", "polygon", "voxels"])
        self.counts.horizontalHeader().setStretchLastSection(True)
        self.counts.verticalHeader().hide()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QtWidgets.QTableWidgetItem(str(value))
                if c == 2:
                    item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
                if row[1] == "all":
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.counts.setItem(r, c, item)
        self.generate.results.insertTab(0, self.counts, "Voxel counts")
        self.generate.results.setCurrentWidget(self.counts)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.generate.stop()
        super().closeEvent(event)


if __name__ == "__main__":
    import sys

    from .qt import application

    app = application()
    win = PickingWindow(Project.open(sys.argv[1] if len(sys.argv) > 1 else "."))
    win.show()
    app.exec_()
