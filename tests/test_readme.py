"""The README's "Use" section runs as written: its shell block, then its notebook block.

The shell lines are split as a shell would (comments dropped, ``> FILE`` redirected) and
given to the same entry points the ``aaspi`` and ``aaspi-util`` scripts call.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_blocks() -> tuple[list[str], str]:
    """The shell commands and the Python code of the README's "Use" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Use\n", 1)[1].split("\n## ", 1)[0]
    shell, python = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.S)[:2]
    return [line for line in shell.splitlines() if line.strip()], python


def test_use_section_runs_as_written(tmp_path, monkeypatch, capsys):
    from aaspi_py.gui.start import main as util_main

    from aaspi_py.cli.commands import main

    commands, notebook = use_blocks()
    # the commands refer to sample_volumes/ of the repository, as when run from a checkout
    (tmp_path / "sample_volumes").symlink_to(ROOT / "sample_volumes", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    outputs = []
    for command in commands:
        words = shlex.split(command, comments=True)
        redirect = words[words.index(">") + 1] if ">" in words else None
        words = words[:words.index(">")] if redirect else words
        capsys.readouterr()
        if words[0] == "aaspi-util":
            # no display here: one line saying so, never a Qt abort
            assert util_main(words[1:]) == 2
            assert capsys.readouterr().err.startswith("aaspi-util: error: no display")
            continue
        assert words[0] == "aaspi"
        code = main(words[1:])
        out, err = capsys.readouterr()
        assert code == 0, (command, err)
        if redirect:
            Path(redirect).write_text(out)
        outputs.append(out)
    assert [shlex.split(c)[0] for c in commands] == ["aaspi"] * 5 + ["aaspi-util"]
    assert "inline   111 .. 133 step 1" in outputs[2]
    assert "wrote kuwahara3d_amplitude_survey" in outputs[4]

    scope: dict = {}
    exec(compile(notebook, "README.md (Use)", "exec"), scope)
    assert scope["vol"].iline[111].shape == (18, 75)
    assert list(scope["result"].outputs) == ["kuwahara3d_amplitude_survey_nb"]
