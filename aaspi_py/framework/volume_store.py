"""Writing output volumes block by block, with memory bounded whatever the volume size.

Every volume module writes this way: the geometry and metadata of each output are written
first, then tasks compute chunks and write each into its region of the zarr store
(``zarr_array[region] = block``), returning nothing but counts and per-chunk statistics.
No task ever holds a whole output, several outputs that share their chunks' computation
run it once, and chunks are written as they are computed, on any scheduler (the workers of
a ``tcp://`` cluster write straight into the project folder).

* :func:`write_volumes` writes lazy dask outputs whose chunks need no neighbours (gtm3d,
  rfc3d, segy_export): one task per chunk, in batches on the local schedulers.
* :func:`write_regions` is for kernels that reach beyond a chunk (kuwahara3d, attributes):
  each task reads its chunks with their halo straight from zarr (no dask overlap graph,
  which holds whole neighbouring chunks) and writes them.

:func:`regions_memory` (and :func:`memory_model` for the batches of :func:`write_volumes`)
estimate the bytes in flight, halos and the kernel's own work arrays included;
:func:`check_memory` refuses a chunking that cannot fit, in one line.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from aaspi_py.framework.chunk_files import ChunkFiles, chunk_files, chunk_pieces, plain_chunks
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


def check_memory(what: str, needed: int, chunks: Sequence[int], *, available: int | None = None,
                 needed_for: Callable[[tuple[int, int, int]], int] | None = None,
                 fixes: Sequence[str] = ()) -> None:
    """Refuse, in one line, a run whose memory model exceeds the memory available.

    Parameters
    ----------
    what : str
        The run, e.g. "kuwahara3d with window 7x7x7 on 2 volume(s)".
    needed : int
        Its memory model in bytes, for ``chunks``.
    chunks : (int, int, int)
        The inputs' chunk shape.
    available : int, optional
        Bytes available (default :func:`available_memory`).
    needed_for : callable, optional
        The model for another chunk shape: the message then names the largest chunks
        (inlines and crosslines halved, down to 8) that fit, if any.
    fixes : sequence of str
        Other changes that would make the run fit (e.g. "use a smaller window (5x5x5 fits)"),
        named before the chunks.
    """
    from aaspi_py.framework.resources import format_bytes

    available = available_memory() if available is None else available
    if needed <= available:
        return
    fixes = list(fixes)
    if needed_for is None:
        fixes.append("rewrite the inputs with smaller chunks (aaspi_py.import_segy(..., chunks=...))")
    else:
        smaller = chunks_that_fit(chunks, needed_for, available)
        if smaller is not None:
            shape = "x".join(map(str, smaller))
            fixes.append(f"rewrite the inputs with smaller chunks ({shape} fits: "
                         f"aaspi_py.import_segy(..., chunks={tuple(smaller)}))")
    fixes.append("free memory")
    raise AaspiError(f"{what} needs about {format_bytes(needed)} for chunks of {'x'.join(map(str, chunks))} "
                     f"voxels but only {format_bytes(available)} is available; {', or '.join(fixes)}.")


def chunks_that_fit(chunks: Sequence[int], needed_for: Callable[[tuple[int, int, int]], int],
                    available: int) -> tuple[int, int, int] | None:
    """The first of ``chunks`` with inlines and crosslines halved again and again (down to 8)
    whose memory model ``needed_for`` fits in ``available`` bytes, or None."""
    a, b, c = (int(x) for x in chunks)
    while a > 8 or b > 8:
        a, b = max(8, a // 2), max(8, b // 2)
        if needed_for((a, b, c)) <= available:
            return a, b, c
    return None


# ---------------------------------------------------------------- writing

def create_volumes(outputs: Sequence[tuple[xr.Dataset, str | os.PathLike]], *,
                   chunks: Sequence[int] | None = None,
                   templates: Sequence[str | os.PathLike] = ()) -> list:
    """:func:`create_volume` for each (dataset, path); the empty ``data`` zarr arrays.

    Outputs of one run usually share their geometry, with each other and with the run's
    inputs: an output with the same coordinates, shape and dtype as one of ``templates``
    (input volume folders whose data array is stored as the output's would be) or as an
    output made before is a copy of its geometry and metadata, coordinate chunks
    hard-linked, with its own attributes: what xarray would write, without loading and
    writing the 2D geometry again (a fifth of a second or more per volume). Others are
    written through xarray.
    """
    import zarr

    made: list[tuple[xr.Dataset, Path]] = []
    candidates = [Path(t) for t in templates]
    arrays = []
    ch = None
    for ds, path in outputs:
        path = Path(path)
        like = next(((d, p) for d, p in made if _same_frame(d, ds)), None)
        if like is None and candidates:
            from aaspi_py.volume import _chunks_for

            ch = ch or _chunks_for(tuple(ds["data"].shape), chunks)
            like = _template_for(ds, candidates, ch)
        if like is None:
            arrays.append(create_volume(ds, path, chunks=chunks))
            made.append((ds, path))
            continue
        _copy_frame(like, ds, path)
        made.append((ds, path))
        arrays.append(zarr.open_array(path / "data", mode="r+", zarr_format=3))
    return arrays


def _template_for(ds: xr.Dataset, candidates: list[Path], chunks) -> tuple[xr.Dataset, Path] | None:
    """The first template volume of ``ds``'s frame whose data array is stored as the output's
    would be: plain float32 chunks of the output's shape, NaN fill (other types go through
    xarray)."""
    import zarr

    from aaspi_py.volume import open_volume

    if ds["data"].dtype != np.float32:
        return None
    for folder in candidates:
        try:
            array = zarr.open_array(folder / "data", mode="r", zarr_format=3)
        except Exception:  # noqa: BLE001 - not a volume's data array: no template
            continue
        if not (plain_chunks(array, tuple(chunks)) and np.isnan(array.fill_value)):
            continue
        template = open_volume(folder)
        if _same_frame(template, ds):
            return template, folder
    return None


def _copy_frame(like: tuple[xr.Dataset, Path], ds: xr.Dataset, path: Path) -> None:
    """Write ``ds``'s empty volume at ``path`` as a copy of volume ``like`` (same frame): its
    metadata and coordinates (chunks hard-linked), no data chunks, ``ds``'s attributes."""
    import json
    import shutil

    from aaspi_py.framework.json_values import json_default

    template, folder = like
    data = os.path.normpath(folder / "data")
    shutil.copytree(folder, path, copy_function=_link_or_copy,  # all but the data chunks
                    ignore=lambda d, names: ["c"] if os.path.normpath(d) == data else [])
    group = path / "zarr.json"
    meta = json.loads(group.read_text(encoding="utf-8"))
    meta["attributes"] = json.loads(json.dumps(dict(ds.attrs), default=json_default))
    group.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    data = path / "data" / "zarr.json"
    meta = json.loads(data.read_text(encoding="utf-8"))
    kept = {k: v for k, v in meta.get("attributes", {}).items() if k not in template["data"].attrs}
    kept.update(json.loads(json.dumps(dict(ds["data"].attrs), default=json_default)))
    meta["attributes"] = kept
    data.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link a coordinate chunk (zarr replaces files, never writes into them), copy metadata."""
    import shutil

    if os.path.basename(src) != "zarr.json":
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system, or links not allowed
            pass
    shutil.copy2(src, dst)


def _same_frame(a: xr.Dataset, b: xr.Dataset) -> bool:
    """Same data shape and dtype and the very same coordinates (so the same metadata but attributes)."""
    if a["data"].shape != b["data"].shape or a["data"].dtype != b["data"].dtype:
        return False
    if set(a.coords) != set(b.coords) or set(a.data_vars) != {"data"} or set(b.data_vars) != {"data"}:
        return False
    return all(a.coords[n].dims == b.coords[n].dims and a.coords[n].attrs == b.coords[n].attrs
               and _same_values(a.coords[n].data, b.coords[n].data) for n in a.coords)


def _same_values(x, y) -> bool:
    """Equal coordinate values: the same dask graph, or equal values (a lazy coordinate
    beside a loaded one is read: coordinates are 1D or 2D, small beside the volume)."""
    if x is y:
        return True
    lazy_x, lazy_y = hasattr(x, "dask"), hasattr(y, "dask")
    if lazy_x and lazy_y and x.name == y.name:
        return True
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    return bool(np.array_equal(np.asarray(x), np.asarray(y)))


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


def _store(target, files: ChunkFiles | None, start: Sequence[int], block: np.ndarray) -> None:
    """``target[start:start + block.shape] = block``, straight into the chunk files when the
    array has them (:func:`~aaspi_py.framework.chunk_files.chunk_files`), else through zarr."""
    if files is not None:
        files.write_box(start, block)
    else:
        target[tuple(slice(a, a + n) for a, n in zip(start, block.shape))] = block


def _write_block(block: np.ndarray, target, files: ChunkFiles | None = None, block_info=None) -> np.ndarray:
    """Write one chunk into its region of the zarr array; a (1, 1, 1) count of voxels."""
    _store(target, files, [a for a, _ in block_info[0]["array-location"]], block)
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

    return da.map_blocks(_write_block, data, target=target, files=chunk_files(target), chunks=one, dtype=np.int64,
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
    writes = [store_blocks(ds["data"].data, target)
              for (ds, _), target in zip(outputs, create_volumes(outputs, chunks=chunks))]
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


# ---------------------------------------------------------------- regions read with their halos

def reflect_indices(start: int, stop: int, n: int, halo: int) -> np.ndarray:
    """Indices along an axis of length ``n`` of the voxels ``[start - halo, stop + halo)``,
    reflected at the volume's edges with the edge voxel repeated (numpy ``"symmetric"``,
    ``d c b a | a b c d | d c b a``, again and again for halos longer than the axis)."""
    idx = np.mod(np.arange(start - halo, stop + halo), 2 * n)
    return np.where(idx >= n, 2 * n - 1 - idx, idx)


def _runs(index: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs ``[p, q)`` of positions where ``index`` goes up by one."""
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    edges = [0, *breaks.tolist(), len(index)]
    return list(zip(edges[:-1], edges[1:]))


