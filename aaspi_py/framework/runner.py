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

from aaspi_py.framework import selection_reference
from aaspi_py.framework.errors import AaspiError, Cancelled, os_error_line
from aaspi_py.framework.params import read_param_file, validate
from aaspi_py.framework.progress import Progress
from aaspi_py.framework.project import FOLDERS, PROJECT_FILE, Project, check_name, check_suffix
from aaspi_py.framework.registry import Module, get_module
from aaspi_py.framework.scheduler import compute, use_scheduler
from aaspi_py.volume import (
    commit_path,
    describe_grid,
    open_volume,
    remove_path,
    save_volume,
    temporary_path,
)

#: files that make a folder an output of a run (a training set, a saved model), so that
#: --overwrite may replace it; any other folder is refused
OUTPUT_FOLDER_MARKERS = ("training_set.json", "model.json")


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
    _pending: list[tuple[Path, Path, str]] = field(default_factory=list)
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

    def open_volumes(self, names, param: str = "inputs", *, like=None, axes=("inline", "crossline")):
        """Open volumes that must share one grid (shape and line numbers on ``axes``).

        ``like`` is a dataset already open (e.g. the first input) that the volumes must match.
        A volume on another grid is refused in one line naming it and the parameter.
        """
        import numpy as np

        names = list(names)
        volumes = [self.open_volume(n, param=param) for n in names]
        ref, ref_name = (like, "the inputs") if like is not None else (volumes[0] if volumes else None,
                                                                       names[0] if names else "")
        for ds, name in zip(volumes, names):
            if ds is ref:
                continue
            if ds["data"].shape != ref["data"].shape or any(
                    not np.array_equal(ds[c].values, ref[c].values) for c in axes):
                raise AaspiError(
                    f"Volume '{name}' (parameter '{param}') is not on the grid of '{ref_name}' "
                    f"({describe_grid(ds)} against {describe_grid(ref)}); use volumes of one survey together (or resample).")
        return volumes

    # -- outputs
    def check_output(self, final: Path, kind: str = "file") -> Path:
        """Refuse an output path before anything is written; return it resolved.

        ``kind`` is what the module writes there: ``volume`` (a zarr folder), ``file`` or
        ``dir`` (a folder the module fills, e.g. a saved model). The path must lie inside
        the project (real containment), must not be the project itself or its settings
        file, and whatever exists there must be what this kind of output is: ``--overwrite``
        replaces a volume, a file or an output folder (a training set, a saved model), never
        another folder.
        """
        final = self.project.inside(final, "output")
        root = self.project.root.resolve()
        exists = final.is_symlink() or final.exists()
        if exists:
            made_by_run = {
                "volume": (final / "zarr.json").is_file(),
                "file": final.is_file() and not final.is_symlink(),
                "dir": any((final / f).is_file() for f in OUTPUT_FOLDER_MARKERS),
            }[kind]
            if not made_by_run:
                what = {"volume": "a volume", "file": "a file",
                        "dir": f"an output folder of a run (holding {' or '.join(OUTPUT_FOLDER_MARKERS)})"}[kind]
                found = "a folder" if final.is_dir() else "a link" if final.is_symlink() else "a file"
                raise AaspiError(f"{final} is {found}, not {what}; --overwrite replaces only what a module wrote. "
                                 "Give another output name, or move it away yourself.")
        if final == root or final.parent == root and final.name in (PROJECT_FILE, *FOLDERS):
            raise AaspiError(f"{final} is part of the project's own layout; give the output another name.")
        if exists and not self.overwrite:
            raise AaspiError(f"{final} already exists; pass --overwrite (overwrite=True) to replace it.")
        return final

    def _claim(self, final: Path, key: str, kind: str = "file") -> Path:
        final = self.check_output(final, kind)
        if any(f == final for _, f, _ in self._pending):
            raise AaspiError(f"{final} is written twice by this run; give the outputs distinct names.")
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(final)
        self._pending.append((tmp, final, kind))
        self.outputs[key] = final
        return tmp

    def planned_volume(self, what: str, *, name: str | None = None) -> tuple[str, Path]:
        """An output volume a run will write (for a module's ``outputs`` declaration)."""
        name = check_name(name or self.output_name(what), "output volume name")
        return "volume", self.project.volumes_dir / f"{name}.zarr"

    def planned_file(self, filename: str, folder: str = "results") -> tuple[str, Path]:
        """A results file a run will write (for a module's ``outputs`` declaration)."""
        return "file", self.project.root / folder / filename

    def planned_dir(self, name: str, folder: str) -> tuple[str, Path]:
        """An output folder a run will write (for a module's ``outputs`` declaration)."""
        return "dir", self.project.root / folder / check_name(name, "output folder name")

    def volume_output(self, what: str, *, name: str | None = None) -> Path:
        """Temporary path to write an output volume to; renamed when the run succeeds."""
        kind, final = self.planned_volume(what, name=name)
        return self._claim(final, final.stem, kind)

    def file_output(self, filename: str, folder: str = "results") -> Path:
        """Temporary path for a results file (report, PNG, JSON, model); renamed at the end."""
        return self._claim(self.project.root / folder / filename, filename, "file")

    def dir_output(self, name: str, folder: str) -> Path:
        """Temporary folder for an output folder (training set, model); renamed at the end."""
        kind, final = self.planned_dir(name, folder)
        tmp = self._claim(final, name, kind)
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
        for tmp, final, _ in self._pending:
            if tmp.exists():
                commit_path(tmp, final, overwrite=self.overwrite)
            else:
                self.outputs = {k: v for k, v in self.outputs.items() if v != final}

    def _discard(self) -> None:
        for tmp, _, _ in self._pending:
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


