"""What a run produced: its summary, output volumes in the slice viewer, its PNGs, its record.

``show_result`` takes the ``done`` message of a run (``outputs`` name → path, ``report``,
``log_path``). Class and probability volumes are drawn over the project's amplitude.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.project import Project

from .qt import Qt, QtGui, QtWidgets
from .slice_viewer import SliceViewer

#: volume kinds that read best drawn over amplitude
OVERLAY_KINDS = ("classification", "probability", "facies")
BACKDROP = "amplitude"
MAX_ZOOM = 1.5


class ImageView(QtWidgets.QScrollArea):
    """A PNG scaled to the space available (enlarged at most MAX_ZOOM times)."""

    def __init__(self, path: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.pixmap = QtGui.QPixmap(str(path))
        self.label = QtWidgets.QLabel()
        self.label.setMinimumSize(1, 1)  # the scaled pixmap must not set the window's minimum
        self.label.setAlignment(Qt.AlignCenter)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setAlignment(Qt.AlignCenter)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if not self.pixmap.isNull():
            size = self.viewport().size().boundedTo(self.pixmap.size() * MAX_ZOOM)
            self.label.setPixmap(self.pixmap.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation))


class ResultsView(QtWidgets.QTabWidget):
    """Tabs: Summary, Volumes (slice viewer), one per PNG, Run record."""

    def __init__(self, project: Project | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.viewer: SliceViewer | None = None
        self.images: list[ImageView] = []
        self._placeholder("Results appear here when a run has finished.")

    def _placeholder(self, text: str) -> None:
        hint = QtWidgets.QLabel(text)
        hint.setObjectName("results_placeholder")
        hint.setAlignment(Qt.AlignCenter)
        hint.setWordWrap(True)
        self.addTab(hint, "Results")

    def clear_results(self, placeholder: str = "") -> None:
        """Remove what a run showed (a new run starts: old results must not look like its own)."""
        while self.count():
            w = self.widget(0)
            self.removeTab(0)
            w.deleteLater()
        self.viewer, self.images = None, []
        if placeholder:
            self._placeholder(placeholder)

    def show_result(self, result: dict[str, Any], project: Project | None = None) -> None:
        self.project = project or self.project
        self.clear_results()
        outputs = {k: Path(v) for k, v in result.get("outputs", {}).items()}
        volumes = {k: p for k, p in outputs.items() if p.suffix == ".zarr"}
        pngs = [p for p in outputs.values() if p.suffix.lower() == ".png"]
        self.addTab(self._summary(result, outputs), "Summary")
        if volumes:
            self.viewer = self._viewer(volumes)
            self.addTab(self.viewer, "Volumes")
        for png in pngs:
            view = ImageView(png)
            self.images.append(view)
            self.addTab(view, png.stem.removeprefix(f"{result.get('module', '')}_"))
        for report in (p for p in outputs.values() if p.suffix == ".out" and p.is_file()):
            self.addTab(self._text(report.read_text(encoding="utf-8", errors="replace")), report.name)
        log_path = result.get("log_path")
        if log_path and Path(log_path).exists():
            self.addTab(self._text(Path(log_path).read_text(encoding="utf-8", errors="replace")), "Run record")
        self.setCurrentIndex(1 if volumes or pngs else 0)

    def _summary(self, result: dict[str, Any], outputs: dict[str, Path]) -> QtWidgets.QWidget:
        lines = list(result.get("report", {}).get("summary", []))
        if outputs:
            lines += ["", "outputs:"] + [f"  {name}: {self._short(p)}" for name, p in outputs.items()]
        if "seconds" in result:
            lines.append(f"\nfinished in {result['seconds']:.1f} s")
        return self._text("\n".join(lines))

    @staticmethod
    def _text(text: str) -> QtWidgets.QPlainTextEdit:
        view = QtWidgets.QPlainTextEdit(text)
        view.setReadOnly(True)
        view.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        view.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        return view

    def _short(self, path: Path) -> str:
        if self.project is not None:
            try:
                return self.project.relative(path)
            except AaspiError:
                pass
        return str(path)

    def _viewer(self, volumes: dict[str, Path]) -> SliceViewer:
        """Every project volume can be chosen; the first output is shown, over amplitude
        when it is a class or probability volume."""
        available = {n: self.project.volume_path(n) for n in self.project.volumes()} if self.project else {}
        available.update(volumes)
        viewer = SliceViewer(self.project, available)
        first = next(iter(volumes))
        kind = viewer.dataset(first)[0].attrs.get("kind", "")
        if kind in OVERLAY_KINDS and BACKDROP in available and BACKDROP not in volumes:
            viewer.show_volumes(BACKDROP, first, opacity=0.55)
        else:
            viewer.show_volumes(first)
        return viewer


if __name__ == "__main__":
    import json
    import sys

    from .qt import application

    app = application()
    view = ResultsView(Project.open(sys.argv[1]))
    # a saved 'done' message, or a list of output paths
    arg = sys.argv[2]
    result = json.loads(Path(arg).read_text()) if arg.endswith(".json") else \
        {"outputs": {Path(p).name: p for p in sys.argv[2:]}}
    view.show_result(result)
    view.resize(1000, 700)
    view.show()
    app.exec_()
