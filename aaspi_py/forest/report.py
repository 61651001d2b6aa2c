"""rfc3d's report: text tables for the run record and the PNG figures.

Figures use matplotlib's object API with the Agg canvas (no pyplot state, no display).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from aaspi_py.forest.training import CVResult

#: class 0 (no class: dead trace, NaN) is drawn white; classes 1.. use this cycle
CLASS_COLOURS = ("#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


# ---------------------------------------------------------------- text

def cv_table(cv: CVResult) -> list[str]:
    """Accuracy per tree count (mean ± std over folds), the best marked."""
    lines = [f"cross-validation: {cv.folds}", "  trees  accuracy (mean ± std over folds)"]
    for n, row in zip(cv.tree_counts, cv.accuracy):
        mark = "  <- best" if n == cv.best else ""
        lines.append(f"  {n:5d}  {row.mean():.4f} ± {row.std():.4f}{mark}")
    return lines


def importance_table(attributes: list[str], gini: np.ndarray, permutation: np.ndarray) -> list[str]:
    """Attributes by decreasing Gini importance (normalised to sum 1) with permutation importance."""
    width = max(9, *(len(a) for a in attributes))
    lines = ["attribute importance (Gini: normalised, sums to 1; permutation: accuracy lost "
             "on held-out folds when the attribute is shuffled)",
             f"  rank  {'attribute':<{width}}  gini    permutation"]
    for rank, a in enumerate(np.argsort(-gini, kind="stable"), 1):
        perm = (f"{permutation[a, 0]:+.4f} ± {permutation[a, 1]:.4f}" if np.isfinite(permutation[a, 0])
                else "(not computed)")
        lines.append(f"  {rank:4d}  {attributes[a]:<{width}}  {gini[a]:.4f}  {perm}")
    return lines


def confusion_table(confusion: np.ndarray, class_names: list[str]) -> list[str]:
    """Confusion matrix (rows true, columns predicted) with recall per class."""
    width = max(8, *(len(c) for c in class_names))
    head = "  " + " " * width + "".join(f"{c[:10]:>11}" for c in class_names) + "     recall"
    lines = ["confusion matrix of the cross-validation (rows: true class, columns: predicted)", head]
    for i, (name, row) in enumerate(zip(class_names, confusion)):
        recall = row[i] / row.sum() if row.sum() else 0.0
        lines.append(f"  {name:<{width}}" + "".join(f"{v:11d}" for v in row) + f"  {recall:9.3f}")
    return lines


# ---------------------------------------------------------------- figures

def _save(fig, path: str | os.PathLike) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=110)


def importance_png(path, attributes: list[str], gini: np.ndarray, permutation: np.ndarray) -> None:
    """Horizontal bars: Gini importance and permutation importance (with its std)."""
    from matplotlib.figure import Figure

    order = np.argsort(gini, kind="stable")
    y = np.arange(len(attributes))
    with_perm = bool(np.isfinite(permutation).all())
    fig = Figure(figsize=(4.5 * (1 + with_perm), 0.45 * len(attributes) + 1.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 1 + with_perm, sharey=True))
    axes[0].barh(y, gini[order], color="#1f77b4")
    axes[0].set_yticks(y, [attributes[i] for i in order])
    axes[0].set_xlabel("normalised Gini importance")
    if with_perm:
        axes[1].barh(y, permutation[order, 0], xerr=permutation[order, 1], color="#ff7f0e")
        axes[1].axvline(0, color="k", lw=0.8)
        axes[1].set_xlabel("permutation importance (accuracy lost)")
    fig.suptitle("rfc3d attribute importance")
    _save(fig, path)


def confusion_png(path, confusion: np.ndarray, class_names: list[str], title: str) -> None:
    """The confusion matrix as an image, counts and row fractions written in the cells."""
    from matplotlib.figure import Figure

    rows = confusion.sum(axis=1, keepdims=True)
    frac = confusion / np.where(rows == 0, 1, rows)
    m = len(class_names)
    fig = Figure(figsize=(1.3 * m + 2.5, 1.1 * m + 2), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(frac, vmin=0, vmax=1, cmap="Blues")
    for i in range(m):
        for j in range(m):
            ax.text(j, i, f"{confusion[i, j]}\n{frac[i, j]:.2f}", ha="center", va="center",
                    color="white" if frac[i, j] > 0.6 else "black", fontsize=8)
    ax.set_xticks(range(m), class_names, rotation=30, ha="right")
    ax.set_yticks(range(m), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="fraction of the true class")
    _save(fig, path)


def timeslice_png(path, classes: np.ndarray, class_names: list[str], extent: list[float],
                  sample: float, amplitude: np.ndarray | None = None, units: str = "ms",
                  colors: Sequence[str] = ()) -> None:
    """A time slice of the prediction, beside the amplitude when given.

    Drawn as the slice viewer and the picking window draw a time slice: x = inline,
    y = crossline increasing upwards, classes in their facies colours.

    ``classes`` and ``amplitude`` have shape (n_inline, n_crossline); ``extent`` is
    [first inline, last inline, first crossline, last crossline]; ``colors`` gives
    '#rrggbb' per class (the facies files' colours; blank entries take a default).
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = 2 if amplitude is not None else 1
    fig = Figure(figsize=(5.2 * panels + 1.5, 5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, panels, sharey=True))
    # rows of the image are crosslines, bottom row first; pixel centres on the line numbers
    il0, il1, xl0, xl1 = extent
    dil = (il1 - il0) / max(classes.shape[0] - 1, 1) / 2
    dxl = (xl1 - xl0) / max(classes.shape[1] - 1, 1) / 2
    box = [il0 - dil, il1 + dil, xl0 - dxl, xl1 + dxl]
    if amplitude is not None:
        clip = float(np.nanpercentile(np.abs(amplitude), 99)) or 1.0
        axes[0].imshow(amplitude.T, cmap="seismic", vmin=-clip, vmax=clip, extent=box, origin="lower",
                       aspect="auto")
        axes[0].set_title(f"amplitude, {sample:g} {units}")
    m = len(class_names)
    colours = ["#ffffff"] + [(colors[i] if i < len(colors) and colors[i] else CLASS_COLOURS[i % len(CLASS_COLOURS)])
                             for i in range(m)]
    cmap = ListedColormap(colours)
    axes[-1].imshow(classes.T, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, m + 1), m + 1),
                    extent=box, origin="lower", aspect="auto", interpolation="nearest")
    axes[-1].set_title(f"rfc3d predicted class, {sample:g} {units}")
    for ax in axes:
        ax.set_xlabel("inline")
    axes[0].set_ylabel("crossline")
    handles = [Patch(color=colours[i + 1], label=f"{i + 1} {n}") for i, n in enumerate(class_names)]
    axes[-1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    _save(fig, path)
