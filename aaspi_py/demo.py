"""``aaspi demo``: build the sample project and run every installed module's demo step."""

from __future__ import annotations

import time
from pathlib import Path

from .progress import Progress
from .registry import load_modules


def run_demo(root: str | Path = "aaspi_demo", *, size: str = "demo", overwrite: bool = False,
             progress=None, echo=print) -> list[str]:
    """Build the sample survey project at ``root`` and run each module's demo step in order.

    Returns the summary lines (also printed through ``echo``).
    """
    from .sample_volumes import build_sample_project

    progress = progress or Progress()
    t0 = time.perf_counter()
    project = build_sample_project(root, size=size, overwrite=overwrite, progress=progress)
    summary = [f"sample project: {project.root}  ({time.perf_counter() - t0:.1f} s)"]
    echo(summary[-1])
    steps = sorted((m for m in load_modules().values() if m.demo is not None), key=lambda m: (m.demo_order, m.id))
    for m in steps:
        t = time.perf_counter()
        lines = m.demo(project, progress) or []
        head = f"[{m.id}] ({time.perf_counter() - t:.1f} s)"
        echo(head)
        summary.append(head)
        for line in lines:
            echo("    " + line)
            summary.append("    " + line)
    echo(f"demo finished in {time.perf_counter() - t0:.1f} s; results in {project.root}")
    return summary
