"""segy_export: project volume → SEG-Y (or SEPlib .H) file, reusing the source survey's headers."""

from aaspi_py.framework.params import File, Volume
from aaspi_py.framework.registry import Module


def _destination(ctx, p):
    from pathlib import Path

    if p["dst"]:
        return ctx.project.resolve(p["dst"])
    stem = Path(p["volume"]).name
    return ctx.project.results_dir / f"{stem[:-5] if stem.endswith('.zarr') else stem}.sgy"


def outputs(ctx, p):
    dst = _destination(ctx, p)
    files = [("file", dst)]
    if dst.suffix == ".H":
        files.append(("file", dst.with_name(dst.name + "@")))
    return files


def run(ctx, p):
    src = ctx.volume_path(p["volume"])
    dst = ctx.check_output(_destination(ctx, p), "file")
    tmp = ctx.file_output(dst.name, dst.parent)
    if dst.suffix == ".H":  # SEPlib / AASPI header + binary dst@, both renamed at the end of the run
        from aaspi_py.io.sep import export_sep

        binary = dst.with_name(dst.name + "@")
        report = export_sep(src, dst, progress=ctx.progress, staging=(tmp, ctx.file_output(binary.name, dst.parent)))
    else:
        from aaspi_py.io.segy import export_segy

        report = export_segy(src, tmp, progress=ctx.progress)
        report["summary"] = [line.replace(tmp.name, dst.name) for line in report["summary"]]
    report["path"] = str(dst)
    ctx.report.update(report)


def demo(project, progress):
    from aaspi_py.framework.runner import run as run_module

    res = run_module("segy_export", project, volume="f3", dst="results/f3_export.sgy", overwrite=True,
                     progress=progress)
    return res.report.get("summary", [])


MODULE = Module(
    id="segy_export",
    title="Export SEG-Y",
    category="Utilities",
    description="Export a volume to SEG-Y (reusing the headers of the survey it came from) or to a SEPlib .H file.",
    params=(
        Volume("volume", help="Volume to export."),
        File("dst", "", help="SEG-Y file to write (default: results/<volume>.sgy); a .H name writes SEPlib/AASPI "
                             "data (.H header + .H@ binary).", output=True, pattern="SEG-Y (*.sgy *.segy *.H)"),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=30,
)
