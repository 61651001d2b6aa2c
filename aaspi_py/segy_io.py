"""SEG-Y -> volume (:func:`import_segy`) and volume -> SEG-Y (:func:`export_segy`).

Import streams the file in two passes with bounded memory:

1. the trace headers, block by block (:mod:`aaspi_py.segy_geometry`), to build the grid;
2. the traces, as dask tasks that each read the traces of one block of whole zarr chunk
   columns (all samples of ``ci x k*cx`` traces, at most :data:`BLOCK_BYTES` of file, runs
   of consecutive traces in one read each), decode them through numpy views of the file's
   record layout (240-byte header + samples; IBM floats in one compiled pass) and write
   data, trace mask and raw headers into their own zarr region. Blocks never share a zarr
   chunk, so parallel writers never collide; a task returns only its live-trace count, so
   the scheduler never holds trace data. Progress and cancel are checked between tasks.

Memory: two reusable buffers of :data:`BLOCK_BYTES` per worker thread, plus about 40 bytes
per trace for the geometry (line numbers, cdp coordinates, trace order).

Amplitudes are stored uncompressed (:data:`AMPLITUDE_COMPRESSORS`): lossless codecs save
8-19 % on seismic-like floats for about twice the CPU of the write itself; the raw trace
headers use zarr's default zstd, which shrinks them 10-35 fold.

What the volume keeps, so export can write the file back byte for byte:

- attrs ``segy_textual_header``, ``segy_extended_textual_headers``,
  ``segy_binary_header`` (raw bytes, base64), ``segy_format``, ``segy_endian``,
  ``segy_bytes`` (the byte locations used), ``segy_sorting``, ``segy_headers_id``;
- with ``keep_headers=True`` (default): variable ``trace_header`` (uint8, dims inline,
  crossline, header_byte) with every raw 240-byte trace header, and ``trace_order``
  (int32, position of each trace in the file, -1 where the grid has no trace).

Export rules (see :mod:`aaspi_py.segy_writer`): the imported volume itself is written in
its original sample format, byte order and trace order with its raw headers (identical
file for unchanged data); a module output on that geometry reuses those headers and is
written as IEEE float (format 5), or 2-byte integers (format 3) for classes; a volume
without SEG-Y headers gets generated ones.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AaspiError
from .progress import Progress
from .segy_formats import EXACT_IN_FLOAT32, decode, format_name
from .segy_geometry import Grid, build_grid, scan_headers
from .segy_layout import SegyLayout, read_layout, textual_to_str
from .segy_writer import export_segy
from .volume import DEFAULT_CHUNKS, commit_path, remove_path, temporary_path

__all__ = ["import_segy", "export_segy", "read_block", "BLOCK_BYTES"]

#: bytes of file read by one import task (whole traces of whole chunk columns)
BLOCK_BYTES = 64 << 20
#: zarr codecs of the imported amplitude: see benches/segy_ingest.py for the measurements
AMPLITUDE_COMPRESSORS = None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# ---------------------------------------------------------------- reading traces

def _read_exact(f, offset: int, view: memoryview) -> None:
    f.seek(offset)
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise AaspiError(f"{f.name}: the file ended early at byte {offset + got}; it was truncated while importing.")
        got += n


_buffers: dict[tuple[int, str], np.ndarray] = {}


def _buffer(nbytes: int, kind: str) -> np.ndarray:
    """A per-thread buffer, reused between blocks (fresh pages cost a fault each);
    released by :func:`_release_buffers` when the import ends."""
    key = (threading.get_ident(), kind)
    buf = _buffers.get(key)
    if buf is None or buf.size < nbytes:
        buf = _buffers[key] = np.empty(nbytes, np.uint8)
    return buf[:nbytes]


def _release_buffers() -> None:
    _buffers.clear()


def read_block(layout: SegyLayout, trace_index: np.ndarray, keep_headers: bool = True, *, reuse: bool = False):
    """Read and decode the traces of one grid block.

    Parameters
    ----------
    layout : the file's layout
    trace_index : int array of shape (ni, nx): position of each trace in the file, -1 for none
    reuse : decode into this thread's reusable buffer (valid until the thread's next block)

    Returns
    -------
    data : float32 array of shape (ni, nx, samples), zeros where there is no trace
    live : bool array of shape (ni, nx): the trace exists and is not all zeros
    headers : uint8 array of shape (ni, nx, 240) (raw trace headers, zeros where no
        trace) or None when ``keep_headers`` is False
    """
    ni, nx = trace_index.shape
    ns = layout.samples
    flat = trace_index.ravel()
    live = np.flatnonzero(flat >= 0)
    order = np.argsort(flat[live], kind="stable")
    pos, traces = live[order], flat[live][order]
    size = layout.trace_size
    raw = _buffer(traces.size * size, "raw")
    view = memoryview(raw)
    # runs of consecutive traces in the file are read with one call each
    breaks = np.flatnonzero(np.diff(traces) != 1) + 1
    starts, stops = np.r_[0, breaks], np.r_[breaks, traces.size]
    with open(layout.path, "rb", buffering=0) as f:
        for a, b in zip(starts.tolist(), stops.tolist()):
            _read_exact(f, layout.data_start + int(traces[a]) * size, view[a * size:b * size])
    records = raw.view(layout.record_dtype)
    if reuse:
        data = _buffer(ni * nx * ns * 4, "data").view(np.float32).reshape(ni * nx, ns)
    else:
        data = np.empty((ni * nx, ns), np.float32)
    if traces.size == flat.size and np.array_equal(pos, np.arange(flat.size)):
        _decode(raw, records, layout, data)  # already in grid order
    else:
        data[...] = 0
        data[pos] = _decode(raw, records, layout, np.empty((traces.size, ns), np.float32))
    alive = data.any(axis=1)
    headers = None
    if keep_headers:
        headers = np.zeros((ni * nx, 240), np.uint8)
        headers[pos] = records["header"]
        headers = headers.reshape(ni, nx, 240)
    return data.reshape(ni, nx, ns), alive.reshape(ni, nx), headers


def _decode(raw: np.ndarray, records: np.ndarray, layout: SegyLayout, out: np.ndarray) -> np.ndarray:
    """Samples of raw records -> float32 ``out`` (n_traces, samples)."""
    if layout.format == 1 and out.size:  # IBM: one compiled pass instead of a dozen numpy ones
        from .segy_kernels import ibm_records_to_float32

        words = raw.view(np.uint32).reshape(records.size, layout.trace_size // 4)[:, 60:60 + layout.samples]
        return ibm_records_to_float32(words, layout.endian == "big", out)
    return decode(records["samples"], layout.format, out=out)


def write_block(layout: SegyLayout, trace_index: np.ndarray, origin: tuple[int, int], path: str,
                keep_headers: bool) -> int:
    """Read one block of traces and write it into the volume at ``path``; returns the live
    trace count. Blocks are unions of whole zarr chunks, so writers never share a chunk."""
    import zarr

    data, alive, headers = read_block(layout, trace_index, keep_headers, reuse=True)
    i0, x0 = origin
    i1, x1 = i0 + alive.shape[0], x0 + alive.shape[1]
    root = Path(path)
    zarr.open_array(root / "data", mode="r+")[i0:i1, x0:x1, :] = data
    zarr.open_array(root / "trace_mask", mode="r+")[i0:i1, x0:x1] = alive
    if headers is not None:
        zarr.open_array(root / "trace_header", mode="r+")[i0:i1, x0:x1, :] = headers
    return int(alive.sum())


# ---------------------------------------------------------------- dataset

def _chunks(shape: tuple[int, int, int], chunks, trace_size: int) -> tuple[int, int, int]:
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
    block by block by :func:`write_block`), and its zarr encoding."""
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


