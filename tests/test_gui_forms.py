"""Launcher tabs and the module windows generated from parameter declarations (offscreen)."""

import numpy as np
import pytest
from aaspi_py.gui.launcher import Launcher
from aaspi_py.gui.module_window import ModulePanel, ModuleWindow
from aaspi_py.gui.picking_window import PickingWindow
from aaspi_py.gui.qt import Qt

import aaspi_py
from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.params import check_param, read_param_file, validate
from aaspi_py.framework.registry import CATEGORIES, get_module, load_modules

MODULES = list(load_modules())


def test_launcher_lists_every_registered_module_in_its_tab(qtbot, project):
    win = Launcher(project.root)
    qtbot.addWidget(win)
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == list(CATEGORIES)
    for category in CATEGORIES:
        expected = [m.id for m in load_modules().values() if m.category == category]
        assert win.tab_modules(category) == expected
    assert sorted(sum((win.tab_modules(c) for c in CATEGORIES), [])) == sorted(MODULES)
    assert win.name.text() == "test" and win.folder.text() == str(project.root)


def test_launcher_opens_generated_and_picking_windows(qtbot, project):
    win = Launcher(project.root)
    qtbot.addWidget(win)
    qtbot.mouseClick(win.buttons["volume_info"], Qt.LeftButton)
    assert isinstance(win.windows["volume_info"], ModuleWindow)
    qtbot.mouseClick(win.buttons["define_training_data"], Qt.LeftButton)
    assert isinstance(win.windows["define_training_data"], PickingWindow)
    for w in win.windows.values():
        qtbot.addWidget(w)


def _out_of_range(p):
    return p.low - 1 if p.low is not None else p.high + 1


@pytest.mark.parametrize("module_id", MODULES)
def test_module_window_builds_from_its_declaration(qtbot, project, module_id):
    module = get_module(module_id)
    panel = ModulePanel(module, project)
    qtbot.addWidget(panel)
    assert list(panel.form.fields) == [p.name for p in module.all_params]
    for p in module.all_params:
        assert p.help in panel.form.fields[p.name].toolTip()
    bounded = [p for p in module.all_params if p.kind in ("int", "float") and (p.low is not None or p.high is not None)]
    for p in bounded:
        panel.form.fields[p.name].set_value(_out_of_range(p))
        with pytest.raises(AaspiError) as expected:
            check_param(module.id, p, _out_of_range(p))
        message = panel.form.messages[p.name]
        assert not message.isHidden() and message.text() == str(expected.value)
        assert "must be" in message.text() and f"'{p.name}'" in message.text()
    if bounded:
        assert panel.execute() is False
        assert "not valid" in panel.status.text() and not panel.runner.running


def test_out_of_range_value_is_rejected_with_the_cli_message(qtbot, project):
    panel = ModulePanel(get_module("segy_import"), project)
    qtbot.addWidget(panel)
    field = panel.form.fields["iline_byte"]
    field.set_value(400)
    assert panel.form.messages["iline_byte"].text() == (
        "The 'iline_byte' parameter of segy_import must be an int in the range [1, 237]. Got 400 instead.")
    # arrows stay inside the declared range
    field.set_value(237)
    field.spin.stepBy(5)
    assert field.value() == 237 and panel.form.messages["iline_byte"].isHidden()
    # a required file left empty gets the core's "required" message
    assert "'src' parameter of segy_import is required" in panel.form.errors()["src"]


def test_parameters_save_and_load_as_the_cli_toml(qtbot, project, tmp_path):
    aaspi_py.save_volume(np.zeros((3, 3, 4), "f4"), project.volumes_dir / "amp.zarr")
    aaspi_py.save_volume(np.ones((3, 3, 4), "f4"), project.volumes_dir / "env.zarr")
    module = get_module("define_training_data")
    panel = ModulePanel(module, project)
    qtbot.addWidget(panel)
    form = panel.form
    form.fields["attributes"].add_items(["env", "amp"])
    form.fields["facies"].set_value(["salt", "mtd"])
    form.fields["facies"].list.setCurrentRow(1)
    form.fields["facies"].move_selected(-1)  # Up: mtd first
    form.fields["name"].set_value("picks")
    form.fields["csv"].set_value(False)
    values = form.checked_values()
    assert values["facies"] == ["mtd", "salt"] and values["attributes"] == ["env", "amp"]
    path = tmp_path / "dtd.toml"
    assert panel.save_parameters(path)
    assert validate(module.id, module.all_params, read_param_file(path)) == values
    other = ModulePanel(module, project)
    qtbot.addWidget(other)
    assert other.load_parameters(path)
    assert other.form.checked_values() == values
    # an unknown key in a parameter file is refused with the CLI's message
    path.write_text('facies = ["a"]\nmax_cluster = 3\n')
    assert not other.load_parameters(path)
    assert "Unknown parameter 'max_cluster' for define_training_data" in other.status.text()


