"""Running a module: validation, scheduler, outputs written atomically, the run record.

``aaspi_py.run("kuwahara3d", project="survey", inputs=["amplitude"])`` is what the CLI,
the GUI and scripts all call. Outputs are written under temporary names and renamed only
when the whole run succeeded, so a crash or a Cancel never leaves a half output that looks
finished. Each run writes ``logs/aaspi_<module>_<project><suffix>.out``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import selection_reference
from .errors import AaspiError, Cancelled
from .params import read_param_file, validate
from .progress import Progress
from .project import Project, check_name
from .registry import Module, get_module
from .scheduler import compute, use_scheduler
from .volume import commit_path, open_volume, remove_path, save_volume, temporary_path


@dataclass
class RunResult:
    module: str
    outputs: dict[str, Path]
    report: dict[str, Any]
    log_path: Path
    seconds: float

    def __repr__(self) -> str:
        outs = ", ".join(self.outputs)
        return f"RunResult({self.module}: {len(self.outputs)} outputs [{outs}], {self.seconds:.1f} s)"


@dataclass
class RunContext:
    """What a module's ``run(ctx, params)`` gets: the project, progress, and output helpers."""

    project: Project
    module: Module
    params: dict[str, Any]
    progress: Any
    overwrite: bool = False
    report: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    _pending: list[tuple[Path, Path]] = field(default_factory=list)
    _log: list[str] = field(default_factory=list)

    # -- names
    @property
    def run_name(self) -> str:
        """``<project><suffix>``, the tail of every output name."""
        return f"{self.params.get('project_name') or self.project.name}{self.params.get('suffix') or ''}"

    def output_name(self, what: str) -> str:
        """AASPI naming: ``<module>_<what>_<project><suffix>``."""
        return f"{self.module.id}_{what}_{self.run_name}" if what else f"{self.module.id}_{self.run_name}"

    # -- inputs
    def volume_path(self, name: str, param: str = "volume") -> Path:
        return self.project.existing_volume(name, param=param)

    def open_volume(self, name: str, param: str = "volume"):
        return open_volume(self.volume_path(name, param))

    # -- outputs
    def _claim(self, final: Path, key: str) -> Path:
        if final.exists() and not self.overwrite:
            raise AaspiError(f"{final} already exists; pass --overwrite (overwrite=True) to replace it.")
        if any(f == final for _, f in self._pending):
            raise AaspiError(f"{final} is written twice by this run; give the outputs distinct names.")
        tmp = temporary_path(final)
        self._pending.append((tmp, final))
        self.outputs[key] = final
        return tmp

    def volume_output(self, what: str, *, name: str | None = None) -> Path:
        """Temporary path to write an output volume to; renamed when the run succeeds."""
        name = check_name(name or self.output_name(what), "output volume name")
        return self._claim(self.project.volumes_dir / f"{name}.zarr", name)

    def file_output(self, filename: str, folder: str = "results") -> Path:
        """Temporary path for a results file (report, PNG, JSON, model); renamed at the end."""
        return self._claim(self.project.root / folder / filename, filename)

    def dir_output(self, name: str, folder: str) -> Path:
        tmp = self._claim(self.project.root / folder / name, name)
        tmp.mkdir(parents=True)
        return tmp

    def save_volume(self, data, what: str, *, like=None, kind=None, attrs=None, name=None,
                    progress=None, chunks=None) -> Path:
        """Write an output volume (chunk by chunk for dask input) with provenance attributes."""
        tmp = self.volume_output(what, name=name)
        prov = {"module": self.module.id, "parameters": _jsonable(self.params)}
        prov.update(attrs or {})
        save_volume(data, tmp, like=like, kind=kind, attrs=prov, chunks=chunks,
                    progress=progress or self.progress, overwrite=False)
        return tmp

    # -- reporting
    def log(self, line: str) -> None:
        self._log.append(line)
        self.progress.log(line)

    def compute(self, *objs, status: str | None = None, progress=None):
        return compute(*objs, progress=progress or self.progress, status=status)

    def check(self) -> None:
        self.progress.check()

    # -- end of run
    def _commit(self) -> None:
        for tmp, final in self._pending:
            if tmp.exists():
                commit_path(tmp, final, overwrite=self.overwrite)
            else:
                self.outputs = {k: v for k, v in self.outputs.items() if v != final}

    def _discard(self) -> None:
        for tmp, _ in self._pending:
            remove_path(tmp)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("aaspi_py", "numpy", "scipy", "scikit-learn", "xarray", "zarr", "dask", "segyio"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _write_record(ctx: RunContext, status: str, seconds: float, started: str) -> Path:
    log = ctx.project.logs_dir / f"aaspi_{ctx.module.id}_{ctx.run_name}.out"
    lines = [
        f"aaspi_py {ctx.module.id} — {ctx.module.title}",
        f"status: {status}",
        f"started: {started}",
        f"elapsed: {seconds:.2f} s",
        f"project: {ctx.project.root}",
        f"host: {platform.node()}  command: {' '.join(sys.argv[:1] + sys.argv[1:])}",
        "",
        "versions:",
        *[f"  {k} = {v}" for k, v in _versions().items()],
        "",
        "parameters:",
        *[f"  {k} = {json.dumps(v, default=str)}" for k, v in ctx.params.items()],
        "",
        "outputs:",
        *[f"  {k}: {ctx.project.relative(p) if str(p).startswith(str(ctx.project.root)) else p}"
          for k, p in ctx.outputs.items()],
        "",
        "log:",
        *[f"  {line}" for line in ctx._log],
        "",
        "report:",
        json.dumps(_jsonable(ctx.report), indent=2),
        "",
    ]
    tmp = log.with_name(log.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, log)
    return log


def run(
    module_id: str,
    project: str | os.PathLike | Project = ".",
    *,
    params_file: str | os.PathLike | None = None,
    progress: Any = None,
    scheduler: str | None = "threads",
    overwrite: bool = False,
    **params: Any,
) -> RunResult:
    """Run a module on a project with validated parameters; return outputs and report."""
    module = get_module(module_id)
    proj = Project.open(project)
    values: dict[str, Any] = {}
    if params_file is not None:
        values.update(read_param_file(params_file))
    values.update(params)
    checked = selection_reference.resolve(proj, module.id, module.all_params,
                                          validate(module.id, module.all_params, values))
    ctx = RunContext(project=proj, module=module, params=checked,
                     progress=progress if progress is not None else Progress(), overwrite=overwrite)
    started = _dt.datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    status = "failed"
    try:
        with use_scheduler(scheduler):
            module.run(ctx, checked)
        ctx.progress.check()
        ctx._commit()
        status = "completed"
        ctx.progress.update(1.0, "done")
    except Cancelled:
        status = "cancelled"
        ctx._discard()
        raise
    except BaseException as e:
        status = f"failed: {type(e).__name__}: {e}"
        ctx._discard()
        raise
    finally:
        seconds = time.perf_counter() - t0
        log_path = _write_record(ctx, status, seconds, started)
    return RunResult(module=module.id, outputs=dict(ctx.outputs), report=ctx.report,
                     log_path=log_path, seconds=seconds)
