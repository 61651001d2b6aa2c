"""The define_training_data window: pick facies polygons on slices, then generate the
training file.

Page "Pick polygons" follows the course notes' steps: (1) choose a volume, (2) a slice
direction and number, (3) Execute plots the slice; (4) click vertices, double-click to
close, drag a vertex to edit it, Undo; (5) Save Polygon to New File (asks the facies name,
default ``polygon``), (6-7) Add Polygon to Current File, rename the facies, (8) Clear
Polygon. Saved polygons of every facies on the shown slice are drawn in their colours.
Page "Generate Training File": (9) ordered facies, (10) ordered attributes, (11) Execute,
then the voxel counts per facies and polygon.

Every operation is a call of the define_training_data API (:mod:`aaspi_py.polygons`) or a
run of the module; the window only maps the mouse to survey coordinates and draws.
"""

from __future__ import annotations

from aaspi_py import polygons as api
from aaspi_py.errors import AaspiError
from aaspi_py.project import Project
from aaspi_py.registry import get_module
from aaspi_py.volume import open_volume

from .module_window import ModulePanel
from .polygon_editor import PolygonEditor
from .qt import Qt, QtGui, QtWidgets, pg
from .slice_plot import DIRECTIONS, Layer, SlicePlot, axis_names, read_slice
from .slice_viewer import LineSelector, direction_label

PICK_VOLUME = "amplitude"


def _swatch(color: str) -> QtGui.QIcon:
    pix = QtGui.QPixmap(14, 14)
    pix.fill(QtGui.QColor(color or "#888888"))
    return QtGui.QIcon(pix)


