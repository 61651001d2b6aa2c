"""The ``aaspi`` command: every subcommand, one-line errors with exit 2, --debug, the demo."""

import subprocess
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
import segyio
from aaspi_py.sample_volumes import F3_PATH

import aaspi_py
from aaspi_py.cli.commands import main
from aaspi_py.cli.demo import demo_steps as all_demo_steps
from aaspi_py.framework.errors import AaspiError

AASPI = Path(sys.executable).parent / "aaspi"
needs_segy = pytest.mark.skipif(find_spec("aaspi_py.io.segy") is None, reason="SEG-Y reader not installed")


def errors(err: str) -> list[str]:
    """stderr lines, leaving out warnings about plugins that failed to load."""
    return [line for line in err.splitlines() if line and not line.startswith("aaspi: warning:")]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- commands


def test_new_project_creates_the_folders(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "new-project", tmp_path / "survey", "--name", "gom")
    assert code == 0 and out.strip() == f"created project 'gom' at {tmp_path / 'survey'}"
    project = aaspi_py.Project.open(tmp_path / "survey")
    assert project.name == "gom"
    assert sorted(p.name for p in project.root.iterdir()) == [
        "aaspi_project.toml", "logs", "polygons", "results", "training", "volumes"]
    code, out, _ = run_cli(capsys, "new-project", tmp_path / "survey")
    assert code == 0 and out.startswith("project exists 'gom'")


def test_modules_lists_the_utilities(capsys):
    code, out, _ = run_cli(capsys, "modules")
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0
    for module_id in ("segy_import", "segy_export", "volume_info"):
        assert "Utilities" in rows[module_id]
    assert "Describe a volume" in rows["volume_info"]


def test_params_prints_a_toml_template(capsys):
    code, out, _ = run_cli(capsys, "params", "volume_info")
    assert code == 0
    assert tomllib.loads(out) == {"project_name": "", "suffix": ""}  # volume is required: commented
    assert "# Volume to describe." in out and '# volume = ""    # required' in out
    code, out, _ = run_cli(capsys, "params", "segy_import")
    values = tomllib.loads(out)
    assert values["iline_byte"] == 189 and values["keep_trace_headers"] is True


def test_info_describes_a_volume(sample_project, capsys):
    code, out, _ = run_cli(capsys, "info", "true_facies", "-p", sample_project.root)
    assert code == 0
    assert "kind     facies   dtype int16   shape (40, 40, 60)" in out
    assert "inline   100 .. 139 step 1" in out and "sample   600 .. 836 ms step 4 (time)" in out
    # a .zarr path works without a project
    code, out2, _ = run_cli(capsys, "info", sample_project.volume_path("true_facies"))
    assert code == 0 and out2 == out


