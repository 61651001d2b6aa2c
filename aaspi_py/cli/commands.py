"""The ``aaspi`` command: a thin shim over the library; heavy imports happen per command.

A bad input prints one line (what, where, how to fix) and exits 2; ``--debug`` shows the
traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from pathlib import Path


class UsageError(Exception):
    """A command line argparse refused; printed as one ``aaspi: error:`` line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (no usage block), exit 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (`{self.prog} --help` shows the usage)")


def _parser() -> argparse.ArgumentParser:
    from aaspi_py.framework.scheduler import SCHEDULER_HELP

    ap = _Parser(prog="aaspi", description="aaspi_py: seismic facies classification on zarr volumes.")
    ap.add_argument("--debug", action="store_true", help="show tracebacks (also accepted after the command)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("new-project", help="create a project folder")
    p.add_argument("path")
    p.add_argument("--name", help="project name (default: the folder name)")

    p = sub.add_parser("import-segy", help="import a SEG-Y file as a volume")
    p.add_argument("src", help="SEG-Y file")
    p.add_argument("name", nargs="?", help="volume name (default: the file's stem)")
    p.add_argument("--project", "-p", default=".", help="project folder")
    for opt, byte in (("iline", 189), ("xline", 193), ("cdp-x", 181), ("cdp-y", 185)):
        p.add_argument(f"--{opt}", type=int, default=byte, help=f"trace header byte of {opt} (default {byte})")
    p.add_argument("--domain", choices=("time", "depth"), default="time",
                   help="sample axis: time in ms (default) or depth in m")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("export-segy", help="export a volume to SEG-Y")
    p.add_argument("volume", help="volume name in the project, or a .zarr path")
    p.add_argument("dst", help="SEG-Y file to write")
    p.add_argument("--project", "-p", default=".")
    p.add_argument("--overwrite", action="store_true")

    p = sub.add_parser("info", help="describe a volume")
    p.add_argument("volume", help="volume name in the project, or a .zarr path")
    p.add_argument("--project", "-p", default=".")

    sub.add_parser("modules", help="list installed modules")

    p = sub.add_parser("params", help="print a commented parameter file for a module")
    p.add_argument("module")

    p = sub.add_parser("run", help="run a module", add_help=False)
    p.add_argument("module", nargs="?")
    p.add_argument("--project", "-p", default=".")
    p.add_argument("--params", help="TOML parameter file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set one parameter")
    p.add_argument("--scheduler", default="threads", help=SCHEDULER_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("-h", "--help", action="store_true")

    p = sub.add_parser("clean", help="remove what killed runs left behind (hidden temporary outputs)")
    p.add_argument("--project", "-p", default=".", help="project folder")
    p.add_argument("--any-host", action="store_true",
                   help="also remove temporaries made on other hosts (only when no run is going on there)")

    p = sub.add_parser("demo", help="build the sample project and run the whole workflow")
    p.add_argument("--project", "-p", default="aaspi_demo", help="folder of the sample project (default aaspi_demo)")
    p.add_argument("--size", choices=("small", "demo"), default="demo",
                   help="small (40x40x60, seconds) or demo (200x200x300, the default)")
    p.add_argument("--overwrite", action="store_true", help="rebuild the sample project if it exists")

    from aaspi_py.cli.polygons import add_parser as add_polygon_parser

    add_polygon_parser(sub)
    return ap


def _module_parser(module) -> argparse.ArgumentParser:
    """Options generated from the module's parameter declaration."""
    ap = _Parser(prog=f"aaspi run {module.id}", add_help=False,
                 usage=f"aaspi run {module.id} [--project DIR] [--params FILE] [--set KEY=VALUE] "
                       "[--scheduler S] [--overwrite] [--quiet] [options]")
    for p in module.all_params:
        flag = "--" + p.name.replace("_", "-")
        ap.add_argument(flag, dest=p.name, default=None, metavar=p.kind.upper(),
                        help=f"{p.help} ({p.describe()}; {_default_text(p)})")
    return ap


def _default_text(p) -> str:
    if p.required:
        return "required"
    value = list(p.default) if isinstance(p.default, tuple) else p.default
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return f"default {value!r}" if value == "" else f"default {value}"


def _cmd_run(args, rest: list[str]) -> int:
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.progress import TqdmProgress
    from aaspi_py.framework.registry import get_module
    from aaspi_py.framework.runner import run

    if args.module is None:
        if args.help:
            print("usage: aaspi run MODULE [--project DIR] [--params FILE] [--set KEY=VALUE] [--scheduler S] "
                  "[--overwrite] [--quiet] [options]\n\n`aaspi modules` lists the modules; "
                  "`aaspi run MODULE --help` lists a module's options.")
            return 0
        raise AaspiError("aaspi run needs a module name; `aaspi modules` lists them.")
    module = get_module(args.module)
    mp = _module_parser(module)
    if args.help:
        mp.print_help()
        print(f"\n{module.title}: {module.description}\n\ncommon options:\n"
              "  --project DIR, -p DIR  project folder (default: the current folder)\n"
              "  --params FILE          TOML parameter file (`aaspi params MODULE` prints a template)\n"
              "  --set KEY=VALUE        set one parameter (repeatable; wins over --params and options)\n"
              "  --scheduler S          threads (default), processes, local:N or tcp://host:port\n"
              "  --overwrite            replace existing outputs\n"
              "  --quiet                no progress bar")
        return 0
    ns, unknown = mp.parse_known_args(rest)
    if unknown:
        raise AaspiError(f"Unknown option {unknown[0]!r} for {module.id}; `aaspi run {module.id} --help` lists them.")
    values = {k: v for k, v in vars(ns).items() if v is not None}
    for item in args.set:
        if "=" not in item:
            raise AaspiError(f"--set {item!r}: write it as KEY=VALUE, e.g. --set max_clusters=2.")
        k, v = item.split("=", 1)
        values[k.strip()] = v.strip()
    progress = TqdmProgress(module.id, disable=True if args.quiet else None)
    try:
        result = run(module.id, args.project, params_file=args.params, progress=progress,
                     scheduler=args.scheduler, overwrite=args.overwrite, **values)
    finally:
        progress.close()
    shown = set(progress.lines)  # log lines were already printed during the run
    for line in result.report.get("summary", []):
        if line not in shown:
            print(line)
    for name, path in result.outputs.items():
        print(f"wrote {name}: {path}")
    print(f"run record: {result.log_path}  ({result.seconds:.1f} s)")
    return 0


def _dispatch(args, rest: list[str]) -> int:
    from aaspi_py.framework.errors import AaspiError

    if args.command != "run" and rest:
        raise AaspiError(f"Unexpected argument {rest[0]!r}; `aaspi {args.command} --help` shows the usage.")
    if args.command == "new-project":
        from aaspi_py.framework.project import Project

        existed = (Path(args.path) / "aaspi_project.toml").exists()
        proj = Project.create(args.path, args.name)
        print(f"{'project exists' if existed else 'created project'} '{proj.name}' at {proj.root}")
        return 0
    if args.command == "import-segy":
        from aaspi_py.framework.runner import run

        # a mistyped --project must not become a new project: `aaspi new-project` makes them
        name = args.name or Path(args.src).stem
        res = run("segy_import", args.project, src=str(Path(args.src).resolve()), volume=name,
                  iline_byte=args.iline, xline_byte=args.xline, cdp_x_byte=args.cdp_x, cdp_y_byte=args.cdp_y,
                  domain=args.domain, overwrite=args.overwrite, progress=_bar("import"))
        for line in res.report.get("summary", []):
            print(line)
        return 0
    if args.command == "export-segy":
        from aaspi_py.framework.runner import run

        res = run("segy_export", args.project, volume=args.volume, dst=str(Path(args.dst).resolve()),
                  overwrite=args.overwrite, progress=_bar("export"))
        for line in res.report.get("summary", []):
            print(line)
        return 0
    if args.command == "info":
        from aaspi_py.cli.info import describe
        from aaspi_py.framework.project import Project
        from aaspi_py.volume import open_volume

        path = Path(args.volume)
        if not (path / "zarr.json").exists():
            path = Project.open(args.project).existing_volume(args.volume)
        print(describe(open_volume(path), path))
        return 0
    if args.command == "clean":
        return _cmd_clean(args)
    if args.command == "modules":
        from aaspi_py.framework.registry import load_modules

        for m in load_modules().values():
            print(f"{m.id:22s} {m.category:26s} {m.description}")
        return 0
    if args.command == "params":
        from aaspi_py.framework.params import template
        from aaspi_py.framework.registry import get_module

        m = get_module(args.module)
        print(template(m.id, m.all_params))
        return 0
    if args.command == "run":
        return _cmd_run(args, rest)
    if args.command == "demo":
        from aaspi_py.cli.demo import run_demo

        run_demo(args.project, size=args.size, overwrite=args.overwrite, progress=_demo_bar,
                 keep_going=not args.debug)
        return 0
    if args.command == "polygon":
        from aaspi_py.cli.polygons import dispatch

        return dispatch(args)
    raise AssertionError(args.command)


def _cmd_clean(args) -> int:
    from aaspi_py.framework.leftovers import find_leftovers, other_hosts, remove_leftovers
    from aaspi_py.framework.project import Project
    from aaspi_py.framework.resources import format_bytes

    proj = Project.open(args.project)
    sizes = {left.path: left.size for left in find_leftovers(proj.root, any_host=args.any_host)}
    removed = remove_leftovers(proj.root, any_host=args.any_host)
    for left in removed:
        print(f"removed {proj.relative(left.path)} ({format_bytes(sizes.get(left.path, 0))})")
    print(f"{len(removed)} leftover(s) of interrupted runs removed from {proj.root}")
    others = [] if args.any_host else other_hosts(proj.root)
    if others:
        hosts = ", ".join(sorted({x.host or "?" for x in others}))
        print(f"kept {len(others)} temporary output(s) of runs on other hosts ({hosts}); "
              "`aaspi clean --any-host` removes them once no run is going on there")
    return 0


def _bar(desc: str):
    from aaspi_py.framework.progress import TqdmProgress

    return TqdmProgress(desc)


def _demo_bar(desc: str):
    """A progress bar that keeps log lines to itself: the demo prints each step's summary."""
    from aaspi_py.framework.progress import Progress, TqdmProgress

    class _Bar(TqdmProgress):
        log = Progress.log

    return _Bar(desc)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"aaspi: warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Run the ``aaspi`` command line; returns the exit status (0 ok, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere, also after the command and its options
    debug = "--debug" in argv or bool(os.environ.get("AASPI_DEBUG"))
    argv = [a for a in argv if a != "--debug"]
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _one_line_warning
        try:
            args, rest = _parser().parse_known_args(argv)
        except UsageError as e:
            print(f"aaspi: error: {e}", file=sys.stderr)
            return 2
        except SystemExit as e:  # --help and --version end here
            return int(e.code or 0)
        args.debug = debug
        previous = _terminate_like_ctrl_c()
        try:
            code = _main(args, rest, debug)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
            return code
        except BrokenPipeError:
            return _pipe_closed()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _terminate_like_ctrl_c():
    """SIGTERM (``kill``, a batch system's time limit) stops a run as Ctrl-C does: the run
    removes its temporary outputs and records "interrupted"."""
    from aaspi_py.framework.errors import Terminated

    def handler(signum, frame):
        raise Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from a GUI worker thread)
        return None


def _pipe_closed() -> int:
    """The reader of our output went away (``aaspi info … | head -1``): stop quietly, as
    Unix tools do, with the status a shell gives to SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


def _main(args, rest: list[str], debug: bool) -> int:
    from aaspi_py.framework.errors import AaspiError, Cancelled, Terminated, os_error_line

    try:
        return _dispatch(args, rest)
    except (AaspiError, UsageError) as e:
        if debug:
            raise
        print(f"aaspi: error: {e}", file=sys.stderr)
        return 2
    except Cancelled:
        print("aaspi: cancelled; no output was written.", file=sys.stderr)
        return 130
    except Terminated:
        print("aaspi: terminated (SIGTERM); no output was written.", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("aaspi: interrupted; no output was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _pipe_closed()
    except OSError as e:  # permission, read-only, disk full: the environment, not a bug
        if debug:
            raise
        print(f"aaspi: error: {os_error_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # unexpected: still one line unless --debug
        if debug:
            raise
        print(f"aaspi: internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
