"""The README's "Use" section runs as written: its shell block, then its notebook block."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_blocks() -> tuple[list[str], str]:
    """The shell commands and the Python code of the README's "Use" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Use\n", 1)[1].split("\n## ", 1)[0]
    shell, python = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.S)[:2]
    return [line for line in shell.splitlines() if line.strip()], python


def test_use_section_runs_as_written(tmp_path, monkeypatch):
    commands, notebook = use_blocks()
    assert [c.split()[0] for c in commands] == ["aaspi"] * 5 + ["aaspi-util"]
    # the commands refer to sample_volumes/ of the repository, as when run from a checkout
    (tmp_path / "sample_volumes").symlink_to(ROOT / "sample_volumes", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command in commands:
        r = subprocess.run(["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
        if shlex.split(command)[0] == "aaspi-util":
            # no display here: one line saying so, never a Qt abort
            assert r.returncode == 2 and r.stderr.splitlines()[0].startswith("aaspi-util: error: no display"), r.stderr
            continue
        assert r.returncode == 0, (command, r.stderr)
    assert "inline   111 .. 133 step 1" in subprocess.run(
        ["sh", "-c", commands[2]], cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert (tmp_path / "survey" / "volumes" / "kuwahara3d_amplitude_survey.zarr" / "zarr.json").exists()

    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(notebook, "README.md (Use)", "exec"), scope)
    assert scope["vol"].iline[111].shape == (18, 75)
    assert list(scope["result"].outputs) == ["kuwahara3d_amplitude_survey_nb"]