def test_volume_pickers_list_the_project_volumes(qtbot, project):
    for name in ("amplitude", "envelope"):
        aaspi_py.save_volume(np.zeros((3, 3, 4), "f4"), project.volumes_dir / f"{name}.zarr")
    panel = ModulePanel(get_module("volume_info"), project)
    qtbot.addWidget(panel)
    combo = panel.form.fields["volume"].combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["amplitude", "envelope"]
    assert panel.form.checked_values()["volume"] == "amplitude"


def test_optional_volume_keeps_its_empty_default(qtbot, project):
    aaspi_py.save_volume(np.zeros((3, 3, 4), "f4"), project.volumes_dir / "amplitude.zarr")
    panel = ModulePanel(get_module("kuwahara3d"), project)
    qtbot.addWidget(panel)
    panel.form.fields["inputs"].add_items(["amplitude"])
    values = panel.form.checked_values()
    assert values["guide"] == "" and values["window"] == [3, 3, 3]


def test_qt_is_imported_only_through_the_shim():
    import re
    from pathlib import Path

    import aaspi_py.gui

    direct = re.compile(r"^\s*(from|import)\s+(PyQt5|PySide\d|pyqtgraph)\b", re.M)
    gui = Path(aaspi_py.gui.__file__).parent
    core = Path(aaspi_py.__file__).parent
    offenders = [f.name for f in [*gui.glob("*.py"), *core.glob("*.py")]
                 if f.name != "qt.py" and direct.search(f.read_text(encoding="utf-8"))]
    assert offenders == []


# ---------------------------------------------------------------- pickers, wheel, training sets, sizes

def _grid_project(project):
    """Three attributes on one grid, one on another survey, a class volume and amplitude."""
    z = np.zeros((3, 3, 4), "f4")
    for name in ("amplitude", "envelope", "coherence", "sweetness"):
        aaspi_py.save_volume(z, project.volumes_dir / f"{name}.zarr", kind="amplitude" if name == "amplitude" else None)
    aaspi_py.save_volume(np.zeros((3, 3, 4), "i2"), project.volumes_dir / "true_facies.zarr", kind="facies")
    aaspi_py.save_volume(np.zeros((5, 3, 4), "f4"), project.volumes_dir / "env_other_survey.zarr",
                         inline=np.arange(200, 205))
    return project


def test_attribute_picker_offers_usable_volumes_on_one_grid_with_type_to_filter(qtbot, project):
    from aaspi_py.training.volume_catalog import usable_volumes

    _grid_project(project)
    panel = ModulePanel(get_module("define_training_data"), project)
    qtbot.addWidget(panel)
    field = panel.form.fields["attributes"]
    picker = field.picker()
    qtbot.addWidget(picker)
    # nothing chosen yet: every attribute volume, never the class volume
    assert picker.shown_names() == ["amplitude", "coherence", "env_other_survey", "envelope", "sweetness"]
    qtbot.keyClicks(picker.filter, "en")
    assert picker.shown_names() == ["coherence", "env_other_survey", "envelope"]
    qtbot.keyClicks(picker.filter, "v")
    assert picker.shown_names() == ["env_other_survey", "envelope"]
    picker.filter.clear()
    qtbot.keyClicks(picker.filter, "co en")              # every word must match
    assert picker.shown_names() == ["coherence"]
    picker.filter.clear()
    picker.list.item(1).setSelected(True)                # coherence and sweetness, in list order
    picker.list.item(4).setSelected(True)
    assert picker.selected_names() == ["coherence", "sweetness"]
    field.add_items(picker.selected_names())             # one OK adds both
    assert field.items() == ["coherence", "sweetness"]
    # with a volume chosen, only the other volumes on its grid are offered, and the picker says why
    picker = field.picker()
    qtbot.addWidget(picker)
    assert picker.shown_names() == ["amplitude", "envelope"]
    assert "2 volumes not offered" in field.choices_note and "'coherence'" in field.choices_note
    assert usable_volumes(project, "coherence") == ["amplitude", "coherence", "envelope", "sweetness"]


def test_mixed_grids_are_refused_before_execute(qtbot, project):
    _grid_project(project)
    panel = ModulePanel(get_module("define_training_data"), project)
    qtbot.addWidget(panel)
    panel.form.set_values({"facies": ["salt"], "attributes": ["envelope", "env_other_survey"]})
    assert not panel.execute() and not panel.runner.running
    message = panel.form.messages["attributes"].text()
    assert "'envelope' and 'env_other_survey' are not on the same grid" in message
    assert "Not started" in panel.status.text()


