"""Starting partitions for the Gaussian mixture: hierarchical agglomeration, as mclust starts.

k-means in the principal plane (:func:`aaspi_py.mixture.em.kmeans_pca_labels`) is fast but can
leave EM in a poorer optimum or in a region where it creeps (faithful, EEE with 3 clusters:
−1140.8 after the default stopping rule, against mclust's −1126.3). mclust starts from a
model-based hierarchical agglomeration; we take Ward's agglomeration (scipy), which needs no
model, on a seeded subsample, in two metrics — the attributes standardised and as given — and
fit from each start, keeping the highest likelihood (:class:`aaspi_py.mixture.gaussian_mixture.GaussianMixture`
with ``init="multi"``).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

#: Ward's agglomeration is quadratic in memory: at most this many voxels are agglomerated
MAX_AGGLOMERATED = 2000


def ward_labels(x: np.ndarray, n_clusters: int, rng: np.random.Generator, standardise: bool) -> np.ndarray | None:
    """A partition of x (n, d) into ``n_clusters`` by Ward's agglomeration, or None if it has fewer.

    Beyond :data:`MAX_AGGLOMERATED` voxels a seeded subsample is agglomerated and every voxel
    takes the cluster of the nearest cluster mean (same metric).
    """
    y = x - x.mean(axis=0)
    if standardise:
        std = y.std(axis=0)
        y = y / np.where(std > 0, std, 1.0)
    n = len(y)
    pick = np.sort(rng.choice(n, MAX_AGGLOMERATED, replace=False)) if n > MAX_AGGLOMERATED else np.arange(n)
    labels = fcluster(linkage(y[pick], "ward"), n_clusters, "maxclust") - 1
    if labels.max() + 1 < n_clusters:
        return None
    if len(pick) < n:
        centres = np.array([y[pick][labels == k].mean(axis=0) for k in range(n_clusters)])
        dist = ((y[:, None, :] - centres[None]) ** 2).sum(axis=2)
        labels = dist.argmin(axis=1)
    if np.bincount(labels, minlength=n_clusters).min() < 2:
        return None
    return labels.astype(np.int64)
