"""segy_export: project volume → SEG-Y file, reusing the source survey's headers."""

from aaspi_py.params import File, Volume
from aaspi_py.registry import Module


def run(ctx, p):
    from aaspi_py.segy_io import export_segy

    src = ctx.volume_path(p["volume"])
    dst = ctx.project.resolve(p["dst"]) if p["dst"] else ctx.project.results_dir / f"{p['volume']}.sgy"
    tmp = ctx._claim(dst, dst.name)
    report = export_segy(src, tmp, progress=ctx.progress)
    report["path"] = str(dst)
    report["summary"] = [line.replace(tmp.name, dst.name) for line in report["summary"]]
    ctx.report.update(report)
    ctx.report.setdefault("summary", [f"exported volume '{p['volume']}' to {dst}"])


def demo(project, progress):
    from aaspi_py.runner import run as run_module

    res = run_module("segy_export", project, volume="f3", dst="results/f3_export.sgy", overwrite=True,
                     progress=progress)
    return res.report.get("summary", [])


MODULE = Module(
    id="segy_export",
    title="Export SEG-Y",
    category="Utilities",
    description="Export a volume to SEG-Y, reusing the headers of the survey it came from.",
    params=(
        Volume("volume", help="Volume to export."),
        File("dst", "", help="SEG-Y file to write (default: results/<volume>.sgy).", output=True,
             pattern="SEG-Y (*.sgy *.segy)"),
    ),
    run=run,
    demo=demo,
    demo_order=30,
)