def test_help_exits_0(capsys):
    for argv in (["--help"], ["run", "--help"], ["info", "--help"], ["demo", "--help"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0 and out.startswith("usage: aaspi") and errors(err) == [], argv
    assert "--size {small,demo}" in run_cli(capsys, "demo", "--help")[1]


def test_run_help_lists_generated_options(capsys):
    code, out, _ = run_cli(capsys, "run", "volume_info", "--help")
    assert code == 0
    for option in ("--volume VOLUME", "--project-name STR", "--suffix STR", "--params FILE",
                   "--set KEY=VALUE", "--scheduler S", "--overwrite"):
        assert option in out, option
    code, out, _ = run_cli(capsys, "run", "segy_import", "--help")
    assert "--iline-byte INT" in out and "range [1, 237]; default 189" in out


def test_run_prints_each_summary_line_once(sample_project_copy, capsys):
    code, out, _ = run_cli(capsys, "run", "volume_info", "-p", sample_project_copy.root,
                           "--volume", "amplitude", "--quiet")
    assert code == 0
    assert out.count("kind     amplitude   dtype float32   shape (40, 40, 60)") == 1
    assert out.strip().splitlines()[-1].startswith(
        f"run record: {sample_project_copy.root / 'logs' / 'aaspi_volume_info_sample.out'}")


def test_set_params_file_and_generated_options(sample_project_copy, tmp_path, capsys):
    root = sample_project_copy.root
    params = tmp_path / "info.toml"
    params.write_text('volume = "dip_deviation"\nsuffix = "_file"\n')
    code, out, _ = run_cli(capsys, "run", "volume_info", "-p", root, "--params", params, "--quiet")
    assert code == 0 and "dip_deviation.zarr" in out and (root / "logs" / "aaspi_volume_info_sample_file.out").exists()
    # a generated option beats the file; --set beats both
    code, out, _ = run_cli(capsys, "run", "volume_info", "-p", root, "--params", params, "--quiet",
                           "--volume", "envelope", "--project-name", "gom", "--set", "suffix=_set")
    assert code == 0 and "envelope.zarr" in out
    record = root / "logs" / "aaspi_volume_info_gom_set.out"
    assert record.exists() and 'volume = "envelope"' in record.read_text()


def test_generated_option_is_validated(sample_project_copy, capsys):
    code, _, err = run_cli(capsys, "run", "segy_import", "-p", sample_project_copy.root,
                           "--src", F3_PATH, "--iline-byte", "0")
    assert code == 2
    assert errors(err) == ["aaspi: error: The 'iline_byte' parameter of segy_import must be an int in the "
                           "range [1, 237]. Got 0 instead."]


@needs_segy
def test_import_info_export_round_trip(tmp_path, capsys):
    root = tmp_path / "f3"
    assert run_cli(capsys, "new-project", root)[0] == 0
    code, out, _ = run_cli(capsys, "import-segy", F3_PATH, "-p", root)
    assert code == 0 and "23 inlines (111..133)" in out
    code, out, err = run_cli(capsys, "info", "f3", "-p", root)
    assert code == 0, err
    assert "inline   111 .. 133 step 1" in out and "crossline 875 .. 892 step 1" in out
    code, _, err = run_cli(capsys, "import-segy", F3_PATH, "-p", root)
    assert code == 2 and errors(err)[0].endswith("already exists; pass --overwrite (overwrite=True) to replace it.")
    code, out, _ = run_cli(capsys, "export-segy", "f3", root / "results" / "out.sgy", "-p", root)
    assert code == 0 and (root / "results" / "out.sgy").exists()
    with segyio.open(F3_PATH) as a, segyio.open(root / "results" / "out.sgy") as b:
        np.testing.assert_array_equal(segyio.tools.cube(a), segyio.tools.cube(b))
        assert a.text[0] == b.text[0]


# ---------------------------------------------------------------- bad input


def _bad_inputs(root: Path, tmp: Path) -> list[tuple[list, str]]:
    return [
        ([], "aaspi: error: the following arguments are required: command"),
        (["frobnicate"], "aaspi: error: argument command: invalid choice: 'frobnicate'"),
        (["info", "nope", "-p", root], "aaspi: error: Volume 'nope' (parameter 'volume') not found"),
        (["info", "amplitude", "-p", tmp], f"aaspi: error: {tmp} is not an aaspi_py project"),
        (["params", "nope"], "aaspi: error: Unknown module 'nope'; installed modules:"),
        (["run"], "aaspi: error: aaspi run needs a module name"),
        (["run", "nope", "-p", root], "aaspi: error: Unknown module 'nope'"),
        (["run", "volume_info", "-p", root], "aaspi: error: The 'volume' parameter of volume_info is required"),
        (["run", "volume_info", "-p", root, "--volume", "missing"], "aaspi: error: Volume 'missing'"),
        (["run", "volume_info", "-p", root, "--bogus", "1"],
         "aaspi: error: Unknown option '--bogus' for volume_info; `aaspi run volume_info --help` lists them."),
        (["run", "volume_info", "-p", root, "--set", "volume"], "aaspi: error: --set 'volume': write it as KEY=VALUE"),
        (["run", "volume_info", "-p", root, "--set", "colour=red"], "aaspi: error: Unknown parameter 'colour'"),
        (["run", "volume_info", "-p", root, "--volume", "amplitude", "--params", tmp / "none.toml"],
         "aaspi: error: Cannot read parameter file"),
        (["demo", "--size", "huge"], "aaspi: error: argument --size: invalid choice: 'huge'"),
        (["new-project", tmp / "x", "--name", "bad name"], "aaspi: error: Invalid project name 'bad name'"),
        (["info", "amplitude", "-p", root, "--extra"], "aaspi: error: Unexpected argument '--extra'"),
    ]


def test_bad_input_is_one_line_and_exit_2(sample_project, tmp_path, capsys):
    for argv, start in _bad_inputs(sample_project.root, tmp_path):
        code, out, err = run_cli(capsys, *argv)
        lines = errors(err)
        assert code == 2, argv
        assert len(lines) == 1 and lines[0].startswith(start), (argv, lines)
        assert "Traceback" not in err, argv


def test_debug_shows_the_traceback(sample_project, capsys):
    with pytest.raises(AaspiError, match="Volume 'nope'"):
        main(["info", "nope", "-p", str(sample_project.root), "--debug"])
    with pytest.raises(AaspiError, match="Volume 'nope'"):
        main(["--debug", "run", "volume_info", "-p", str(sample_project.root), "--volume", "nope"])


def test_installed_command_exit_codes(sample_project):
    def aaspi(*argv):
        return subprocess.run([str(AASPI), *map(str, argv)], capture_output=True, text=True, timeout=120)

    ok = aaspi("run", "volume_info", "-p", sample_project.root, "--volume", "dip_deviation", "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert "kind     attribute   dtype float32   shape (40, 40, 60)" in ok.stdout
    bad = aaspi("info", "nope", "-p", sample_project.root)
    assert bad.returncode == 2
    assert len(errors(bad.stderr)) == 1 and errors(bad.stderr)[0].startswith("aaspi: error: Volume 'nope'")
    assert bad.stdout == ""
    debug = aaspi("info", "nope", "-p", sample_project.root, "--debug")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "AaspiError: Volume 'nope'" in debug.stderr


# ---------------------------------------------------------------- demo


def _utility_steps():
    return [m for m in all_demo_steps() if m.id in ("segy_import", "volume_info", "segy_export")]


@needs_segy
def test_demo_builds_the_sample_project_and_runs_the_steps(tmp_path, capsys, monkeypatch):
    import aaspi_py.cli.demo

    # the utility steps only: the whole workflow is the slow test below
    monkeypatch.setattr(aaspi_py.cli.demo, "demo_steps", _utility_steps)
    code, out, err = run_cli(capsys, "demo", "--size", "small", "-p", tmp_path / "demo")
    assert code == 0, errors(err)
    lines = out.splitlines()
    assert lines[0].startswith(f"sample project 'sample' (small, 40x40x60) at {tmp_path / 'demo'}")
    assert [line.split("]")[0][1:] for line in lines if line.startswith("[")] == [
        "segy_import", "volume_info", "segy_export"]
    assert "    kind     amplitude   dtype float32   shape (40, 40, 60) (inline, crossline, sample)" in lines
    assert lines[-1].startswith("demo finished in") and "3 of 3 steps ran" in lines[-1]
    assert (tmp_path / "demo" / "volumes" / "f3.zarr").exists()
    # a second demo needs --overwrite
    code, _, err = run_cli(capsys, "demo", "--size", "small", "-p", tmp_path / "demo")
    assert code == 2 and errors(err) == [
        f"aaspi: error: The sample project {tmp_path / 'demo'} already exists; pass --overwrite "
        "(overwrite=True) to rebuild it."]


def test_demo_reports_a_failing_step_and_exits_2(tmp_path, capsys, monkeypatch):
    import aaspi_py.cli.demo
    from aaspi_py.framework.registry import Module

    def broken(project, progress):
        raise RuntimeError("no luck")

    step = Module(id="broken", title="Broken step", category="Utilities", description="Fails.",
                  params=(), run=lambda ctx, p: None, demo=broken)
    monkeypatch.setattr(aaspi_py.cli.demo, "demo_steps", lambda: [step])
    code, out, err = run_cli(capsys, "demo", "--size", "small", "-p", tmp_path / "demo")
    assert code == 2
    assert "[broken]  Broken step" in out and "    FAILED: RuntimeError: no luck" in out
    assert "0 of 1 steps ran" in out
    assert errors(err) == ["aaspi: error: demo step(s) failed: broken; rerun with --debug for the traceback."]
    with pytest.raises(RuntimeError, match="no luck"):
        main(["demo", "--size", "small", "-p", str(tmp_path / "demo"), "--overwrite", "--debug"])


@pytest.mark.slow
@needs_segy
def test_demo_small_runs_every_step(tmp_path, capsys):
    code, out, err = run_cli(capsys, "demo", "--size", "small", "-p", tmp_path / "demo")
    assert code == 0, errors(err)
    steps = [m.id for m in all_demo_steps()]
    assert [line.split("]")[0][1:] for line in out.splitlines() if line.startswith("[")] == steps
    assert "FAILED" not in out and f"{len(steps)} of {len(steps)} steps ran" in out
