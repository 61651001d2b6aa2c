"""The define_training_data window driven with simulated mouse clicks (offscreen)."""

import numpy as np
import pytest
from aaspi_py.gui.picking_window import PickingWindow
from aaspi_py.gui.qt import Qt, QtCore, QTest, QtGui, QtWidgets

import aaspi_py
from aaspi_py.training.polygons import read_facies, save_polygon_to_new_file
from aaspi_py.training.training_set import TrainingSet

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


# ---------------------------------------------------------------- view, drafts, saved polygons, keys

def _rect_close(got, want, tol=1e-6):
    return all(abs(a - b) <= tol * max(1.0, abs(b)) for a, b in
               ((got.left(), want.left()), (got.right(), want.right()),
                (got.top(), want.top()), (got.bottom(), want.bottom())))


def _set_direction(qtbot, page, direction):
    """Choose the slice direction with the keyboard, as a user tabbing to the combo box does."""
    page.direction.setFocus()
    target = ["inline", "crossline", "sample"].index(direction)
    while page.direction.currentIndex() != target:
        key = Qt.Key_Down if page.direction.currentIndex() < target else Qt.Key_Up
        QTest.keyClick(page.direction, key)


def _tree_item(page, facies):
    tree = page.facies
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.UserRole)[1] == facies)


def test_view_fits_each_slice_after_direction_changes_and_home(qtbot, window):
    page = window.pick
    _plot_slice(qtbot, page, "inline", 120)
    _draw(qtbot, page, VERTICES)
    assert page.save_to_new_file("rock")
    # inline → time → crossline → inline: the view is always the whole slice, nothing else
    for direction in ("sample", "crossline", "inline"):
        _set_direction(qtbot, page, direction)
        assert page.shown[1] == direction
        assert _rect_close(page.plot.view_rect(), page.plot.current.rect()), direction
    # zoom in, step one line: the zoom stays; Home fits the slice again
    vb = page.plot.getPlotItem().getViewBox()
    vb.setRange(xRange=(305, 315), yRange=(650, 700), padding=0)
    zoomed = page.plot.view_rect()
    page.line.spin.setFocus()
    QTest.keyClick(page.line.spin, Qt.Key_Up)
    assert page.shown[2] == 121 and _rect_close(page.plot.view_rect(), zoomed)
    page.plot.setFocus()
    QTest.keyClick(page.plot, Qt.Key_Home)
    assert _rect_close(page.plot.view_rect(), page.plot.current.rect())
    vb.setRange(xRange=(305, 315), yRange=(650, 700), padding=0)
    qtbot.mouseClick(page.display.fit_button, Qt.LeftButton)
    assert _rect_close(page.plot.view_rect(), page.plot.current.rect())


def test_unsaved_polygon_survives_line_change_with_its_undo(qtbot, window):
    page = window.pick
    _plot_slice(qtbot, page, "inline", 120)
    for x, y in VERTICES[:3]:
        _click(qtbot, page, x, y)
    drawn = list(page.editor.vertices)
    page.line.spin.setFocus()
    QTest.keyClick(page.line.spin, Qt.Key_Up)          # one spin-box click: inline 121
    assert page.shown[2] == 121 and page.editor.vertices == []
    assert "inline 120" in page.drafts_label.text()
    QTest.keyClick(page.line.spin, Qt.Key_Down)        # back on inline 120: the drawing is back
    assert page.shown[2] == 120 and page.editor.vertices == drawn
    assert page.drafts == {} and not page.drafts_label.isVisible()
    page.plot.setFocus()
    QTest.keyClick(page.plot, Qt.Key_Z, Qt.ControlModifier)   # its undo history came back too
    assert page.editor.vertices == drawn[:2]


def test_open_polygon_is_not_saved_and_keys_draw(qtbot, window):
    project, page = window.pick.project, window.pick
    _plot_slice(qtbot, page, "inline", 120)
    for x, y in VERTICES:
        _click(qtbot, page, x, y)
    assert not page.save_to_new_file("open")
    assert "not closed" in page.status.text() and "open" not in project.facies()
    page.plot.setFocus()
    QTest.keyClick(page.plot, Qt.Key_Backspace)        # remove the last vertex
    assert len(page.editor.vertices) == 3
    QTest.keyClick(page.plot, Qt.Key_Return)           # close
    assert page.editor.closed
    QTest.keyClick(page.plot, Qt.Key_Backspace)        # reopen
    assert not page.editor.closed and len(page.editor.vertices) == 3
    QTest.keyClick(page.plot, Qt.Key_Escape)           # cancel the drawing...
    assert page.editor.vertices == []
    QTest.keyClick(page.plot, Qt.Key_Z, Qt.ControlModifier)   # ...which Ctrl+Z undoes
    assert len(page.editor.vertices) == 3
    QTest.keyClick(page.plot, Qt.Key_Enter)
    assert page.save_to_new_file("closed") and len(read_facies(project, "closed").polygons) == 1