class PickPage(QtWidgets.QWidget):
    """Slice plot, the polygon being drawn, and the facies files of the project."""

    def __init__(self, project: Project | None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.shown: tuple[str, str, float] | None = None    # volume, slice, line on the plot
        self._saved_items: list = []

        self.volume = QtWidgets.QComboBox()
        self.volume.setMinimumContentsLength(14)
        self.direction = QtWidgets.QComboBox()
        for d in DIRECTIONS:
            self.direction.addItem(direction_label(d), d)
        self.line = LineSelector()
        self.execute_button = QtWidgets.QPushButton("Execute")
        self.plot = SlicePlot()
        self.editor = PolygonEditor(self.plot)

        self.facies = QtWidgets.QListWidget()
        self.facies.setFixedWidth(260)
        self.save_new_button = QtWidgets.QPushButton("Save Polygon to New File")
        self.add_button = QtWidgets.QPushButton("Add Polygon to Current File")
        self.clear_button = QtWidgets.QPushButton("Clear Polygon")
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.rename_button = QtWidgets.QPushButton("Rename Facies…")
        self.generate_button = QtWidgets.QPushButton("Generate Training File ›")
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        hint = QtWidgets.QLabel("Click to add vertices, double-click to close, drag a vertex to move it.")
        hint.setWordWrap(True)
        hint.setMaximumWidth(260)
        hint.setStyleSheet("color: #555;")

        top = QtWidgets.QHBoxLayout()
        for text, w in (("Volume", self.volume), ("Slice", self.direction)):
            top.addWidget(QtWidgets.QLabel(text))
            top.addWidget(w)
        top.addWidget(self.line, 1)
        top.addWidget(self.execute_button)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(QtWidgets.QLabel("Facies files (current is selected)"))
        side.addWidget(self.facies, 1)
        for b in (self.save_new_button, self.add_button, self.clear_button, self.undo_button,
                  self.rename_button):
            side.addWidget(b)
        side.addWidget(hint)
        side.addStretch(1)
        side.addWidget(self.generate_button)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.plot, 1)
        left.addWidget(self.status)
        body = QtWidgets.QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(side)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(body, 1)

        self.execute_button.clicked.connect(self.plot_slice)
        self.volume.currentIndexChanged.connect(self._axis_changed)
        self.direction.currentIndexChanged.connect(self._axis_changed)
        self.line.index_changed.connect(self._line_changed)
        self.save_new_button.clicked.connect(lambda: self.save_to_new_file())
        self.add_button.clicked.connect(self.add_to_current_file)
        self.clear_button.clicked.connect(self.editor.clear)
        self.undo_button.clicked.connect(self.editor.undo)
        self.rename_button.clicked.connect(lambda: self.rename_facies())
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
        return item.data(Qt.UserRole) if item is not None else None

    def refresh_facies(self, select: str | None = None) -> None:
        select = select or self.current_facies
        self.facies.clear()
        if self.project is None:
            return
        for name in api.list_facies(self.project):
            try:
                ff = api.read_facies(self.project, name)
                n = len(ff.polygons)
                text, color = f"{ff.facies}  ({n} polygon{'s' if n != 1 else ''})", ff.color
            except AaspiError:
                text, color = f"{name}  (unreadable)", ""
            item = QtWidgets.QListWidgetItem(_swatch(color), text)
            item.setData(Qt.UserRole, name)
            self.facies.addItem(item)
            if name == select:
                self.facies.setCurrentItem(item)

    # -- slices
    def volume_layer(self, name: str) -> tuple:
        """The volume and how it is drawn (its clip is measured once per volume)."""
        if name not in self._volumes:
            ds = open_volume(self.project.volume_path(name))
            self._volumes[name] = (ds, Layer(ds))
        return self._volumes[name]

    def _axis_changed(self, *_args) -> None:
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
            self.plot_slice()

    def _line_changed(self, _index: int) -> None:
        if self.shown is not None:  # once a slice is up, browsing redraws at once
            self.plot_slice()

    def slice_key(self) -> tuple[str, float]:
        d = self.direction.currentData()
        line = self.line.line
        return d, (float(line) if d == "sample" else int(round(line)))

    def plot_slice(self) -> None:
        """Execute: draw the chosen slice and the saved polygons on it."""
        name = self.volume.currentText()
        if self.project is None or not name:
            self.say("Choose a project with at least one volume first.", error=True)
            return
        d, line = self.slice_key()
        ds, layer = self.volume_layer(name)
        self.plot.show_slice(read_slice(ds, d, self.line.index), layer, axis_names(ds, d))
        if self.shown is None or self.shown[1:] != (d, line):
            self.editor.reset()
        self.shown = (name, d, line)
        self.draw_saved()

    def draw_saved(self) -> None:
        """The polygons of every facies on the shown slice, in the facies' colours."""
        for item in self._saved_items:
            self.plot.removeItem(item)
        self._saved_items = []
        if self.shown is None:
            return
        _, d, line = self.shown
        for ff, poly in api.polygons_on_slice(self.project, d, line):
            color = QtGui.QColor(ff.color or "#888888")
            fill = QtGui.QColor(color)
            fill.setAlpha(60)
            shape = QtWidgets.QGraphicsPolygonItem(QtGui.QPolygonF([pg.Point(x, y) for x, y in poly.vertices]))
            shape.setPen(pg.mkPen(color, width=2.5))
            shape.setBrush(pg.mkBrush(fill))
            shape.setZValue(3)
            label = pg.TextItem(f"{ff.facies} {poly.id}", color=color, anchor=(0, 1), fill=(255, 255, 255, 170))
            label.setPos(*poly.vertices[0])
            label.setZValue(4)
            for item in (shape, label):
                self.plot.addItem(item)
                self._saved_items.append(item)

    # -- the buttons
    def _polygon(self) -> tuple[str, float, list] | None:
        if self.shown is None:
            self.say("Execute first to plot a slice, then click the vertices.", error=True)
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
        self.refresh_facies(select=ff.facies)
        self.draw_saved()
        return self.say(f"renamed facies {old} to {ff.facies}") or True

    def _saved(self, facies: str, message: str) -> None:
        self.editor.reset()
        self.refresh_facies(select=facies)
        self.draw_saved()
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
