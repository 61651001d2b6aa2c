"""Launcher tabs and the module windows generated from parameter declarations (offscreen)."""

import numpy as np
import pytest
from aaspi_py.gui.launcher import Launcher
from aaspi_py.gui.module_window import ModulePanel, ModuleWindow
from aaspi_py.gui.picking_window import PickingWindow
from aaspi_py.gui.qt import Qt

import aaspi_py
from aaspi_py.errors import AaspiError
from aaspi_py.params import check_param, read_param_file, validate
from aaspi_py.registry import CATEGORIES, get_module, load_modules

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