def test_delete_and_edit_saved_polygon_with_undo(qtbot, window):
    project, page = window.pick.project, window.pick
    _plot_slice(qtbot, page, "inline", 120)
    _draw(qtbot, page, VERTICES)
    assert page.save_to_new_file("rock")
    square = [(322.5, 700.0), (330.5, 700.0), (330.5, 740.0), (322.5, 740.0)]
    _draw(qtbot, page, square)
    assert page.add_to_current_file()
    rock = _tree_item(page, "rock")
    assert rock.text(0) == "rock  (2 polygons)"
    assert [rock.child(i).text(0).split("  ")[:2] for i in range(2)] == [["inline 120", "#1"], ["inline 120", "#2"]]

    # select polygon 1 by clicking its label on the plot, delete it with the Delete key
    label = next(i for i in page._saved_items if hasattr(i, "textItem") and i.textItem.toPlainText() == "rock 1")
    qtbot.mouseClick(page.plot.viewport(), Qt.LeftButton,
                     pos=page.plot.mapFromScene(label.mapToScene(label.boundingRect().center())))
    assert page.selected == ("rock", 1)
    page.plot.setFocus()
    QTest.keyClick(page.plot, Qt.Key_Delete)
    assert [p.id for p in read_facies(project, "rock").polygons] == [2]
    QTest.keyClick(page.plot, Qt.Key_Z, Qt.ControlModifier)
    restored = read_facies(project, "rock").polygons
    assert [p.id for p in restored] == [1, 2] and _close_to(restored[0].vertices, VERTICES)

    # edit polygon 2: drag a vertex, save; Ctrl+Z gives the old shape back
    page.select_polygon("rock", 2)
    qtbot.mouseClick(page.edit_button, Qt.LeftButton)
    assert page.editing == ("rock", 2) and page.editor.closed
    _drag(page, square[2], (334.5, 760.0))
    qtbot.mouseClick(page.save_edit_button, Qt.LeftButton)
    edited = read_facies(project, "rock").polygon(2)
    assert _close_to(edited.vertices[2], (334.5, 760.0)) and page.editing is None
    page.plot.setFocus()
    QTest.keyClick(page.plot, Qt.Key_Z, Qt.ControlModifier)
    assert _close_to(read_facies(project, "rock").polygon(2).vertices, square)


def test_go_to_slice_of_a_polygon_from_the_list(qtbot, window):
    project, page = window.pick.project, window.pick
    save_polygon_to_new_file(project, "sample", 700.0, [(104.5, 304.5), (112.5, 304.5), (108.5, 312.5)],
                             facies="chaos", volume="amplitude")
    _plot_slice(qtbot, page, "inline", 120)
    page.refresh_facies()
    top = _tree_item(page, "chaos")
    assert top.child(0).text(0).startswith("time 700")
    page.facies.setCurrentItem(top.child(0))
    qtbot.mouseClick(page.goto_button, Qt.LeftButton)
    assert page.shown[1:] == ("sample", 700.0)
    assert _rect_close(page.plot.view_rect(), page.plot.current.rect())
    assert any(getattr(i, "textItem", None) is not None and i.textItem.toPlainText() == "chaos 1"
               for i in page._saved_items)


def test_cursor_readout_colour_bar_and_clip(qtbot, window):
    page = window.pick
    _plot_slice(qtbot, page, "inline", 120)
    ds, layer = page.volume_layer("amplitude")
    pos = QtCore.QPointF(page.plot.view_to_pixel(310.2, 700.9))
    QtWidgets.QApplication.sendEvent(page.plot.viewport(), QtGui.QMouseEvent(
        QtCore.QEvent.MouseMove, pos, Qt.NoButton, Qt.NoButton, Qt.NoModifier))
    # the readout names the voxel under the cursor and its value
    want = float(ds["data"].sel(inline=120, crossline=310, sample=700.0).values)
    assert page.plot.readout.text() == f"inline 120   crossline 310   time 700 ms   amplitude {want:.4g}"
    assert page.plot.colorbar.axis.labelText.startswith("amplitude")
    wide = page.plot.colorbar.levels()
    page.display.clip.setValue(90.0)
    narrow = page.plot.colorbar.levels()
    assert 0 < narrow[1] < wide[1] and narrow[0] == -narrow[1]
    page.display.cmap.setCurrentText("grey")
    assert layer.cmap_name == "grey"