def read_indices(array, index: Sequence[np.ndarray], files: ChunkFiles | None = None) -> np.ndarray:
    """``array[np.ix_(*index)]`` for a zarr (or numpy) array, reading only the box the
    indices span: a block with its halo, reflected at the volume's edges.

    The part inside the volume is read straight into the result; the reflected margins
    are then copied from it, axis after axis (as ``np.pad`` does), so a block costs one
    read and no whole-block copy. With ``files`` (the array's plain chunk files) the read
    skips zarr and takes only the part of each chunk the box needs.
    """
    inner = [max(_runs(i), key=lambda r: r[1] - r[0]) for i in index]
    sources = []
    for i, (p, q) in zip(index, inner):
        margin = np.r_[0:p, q:len(i)]
        at = p + i[margin] - i[p]  # where each margin voxel's source sits in the inner run
        if np.any((at < p) | (at >= q)):  # a halo longer than the axis: read it all, then take
            return _read_and_take(array, index, files)
        sources.append((margin, at))
    out = np.empty([len(i) for i in index], dtype=array.dtype)
    box = tuple(slice(p, q) for p, q in inner)
    read_box(array, [int(i[p]) for i, (p, _) in zip(index, inner)],
             [int(i[q - 1]) + 1 for i, (_, q) in zip(index, inner)], out=out[box], files=files)
    for axis, (margin, at) in enumerate(sources):
        if margin.size:
            # axes before this one are complete; those after it only on their inner run
            rest = tuple(box[a] if a > axis else slice(None) for a in range(out.ndim))
            dst = rest[:axis] + (margin,) + rest[axis + 1:]
            src = rest[:axis] + (at,) + rest[axis + 1:]
            out[dst] = out[src]
    return out


