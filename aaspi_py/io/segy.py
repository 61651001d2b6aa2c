"""SEG-Y -> volume (:func:`import_segy`) and volume -> SEG-Y (:func:`export_segy`).

A survey whose traces fill its grid in inline order is imported in one pass
(:mod:`aaspi_py.io.segy_stream`, checked against the grid built from every header); any
other file in two passes over the file with bounded memory:

1. the trace headers, block by block (:mod:`aaspi_py.io.segy_geometry`), to build the grid;
   this pass reads the file from disk once, in order, and leaves it in the page cache;
2. the traces, one block of whole zarr chunk columns at a time (all samples of
   ``ci x k*cx`` traces, at most :data:`BLOCK_BYTES`), in file order. segyio reads and
   decodes the samples of each run of consecutive traces (every handled format, either
   byte order); the raw 240-byte headers of the same traces come through a memory map of
   their pages. The samples are laid out chunk by chunk as they are copied out of
   segyio's buffer, and a writer thread stores block *k* (amplitude chunks as plain files
   in one gather write each, trace mask and raw headers through zarr) while block *k+1* is
   read and decoded, starting the disk write of every chunk at once, so reading, decoding
   and writing overlap and the import runs at the speed of the slowest of them rather than
   their sum. Blocks never share a zarr chunk.

segyio holds the GIL while it reads; the writer's file writes do not need it. Progress and
cancel are checked between blocks.

Memory: :data:`QUEUE_BLOCKS` + :data:`WRITER_THREADS` + 1 block buffers of at most
:data:`BLOCK_BYTES` each, one header map of at most :data:`aaspi_py.io.segy_geometry.MAP_BYTES`,
plus about 40 bytes per trace for the geometry (line numbers, cdp coordinates, trace order).

Amplitudes are stored uncompressed (:data:`AMPLITUDE_COMPRESSORS`): lossless codecs save
0-8 % on seismic-like float32 (blosc-lz4 with shuffle or bitshuffle nothing, zstd level 1
7 %) at 130-370 MB/s per core, slower than the disk they would save time on; the raw trace
headers use zarr's default zstd, which shrinks them 10-35 fold.

What the volume keeps, so export can write the file back byte for byte:

- attrs ``segy_textual_header``, ``segy_extended_textual_headers``,
  ``segy_binary_header`` (raw bytes, base64), ``segy_format``, ``segy_endian``,
  ``segy_bytes`` (the byte locations used), ``segy_sorting``, ``segy_headers_id``;
- with ``keep_headers=True`` (default): variable ``trace_header`` (uint8, dims inline,
  crossline, header_byte) with every raw 240-byte trace header, and ``trace_order``
  (int32, position of each trace in the file, -1 where the grid has no trace).

Export rules (see :mod:`aaspi_py.io.segy_writer`): the imported volume itself is written in
its original sample format, byte order and trace order with its raw headers (identical
file for unchanged data); a module output on that geometry reuses those headers and is
written as IEEE float (format 5), or 2-byte integers (format 3) for classes; a volume
without SEG-Y headers gets generated ones. The imported volume itself, when its traces filled
its grid in inline order, is written in one pass by :mod:`aaspi_py.io.segy_export_stream`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from aaspi_py.framework.chunk_files import plain_chunks
from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress
from aaspi_py.io.segy_chunks import write_chunk_files
from aaspi_py.io.segy_formats import EXACT_IN_FLOAT32, decode, format_name
from aaspi_py.io.segy_geometry import Grid, build_grid, read_headers_at, scan_headers
from aaspi_py.io.segy_layout import SegyLayout, check_field, read_layout, textual_to_str
from aaspi_py.io.segy_stream import predict_grid, stream_import

# xarray, dask and zarr load on first use (export, the volume's metadata), so that the
# import command starts reading the file without waiting for them

__all__ = ["import_segy", "export_segy", "read_block", "BLOCK_BYTES"]

#: bytes of file (or of float32 samples, if more) in one block of traces
BLOCK_BYTES = 64 << 20
#: decoded blocks waiting for a writer thread
QUEUE_BLOCKS = 1
#: threads writing blocks: plain chunk files are written without the GIL, and one writer
#: kept up with the reader in the benchmark (two used more CPU for no gain)
WRITER_THREADS = 1
#: zarr codecs of the imported amplitude: see the module docstring for the measurements
AMPLITUDE_COMPRESSORS = None
#: import files whose traces fill their grid in inline order in one pass
#: (:mod:`aaspi_py.io.segy_stream`); False: always the two passes described above
ONE_PASS = True


def export_segy(src, dst: str | os.PathLike, *, overwrite: bool = False, progress=None) -> dict:
    """Write a volume (path or Dataset) to a SEG-Y file: see :mod:`aaspi_py.io.segy_writer`
    for the rules.

    An imported volume whose traces filled its grid in inline order is written in one pass
    (:mod:`aaspi_py.io.segy_export_stream`, without loading xarray); any other volume by
    :func:`aaspi_py.io.segy_writer.export_segy`.

    Returns
    -------
    report : dict with ``summary`` lines, ``traces``, ``format``, ``endian``, ``headers``
    """
    if ONE_PASS:
        from aaspi_py.io.segy_export_stream import export_if_plain

        report = export_if_plain(src, Path(dst), overwrite=overwrite, progress=progress)
        if report is not None:
            return report
    from aaspi_py.io.segy_writer import export_segy as export_any

    return export_any(src, dst, overwrite=overwrite, progress=progress)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# ---------------------------------------------------------------- reading traces

@contextlib.contextmanager
def open_segyio(layout: SegyLayout) -> Iterator[Any]:
    """The file opened with segyio (no geometry inference: the grid is ours), checked to
    agree with the layout the project read from the headers.

    Yields None for a file whose binary header announces a variable number (-1) of extended
    textual headers: segyio 1.9 cannot open those, and their samples are decoded with
    :func:`aaspi_py.io.segy_formats.decode` (checked equal to segyio on the same words).
    """
    import segyio

    if layout.extended and int.from_bytes(layout.binary[304:306], layout.endian, signed=True) == -1:
        yield None
        return
    try:
        f = segyio.open(layout.path, "r", ignore_geometry=True, endian=layout.endian)
    except (OSError, RuntimeError, ValueError) as e:
        raise AaspiError(f"{layout.path}: segyio cannot open the file ({e}); check that it is a "
                         f"complete SEG-Y file.") from None
    with f:
        if f.tracecount != layout.traces or len(f.samples) != layout.samples:
            raise AaspiError(
                f"{layout.path}: segyio reads {f.tracecount} traces of {len(f.samples)} samples where the "
                f"headers say {layout.traces} traces of {layout.samples}; the binary header's sample count "
                f"(bytes 3221-3222) or extended header count (bytes 3505-3506) is wrong — fix it."
            )
        yield f


def _runs(traces: np.ndarray) -> list[tuple[int, int]]:
    """[a, b) index ranges of runs of consecutive trace numbers in ascending ``traces``."""
    breaks = np.flatnonzero(np.diff(traces) != 1) + 1
    return list(zip(np.r_[0, breaks].tolist(), np.r_[breaks, traces.size].tolist()))


def read_block(layout: SegyLayout, trace_index: np.ndarray, keep_headers: bool = True, *,
               segy=None, fd: int | None = None, out: np.ndarray | None = None):
    """Read and decode the traces of one grid block (samples through segyio).

    Parameters
    ----------
    layout : the file's layout
    trace_index : int array of shape (ni, nx): position of each trace in the file, -1 for none
    keep_headers : also read the raw trace headers
    segy, fd : the file opened with :func:`open_segyio` and :func:`os.open` (both opened
        here when ``fd`` is not given)
    out : float32 buffer of at least ``ni * nx * samples`` values to decode into

    Returns
    -------
    data : float32 array of shape (ni, nx, samples), zeros where there is no trace
    live : bool array of shape (ni, nx): the trace exists and is not all zeros
    headers : uint8 array of shape (ni, nx, 240) (raw trace headers, zeros where no
        trace) or None when ``keep_headers`` is False
    """
    pieces, live, headers = _read_pieces(layout, trace_index, keep_headers, layout.samples, segy=segy, fd=fd,
                                         out=out)
    return pieces[0], live, headers


def _read_pieces(layout: SegyLayout, trace_index: np.ndarray, keep_headers: bool, width: int, *,
                 segy=None, fd: int | None = None, out: np.ndarray | None = None):
    """:func:`read_block` with the samples cut into pieces of ``width`` samples, stored piece
    by piece: ``pieces[k]`` (ni, nx, width) holds samples ``k*width`` onwards of every trace,
    zero-padded past the end. With ``width`` the zarr chunk length, each piece of a block of
    whole chunk columns is a row of whole chunks in C order, so zarr writes it without
    gathering; the reordering costs nothing extra, it is the copy out of segyio's buffer."""
    if fd is None:
        with contextlib.ExitStack() as stack:
            segy = segy if segy is not None else stack.enter_context(open_segyio(layout))
            fd = os.open(layout.path, os.O_RDONLY)
            stack.callback(os.close, fd)
            return _read_pieces(layout, trace_index, keep_headers, width, segy=segy, fd=fd, out=out)
    ni, nx = trace_index.shape
    ns = layout.samples
    npieces = -(-ns // width)
    full = ns // width  # pieces without padding
    flat = trace_index.ravel()
    n = flat.size
    pos = np.flatnonzero(flat >= 0)
    order = np.argsort(flat[pos], kind="stable")
    pos, traces = pos[order], flat[pos][order].astype(np.int64)
    size = npieces * n * width
    buf = np.empty(size, np.float32) if out is None else out.reshape(-1)[:size]
    pieces = buf.reshape(npieces, n, width)
    by_trace = pieces.transpose(1, 0, 2)  # (n, npieces, width) view
    if full < npieces:
        pieces[-1, :, ns - full * width:] = 0
    if pos.size < n:
        by_trace[np.setdiff1d(np.arange(n), pos)] = 0
    live = np.zeros(n, bool)
    for a, b in _runs(traces):
        t0 = int(traces[a])
        try:
            samples = _samples(layout, segy, fd, t0, b - a)
        except (OSError, RuntimeError) as e:
            raise AaspiError(f"{layout.path}: reading traces {t0 + 1}..{t0 + b - a} failed ({e}); the file "
                             f"was changed or truncated while importing.") from None
        rows = pos[a:b]
        live[rows] = samples.any(axis=1)
        p0 = int(rows[0])
        if b - a == 1 or np.all(np.diff(rows) == 1):  # consecutive on the grid too: views, no gather
            rows = slice(p0, p0 + b - a)
        if full:  # assignment, not copyto: by_trace[index array] would be a copy
            by_trace[rows, :full] = samples[:, :full * width].reshape(b - a, full, width)
        if full < npieces:
            by_trace[rows, full, :ns - full * width] = samples[:, full * width:]
    headers = None
    if keep_headers:
        headers = np.zeros((n, 240), np.uint8)
        headers[pos] = read_headers_at(fd, layout, traces)
        headers = headers.reshape(ni, nx, 240)
    return pieces.reshape(npieces, ni, nx, width), live.reshape(ni, nx), headers


def _samples(layout: SegyLayout, segy, fd: int, first: int, count: int) -> np.ndarray:
    """Samples of ``count`` consecutive traces from trace ``first`` (0-based), decoded."""
    if segy is not None:
        return segy.trace.raw[first:first + count]  # segyio decodes; native byte order
    size = layout.trace_size
    raw = os.pread(fd, count * size, layout.data_start + first * size)
    if len(raw) != count * size:
        raise OSError(f"only {len(raw)} of {count * size} bytes could be read")
    return decode(np.frombuffer(raw, layout.record_dtype)["samples"], layout.format)


class _ZarrWriters:
    """Threads that write blocks (data, trace mask, raw headers) into the volume's zarr
    arrays while the caller reads the next ones. Blocks are unions of whole chunks, so the
    threads never touch the same chunk; the first failure is raised to the caller."""

    def __init__(self, path: Path, keep_headers: bool, chunk_shape: tuple[int, int, int], samples: int,
                 free: queue.Queue, threads: int):
        self.path, self.keep_headers, self.chunk_shape, self.free = path, keep_headers, chunk_shape, free
        self.samples = samples
        self.blocks: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
        self.error: BaseException | None = None
        self.threads = [threading.Thread(target=self._run, name=f"segy-import-writer-{k}", daemon=True)
                        for k in range(threads)]
        for t in self.threads:
            t.start()

    def put(self, item) -> None:
        if self.error is not None:
            raise self.error
        self.blocks.put(item)

    def _run(self) -> None:
        import zarr

        from aaspi_py.io.segy_writer import start_writeback

        names = ("data", "trace_mask", "trace_header") if self.keep_headers else ("data", "trace_mask")
        try:
            arrays = {name: zarr.open_array(self.path / name, mode="r+") for name in names}
            direct = plain_chunks(arrays["data"], self.chunk_shape)
            fill = float(arrays["data"].metadata.fill_value)
        except BaseException as e:  # noqa: BLE001 - keep draining, so the reader never waits forever
            self.error = e
        while (item := self.blocks.get()) is not None:
            (i0, x0), data, alive, headers, buffer = item
            try:
                if self.error is None:
                    i1, x1 = i0 + alive.shape[0], x0 + alive.shape[1]
                    if direct:
                        write_chunk_files(self.path / "data", i0, x0, data, self.chunk_shape, self.samples,
                                          fill=fill, on_written=lambda fd: start_writeback((), fd))
                    else:
                        cs = self.chunk_shape[2]
                        for k in range(data.shape[0]):
                            stop = min(self.samples, (k + 1) * cs)
                            arrays["data"][i0:i1, x0:x1, k * cs:stop] = data[k, :, :, :stop - k * cs]
                        start_writeback(self._chunk_files(i0, i1, x0, x1))
                    arrays["trace_mask"][i0:i1, x0:x1] = alive
                    if headers is not None:
                        arrays["trace_header"][i0:i1, x0:x1, :] = headers
            except BaseException as e:  # noqa: BLE001 - handed to the reading thread
                self.error = e
            finally:
                self.free.put(buffer)

    def _chunk_files(self, i0: int, i1: int, x0: int, x1: int) -> list[Path]:
        ci, cx, cs = self.chunk_shape
        base = self.path / "data" / "c"
        return [base / str(a) / str(b) / str(c) for a in range(i0 // ci, -(-i1 // ci))
                for b in range(x0 // cx, -(-x1 // cx)) for c in range(-(-self.samples // cs))]

    def finish(self) -> None:
        for _ in self.threads:
            self.blocks.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None:
            raise self.error


def _stream(layout: SegyLayout, grid: Grid, chunk_shape, path: Path, keep_headers: bool, progress) -> int:
    """Pass 2: every block read and decoded here, written by :class:`_ZarrWriters`;
    returns the live trace count."""
    ni, nx = grid.shape
    bi, bx = _blocks((ni, nx), chunk_shape[0], chunk_shape[1], _bytes_per_trace(layout))
    origins = [(i0, x0) for i0 in range(0, ni, bi) for x0 in range(0, nx, bx)]
    # in file order, so the reads sweep the file once
    first = [_first_trace(grid.trace_index[i0:i0 + bi, x0:x0 + bx]) for i0, x0 in origins]
    origins = [origins[k] for k in np.argsort(first, kind="stable")]
    free: queue.Queue = queue.Queue()
    for _ in range(QUEUE_BLOCKS + WRITER_THREADS + 1):  # one being read, queued ones, ones being written
        free.put(None)  # allocated on first use, at the size of the largest block
    writers = _ZarrWriters(path, keep_headers, chunk_shape, layout.samples, free, min(WRITER_THREADS, len(origins)))
    cs = chunk_shape[2]
    block_values = bi * bx * -(-layout.samples // cs) * cs
    live = 0
    fd = os.open(layout.path, os.O_RDONLY)
    try:
        with open_segyio(layout) as segy:
            for k, (i0, x0) in enumerate(origins):
                index = grid.trace_index[i0:i0 + bi, x0:x0 + bx]
                buffer = free.get()
                if buffer is None:
                    buffer = np.empty(block_values, np.float32)
                data, alive, headers = _read_pieces(layout, index, keep_headers, cs, segy=segy, fd=fd, out=buffer)
                live += int(alive.sum())
                writers.put(((i0, x0), data, alive, headers, buffer))
                progress.update((k + 1) / len(origins), "importing traces")
                progress.check()
    finally:
        os.close(fd)
        writers.finish()
    return live


def _first_trace(index: np.ndarray) -> int:
    alive = index[index >= 0]
    return int(alive.min()) if alive.size else -1


def _bytes_per_trace(layout: SegyLayout) -> int:
    """Memory of one trace in a block: the larger of its bytes in the file and as float32."""
    return max(layout.trace_size, 240 + 4 * layout.samples)


# ---------------------------------------------------------------- dataset

def _chunks(shape: tuple[int, int, int], chunks, trace_size: int) -> tuple[int, int, int]:
    from aaspi_py.framework.volume_files import DEFAULT_CHUNKS

    ci, cx, cs = (max(1, min(int(c), int(s))) for c, s in zip(chunks or DEFAULT_CHUNKS, shape))
    # a chunk column must fit one read block, or memory would grow with the trace length
    while ci * cx * trace_size > BLOCK_BYTES and (ci > 1 or cx > 1):
        if ci >= cx:
            ci = max(1, ci // 2)
        else:
            cx = max(1, cx // 2)
    return ci, cx, cs


def _blocks(shape: tuple[int, int], ci: int, cx: int, trace_size: int) -> tuple[int, int]:
    """Read block (inlines, crosslines): whole chunk columns, grown up to BLOCK_BYTES."""
    ni, nx = shape
    bi, bx = ci, cx
    while bx < nx and bi * (bx + cx) * trace_size <= BLOCK_BYTES:
        bx += cx
    while bi < ni and (bi + ci) * bx * trace_size <= BLOCK_BYTES:
        bi += ci
    return bi, bx


def _skeleton(layout: SegyLayout, grid: Grid, chunk_shape, keep_headers: bool, attrs: dict):
    """The volume's Dataset with lazy placeholders for the traces, mask and headers (written
    block by block by :func:`_stream`), and its zarr encoding."""
    import dask.array as da
    import xarray as xr

    ni, nx = grid.shape
    ci, cx, cs = chunk_shape
    dims = ("inline", "crossline")
    ds = xr.Dataset(
        {"data": (dims + ("sample",), da.zeros((ni, nx, layout.samples), dtype=np.float32, chunks=(ci, cx, -1)))},
        coords={
            "inline": ("inline", grid.inline),
            "crossline": ("crossline", grid.crossline),
            "sample": ("sample", layout.sample_axis(), {"domain": "time", "units": "ms"}),
            "cdp_x": (dims, grid.cdp_x),
            "cdp_y": (dims, grid.cdp_y),
            "trace_mask": (dims, da.zeros((ni, nx), dtype=bool, chunks=(ci, cx))),
        },
        attrs=attrs,
    )
    encoding: dict[str, dict[str, Any]] = {
        "data": {"chunks": (ci, cx, cs), "compressors": AMPLITUDE_COMPRESSORS, "write_empty_chunks": True},
        "cdp_x": {"chunks": (ci, cx)},
        "cdp_y": {"chunks": (ci, cx)},
        "trace_mask": {"chunks": (ci, cx)},
    }
    if keep_headers:
        ds["trace_header"] = (dims + ("header_byte",), da.zeros((ni, nx, 240), dtype=np.uint8, chunks=(ci, cx, 240)),
                              {"description": "raw 240-byte SEG-Y trace headers, file byte order"})
        ds["trace_order"] = (dims, grid.trace_index.astype(np.int32, copy=False),
                             {"description": "0-based position of the trace in the SEG-Y file, -1 where none"})
        encoding["trace_header"] = {"chunks": (ci, cx, 240)}
        encoding["trace_order"] = {"chunks": (ci, cx)}
    return ds, encoding


#: xarray's encoding of a NaN fill value in a variable's attributes (float64, base64)
_NAN_FILL = base64.b64encode(np.array(np.nan).tobytes()).decode("ascii")


def _skeleton_zarr(path: Path, layout: SegyLayout, grid: Grid, chunk_shape, keep_headers: bool, attrs: dict,
                   sample_attrs: dict, coordinates: bool = True) -> None:
    """What ``_skeleton(...).to_zarr(path, compute=False)`` writes, with zarr alone: the same
    metadata (checked equal in the tests) without loading xarray and dask, which cost the
    one-pass import about 0.6 CPU-s. ``coordinates=False`` leaves the cdp coordinates for
    later (they are known only when every header has been read)."""
    import zarr

    ni, nx = grid.shape
    ci, cx, cs = chunk_shape
    group = zarr.open_group(path, mode="w", zarr_format=3, attributes=attrs)
    on_grid = "cdp_x cdp_y trace_mask"

    def array(name, values, dims, chunks, attributes=None, shape=None, dtype=None):
        dtype = np.dtype(dtype or values.dtype)
        fill = np.nan if dtype.kind == "f" else False if dtype.kind == "b" else 0
        attributes = dict(attributes or {})
        if dtype.kind == "f":
            attributes["_FillValue"] = _NAN_FILL
        a = group.create_array(name, shape=shape or values.shape, dtype=dtype, chunks=chunks, fill_value=fill,
                               dimension_names=dims, attributes=attributes,
                               compressors=AMPLITUDE_COMPRESSORS if name == "data" else "auto")
        if values is not None:
            a[...] = values

    dims = ("inline", "crossline")
    array("inline", grid.inline, ("inline",), (ni,))
    array("crossline", grid.crossline, ("crossline",), (nx,))
    array("sample", layout.sample_axis(), ("sample",), (layout.samples,), sample_attrs)
    array("data", None, dims + ("sample",), chunk_shape, {"coordinates": on_grid},
          shape=(ni, nx, layout.samples), dtype=np.float32)
    for name, values in (("cdp_x", grid.cdp_x), ("cdp_y", grid.cdp_y)):
        array(name, values if coordinates else None, dims, (ci, cx), shape=(ni, nx), dtype=np.float64)
    array("trace_mask", None, dims, (ci, cx), shape=(ni, nx), dtype=bool)
    if keep_headers:
        array("trace_header", None, dims + ("header_byte",), (ci, cx, 240),
              {"description": "raw 240-byte SEG-Y trace headers, file byte order", "coordinates": on_grid},
              shape=(ni, nx, 240), dtype=np.uint8)
        array("trace_order", grid.trace_index.astype(np.int32, copy=False), dims, (ci, cx),
              {"description": "0-based position of the trace in the SEG-Y file, -1 where none",
               "coordinates": on_grid})


# ---------------------------------------------------------------- import

#: units of the sample axis in each domain
SAMPLE_UNITS = {"time": "ms", "depth": "m"}


def import_segy(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    iline: int = 189,
    xline: int = 193,
    cdp_x: int = 181,
    cdp_y: int = 185,
    chunks: tuple[int, int, int] | None = None,
    overwrite: bool = False,
    progress=None,
    keep_headers: bool = True,
    domain: str = "time",
) -> dict:
    """Import a post-stack 3D (or 2D line) SEG-Y file as a volume at ``dst`` (``.zarr``).

    Parameters
    ----------
    src : SEG-Y file (rev 0/1/2, either byte order, sample formats of
        :mod:`aaspi_py.io.segy_formats`)
    dst : volume directory to create; written under a temporary sibling name and renamed
        when complete (an existing volume is replaced only with ``overwrite=True``)
    iline, xline, cdp_x, cdp_y : 1-based trace header bytes of the inline and crossline
        numbers and of the cdp coordinates (the coordinate scalar is byte 71)
    chunks : zarr chunk shape (inline, crossline, sample); default
        :data:`aaspi_py.volume.DEFAULT_CHUNKS`, narrowed for very long traces
    progress : object with ``update(fraction, status)`` and ``check()``
    keep_headers : keep every raw trace header and the trace order, so export writes the
        file back byte for byte
    domain : "time" (sample axis in ms) or "depth" (in m: the header's sample interval and
        delay are read as mm and m, as depth SEG-Y files store them; export writes them back)

    Returns
    -------
    report : dict with ``summary`` (lines for the user) and figures (shape, traces, live,
        dead, missing, seconds, mb_per_s)
    """
    t_start = time.perf_counter()
    if domain not in SAMPLE_UNITS:
        raise AaspiError(f"Unknown sample domain {domain!r}; use 'time' (ms) or 'depth' (m).")
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise AaspiError(f"{dst} already exists; pass --overwrite (overwrite=True) to replace it.")
    progress = progress if progress is not None else Progress()
    layout = read_layout(src)
    attrs = {
        "kind": "amplitude",
        "source": src.name,
        "segy_source": str(src.resolve()),
        "segy_textual_header": _b64(layout.textual),
        "segy_extended_textual_headers": _b64(layout.extended),
        "segy_binary_header": _b64(layout.binary),
        "segy_text": textual_to_str(layout.textual),
        "segy_format": layout.format,
        "segy_endian": layout.endian,
        "segy_bytes": {"iline": iline, "xline": xline, "cdp_x": cdp_x, "cdp_y": cdp_y},
        "segy_trace_count": layout.traces,
    }
    if keep_headers:
        attrs["segy_headers_id"] = uuid.uuid4().hex
    dst.parent.mkdir(parents=True, exist_ok=True)
    from aaspi_py.framework.volume_files import commit_path, remove_path, temporary_path

    def write_skeleton(grid: Grid, chunk_shape) -> None:
        """The volume's metadata and small coordinates; the placeholders are never computed."""
        ds, encoding = _skeleton(layout, grid, chunk_shape, keep_headers, {**attrs, "segy_sorting": grid.sorting})
        ds["sample"].attrs.update(domain=domain, units=SAMPLE_UNITS[domain])
        ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=False, encoding=encoding, compute=False)

    streamed = None
    for byte, what in ((iline, "the inline number"), (xline, "the crossline number"),
                       (cdp_x, "cdp_x"), (cdp_y, "cdp_y")):
        check_field(byte, what)
    prediction = predict_grid(layout, iline, xline) if ONE_PASS else None
    if prediction is not None:  # one pass (see aaspi_py.io.segy_stream)
        chunk_shape = _chunks((*prediction.shape, layout.samples), chunks, _bytes_per_trace(layout))
        tmp = temporary_path(dst)
        try:
            sample_attrs = {"domain": domain, "units": SAMPLE_UNITS[domain]}
            streamed = stream_import(layout, prediction, chunk_shape, tmp,
                                     lambda grid: _skeleton_zarr(tmp, layout, grid, chunk_shape, keep_headers,
                                                                 {**attrs, "segy_sorting": grid.sorting},
                                                                 sample_attrs, coordinates=False),
                                     keep_headers,
                                     progress, iline=iline, xline=xline, cdp_x=cdp_x, cdp_y=cdp_y)
            if streamed is not None:
                progress.check()
                commit_path(tmp, dst, overwrite=overwrite)
        except BaseException:
            remove_path(tmp)
            raise
    if streamed is not None:
        grid, live = streamed
    else:
        # the general case: a header pass builds the grid, then the traces are placed on it
        keys = scan_headers(layout, iline=iline, xline=xline, cdp_x=cdp_x, cdp_y=cdp_y,
                            progress=progress.sub(0.0, 0.1))
        grid = build_grid(layout, keys, iline=iline, xline=xline)
        del keys
        chunk_shape = _chunks((*grid.shape, layout.samples), chunks, _bytes_per_trace(layout))
        tmp = temporary_path(dst)
        try:
            write_skeleton(grid, chunk_shape)
            live = _stream(layout, grid, chunk_shape, tmp, keep_headers, progress.sub(0.1, 1.0))
            progress.check()
            commit_path(tmp, dst, overwrite=overwrite)
        except BaseException:
            remove_path(tmp)
            raise
    seconds = time.perf_counter() - t_start
    report = _report(src, layout, grid, live, chunk_shape, seconds)
    if domain == "depth":
        report["summary"][0] = report["summary"][0].replace(" ms", " m")
    report["domain"] = domain
    return report


def _report(src: Path, layout: SegyLayout, grid: Grid, n_live: int, chunk_shape, seconds: float) -> dict:
    ni, nx = grid.shape
    dead = layout.traces - n_live
    missing = ni * nx - layout.traces
    samples = layout.sample_axis()
    size = src.stat().st_size
    il, xl = grid.inline, grid.crossline

    def n(count: int, word: str) -> str:
        return f"{count} {word}" + ("" if count == 1 else "s")

    def span(axis):
        step = int(axis[1] - axis[0]) if axis.size > 1 else 0
        return f"{axis[0]}..{axis[-1]}" + (f" step {step}" if abs(step) > 1 or step < 0 else "")

    summary = [
        f"imported {src.name}: {n(ni, 'inline')} ({span(il)}) x {n(nx, 'crossline')} ({span(xl)}) x "
        f"{n(layout.samples, 'sample')} ({samples[0]:g}..{samples[-1]:g} ms every {layout.interval:g} ms)",
        f"{n(layout.traces, 'trace')} ({grid.sorting} order), {n_live} live, {dead} dead (all zero, masked), "
        f"{n(missing, 'grid position')} without a trace; {layout.describe_format()}",
        *layout.notes,
        *[n for n in grid.notes if not n.endswith("(masked)")],
    ]
    if layout.format not in EXACT_IN_FLOAT32:
        summary.append(f"samples of {format_name(layout.format)} are stored as float32 "
                       f"(exact up to 2**24 in magnitude)")
    summary.append(f"{size / 1e6:.3g} MB in {seconds:.2g} s ({size / 1e6 / max(seconds, 1e-9):.3g} MB/s), "
                   f"chunks {tuple(chunk_shape)}")
    return {
        "summary": summary,
        "source": str(src),
        "shape": [ni, nx, layout.samples],
        "inline": [int(il[0]), int(il[-1])],
        "crossline": [int(xl[0]), int(xl[-1])],
        "traces": layout.traces,
        "live": n_live,
        "dead": dead,
        "missing": missing,
        "format": layout.format,
        "endian": layout.endian,
        "sorting": grid.sorting,
        "seconds": round(seconds, 3),
        "mb_per_s": round(size / 1e6 / max(seconds, 1e-9), 1),
    }
