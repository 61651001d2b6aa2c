"""gtm3d: Generative Topographic Mapping of attribute volumes (SPEC 3.6).

Trains a GTM on a seeded sample of live voxels of the (usually Kuwahara-filtered,
standardised) attribute volumes, then maps every voxel, chunk by chunk: latent mean (two
volumes) and mode, the unsupervised PDF of all voxels and, with a training set, each
facies' supervised PDF, probability volumes (Bhattacharyya coefficient), Bayesian
posteriors and the most probable facies. See :mod:`aaspi_py.gtm.volume_mapping` for the formulas.

Training voxels are taken by position: the training set's (inline, crossline, sample)
positions are located in the grid of the INPUT volumes and the values read from the
inputs. A training set is usually extracted from the unfiltered attributes while the
inputs are Kuwahara-filtered; reading the inputs keeps training and mapped voxels in the
same attribute space. A CSV training table without positions is used as it is (its values
must then come from the input volumes).
"""

from aaspi_py.framework.params import Bool, Choice, File, Float, Int, Ints, Volumes
from aaspi_py.framework.registry import Module


def outputs(ctx, p):
    return [ctx.planned_volume("latent_u1"), ctx.planned_dir(ctx.output_name("model"), "results")]


def run(ctx, p):
    from aaspi_py.gtm.gtm3d_steps import run_gtm3d

    run_gtm3d(ctx, p)


# ---------------------------------------------------------------- demo

def demo(project, progress):
    import numpy as np
    from aaspi_py.sample_volumes import ATTRIBUTES

    from aaspi_py.framework.runner import run as run_module
    from aaspi_py.framework.selection_reference import recommended
    from aaspi_py.volume import open_volume

    have = set(project.volumes())
    selection = f"attribute_selection_{project.name}"
    if (project.results_dir / f"{selection}.json").exists():
        # the recommended attributes, Kuwahara-filtered where the demo filtered them
        chosen = recommended(project, selection)
    else:
        chosen = [a for a in ATTRIBUTES if a in have]
    inputs = [f"kuwahara3d_{a}_{project.name}" if f"kuwahara3d_{a}_{project.name}" in have else a for a in chosen]
    filtered = sum(n.startswith("kuwahara3d_") for n in inputs)
    res = run_module("gtm3d", project, inputs=inputs, training_set="sample", overwrite=True, progress=progress)
    lines = list(res.report["summary"])
    lines.append(f"inputs: {', '.join(chosen)} ({filtered} of {len(inputs)} Kuwahara-filtered)")
    if "true_facies" in have:
        truth = open_volume(project.volume_path("true_facies"))["data"].values
        pred = open_volume(res.outputs[f"gtm3d_classification_{project.name}"])["data"].values
        known = (truth > 0) & (pred > 0)
        classes = np.unique(truth[known])
        accuracy = float(np.mean(pred[known] == truth[known]))
        shares = np.array([np.mean(truth[known] == c) for c in classes])
        recall = np.array([np.mean(pred[known & (truth == c)] == c) for c in classes])
        lines.append(f"most probable facies vs true_facies over {int(known.sum())} voxels: accuracy {accuracy:.1%} "
                     f"(majority class {shares.max():.1%}, proportional guess {np.sum(shares**2):.1%}); "
                     f"balanced accuracy {recall.mean():.1%} (chance {1 / len(classes):.1%})")
    return lines


MODULE = Module(
    id="gtm3d",
    title="Generative Topographic Mapping",
    category="Volumetric Classification",
    description="GTM of attribute volumes: latent maps, facies PDFs, probability volumes and classification.",
    params=(
        Volumes("inputs", help="Ordered attribute volumes (usually Kuwahara-filtered), all on one grid; "
                               "in the training set's attribute order when one is given."),
        Bool("standardize", True, help="Scale each attribute to zero mean and unit variance (training-sample statistics)."),
        Int("sample_size", 50000, low=2, help="Live voxels drawn at random (seeded) to train the GTM."),
        Ints("latent_grid", [20, 20], low=1, help="Latent grid nodes along u1 and u2 (K = product)."),
        Ints("rbf_grid", [5, 5], low=1, help="Radial basis function centres along u1 and u2."),
        Float("rbf_width", 1.0, low=0.01, high=100.0,
              help="RBF standard deviation as a multiple of the spacing between RBF centres."),
        Float("regularization", 0.1, low=0.0, help="Weight regularisation (prior precision alpha); larger is stiffer."),
        Int("max_iter", 100, low=1, help="Maximum EM iterations."),
        Float("tol", 1e-5, low=0.0, help="Stop when the mean log-likelihood per voxel gains less than this."),
        Int("seed", 42, low=0, help="Seed of the training sample (and of any random initialisation)."),
        File("training_set", "", help="Optional training set: training/<name> folder (or just <name>) or a CSV table; "
                                      "gives facies PDFs, probability volumes and a classification."),
        Bool("check_attribute_names", True,
             help="Refuse a training set whose attribute names do not match the inputs in order."),
        Choice("classify_by", "posterior", choices=("posterior", "bhattacharyya"),
               help="Most-probable-facies volume from the Bayesian posterior or the Bhattacharyya probability."),
    ),
    run=run,
    outputs=outputs,
    demo=demo,
    demo_order=80,
)
