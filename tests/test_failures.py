"""Fault injection: bad paths, interruptions, full disks, read-only projects, bad addresses.

Every case asserts the exit status, the one line the user sees, and that nothing outside
the project, no folder and no earlier result was touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from aaspi_py.sample_volumes import F3_PATH

import aaspi_py
from aaspi_py.cli.commands import main

CLI = [sys.executable, "-m", "aaspi_py.cli"]


# ---------------------------------------------------------------- helpers

def cli(capsys, *argv) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under ``root`` with its size and modification time."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[p.relative_to(root).as_posix()] = ("dir",) if p.is_dir() else (st.st_size, st.st_mtime_ns)
    return out


def one_error(code: int, err: list[str], start: str, *pieces: str) -> None:
    assert code == 2, err
    assert len(err) == 1, err
    assert err[0].startswith(start), err
    for piece in pieces:
        assert piece in err[0], err


@pytest.fixture
def amp(project, rng):
    """The empty test project ('test') with one small volume, 'amp'."""
    aaspi_py.save_volume(rng.standard_normal((8, 8, 16)).astype("f4"), project.volumes_dir / "amp.zarr")
    return project


def _hidden(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name)


# ---------------------------------------------------------------- 1. path safety

def test_a_folder_as_destination_is_refused_even_with_overwrite(amp, capsys):
    root = amp.root
    (root / "training" / "picks").mkdir()
    (root / "training" / "picks" / "picks.txt").write_text("1 1 1 1\n")
    (root / "results" / "mine").mkdir()
    (root / "results" / "mine" / "notes.txt").write_text("keep me")
    before = snapshot(root)
    for dst in (root / "training", root / "results" / "mine"):
        code, _, err = cli(capsys, "export-segy", "amp", dst, "-p", root, "--overwrite")
        one_error(code, err, f"aaspi: error: {dst} is a folder, not a file; --overwrite replaces only what a "
                             "module wrote")
    code, _, err = cli(capsys, "run", "segy_export", "-p", root, "--set", "volume=amp", "--set", "dst=training",
                       "--overwrite")
    one_error(code, err, f"aaspi: error: {root / 'training'} is a folder, not a file")
    code, _, err = cli(capsys, "run", "segy_export", "-p", root, "--set", "volume=amp",
                       "--set", "dst=aaspi_project.toml", "--overwrite")
    one_error(code, err, "aaspi: error: ", "part of the project's own layout")
    assert snapshot(root) == before


def test_paths_outside_the_project_are_refused_before_anything_is_written(tmp_path, rng, capsys):
    root = tmp_path / "big"
    aaspi_py.Project.create(root)
    aaspi_py.save_volume(rng.standard_normal((4, 4, 8)).astype("f4"), root / "volumes" / "amp.zarr")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "results" / "link").symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path)
    # "big" is a string prefix of "big_rfc3d.sgy": containment must compare whole path parts
    code, _, err = cli(capsys, "export-segy", "amp", tmp_path / "big_rfc3d.sgy", "-p", root)
    one_error(code, err, "aaspi: error: The output ", "is outside the project")
    for dst in ("../../x.sgy", str(tmp_path / "x.sgy"), "results/link/x.sgy"):
        code, _, err = cli(capsys, "run", "segy_export", "-p", root, "--set", "volume=amp", "--set", f"dst={dst}")
        one_error(code, err, f"aaspi: error: The output {(root / dst).resolve()} is outside the project {root}")
    assert snapshot(tmp_path) == before


def test_suffix_and_project_name_are_checked_like_volume_names(amp, tmp_path, capsys):
    before = snapshot(tmp_path)
    for key, value, start in (("suffix", "/../../evil", "aaspi: error: Invalid suffix '/../../evil'"),
                              ("suffix", "_a/b", "aaspi: error: Invalid suffix '_a/b'"),
                              ("project_name", "../x", "aaspi: error: Invalid project name (project_name) '../x'")):
        code, _, err = cli(capsys, "run", "kuwahara3d", "-p", amp.root, "--set", "inputs=amp", "--set",
                           f"{key}={value}")
        one_error(code, err, start, "(no spaces")
    assert snapshot(tmp_path) == before
    # an ordinary suffix still works and names the output
    res = aaspi_py.run("kuwahara3d", amp.root, inputs=["amp"], suffix="_v2")
    assert list(res.outputs) == ["kuwahara3d_amp_test_v2"]


def test_new_project_on_a_file_and_import_into_a_mistyped_project(tmp_path, capsys):
    (tmp_path / "survey").write_text("not a folder")
    code, _, err = cli(capsys, "new-project", tmp_path / "survey")
    one_error(code, err, f"aaspi: error: {tmp_path / 'survey'} is a file, not a folder")
    code, _, err = cli(capsys, "import-segy", F3_PATH, "-p", tmp_path / "TYPO")
    one_error(code, err, f"aaspi: error: {tmp_path / 'TYPO'} is not an aaspi_py project",
              "aaspi new-project")
    assert not (tmp_path / "TYPO").exists()


# ---------------------------------------------------------------- 2. run records

def test_a_failed_run_never_replaces_the_completed_record(amp, capsys):
    res = aaspi_py.run("kuwahara3d", amp.root, inputs=["amp"])
    record = res.log_path
    output = res.outputs["kuwahara3d_amp_test"]
    completed, volume = record.read_text(), snapshot(output)
    assert "status: completed" in completed
    # output exists: refused before the run starts, nothing recorded
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", amp.root, "--set", "inputs=amp")
    one_error(code, err, "aaspi: error: ", "kuwahara3d_amp_test.zarr already exists; pass --overwrite")
    # a run that fails half-way: its record goes beside the completed one
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", amp.root, "--set", "inputs=amp", "--set",
                       "selection=guide", "--set", "guide=nope", "--overwrite")
    one_error(code, err, "aaspi: error: Volume 'nope' (parameter 'guide') not found")
    assert record.read_text() == completed
    failed = record.with_name("aaspi_kuwahara3d_test.failed.out").read_text()
    assert "status: failed: AaspiError: Volume 'nope'" in failed
    assert snapshot(output) == volume and _hidden(amp.root) == []


# ---------------------------------------------------------------- 3. interrupted runs

def _slow_project(tmp_path: Path) -> Path:
    """A volume in many small chunks: the filter writes chunk after chunk for a few seconds."""
    root = tmp_path / "proj"
    aaspi_py.Project.create(root, "test")
    data = np.random.default_rng(0).standard_normal((64, 64, 128)).astype("f4")
    aaspi_py.save_volume(data, root / "volumes" / "amp.zarr", chunks=(16, 16, 32))
    return root


def _start_and_wait_for_a_written_chunk(root: Path, timeout: float = 120.0) -> subprocess.Popen:
    proc = subprocess.Popen([*CLI, "run", "kuwahara3d", "-p", str(root), "--set", "inputs=amp", "--set",
                             "window=5,5,5", "--set", "statistic=median", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        tmps = list((root / "volumes").glob(".kuwahara3d_amp_test.zarr.tmp-*"))
        if tmps and any((tmps[0] / "data" / "c").rglob("*")):
            return proc
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"the run never wrote a chunk: {proc.communicate()}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_leaves_no_output_and_the_next_run_cleans_up(tmp_path, sig):
    root = _slow_project(tmp_path)
    amp_before = snapshot(root / "volumes" / "amp.zarr")
    proc = _start_and_wait_for_a_written_chunk(root)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    project = aaspi_py.Project.open(root)
    assert project.volumes() == ["amp"]  # nothing that looks finished
    assert snapshot(root / "volumes" / "amp.zarr") == amp_before
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
        assert err.strip().splitlines() == ["aaspi: terminated (SIGTERM); no output was written."]
        assert _hidden(root) == []
        record = (root / "logs" / "aaspi_kuwahara3d_test.out").read_text()
        assert "status: interrupted" in record
    else:
        assert proc.returncode == -signal.SIGKILL
        left = _hidden(root)
        assert len(left) == 1 and left[0].startswith("volumes/.kuwahara3d_amp_test.zarr.tmp-")
        res = aaspi_py.run("volume_info", root, volume="amp")  # the next run, any module
        assert _hidden(root) == []
        assert f"removed 1 leftover(s) of interrupted runs: {left[0]}" in res.log_path.read_text()


def test_aaspi_clean_removes_only_leftovers_of_dead_runs(amp, capsys):
    from aaspi_py.framework.leftovers import HOST

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        vols = amp.volumes_dir
        killed = vols / f".x.zarr.tmp-{HOST}-{dead}-0123abcd"
        running = vols / f".y.zarr.tmp-{HOST}-{sleeper.pid}-0123abcd"
        remote = vols / ".z.zarr.tmp-otherhost-1-0123abcd"
        old = amp.results_dir / f".r.png.old-{HOST}-{dead}-89abcdef"
        for p in (killed, running, remote):
            (p / "data").mkdir(parents=True)
            (p / "data" / "chunk").write_bytes(b"x" * 1000)
        old.write_bytes(b"png")
        code, out, err = cli(capsys, "clean", "-p", amp.root)
        assert code == 0 and err == []
        assert f"removed volumes/{killed.name} (1000 B)" in out and f"removed results/{old.name}" in out
        assert "2 leftover(s) of interrupted runs removed" in out
        assert "kept 1 temporary output(s) of runs on other hosts (otherhost)" in out
        assert not killed.exists() and not old.exists() and running.exists() and remote.exists()
        assert amp.volumes() == ["amp"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_ctrl_c_with_worker_processes_is_one_line(tmp_path):
    root = _slow_project(tmp_path)
    # Ctrl-C in a terminal goes to the whole process group: the workers get it too
    proc = subprocess.Popen([*CLI, "run", "kuwahara3d", "-p", str(root), "--set", "inputs=amp", "--set",
                             "window=5,5,5", "--set", "statistic=median", "--quiet", "--scheduler", "processes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and \
            not list((root / "volumes").glob(".kuwahara3d_amp_test.zarr.tmp-*")):
        time.sleep(0.05)
    time.sleep(1.0)  # workers busy with blocks
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["aaspi: interrupted; no output was written."]
    assert _hidden(root) == [] and aaspi_py.Project.open(root).volumes() == ["amp"]


# ---------------------------------------------------------------- 4. checks before work

def test_outputs_and_training_file_are_checked_before_training(amp, capsys):
    shutil.copytree(amp.volumes_dir / "amp.zarr", amp.volumes_dir / "rfc3d_classification_test.zarr")
    (amp.root / "picks.txt").write_text("# inline crossline sample class\n1 1 0 1\n")
    before = snapshot(amp.root)
    t0 = time.perf_counter()
    code, _, err = cli(capsys, "run", "rfc3d", "-p", amp.root, "--set", "attributes=amp",
                       "--set", "training_file=picks.txt")
    one_error(code, err, "aaspi: error: ", "rfc3d_classification_test.zarr already exists; pass --overwrite")
    assert time.perf_counter() - t0 < 5
    code, _, err = cli(capsys, "run", "rfc3d", "-p", amp.root, "--set", "attributes=amp",
                       "--set", "training_file=training", "--overwrite")
    one_error(code, err, "aaspi: error: The training_file training is a folder; give the text training file")
    code, _, err = cli(capsys, "run", "gtm3d", "-p", amp.root, "--set", "inputs=amp,nope")
    one_error(code, err, "aaspi: error: Volume 'nope' (parameter 'inputs') not found")
    # the refused training file left a record of the failed run, nothing else
    assert {k: v for k, v in snapshot(amp.root).items() if not k.startswith("logs/")} == before
    assert "status: failed" in (amp.logs_dir / "aaspi_rfc3d_test.out").read_text()


def test_memory_hungry_parameters_are_refused_up_front(amp, capsys, monkeypatch):
    (amp.root / "picks.txt").write_text("1 1 0 1\n")
    t0 = time.perf_counter()
    code, _, err = cli(capsys, "run", "gtm3d", "-p", amp.root, "--set", "inputs=amp", "--set",
                       "latent_grid=2000,2000")
    one_error(code, err, "aaspi: error: gtm3d with latent_grid 2000x2000 (4000000 nodes) on 1 attribute needs "
                         "about 233 TiB of memory but ", "use a smaller latent_grid")
    code, _, err = cli(capsys, "run", "rfc3d", "-p", amp.root, "--set", "attributes=amp", "--set",
                       "training_file=picks.txt", "--set", "n_trees=10000000")
    one_error(code, err, "aaspi: error: rfc3d with 20000000 trees of up to 8192 nodes needs about",
              "use fewer trees")
    assert time.perf_counter() - t0 < 10
    monkeypatch.setattr("aaspi_py.framework.resources.available_bytes", lambda: 10_000)
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", amp.root, "--set", "inputs=amp", "--set", "window=7,7,7")
    # no window, chunking or number of inputs fits in 10 kB: only freeing memory helps
    one_error(code, err, "aaspi: error: kuwahara3d with window 7x7x7 on 1 volume(s) needs about",
              "for chunks of 8x8x16 voxels but only 9.77 KiB is available; free memory.")
    assert amp.volumes() == ["amp"] and _hidden(amp.root) == []


def test_kuwahara3d_memory_refusal_names_the_window_and_the_chunks_that_fit(project, rng, capsys, monkeypatch):
    import re

    from aaspi_py.filters.kuwahara3d_steps import memory_needed

    shape = chunks = (48, 48, 32)
    aaspi_py.save_volume(rng.standard_normal(shape).astype("f4"), project.volumes_dir / "amp.zarr", chunks=chunks)
    before = snapshot(project.root)
    have = memory_needed(shape, 1, (9, 9, 9), "each", chunks) - 1  # a byte short
    monkeypatch.setattr("aaspi_py.framework.resources.available_bytes", lambda: have)
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", project.root, "--set", "inputs=amp", "--set", "window=9,9,9")
    one_error(code, err, "aaspi: error: kuwahara3d with window 9x9x9 on 1 volume(s) needs about",
              "for chunks of 48x48x32 voxels", "; use a smaller window (", ", or rewrite the inputs with smaller "
              "chunks (", ", or free memory.")
    assert {k: v for k, v in snapshot(project.root).items() if not k.startswith("logs/")} == before
    # what the line names does fit, by the same memory model, and the suggested window runs
    window = tuple(int(v) for v in re.search(r"smaller window \((\d+)x(\d+)x(\d+) fits\)", err[0]).groups())
    smaller = tuple(int(v) for v in re.search(r"smaller chunks \((\d+)x(\d+)x(\d+) fits", err[0]).groups())
    assert window == (7, 7, 7) and memory_needed(shape, 1, window, "each", chunks) <= have
    assert smaller[2] == 32 and memory_needed(shape, 1, (9, 9, 9), "each", smaller) <= have
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", project.root, "--set", "inputs=amp", "--set",
                       "window=7,7,7", "--quiet")
    assert code == 0 and project.volumes() == ["amp", "kuwahara3d_amp_test"], err
    # two inputs chosen each for itself, a byte short: one input per run fits, no window of
    # one voxel (which filters nothing) is offered
    aaspi_py.save_volume(rng.standard_normal(shape).astype("f4"), project.volumes_dir / "amp2.zarr", chunks=chunks)
    have = memory_needed(shape, 2, (3, 3, 3), "each", chunks) - 1
    code, _, err = cli(capsys, "run", "kuwahara3d", "-p", project.root, "--set", "inputs=amp,amp2", "--overwrite")
    one_error(code, err, "aaspi: error: kuwahara3d with window 3x3x3 on 2 volume(s) needs about",
              "; filter at most 1 input(s) per run, or ")
    assert "smaller window" not in err[0] and memory_needed(shape, 1, (3, 3, 3), "each", chunks) <= have
    assert project.volumes() == ["amp", "amp2", "kuwahara3d_amp_test"]


def test_polygon_on_a_volume_not_in_the_project_is_refused(amp, capsys):
    code, _, err = cli(capsys, "polygon", "new", "-p", amp.root, "--volume", "nosuchvolume", "--slice", "inline",
                       "--line", "9999", "--vertices", "1,2 3,2 3,4")
    one_error(code, err, "aaspi: error: Volume 'nosuchvolume' (parameter '--volume') not found")
    assert amp.facies() == []


# ---------------------------------------------------------------- 5. one line for the environment

def _chattr(path: Path, flag: str) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="chattr is Linux only")
def test_read_only_project_is_one_line(amp, tmp_path, capsys):
    locked = [amp.volumes_dir, amp.polygons_dir, tmp_path / "ro"]
    (tmp_path / "ro").mkdir()
    if os.geteuid() != 0 or not _chattr(amp.volumes_dir, "+i"):
        pytest.skip("needs root and chattr (root ignores mode bits, so the test makes folders immutable)")
    try:
        for p in locked[1:]:
            assert _chattr(p, "+i")
        before = snapshot(amp.root)
        code, _, err = cli(capsys, "run", "kuwahara3d", "-p", amp.root, "--set", "inputs=amp")
        one_error(code, err, "aaspi: error: Operation not permitted: ", "is the project read-only")
        code, _, err = cli(capsys, "import-segy", F3_PATH, "-p", amp.root)
        one_error(code, err, "aaspi: error: Operation not permitted: ")
        code, _, err = cli(capsys, "polygon", "new", "-p", amp.root, "--slice", "inline", "--line", "3",
                           "--vertices", "1,2 3,2 3,4")
        one_error(code, err, "aaspi: error: Operation not permitted: ")
        code, _, err = cli(capsys, "demo", "--size", "small", "-p", tmp_path / "ro" / "demo")
        one_error(code, err, "aaspi: error: Operation not permitted: ")
        new = {k: v for k, v in snapshot(amp.root).items() if not k.startswith("logs/")}
        assert new == {k: v for k, v in before.items() if not k.startswith("logs/")}
    finally:
        for p in locked:
            _chattr(p, "-i")


def test_disk_full_mid_write_is_one_line_and_nothing_half_written(tmp_path, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root and the right to mount")
    try:
        root = disk / "proj"
        aaspi_py.Project.create(root, "test")
        data = np.random.default_rng(0).standard_normal((48, 48, 96)).astype("f4")  # ~0.8 MiB, incompressible
        aaspi_py.save_volume(data, root / "volumes" / "amp.zarr", chunks=(16, 16, 32))
        before = snapshot(root / "volumes")
        code, _, err = cli(capsys, "run", "kuwahara3d", "-p", root, "--set", "inputs=amp")
        one_error(code, err, "aaspi: error: No space left on device", "free space on that disk")
        assert snapshot(root / "volumes") == before and _hidden(root) == []
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_a_closed_pipe_is_quiet(amp, tmp_path, capsys, monkeypatch):
    shell = f"{' '.join(CLI)} info amp -p {amp.root} 2>{tmp_path / 'err.txt'} | head -1"
    out = subprocess.run(["sh", "-c", shell], capture_output=True, text=True).stdout
    assert out.startswith("volume ") and len(out.splitlines()) == 1
    assert (tmp_path / "err.txt").read_text() == ""

    class ClosedPipe:  # the reader is gone before we write
        def __init__(self):
            self._fd = os.open(os.devnull, os.O_WRONLY)

        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return self._fd

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["info", "amp", "-p", str(amp.root)]) == 128 + signal.SIGPIPE
    assert capsys.readouterr().err == ""


def test_bad_scheduler_addresses_are_one_line(amp, capsys):
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        t0 = time.perf_counter()
        code, _, err = cli(capsys, "run", "volume_info", "-p", amp.root, "--volume", "amp",
                           "--scheduler", f"tcp://127.0.0.1:{port}")
        one_error(code, err, f"aaspi: error: tcp://127.0.0.1:{port} answers but is not a dask scheduler",
                  "the scheduler's port is usually 8786")
        assert time.perf_counter() - t0 < 20
        code, _, err = cli(capsys, "run", "volume_info", "-p", amp.root, "--volume", "amp",
                           "--scheduler", f"tls://127.0.0.1:{port}")
        one_error(code, err, f"aaspi: error: tls://127.0.0.1:{port} needs the cluster's TLS certificates")
    finally:
        server.shutdown()
        server.server_close()
    code, _, err = cli(capsys, "run", "volume_info", "-p", amp.root, "--volume", "amp",
                       "--scheduler", f"tcp://127.0.0.1:{port}")
    one_error(code, err, f"aaspi: error: Cannot reach the dask cluster at tcp://127.0.0.1:{port} (Connection refused)")


def test_aaspi_util_says_what_is_missing(monkeypatch, capsys):
    from aaspi_py.gui.start import main as util_main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert util_main([]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "aaspi-util: error: no display: DISPLAY is not set; run it in a desktop session, over `ssh -X`, or under "
        "`xvfb-run aaspi-util` (the `aaspi` command works without a display)."]
    monkeypatch.setitem(sys.modules, "PyQt5", None)  # as if the gui extra were not installed
    assert util_main([]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "aaspi-util: error: the launcher needs PyQt5; install the gui extra: pip install 'aaspi_py[gui]'"]


# ---------------------------------------------------------------- 6. demo --overwrite

def test_demo_overwrite_refuses_a_project_it_did_not_make(amp, capsys):
    from aaspi_py.sample_volumes.project import RECORD

    from aaspi_py.cli.demo import check_demo_folder

    before = snapshot(amp.root)
    code, _, err = cli(capsys, "demo", "--size", "small", "-p", amp.root, "--overwrite")
    one_error(code, err, f"aaspi: error: {amp.root} is a project not made by `aaspi demo`")
    assert snapshot(amp.root) == before
    # a sample project that also holds the user's own volume
    (amp.root / RECORD).write_text("{}")
    shutil.copytree(amp.volumes_dir / "amp.zarr", amp.volumes_dir / "kuwahara3d_envelope_test.zarr")
    (amp.results_dir / "rfc3d_model_test").mkdir()
    before = snapshot(amp.root)
    code, _, err = cli(capsys, "demo", "--size", "small", "-p", amp.root, "--overwrite")
    one_error(code, err, f"aaspi: error: {amp.root} holds work the demo did not make (volumes/: amp.zarr)")
    assert snapshot(amp.root) == before
    shutil.rmtree(amp.volumes_dir / "amp.zarr")
    check_demo_folder(amp.root)  # only the demo's own outputs left: a rebuild may replace them


def test_check_reports_what_run_would_refuse_without_running(amp):
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.runner import check

    assert check("kuwahara3d", amp.root, inputs="amp")["inputs"] == ["amp"]
    with pytest.raises(AaspiError, match=r"Volume 'nope' \(parameter 'inputs'\) not found"):
        check("kuwahara3d", amp.root, inputs="amp,nope")
    aaspi_py.run("kuwahara3d", amp.root, inputs=["amp"])
    with pytest.raises(AaspiError, match="kuwahara3d_amp_test.zarr already exists"):
        check("kuwahara3d", amp.root, inputs="amp")
    assert check("kuwahara3d", amp.root, inputs="amp", overwrite=True)["window"] == [3, 3, 3]
    # the library refuses to overwrite a folder that is not a volume
    (amp.root / "results" / "notes").mkdir()
    with pytest.raises(AaspiError, match="exists and is not a volume; overwrite=True replaces only a volume"):
        aaspi_py.save_volume(np.zeros((2, 2, 2)), amp.root / "results" / "notes", overwrite=True)
    assert (amp.root / "results" / "notes").is_dir()


def test_overwrite_replaces_an_output_folder_but_not_another_folder(amp, capsys):
    from aaspi_py.framework.registry import get_module
    from aaspi_py.framework.runner import RunContext

    ctx = RunContext(project=amp, module=get_module("define_training_data"), params={}, progress=None,
                     overwrite=True)
    model = amp.results_dir / "rfc3d_model_test"
    model.mkdir()
    (model / "model.json").write_text("{}")
    assert ctx.check_output(model, "dir") == model.resolve()
    (amp.training_dir / "notes").mkdir()
    with pytest.raises(aaspi_py.AaspiError, match="notes is a folder, not an output folder of a run "
                                                  r"\(holding training_set.json or model.json\)"):
        ctx.check_output(amp.training_dir / "notes", "dir")
