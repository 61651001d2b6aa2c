"""Adaptive 3D Kuwahara filter: edge-preserving smoothing of seismic attribute volumes.

For each voxel, among the candidate windows of size ``(w_il, w_xl, w_t)`` that contain it,
the filter picks the one whose voxels have the least variance and outputs their mean (or
median). Smoothing therefore happens inside facies, never across their edges.

Definitions (per axis, ``h = w - 1``; a voxel at position ``p``):

* ``subwindows="all"``: every window ``[s, s + h]`` with ``p - h <= s <= p``, i.e.
  ``w_il * w_xl * w_t`` candidates.
* ``subwindows="octants"``: only ``s = p - h`` and ``s = p`` per axis, the 8 corner
  windows ``[p - h, p]`` and ``[p, p + h]`` that have the voxel at a corner (fewer when an
  axis has ``w = 1``: both starts are then the same window).
* Variance is the population variance (divide by the count) of the window's valid voxels;
  a valid voxel is finite and on a live trace (``mask`` True). A window with fewer than
  ``min_valid`` valid voxels is not a candidate. A voxel without candidate is NaN.
  Voxels of dead traces are NaN in the output; a NaN voxel of a live trace gets the
  statistic of its chosen window (so isolated gaps are filled).
* Ties (equal least score) go to the candidate whose start is smallest, compared inline
  first, then crossline, then sample.
* Borders: the volume is extended by half-sample symmetric reflection,
  ``d c b a | a b c d | d c b a`` (the edge voxel is repeated: numpy ``"symmetric"``,
  scipy.ndimage ``"reflect"``).
* ``selection="each"``: each volume chooses its own window. ``"joint"``: all volumes use
  the window with the least sum over volumes of ``variance / scale``, where ``scale`` is the
  volume's global variance over all valid voxels (computed once for the whole volume,
  rounded to 6 significant digits so it is identical whatever the chunking), and a
  candidate must be valid in every volume. ``"guide"``: the ``guide`` volume chooses, every
  volume is averaged over that window.

The result does not depend on the dask chunking: blocks are padded with halos of ``w - 1``
per axis and every window's statistics are summed in a fixed order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import Any

import dask
import dask.array as da
import numpy as np

from aaspi_py.framework.errors import AaspiError

SUBWINDOWS = ("all", "octants")
STATISTICS = ("mean", "median")
SELECTIONS = ("each", "joint", "guide")
#: block shape used for numpy input (the sample axis is kept whole up to 512)
NUMPY_CHUNKS = (64, 64, 512)


# ---------------------------------------------------------------- checks

def check_window(window: int | Sequence[int]) -> tuple[int, int, int]:
    """Window size per axis (inline, crossline, sample), each an int >= 1."""
    if isinstance(window, int | np.integer):
        window = (int(window),) * 3
    try:
        w = tuple(int(v) for v in window)
    except (TypeError, ValueError):
        raise AaspiError(f"Kuwahara window must be three ints (inline, crossline, sample), e.g. (3, 3, 3); got {window!r}.") from None
    if len(w) != 3 or any(v < 1 for v in w) or any(v != float(u) for v, u in zip(w, window)):
        raise AaspiError(f"Kuwahara window must be three ints >= 1 (inline, crossline, sample), e.g. (3, 3, 3); got {window!r}.")
    return w


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise AaspiError(f"Kuwahara {name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def _as_dask(a: Any, chunks: tuple[int, ...] | None) -> da.Array:
    if isinstance(a, da.Array):
        return a
    a = np.asarray(a)
    return da.from_array(a, chunks=chunks or tuple(min(c, max(1, s)) for c, s in zip(NUMPY_CHUNKS, a.shape)))


def _out_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float64) if np.result_type(dtype, np.float32) == np.float64 else np.dtype(np.float32)


def _min_chunks(chunks: tuple[tuple[int, ...], ...], halo: tuple[int, ...]) -> tuple:
    """Chunks at least ``halo`` long, so every halo comes from the next block alone."""
    out = []
    for c, h in zip(chunks, halo):
        if len(c) > 1 and min(c) < h:
            size = max(h, max(c))
            n = sum(c)
            c = (size,) * (n // size) + ((n % size,) if n % size else ())
            if len(c) > 1 and c[-1] < h:  # fold a short tail into its neighbour
                c = c[:-2] + (c[-2] + c[-1],)
        out.append(tuple(c))
    return tuple(out)


# ---------------------------------------------------------------- padding

def _pad_symmetric(x: da.Array, halo: tuple[int, int, int]) -> da.Array:
    """Extend by ``halo`` per side with ``d c b a | a b c d`` reflection, chunks aligned.

    The padded array's chunks are the input's with the first and last grown by ``halo``,
    so that with ``map_overlap(depth=halo, boundary="none")`` every block sees exactly the
    padded voxels ``[start, stop + 2 halo)`` of its output block ``[start, stop)``.
    """
    chunks = []
    for axis, h in enumerate(halo):
        c = x.chunks[axis]
        if h == 0:
            chunks.append(c)
            continue
        n = x.shape[axis]
        # np.pad also covers halos longer than the axis (reflect again and again)
        idx = np.pad(np.arange(n), h, mode="symmetric")
        take = [slice(None)] * x.ndim
        take[axis] = idx[:h]
        left = x[tuple(take)]
        take[axis] = idx[-h:]
        right = x[tuple(take)]
        x = da.concatenate([left, x, right], axis=axis)
        chunks.append((c[0] + 2 * h,) if len(c) == 1 else (c[0] + h, *c[1:-1], c[-1] + h))
    return x.rechunk(tuple(chunks))


# ---------------------------------------------------------------- blocks

def _block_each(x: np.ndarray, *, window, octants, statistic, min_valid, dtype) -> np.ndarray:
    from aaspi_py.filters import kuwahara_kernels as kk

    out = np.empty(tuple(s - 2 * (w - 1) for s, w in zip(x.shape, window)), dtype=dtype)
    kk.kuwahara_block(np.ascontiguousarray(x), *window, octants, min_valid, statistic == "median", out)
    return out


def _block_shared(*blocks: np.ndarray, window, octants, statistic, min_valid, dtype,
                  n_out: int, scales) -> np.ndarray:
    """Joint or guided choice: ``blocks[:n_out]`` are filtered; the score is the sum of
    their variances over ``scales`` (joint) or the variance of the last block (guide)."""
    from aaspi_py.filters import kuwahara_kernels as kk

    w0, w1, w2 = window
    blocks = [np.ascontiguousarray(b) for b in blocks]
    grid = tuple(s - w + 1 for s, w in zip(blocks[0].shape, window))
    shape = tuple(s - 2 * (w - 1) for s, w in zip(blocks[0].shape, window))
    means = []
    score = np.zeros(grid)
    for b, x in enumerate(blocks):
        mean = np.empty(grid)
        var = np.empty(grid)
        kk.box_statistics(x, w0, w1, w2, min_valid, mean, var)
        if b < n_out:
            means.append(mean)
        if scales is not None:
            score += var / scales[b]
        elif b == len(blocks) - 1:
            score = var
    index = np.empty(shape)
    kk.choose_window(score, w0 - 1, w1 - 1, w2 - 1, octants, index)
    out = np.empty((n_out, *shape), dtype=dtype)
    for b in range(n_out):
        if statistic == "median":
            kk.gather_median(blocks[b], w0, w1, w2, grid, index, out[b])
        else:
            kk.gather_mean(means[b], index, out[b])
    return out


def _filter_in_memory(x: np.ndarray, window, octants: bool, median: bool, min_valid: int) -> np.ndarray:
    """Numpy volume, one volume choosing: pad once, then slabs of inlines on dask threads,
    each reading a view of the padded volume and writing its part of the output."""
    from aaspi_py.filters import kuwahara_kernels as kk

    halo = tuple(w - 1 for w in window)
    padded = np.pad(x, [(h, h) for h in halo], mode="symmetric")
    out = np.empty(x.shape, dtype=x.dtype)
    # the kernel streams through a few planes, so slabs can be long: four per core, and
    # long enough that the re-read halo stays a small part of each
    slab = max(4 * halo[0], 1, -(-x.shape[0] // (4 * (os.cpu_count() or 1))))
    tasks = [dask.delayed(kk.kuwahara_block, pure=False)(
        padded[i:min(i + slab, x.shape[0]) + 2 * halo[0]], *window, octants, min_valid, median,
        out[i:i + slab]) for i in range(0, x.shape[0], slab)]
    dask.compute(*tasks, scheduler="threads")
    return out


# ---------------------------------------------------------------- global statistics

def _partial_moments(x: np.ndarray) -> tuple[int, float, float]:
    v = np.asarray(x, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0, 0.0, 0.0
    m = float(v.mean())
    return int(v.size), m, float(((v - m) ** 2).sum())


def _combine_moments(parts: list[tuple[int, float, float]]) -> float:
    # Chan et al.'s pairwise update: stable whatever the mean/spread ratio
    n, m, m2 = 0, 0.0, 0.0
    for nb, mb, m2b in parts:
        if nb == 0:
            continue
        tot = n + nb
        delta = mb - m
        m += delta * nb / tot
        m2 += m2b + delta * delta * n * nb / tot
        n = tot
    var = m2 / n if n else 0.0
    return float(f"{var:.6g}")


def global_variances(arrays: Sequence[Any], mask: Any = None, *, compute: bool = True) -> list:
    """Variance of the valid voxels of each volume, the standardisation of ``joint``.

    Parameters
    ----------
    arrays : sequence of array of shape (n_inline, n_crossline, n_sample)
        numpy or dask volumes.
    mask : array of shape (n_inline, n_crossline), bool, optional
        Trace mask (False: dead trace, left out).
    compute : bool
        False returns dask delayed objects (to compute with progress and cancel).

    Returns
    -------
    list of float (or of dask delayed)
        One population variance per volume, rounded to 6 significant digits so that it
        does not depend on the chunking.
    """
    out = []
    for a in arrays:
        x = _as_dask(a, None)
        if mask is not None:
            m = _as_dask(mask, None).astype(bool)
            x = da.where(m[:, :, None], x, np.nan)
        parts = [dask.delayed(_partial_moments)(b) for b in x.to_delayed().ravel()]
        out.append(dask.delayed(_combine_moments)(parts))
    return list(dask.compute(*out)) if compute else out


# ---------------------------------------------------------------- the filter

def kuwahara(
    array: Any,
    window: int | Sequence[int] = (3, 3, 3),
    *,
    subwindows: str = "all",
    statistic: str = "mean",
    selection: str = "each",
    guide: Any = None,
    mask: Any = None,
    min_valid: int = 1,
    scales: Sequence[float] | None = None,
    chunks: tuple[int, int, int] | None = None,
) -> Any:
    """Adaptive 3D Kuwahara filter of one volume or of several volumes together.

    See the module docstring for the exact definitions of the candidate windows, the
    reflection at the borders, the tie rule and the joint standardisation.

    Parameters
    ----------
    array : array of shape (n_inline, n_crossline, n_sample), or a list of them
        numpy or dask volume(s); a list for ``joint`` and ``guide``.
    window : int or (int, int, int)
        Window size per axis (inline, crossline, sample); 1 means no smoothing along it.
    subwindows : {"all", "octants"}
        Every window containing the voxel, or only the 8 with the voxel at a corner.
    statistic : {"mean", "median"}
        What is output from the chosen window.
    selection : {"each", "joint", "guide"}
        Who chooses the window: each volume for itself, all volumes together (least sum
        of standardised variances) or the ``guide`` volume.
    guide : int or array of shape (n_inline, n_crossline, n_sample), optional
        For ``selection="guide"``: the position of the guide in ``array`` or a separate
        volume (not filtered itself). Default: the first volume.
    mask : array of shape (n_inline, n_crossline), bool, optional
        Trace mask; False traces are left out of the statistics and NaN in the output.
    min_valid : int
        Least number of valid voxels a window needs to be a candidate.
    scales : sequence of float, optional
        For ``joint``: the divisor of each volume's variance (default: its global variance
        from :func:`global_variances`).
    chunks : (int, int, int), optional
        For numpy input: filter through dask blocks of this shape instead of slabs of
        inlines (the result is the same; useful to bound memory of joint runs).

    Returns
    -------
    array or list of arrays of shape (n_inline, n_crossline, n_sample)
        Filtered volume(s), float32 (float64 for float64 input); numpy for numpy input,
        dask (lazy) if any input is dask.
    """
    single = not isinstance(array, list | tuple)
    arrays = [array] if single else list(array)
    if not arrays:
        raise AaspiError("kuwahara needs at least one volume.")
    window = check_window(window)
    _check_choice("subwindows", subwindows, SUBWINDOWS)
    _check_choice("statistic", statistic, STATISTICS)
    _check_choice("selection", selection, SELECTIONS)
    if not isinstance(min_valid, int | np.integer) or min_valid < 1:
        raise AaspiError(f"Kuwahara min_valid must be an int >= 1; got {min_valid!r}.")
    if min_valid > window[0] * window[1] * window[2]:
        raise AaspiError(f"Kuwahara min_valid ({min_valid}) is more than the {'x'.join(map(str, window))} "
                         "window holds; lower it or enlarge the window.")
    lazy = any(isinstance(a, da.Array) for a in (*arrays, guide, mask))
    shape = tuple(np.shape(arrays[0]))
    if len(shape) != 3 or 0 in shape:
        raise AaspiError(f"kuwahara needs non-empty 3D volumes (inline, crossline, sample); got shape {shape}.")
    for a in arrays[1:]:
        if tuple(np.shape(a)) != shape:
            raise AaspiError(f"kuwahara volumes must share one shape; got {shape} and {tuple(np.shape(a))}.")

    if mask is not None and tuple(np.shape(mask)) != shape[:2]:
        raise AaspiError(f"Kuwahara mask must have shape (n_inline, n_crossline) = {shape[:2]}; got {tuple(np.shape(mask))}.")
    octants = subwindows == "octants"
    if not lazy and selection == "each" and chunks is None:
        outs = []
        live = None if mask is None else np.asarray(mask, dtype=bool)
        for a in arrays:
            x = np.asarray(a)
            x = x.astype(_out_dtype(x.dtype), copy=False)
            if live is not None:
                x = np.where(live[:, :, None], x, np.nan).astype(x.dtype, copy=False)
            y = _filter_in_memory(x, window, octants, statistic == "median", int(min_valid))
            if live is not None:
                y[~live] = np.nan
            outs.append(y)
        return outs[0] if single else outs

    xs = [_as_dask(a, chunks) for a in arrays]
    guide_x = None
    if selection == "guide":
        if guide is None or isinstance(guide, int | np.integer):
            g = int(guide or 0)
            if not -len(xs) <= g < len(xs):
                raise AaspiError(f"Kuwahara guide index {g} is out of range for {len(xs)} volume(s).")
            guide_x = xs[g]
        else:
            if tuple(np.shape(guide)) != shape:
                raise AaspiError(f"Kuwahara guide volume has shape {tuple(np.shape(guide))}, not {shape}.")
            guide_x = _as_dask(guide, chunks)
    halo = tuple(w - 1 for w in window)
    ref_chunks = _min_chunks(xs[0].chunks, halo)
    dtypes = [_out_dtype(x.dtype) for x in xs]
    xs = [x.astype(dt).rechunk(ref_chunks) for x, dt in zip(xs, dtypes)]
    if guide_x is not None:
        guide_x = guide_x.astype(np.float64 if _out_dtype(guide_x.dtype) == np.float64 else np.float32)
        guide_x = guide_x.rechunk(ref_chunks)
    live = None
    if mask is not None:
        live = _as_dask(mask, None).astype(bool).rechunk(ref_chunks[:2])[:, :, None]
        xs = [da.where(live, x, np.nan) for x in xs]
        if guide_x is not None:
            guide_x = da.where(live, guide_x, np.nan)

    opts = {"window": window, "octants": octants, "statistic": statistic,
            "min_valid": int(min_valid)}
    depth = dict(enumerate(halo))
    if selection == "each":
        outs = []
        for x, dt in zip(xs, dtypes):
            outs.append(da.map_overlap(
                partial(_block_each, dtype=dt, **opts), _pad_symmetric(x, halo), depth=depth,
                boundary="none", trim=False, chunks=ref_chunks, dtype=dt, meta=np.empty((0, 0, 0), dt)))
    else:
        if selection == "joint":
            if scales is None:
                scales = global_variances(xs)
            scales = [float(s) for s in scales]
            if len(scales) != len(xs):
                raise AaspiError(f"Kuwahara joint selection needs one scale per volume; got {len(scales)} for {len(xs)}.")
            # a constant volume has no spread to standardise by; it then weighs as is
            scales = tuple(s if np.isfinite(s) and s > 0 else 1.0 for s in scales)
            inputs = xs
        else:
            scales = None
            inputs = [*xs, guide_x]
        dt = np.dtype(np.float64) if np.float64 in dtypes else np.dtype(np.float32)
        stacked = da.map_overlap(
            partial(_block_shared, dtype=dt, n_out=len(xs), scales=scales, **opts),
            *[_pad_symmetric(x, halo) for x in inputs], depth=depth, boundary="none", trim=False,
            chunks=((len(xs),), *ref_chunks), new_axis=0, dtype=dt, meta=np.empty((0, 0, 0, 0), dt),
            align_arrays=False)
        outs = [stacked[b].astype(d) for b, d in enumerate(dtypes)]
    if live is not None:
        outs = [da.where(live, o, np.nan) for o in outs]
    if not lazy:
        outs = list(dask.compute(*outs, scheduler="threads"))
    return outs[0] if single else outs
