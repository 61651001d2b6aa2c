"""attribute_selection: the attribute combination that best separates the facies (GMM + Bhattacharyya)."""

from aaspi_py.framework.params import Bool, Choice, File, Float, Int, Str
from aaspi_py.framework.registry import Module

MODELS = "EII,VII,EEI,EVI,VVI,EEE,EEV,EVV,VVV"


def _models(text: str) -> list[str]:
    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.mixture.covariance_models import MODELS as KNOWN

    names = [m.strip().upper() for m in text.replace(";", ",").replace(" ", ",").split(",") if m.strip()]
    bad = [m for m in names if m not in KNOWN]
    if bad or not names:
        raise AaspiError(f"The 'covariance_models' parameter of attribute_selection must list models among "
                         f"{', '.join(KNOWN)} (comma-separated). Got {text!r} instead.")
    return names


def outputs(ctx, p):
    return [ctx.planned_file(f"{ctx.output_name('')}.out")]


def run(ctx, p):
    import json

    from aaspi_py.framework.errors import AaspiError
    from aaspi_py.selection import report
    from aaspi_py.selection.attribute_selection import load_training, select_attributes, subsample

    models = _models(p["covariance_models"])
    training = load_training(p["training"], ctx.project)
    for key, have, what in (("n_attributes", training.n_attributes, "attributes"),
                            ("n_facies", training.n_facies, "facies")):
        if p[key] and p[key] != have:
            raise AaspiError(f"The '{key}' parameter of attribute_selection is {p[key]} but the training set "
                             f"'{p['training']}' has {have} {what}; set {key} = {have} (or 0 to take it from the training set).")
    if p["max_voxels"]:
        training = subsample(training, p["max_voxels"], p["seed"])
    ctx.log(f"training set {training.name or p['training']}: {len(training)} voxels, "
            f"{training.n_facies} facies, {training.n_attributes} attributes")
    result = select_attributes(
        training, max_clusters=p["max_clusters"], use_sem=p["use_sem"], sem_iterations=p["sem_iterations"],
        sem_sample=p["sem_sample"], cem_max_iterations=p["cem_max_iterations"], models=models,
        pairs=p["pairs"], folds=p["folds"], n_se=p["n_se"], min_gain=p["min_gain"],
        validation_fraction=p["validation_fraction"], seed=p["seed"], strategy=p["strategy"],
        screen_top=p["screen_top"], bic_pruning=p["bic_pruning"], n_jobs=p["n_jobs"] or None,
        progress=ctx.progress)
    ctx.check()

    base = ctx.output_name("")
    text = report.report_text(result, f"— {ctx.run_name}", training)
    ctx.file_output(f"{base}.out").write_text(text, encoding="utf-8")
    data = report.report_json(result)
    # the volumes of the recommended attributes, for `attributes=@<this run>` in later modules
    data["recommended_volumes"] = [training.volumes[training.attributes.index(a)] for a in result.recommended]
    ctx.file_output(f"{base}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    report.write_csv(result, ctx.file_output(f"{base}.csv"))
    report.plot_scores(result, ctx.file_output(f"{ctx.output_name('scores')}.png"))
    report.plot_validation(result, ctx.file_output(f"{ctx.output_name('validation')}.png"))
    if 2 in result.by_n:
        report.plot_ellipses(result, training, ctx.file_output(f"{ctx.output_name('ellipses')}.png"), seed=p["seed"])

    summary = report.summary_lines(result)
    for line in summary:
        ctx.log(line)
    ctx.report.update({k: data[k] for k in ("best", "recommended", "best_n", "recommended_n", "recommendation",
                                             "warnings", "strategy", "strategy_detail", "best_by_n", "fits",
                                             "normalisation", "bic")})
    ctx.report["summary"] = summary


def _true_facies_training(project, per_facies: int = 3000, seed: int = 0):
    """A training set drawn from the sample survey's true facies (when no polygons were turned into one).

    The voxels keep their positions, so the recommendation's folds are spatial blocks.
    """
    import numpy as np
    from aaspi_py.sample_volumes import ATTRIBUTES, FACIES, FACIES_CODES

    from aaspi_py.training.training_set import TrainingSet
    from aaspi_py.volume import open_volume

    ds = open_volume(project.volume_path("true_facies"))
    truth = ds["data"].values.ravel()
    rng = np.random.default_rng(seed)
    picks, labels = [], []
    for m, name in enumerate(FACIES):
        where = np.flatnonzero(truth == FACIES_CODES[name])
        picks.append(np.sort(rng.choice(where, min(per_facies, len(where)), replace=False)))
        labels.append(np.full(len(picks[-1]), m))
    picks = np.concatenate(picks)
    index = np.unravel_index(picks, ds["data"].shape)
    positions = np.column_stack([ds[axis].values[i] for axis, i in zip(("inline", "crossline", "sample"), index)])
    values = np.column_stack([open_volume(project.volume_path(a))["data"].values.ravel()[picks] for a in ATTRIBUTES])
    training = TrainingSet(facies=list(FACIES), attributes=list(ATTRIBUTES), values=values,
                           facies_index=np.concatenate(labels), positions=positions, name="sample_true_facies")
    training.save(project.training_dir / "sample_true_facies")
    return "sample_true_facies"


def demo(project, progress):
    from aaspi_py.framework.runner import run as run_module

    name = "sample"
    if not (project.training_dir / name / "training_set.json").exists():
        name = _true_facies_training(project)
    res = run_module("attribute_selection", project, training=name, max_voxels=5000,
                     overwrite=True, progress=progress)
    return res.report["summary"]


MODULE = Module(
    id="attribute_selection",
    title="Attribute selection (GMM)",
    category="Volumetric Classification",
    description="Best attribute combination for the facies: Gaussian mixtures per facies and Bhattacharyya distances.",
    params=(
        File("training", pattern="Training sets (training_set.json *.csv);;All files (*)",
             help="Training set: a name under training/ (from define_training_data), a training-set folder, "
                  "or a CSV table with a 'facies' column and one column per attribute."),
        Int("n_attributes", 0, low=0,
            help="Number of candidate attributes, checked against the training set (0 = take it from the training set)."),
        Int("n_facies", 0, low=0,
            help="Number of seismic facies, checked against the training set (0 = take it from the training set)."),
        Int("max_clusters", 2, low=1, high=9,
            help="Maximum number of GMM clusters per facies; K = 1..max is chosen by BIC (chaotic facies "
                 "such as MTDs often need 2)."),
        Bool("use_sem", True,
             help="Run stochastic EM (SEM) before CEM, to escape poor local optima."),
        Int("sem_iterations", 200, low=1,
            help="SEM iterations; the iterate with the highest log-likelihood starts CEM."),
        Int("sem_sample", 256, low=0,
            help="SEM explores a seeded sample of at most this many voxels per facies (0 = all); CEM, "
                 "the likelihood and the BIC always use every voxel."),
        Int("cem_max_iterations", 100, low=1,
            help="Cap on CEM iterations (CEM otherwise stops when the partition no longer changes)."),
        Str("covariance_models", MODELS,
            help="Covariance models to try, mclust names separated by commas "
                 "(EII, VII, EEI, EVI, VVI, EEE, EEV, EVV, VVV)."),
        Choice("pairs", "between", choices=("between", "all"),
               help="Cluster pairs averaged in the cumulative distance: 'between' different facies only, "
                    "or 'all' pairs of clusters (as the course notes count them)."),
        Int("folds", 3, low=2, high=20,
            help="Cross-validation folds of the held-out criterion that chooses the recommended combination "
                 "(whole polygons where a facies has several, else spatial blocks, else random voxels)."),
        Float("n_se", 1.0, low=0.0, high=10.0,
              help="Parsimony: an attribute is dropped from the best combination while the held-out log "
                   "posterior of the true facies without it stays within this many standard errors of the best."),
        Float("min_gain", 0.01, low=0.0, high=0.5,
              help="Parsimony: an attribute is also dropped when the held-out accuracy without it is less "
                   "than this below the best combination's (0.01 = one point; 0 = the standard error alone)."),
        Float("validation_fraction", 0.3, low=0.0, high=0.9,
              help="Share of each facies held out (whole polygons where a facies has several) to validate "
                   "the best combination of each n; 0 skips validation."),
        Int("seed", 0, low=0, help="Seed of the SEM samples and draws and of the validation split."),
        Choice("strategy", "auto", choices=("auto", "exhaustive", "screen"),
               help="'exhaustive' fits all 2^N-1 combinations; 'screen' ranks them by the exact marginals of "
                    "full-dimensional mixtures and fits the top ones; 'auto' screens from 12 attributes on."),
        Int("screen_top", 10, low=1,
            help="With the screen strategy: combinations per n fitted exactly after screening."),
        Bool("bic_pruning", True,
             help="Skip a covariance model when its BIC could not beat the best so far even with the "
                  "likelihood of the fitted models that contain it (VVV contains all, VVI the diagonal ones)."),
        Int("max_voxels", 0, low=0,
            help="Use at most this many training voxels per facies (seeded sample; 0 = all)."),
        Int("n_jobs", 0, low=0, help="Threads used (0 = one per core)."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=45,
)
