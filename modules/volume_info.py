"""volume_info: describe a volume (geometry, live traces, value range)."""

from aaspi_py.framework.params import Volume
from aaspi_py.framework.registry import Module


def run(ctx, p):
    from aaspi_py.cli.info import describe, summary

    path = ctx.volume_path(p["volume"])
    ds = ctx.open_volume(p["volume"])
    ctx.report.update(summary(ds))
    text = describe(ds, path)
    ctx.report["summary"] = text.splitlines()
    for line in text.splitlines():
        ctx.log(line)


def demo(project, progress):
    from aaspi_py.framework.runner import run as run_module

    res = run_module("volume_info", project, volume="amplitude", progress=progress)
    return res.report["summary"][:4]


MODULE = Module(
    id="volume_info",
    title="Volume information",
    category="Utilities",
    description="Describe a volume: geometry, line ranges, live traces, value range.",
    params=(Volume("volume", help="Volume to describe."),),
    run=run,
    demo=demo,
    demo_order=20,
)
