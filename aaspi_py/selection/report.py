"""Outputs of attribute selection: the Figure 7/8 table (.out), JSON, CSV and PNG figures.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no backend switch), so
writing them never touches a GUI toolkit.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from aaspi_py.selection.attribute_selection import BIC_NOTE, SelectionResult
from aaspi_py.training.training_set import TrainingSet

FACIES_COLORS = ("#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")


def _names(result: SelectionResult, indices) -> str:
    return ", ".join(f"{i + 1} {result.attributes[i]}" for i in indices)


def _percent(x) -> str:
    return "    -" if x is None else f"{100 * x:5.1f} %"


def facies_table(result: SelectionResult, indices) -> list[str]:
    """Chosen clusters, model and BIC of each facies in one combination."""
    comb = result.combination(indices)
    lines = [f"    {'facies':<16} {'K':>2}  {'model':<5} {'BIC':>14} {'log L':>14}"]
    for name, fit in zip(result.facies, comb.fits):
        lines.append(f"    {name:<16} {fit.n_clusters:>2}  {fit.model:<5} {fit.bic:14.2f} {fit.log_likelihood:14.2f}")
    return lines


def _evaluated(result: SelectionResult, indices) -> bool:
    try:
        result.combination(indices)
    except KeyError:
        return False
    return True


def criterion_table(result: SelectionResult) -> list[str]:
    """How the recommendation was chosen: the criterion, the forward path, the removals."""
    rec = result.recommendation
    lines = [f"recommendation criterion: {rec.criterion}",
             "folds: " + "; ".join(rec.folds),
             f"forward selection ({rec.evaluated} attribute sets evaluated):",
             f"{'n':>5} {'log posterior':>14} {'std error':>10} {'accuracy':>9}   attribute added"]
    for step in rec.path:
        mark = "  <- best" if step.attributes == rec.best.attributes else ""
        lines.append(f"{len(step.attributes):>5} {step.score:14.4f} {step.se:10.4f} {_percent(step.accuracy):>9}   "
                     f"+ {step.attributes[-1] + 1} {result.attributes[step.attributes[-1]]}{mark}")
    p = result.parameters
    lines.append(f"parsimony: drop an attribute while the set without it stays within {p['n_se']:g} standard "
                 f"error(s) of its paired difference to the best, or loses less than {_percent(p['min_gain'])} "
                 "of held-out accuracy")
    for a, score, accuracy in rec.removed:
        lines.append(f"  backward: dropped {a + 1} {result.attributes[a]} (without it: log posterior {score:.4f}, "
                     f"accuracy {_percent(accuracy)})")
    lines.append(f"  band of the recommended set: log posterior >= {rec.threshold:.4f} (best minus "
                 f"{p['n_se']:g} standard error of the difference)")
    lines.append(f"recommended: log posterior {rec.score:.4f}: " + _names(result, rec.attributes))
    return lines


def report_text(result: SelectionResult, title: str = "", training: TrainingSet | None = None) -> str:
    """The ``.out`` report: settings, the table of the notes' Figures 7 and 8, the answers."""
    p = result.parameters
    n_attr = len(result.attributes)
    lines = [f"aaspi_py attribute_selection {title}".rstrip(), ""]
    if training is not None:
        counts = ", ".join(f"{k} {v}" for k, v in training.counts().items())
        lines.append(f"training set: {training.name or '(unnamed)'}: {len(training)} voxels ({counts})")
    lines += [
        f"facies (M = {len(result.facies)}): " + ", ".join(f"{i + 1} {f}" for i, f in enumerate(result.facies)),
        f"attributes (N = {n_attr}): " + _names(result, range(n_attr)),
        "standardised with the pooled training mean and std",
        f"mixtures: K = 1..{p['max_clusters']} clusters per facies, models {' '.join(p['models'])}; "
        + (f"k-means, SEM ({p['sem_iterations']} iterations on at most {p['sem_sample']} voxels per facies), "
           "then CEM on all voxels" if p["use_sem"] else "k-means, then CEM on all voxels"),
        f"model choice: {BIC_NOTE}",
        f"fits: {result.counts['fitted']} mixtures fitted, {result.counts['pruned']} skipped by the BIC bound"
        f"{' (pruning on)' if p['bic_pruning'] else ''}, {result.counts['degenerate']} degenerate (dropped)",
        f"strategy: {result.strategy_detail}",
        f"average cumulative distance: {result.normalisation}",
        f"validation: {result.validation['held_out']} held-out voxels; {result.validation['method']}",
        *result.warnings,
        "",
        f"{'n':>3} {'combinations':>13} {'clusters':>9} {'comparisons':>12} {'O_n':>10} {'validation':>10}   best combination",
    ]
    for n, row in sorted(result.by_n.items()):
        combos = f"{row['n_combinations']}/{row['n_possible']}"
        lines.append(f"{n:>3} {combos:>13} {row['n_clusters']:>9} {row['n_comparisons']:>12} "
                     f"{row['score']:10.4f} {_percent(row['validation_accuracy']):>10}   "
                     + _names(result, row["indices"]))
    best = result.by_n[result.best_n]
    lines += [
        "",
        f"best combination (argmax of O_n, notes eq. 9): n = {result.best_n}, O_n = {best['score']:.4f}: "
        + _names(result, best["indices"]),
        f"recommended (held-out facies separation): n = {result.recommended_n}: "
        + _names(result, result.recommendation.attributes),
        "",
        *criterion_table(result),
        "",
        "clusters per facies, best combination (BIC: higher is better):",
        *facies_table(result, best["indices"]),
    ]
    if result.recommendation.attributes != tuple(best["indices"]) and _evaluated(result, result.recommendation.attributes):
        lines += ["clusters per facies, recommended combination (BIC: higher is better):",
                  *facies_table(result, result.recommendation.attributes)]
    if any(row["confusion"] is not None for row in result.by_n.values()):
        lines += ["", "validation confusion matrices (rows: true facies, columns: predicted):"]
        width = max(8, *(len(f) for f in result.facies))
        for n, row in sorted(result.by_n.items()):
            if row["confusion"] is None:
                continue
            lines.append(f"  n = {n} ({_percent(row['validation_accuracy']).strip()}):")
            lines.append("    " + " " * width + "".join(f"{f:>{width + 1}}" for f in result.facies))
            for f, counts in zip(result.facies, row["confusion"]):
                lines.append(f"    {f:<{width}}" + "".join(f"{c:>{width + 1}}" for c in counts))
    lines += ["", f"elapsed: {result.seconds:.1f} s", ""]
    return "\n".join(lines)