def record_path(project: Project, module_id: str, run_name: str) -> Path:
    """``logs/aaspi_<module>_<project><suffix>.out``: the record of the last completed run."""
    return project.logs_dir / f"aaspi_{module_id}_{run_name}.out"


def _completed(record: Path) -> bool:
    try:
        with record.open(encoding="utf-8") as f:
            return any(line.strip() == "status: completed" for _, line in zip(range(4), f))
    except OSError:
        return False


def _write_record(ctx: RunContext, status: str, seconds: float, started: str) -> Path:
    """Write the run record; a run that did not complete never replaces a completed one.

    A failed or cancelled run after a completed one goes beside it, to
    ``aaspi_<module>_<project><suffix>.failed.out`` (the last failure), so the record of the
    outputs that are in the project stays where users and AASPI scripts look for it.
    """
    log = record_path(ctx.project, ctx.module.id, ctx.run_name)
    if status != "completed" and _completed(log):
        log = log.with_name(log.name[:-len(".out")] + ".failed.out")
    root = ctx.project.root.resolve()
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
        "outputs:" if status == "completed" else "outputs (not kept: the run did not complete):",
        *[f"  {k}: {Path(p).resolve().relative_to(root).as_posix() if Path(p).resolve().is_relative_to(root) else p}"
          for k, p in ctx.outputs.items()],
        "",
        "log:",
        *[f"  {line}" for line in ctx._log],
        "",
        "report:",
        json.dumps(_jsonable(ctx.report), indent=2),
        "",
    ]
    tmp = temporary_path(log)
    try:
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, log)
    finally:
        tmp.unlink(missing_ok=True)
    return log


def _check_inputs(ctx: RunContext, module: Module) -> None:
    """Volumes named by the parameters exist, before anything starts."""
    for p in module.all_params:
        value = ctx.params.get(p.name)
        if p.kind == "volumes":
            for name in value or []:
                ctx.project.existing_volume(name, param=p.name)
        elif p.kind == "volume" and p.required and value:
            ctx.project.existing_volume(value, param=p.name)


def preflight(ctx: RunContext) -> None:
    """Every check that needs no compute: names, inputs and the outputs a module declares.

    Runs before the scheduler starts and before the module's own ``run``, so a run that
    would end on "already exists" or "not found" says so at once (the GUI calls it before
    starting its worker).
    """
    check_name(ctx.params.get("project_name") or ctx.project.name, "project name (project_name)")
    check_suffix(ctx.params.get("suffix") or "", "suffix")
    _check_inputs(ctx, ctx.module)
    if ctx.module.outputs is not None:
        for kind, path in ctx.module.outputs(ctx, ctx.params):
            ctx.check_output(path, kind)


def check(
    module_id: str,
    project: str | os.PathLike | Project = ".",
    *,
    params_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """Every check of :func:`run` that needs no compute; returns the validated parameters.

    For callers that start the run elsewhere (the GUI's worker process): a missing volume,
    a bad name or an existing output is reported before anything starts.
    """
    module = get_module(module_id)
    values: dict[str, Any] = dict(read_param_file(params_file)) if params_file is not None else {}
    values.update(params)
    checked = validate(module.id, module.all_params, values)
    preflight(RunContext(project=Project.open(project), module=module, params=checked, progress=Progress(),
                         overwrite=overwrite))
    return checked


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
    from aaspi_py.framework.leftovers import remove_leftovers

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
    preflight(ctx)
    removed = remove_leftovers(proj.root)
    if removed:
        ctx.log(f"removed {len(removed)} leftover(s) of interrupted runs: "
                + ", ".join(proj.relative(x.path) for x in removed[:5]) + (" …" if len(removed) > 5 else ""))
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
    except KeyboardInterrupt:
        status = "interrupted"
        ctx._discard()
        raise
    except OSError as e:
        status = f"failed: {type(e).__name__}: {e}"
        ctx._discard()
        raise AaspiError(os_error_line(e)) from e
    except BaseException as e:
        status = f"failed: {type(e).__name__}: {e}"
        ctx._discard()
        raise
    finally:
        seconds = time.perf_counter() - t0
        try:
            log_path = _write_record(ctx, status, seconds, started)
        except OSError as e:
            if status == "completed":
                raise AaspiError(f"The outputs were written but not the run record: {os_error_line(e)}") from e
            log_path = None  # the run's own error is the one to show
    return RunResult(module=module.id, outputs=dict(ctx.outputs), report=ctx.report,
                     log_path=log_path, seconds=seconds)
