"""kuwahara3d: adaptive 3D Kuwahara filter of one or more attribute volumes (SPEC 3.5)."""

from aaspi_py.framework.params import Choice, Int, Ints, Volume, Volumes
from aaspi_py.framework.registry import Module


def _what(name: str) -> str:
    """The output name part for an input given by name, file name or path."""
    from pathlib import Path

    stem = Path(name).name
    return stem[:-5] if stem.endswith(".zarr") else stem


def outputs(ctx, p):
    return [ctx.planned_volume(_what(n)) for n in p["inputs"]]


def run(ctx, p):
    import time

    import numpy as np

    from aaspi_py.filters.kuwahara import global_variances
    from aaspi_py.filters.kuwahara3d_steps import N_CHANGE, FilterRegion, check_memory
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.volume_store import write_regions
    from aaspi_py.volume import build_dataset

    names = list(p["inputs"])
    if not names:
        raise AaspiError("The 'inputs' parameter of kuwahara3d needs at least one volume, e.g. --set inputs=envelope,coherence.")
    if len(p["window"]) != 3:
        raise AaspiError(f"The 'window' parameter of kuwahara3d needs three sizes (inline, crossline, sample), e.g. 3,3,3; got {p['window']}.")
    if len({_what(n) for n in names}) != len(names):
        raise AaspiError(f"The 'inputs' of kuwahara3d name the same volume twice ({', '.join(names)}); list each once.")
    window = tuple(p["window"])
    volumes = ctx.open_volumes(names, "inputs")
    first = volumes[0]
    # one memory model (tasks in flight x chunk rows with their halo and the kernel's work
    # arrays), checked once before anything is read or written
    check_memory(first["data"].shape, len(names), window, p["selection"], first["data"].data.chunksize)
    masks = [ds["trace_mask"].values.astype(bool) for ds in volumes]
    # volumes that choose together share their live traces
    mask = np.logical_and.reduce(masks)

    guide = None
    if p["selection"] == "guide":
        gname = p["guide"] or names[0]
        if gname in names:
            guide = names.index(gname)
        else:
            gds, = ctx.open_volumes([gname], "guide", like=first)
            guide = gds["data"].data
            mask &= gds["trace_mask"].values.astype(bool)
    elif p["guide"]:
        ctx.log(f"guide '{p['guide']}' ignored: selection is '{p['selection']}', not 'guide'")

    data = [ds["data"].data for ds in volumes]
    chunks = tuple(c[0] for c in data[0].chunks)
    scales = None
    if p["selection"] == "joint":
        scales = list(ctx.compute(*global_variances(data, mask, compute=False),
                                  progress=ctx.progress.sub(0.0, 0.2), status="global variances"))
        for name, s in zip(names, scales):
            ctx.log(f"{name}: global variance {s:.6g} (joint standardisation)")
    ctx.check()

    t0 = time.perf_counter()
    options = {"octants": p["subwindows"] == "octants", "statistic": p["statistic"], "min_valid": int(p["min_valid"])}
    sources = [ctx.volume_path(n, "inputs") for n in names]
    if p["selection"] == "each":
        block = FilterRegion(window, options, "each", masks, len(names))
    else:
        if p["selection"] == "guide" and not isinstance(guide, int):
            sources.append(ctx.volume_path(p["guide"], "guide"))
            guide = len(names)
        if scales is not None:  # a constant volume has no spread to standardise by; it then weighs as is
            scales = tuple(float(s) if np.isfinite(s) and s > 0 else 1.0 for s in scales)
        block = FilterRegion(window, options, p["selection"], [mask], len(names), scales=scales, guide=guide)
        masks = [mask] * len(names)
    provenance = {"module": ctx.module.id, "parameters": dict(p)}
    writes = [(build_dataset(ds["data"].data, like=ds, kind="filtered", attrs=provenance, trace_mask=live),
               ctx.volume_output(_what(name))) for name, ds, live in zip(names, volumes, masks)]
    # one task per chunk reads its region and halo of every input straight from zarr,
    # filters and writes: memory is the tasks in flight, whatever the volume size
    sums = write_regions(writes, sources, block, halo=[w - 1 for w in window], n_partial=len(names) * N_CHANGE,
                         chunks=chunks, progress=ctx.progress.sub(0.2 if scales else 0.0, 1.0),
                         status="filtering")
    results = sums.reshape(len(names), N_CHANGE)
    seconds = time.perf_counter() - t0
    spreads = []
    for n, s, q, m, t, u, c, a in results:
        # dead traces may hold zeros in the input: the sums cover live traces only
        spreads += [np.sqrt(max(q / n - (s / n) ** 2, 0.0)), np.sqrt(max(u / m - (t / m) ** 2, 0.0)), a / c]

    n_vox = int(np.prod(first["data"].shape))
    size = "x".join(map(str, window))
    ctx.report.update({
        "window": list(window), "subwindows": p["subwindows"], "statistic": p["statistic"],
        "selection": p["selection"], "seconds": round(seconds, 3),
        "voxels_per_second": round(n_vox * len(names) / max(seconds, 1e-9)),
        "outputs": {name: ctx.output_name(_what(name)) for name in names},
        "std_before_after": {name: spreads[3 * b:3 * b + 2] for b, name in enumerate(names)},
        "mean_abs_change": {name: spreads[3 * b + 2] for b, name in enumerate(names)},
    })
    summary = [f"{len(names)} volume(s), {size} window, {p['subwindows']} sub-windows, "
               f"{p['statistic']}, selection {p['selection']}: {seconds:.1f} s "
               f"({n_vox * len(names) / max(seconds, 1e-9) / 1e6:.3g} Mvoxel/s with reading and writing)"]
    for b, name in enumerate(names):
        before, after, change = spreads[3 * b:3 * b + 3]
        summary.append(f"{ctx.output_name(_what(name))}: std {before:.4g} -> {after:.4g}, "
                       f"mean |change| {change:.3g}")
    ctx.report["summary"] = summary
    for line in summary:
        ctx.log(line)


