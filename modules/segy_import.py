"""segy_import: SEG-Y file → project volume (streaming, bounded memory)."""

from aaspi_py.params import Bool, File, Int, Str
from aaspi_py.registry import Module


def run(ctx, p):
    from aaspi_py.project import check_name
    from aaspi_py.segy_io import import_segy

    name = check_name(p["volume"] or __import__("pathlib").Path(p["src"]).stem, "volume name")
    tmp = ctx.volume_output("", name=name)
    report = import_segy(ctx.project.resolve(p["src"]), tmp, iline=p["iline_byte"], xline=p["xline_byte"],
                         cdp_x=p["cdp_x_byte"], cdp_y=p["cdp_y_byte"], progress=ctx.progress,
                         keep_headers=p["keep_trace_headers"])
    ctx.report.update(report or {})
    ctx.report.setdefault("summary", [f"imported {p['src']} as volume '{name}'"])


def demo(project, progress):
    from aaspi_py.runner import run as run_module
    from aaspi_py.sample_volumes import F3_PATH

    res = run_module("segy_import", project, src=str(F3_PATH), volume="f3", overwrite=True, progress=progress)
    return res.report.get("summary", [])


MODULE = Module(
    id="segy_import",
    title="Import SEG-Y",
    category="Utilities",
    description="Import a SEG-Y file (rev 0/1) into the project as a chunked zarr volume.",
    params=(
        File("src", help="SEG-Y file to import.", pattern="SEG-Y (*.sgy *.segy *.SGY *.SEGY)"),
        Str("volume", "", help="Name of the new volume (default: the file's stem)."),
        Int("iline_byte", 189, low=1, high=237, help="Trace header byte of the inline number."),
        Int("xline_byte", 193, low=1, high=237, help="Trace header byte of the crossline number."),
        Int("cdp_x_byte", 181, low=1, high=237, help="Trace header byte of the CDP x coordinate."),
        Int("cdp_y_byte", 185, low=1, high=237, help="Trace header byte of the CDP y coordinate."),
        Bool("keep_trace_headers", True, help="Keep every trace header so export writes the file back byte for byte."),
    ),
    run=run,
    demo=demo,
    demo_order=10,
)