def _write_tasks(layout: SegyLayout, grid: Grid, chunk_shape, path: Path, keep_headers: bool) -> list:
    import dask

    ni, nx = grid.shape
    bi, bx = _blocks((ni, nx), chunk_shape[0], chunk_shape[1], layout.trace_size)
    token = uuid.uuid4().hex[:8]
    return [
        dask.delayed(write_block, pure=False)(layout, grid.trace_index[i0:i0 + bi, x0:x0 + bx], (i0, x0),
                                              str(path), keep_headers, dask_key_name=f"segy-block-{token}-{i0}-{x0}")
        for i0 in range(0, ni, bi) for x0 in range(0, nx, bx)
    ]


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
        :mod:`aaspi_py.segy_formats`)
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
    from .scheduler import compute

    t_start = time.perf_counter()
    if domain not in SAMPLE_UNITS:
        raise AaspiError(f"Unknown sample domain {domain!r}; use 'time' (ms) or 'depth' (m).")
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise AaspiError(f"{dst} already exists; pass --overwrite (overwrite=True) to replace it.")
    progress = progress if progress is not None else Progress()
    layout = read_layout(src)
    keys = scan_headers(layout, iline=iline, xline=xline, cdp_x=cdp_x, cdp_y=cdp_y,
                        progress=progress.sub(0.0, 0.1))
    grid = build_grid(layout, keys, iline=iline, xline=xline)
    del keys
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
        "segy_sorting": grid.sorting,
        "segy_trace_count": layout.traces,
    }
    if keep_headers:
        attrs["segy_headers_id"] = uuid.uuid4().hex
    chunk_shape = _chunks((*grid.shape, layout.samples), chunks, layout.trace_size)
    ds, encoding = _skeleton(layout, grid, chunk_shape, keep_headers, attrs)
    ds["sample"].attrs.update(domain=domain, units=SAMPLE_UNITS[domain])
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(dst)
    try:
        # metadata and the small coordinates now; the placeholders are never computed
        ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=False, encoding=encoding, compute=False)
        live = sum(compute(*_write_tasks(layout, grid, chunk_shape, tmp, keep_headers),
                           progress=progress.sub(0.1, 1.0), status="importing traces"))
        progress.check()
        commit_path(tmp, dst, overwrite=overwrite)
    except BaseException:
        remove_path(tmp)
        raise
    finally:
        _release_buffers()
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
