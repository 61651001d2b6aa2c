"""Schedulers give identical results; compute reports progress and honours cancel."""

import dask.array as da
import numpy as np
import pytest

import aaspi_py
from aaspi_py.cli.commands import main
from aaspi_py.framework import scheduler
from aaspi_py.framework.errors import AaspiError, Cancelled
from aaspi_py.framework.progress import Progress
from aaspi_py.framework.scheduler import check_scheduler, compute, use_scheduler


class Recording(Progress):
    """Keeps every fraction reported; cancels after ``cancel_after`` updates when given."""

    def __init__(self, cancel_after=None):
        super().__init__()
        self.fractions = []
        self.cancel_after = cancel_after

    def update(self, fraction, status=None):
        super().update(fraction, status)
        self.fractions.append(self.fraction)
        if self.cancel_after is not None and len(self.fractions) >= self.cancel_after:
            self.cancel()


def _smoothed(values: np.ndarray):
    """A chunked computation with halos: a 3-point mean along every axis."""
    arr = da.from_array(values, chunks=(8, 8, 16))
    return arr.map_overlap(lambda b: (b + np.roll(b, 1, 0) + np.roll(b, 1, 1) + np.roll(b, 1, 2)) / 4,
                           depth=1, boundary="reflect")


@pytest.fixture(scope="module")
def cube():
    return np.random.default_rng(7).standard_normal((16, 16, 32)).astype("f4")


def _save(cube, path, progress=None):
    aaspi_py.save_volume(_smoothed(cube), path, inline=np.arange(1, 17), crossline=np.arange(1, 17),
                         sample=np.arange(32) * 4.0, progress=progress)
    return aaspi_py.open_volume(path)["data"].values


def test_threads_processes_and_local_cluster_write_identical_volumes(cube, tmp_path):
    expected = _smoothed(cube).compute(scheduler="synchronous")
    results = {}
    for spec in ("threads", "processes", "local:1"):
        with use_scheduler(spec) as client:
            assert (client is not None) == spec.startswith("local:")
            progress = Recording()
            results[spec] = _save(cube, tmp_path / f"{spec.replace(':', '_')}.zarr", progress)
            assert progress.fractions[-1] == 1.0
            if spec == "local:1":
                # cancel on the distributed path too: nothing is written
                with pytest.raises(Cancelled):
                    _save(cube, tmp_path / "cancelled.zarr", Recording(cancel_after=1))
    for spec, values in results.items():
        np.testing.assert_array_equal(values, expected, err_msg=spec)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local_1.zarr", "processes.zarr", "threads.zarr"]


def test_module_run_report_is_the_same_on_threads_and_processes(sample_project):
    reports = [aaspi_py.run("volume_info", sample_project.root, volume="dip_deviation", scheduler=s).report
               for s in ("threads", "processes")]
    assert reports[0] == reports[1]
    assert reports[0]["shape"] == [40, 40, 60]


@pytest.mark.parametrize("spec", ["bogus", "local", "local:x", "tcp://nohost", "threads:2", ""])
def test_invalid_scheduler_is_one_clear_line(spec):
    if spec == "":
        assert check_scheduler(spec) == "threads"  # empty means the default
        return
    with pytest.raises(AaspiError) as e:
        check_scheduler(spec)
    assert str(e.value) == (f"Unknown scheduler {spec!r}; use threads (default), processes, "
                            "local:N (start a LocalCluster of N workers) or tcp://host:port.")


def test_local_needs_a_worker():
    with pytest.raises(AaspiError, match="local:N needs at least one worker"):
        with use_scheduler("local:0"):
            pass


def test_cli_reports_bad_and_unreachable_schedulers(sample_project, capsys, monkeypatch):
    code = main(["run", "volume_info", "-p", str(sample_project.root), "--volume", "amplitude",
                 "--scheduler", "bogus"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert [line for line in err if not line.startswith("aaspi: warning:")] == [
        "aaspi: error: Unknown scheduler 'bogus'; use threads (default), processes, "
        "local:N (start a LocalCluster of N workers) or tcp://host:port."]
    monkeypatch.setattr(scheduler, "CONNECT_TIMEOUT_S", 1)
    code = main(["run", "volume_info", "-p", str(sample_project.root), "--volume", "amplitude",
                 "--scheduler", "tcp://127.0.0.1:9"])
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("aaspi: warning:")]
    assert code == 2 and len(err) == 1
    assert err[0].startswith("aaspi: error: Cannot reach the dask cluster at tcp://127.0.0.1:9")
    assert err[0].endswith("start its scheduler or use --scheduler threads.")


def test_compute_reports_progress_per_task(cube):
    progress = Recording()
    (total,) = compute(_smoothed(cube).sum(), progress=progress, status="summing")
    assert np.isclose(total, _smoothed(cube).sum().compute(), rtol=1e-5)
    assert len(progress.fractions) > 8  # one update per task, 8 chunks and more
    assert progress.fractions == sorted(progress.fractions)
    assert progress.fractions[-1] == 1.0 and progress.status == "summing"


def test_cancel_raises_and_leaves_no_volume(cube, tmp_path):
    progress = Recording(cancel_after=2)
    with pytest.raises(Cancelled):
        _save(cube, tmp_path / "v.zarr", progress)
    assert len(progress.fractions) == 2
    assert list(tmp_path.iterdir()) == []  # neither the volume nor its temporary folder