def _wheel(widget, steps=-1):
    from aaspi_py.gui.qt import QtCore, QtGui, QtWidgets

    pos = QtCore.QPointF(widget.rect().center())
    ev = QtGui.QWheelEvent(pos, QtCore.QPointF(widget.mapToGlobal(pos.toPoint())), QtCore.QPoint(0, 0),
                           QtCore.QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(widget, ev)


def test_wheel_over_unfocused_fields_scrolls_the_form_and_keeps_values(qtbot, project):
    window = ModuleWindow(get_module("attribute_selection"), project)
    qtbot.addWidget(window)
    window.resize(800, 500)
    window.show()
    qtbot.waitExposed(window)
    form = window.panel.form
    scroll = next(a for a in window.panel.findChildren(type(window.panel.status_area)) if a.widget() is form)
    combo, spin = form.fields["pairs"].combo, form.fields["max_clusters"].spin
    assert scroll.verticalScrollBar().maximum() > 0
    before = (combo.currentIndex(), spin.value(), scroll.verticalScrollBar().value())
    _wheel(combo)
    assert combo.currentIndex() == before[0]
    assert scroll.verticalScrollBar().value() > before[2]   # the wheel went to the form
    _wheel(spin)
    assert spin.value() == before[1]
    assert combo.focusPolicy() == Qt.StrongFocus and spin.focusPolicy() == Qt.StrongFocus


def test_rfc3d_and_gtm3d_take_the_attribute_list_from_the_training_set(qtbot, project, tmp_path):
    from aaspi_py.gui.param_fields import FileField

    _grid_project(project)
    folder = project.training_dir / "picks"
    folder.mkdir()
    (folder / "training_set.json").write_text('{"format": "aaspi_py.training_set", "facies": ["a", "b"], '
                                              '"attributes": ["sweetness", "envelope"], '
                                              '"volumes": ["sweetness", "envelope"]}')
    (folder / "picks.txt").write_text("# classes: 1=a, 2=b\n1 1 0 1\n")
    rfc = ModulePanel(get_module("rfc3d"), project)
    qtbot.addWidget(rfc)
    rfc.form.fields["training_file"].set_value("training/picks/picks.txt")
    assert rfc.form.fields["attributes"].items() == ["sweetness", "envelope"]
    gtm = ModulePanel(get_module("gtm3d"), project)
    qtbot.addWidget(gtm)
    gtm.form.fields["training_set"].set_value("picks")
    assert gtm.form.fields["inputs"].items() == ["sweetness", "envelope"]
    # a list the user changed is not replaced when the training set changes
    gtm.form.fields["inputs"].set_value(["coherence"])
    gtm.form.fields["training_set"].set_value("training/picks")
    assert gtm.form.fields["inputs"].items() == ["coherence"]
    # Browse for a training set: the dialog shows training_set.json, the field keeps the folder
    sel = ModulePanel(get_module("attribute_selection"), project)
    qtbot.addWidget(sel)
    field = sel.form.fields["training"]
    assert isinstance(field, FileField) and field.takes_training_set
    field.set_value(field.accepted_path(str(folder / "training_set.json")))
    assert field.value() == "training/picks" and sel.form.check("training") is None


def test_long_error_stays_in_a_bounded_area_and_windows_shrink(qtbot, project):
    from aaspi_py.gui.module_window import STATUS_MAX_HEIGHT

    window = ModuleWindow(get_module("volume_info"), project)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panel
    long = "Volume 'x' not found; volumes in the project: " + ", ".join(f"attribute_{i:02d}" for i in range(37))
    panel._say(long * 3, error=True)
    qtbot.wait(10)
    assert panel.status_area.height() <= STATUS_MAX_HEIGHT
    assert panel.status.text().startswith("Volume 'x' not found")
    window.resize(800, 500)
    qtbot.wait(10)
    assert window.width() <= 800 and window.height() <= 500
    assert window.minimumWidth() >= 700 and window.minimumHeight() >= 400


def test_launcher_counts_follow_a_run(qtbot, project):
    aaspi_py.save_volume(np.zeros((3, 3, 4), "f4"), project.volumes_dir / "amplitude.zarr")
    win = Launcher(project.root)
    qtbot.addWidget(win)
    assert win.info.text().startswith("1 volumes")
    module_win = win.open_module("volume_info")
    qtbot.addWidget(module_win)
    aaspi_py.save_volume(np.zeros((3, 3, 4), "f4"), project.volumes_dir / "envelope.zarr")  # a run wrote it
    module_win.panel.run_done.emit({"outputs": {}})
    assert win.info.text().startswith("2 volumes")


def test_results_of_a_run_do_not_stop_the_window_shrinking(qtbot, project):
    from pathlib import Path

    long = "rfc3d_probability_background_of_a_long_project_name_run2"
    for name in ("amplitude", long):
        aaspi_py.save_volume(np.zeros((30, 40, 50), "f4"), project.volumes_dir / f"{name}.zarr", kind="amplitude")
    png = Path(__file__).resolve().parents[1] / "docs" / "picking.png"
    window = ModuleWindow(get_module("volume_info"), project)
    qtbot.addWidget(window)
    window.resize(900, 560)
    window.show()
    qtbot.waitExposed(window)
    window.panel.results.show_result({"outputs": {long: str(project.volume_path(long)),
                                                  "big.png": str(png)}}, project)
    # a long line in the viewer (e.g. an overlay on another grid) must not widen the window
    window.panel.results.viewer.message.setText(f"'{long}' is not on the grid of 'amplitude'; " * 3)
    qtbot.wait(10)
    assert [window.panel.results.tabText(i) for i in range(3)] == ["Summary", "Volumes", "picking"]
    window.resize(790, 490)
    qtbot.wait(10)
    assert (window.width(), window.height()) == (790, 490)
