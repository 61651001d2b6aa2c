"""Volume modules on a real dask.distributed cluster: a ``dask scheduler`` and two
``dask worker`` processes started on localhost, reached with ``--scheduler tcp://…``.

Each module's outputs must be identical to the default ``threads`` run; a worker killed
mid-run must not change them; progress must advance per finished task.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rfc3d_synthetic as syn

import aaspi_py
from aaspi_py.framework.progress import Progress

DASK = str(Path(sys.executable).with_name("dask"))
RUNS = {
    "kuwahara3d": dict(inputs=["a1", "a2"]),
    "kuwahara3d-joint": dict(inputs=["a1", "a2", "a3"], selection="joint", window=[3, 3, 5]),
    "gtm3d": dict(inputs=["a1", "a2", "a3"], latent_grid=[5, 5], rbf_grid=[3, 3], max_iter=5, sample_size=800),
    "rfc3d": dict(attributes=["a1", "a2", "a3"], training_file=syn.TRAINING, n_trees=6, max_depth=6,
                  permutation_repeats=0, tree_counts=[6], cv_folds=2, probabilities=True),
}


class Recording(Progress):
    def __init__(self, on_update=None):
        super().__init__()
        self.fractions = []
        self._on_update = on_update

    def update(self, fraction, status=None):
        super().update(fraction, status)
        self.fractions.append(self.fraction)
        if self._on_update is not None:
            self._on_update(self.fraction)


def _start(args, log):
    return subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, cwd=log.name.rsplit("/", 1)[0],
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _wait_for_workers(address, n, timeout=45):
    from distributed import Client

    with Client(address, timeout="20s") as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``tcp://`` address of a scheduler with two single-thread workers (and their processes)."""
    folder = tmp_path_factory.mktemp("cluster")
    sched_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "w")  # noqa: SIM115 - closed at teardown
    procs = [_start(["scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)], log)]
    try:
        deadline = time.monotonic() + 30
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        import json

        address = json.loads(sched_file.read_text())["address"]
        for _ in range(2):
            procs.append(_start(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                 "--memory-limit", "0"], log))
        _wait_for_workers(address, 2)
        yield address, procs
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    project = aaspi_py.Project.create(tmp_path_factory.mktemp("survey") / "proj", "t")
    syn.build(project)
    return project


def _copy(project, folder):
    shutil.copytree(project.root, folder)
    return aaspi_py.Project.open(folder)


_THREADS: dict = {}


def _on_threads(run, survey, folder):
    """Outputs of the default threads run (each run once per test module)."""
    if run not in _THREADS:
        module, params = run.split("-")[0], RUNS[run]
        _THREADS[run] = _volumes(aaspi_py.run(module, _copy(survey, folder).root, **params))
    return _THREADS[run]


def _volumes(result):
    return {name: aaspi_py.open_volume(path)["data"].values for name, path in result.outputs.items()
            if str(path).endswith(".zarr")}


@pytest.mark.parametrize("run", list(RUNS))
def test_cluster_run_equals_threads_and_progress_is_per_task(run, cluster, survey, tmp_path, monkeypatch):
    from aaspi_py.framework import scheduler

    # these runs take a second or less: poll the scheduler often enough to see their tasks finish
    monkeypatch.setattr(scheduler, "PROGRESS_POLL_S", 0.02)
    address, _ = cluster
    module, params = run.split("-")[0], RUNS[run]
    a = _on_threads(run, survey, tmp_path / "threads")
    progress = Recording()
    there = aaspi_py.run(module, _copy(survey, tmp_path / "cluster").root, scheduler=address, progress=progress,
                         **params)
    b = _volumes(there)
    assert sorted(a) == sorted(b) and a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert progress.fractions == sorted(progress.fractions)  # monotone
    assert progress.fractions[-1] == 1.0
    # per finished task, not per output (an output is one future): steps on the way
    assert len({round(f, 6) for f in progress.fractions if 0 < f < 1}) >= 3


def test_a_worker_killed_mid_run_gives_the_same_output(cluster, survey, tmp_path):
    address, procs = cluster
    a = _on_threads("kuwahara3d-joint", survey, tmp_path / "threads")
    killed = threading.Event()

    def kill_one(fraction):
        if 0.3 < fraction < 0.9 and not killed.is_set():
            killed.set()
            procs[-1].send_signal(signal.SIGKILL)

    there = aaspi_py.run("kuwahara3d", _copy(survey, tmp_path / "cluster").root, scheduler=address,
                         progress=Recording(kill_one), **RUNS["kuwahara3d-joint"])
    assert killed.is_set() and procs[-1].wait(timeout=10) == -signal.SIGKILL
    b = _volumes(there)
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


# ---------------------------------------------------------------- bounded memory (local)

def test_write_volumes_writes_every_chunk_and_sums_partials(tmp_path):
    import dask.array as da

    from aaspi_py.framework.volume_store import write_volumes
    from aaspi_py.volume import build_dataset

    values = np.random.default_rng(3).standard_normal((20, 18, 40)).astype(np.float32)
    x = da.from_array(values, chunks=(8, 8, 16))
    per_chunk = da.map_blocks(lambda b: np.array([[[[b.size, b.sum(dtype=np.float64)]]]]), x, new_axis=3,
                              chunks=(*((1,) * n for n in x.numblocks), (2,)), dtype=np.float64)
    progress = Recording()
    (total,) = write_volumes([(build_dataset(x, kind="attribute"), tmp_path / "a.zarr"),
                              (build_dataset(-x, kind="attribute"), tmp_path / "b.zarr")], per_chunk,
                             chunks=(8, 8, 16), progress=progress)
    np.testing.assert_array_equal(aaspi_py.open_volume(tmp_path / "a.zarr")["data"].values, values)
    np.testing.assert_array_equal(aaspi_py.open_volume(tmp_path / "b.zarr")["data"].values, -values)
    assert total[0] == values.size and total[1] == pytest.approx(values.sum(dtype=np.float64))
    assert progress.fractions == sorted(progress.fractions) and progress.fractions[-1] == 1.0


def test_a_chunking_that_cannot_fit_is_refused_in_one_line(survey, tmp_path, monkeypatch):
    from aaspi_py.framework import volume_store

    # the tiny survey needs well under a MB: pretend a kB is left
    monkeypatch.setattr(volume_store, "available_memory", lambda: 1000)
    with pytest.raises(aaspi_py.AaspiError) as e:
        aaspi_py.run("kuwahara3d", _copy(survey, tmp_path / "p").root, inputs=["a1", "a2"], selection="joint")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("kuwahara3d with window 3x3x3 on 2 volume(s) needs about ")
    assert msg.endswith("but only 1000 B is available; free memory.")
    assert not list((tmp_path / "p" / "volumes").glob("kuwahara3d_*"))  # refused before writing