def report_json(result: SelectionResult) -> dict:
    """Everything a script needs; ``best_by_n`` keys are n as strings (JSON)."""
    def fits(indices):
        return {name: {"clusters": f.n_clusters, "model": f.model, "bic": f.bic,
                       "log_likelihood": f.log_likelihood}
                for name, f in zip(result.facies, result.combination(indices).fits)}

    return {
        "facies": result.facies,
        "attributes": result.attributes,
        "best_by_n": {str(n): {"attributes": row["attributes"], "indices": [i + 1 for i in row["indices"]],
                               "score": row["score"], "validation_accuracy": row["validation_accuracy"],
                               "confusion": row["confusion"], "n_combinations": row["n_combinations"],
                               "n_possible": row["n_possible"], "n_clusters": row["n_clusters"],
                               "n_comparisons": row["n_comparisons"]}
                      for n, row in sorted(result.by_n.items())},
        "best": result.best,
        "best_n": result.best_n,
        "recommended": result.recommended,
        "recommended_n": result.recommended_n,
        "recommendation": {
            "criterion": result.recommendation.criterion, "folds": result.recommendation.folds,
            "log_posterior": result.recommendation.score, "threshold": result.recommendation.threshold,
            "path": [{"attributes": [result.attributes[a] for a in s.attributes], "log_posterior": s.score,
                      "std_error": s.se, "accuracy": s.accuracy} for s in result.recommendation.path],
            "removed": [result.attributes[a] for a, *_ in result.recommendation.removed],
        },
        "warnings": result.warnings,
        "strategy": result.strategy,
        "strategy_detail": result.strategy_detail,
        "pairs": result.pairs,
        "normalisation": result.normalisation,
        "bic": BIC_NOTE,
        "fits": dict(result.counts),
        "validation": result.validation,
        "clusters_best": fits(result.by_n[result.best_n]["indices"]),
        "clusters_recommended": (fits(result.recommendation.attributes)
                                 if _evaluated(result, result.recommendation.attributes) else None),
        "standardisation": {"mean": result.mean.tolist(), "std": result.std.tolist()},
        "parameters": result.parameters,
        "seconds": result.seconds,
    }


