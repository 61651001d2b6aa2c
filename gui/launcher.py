"""``aaspi-util``: the launcher, in the spirit of AASPI's aaspi_util.

Project folder and project name at the top; one tab per category ("Utilities",
"Volumetric Attributes", "Image Processing", "Volumetric Classification") listing every
installed module (built-in or third-party, from the ``aaspi_py.modules`` entry points) as a
button with its one-line description. A button opens the module's generated window, or its
own window when the module declares one (define_training_data → the picking window).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import PROJECT_FILE, Project
from aaspi_py.framework.registry import CATEGORIES, Module, load_modules

from .qt import QtWidgets, application


def _special_windows() -> dict:
    from .picking_window import PickingWindow

    return {"define_training_data": PickingWindow}


class Launcher(QtWidgets.QMainWindow):
    """Project chooser + module tabs; keeps one window per module."""

    def __init__(self, project: str | Path | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("aaspi-util")
        self.project: Project | None = None
        self.modules: dict[str, Module] = load_modules()
        self.windows: dict[str, QtWidgets.QWidget] = {}
        self.buttons: dict[str, QtWidgets.QPushButton] = {}

        self.folder = QtWidgets.QLineEdit()
        self.folder.setPlaceholderText("project folder (holds aaspi_project.toml)")
        browse = QtWidgets.QPushButton("Browse…")
        self.name = QtWidgets.QLineEdit()
        self.name.setToolTip("Unique project name: the default tail of every output name")
        self.name.setMaximumWidth(200)
        self.info = QtWidgets.QLabel()
        self.info.setStyleSheet("color: #555;")
        top = QtWidgets.QGridLayout()
        top.addWidget(QtWidgets.QLabel("Project folder"), 0, 0)
        top.addWidget(self.folder, 0, 1)
        top.addWidget(browse, 0, 2)
        top.addWidget(QtWidgets.QLabel("Project name"), 0, 3)
        top.addWidget(self.name, 0, 4)
        top.addWidget(self.info, 1, 1, 1, 4)

        self.tabs = QtWidgets.QTabWidget()
        for category in CATEGORIES:
            self.tabs.addTab(self._tab([m for m in self.modules.values() if m.category == category]), category)

        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.addLayout(top)
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.setMinimumSize(620, 320)
        self.resize(860, 440)

        browse.clicked.connect(self._browse)
        self.folder.returnPressed.connect(lambda: self.set_project(self.folder.text()))
        if project is not None:
            self.set_project(project)

    def _tab(self, modules: list[Module]) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(page)
        grid.setColumnStretch(1, 1)
        for row, m in enumerate(modules):
            button = QtWidgets.QPushButton(m.id)
            button.setObjectName(f"module_{m.id}")
            button.setMinimumWidth(190)
            button.setToolTip(m.title)
            button.clicked.connect(lambda _=False, mid=m.id: self.open_module(mid))
            text = QtWidgets.QLabel(m.description)
            text.setWordWrap(True)
            grid.addWidget(button, row, 0)
            grid.addWidget(text, row, 1)
            self.buttons[m.id] = button
        if not modules:
            grid.addWidget(QtWidgets.QLabel("No module installed in this category yet."), 0, 0, 1, 2)
        grid.setRowStretch(max(len(modules), 1), 1)
        return page

    def tab_modules(self, category: str) -> list[str]:
        """Module ids listed in a tab, in order."""
        page = self.tabs.widget(CATEGORIES.index(category))
        return [b.text() for b in page.findChildren(QtWidgets.QPushButton)]

    # -- project
    def _browse(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Project folder", self.folder.text() or str(Path.cwd()))
        if path:
            self.set_project(path, ask_create=True)

    def set_project(self, path: str | Path, ask_create: bool = False) -> bool:
        path = Path(path).expanduser()
        if not (path / PROJECT_FILE).exists() and ask_create:
            answer = QtWidgets.QMessageBox.question(
                self, "New project", f"{path} is not an aaspi_py project yet. Create one there?")
            if answer != QtWidgets.QMessageBox.Yes:
                return False
            Project.create(path)
        try:
            self.project = Project.open(path)
        except AaspiError as e:
            self.info.setText(str(e))
            self.info.setStyleSheet("color: #c0392b;")
            return False
        self.folder.setText(str(self.project.root))
        self.name.setText(self.project.name)
        self.refresh_info()
        for w in self.windows.values():
            w.set_project(self.project)
        return True

    def refresh_info(self) -> None:
        """Count the project's volumes, facies files and training sets again (after a run,
        or when the launcher comes back to the front after picking)."""
        if self.project is None:
            return
        self.info.setStyleSheet("color: #555;")
        vols, facies = self.project.volumes(), self.project.facies()
        self.info.setText(f"{len(vols)} volumes, {len(facies)} facies files, "
                          f"{len(self.project.training_sets())} training sets")

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == event.ActivationChange and self.isActiveWindow():
            self.refresh_info()
        super().changeEvent(event)

    # -- module windows
    def open_module(self, module_id: str) -> QtWidgets.QWidget:
        """Show the module's window (made on first use)."""
        win = self.windows.get(module_id)
        if win is None:
            module = self.modules[module_id]
            special = _special_windows().get(module.gui or "")
            if special is not None:
                win = special(self.project)
            else:
                from .module_window import ModuleWindow

                win = ModuleWindow(module, self.project, self.name.text().strip())
            panel = getattr(win, "panel", None) or getattr(win, "generate", None)
            if panel is not None:
                panel.run_done.connect(lambda _result: self.refresh_info())
            self.windows[module_id] = win
        win.show()
        win.raise_()
        win.activateWindow()
        return win

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        for w in self.windows.values():
            w.close()
        super().closeEvent(event)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="aaspi-util", description="aaspi_py launcher (Qt).")
    ap.add_argument("project", nargs="?", help="project folder (default: the current folder if it is one)")
    args = ap.parse_args(argv)
    app = application()
    start = args.project or (Path.cwd() if (Path.cwd() / PROJECT_FILE).exists() else None)
    win = Launcher(start)
    win.show()
    return app.exec_()


if __name__ == "__main__":
    raise SystemExit(main())