def demo(project, progress):
    """Filter the attributes the demo's attribute_selection recommended (all candidates without it)."""
    from aaspi_py.sample_volumes import ATTRIBUTES

    from aaspi_py.framework.runner import run as run_module

    selection = f"attribute_selection_{project.name}"
    if (project.results_dir / f"{selection}.json").exists():
        inputs, origin = [f"@{selection}"], f"the attributes recommended by {selection}"
    else:
        have = set(project.volumes())
        inputs, origin = [a for a in ATTRIBUTES if a in have], "every candidate attribute"
    res = run_module("kuwahara3d", project, inputs=inputs, overwrite=True, progress=progress)
    return [f"inputs: {origin}", *res.report["summary"]]


MODULE = Module(
    id="kuwahara3d",
    title="Kuwahara 3D filter",
    category="Image Processing",
    description="Adaptive 3D Kuwahara filter: edge-preserving smoothing of attribute volumes.",
    params=(
        Volumes("inputs", help="Volumes to filter (one output each: kuwahara3d_<input>_<project><suffix>)."),
        Ints("window", (3, 3, 3), low=1, high=51,
             help="Window size per axis: inlines, crosslines, samples (e.g. 3,3,3)."),
        Choice("subwindows", "all", choices=("all", "octants"),
               help="Candidate windows: every window containing the voxel, or the 8 with the voxel at a corner."),
        Choice("statistic", "mean", choices=("mean", "median"),
               help="Output the mean or the median of the chosen window (median is slower)."),
        Choice("selection", "each", choices=("each", "joint", "guide"),
               help="Who chooses the window: each volume, all together (least summed standardised variance), or the guide volume."),
        Volume("guide", "",
               help="With selection = guide: the volume that chooses the windows (default: the first input)."),
        Int("min_valid", 1, low=1,
            help="Least number of live, finite voxels a window needs to be a candidate."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=50,
)
