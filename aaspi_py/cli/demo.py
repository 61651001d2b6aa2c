"""``aaspi demo``: build the sample project and run every installed module's demo step."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from aaspi_py.framework.errors import AaspiError, Cancelled
from aaspi_py.framework.progress import Progress
from aaspi_py.framework.registry import Module, load_modules


def demo_steps() -> list[Module]:
    """Installed modules that have a demo step, in ``demo_order``."""
    return sorted((m for m in load_modules().values() if m.demo is not None), key=lambda m: (m.demo_order, m.id))


def _made_by_demo(project) -> dict[str, list[str]]:
    """What in the project's folders the demo did not make, by folder."""
    import re

    from aaspi_py.sample_volumes import ATTRIBUTES, FACIES

    steps = "|".join(re.escape(m.id) for m in demo_steps())
    # demo steps name outputs <module>_<what>_<project> (no suffix), AASPI style
    output = re.compile(rf"^({steps})(_.+)?_{re.escape(project.name)}$") if steps else None
    known = {
        "volumes": {"amplitude", "true_facies", "f3", *ATTRIBUTES},
        "training": {"sample", "sample_true_facies"},
        "polygons": set(FACIES),
        "results": {"f3_export"},
    }
    others: dict[str, list[str]] = {}
    for folder, names in known.items():
        for path in sorted((project.root / folder).iterdir()):
            stem = path.name.split(".")[0] if folder != "training" else path.name
            if path.name.startswith(".") or stem in names:
                continue
            if folder in ("volumes", "results") and output is not None and output.match(stem):
                continue
            others.setdefault(folder, []).append(path.name)
    return others


def check_demo_folder(root: str | Path) -> None:
    """Refuse ``--overwrite`` on a folder that holds work the demo did not make.

    Rebuilding replaces the project's volumes/, polygons/, training/, results/ and logs/:
    allowed only for a sample project (it has the sample survey record) whose volumes,
    polygons, training sets and results are all the demo's own.
    """
    from aaspi_py.framework.project import PROJECT_FILE, Project
    from aaspi_py.sample_volumes.project import RECORD

    root = Path(root)
    if not (root / PROJECT_FILE).exists():
        return  # an empty or new folder; build_sample_project refuses any other folder
    if not (root / RECORD).exists():
        raise AaspiError(f"{root.resolve()} is a project not made by `aaspi demo` (no {RECORD}); --overwrite "
                         "rebuilds only a demo project. Give the demo another --project folder.")
    others = _made_by_demo(Project.open(root))
    if others:
        listed = "; ".join(f"{folder}/: {', '.join(names[:4])}{' …' if len(names) > 4 else ''}"
                           for folder, names in others.items())
        raise AaspiError(f"{root.resolve()} holds work the demo did not make ({listed}); --overwrite would delete "
                         "it. Move it to another project, or give the demo another --project folder.")


def run_demo(root: str | Path = "aaspi_demo", *, size: str = "demo", overwrite: bool = False,
             progress: Callable[[str], Progress] | None = None, echo: Callable[[str], None] = print,
             keep_going: bool = True) -> list[str]:
    """Build the sample survey project at ``root`` and run each module's demo step in order.

    Parameters
    ----------
    root : folder of the sample project
    size : "small" or "demo" (see :data:`aaspi_py.sample_volumes.SIZES`)
    overwrite : rebuild the sample project if it exists (refused when the folder holds
        volumes, polygons, training sets or results the demo did not make)
    progress : makes the progress object of each step from its name (the CLI passes a
        progress-bar factory); default: silent
    echo : where summary lines go as they are produced
    keep_going : run the remaining steps after one fails (the failures are raised together
        at the end); False re-raises the first failure with its traceback

    Returns
    -------
    The summary lines (also given to ``echo``).
    """
    from aaspi_py.sample_volumes import SIZES, build_sample_project

    if overwrite:
        check_demo_folder(root)
    make_progress = progress or (lambda name: Progress())
    summary: list[str] = []

    def say(line: str) -> None:
        summary.append(line)
        echo(line)

    t0 = time.perf_counter()
    bar = make_progress("sample survey")
    try:
        project = build_sample_project(root, size=size, overwrite=overwrite, progress=bar)
    finally:
        bar.close()
    shape = "x".join(str(n) for n in SIZES[size])
    say(f"sample project '{project.name}' ({size}, {shape}) at {project.root}  "
        f"[{time.perf_counter() - t0:.1f} s]")
    failed: list[str] = []
    steps = demo_steps()
    for module in steps:
        t = time.perf_counter()
        bar = make_progress(module.id)
        try:
            lines = module.demo(project, bar) or []
        except Cancelled:
            raise
        except Exception as e:
            if not keep_going:
                raise
            failed.append(module.id)
            lines = [f"FAILED: {type(e).__name__}: {e}"]
        finally:
            bar.close()
        say(f"[{module.id}]  {module.title}  [{time.perf_counter() - t:.1f} s]")
        for line in lines:
            say(f"    {line}")
    ok = len(steps) - len(failed)
    say(f"demo finished in {time.perf_counter() - t0:.1f} s: {ok} of {len(steps)} steps ran; "
        f"results in {project.root}")
    if failed:
        raise AaspiError(f"demo step(s) failed: {', '.join(failed)}; rerun with --debug for the traceback.")
    return summary
