"""rfc3d: random forest facies classification of whole 3D volumes (AASPI program rfc3d).

Parameters follow steps 1-14 of the course notes' rfc3d window; the steps of a run are in
:mod:`aaspi_py.forest.rfc3d_steps`.
"""

from aaspi_py.framework.params import Bool, Choice, File, Float, Int, Ints, Volume, Volumes
from aaspi_py.framework.registry import Module


def outputs(ctx, p):
    planned = [ctx.planned_volume("classification")]
    if not p["model"]:
        planned.append(ctx.planned_dir(ctx.output_name("model"), "results"))
    return planned


def _check_early(ctx, p):
    """Training file and forest size, before anything is read or trained."""
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.framework.resources import check_memory

    if p["training_file"] and not p["model"]:
        path = ctx.project.resolve(p["training_file"])
        if not path.is_file():
            found = "a folder" if path.is_dir() else "not found"
            raise AaspiError(f"The training_file {p['training_file']} is {found}; give the text training file "
                             f"(e.g. training/<name>/<name>.txt written by define_training_data).")
    counts = p["tree_counts"] or [max(1, p["n_trees"] // 2), p["n_trees"], 2 * p["n_trees"]]
    # a tree has at most 2 samples - 1 nodes and at most 2^(depth+1) - 1; ~100 bytes a node
    samples = p["max_voxels"] or 10_000_000
    nodes = min(2 * samples, 2 ** (p["max_depth"] + 1) if p["max_depth"] else 2 * samples)
    check_memory(max(counts) * nodes * 100.0, f"rfc3d with {max(counts)} trees of up to {nodes} nodes",
                 "use fewer trees (n_trees), a smaller max_depth or max_voxels")


def run(ctx, p):
    from aaspi_py.forest import rfc3d_steps as steps

    _check_early(ctx, p)
    datasets = steps.open_attributes(ctx, p)
    if p["model"]:
        model = steps.load_model(ctx, p)
        ctx.progress.update(0.5, "model loaded")
    else:
        model = steps.train_model(ctx, p, datasets, ctx.progress.sub(0.0, 0.5))
    paths = steps.predict_volumes(ctx, p, model, datasets, ctx.progress.sub(0.5, 0.95))
    steps.timeslice_figure(ctx, p, model, paths["classification"])
    ctx.report["summary"].append(f"wrote {ctx.output_name('classification')}"
                                 + (f" and {len(paths) - 1} probability volumes" if len(paths) > 1 else ""))


def demo(project, progress) -> list[str]:
    """rfc3d on the sample survey; CV accuracy and accuracy against the true facies volume."""
    from aaspi_py import sample_volumes as sv
    from aaspi_py.forest.predict import agreement
    from aaspi_py.framework.runner import run
    from aaspi_py.framework.selection_reference import recommended
    from aaspi_py.volume import open_volume

    # the attributes the demo's attribute_selection recommended (every candidate without it)
    selection = f"attribute_selection_{project.name}"
    attributes = (recommended(project, selection) if (project.results_dir / f"{selection}.json").exists()
                  else list(sv.ATTRIBUTES))
    res = run("rfc3d", project, training_file="training/sample/sample.txt", attributes=attributes,
              n_classes=len(sv.FACIES), n_trees=50, cv_grouping="polygon", probabilities=True,
              overwrite=True, progress=progress)
    pred = open_volume(res.outputs[f"rfc3d_classification_{project.name}"])
    truth = open_volume(project.volume_path("true_facies"))
    # true_facies numbers the facies in sample_volumes.FACIES order; map the file's classes by name
    names = res.report.get("classes", [])
    mapping = {c: sv.FACIES.index(n) + 1 for c, n in enumerate(names, 1) if n in sv.FACIES}
    ag = agreement(pred, truth, mapping=mapping or None)
    recall = ", ".join(f"{sv.FACIES[c - 1]} {r:.0%}" for c, r in ag["recall"].items())
    return [
        f"attributes: {', '.join(attributes)}", *res.report["summary"][:2],
        f"against true_facies ({ag['voxels']} live voxels): accuracy {ag['accuracy']:.1%} "
        f"(always the commonest facies: {ag['majority']:.1%}), mean recall {ag['balanced_accuracy']:.1%} "
        f"(chance {ag['chance']:.1%}; {recall}), kappa {ag['kappa']:.2f}"]


MODULE = Module(
    id="rfc3d",
    title="Random forest classification (rfc3d)",
    category="Volumetric Classification",
    description="Random forest facies classification of whole volumes from a training file and attribute volumes.",
    params=(
        File("training_file", "", pattern="Training files (*.txt *.dat);;All files (*)",
             help="Text training file: '#' header lines, then rows 'inline crossline sample class' "
                  "(class 1..M), as written by define_training_data or by hand (e.g. from wells). "
                  "Not needed with a saved model."),
        Int("header_lines", -1, low=-1,
            help="Number of header lines to skip in the training file; -1 (default) skips every line "
                 "starting with '#'."),
        Volumes("attributes",
                help="Ordered attribute volumes of the project (zarr); SEG-Y or AASPI .H attributes "
                     "are brought in first with segy_import or `aaspi import-segy`. All on one grid."),
        Int("n_attributes", 0, low=0,
            help="Number of input attributes, checked against the attribute list (0 = take it from the list)."),
        Int("n_classes", 0, low=0,
            help="Number of classes in the training file, checked against the file (0 = the largest "
                 "class number in the file). Every class 1..n_classes needs voxels."),
        Bool("normalize", True,
             help="Z-score each attribute with the training mean and std (stored in the model); "
                  "keeps attributes of tiny numeric range usable by the trees."),
        Int("max_depth", 12, low=0, help="Maximum depth of the trees (0 = unlimited); deeper trees may overfit."),
        Int("n_trees", 100, low=1,
            help="Number of trees n; cross-validation tries n/2, n and 2n and keeps the best."),
        Ints("tree_counts", (), low=1,
             help="Tree counts to cross-validate instead of n/2, n, 2n (optional)."),
        Int("cv_folds", 5, low=2, high=20, help="Number of cross-validation folds."),
        Choice("cv_grouping", "random", choices=("random", "polygon"),
               help="Cross-validation folds: 'random' (stratified voxels, as AASPI) or 'polygon' (whole "
                    "polygons/wells held out, so neighbouring voxels do not leak between folds; a file "
                    "made by hand is grouped by connected patches of same-class voxels)."),
        Choice("class_weight", "none", choices=("none", "balanced"),
               help="'balanced' weights classes inversely to their voxel counts, for facies with few voxels."),
        Int("seed", 1, low=0, help="Seed of the forest, the folds and the voxel subset (same seed, same result)."),
        Int("max_voxels", 20000, low=0,
            help="Use at most this many training voxels, sampled per class (0 = all); neighbouring "
                 "voxels of a polygon are near copies, so a subset trains almost the same forest faster."),
        Int("permutation_repeats", 5, low=0,
            help="Shuffles per attribute for the permutation importance (0 = skip it)."),
        Bool("probabilities", False,
             help="Also write one probability volume per class (rfc3d_probability_<class>_<project><suffix>)."),
        File("model", "", help="A saved model folder (results/rfc3d_model_<project><suffix>, or its model.json) to predict "
                               "with instead of training; the attributes must be the model's, in order."),
        Volume("amplitude", "amplitude",
               help="Volume shown beside the prediction in the time-slice PNG (left out if the project has none)."),
        Float("slice_sample", -1.0,
              help="Time (or depth) of the time-slice PNG; -1 = the slice where the predicted classes "
                   "are most evenly mixed."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=70,
)
