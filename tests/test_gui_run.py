"""Execute and Cancel in a module window: the run happens in a worker process (offscreen)."""

import numpy as np
from aaspi_py.gui.module_window import ModulePanel
from aaspi_py.gui.qt import Qt, QtWidgets
from aaspi_py.gui.slice_viewer import SliceViewer

import aaspi_py
from aaspi_py.framework.registry import get_module

TIMEOUT_MS = 60_000


def _files(project):
    return sorted(p.relative_to(project.root).as_posix() for p in project.root.rglob("*")
                  if p.is_file() and not p.relative_to(project.root).as_posix().startswith("logs/"))


def test_execute_runs_the_module_and_shows_its_results(qtbot, project, rng):
    aaspi_py.save_volume(rng.standard_normal((4, 5, 10)).astype("f4"), project.volumes_dir / "amp.zarr")
    panel = ModulePanel(get_module("volume_info"), project)
    qtbot.addWidget(panel)
    panel.form.fields["volume"].set_value("amp")
    with qtbot.waitSignal(panel.run_done, timeout=TIMEOUT_MS) as run:
        qtbot.mouseClick(panel.execute_button, Qt.LeftButton)
        assert not panel.execute_button.isEnabled() and panel.cancel_button.isEnabled()
    result = run.args[0]
    assert panel.progress.value() == panel.progress.maximum() and panel.progress.text() == "100%"
    # the same report as a run from Python
    assert result["report"]["shape"] == [4, 5, 10]
    assert result["report"] == {**aaspi_py.run("volume_info", project.root, volume="amp").report}
    summary = panel.results.widget(0).toPlainText()
    assert "shape (4, 5, 10)" in summary
    assert "traces   20 live of 20" in panel.log.toPlainText()  # the live log got the run's lines
    assert panel.execute_button.isEnabled() and not panel.cancel_button.isEnabled()
    record = panel.results.widget(panel.results.count() - 1)
    assert isinstance(record, QtWidgets.QPlainTextEdit) and "status: completed" in record.toPlainText()


def test_results_show_output_volumes_in_the_slice_viewer(qtbot, sample_project_copy):
    project = sample_project_copy
    panel = ModulePanel(get_module("define_training_data"), project)
    qtbot.addWidget(panel)
    # a result with an output class volume: drawn over amplitude, with a legend
    result = {"outputs": {"true_facies": str(project.volume_path("true_facies"))}, "report": {"summary": ["x"]}}
    panel.results.show_result(result, project)
    viewer = panel.results.viewer
    assert isinstance(viewer, SliceViewer)
    assert viewer.base_combo.currentText() == "amplitude"
    assert viewer.overlay_combo.currentText() == "true_facies"
    truth = aaspi_py.open_volume(project.volume_path("true_facies"))
    il = int(truth["inline"][viewer.line.index])
    assert np.array_equal(viewer.plot.base.image.shape[:2], truth.iline[il].T.shape)
    present = sorted(set(np.unique(truth.iline[il]).tolist()) - {0})
    assert present and all(f"&nbsp;{k} " in viewer.legend.text() for k in present)


def test_cancel_stops_the_run_and_leaves_no_output(qtbot, sample_project_copy):
    project = sample_project_copy
    before = _files(project)
    panel = ModulePanel(get_module("define_training_data"), project)
    qtbot.addWidget(panel)
    panel.form.set_values({"facies": ["salt", "mtd", "background"], "attributes": ["envelope", "dip_deviation"],
                           "name": "cancelled"})
    with qtbot.waitSignal(panel.runner.finished, timeout=TIMEOUT_MS):
        assert panel.execute()
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    assert panel.status.text() == "cancelled: nothing was written."
    assert _files(project) == before
    assert not (project.training_dir / "cancelled").exists()
    assert "status: cancelled" in (project.logs_dir / "aaspi_define_training_data_sample.out").read_text()


