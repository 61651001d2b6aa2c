"""Screenshots of aaspi-util for the README, taken on the synthetic sample survey.

Run under a real X server, e.g. a virtual one::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py

It builds (or reuses) the "demo" sample project, drives the windows as a user would (mouse
clicks for the polygons, Execute for the runs, which go through the worker process like any
GUI run) and writes docs/launcher.png, docs/picking.png, docs/attribute_selection_results.png
docs/picking_timeslice.png (a time slice shown after an inline: the view fits the new slice)
and docs/rfc3d_results.png. Screens of modules that are not installed are skipped.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from aaspi_py.gui.qt import Qt, QtCore, QTest, QtWidgets, application
from scipy import ndimage

import aaspi_py
from aaspi_py.framework.registry import load_modules

DOCS = Path(__file__).resolve().parent
MAX_BYTES = 300_000
PICK_SAMPLE = 1248.0     # a time slice of the demo survey crossing salt, MTD and layers
FACIES_CODES = {"salt": 1, "mtd": 2, "background": 3}


def save_png(widget: QtWidgets.QWidget, name: str) -> Path:
    """Grab a widget; fall back to a 256-colour PNG when the full-colour one is too big."""
    application().processEvents()
    image = widget.grab().toImage()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    data = bytes(buffer.data())
    if len(data) > MAX_BYTES:
        from PIL import Image

        img = Image.open(io.BytesIO(data)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        img.save(out, "PNG", optimize=True)
        data = out.getvalue()
    path = DOCS / name
    path.write_bytes(data)
    print(f"wrote {path} ({len(data) // 1024} KB, {image.width()}x{image.height()})")
    return path


def wait_for(signal, timeout_s: float = 1800) -> list:
    """Run the event loop until ``signal`` fires; its arguments."""
    loop, got = QtCore.QEventLoop(), []
    signal.connect(lambda *args: (got.extend(args), loop.quit()))
    QtCore.QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec_()
    if not got and signal is not None:
        print("warning: timed out waiting for a run", file=sys.stderr)
    return got


def run_in_window(panel, values: dict) -> dict:
    """Fill the form and press Execute, as a user would; the finished run's result."""
    panel.form.set_values(values)
    panel.overwrite.setChecked(True)
    finished = []
    panel.runner.finished.connect(lambda: finished.append(True))
    panel.runner.failed.connect(lambda msg: print(f"run failed: {msg}", file=sys.stderr))
    if not panel.execute():
        raise SystemExit(f"cannot run {panel.module.id}: {panel.status.text()} {panel.form.errors()}")
    result = wait_for(panel.run_done)
    return result[0] if result else {}


def interior_polygon(labels: np.ndarray, code: int, x: np.ndarray, y: np.ndarray, k: int = 6,
                     region: np.ndarray | bool = True) -> list:
    """A k-gon well inside the largest patch of ``code`` (within ``region``) on a slice
    whose image rows are y."""
    # padded, so the survey's edge counts as a boundary too
    inside = ndimage.distance_transform_edt(np.pad((labels == code) & region, 1))[1:-1, 1:-1]
    r, c = np.unravel_index(np.argmax(inside), inside.shape)
    radius = 0.6 * inside[r, c]
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False) + 0.3
    dx, dy = x[1] - x[0], y[1] - y[0]
    return [(float(x[c] + radius * dx * np.cos(a)), float(y[r] + radius * dy * np.sin(a) * 0.8)) for a in angles]


def click_polygon(page, vertices: list, close: bool = True) -> None:
    viewport = page.plot.viewport()
    for vx, vy in vertices:
        QTest.mouseClick(viewport, Qt.LeftButton, Qt.NoModifier, page.plot.view_to_pixel(vx, vy))
    if close:  # a double-click on the last vertex
        pos = page.plot.view_to_pixel(*vertices[-1])
        QTest.mouseDClick(viewport, Qt.LeftButton, Qt.NoModifier, pos)
        QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, pos)


def select_facies(page, name: str) -> None:
    for i in range(page.facies.topLevelItemCount()):
        item = page.facies.topLevelItem(i)
        if item.data(0, Qt.UserRole)[1] == name:
            page.facies.setCurrentItem(item)


def hover(page, x: float, y: float) -> None:
    """Move the mouse over a survey point (fills the cursor readout)."""
    from aaspi_py.gui.qt import QtGui

    pos = QtCore.QPointF(page.plot.view_to_pixel(x, y))
    QtWidgets.QApplication.sendEvent(page.plot.viewport(), QtGui.QMouseEvent(
        QtCore.QEvent.MouseMove, pos, Qt.NoButton, Qt.NoButton, Qt.NoModifier))
    application().processEvents()


# ---------------------------------------------------------------- the screens

def launcher_screen(project) -> None:
    from aaspi_py.gui.launcher import Launcher

    win = Launcher(project.root)
    win.tabs.setCurrentIndex(3)  # Volumetric Classification
    win.resize(900, 420)
    win.show()
    QTest.qWaitForWindowExposed(win)
    save_png(win, "launcher.png")
    win.close()


