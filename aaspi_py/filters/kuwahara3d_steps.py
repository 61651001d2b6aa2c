"""kuwahara3d's steps beside the filter: one region of the inputs filtered with its halo
(for :func:`aaspi_py.framework.volume_store.write_regions`), its change statistics, and
the run's memory model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aaspi_py.filters.kuwahara import _block_each, _block_shared

#: length of the per-region change statistics of one output (see ``change_sums``)
N_CHANGE = 8


class FilterRegion:
    """Filter one padded region of the inputs, as :func:`~aaspi_py.filters.kuwahara.kuwahara`
    filters a dask block: the same padded voxels reach the same kernels, so the output is
    identical whatever the chunking.

    Parameters
    ----------
    window : (int, int, int)
    options : dict
        ``octants``, ``statistic``, ``min_valid`` of the kernels.
    selection : {"each", "joint", "guide"}
    masks : list of ndarray of shape (n_inline, n_crossline), bool
        Live traces: one per input for ``each``, one shared for ``joint`` and ``guide``.
    n_out : int
        Volumes filtered (the first ``n_out`` blocks; with ``guide`` a last extra block may
        be the guide).
    scales : tuple of float, optional
        ``joint``: the divisor of each volume's variance.
    guide : int, optional
        ``guide``: position of the guide among the blocks.
    """

    def __init__(self, window: Sequence[int], options: dict, selection: str, masks: list[np.ndarray],
                 n_out: int, scales: tuple[float, ...] | None = None, guide: int | None = None) -> None:
        self.window = tuple(int(w) for w in window)
        self.options = dict(options)
        self.selection = selection
        self.masks = [np.ascontiguousarray(m, dtype=bool) for m in masks]
        self.n_out = n_out
        self.scales = scales
        self.guide = guide

    def __call__(self, blocks: list[np.ndarray], index: list[np.ndarray], region: tuple[slice, ...]):
        from aaspi_py.filters.kuwahara_kernels import change_sums

        halo = [w - 1 for w in self.window]
        centre = tuple(slice(h, h + (s.stop - s.start)) for h, s in zip(halo, region))
        lives = [m[np.ix_(index[0], index[1])] for m in self.masks]
        padded = []
        for b, x in enumerate(blocks):
            x = x.astype(np.float32, copy=False)
            live = lives[0 if len(lives) == 1 else b]
            # dead traces are not data: NaN, which no window counts (a copy only when some are dead)
            padded.append(x if live.all() else np.where(live[:, :, None], x, np.float32(np.nan)))
        if self.selection == "each":
            outs = [_block_each(x, window=self.window, dtype=np.float32, **self.options) for x in padded]
        else:
            inputs = padded[:self.n_out]
            inputs.append(padded[self.guide] if self.selection == "guide" else None)
            stacked = _block_shared(*(b for b in inputs if b is not None), window=self.window, dtype=np.float32,
                                    n_out=self.n_out, scales=self.scales, **self.options)
            outs = list(stacked)
        partial = np.empty((len(outs), N_CHANGE))
        for b, out in enumerate(outs):
            live = lives[0 if len(lives) == 1 else b][centre[0], centre[1]]
            out[~live] = np.nan
            partial[b] = change_sums(np.ascontiguousarray(blocks[b]), out, live, *halo)
        return outs, partial


def memory_needed(shape, n_inputs, window, selection, chunks):
    """Bytes a kuwahara3d run holds at most: its one memory model (see
    :func:`aaspi_py.framework.volume_store.regions_memory`), checked by :func:`check_memory`."""
    from aaspi_py.framework.volume_store import regions_memory

    # joint and guide keep float64 means and variances of every input, a score and an index;
    # each keeps the kernel's rings of a few planes and one output at a time
    work = 8 * (2 * n_inputs + 2) if selection != "each" else 16
    n_read = n_inputs + (1 if selection == "guide" else 0)
    return regions_memory(chunks, shape, halo=[w - 1 for w in window], n_inputs=n_read, n_outputs=n_inputs,
                          work_bytes_per_voxel=work)


def check_memory(shape, n_inputs, window, selection, chunks, *, available: int | None = None) -> None:
    """Refuse, in one line and before anything is read, a run whose memory model
    (:func:`memory_needed`) exceeds the memory available (the smallest worker's limit on a
    cluster).

    The line names every change that would make it fit: a smaller window (the largest that
    fits, odd when the window is, at least 3 voxels along some axis), smaller chunks (the largest that fit), and with ``selection = each`` fewer inputs
    per run (each input is filtered on its own, so runs of fewer inputs give the same
    outputs); ``joint`` and ``guide`` need their inputs together.
    """
    from aaspi_py.framework import volume_store

    available = volume_store.available_memory() if available is None else available
    window = tuple(int(w) for w in window)
    chunks = tuple(int(c) for c in chunks)
    needed = memory_needed(shape, n_inputs, window, selection, chunks)
    if needed <= available:
        return
    fixes = []
    odd = all(w % 2 for w in window)  # odd windows stay odd: centred on the voxel
    # down to 3 (2 for even windows): a window of one voxel filters nothing
    for k in range(max(window) - 1, 2 if odd else 1, -1):
        if odd and k % 2 == 0:
            continue
        smaller = tuple(min(w, k) for w in window)
        if memory_needed(shape, n_inputs, smaller, selection, chunks) <= available:
            fixes.append(f"use a smaller window ({'x'.join(map(str, smaller))} fits)")
            break
    if selection == "each":
        for n in range(n_inputs - 1, 0, -1):
            if memory_needed(shape, n, window, selection, chunks) <= available:
                fixes.append(f"filter at most {n} input(s) per run")
                break
    volume_store.check_memory(
        f"kuwahara3d with window {'x'.join(map(str, window))} on {n_inputs} volume(s)", needed, chunks,
        available=available, fixes=fixes,
        needed_for=lambda ch: memory_needed(shape, n_inputs, window, selection, ch))
