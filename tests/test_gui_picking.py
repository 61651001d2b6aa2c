"""The define_training_data window driven with simulated mouse clicks (offscreen)."""

import numpy as np
import pytest
from aaspi_py.gui.picking_window import PickingWindow
from aaspi_py.gui.qt import Qt, QtCore, QTest, QtGui, QtWidgets

import aaspi_py
from aaspi_py.polygons import read_facies, save_polygon_to_new_file
from aaspi_py.training import TrainingSet

TIMEOUT_MS = 60_000
# on inline 120 of the small sample survey: crosslines 300..339, samples 600..836 ms every 4 ms;
# vertices halfway between grid nodes, so a fraction of a pixel cannot move a voxel in or out
VERTICES = [(305.5, 650.0), (318.5, 650.0), (318.5, 690.0), (305.5, 690.0)]
ATTRIBUTES = ["envelope", "semblance"]


@pytest.fixture
def window(qtbot, sample_project_copy):
    win = PickingWindow(sample_project_copy)
    qtbot.addWidget(win)
    win.resize(1100, 750)
    win.show()
    qtbot.waitExposed(win)
    return win


def _plot_slice(qtbot, page, direction, line):
    page.direction.setCurrentIndex(["inline", "crossline", "sample"].index(direction))
    page.line.set_line(line)
    qtbot.mouseClick(page.execute_button, Qt.LeftButton)
    assert page.shown == ("amplitude", direction, line)


def _click(qtbot, page, x, y):
    qtbot.mouseClick(page.plot.viewport(), Qt.LeftButton, pos=page.plot.view_to_pixel(x, y))


def _double_click(page, x, y):
    """What a real double-click delivers: press, release, double-click, release (Qt 5's
    QTest.mouseDClick on a widget sends only the double-click event)."""
    pos = page.plot.view_to_pixel(x, y)
    QTest.mouseClick(page.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    QTest.mouseDClick(page.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    QTest.mouseRelease(page.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pos)


def _drag(page, start, end, steps=6):
    viewport = page.plot.viewport()
    a, b = page.plot.view_to_pixel(*start), page.plot.view_to_pixel(*end)
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, a)
    for i in range(1, steps + 1):
        p = QtCore.QPointF(a + (b - a) * (i / steps))
        QtWidgets.QApplication.sendEvent(
            viewport, QtGui.QMouseEvent(QtCore.QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, b)


def _draw(qtbot, page, vertices):
    for x, y in vertices[:-1]:
        _click(qtbot, page, x, y)
    _double_click(page, *vertices[-1])


def _close_to(got, want):
    """Within a tenth of a line and an eighth of a sample: what pixel rounding can do."""
    got, want = np.asarray(got), np.asarray(want)
    return got.shape == want.shape and np.all(np.abs(got - want) <= [0.1, 0.5])


def test_mouse_pick_saved_and_generated_equals_the_api_training_set(qtbot, window, monkeypatch):
    project, page = window.pick.project, window.pick
    _plot_slice(qtbot, page, "inline", 120)
    _draw(qtbot, page, VERTICES)
    assert page.editor.closed and _close_to(page.editor.vertices, VERTICES)

    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", staticmethod(lambda *a, **k: ("rock", True)))
    qtbot.mouseClick(page.save_new_button, Qt.LeftButton)
    rock = read_facies(project, "rock")
    (poly,) = rock.polygons
    assert (poly.slice, poly.line, rock.volume) == ("inline", 120, "amplitude")
    assert _close_to(poly.vertices, VERTICES)
    assert page.editor.vertices == [] and page.current_facies == "rock"
    assert len(page._saved_items) == 2  # the saved polygon and its label, in the facies colour

    # Generate Training File page: ordered facies and attributes, Execute, voxel counts
    qtbot.mouseClick(page.generate_button, Qt.LeftButton)
    assert window.tabs.currentWidget() is window.generate
    form = window.generate.form
    form.fields["facies"].add_items(["rock"])
    form.fields["attributes"].add_items(ATTRIBUTES)
    form.fields["name"].set_value("gui_pick")
    with qtbot.waitSignal(window.generate.run_done, timeout=TIMEOUT_MS):
        qtbot.mouseClick(window.generate.execute_button, Qt.LeftButton)
    gui = TrainingSet.load(project.training_dir / "gui_pick")

    save_polygon_to_new_file(project, "inline", 120, VERTICES, facies="rock_api")
    api = aaspi_py.training_set(project, ["rock_api"], ATTRIBUTES)
    assert len(gui) > 50
    assert np.array_equal(gui.positions, api.positions)
    assert np.array_equal(gui.values, api.values)
    assert np.array_equal(gui.polygon, api.polygon)
    assert gui.attributes == api.attributes == ATTRIBUTES
    table = window.counts
    assert [table.item(0, c).text() for c in range(3)] == ["rock", "all", str(len(api))]
    assert [table.item(1, c).text() for c in range(3)] == ["rock", "1", str(len(api))]


def test_drag_undo_add_and_rename(qtbot, window):
    project, page = window.pick.project, window.pick
    _plot_slice(qtbot, page, "sample", 700.0)
    square = [(104.5, 304.5), (112.5, 304.5), (112.5, 312.5), (104.5, 312.5)]
    _draw(qtbot, page, square)
    assert page.editor.closed and _close_to(page.editor.vertices, square)
    _drag(page, square[2], (114.5, 316.5))
    assert _close_to(page.editor.vertices[2], (114.5, 316.5))
    assert page.editor.undo() and _close_to(page.editor.vertices, square)

    assert page.save_to_new_file("polygon")
    _draw(qtbot, page, [(120.5, 320.5), (126.5, 320.5), (123.5, 326.5)])
    qtbot.mouseClick(page.add_button, Qt.LeftButton)
    ff = read_facies(project, "polygon")
    assert [(p.id, p.slice, p.line) for p in ff.polygons] == [(1, "sample", 700.0), (2, "sample", 700.0)]
    assert page.rename_facies("chaotic")
    assert "chaotic" in project.facies() and "polygon" not in project.facies()

    # a bow-tie is refused by the API; the window shows the API's message
    _draw(qtbot, page, [(104.5, 320.5), (110.5, 326.5), (110.5, 320.5), (104.5, 326.5)])
    assert not page.save_to_new_file("bowtie")
    assert "intersect" in page.status.text() and "bowtie" not in project.facies()
    qtbot.mouseClick(page.clear_button, Qt.LeftButton)
    assert page.editor.vertices == []