def _read_and_take(array, index: Sequence[np.ndarray], files: ChunkFiles | None = None) -> np.ndarray:
    lo = [int(i.min()) for i in index]
    hi = [int(i.max()) + 1 for i in index]
    block = read_box(array, lo, hi, files=files)
    for axis, (i, a, b) in enumerate(zip(index, lo, hi)):
        if len(i) != b - a or np.any(i != np.arange(a, b)):
            block = np.take(block, i - a, axis=axis)
    return block


def read_box(array, lo: Sequence[int], hi: Sequence[int], out: np.ndarray | None = None,
             files: ChunkFiles | None = None) -> np.ndarray:
    """``array[lo:hi]`` (per axis) read one zarr chunk at a time into one buffer.

    zarr would fetch and decode up to ``async.concurrency`` chunks at once for a read that
    spans many (tens of MB in flight per read, per thread); the tasks already keep every
    core busy, so one chunk at a time costs no speed and keeps the memory of a read to its
    result plus one chunk.
    """
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))
    if out is None:
        out = np.empty([s.stop - s.start for s in box], dtype=array.dtype)
    if files is not None:
        return files.read_box(lo, hi, out)
    chunks = getattr(array, "chunks", None)
    if not (isinstance(chunks, tuple) and len(chunks) == len(box) and all(isinstance(c, int) for c in chunks)):
        out[...] = array[box]  # numpy, or a chunking without a regular grid
        return out
    for idx, inner, where in chunk_pieces(lo, hi, chunks):
        out[where] = array[tuple(slice(i * c + q.start, i * c + q.stop) for i, c, q in zip(idx, chunks, inner))]
    return out


