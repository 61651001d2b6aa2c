"""gtm3d's steps: inputs on one grid, the training set's columns by name, fit, one-pass mapping, report.

The module file (:mod:`aaspi_py.modules.gtm3d`) declares the parameters and calls :func:`run_gtm3d`.
See :mod:`aaspi_py.gtm.volume_mapping` for the formulas.
"""

from __future__ import annotations

# ---------------------------------------------------------------- inputs

def open_inputs(ctx, names):
    import numpy as np

    from aaspi_py.framework.errors import AaspiError

    if len(names) < 1:
        raise AaspiError("The 'inputs' parameter of gtm3d needs at least one attribute volume, "
                         "e.g. --set inputs=envelope,coherence.")
    if len(set(names)) != len(names):
        raise AaspiError(f"The 'inputs' of gtm3d name a volume twice ({', '.join(names)}); list each once.")
    volumes = ctx.open_volumes(names, "inputs", axes=("inline", "crossline", "sample"))
    mask = np.logical_and.reduce([ds["trace_mask"].values.astype(bool) for ds in volumes])
    return volumes, mask


def attribute_matches(input_name, attrs, attribute, project_name):
    """Whether input volume ``input_name`` holds training attribute ``attribute``.

    True when the names are equal, when the volume is a module output of it
    (``<module>_<attribute>_<project><suffix>``, read from its provenance), or when its
    provenance names it as ``source``.
    """
    from pathlib import Path

    name = Path(input_name).name
    name = name[:-5] if name.endswith(".zarr") else name
    attribute = Path(attribute).name
    attribute = attribute[:-5] if attribute.endswith(".zarr") else attribute
    if name == attribute or attrs.get("source") == attribute:
        return True
    module = attrs.get("module")
    return bool(module) and name == f"{module}_{attribute}_{_run_name_from(attrs, project_name)}"


def _run_name_from(attrs, project_name):
    params = attrs.get("parameters") or {}
    if not isinstance(params, dict):
        params = {}
    return f"{params.get('project_name') or project_name}{params.get('suffix') or ''}"


def load_training(ctx, path, names, volumes, check_names):

    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.training.training_set import TrainingSet

    ts = TrainingSet.load(ctx.project.training_set_path(path, "training_set"))
    if ts.n_attributes > len(names):
        ts = _training_columns(ctx, ts, path, names, volumes)
    if ts.n_attributes != len(names):
        raise AaspiError(f"Training set '{path}' has {ts.n_attributes} attributes ({', '.join(ts.attributes)}) "
                         f"but {len(names)} inputs are given ({', '.join(names)}); give the inputs in the "
                         f"training set's order.")
    if check_names:
        for n, (name, ds) in enumerate(zip(names, volumes)):
            candidates = [ts.attributes[n]] + ([ts.volumes[n]] if n < len(ts.volumes) else [])
            if not any(attribute_matches(name, ds.attrs, a, ctx.project.name) for a in candidates):
                raise AaspiError(
                    f"Input {n + 1} '{name}' does not match attribute {n + 1} '{ts.attributes[n]}' of training "
                    f"set '{path}' (order: {', '.join(ts.attributes)}); list the inputs in that order, or set "
                    f"check_attribute_names=false if the volumes were renamed.")
    return ts


def _training_columns(ctx, ts, path, names, volumes):
    """The training set's columns that the inputs hold, in the inputs' order (picked by name)."""
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.training.training_set import TrainingSet

    cols = []
    for name, ds in zip(names, volumes):
        hits = [j for j, a in enumerate(ts.attributes)
                if any(attribute_matches(name, ds.attrs, c, ctx.project.name)
                       for c in (a, ts.volumes[j] if j < len(ts.volumes) else a))]
        if not hits:
            raise AaspiError(f"Input '{name}' matches none of the {ts.n_attributes} attributes of training set "
                             f"'{path}' ({', '.join(ts.attributes)}); give inputs made from those attributes.")
        cols.append(hits[0])
    volumes_of = [ts.volumes[j] if j < len(ts.volumes) else ts.attributes[j] for j in cols]
    return TrainingSet(facies=list(ts.facies), attributes=[ts.attributes[j] for j in cols],
                       values=ts.values[:, cols], facies_index=ts.facies_index, positions=ts.positions,
                       polygon=ts.polygon, volumes=volumes_of, name=ts.name)


def training_values(ctx, ts, volumes, mask, log):
    """Training voxels read from the INPUT volumes at the training set's positions."""
    import numpy as np

    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.gtm.volume_mapping import gather_voxels, positions_to_index

    first = volumes[0]
    if not np.isfinite(ts.positions).all():
        log("training set has no voxel positions: its values are used as they are")
        values, index = ts.values, ts.facies_index
    else:
        idx, inside = positions_to_index(ts.positions, first["inline"].values, first["crossline"].values,
                                         first["sample"].values)
        if not inside.all():
            bad = ts.positions[~inside][0]
            raise AaspiError(f"{int((~inside).sum())} training voxels of '{ts.name}' are not on the grid of the "
                             f"inputs (first: inline {bad[0]:g}, crossline {bad[1]:g}, sample {bad[2]:g}); "
                             f"use a training set made on this survey.")
        alive = mask[idx[:, 0], idx[:, 1]]
        if not alive.all():
            log(f"{int((~alive).sum())} training voxels on traces dead in an input were left out")
        idx, index = idx[alive], ts.facies_index[alive]
        values = gather_voxels([ds["data"].data for ds in volumes], idx, compute=ctx.compute)
    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        log(f"{int((~finite).sum())} training voxels with a missing input value were left out")
    return values[finite], index[finite]


