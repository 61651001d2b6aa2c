"""Whole-volume prediction with a :class:`~aaspi_py.forest.model.ForestModel`, chunk by chunk.

The attribute volumes are stacked lazily into one dask array of shape (N, inline,
crossline, sample) whose blocks hold every attribute of one region; ``map_blocks`` runs the
numba kernel on each block, so memory stays bounded by a few blocks whatever the volume
size, and each voxel's class depends on that voxel only (the result does not depend on the
chunking). Dead traces (``trace_mask`` False in any volume) and voxels with a NaN or
infinite attribute get class 0 and probability 0.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from aaspi_py.forest.model import ForestModel
from aaspi_py.training.voxels import live_mask


def stack_attributes(datasets: list[xr.Dataset], chunks: tuple[int, int, int] | None = None):
    """Dask array (N, n_inline, n_crossline, n_sample), float32, one block = all N attributes.

    ``chunks`` (inline, crossline, sample) defaults to the first volume's chunks.
    """
    import dask.array as da

    arrays = [da.asarray(ds["data"].data).astype(np.float32) for ds in datasets]
    target = chunks if chunks is not None else arrays[0].chunks
    arrays = [a.rechunk(target) for a in arrays]
    return da.stack(arrays).rechunk({0: len(arrays)})


def _classify_block(values, mask, *, model: ForestModel, probabilities: bool):
    n_attr, a, b, c = values.shape
    cols = np.ascontiguousarray(values, dtype=np.float32).reshape(n_attr, -1)
    valid = np.ascontiguousarray(mask, dtype=bool).reshape(-1)
    out = np.empty(a * b * c, dtype=np.int16)
    prob = np.empty((a * b * c if probabilities else 0, model.n_classes), dtype=np.float32)
    model.predict_into(cols, valid, out, prob)
    if not probabilities:
        return out.reshape(a, b, c)
    # class numbers are small integers: exact in float32, so one block carries both
    return np.concatenate([out.astype(np.float32).reshape(1, a, b, c),
                           prob.T.reshape(model.n_classes, a, b, c)])


def predict_dask(model: ForestModel, datasets: list[xr.Dataset], *, probabilities: bool = False,
                 chunks: tuple[int, int, int] | None = None, mask: np.ndarray | None = None):
    """Lazy class volume (and probability volumes) of attribute volumes on one grid.

    Parameters
    ----------
    model : the forest; ``datasets`` are its attributes, in its order
    probabilities : also return the class probabilities
    chunks : (inline, crossline, sample) block shape (default: the first volume's chunks)
    mask : bool array of shape (n_inline, n_crossline), live traces (default: all volumes' masks)

    Returns
    -------
    classes : dask int16 array of shape (n_inline, n_crossline, n_sample)
    probabilities : dask float32 array of shape (M, n_inline, n_crossline, n_sample), or None
    """
    import dask.array as da

    stacked = stack_attributes(datasets, chunks)
    space = stacked.chunks[1:]
    mask = live_mask(datasets) if mask is None else np.asarray(mask, dtype=bool)
    live = da.from_array(mask[:, :, np.newaxis], chunks=(space[0], space[1], 1))
    live = da.broadcast_to(live, stacked.shape[1:], chunks=space)
    if not probabilities:
        classes = da.map_blocks(_classify_block, stacked, live, model=model, probabilities=False,
                                drop_axis=0, dtype=np.int16, chunks=space, token="rfc3d-classify")
        return classes, None
    packed = da.map_blocks(_classify_block, stacked, live, model=model, probabilities=True,
                           dtype=np.float32, chunks=((model.n_classes + 1,), *space), token="rfc3d-proba")
    return packed[0].astype(np.int16), packed[1:]


def agreement(predicted: xr.Dataset, truth: xr.Dataset, *, mapping: dict[int, int] | None = None,
              slab: int = 16) -> dict:
    """Accuracy of a class volume against a true-facies volume, slab by slab.

    Counted over live voxels whose true class is > 0. Two yardsticks, since one facies
    usually dominates: ``accuracy`` against ``majority`` (the share of the commonest true
    class, what always answering it scores), and ``balanced_accuracy`` (mean recall over the
    true classes) against ``chance`` = 1 / number of true classes. ``kappa`` is Cohen's
    kappa (0 for a labelling as good as random with the same class shares, 1 perfect).
    ``mapping`` renumbers predicted classes to the truth's numbers (e.g. ``{1: 3, 3: 1}``).

    Returns
    -------
    dict with ``accuracy``, ``majority``, ``balanced_accuracy``, ``chance``, ``kappa``,
    ``voxels``, ``recall`` (per true class) and ``confusion`` (rows true class 0..K,
    columns predicted class 0..K).
    """
    t_all, p_all = truth["data"], predicted["data"]
    mask = live_mask([truth, predicted])
    top = int(p_all.max().values)
    lookup = np.arange(top + 1)
    for a, b in (mapping or {}).items():
        if 0 < a <= top:
            lookup[a] = b
    k = int(max(int(t_all.max().values), int(lookup.max()))) + 1
    confusion = np.zeros((k, k), dtype=np.int64)
    for i in range(0, t_all.shape[0], slab):
        t = np.asarray(t_all[i:i + slab].values, dtype=np.int64)
        p = lookup[np.asarray(p_all[i:i + slab].values, dtype=np.int64)]
        use = (t > 0) & mask[i:i + slab, :, np.newaxis]
        confusion += np.bincount(t[use] * k + p[use], minlength=k * k).reshape(k, k)
    n = max(int(confusion.sum()), 1)
    per_true, per_pred = confusion.sum(axis=1), confusion.sum(axis=0)
    recall = {c: float(confusion[c, c] / per_true[c]) for c in range(1, k) if per_true[c]}
    accuracy = float(np.trace(confusion) / n)
    expected = float(per_true @ per_pred) / n**2
    return {"accuracy": accuracy, "majority": float(per_true.max() / n),
            "balanced_accuracy": float(np.mean(list(recall.values()))) if recall else 0.0,
            "chance": 1.0 / max(len(recall), 1),
            "kappa": (accuracy - expected) / (1 - expected) if expected < 1 else 0.0,
            "voxels": int(confusion.sum()), "recall": recall, "confusion": confusion}