def picking_screen(project) -> None:
    from aaspi_py.gui.picking_window import PickingWindow

    from aaspi_py.training.polygons import polygons_on_slice

    win = PickingWindow(project)
    win.resize(1250, 800)
    win.show()
    QTest.qWaitForWindowExposed(win)
    page = win.pick
    page.direction.setCurrentIndex(2)
    page.line.set_line(PICK_SAMPLE)
    page.execute_button.click()
    truth = aaspi_py.open_volume(project.volume_path("true_facies"))
    labels = truth.depth_slice[PICK_SAMPLE].T  # rows = crossline (y), columns = inline (x)
    x, y = truth["inline"].values, truth["crossline"].values
    for facies in ("mtd", "background"):
        if any(ff.facies == facies for ff, _ in polygons_on_slice(project, "sample", PICK_SAMPLE)):
            continue  # already picked by an earlier run of this script
        click_polygon(page, interior_polygon(labels, FACIES_CODES[facies], x, y))
        select_facies(page, facies)
        if not page.add_to_current_file():
            print(f"warning: {facies} polygon not added: {page.status.text()}", file=sys.stderr)
    # a polygon being drawn (three clicks, not closed yet) in the layers of the upper right
    rows, cols = np.indices(labels.shape)
    corner = (rows > 0.7 * labels.shape[0]) & (cols > 0.55 * labels.shape[1])
    open_ring = interior_polygon(labels, FACIES_CODES["background"], x, y, k=5, region=corner)[:3]
    click_polygon(page, open_ring, close=False)
    select_facies(page, "mtd")
    page.say("Click to add vertices; double-click or Enter to close, then Add Polygon to Current File.")
    hover(page, *open_ring[1])
    save_png(win, "picking.png")
    win.close()


def picking_timeslice_screen(project) -> None:
    """An inline first, then a time slice: the view fits the time slice (not the inline's
    polygons), and the saved polygons of that time slice are drawn and listed."""
    from aaspi_py.gui.picking_window import PickingWindow

    win = PickingWindow(project)
    win.resize(1250, 800)
    win.show()
    QTest.qWaitForWindowExposed(win)
    page = win.pick
    from aaspi_py.training.polygons import list_polygons

    inlines = [poly.line for _, poly in list_polygons(project) if poly.slice == "inline"]
    page.direction.setCurrentIndex(0)
    if inlines:  # an inline with polygons on it, as when the view used to span them
        page.line.set_line(inlines[0])
    page.execute_button.click()
    page.direction.setCurrentIndex(2)
    page.line.set_line(PICK_SAMPLE)
    on_slice = [i for i in page._saved_items if hasattr(i, "textItem")]
    if on_slice:
        page.select_polygon(*_label_key(on_slice[0].textItem.toPlainText(), page))
    ds, _ = page.volume_layer(page.volume.currentText())
    hover(page, float(ds["inline"].values[len(ds["inline"]) // 3]), float(ds["crossline"].values[len(ds["crossline"]) // 2]))
    save_png(win, "picking_timeslice.png")
    win.close()


def _label_key(text: str, page) -> tuple[str, int]:
    facies, pid = text.rsplit(" ", 1)
    return facies, int(pid)


def training_set(project) -> None:
    from aaspi_py.sample_volumes import ATTRIBUTES, FACIES

    aaspi_py.run("define_training_data", project, facies=list(FACIES), attributes=list(ATTRIBUTES),
                 name="sample", overwrite=True)


def attribute_selection_screen(project) -> None:
    from aaspi_py.gui.module_window import ModuleWindow

    from aaspi_py.framework.registry import get_module

    win = ModuleWindow(get_module("attribute_selection"), project)
    win.resize(1300, 820)
    win.show()
    QTest.qWaitForWindowExposed(win)
    values = {"training": "sample", "max_voxels": 5000}
    run_in_window(win.panel, values)
    results = win.panel.results
    for i in range(results.count()):  # show the O_n / accuracy figure
        if "score" in results.tabText(i) or "o_n" in results.tabText(i).lower() or "accuracy" in results.tabText(i):
            results.setCurrentIndex(i)
            break
    save_png(win, "attribute_selection_results.png")
    win.close()


def rfc3d_screen(project) -> None:
    from aaspi_py.gui.module_window import ModuleWindow
    from aaspi_py.sample_volumes import INFORMATIVE

    from aaspi_py.framework.registry import get_module

    win = ModuleWindow(get_module("rfc3d"), project)
    win.resize(1300, 820)
    win.show()
    QTest.qWaitForWindowExposed(win)
    run_in_window(win.panel, {"training_file": "training/sample/sample.txt", "attributes": list(INFORMATIVE),
                              "n_trees": 40, "max_depth": 10, "permutation_repeats": 0})
    viewer = win.panel.results.viewer
    if viewer is not None:
        win.panel.results.setCurrentWidget(viewer)
        viewer.set_slice("sample", PICK_SAMPLE)
    save_png(win, "rfc3d_results.png")
    win.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="/tmp/aaspi_screenshots", help="sample project folder (built if missing)")
    ap.add_argument("--size", default="demo", choices=("small", "demo"))
    ap.add_argument("--only", nargs="*", help="screens to make (launcher picking picking_timeslice attribute_selection rfc3d)")
    args = ap.parse_args()
    app = application()
    if app.platformName() in ("offscreen", "minimal"):
        print("note: offscreen platform; run under xvfb-run for real fonts and window decorations")
    from aaspi_py.sample_volumes import build_sample_project

    from aaspi_py.framework.project import PROJECT_FILE

    root = Path(args.project)
    project = aaspi_py.Project.open(root) if (root / PROJECT_FILE).exists() else build_sample_project(root, size=args.size)
    wanted = set(args.only or ("launcher", "picking", "picking_timeslice", "attribute_selection", "rfc3d"))
    modules = load_modules()
    if "launcher" in wanted:
        launcher_screen(project)
    if "picking" in wanted:
        picking_screen(project)
    if "picking_timeslice" in wanted:
        picking_timeslice_screen(project)
    if wanted & {"attribute_selection", "rfc3d"}:
        training_set(project)
    for name, screen in (("attribute_selection", attribute_selection_screen), ("rfc3d", rfc3d_screen)):
        if name in wanted:
            if name in modules:
                screen(project)
            else:
                print(f"skipped {name}: module not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
