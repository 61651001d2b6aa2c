"""The steps of an rfc3d run: inputs, training (or a saved model), prediction, figures, demo.

``modules/rfc3d.py`` declares the parameters and calls these in order. Outputs:
``rfc3d_classification_<project><suffix>`` (int16, class 0 on dead traces and NaN voxels),
optionally ``rfc3d_probability_<class>_<project><suffix>``, the model folder
``results/rfc3d_model_<project><suffix>/`` (``model.json`` + ``trees.npz``, no pickle), and
PNGs ``results/rfc3d_{importance,confusion,timeslice}_<project><suffix>.png``. The CV and
importance tables go to the run record ``logs/aaspi_rfc3d_<project><suffix>.out``.
"""

from __future__ import annotations

import json
import re

import numpy as np

from aaspi_py.forest.model import ForestModel
from aaspi_py.framework.errors import AaspiError

# ---------------------------------------------------------------- inputs

def open_attributes(ctx, p) -> list:
    """The attribute volumes, checked: count against n_attributes, no repeats, one grid."""
    names = list(p["attributes"])
    if not names:
        raise AaspiError("rfc3d needs attribute volumes: set attributes = [\"envelope\", ...] "
                         "(volumes of the project, in the order of the model).")
    if p["n_attributes"] and p["n_attributes"] != len(names):
        raise AaspiError(f"n_attributes = {p['n_attributes']} but {len(names)} attribute volumes are listed "
                         f"({', '.join(names)}); set n_attributes = {len(names)} (or 0) or fix the list.")
    seen = {n for n in names if names.count(n) > 1}
    if seen:
        raise AaspiError(f"Attribute volume '{sorted(seen)[0]}' is listed twice; list each attribute once.")
    return ctx.open_volumes(names, "attributes", axes=("inline", "crossline", "sample"))


def load_model(ctx, p) -> ForestModel:
    """A saved model, checked against the attributes and n_classes given."""
    model = ForestModel.load(ctx.project.resolve(p["model"]))
    names = list(p["attributes"])
    if len(names) != model.n_attributes:
        raise AaspiError(f"The model {p['model']} was trained on {model.n_attributes} attributes "
                         f"({', '.join(model.attributes)}); {len(names)} were given. Give the same attributes in order.")
    if names != model.attributes:
        k = next(i for i, (a, b) in enumerate(zip(names, model.attributes)) if a != b)
        raise AaspiError(f"Attribute {k + 1} is '{names[k]}' but the model {p['model']} expects "
                         f"'{model.attributes[k]}'; give the model's attributes in order: {', '.join(model.attributes)}.")
    if p["n_classes"] and p["n_classes"] != model.n_classes:
        raise AaspiError(f"n_classes = {p['n_classes']} but the model {p['model']} predicts "
                         f"{model.n_classes} classes; set n_classes = {model.n_classes} (or 0).")
    ctx.log(f"model: {p['model']} ({model.n_trees} trees, classes "
            + ", ".join(f"{c}={n}" for c, n in zip(model.classes, model.class_names)) + ")")
    ctx.report.update(model=str(p["model"]), n_trees=model.n_trees, classes=model.class_names,
                      summary=[f"predicted with the saved model {p['model']} ({model.n_trees} trees)"])
    return model


# ---------------------------------------------------------------- training

def _cv_groups(ctx, p, tv, sel):
    from aaspi_py.forest.training import patch_groups

    if p["cv_grouping"] != "polygon":
        return None
    if tv.polygon is not None:
        ctx.log("CV groups: the polygons of the training set")
        # polygon ids restart in each facies file: the class keeps them apart
        return tv.classes[sel] * (int(tv.polygon.max()) + 1) + tv.polygon[sel]
    ctx.log("CV groups: connected patches of same-class training voxels (no polygon ids with this file)")
    return patch_groups(tv.index[sel], tv.classes[sel])


