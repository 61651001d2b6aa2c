"""``aaspi demo``: build the sample project and run every installed module's demo step."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .errors import AaspiError, Cancelled
from .progress import Progress
from .registry import Module, load_modules


def demo_steps() -> list[Module]:
    """Installed modules that have a demo step, in ``demo_order``."""
    return sorted((m for m in load_modules().values() if m.demo is not None), key=lambda m: (m.demo_order, m.id))


def run_demo(root: str | Path = "aaspi_demo", *, size: str = "demo", overwrite: bool = False,
             progress: Callable[[str], Progress] | None = None, echo: Callable[[str], None] = print,
             keep_going: bool = True) -> list[str]:
    """Build the sample survey project at ``root`` and run each module's demo step in order.

    Parameters
    ----------
    root : folder of the sample project
    size : "small" or "demo" (see :data:`aaspi_py.sample_volumes.SIZES`)
    overwrite : rebuild the sample project if it exists
    progress : makes the progress object of each step from its name (the CLI passes a
        progress-bar factory); default: silent
    echo : where summary lines go as they are produced
    keep_going : run the remaining steps after one fails (the failures are raised together
        at the end); False re-raises the first failure with its traceback

    Returns
    -------
    The summary lines (also given to ``echo``).
    """
    from .sample_volumes import SIZES, build_sample_project

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