def _facies_colors(project, facies):
    """The facies' colours in the polygon files (as in the slice viewer); '' where none."""
    from aaspi_py.training.polygons import facies_colors

    colors = facies_colors(project)
    return [colors.get(f, "") for f in facies]


def pair(p, name):
    from aaspi_py.framework.errors import AaspiError

    value = p[name]
    if len(value) != 2:
        raise AaspiError(f"The '{name}' parameter of gtm3d needs two sizes (u1, u2), e.g. {name}=20,20; got {value}.")
    if name == "latent_grid" and value[0] * value[1] < 2:
        raise AaspiError(f"The 'latent_grid' parameter of gtm3d needs at least 2 nodes, e.g. latent_grid=20,20; got {value}.")
    return tuple(value)


def check_memory(p):
    """The latent grid sizes K x K node-distance arrays (x D in the initialisation)."""
    from aaspi_py.framework.resources import check_memory

    k = p["latent_grid"][0] * p["latent_grid"][1] if len(p["latent_grid"]) == 2 else 0
    d = max(1, len(p["inputs"]))
    check_memory(8.0 * k * k * (d + 1), f"gtm3d with latent_grid {'x'.join(map(str, p['latent_grid']))} "
                 f"({k} nodes) on {d} attribute{'s' if d > 1 else ''}", "use a smaller latent_grid (20,20 is the default)")


# ---------------------------------------------------------------- run