def train_model(ctx, p, datasets, progress) -> ForestModel:
    """Read the training voxels, cross-validate, fit, save the model, write the training PNGs."""
    from aaspi_py.forest import report as rep
    from aaspi_py.forest.training import ForestParams, subsample, train
    from aaspi_py.training.voxels import read_training_voxels

    if not p["training_file"]:
        raise AaspiError("rfc3d needs a training_file (rows 'inline crossline sample class'), "
                         "or a saved model to predict with.")
    names = list(p["attributes"])
    skip = None if p["header_lines"] < 0 else p["header_lines"]
    tv = read_training_voxels(ctx.project.resolve(p["training_file"]), skip, datasets, names, p["n_classes"])
    counts = tv.counts()
    ctx.log(f"training file: {p['training_file']} ({len(tv)} voxels; header lines: "
            + ("lines starting with '#'" if skip is None else str(skip)) + ")")
    ctx.log("classes: " + ", ".join(f"{c}={n} ({counts[c]} voxels)" for c, n in enumerate(tv.class_names, 1)))
    ctx.log(f"attributes ({len(names)}): " + ", ".join(names))
    sel = subsample(tv.classes, p["max_voxels"], p["seed"])
    if len(sel) < len(tv):
        ctx.log(f"training voxels used: {len(sel)} of {len(tv)} (max_voxels, sampled per class)")
    params = ForestParams(max_depth=p["max_depth"] or None, seed=p["seed"],
                          class_weight=None if p["class_weight"] == "none" else p["class_weight"])
    result = train(tv.values[sel], tv.classes[sel], names, tv.class_names, n_trees=p["n_trees"],
                   tree_counts=p["tree_counts"] or None, params=params, normalize=p["normalize"],
                   groups=_cv_groups(ctx, p, tv, sel), n_folds=p["cv_folds"],
                   repeats=p["permutation_repeats"], progress=progress)
    cv, model = result.cv, result.model
    result.model.info.update(training_file=str(p["training_file"]), class_counts=counts)
    ctx.log("normalise: " + ("z-score with the training mean and std" if p["normalize"] else "off"))
    for line in (rep.cv_table(cv) + rep.importance_table(names, result.gini, cv.permutation)
                 + rep.confusion_table(cv.confusion, tv.class_names)):
        ctx.log(line)
    model.save(ctx.dir_output(ctx.output_name("model"), "results"))
    rep.importance_png(ctx.file_output(ctx.output_name("importance") + ".png"), names, result.gini, cv.permutation)
    rep.confusion_png(ctx.file_output(ctx.output_name("confusion") + ".png"), cv.confusion, tv.class_names,
                      f"rfc3d cross-validation ({cv.folds}), {cv.best} trees")
    top = np.argsort(-result.gini, kind="stable")[:3]
    ctx.report.update(
        training_voxels=len(tv), used_voxels=int(len(sel)), class_counts=counts, classes=tv.class_names,
        cv_folds=cv.folds, cv_accuracy={str(n): round(float(a), 5) for n, a in zip(cv.tree_counts, cv.mean)},
        best_trees=cv.best, gini=dict(zip(names, np.round(result.gini, 5).tolist())),
        permutation={a: [round(float(m), 5), round(float(s), 5)] for a, (m, s) in zip(names, cv.permutation)},
        confusion=cv.confusion.tolist(),
        summary=[f"CV accuracy ({cv.folds}): " + ", ".join(f"{n} trees {a:.3f}" for n, a in zip(cv.tree_counts, cv.mean))
                 + f" -> {cv.best} trees",
                 "most important: " + ", ".join(f"{names[i]} ({result.gini[i]:.2f})" for i in top)])
    return model


# ---------------------------------------------------------------- prediction

def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "class"


def predict_volumes(ctx, p, model: ForestModel, datasets, progress) -> dict:
    """Write the class volume (and probability volumes) in one pass; returns their temporary paths."""
    from aaspi_py.forest.predict import predict_dask
    from aaspi_py.framework.volume_store import write_volumes
    from aaspi_py.training.voxels import live_mask
    from aaspi_py.volume import build_dataset

    mask = live_mask(datasets)
    classes, probs = predict_dask(model, datasets, probabilities=p["probabilities"], mask=mask)
    chunks = tuple(int(c[0]) for c in classes.chunks)
    attrs = {"module": ctx.module.id, "parameters": json.loads(json.dumps(ctx.params, default=str)),
             "inputs": list(p["attributes"]), "classes": dict(zip(map(str, model.classes.tolist()), model.class_names))}
    outputs = {"classification": (classes, "classification")}
    if probs is not None:
        for m, name in enumerate(model.class_names):
            outputs[f"probability_{_safe(name)}"] = (probs[m], "probability")
    paths, writes = {}, []
    for what, (data, kind) in outputs.items():
        paths[what] = ctx.volume_output(what)
        writes.append((build_dataset(data, like=datasets[0], kind=kind, attrs=attrs, trace_mask=mask), paths[what]))
    # one pass, chunk by chunk: the probability volumes share the classification's forest pass
    write_volumes(writes, chunks=chunks, progress=progress, status="predicting")
    return paths


def most_mixed_sample(pred) -> int:
    """Index of the time slice whose predicted classes are the most evenly mixed (highest entropy)."""
    import dask

    data = pred["data"].data
    top = int(data.max().compute())
    counts = np.array(dask.compute(*[(data == c).sum(axis=(0, 1)) for c in range(1, top + 1)]), dtype=float)
    frac = counts / np.maximum(counts.sum(axis=0), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(frac > 0, frac * np.log(frac), 0.0), axis=0)
    return int(np.argmax(entropy)) if counts.size else data.shape[2] // 2


def timeslice_figure(ctx, p, model: ForestModel, class_path) -> None:
    """PNG of one time slice of the prediction, beside the amplitude volume when the project has it."""
    from aaspi_py.forest.report import timeslice_png
    from aaspi_py.training.polygons import facies_colors
    from aaspi_py.volume import open_volume

    pred = open_volume(class_path)
    samples = pred["sample"].values.astype(float)
    if p["slice_sample"] != -1.0:
        k = int(np.argmin(np.abs(samples - p["slice_sample"])))
    else:
        k = most_mixed_sample(pred)
    amplitude = None
    if p["amplitude"] and p["amplitude"] in ctx.project.volumes():
        amp = ctx.open_volume(p["amplitude"], param="amplitude")
        if amp["data"].shape == pred["data"].shape:
            amplitude = np.asarray(amp["data"][:, :, k].values, dtype=np.float32)
        else:
            ctx.log(f"time-slice PNG: '{p['amplitude']}' is on another grid; prediction shown alone")
    il, xl = pred["inline"].values, pred["crossline"].values
    colors = facies_colors(ctx.project)  # the polygons' colours, as in the slice viewer
    timeslice_png(ctx.file_output(ctx.output_name("timeslice") + ".png"),
                  np.asarray(pred["data"][:, :, k].values), model.class_names,
                  [float(il[0]), float(il[-1]), float(xl[0]), float(xl[-1])], float(samples[k]),
                  amplitude, pred["sample"].attrs.get("units", "ms"),
                  colors=[colors.get(n, "") for n in model.class_names])
