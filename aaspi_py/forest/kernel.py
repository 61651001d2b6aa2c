"""The numba kernel that walks a flat forest (see :mod:`aaspi_py.forest.model` for the layout).

Voxels are taken in batches of :data:`BATCH`; a batch goes through the trees one tree at a
time, so a tree's nodes stay in cache while thousands of voxels descend it. :data:`LANES`
descents advance together in the inner loop: they are independent, so the CPU overlaps
their memory loads instead of waiting on one chain of dependent loads, and a descent has a
fixed trip count and no data-dependent branch. Indices are unsigned so no negative-index
wraparound code is generated. The kernel releases the GIL: dask threads (or a thread pool)
run it on every core at once. ``benches/rfc3d.py`` measures it.
"""

from __future__ import annotations

import numba
import numpy as np

#: voxels per batch: their values (BATCH x N float32) and class sums stay in L2
BATCH = 2048
#: descents interleaved in the inner loop
LANES = 16


@numba.njit(nogil=True, cache=True, boundscheck=False)
def predict_block(cols, valid, normalize, mean, std, feature, threshold, left, value,
                  roots, depths, classes, out, prob):  # pragma: no cover - compiled
    """Classify ``n`` voxels.

    Parameters
    ----------
    cols : float32 array of shape (N, n)
        Raw attribute values, one row per attribute.
    valid : bool array of shape (n,)
        False → class 0 and probabilities 0 (dead trace). Non-finite values do the same.
    normalize : bool
        Apply ``(x - mean) / std`` in float64, then round to float32, as in training.
    mean, std : float64 arrays of shape (N,)
    feature, threshold, left, value, roots, depths : the flat forest (int32, float32,
        int32, float64 (n_nodes, M), int32, int32)
    classes : int16 array of shape (M,)
        Class number of each probability column.
    out : int16 array of shape (n,)
        Predicted class numbers (written).
    prob : float32 array of shape (n, M) or (0, M)
        Class probabilities (written when it has n rows).
    """
    n_attr, n = cols.shape
    n_cls = value.shape[1]
    n_trees = roots.shape[0]
    want_prob = prob.shape[0] > 0
    stride = np.uint32(n_attr)
    z = np.zeros(BATCH * n_attr, np.float32)  # the batch's values, one row per voxel
    acc = np.zeros((BATCH, n_cls), np.float64)
    ok = np.zeros(BATCH, np.bool_)
    node = np.zeros(LANES, np.uint32)
    for start in range(0, n, BATCH):
        m = min(BATCH, n - start)
        for v in range(m):
            good = valid[start + v]
            for f in range(n_attr):
                x = cols[f, start + v]
                if not np.isfinite(x):
                    good = False
                if normalize:
                    z[v * n_attr + f] = np.float32((np.float64(x) - mean[f]) / std[f])
                else:
                    z[v * n_attr + f] = x
            if not good:  # a harmless value to descend with; the result is discarded
                for f in range(n_attr):
                    z[v * n_attr + f] = 0.0
            ok[v] = good
            for k in range(n_cls):
                acc[v, k] = 0.0
        for t in range(n_trees):
            root = np.uint32(roots[t])
            depth = depths[t]
            for v0 in range(0, m, LANES):
                for j in range(LANES):
                    node[j] = root
                # lanes past m descend with stale values of the batch; they are not summed
                for _ in range(depth):
                    for j in range(LANES):
                        nd = node[j]
                        x = z[np.uint32(v0 + j) * stride + np.uint32(feature[nd])]
                        node[j] = np.uint32(left[nd]) + np.uint32(x > threshold[nd])
                for j in range(min(LANES, m - v0)):
                    for k in range(n_cls):
                        acc[v0 + j, k] += value[node[j], k]
        for v in range(m):
            i = start + v
            if not ok[v]:
                out[i] = 0
                if want_prob:
                    for k in range(n_cls):
                        prob[i, k] = 0.0
                continue
            # as RandomForestClassifier: mean of the trees' fractions, first maximum wins
            best = 0
            best_p = acc[v, 0] / n_trees
            for k in range(n_cls):
                p = acc[v, k] / n_trees
                if p > best_p:
                    best, best_p = k, p
                if want_prob:
                    prob[i, k] = p
            out[i] = classes[best]