def test_cancel_stops_a_long_run_midway_and_leaves_no_output(qtbot, project, rng):
    # many small chunks: the filter reports (and can stop) after each one; uncancelled it
    # takes about 10 s here, the cancel lands well before that
    aaspi_py.save_volume(rng.standard_normal((64, 64, 96)).astype("f4"), project.volumes_dir / "amp.zarr",
                         chunks=(8, 8, 16))
    before = _files(project)
    panel = ModulePanel(get_module("kuwahara3d"), project)
    qtbot.addWidget(panel)
    panel.form.set_values({"inputs": ["amp"], "window": [9, 9, 9], "statistic": "median"})
    fractions = []
    panel.runner.progress.connect(lambda f, _status: fractions.append(f))
    assert panel.execute()
    qtbot.waitUntil(lambda: any(f > 0 for f in fractions), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(panel.runner.cancelled, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    assert 0 < max(fractions) < 1 and panel.progress.value() == 0   # no stale 58 % after Cancel
    assert panel.status.text() == "cancelled: nothing was written."
    assert _files(project) == before  # no output volume and no temporary left
    assert sorted(p.name for p in project.volumes_dir.iterdir()) == ["amp.zarr"]
    assert panel.execute_button.isEnabled()


def test_a_missing_input_is_refused_before_the_run_in_gui_words(qtbot, project, rng):
    aaspi_py.save_volume(rng.standard_normal((4, 5, 10)).astype("f4"), project.volumes_dir / "amp.zarr")
    panel = ModulePanel(get_module("volume_info"), project)
    qtbot.addWidget(panel)
    panel.form.fields["volume"].set_value("missing")
    qtbot.mouseClick(panel.execute_button, Qt.LeftButton)
    assert not panel.runner.running and panel.execute_button.isEnabled()
    message = panel.form.messages["volume"].text()
    assert message.startswith("Volume 'missing' (parameter 'volume') not found") and "amp" in message
    assert "segy_import (Utilities tab)" in message and "aaspi import-segy" not in message
    assert panel.status.text().startswith("Not started: 1 parameter is not valid")


def test_a_failing_run_shows_its_error_resets_progress_and_clears_old_results(qtbot, project, rng):
    aaspi_py.save_volume(rng.standard_normal((4, 5, 10)).astype("f4"), project.volumes_dir / "amp.zarr")
    panel = ModulePanel(get_module("volume_info"), project)
    qtbot.addWidget(panel)
    panel.form.fields["volume"].set_value("amp")
    with qtbot.waitSignal(panel.run_done, timeout=TIMEOUT_MS):
        assert panel.execute()
    assert panel.results.tabText(0) == "Summary" and panel.progress.value() == panel.progress.maximum()
    # the volume's data go bad: the inputs still look right, the run fails when it reads them
    chunk = next(p for p in (project.volumes_dir / "amp.zarr" / "data").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(b"garbage")
    panel.overwrite.setChecked(True)
    with qtbot.waitSignal(panel.runner.failed, timeout=TIMEOUT_MS) as failed:
        assert panel.execute()
        assert panel.results.tabText(0) == "Results"   # the previous run's results are gone at once
    assert panel.status.text() == failed.args[0] and "\n" not in failed.args[0]
    assert panel.progress.value() == 0 and panel.execute_button.isEnabled()
    assert [panel.results.tabText(i) for i in range(panel.results.count())] == ["Results"]
    assert "failed" in panel.results.widget(0).text()


def test_existing_outputs_are_refused_before_the_run_until_overwrite_is_ticked(qtbot, sample_project_copy):
    project = sample_project_copy
    panel = ModulePanel(get_module("define_training_data"), project)
    qtbot.addWidget(panel)
    panel.form.set_values({"facies": ["salt"], "attributes": ["envelope"], "name": "old"})
    (project.training_dir / "old").mkdir()   # a training set of that name exists (made by an earlier run)
    (project.training_dir / "old" / "training_set.json").write_text("{}")
    qtbot.mouseClick(panel.execute_button, Qt.LeftButton)
    assert not panel.runner.running
    assert "tick Overwrite existing outputs" in panel.status.text() and "old" in panel.status.text()
    assert "--overwrite" not in panel.status.text()
    panel.overwrite.setChecked(True)
    with qtbot.waitSignal(panel.run_done, timeout=TIMEOUT_MS):
        assert panel.execute()
