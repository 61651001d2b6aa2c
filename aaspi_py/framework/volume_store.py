"""Writing output volumes block by block, with memory bounded whatever the volume size.

:func:`write_volumes` is how every volume module writes: the geometry and metadata of each
output are written first, then one task per chunk computes that chunk and writes it into
its region of the zarr store (``zarr_array[region] = block``) and returns nothing but a
count. No task ever holds a whole output, several outputs that share their chunks'
computation run it once, and chunks are written as they are computed, on any scheduler
(the workers of a ``tcp://`` cluster write straight into the project folder).

:func:`memory_model` is the estimate a module checks before computing: chunks in flight ×
bytes per chunk (inputs with their halos, outputs, and the kernel's own work arrays);
:func:`check_memory` refuses a chunking that cannot fit, in one line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from aaspi_py.framework.errors import AaspiError

# ---------------------------------------------------------------- memory model

def memory_model(shape: Sequence[int], n_inputs: int, *, n_outputs: int | None = None,
                 halo: int | Sequence[int] = 0, chunks: Sequence[int] | None = None,
                 work_bytes_per_voxel: float = 8.0, threads: int | None = None) -> int:
    """Bytes a blockwise module run holds at most, whatever the volume size.

    Parameters
    ----------
    shape : (n_inline, n_crossline, n_sample)
        Volume shape (chunks are clipped to it).
    n_inputs, n_outputs : int
        float32 volumes read and written per chunk (outputs default to the inputs).
    halo : int or (int, int, int)
        Voxels added on each side of a chunk along each axis (a filter's reach).
    chunks : (int, int, int), optional
        Chunk shape (default :data:`aaspi_py.volume.DEFAULT_CHUNKS`).
    work_bytes_per_voxel : float
        The kernel's own work arrays per voxel of a padded chunk (e.g. float64 statistics).
    threads : int, optional
        Chunks computed at once (default: the CPU count).

    Returns
    -------
    int
        Estimated bytes of one batch (:func:`batches`): its input chunks and, with a halo,
        those of the neighbouring chunks it reads, its output chunks, and per thread a
        padded copy of the inputs and the kernel's work arrays.
    """
    from aaspi_py.volume import DEFAULT_CHUNKS

    chunks = tuple(max(1, min(int(c), int(s))) for c, s in zip(chunks or DEFAULT_CHUNKS, shape))
    halo = (int(halo),) * 3 if isinstance(halo, int | np.integer) else tuple(int(h) for h in halo)
    numblocks = [-(-int(s) // c) for s, c in zip(shape, chunks)]
    threads = threads or os.cpu_count() or 1
    rows, cols = batches(numblocks, threads)[0]
    batch = (rows.stop - rows.start, cols.stop - cols.start, numblocks[2])
    read = [min(n, b + 2) if h else b for n, b, h in zip(numblocks, batch, halo)]
    chunk_bytes = 4 * int(np.prod(chunks))
    padded = int(np.prod([c + 2 * h for c, h in zip(chunks, halo)]))
    n_out = n_inputs if n_outputs is None else n_outputs
    return int(n_inputs * int(np.prod(read)) * chunk_bytes + n_out * int(np.prod(batch)) * chunk_bytes
               + threads * padded * (4 * n_inputs + work_bytes_per_voxel))


def available_memory() -> int:
    """Bytes this run may use: the machine's available memory, or the smallest worker's
    memory limit on a dask.distributed cluster."""
    from aaspi_py.framework.scheduler import worker_memory_limit

    limit = worker_memory_limit()
    if limit:
        return limit
    from aaspi_py.framework.resources import available_bytes

    return available_bytes()


def check_memory(what: str, needed: int, chunks: Sequence[int], *, available: int | None = None) -> None:
    """Refuse, in one line, a run whose chunks in flight cannot fit in memory."""
    available = available_memory() if available is None else available
    if needed > available:
        raise AaspiError(
            f"{what} needs about {needed / 2**20:.0f} MB for chunks of {'x'.join(map(str, chunks))} voxels "
            f"but only {available / 2**20:.0f} MB are available; rewrite the inputs with smaller chunks "
            f"(aaspi import-segy --chunks, e.g. 64,64,128) or free memory.")


# ---------------------------------------------------------------- writing

def create_volume(ds: xr.Dataset, path: str | os.PathLike, *, chunks: Sequence[int] | None = None):
    """Write the geometry and metadata of ``ds`` at ``path`` and return its empty ``data``
    zarr array (chunks of ``chunks``, default :data:`~aaspi_py.volume.DEFAULT_CHUNKS`).

    The data variable of ``ds`` is never computed here; only its shape and dtype are used.
    """
    import dask.array as da
    import zarr

    from aaspi_py.volume import DIMS, _chunks_for, write_dataset

    shape = tuple(ds["data"].shape)
    ch = _chunks_for(shape, chunks)
    template = ds.copy()
    # the geometry is small (2D); load it so nothing but the data is left to compute
    for name in ("cdp_x", "cdp_y", "trace_mask"):
        if name in template.coords:
            template.coords[name] = template.coords[name].load()
    template["data"] = (DIMS, da.empty(shape, dtype=ds["data"].dtype, chunks=ch))
    template["data"].attrs = dict(ds["data"].attrs)
    write_dataset(template, path, chunks=ch, compute=False)  # metadata; 1D coordinates
    # write_dataset leaves the chunked 2D geometry to its (discarded) dask writer
    for name in ("cdp_x", "cdp_y", "trace_mask"):
        if name in template.coords:
            zarr.open_array(Path(path) / name, mode="r+", zarr_format=3)[...] = template.coords[name].values
    return zarr.open_array(Path(path) / "data", mode="r+", zarr_format=3)


def _write_block(block: np.ndarray, target, block_info=None) -> np.ndarray:
    """Write one chunk into its region of the zarr array; a (1, 1, 1) count of voxels."""
    loc = block_info[0]["array-location"]
    target[tuple(slice(a, b) for a, b in loc)] = block
    return np.full((1, 1, 1), block.size, dtype=np.int64)


def store_blocks(data: Any, target) -> Any:
    """Lazy blockwise write of a dask array into a zarr array of the same shape.

    Returns a dask int64 array with one element per chunk (the voxels written); computing it
    writes every chunk from the task that made it. ``data`` is rechunked to the zarr
    chunks first, so that no two tasks share a zarr chunk.
    """
    import dask.array as da

    data = da.asarray(data)
    if tuple(data.shape) != tuple(target.shape):
        raise AaspiError(f"store_blocks: data of shape {tuple(data.shape)} for a volume of shape {tuple(target.shape)}.")
    data = data.astype(target.dtype).rechunk(tuple(target.chunks))
    one = tuple((1,) * n for n in data.numblocks)
    from dask.base import tokenize

    return da.map_blocks(_write_block, data, target=target, chunks=one, dtype=np.int64,
                         name=f"write-{tokenize(data.name, str(target.store_path))}")


def write_volumes(outputs: Sequence[tuple[xr.Dataset, str | os.PathLike]], *partials: Any,
                  chunks: Sequence[int] | None = None, progress=None, status: str | None = None,
                  compute=None) -> tuple:
    """Write several output volumes in one pass, chunk by chunk; return ``partials`` summed.

    Parameters
    ----------
    outputs : sequence of (Dataset, path)
        Volumes from :func:`~aaspi_py.volume.build_dataset` with lazy (dask) data, and
        where to write each (a fresh directory, usually from ``ctx.volume_output``).
    *partials
        Per-chunk statistics computed in the same pass: dask arrays of shape
        ``(n_blocks_inline, n_blocks_crossline, n_blocks_sample, ...)`` with one element
        (or one vector) per output chunk, usually sharing the outputs' tasks.
    chunks : (int, int, int), optional
        zarr chunk shape of the outputs (default :data:`~aaspi_py.volume.DEFAULT_CHUNKS`).
    progress, status
        Passed to :func:`aaspi_py.framework.scheduler.compute` (progress per finished task, cancel).
    compute : callable, optional
        ``compute(*objs, progress=, status=)``; default :func:`aaspi_py.framework.scheduler.compute`.

    Returns
    -------
    tuple of ndarray
        Each of ``partials`` summed over its three block axes (float64 or int64).

    Notes
    -----
    On the local schedulers the chunks are computed one slab of chunk rows (along inline)
    at a time, so that the chunks held at once do not grow with the number of inlines
    (dask's own ordering may read far ahead of the writes); a filter's halo is then read
    again at each slab edge. On a dask.distributed cluster the whole graph is submitted
    at once: its scheduler queues the reads by the workers' free threads.
    """
    from aaspi_py.framework.scheduler import compute as default_compute
    from aaspi_py.framework.scheduler import distributed_active

    compute = compute or default_compute
    writes = [store_blocks(ds["data"].data, create_volume(ds, path, chunks=chunks)) for ds, path in outputs]
    if not writes:
        return tuple(np.asarray(r).sum(axis=(0, 1, 2)) for r in compute(*partials, progress=progress, status=status))
    numblocks = writes[0].numblocks
    for p in partials:
        if tuple(p.numblocks[:3]) != tuple(numblocks) or any(c != (1,) * len(c) for c in p.chunks[:3]):
            raise AaspiError("write_volumes: partials need one chunk per output chunk on their first three axes.")
    regions = [(slice(None), slice(None))] if distributed_active() else batches(numblocks)
    written = np.zeros(len(writes), dtype=np.int64)
    totals: list[Any] = [0] * len(partials)
    for n, (rows, cols) in enumerate(regions):
        part = None if progress is None else progress.sub(n / len(regions), (n + 1) / len(regions))
        batch = [w.blocks[rows, cols] for w in writes] + [p.blocks[rows, cols] for p in partials]
        results = compute(*batch, progress=part, status=status)
        written += [int(np.sum(r)) for r in results[:len(writes)]]
        for j, r in enumerate(results[len(writes):]):
            totals[j] = totals[j] + np.asarray(r).sum(axis=(0, 1, 2))
        release_freed_memory()
    for (ds, path), n in zip(outputs, written):
        if n != ds["data"].size:  # a chunk lost on the way is an error, never a quiet hole
            raise AaspiError(f"{path}: {n} of {ds['data'].size} voxels written.")
    return tuple(totals)


def release_freed_memory() -> None:
    """Give memory freed by finished chunks back to the system.

    glibc raises its mmap threshold after large blocks are freed, so later chunk buffers
    come from the heap, whose freed pages it keeps: without a trim the resident size
    creeps up with the number of chunks, not with what is live.
    """
    if os.environ.get("AASPI_NO_TRIM"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def batches(numblocks: Sequence[int], threads: int | None = None) -> list[tuple[slice, slice]]:
    """Block regions (inline rows, crossline columns; all sample blocks) computed one after
    the other on the local schedulers: about two chunks per thread each, in inline order."""
    threads = threads or os.cpu_count() or 1
    ni, nx, ns = numblocks
    cols = max(1, min(nx, -(-2 * threads // ns)))
    return [(slice(i, i + 1), slice(j, j + cols)) for i in range(ni) for j in range(0, nx, cols)]