def write_json(result: SelectionResult, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_text(json.dumps(report_json(result), indent=2), encoding="utf-8")
    return path


def write_csv(result: SelectionResult, path: str | os.PathLike) -> Path:
    """One row per evaluated combination: n, names, 1-based indices, score, and per facies K/model/BIC."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        head = ["n", "attributes", "indices", "score", "clusters", "comparisons"]
        for f in result.facies:
            head += [f"{f}_clusters", f"{f}_model", f"{f}_bic"]
        w.writerow(head)
        for c in sorted(result.combinations, key=lambda c: (len(c.attributes), -c.score)):
            row = [len(c.attributes), "+".join(result.attributes[i] for i in c.attributes),
                   " ".join(str(i + 1) for i in c.attributes), f"{c.score:.6g}", c.n_clusters, c.n_pairs]
            for fit in c.fits:
                row += [fit.n_clusters, fit.model, f"{fit.bic:.6g}"]
            w.writerow(row)
    return path


def summary_lines(result: SelectionResult) -> list[str]:
    """What the CLI prints at the end of a run."""
    lines = [f"{result.strategy_detail}; {result.counts['fitted']} mixtures fitted "
             f"({result.counts['pruned']} skipped by the BIC bound) in {result.seconds:.1f} s"]
    for n, row in sorted(result.by_n.items()):
        acc = "" if row["validation_accuracy"] is None else f", validation {100 * row['validation_accuracy']:.1f} %"
        lines.append(f"n = {n}: O_n = {row['score']:.4f}{acc}: {' + '.join(row['attributes'])}")
    lines.append(f"best (argmax O_n): {' + '.join(result.best)}")
    lines.append(f"recommended (held-out facies separation; parsimony: {result.parameters['n_se']:g} standard "
                 f"error, {_percent(result.parameters['min_gain']).strip()} of accuracy): "
                 f"{' + '.join(result.recommended)}")
    lines += result.warnings
    return lines


# ---------------------------------------------------------------- figures

def _figure(width=6.4, height=4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def plot_scores(result: SelectionResult, path: str | os.PathLike) -> Path:
    """O_n versus n (the notes' answer) beside the held-out criterion of the recommendation."""
    ns = sorted(result.by_n)
    scores = [result.by_n[n]["score"] for n in ns]
    fig = _figure(11.0, 4.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(ns, scores, "o-", color="#1f77b4", label="O_n")
    top = result.by_n[result.best_n]["score"]
    ax.plot([result.best_n], [top], "s", ms=10, mfc="none", mec="k", label=f"best, argmax O_n (n = {result.best_n})")
    ax.set_xlabel("number of attributes n")
    ax.set_ylabel("O_n (mean Bhattacharyya distance)")
    ax.set_xticks(ns)
    ax.set_title("Notes: average cumulative distance, best of n", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)

    rec = result.recommendation
    ax = fig.add_subplot(1, 2, 2)
    steps = [len(s.attributes) for s in rec.path]
    ax.errorbar(steps, [s.score for s in rec.path], yerr=[s.se for s in rec.path], fmt="o-", color="#2ca02c",
                capsize=3, label="forward selection")
    ax.axhline(rec.threshold, color="#2ca02c", ls="--", lw=1, label="best - paired standard error")
    ax.plot([len(rec.attributes)], [rec.score], "*", ms=14, color="#d62728",
            label=f"recommended (n = {len(rec.attributes)})")
    for s in rec.path:
        ax.annotate(result.attributes[s.attributes[-1]], (len(s.attributes), s.score), fontsize=7,
                    rotation=30, xytext=(3, -10), textcoords="offset points")
    ax.set_xlabel("number of attributes")
    ax.set_ylabel("held-out log posterior of the true facies")
    ax.set_xticks(steps)
    ax.set_title("Recommendation: held-out separation of the facies", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return Path(path)


def plot_validation(result: SelectionResult, path: str | os.PathLike) -> Path:
    """Held-out accuracy of the best combination of each n."""
    ns = [n for n in sorted(result.by_n) if result.by_n[n]["validation_accuracy"] is not None]
    fig = _figure()
    ax = fig.add_subplot()
    if ns:
        acc = [100 * result.by_n[n]["validation_accuracy"] for n in ns]
        ax.plot(ns, acc, "o-", color="#2ca02c")
        ax.set_xticks(ns)
    else:
        ax.text(0.5, 0.5, "no validation (validation_fraction = 0)", ha="center", transform=ax.transAxes)
    ax.set_xlabel("number of attributes n")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title("Validation of the best combination of n attributes", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return Path(path)


def plot_ellipses(result: SelectionResult, training: TrainingSet, path: str | os.PathLike,
                  seed: int = 0, max_points: int = 1500) -> Path | None:
    """Training voxels and the 1σ and 2σ ellipses of every cluster, best 2-attribute pair."""
    if 2 not in result.by_n:
        return None
    from matplotlib.patches import Ellipse

    a, b = result.by_n[2]["indices"]
    comb = result.combination((a, b))
    mean, std = result.mean[[a, b]], result.std[[a, b]]
    rng = np.random.default_rng(seed)
    fig = _figure(6.4, 5.2)
    ax = fig.add_subplot()
    for m, (name, fit) in enumerate(zip(result.facies, comb.fits)):
        color = FACIES_COLORS[m % len(FACIES_COLORS)]
        pts = training.values[training.facies_index == m][:, [a, b]]
        if len(pts) > max_points:
            pts = pts[rng.choice(len(pts), max_points, replace=False)]
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.25, color=color, linewidths=0)
        for k in range(fit.n_clusters):
            mu = fit.means[k] * std + mean
            cov = fit.covariances[k] * np.outer(std, std)
            w, v = np.linalg.eigh(cov)
            angle = math.degrees(math.atan2(v[1, 1], v[0, 1]))
            for s, style in ((1.0, "-"), (2.0, "--")):
                ax.add_patch(Ellipse(mu, 2 * s * math.sqrt(max(w[1], 0)), 2 * s * math.sqrt(max(w[0], 0)),
                                     angle=angle, fill=False, ec=color, ls=style, lw=1.6))
            ax.plot(*mu, "+", color=color, ms=10, mew=2)
        ax.plot([], [], color=color, lw=2, label=f"{name}: {fit.n_clusters} × {fit.model}")
    ax.set_xlabel(result.attributes[a])
    ax.set_ylabel(result.attributes[b])
    ax.set_title(f"Best pair (O_2 = {result.by_n[2]['score']:.3f}): clusters at 1σ and 2σ", fontsize=10)
    ax.legend(fontsize=8)
    ax.autoscale_view()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return Path(path)
