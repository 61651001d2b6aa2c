"""Report figures of gtm3d: latent-space density with facies PDFs, log-likelihood history.

Figures are drawn with matplotlib's object API on an Agg canvas (no pyplot, no global
backend), so they work headless and inside the launcher's worker process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

#: colours for facies without one in their polygon file
_CYCLE = ("#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def latent_density_png(path: str | os.PathLike, pdf: np.ndarray, latent_shape: tuple[int, int], *,
                       facies: Sequence[str] = (), facies_pdfs: np.ndarray | None = None,
                       colors: Sequence[str] = (), title: str = "") -> None:
    """Density of all voxels in latent space (log scale) with facies PDFs as contours.

    Parameters
    ----------
    path : path-like
        PNG to write.
    pdf : ndarray of shape (K,)
        Unsupervised PDF (sum of responsibilities over all voxels).
    latent_shape : tuple of int (n1, n2)
        K = n1 * n2; node ``i * n2 + j`` sits at ``(u1[i], u2[j])``.
    facies : sequence of str, length M
    facies_pdfs : ndarray of shape (M, K), optional
        Drawn as contours enclosing 50 % and 80 % of each PDF's mass, after smoothing
        with a Gaussian of one node.
    colors : sequence of str, length M, optional
        '#rrggbb' per facies; blank entries take a default colour.
    title : str
    """
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D
    from scipy.ndimage import gaussian_filter

    n1, n2 = latent_shape
    density = np.asarray(pdf, dtype=np.float64).reshape(n1, n2)
    density = density / max(density.sum(), np.finfo(float).tiny)
    positive = density[density > 0]
    floor = positive.min() if positive.size else 1e-12
    fig = _figure(6.4, 6.2)
    ax = fig.add_subplot()
    img = ax.imshow(np.maximum(density, floor).T, origin="lower", extent=(-1, 1, -1, 1),
                    cmap="Greys", norm=LogNorm(vmin=floor, vmax=max(density.max(), floor * 10)),
                    interpolation="nearest", aspect="equal")
    fig.colorbar(img, ax=ax, label="fraction of all voxels (log scale)")
    u1 = np.linspace(-1, 1, n1) if n1 > 1 else np.zeros(1)
    u2 = np.linspace(-1, 1, n2) if n2 > 1 else np.zeros(1)
    handles = []
    if facies_pdfs is not None and n1 > 1 and n2 > 1:
        for m, name in enumerate(facies):
            color = (colors[m] if m < len(colors) and colors[m] else _CYCLE[m % len(_CYCLE)])
            # a few hundred training voxels make a spiky PDF; smooth over about one node
            # so the contours outline where the facies lives rather than single nodes
            p = gaussian_filter(np.asarray(facies_pdfs[m], dtype=np.float64).reshape(n1, n2), 1.0, mode="nearest")
            levels = mass_levels(p, (0.8, 0.5))
            if levels is None:
                continue
            ax.contour(u1, u2, p.T, levels=levels, colors=[color], linewidths=[1.0, 2.2])
            handles.append(Line2D([], [], color=color, lw=2.2, label=name))
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(len(handles), 4),
                  fontsize=8, frameon=False, title="facies PDF (smoothed over one node): densest part holding 50 % (thick) and 80 % (thin)",
                  title_fontsize=7)
    ax.set_xlabel("latent u1")
    ax.set_ylabel("latent u2")
    ax.set_title(title or "GTM latent space: all voxels, facies PDFs")
    fig.tight_layout()
    fig.savefig(path, format="png")


def mass_levels(pdf: np.ndarray, masses: Sequence[float]) -> list[float] | None:
    """Contour levels enclosing the densest nodes that hold each fraction of a PDF's mass.

    Parameters
    ----------
    pdf : ndarray
        Non-negative values (any shape).
    masses : sequence of float in (0, 1], increasing levels come from decreasing masses

    Returns
    -------
    list of float, increasing, or None when the PDF is empty or the levels coincide.
    """
    values = np.sort(np.asarray(pdf, dtype=np.float64).ravel())[::-1]
    total = values.sum()
    if total <= 0:
        return None
    cum = np.cumsum(values) / total
    levels = [float(values[min(np.searchsorted(cum, m), len(values) - 1)]) for m in masses]
    levels = sorted(set(levels))
    return levels if len(levels) == len(masses) and levels[0] > 0 else None


def loglik_png(path: str | os.PathLike, loglik: np.ndarray, objective: np.ndarray | None = None, *,
               title: str = "") -> None:
    """Mean log-likelihood per voxel versus EM iteration (0 = initialisation).

    Parameters
    ----------
    path : path-like
    loglik : ndarray of shape (n_iter + 1,)
    objective : ndarray of shape (n_iter + 1,), optional
        Penalised log-likelihood, drawn dashed.
    title : str
    """
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    it = np.arange(len(loglik))
    ax.plot(it, loglik, "-o", ms=2.5, lw=1.2, color="#1f77b4", label="log-likelihood")
    if objective is not None:
        ax.plot(it, objective, "--", lw=1.0, color="#ff7f0e", label="penalised (never decreases)")
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood per voxel")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "GTM training")
    fig.tight_layout()
    fig.savefig(path, format="png")
