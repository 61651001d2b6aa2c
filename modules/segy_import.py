"""segy_import: SEG-Y (or SEPlib .H) file → project volume (streaming, bounded memory)."""

from aaspi_py.framework.params import Bool, Choice, File, Int, Str
from aaspi_py.framework.registry import Module


def _name(p):
    from pathlib import Path

    from aaspi_py.framework.project import check_name

    return check_name(p["volume"] or Path(p["src"]).stem, "volume name")


def outputs(ctx, p):
    return [ctx.planned_volume("", name=_name(p))]


def run(ctx, p):
    from pathlib import Path

    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.project import check_name

    src = ctx.project.resolve(p["src"])
    if src.is_dir():
        raise AaspiError(f"{src} is a folder, not a SEG-Y file (parameter 'src'); give the path of a "
                         ".sgy/.segy (or .H) file.")
    name = check_name(p["volume"] or Path(p["src"]).stem, "volume name")
    tmp = ctx.volume_output("", name=name)
    if src.suffix == ".H":  # SEPlib / AASPI header: the extension decides
        from aaspi_py.io.sep import import_sep

        report = import_sep(src, tmp, progress=ctx.progress)
    else:
        from aaspi_py.io.segy import import_segy

        report = import_segy(src, tmp, iline=p["iline_byte"], xline=p["xline_byte"], cdp_x=p["cdp_x_byte"],
                             cdp_y=p["cdp_y_byte"], progress=ctx.progress, keep_headers=p["keep_trace_headers"],
                             domain=p["domain"])
    ctx.report.update(report)


def demo(project, progress):
    from aaspi_py.sample_volumes import F3_PATH

    from aaspi_py.framework.runner import run as run_module

    res = run_module("segy_import", project, src=str(F3_PATH), volume="f3", overwrite=True, progress=progress)
    return res.report.get("summary", [])


MODULE = Module(
    id="segy_import",
    title="Import SEG-Y",
    category="Utilities",
    description="Import a SEG-Y file (rev 0/1/2, post-stack 3D or 2D line) or a SEPlib .H file as a volume.",
    params=(
        File("src", help="SEG-Y file to import (a .H file is read as SEPlib/AASPI data).",
             pattern="SEG-Y (*.sgy *.segy *.SGY *.SEGY *.H)"),
        Str("volume", "", help="Name of the new volume (default: the file's stem)."),
        Int("iline_byte", 189, low=1, high=237, help="Trace header byte of the inline number."),
        Int("xline_byte", 193, low=1, high=237, help="Trace header byte of the crossline number."),
        Int("cdp_x_byte", 181, low=1, high=237, help="Trace header byte of the CDP x coordinate."),
        Int("cdp_y_byte", 185, low=1, high=237, help="Trace header byte of the CDP y coordinate."),
        Choice("domain", "time", choices=("time", "depth"),
               help="Sample axis of a SEG-Y file: time (ms) or depth (m; header interval read as mm)."),
        Bool("keep_trace_headers", True, help="Keep every trace header so export writes the file back byte for byte."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=10,
)
