"""attributes: volumetric attributes of an amplitude volume, one output volume each (SPEC 3.7)."""

from aaspi_py import attributes as _attributes
from aaspi_py.framework.params import Bool, Float, Int, Str, Volume
from aaspi_py.framework.registry import Module


def _option_params() -> tuple:
    """One parameter per family option, declared by the families themselves."""
    out = []
    for key, default in _attributes.OPTIONS.items():
        if isinstance(default, bool):
            kind = Bool
        elif isinstance(default, int):
            kind = Int
        elif isinstance(default, float):
            kind = Float
        else:
            kind = Str
        out.append(kind(key, default, help=_attributes.OPTION_HELP[key]))
    return tuple(out)


def _sample_interval(ds) -> tuple[float, str]:
    """Sample interval (ms or m) and domain of a volume."""
    import numpy as np

    from aaspi_py.framework.errors import AaspiError

    sample = np.asarray(ds["sample"].values, dtype=float)
    domain = ds["sample"].attrs.get("domain", "time")
    if sample.size < 2:
        raise AaspiError("Attributes need traces of at least two samples.")
    steps = np.diff(sample)
    if not np.allclose(steps, steps[0], rtol=1e-6) or steps[0] <= 0:
        raise AaspiError(f"The sample axis is not regular ({sample[0]:g}, {sample[1]:g}, ...); attributes need "
                         "a constant sample interval.")
    return float(steps[0]), domain


def run(ctx, p):
    import time

    import numpy as np

    from aaspi_py import attributes
    from aaspi_py.attributes._regions import AttributeRegions
    from aaspi_py.framework.volume_store import check_memory, regions_memory, write_regions
    from aaspi_py.volume import build_dataset

    names = attributes.check_names(p["attributes"], dict.fromkeys(attributes.NAMES))
    ds = ctx.open_volume(p["volume"], param="volume")
    dt, domain = _sample_interval(ds)
    live = ds["trace_mask"].values.astype(bool)
    options = {k: p[k] for k in attributes.OPTIONS}
    t0 = time.perf_counter()
    shape = ds["data"].shape
    block = AttributeRegions(names, options, shape=shape, sample_interval=dt, mask=live)
    chunks = block.chunks(shape, ds["data"].data.chunks)
    # the families' block work arrays: about 16 float64 arrays per padded voxel (geometric, the largest)
    check_memory("attributes", regions_memory(chunks, shape, halo=block.halo, n_inputs=1, n_outputs=len(names),
                                              work_bytes_per_voxel=128.0, whole_traces=True), chunks)
    ctx.check()
    writes = []
    for name in names:
        attrs = {"module": ctx.module.id, "parameters": dict(p), "attribute": name,
                 "units": attributes.units(name, domain), "description": attributes.describe(name)}
        writes.append((build_dataset(ds["data"].data, like=ds, kind="attribute", attrs=attrs, trace_mask=live),
                       ctx.volume_output(name)))
    # each task reads its blocks of whole traces with the families' halo straight from
    # zarr and writes every attribute of them: memory is the tasks in flight, whatever the
    # survey size, and the attributes of one family share their blocks
    write_regions(writes, [ctx.volume_path(p["volume"], "volume")], block, halo=block.halo,
                  chunks=chunks, whole_traces=True,
                  progress=ctx.progress, status="computing attributes")
    seconds = time.perf_counter() - t0
    n_vox = int(np.prod(ds["data"].shape))
    rate = n_vox / max(seconds, 1e-9) / 1e6
    summary = [f"{len(names)} attribute(s) of {p['volume']} ({'x'.join(map(str, ds['data'].shape))}, "
               f"{dt:g} {'m' if domain == 'depth' else 'ms'}): {seconds:.1f} s ({rate:.3g} Mvoxel/s)"]
    summary += [f"{ctx.output_name(n)}: {attributes.describe(n)}" for n in names]
    ctx.report.update({"attributes": names, "sample_interval": dt, "domain": domain,
                       "options": options, "seconds": round(seconds, 3),
                       "outputs": {n: ctx.output_name(n) for n in names}, "summary": summary})
    for line in summary:
        ctx.log(line)


def demo(project, progress):
    """Recompute two of the sample survey's candidates with the module: they equal the survey's."""
    import numpy as np

    from aaspi_py.framework.runner import run as run_module
    from aaspi_py.volume import open_volume

    names = ["envelope", "instantaneous_frequency"]
    res = run_module("attributes", project, volume="amplitude", attributes=",".join(names),
                     overwrite=True, progress=progress)
    worst = max(float(np.max(np.abs(open_volume(res.outputs[f"attributes_{n}_{project.name}"])["data"].values
                                    - open_volume(project.volume_path(n))["data"].values))) for n in names)
    return [res.report["summary"][0],
            f"equal to the sample survey's candidate volumes {', '.join(names)} (max |difference| {worst:.2g})"]


MODULE = Module(
    id="attributes",
    title="Volumetric attributes",
    category="Volumetric Attributes",
    description="Complex-trace, geometric, coherence, spectral and texture attributes of an amplitude volume.",
    params=(
        Volume("volume", help="Amplitude volume (time or depth) to compute the attributes of."),
        Str("attributes", help="Attributes, comma separated (one output volume each: attributes_<name>_<project>"
                               "<suffix>); any of " + ", ".join(_attributes.NAMES) + "."),
        *_option_params(),
    ),
    run=run,
    demo=demo,
    demo_order=35,
)
