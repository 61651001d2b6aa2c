"""A module's window: the generated parameter form, Execute, progress, live log, Cancel,
Save/Load parameters, and the results view.

Execute runs the module in a separate process through the code path of ``aaspi run``
(:class:`.run_process.RunProcess`), so the window stays responsive; Cancel stops the run
and the runner leaves no half output.
"""

from __future__ import annotations

from pathlib import Path

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project
from aaspi_py.framework.registry import Module
from aaspi_py.training.volume_catalog import earlier_outputs

from .param_form import ParamForm
from .qt import Qt, QtGui, QtWidgets, Signal
from .results_view import ResultsView
from .run_process import RunProcess
from .wording import gui_message

#: the status line shows at most this height; a longer message (a list of 37 volume
#: names) scrolls inside it instead of squeezing the form
STATUS_MAX_HEIGHT = 84

SCHEDULERS = ("threads", "processes", "local:2")


class ModulePanel(QtWidgets.QWidget):
    """Form + run controls + log; ``results`` shows what a finished run wrote."""

    run_done = Signal(dict)
    run_failed = Signal(str)   # a failed or cancelled run (nothing was written)

    def __init__(self, module: Module, project: Project | None = None, project_name: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.module = module
        self.project = project
        self.form = ParamForm(module, project)
        if project_name and "project_name" in self.form.fields and project is not None \
                and project_name != project.name:
            self.form.fields["project_name"].set_value(project_name)
        self.runner = RunProcess(self)

        self.load_button = QtWidgets.QPushButton("Load parameters…")
        self.save_button = QtWidgets.QPushButton("Save parameters…")
        self.execute_button = QtWidgets.QPushButton("Execute")
        self.execute_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.overwrite = QtWidgets.QCheckBox("Overwrite existing outputs")
        self.scheduler = QtWidgets.QComboBox()
        self.scheduler.setEditable(True)
        self.scheduler.addItems(SCHEDULERS)
        self.scheduler.setToolTip("Where dask work runs: threads, processes, local:N or tcp://host:port")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.status_area = QtWidgets.QScrollArea()
        self.status_area.setWidget(self.status)
        self.status_area.setWidgetResizable(True)
        self.status_area.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.status_area.setMaximumHeight(STATUS_MAX_HEIGHT)
        self.status_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.log.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.results = ResultsView(project)

        description = QtWidgets.QLabel(module.description)
        description.setWordWrap(True)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        files = QtWidgets.QHBoxLayout()
        files.addWidget(self.load_button)
        files.addWidget(self.save_button)
        files.addStretch(1)
        options = QtWidgets.QHBoxLayout()
        options.addWidget(self.overwrite)
        options.addStretch(1)
        options.addWidget(QtWidgets.QLabel("Scheduler"))
        options.addWidget(self.scheduler)
        run = QtWidgets.QHBoxLayout()
        run.addWidget(self.execute_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress, 1)
        left = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(left)
        lay.addWidget(description)
        lay.addLayout(files)
        lay.addWidget(scroll, 3)
        lay.addLayout(options)
        lay.addLayout(run)
        lay.addWidget(self.status_area)
        lay.addWidget(QtWidgets.QLabel("Log"))
        lay.addWidget(self.log, 1)
        left.setMinimumWidth(430)
        # explicit minimums: what a finished run shows must not stop the window shrinking
        self.results.setMinimumSize(320, 240)
        split = QtWidgets.QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(self.results)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([450, 800])
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(split)

        self.execute_button.clicked.connect(self.execute)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button.clicked.connect(self._save_clicked)
        self.load_button.clicked.connect(self._load_clicked)
        self.runner.progress.connect(self._progress)
        self.runner.log.connect(self.log.appendPlainText)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.finished.connect(lambda: self._running(False))

    # -- project
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.form.set_project(project)
        self.results.project = project

    # -- run
    def execute(self) -> bool:
        """Start a run if the parameters are valid; False (and a message) otherwise."""
        if self.runner.running:
            return False
        if self.project is None:
            return self._say("Choose a project folder in the launcher first.", error=True)
        problems = self.form.input_errors()
        if problems:
            first = next(iter(problems))
            self.form.fields[first].setFocus()
            many = len(problems) > 1
            return self._say(f"Not started: {len(problems)} parameter{'s are' if many else ' is'} not valid "
                             f"(in red); '{first}': {problems[first]}", error=True)
        values = self.form.checked_values()
        if values is None:
            return self._say("Some parameters are not valid: see the messages in red.", error=True)
        earlier = self.earlier_outputs(values)
        if earlier and not self.overwrite.isChecked():
            names = ", ".join(p.name for p in earlier[:4]) + (f", … ({len(earlier)} in all)" if len(earlier) > 4 else "")
            return self._say(f"Not started: outputs of an earlier run would be replaced ({names}); tick Overwrite "
                             f"existing outputs, or change the Suffix.", error=True)
        self.progress.setValue(0)
        self.log.clear()
        self.results.clear_results(f"{self.module.id} is running; its results appear here when it has finished.")
        self._running(True)
        self._say(f"running {self.module.id}…")
        self.runner.start(self.module.id, self.project.root, values, overwrite=self.overwrite.isChecked(),
                          scheduler=self.scheduler.currentText().strip() or "threads")
        return True

    def earlier_outputs(self, values: dict) -> list[Path]:
        """Outputs of an earlier run with this project name and suffix (the run would refuse them)."""
        run_name = f"{values.get('project_name') or self.project.name}{values.get('suffix') or ''}"
        found = earlier_outputs(self.project, self.module.id, run_name)
        # define_training_data writes training/<name>/ rather than <module>_<what>_<run name>
        if self.module.id == "define_training_data" and values.get("name"):
            folder = self.project.training_dir / values["name"]
            found += [folder] if folder.exists() else []
        return found

    def cancel(self) -> None:
        self._say("cancelling…")
        self.runner.cancel()

    def _running(self, running: bool) -> None:
        self.execute_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.load_button.setEnabled(not running)

    def _progress(self, fraction: float, status: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if status:
            self.status.setText(status)

    def _done(self, result: dict) -> None:
        self.progress.setValue(1000)
        self._say(f"done in {result.get('seconds', 0):.1f} s; {len(result.get('outputs', {}))} outputs")
        self.form.set_project(self.project)  # new volumes become choices
        self.results.show_result(result, self.project)
        self.run_done.emit(result)

    def _failed(self, message: str) -> None:
        self.progress.setValue(0)
        self._say(message, error=True)
        self.results.clear_results("The run failed; nothing was written. The message is under the progress bar.")
        self.log.appendPlainText(f"error: {message}")
        self.run_failed.emit(message)

    def _cancelled(self) -> None:
        self.progress.setValue(0)
        self._say("cancelled: nothing was written.")
        self.results.clear_results("The run was cancelled; nothing was written.")
        self.run_failed.emit("cancelled")

    def _say(self, text: str, error: bool = False) -> bool:
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        self.status.setText(gui_message(text))
        return False

    # -- parameter files
    def _save_clicked(self) -> None:
        start = str((self.project.root if self.project else Path.cwd()) / f"{self.module.id}.toml")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save parameters", start, "TOML (*.toml)")
        if path:
            self.save_parameters(path)

    def _load_clicked(self) -> None:
        start = str(self.project.root if self.project else Path.cwd())
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load parameters", start, "TOML (*.toml);;All files (*)")
        if path:
            self.load_parameters(path)

    def save_parameters(self, path: str | Path) -> bool:
        try:
            self.form.save(path)
        except AaspiError as e:
            return self._say(str(e), error=True)
        self._say(f"parameters saved to {path}")
        return True

    def load_parameters(self, path: str | Path) -> bool:
        try:
            self.form.load(path)
        except AaspiError as e:
            return self._say(str(e), error=True)
        self._say(f"parameters loaded from {path}")
        return True

    def stop(self, wait_ms: int = 10000) -> None:
        """Cancel a running run and wait for it to clean up (then kill as a last resort)."""
        if self.runner.running:
            self.runner.cancel()
            if not self.runner.wait(wait_ms):
                self.runner.kill()


class ModuleWindow(QtWidgets.QMainWindow):
    """A top-level window around a :class:`ModulePanel`."""

    def __init__(self, module: Module, project: Project | None = None, project_name: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{module.id} — {module.title}")
        self.panel = ModulePanel(module, project, project_name)
        self.setCentralWidget(self.panel)
        self.setMinimumSize(780, 480)
        self.resize(1250, 780)

    def set_project(self, project: Project | None) -> None:
        self.panel.set_project(project)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.panel.stop()
        super().closeEvent(event)


if __name__ == "__main__":
    import sys

    from aaspi_py.framework.registry import get_module

    from .qt import application

    app = application()
    win = ModuleWindow(get_module(sys.argv[1] if len(sys.argv) > 1 else "volume_info"),
                       Project.open(sys.argv[2]) if len(sys.argv) > 2 else None)
    win.show()
    app.exec_()