def run_gtm3d(ctx, p) -> None:
    """gtm3d's run: train on sampled live voxels, fit facies PDFs, map every voxel, write model, figures and report."""
    import json
    import time
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.project import check_name
    from aaspi_py.framework.volume_store import write_volumes
    from aaspi_py.gtm.plots import latent_density_png, loglik_png
    from aaspi_py.gtm.volume_mapping import (
        VolumeGTM,
        gather_voxels,
        map_volume,
        one_pass,
        sample_live_voxels,
    )
    from aaspi_py.volume import build_dataset

    ctx.progress.update(0.0, "opening inputs")
    ctx.check()
    names = list(p["inputs"])
    latent_shape, rbf_shape = pair(p, "latent_grid"), pair(p, "rbf_grid")
    check_memory(p)
    volumes, mask = open_inputs(ctx, names)
    first = volumes[0]
    ns = first.sizes["sample"]
    data = [ds["data"].data for ds in volumes]
    ts = load_training(ctx, p["training_set"], names, volumes, p["check_attribute_names"]) \
        if p["training_set"] else None
    if ts is not None:
        for f in ts.facies:
            check_name(f, "facies name")

    # -- training sample
    t0 = time.perf_counter()
    index = sample_live_voxels(mask, ns, p["sample_size"], p["seed"])
    sample = gather_voxels(data, index, compute=lambda *a: ctx.compute(
        *a, progress=ctx.progress.sub(0.0, 0.05), status="sampling voxels"))
    sample = sample[np.isfinite(sample).all(axis=1)]
    if len(sample) < 2:
        raise AaspiError("Fewer than 2 live voxels with every input finite; check the inputs' trace_mask and NaNs.")
    ctx.log(f"training sample: {len(sample)} live voxels (seed {p['seed']}) of {int(mask.sum()) * ns}")

    # -- fit
    fit_progress = ctx.progress.sub(0.05, 0.4)

    def on_iteration(it, loglik):
        fit_progress.update(it / max(p["max_iter"], 1), f"EM iteration {it}: log-likelihood {loglik:.4f}")
        ctx.check()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported in the summary instead
        model = VolumeGTM.fit(sample, names, standardize=p["standardize"], callback=on_iteration,
                              latent_shape=latent_shape, rbf_shape=rbf_shape, rbf_width=p["rbf_width"],
                              regularization=p["regularization"], max_iter=p["max_iter"], tol=p["tol"],
                              random_state=p["seed"])
    gtm = model.gtm
    fit_seconds = time.perf_counter() - t0
    state = "converged" if gtm.converged_ else "stopped at max_iter"
    ctx.log(f"GTM {latent_shape[0]}x{latent_shape[1]} nodes, {rbf_shape[0]}x{rbf_shape[1]} RBFs: "
            f"{gtm.n_iter_} EM iterations ({state}), log-likelihood {gtm.loglik_[0]:.4f} -> "
            f"{gtm.loglik_[-1]:.4f} per voxel, 1/beta {1 / gtm.beta_:.4g}, {fit_seconds:.1f} s")

    # -- facies PDFs from the training set
    if ts is not None:
        values, facies_index = training_values(ctx, ts, volumes, mask, ctx.log)
        model.fit_facies(values, facies_index, ts.facies)
        counts = ", ".join(f"{f} {c}" for f, c in zip(model.facies, model.facies_counts))
        ctx.log(f"supervised PDFs from training set '{ts.name}': {counts} voxels")
    ctx.check()

    # -- map every voxel, all outputs in one pass
    maps = map_volume(model, data, mask, classify_by=p["classify_by"])
    provenance = {"module": ctx.module.id, "parameters": json.loads(json.dumps(p, default=str))}

    def lazy(array, what, kind):
        return build_dataset(array, like=first, kind=kind, attrs=provenance, trace_mask=mask), ctx.volume_output(what)

    t1 = time.perf_counter()
    # the chunk kernel is serial (dask runs chunks on several threads): BLAS pools stay at
    # one thread so that nothing inside a task oversubscribes the cores
    with one_pass(), threadpool_limits(limits=1, user_api="blas"):
        writes = [lazy(maps.latent_mean[0], "latent_u1", "latent"),
                  lazy(maps.latent_mean[1], "latent_u2", "latent"),
                  lazy(maps.latent_mode, "latent_mode", "latent")]
        for f, vol in zip(model.facies, maps.bhattacharyya):
            writes.append(lazy(vol, f"probability_{f}", "probability"))
        for f, vol in zip(model.facies, maps.posterior):
            writes.append(lazy(vol, f"posterior_{f}", "probability"))
        if model.n_facies:
            writes.append(lazy(maps.classification, "classification", "classification"))
        pdf_blocks, live_blocks, class_blocks = maps.per_chunk
        # every output is written in the input's chunks, so one mapping task feeds them all
        results = write_volumes(writes, pdf_blocks, live_blocks, class_blocks,
                                chunks=tuple(int(c[0]) for c in data[0].chunks),
                                progress=ctx.progress.sub(0.4, 0.95), status="mapping voxels")
    map_seconds = time.perf_counter() - t1
    pdf, live = np.asarray(results[0], dtype=np.float64), int(results[1])
    model.unsupervised_pdf = pdf
    n_vox = int(np.prod(first["data"].shape))
    ctx.log(f"mapped {n_vox} voxels ({live} live) in {map_seconds:.1f} s "
            f"({n_vox / max(map_seconds, 1e-9) / 1e6:.2f} Mvoxel/s with reading and writing)")

    # -- model and figures
    ctx.progress.update(0.96, "writing model and figures")
    model_dir = ctx.dir_output(ctx.output_name("model"), "results")
    model.save(model_dir)
    density_png = ctx.file_output(f"{ctx.output_name('latent_density')}.png")
    latent_density_png(density_png, pdf, model.latent_shape, facies=model.facies,
                       facies_pdfs=model.facies_pdfs, colors=_facies_colors(ctx.project, model.facies),
                       title=f"GTM latent space: {live:,} voxels, {len(names)} attributes")
    loglik_png(ctx.file_output(f"{ctx.output_name('loglik')}.png"), gtm.loglik_, gtm.objective_,
               title=f"GTM training on {len(sample):,} voxels")

    # -- report
    summary = [
        f"GTM {latent_shape[0]}x{latent_shape[1]} on {len(names)} attributes "
        f"({'standardised' if p['standardize'] else 'raw'}), trained on {len(sample)} sampled voxels: "
        f"{gtm.n_iter_} iterations ({state}), log-likelihood {gtm.loglik_[-1]:.4f} per voxel, {fit_seconds:.1f} s",
        f"mapped {n_vox} voxels in {map_seconds:.1f} s: latent mean, mode"
        + (", probability and posterior volumes per facies, classification" if model.n_facies else ""),
    ]
    report = {
        "inputs": names, "standardize": p["standardize"], "sample_voxels": len(sample),
        "latent_grid": list(latent_shape), "rbf_grid": list(rbf_shape), "n_iter": gtm.n_iter_,
        "converged": bool(gtm.converged_), "loglik": [round(float(v), 6) for v in gtm.loglik_],
        "beta": gtm.beta_, "fit_seconds": round(fit_seconds, 3), "map_seconds": round(map_seconds, 3),
        "live_voxels": live, "model": f"results/{ctx.output_name('model')}",
    }
    if model.n_facies:
        classes = np.asarray(results[2])
        share = classes[1:] / max(classes[1:].sum(), 1)
        report.update(facies=model.facies, facies_training_voxels=dict(zip(model.facies, model.facies_counts.tolist())),
                      classified_share=dict(zip(model.facies, np.round(share, 4).tolist())),
                      classify_by=p["classify_by"])
        summary.append("classified share: " + ", ".join(f"{f} {s:.1%}" for f, s in zip(model.facies, share)))
    report["summary"] = summary  # printed by the CLI; the log lines above carry the details
    ctx.report.update(report)
