"""define_training_data: facies polygons × attribute volumes → a training set.

The "Generate Training File" step of AASPI's define_training_data: the ordered facies
files (``polygons/<facies>.json``) and the ordered attribute volumes give
``training/<name>/`` with the M×N arrays (``values.npz``, named facies index then
attribute index), positions and polygon ids, the text training file ``<name>.txt`` that
rfc3d reads, and optionally ``<name>.csv`` (``facies`` + one column per attribute) that
attribute_selection accepts. Picking polygons is done in the launcher's window or with
``aaspi polygon``.
"""

from aaspi_py.framework.params import Bool, Facies, Str, Volumes
from aaspi_py.framework.registry import Module


def outputs(ctx, p):
    return [ctx.planned_dir(p["name"], "training")]


def run(ctx, p):
    from aaspi_py.framework.project import check_name
    from aaspi_py.training.training_data import extract_training_set, summary_lines

    name = check_name(p["name"], "training set name")
    ctx.progress.update(0.0, "rasterising polygons")
    ctx.check()
    ts, info = extract_training_set(ctx.project, p["facies"], p["attributes"], name=name,
                                    progress=ctx.progress)
    ctx.check()
    folder = ctx.dir_output(name, "training")
    ts.save(folder)
    if p["csv"]:
        ts.to_csv(folder / f"{name}.csv")
    lines = summary_lines(ts, info)
    for line in lines:
        ctx.log(line)
    ctx.report.update(
        summary=lines,
        voxels=len(ts),
        facies=ts.facies,
        attributes=ts.attributes,
        counts=ts.counts(),
        polygon_counts={ff.facies: {str(k): v for k, v in c.items()}
                        for ff, c in zip(info.files, info.polygon_counts)},
        dropped_nonfinite=info.dropped_nonfinite,
        text_file=f"training/{name}/{name}.txt",
    )


def demo(project, progress):
    from aaspi_py.sample_volumes import ATTRIBUTES, FACIES

    from aaspi_py.framework.runner import run as run_module

    res = run_module("define_training_data", project, facies=list(FACIES), attributes=list(ATTRIBUTES),
                     name="sample", overwrite=True, progress=progress)
    # the demo prints counts per facies; the per-polygon counts stay in the run record
    return [line.split(" (polygon")[0] for line in res.report["summary"]]


MODULE = Module(
    id="define_training_data",
    title="Define training data",
    category="Volumetric Classification",
    description="Extract attribute values inside facies polygons: training set and text training file.",
    params=(
        Facies("facies", help="Ordered facies (polygons/<facies>.json); class numbers 1..M follow this order."),
        Volumes("attributes", help="Ordered candidate attribute volumes, all on one grid."),
        Str("name", "training", help="Training set name: writes training/<name>/ with <name>.txt."),
        Bool("csv", True, help="Also write <name>.csv (facies + one column per attribute) for attribute_selection."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=40,
    gui="define_training_data",
)