#: samples a region task covers at most (chunks of a trace read together: their halo along
#: the samples is read once for all of them; deeper tasks hold more memory per thread)
TASK_SAMPLES = 256


#: voxels up to which :func:`region_tasks` gives one task per chunk (about 160³)
SMALL_VOLUME = 1 << 22


class _RegionJob:
    """What every task of :func:`write_regions` shares (one graph key, sent once)."""

    def __init__(self, fn, sources, targets, halo, chunks, whole_traces: bool) -> None:
        self.fn, self.sources, self.targets = fn, list(sources), list(targets)
        self.halo, self.whole_traces = tuple(int(h) for h in halo), whole_traces
        self.rows = int(chunks[0])  # inlines per chunk row
        # plain float32 chunk files are read and written directly (None: through zarr)
        self.source_files = [chunk_files(a) for a in self.sources]
        self.target_files = [chunk_files(t) for t in self.targets]


def _run_task(job: _RegionJob, rows: tuple, col: tuple, samples: tuple) -> np.ndarray:
    """Compute and write the chunks of one task: chunk rows ``rows`` (inline bounds) of the
    chunk column ``col`` (crossline bounds), sample chunks ``samples``; [written, partials...].

    The rows are taken in order and each chunk row of the sources is read once, with its
    crossline and sample halo: the inline halo of the next row comes from the rows already
    read, so a task decodes each chunk it touches once (the copy's cost plus the lateral
    halo), and holds about two chunk rows of its column whatever the volume size.
    """
    shape = job.sources[0].shape
    h0, h1, h2 = job.halo
    k0, k1 = samples[0][0], samples[-1][1]
    lateral = [reflect_indices(col[0], col[1], shape[1], h1), reflect_indices(k0, k1, shape[2], h2)]
    c0 = job.rows
    held: dict[int, tuple[int, list[np.ndarray]]] = {}  # chunk row -> (its first inline held, per source)
    total = None
    written = 0
    steps = [reflect_indices(a, b, shape[0], h0) for a, b in rows]
    for step, ((a, b), idx0) in enumerate(zip(rows, steps)):
        for r in range(int(idx0.min()) // c0, int(idx0.max()) // c0 + 1):
            if r not in held and np.any(idx0 // c0 == r):
                inlines = np.arange(r * c0, min((r + 1) * c0, shape[0]))
                held[r] = (r * c0, [read_indices(s, [inlines, *lateral], f)
                                    for s, f in zip(job.sources, job.source_files)])
        padded = [_gather_rows(held, idx0, c0, j) for j in range(len(job.sources))]
        if step + 1 < len(rows):  # keep of each row only what the next step reads
            _trim_rows(held, steps[step + 1], c0)
        calls = [(k0, k1)] if job.whole_traces else samples
        for s0, s1 in calls:
            window = slice(s0 - k0, s1 - k0 + 2 * h2)
            blocks = [np.ascontiguousarray(x[:, :, window]) for x in padded]
            region = (slice(a, b), slice(*col), slice(s0, s1))
            outs, partial = job.fn(blocks, [idx0, lateral[0], lateral[1][window]], region)
            for target, files, out in zip(job.targets, job.target_files, outs):
                _store(target, files, [r.start for r in region], out)
                written += out.size
            partial = np.asarray(partial, dtype=np.float64).ravel()
            total = partial if total is None else total + partial
            del blocks, outs
        del padded
    del held
    release_freed_memory()  # once a task: a trim per chunk row cost more than it kept
    return np.concatenate([[float(written)], total]).reshape(1, -1)


def _gather_rows(held: dict, idx0: np.ndarray, c0: int, j: int) -> np.ndarray:
    """Source ``j``'s padded block: inlines ``idx0`` taken from the chunk rows held."""
    first = held[int(idx0[0]) // c0][1][j]
    out = np.empty((len(idx0), *first.shape[1:]), dtype=first.dtype)
    for r, (start, arrays) in held.items():
        sel = np.flatnonzero(idx0 // c0 == r)
        if sel.size == 0:
            continue
        src = idx0[sel] - start
        steps = np.flatnonzero((np.diff(sel) != 1) | (np.diff(src) != 1)) + 1
        edges = [0, *steps.tolist(), sel.size]
        for p, q in zip(edges[:-1], edges[1:]):  # runs of inlines: plain copies (reflected ones are short)
            out[sel[p]:sel[q - 1] + 1] = arrays[j][src[p]:src[q - 1] + 1]
    return out


def _trim_rows(held: dict, idx0: np.ndarray, c0: int) -> None:
    """Drop the rows, and the inlines of a row, that inlines ``idx0`` do not read."""
    for r in list(held):
        want = idx0[idx0 // c0 == r]
        if want.size == 0:
            del held[r]
            continue
        start, arrays = held[r]
        lo, hi = int(want.min()) - start, int(want.max()) + 1 - start
        if lo > 0 or hi < len(arrays[0]):  # a copy, so the rest of the row is freed
            held[r] = (start + lo, [x[lo:hi].copy() for x in arrays])


def region_tasks(shape: Sequence[int], chunks: Sequence[int], *, whole_traces: bool = False,
                 threads: int | None = None) -> list[tuple]:
    """The tasks of :func:`write_regions`: (inline chunk rows, crossline bounds, sample chunks).

    A task is one column of chunks (one chunk across, up to :data:`TASK_SAMPLES` samples
    deep, or whole traces) over several consecutive chunk rows: about four tasks per thread,
    so that every thread has work and progress moves, with rows long enough that the
    inline halo re-read at a task's ends stays a small part of its reads. Volumes of up to
    :data:`SMALL_VOLUME` voxels get one task per chunk (or per column of whole traces).
    """
    threads = threads or os.cpu_count() or 1
    bounds = [[(a, min(a + int(c), int(n))) for a in range(0, int(n), int(c))] for n, c in zip(shape, chunks)]
    rows, cols, samples = bounds
    per = len(samples) if whole_traces else max(1, min(len(samples), TASK_SAMPLES // int(chunks[2])))
    if np.prod([int(n) for n in shape]) <= SMALL_VOLUME:
        # re-reading halos costs little here: one chunk per task, so progress moves in
        # small steps even for a run of a second
        per = len(samples) if whole_traces else 1
    stacks = [tuple(samples[k:k + per]) for k in range(0, len(samples), per)]
    columns = len(cols) * len(stacks)
    pieces = len(rows) if np.prod([int(n) for n in shape]) <= SMALL_VOLUME else \
        max(1, min(len(rows), -(-4 * threads // columns)))
    step = -(-len(rows) // pieces)
    return [(tuple(rows[i:i + step]), col, stack) for i in range(0, len(rows), step) for col in cols
            for stack in stacks]


def write_regions(outputs: Sequence[tuple[xr.Dataset, str | os.PathLike]], sources: Sequence[Any], fn,
                  *, halo: Sequence[int], n_partial: int = 0, chunks: Sequence[int] | None = None,
                  whole_traces: bool = False, progress=None, status: str | None = None,
                  compute=None) -> np.ndarray:
    """Write output volumes chunk by chunk, each chunk computed from the sources' voxels of
    that chunk and its halo, read straight from zarr inside the task.

    Each task (:func:`region_tasks`) walks a column of chunks along the inlines: it reads
    every chunk row of the sources once, with its halo (reflected at the volume's edges,
    :func:`reflect_indices`), calls ``fn`` per output chunk and writes the results into
    the outputs' zarr chunks. Tasks share nothing, so the memory held is the tasks in
    flight × a few chunk rows of one column, whatever the volume size, and the result
    does not depend on the chunking when ``fn`` depends only on the padded block.

    Parameters
    ----------
    outputs : sequence of (Dataset, path)
        Output volumes (their ``data`` is never computed: only its shape and dtype are
        used) and where to write each.
    sources : sequence of zarr arrays or volume paths
        Input volumes of the outputs' shape (a path is a volume folder; its ``data`` is read).
    fn : callable
        ``fn(blocks, index, region) -> (outputs, partial)``: ``blocks`` are the padded
        source blocks, ``index`` the source indices of their voxels per axis (e.g. to pad a
        trace mask the same way: ``mask[np.ix_(index[0], index[1])]``), ``region`` the
        output slices; returns one array of the region's shape per output and a float
        vector of ``n_partial`` statistics. Must be picklable to run on a cluster.
    halo : (int, int, int)
        Voxels read beyond the region on each side, per axis.
    n_partial : int
        Length of the statistics vector ``fn`` returns.
    chunks : (int, int, int), optional
        zarr chunks of the outputs, and the regions (default :data:`~aaspi_py.volume.DEFAULT_CHUNKS`).
    whole_traces : bool
        Call ``fn`` on whole traces (regions one chunk across, all samples deep) instead of
        one chunk at a time.
    progress, status, compute
        As in :func:`write_volumes`.

    Returns
    -------
    ndarray of shape (n_partial,)
        The partials summed over the regions (float64).
    """
    import dask.array as da
    import zarr
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    from aaspi_py.framework.scheduler import compute as default_compute
    from aaspi_py.volume import _chunks_for

    compute = compute or default_compute
    arrays = [zarr.open_array(Path(s) / "data", mode="r", zarr_format=3) if isinstance(s, str | os.PathLike) else s
              for s in sources]
    shape = tuple(arrays[0].shape)
    for a in arrays[1:]:
        if tuple(a.shape) != shape:
            raise AaspiError(f"write_regions: sources of shapes {shape} and {tuple(a.shape)}; they must share one grid.")
    ch = _chunks_for(shape, chunks)
    targets = create_volumes(outputs, chunks=ch, templates=[s for s in sources if isinstance(s, str | os.PathLike)])
    for (_, path), t in zip(outputs, targets):
        if tuple(t.shape) != shape:
            raise AaspiError(f"write_regions: output {path} of shape {tuple(t.shape)} for sources of shape {shape}.")
    job = _RegionJob(fn, arrays, targets, halo, ch, whole_traces)
    tasks = region_tasks(shape, ch, whole_traces=whole_traces, threads=_threads())
    token = tokenize(fn, [str(getattr(a, "store_path", id(a))) for a in arrays], [str(p) for _, p in outputs],
                     tuple(halo), ch, whole_traces)
    name, jname = f"regions-{token}", f"region-job-{token}"
    dsk: dict = {jname: job}
    for t, (rows, col, samples) in enumerate(tasks):
        dsk[(name, t, 0)] = (_run_task, jname, rows, col, samples)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
    results = da.Array(graph, name, chunks=((1,) * len(tasks), (1 + n_partial,)), dtype=np.float64)
    (values,) = compute(results, progress=progress, status=status)
    release_freed_memory()
    values = np.asarray(values).reshape(-1, 1 + n_partial)
    expected = sum(int(np.prod(ds["data"].shape)) for ds, _ in outputs)
    if int(values[:, 0].sum()) != expected:  # a region lost on the way is an error, never a quiet hole
        raise AaspiError(f"{int(values[:, 0].sum())} of {expected} output voxels written.")
    return values[:, 1:].sum(axis=0)


def _threads() -> int:
    """Threads computing at once: the workers' threads on a cluster, else the local ones."""
    from aaspi_py.framework.scheduler import distributed_active

    if distributed_active():
        from aaspi_py.framework.scheduler import _distributed_client

        try:
            return max(1, sum(_distributed_client().nthreads().values()))
        except Exception:  # noqa: BLE001 - no answer: as many as here
            pass
    import dask

    return int(dask.config.get("num_workers", None) or os.cpu_count() or 1)


def regions_memory(chunks: Sequence[int], shape: Sequence[int], *, halo: Sequence[int], n_inputs: int,
                   n_outputs: int, work_bytes_per_voxel: float = 8.0, whole_traces: bool = False,
                   threads: int | None = None) -> int:
    """Bytes a :func:`write_regions` run holds at most, whatever the volume size.

    Per task in flight (one per thread): about three chunk rows of each input's column
    (its halo included) and the padded block assembled from them, a working copy of one
    call's block, the outputs of the call, the kernel's own work arrays
    (``work_bytes_per_voxel`` per padded voxel of a call), plus the chunks zarr decodes at
    once to assemble a read (its ``async.concurrency``, 10 by default).
    """
    import zarr

    threads = threads or os.cpu_count() or 1
    ch = [max(1, min(int(c), int(s))) for c, s in zip(chunks, shape)]
    depth = int(shape[2]) if whole_traces else min(int(shape[2]), max(ch[2], TASK_SAMPLES // ch[2] * ch[2]))
    call = ch[2] if not whole_traces else int(shape[2])
    h0, h1, h2 = (int(h) for h in halo)
    column = (ch[1] + 2 * h1) * (depth + 2 * h2)
    rows = -(-(ch[0] + 2 * h0) // ch[0]) + 1
    held = n_inputs * 4 * column * (rows * ch[0] + ch[0] + 2 * h0)
    padded_call = (ch[0] + 2 * h0) * (ch[1] + 2 * h1) * (call + 2 * h2)
    decoding = int(zarr.config.get("async.concurrency") or 10) * 4 * int(np.prod(ch))
    per_task = (held + n_inputs * padded_call * 8 + n_outputs * 4 * ch[0] * ch[1] * call
                + padded_call * work_bytes_per_voxel + decoding)
    return int(threads * per_task)
