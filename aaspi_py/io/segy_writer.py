"""Volume -> SEG-Y file (:func:`export_segy`), streaming one block of traces at a time.

A reader thread loads the next block (zarr samples and raw trace headers) while this one is
encoded and written, and each written block is handed to the disk at once (instead of the
kernel holding it back until the end), so the export runs at the speed of the slower of
reading the volume and writing the file. The samples are encoded here rather than through
segyio, which cannot write the raw trace headers a byte-identical export needs (see
``benches/segy_ingest.py`` for the speeds).

Which headers, which sample format, which traces:

1. **The imported volume itself** (it holds ``trace_header`` and ``trace_order``): the
   original textual, extended textual and binary headers, every raw trace header, the
   original sample format and byte order, the traces in their original order. For data
   that was not changed the file is identical to the one imported (formats 1, 3, 5, 8, 11
   and 16 always; the others when their values are float32-exact).
2. **A volume on an imported geometry** (a module output: it carries the source's
   ``segy_headers_id``): the headers of that source volume (found among the volumes in the
   same folder), the same traces in the same order, but the samples as 4-byte IEEE float
   (format 5) — or 2-byte integers (format 3) for classification and facies volumes, which
   hold int16 — since a filtered or classified volume is not an IBM or integer amplitude
   any more. The binary header's format code is changed to match.
3. **Any other volume** (synthetic, or imported with ``keep_headers=False``): textual and
   binary headers from the volume's attributes when it has them, else generated; trace
   headers generated with the inline/crossline/cdp numbers at the byte locations the
   volume was imported with (default 189/193/181/185), sample count and interval, delay
   time; format 5 or 3 as in 2. Every grid position is written, in inline order, so the
   file is a full regular cube any reader opens; traces where ``trace_mask`` is False
   are written as zeros with trace identification code 2 (dead).

Missing traces of an imported survey (holes in the grid) are not written in cases 1 and 2:
the file has the same traces as the survey it came from.
"""

from __future__ import annotations

import base64
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress
from aaspi_py.io.segy_formats import encode, format_name, sample_dtype
from aaspi_py.io.segy_layout import (
    COORD_SCALAR,
    DELAY,
    SAMPLE_COUNT,
    SAMPLE_INTERVAL,
    SEQ_FILE,
    SEQ_LINE,
    TEXT_SIZE,
    TIME_SCALAR,
    TRACE_ID,
    put_field,
)
from aaspi_py.volume import INT_KINDS, commit_path, open_volume, remove_path, temporary_path

DEFAULT_BYTES = {"iline": 189, "xline": 193, "cdp_x": 181, "cdp_y": 185}
BLOCK_TRACES = 4096  # traces encoded and written per step


@dataclass
class _Plan:
    mode: str  # 'source', 'reuse' or 'generated'
    textual: bytes
    extended: bytes
    binary: bytes
    endian: str
    format: int
    headers: Any  # raw trace headers (inline, crossline, 240): zarr array or DataArray
    order: np.ndarray | None  # position in the file (inline, crossline), -1 none
    traces: int
    origin: str  # one line for the report


def _unb64(value) -> bytes:
    return base64.b64decode(value) if value else b""


def _find_header_source(ds: xr.Dataset, folder: Path) -> xr.Dataset | None:
    """The imported volume in ``folder`` whose raw headers this volume's geometry came from."""
    hid = ds.attrs.get("segy_headers_id")
    if not hid or not folder.is_dir():
        return None
    for cand in sorted(folder.glob("*.zarr")):
        try:
            meta = json.loads((cand / "zarr.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("attributes", {}).get("segy_headers_id") != hid or not (cand / "trace_header").is_dir():
            continue
        other = open_volume(cand)
        other.encoding["aaspi_path"] = str(cand)
        if (other["data"].shape == ds["data"].shape
                and np.array_equal(other["inline"].values, ds["inline"].values)
                and np.array_equal(other["crossline"].values, ds["crossline"].values)):
            return other
    return None


def _raw_headers(ds: xr.Dataset) -> Any:
    """The volume's raw trace headers as its zarr array when it is on disk (read block by
    block without building a dask graph per block), else the DataArray."""
    import zarr

    path = ds.encoding.get("aaspi_path")
    if path is not None:
        try:
            return zarr.open_array(Path(path) / "trace_header", mode="r")
        except Exception:  # noqa: BLE001 - not a plain zarr folder: read through xarray
            pass
    return ds["trace_header"]


def _plan(ds: xr.Dataset, folder: Path | None) -> _Plan:
    attrs = ds.attrs
    endian = attrs.get("segy_endian", "big")
    out_format = 3 if attrs.get("kind") in INT_KINDS else 5
    textual = _unb64(attrs.get("segy_textual_header"))
    extended = _unb64(attrs.get("segy_extended_textual_headers"))
    binary = _unb64(attrs.get("segy_binary_header"))
    if "trace_header" in ds and "trace_order" in ds and binary:
        return _Plan("source", textual, extended, binary, endian, int(attrs["segy_format"]),
                     _raw_headers(ds), np.asarray(ds["trace_order"].values), int(attrs["segy_trace_count"]),
                     "headers, sample format and trace order of the imported SEG-Y")
    source = _find_header_source(ds, folder) if folder is not None else None
    if source is not None:
        sa = source.attrs
        binary = _patch_binary(_unb64(sa["segy_binary_header"]), sa.get("segy_endian", "big"),
                               out_format, None, None)
        return _Plan("reuse", _unb64(sa["segy_textual_header"]), _unb64(sa.get("segy_extended_textual_headers")),
                     binary, sa.get("segy_endian", "big"), out_format, _raw_headers(source),
                     np.asarray(source["trace_order"].values), int(sa["segy_trace_count"]),
                     f"trace headers of the source volume '{source.attrs.get('source', '?')}'")
    ni, nx, ns = ds["data"].shape
    sample = ds["sample"].values
    dt_us = int(round(float(sample[1] - sample[0]) * 1000)) if ns > 1 else 4000
    if binary:
        binary = _patch_binary(binary, endian, out_format, ns, dt_us, extended=len(extended) // TEXT_SIZE)
    else:
        endian, extended = "big", b""
        binary = _patch_binary(bytes(400), endian, out_format, ns, dt_us, extended=0, new=True)
    if not textual:
        textual = _generated_textual(ds)
    return _Plan("generated", textual, extended, binary, endian, out_format, None, None, ni * nx,
                 "generated trace headers (inline/crossline/cdp at bytes "
                 + "/".join(str(b) for b in _bytes(ds).values()) + ")")


def _bytes(ds: xr.Dataset) -> dict[str, int]:
    used = dict(DEFAULT_BYTES)
    used.update({k: int(v) for k, v in (ds.attrs.get("segy_bytes") or {}).items() if k in used})
    return used


def _patch_binary(binary: bytes, endian: str, fmt: int, ns: int | None, dt_us: int | None, *,
                  extended: int | None = None, new: bool = False) -> bytes:
    b = bytearray(binary)

    def put(offset: int, size: int, value: int, signed: bool = True) -> None:
        b[offset:offset + size] = int(value).to_bytes(size, endian, signed=signed)

    put(24, 2, fmt)
    if ns is not None:
        put(20, 2, ns, signed=False)
    if dt_us is not None:
        put(16, 2, dt_us)
    if extended is not None:
        put(304, 2, extended)
    if new:
        put(28, 2, 4)  # trace sorting: horizontally stacked
        b[300], b[301] = 1, 0  # SEG-Y rev 1.0
        put(302, 2, 1)  # fixed length traces
    return bytes(b)


def _generated_textual(ds: xr.Dataset) -> bytes:
    il, xl, s = ds["inline"].values, ds["crossline"].values, ds["sample"].values
    used = _bytes(ds)
    lines = [
        "aaspi_py volume written as SEG-Y",
        f"kind {ds.attrs.get('kind', 'attribute')}" + (f", made by {ds.attrs['module']}" if "module" in ds.attrs else ""),
        f"inlines {il[0]}..{il[-1]} ({il.size}), crosslines {xl[0]}..{xl[-1]} ({xl.size})",
        f"samples {s.size}, first {s[0]:g} {ds['sample'].attrs.get('units', 'ms')}, "
        f"interval {(s[1] - s[0]) if s.size > 1 else 0:g}",
        f"inline bytes {used['iline']}, crossline {used['xline']}, cdp x {used['cdp_x']}, cdp y {used['cdp_y']}",
        "dead or masked traces: zeros, trace identification code 2",
    ]
    cards = [f"C{i + 1:2d} {lines[i] if i < len(lines) else ''}"[:80].ljust(80) for i in range(39)]
    cards.append("C40 END TEXTUAL HEADER".ljust(80))
    return "".join(cards).encode("cp037")


# ---------------------------------------------------------------- generated trace headers

def _coordinate_scalar(values: np.ndarray) -> int:
    """Smallest power-of-ten scalar that stores the coordinates exactly enough in int32."""
    v = values[np.isfinite(values)]
    big = float(np.abs(v).max()) if v.size else 0.0
    for scale in (1, 10, 100, 1000):
        if big * scale >= 2**31 - 1:
            return -max(1, scale // 10) if scale > 1 else 1
        if np.allclose(v * scale, np.rint(v * scale), rtol=0, atol=1e-6 * scale):
            return -scale if scale > 1 else 1
    return -1000


def _time_scalar(t0: float) -> tuple[int, int]:
    """(delay, scalar) for byte 109/215 so that delay x |scalar| or / |scalar| gives t0."""
    for p in (1, 10, 100, 1000):
        v = t0 * p
        if abs(v - round(v)) < 1e-6 and abs(v) < 32768:
            return int(round(v)), (-p if p > 1 else 0)
    return int(round(t0)), 0


def _generated_headers(ds: xr.Dataset, i0: int, i1: int, x0: int, x1: int,
                       live: np.ndarray, endian: str, scalars: tuple[int, int, int]) -> np.ndarray:
    """Trace headers of the block [i0:i1, x0:x1] of a volume written in inline order."""
    ni, nx = i1 - i0, x1 - x0
    used = _bytes(ds)
    h = np.zeros((ni * nx, 240), np.uint8)
    ii, jj = np.divmod(np.arange(ni * nx), nx)
    seq = (i0 + ii) * ds.sizes["crossline"] + x0 + jj + 1
    coord_scalar, delay, time_scalar = scalars
    factor = float(coord_scalar) if coord_scalar > 0 else 1.0 / -coord_scalar if coord_scalar < 0 else 1.0
    s = ds["sample"].values
    fields = {
        SEQ_LINE: jj + x0 + 1,
        SEQ_FILE: seq,
        TRACE_ID: np.where(live.ravel(), 1, 2),
        COORD_SCALAR: coord_scalar,
        DELAY: delay,
        SAMPLE_COUNT: s.size,
        SAMPLE_INTERVAL: int(round(float(s[1] - s[0]) * 1000)) if s.size > 1 else 4000,
        TIME_SCALAR: time_scalar,
        used["iline"]: ds["inline"].values[i0:i1][ii],
        used["xline"]: ds["crossline"].values[x0:x1][jj],
        used["cdp_x"]: np.rint(ds["cdp_x"].values[i0:i1, x0:x1].ravel() / factor),
        used["cdp_y"]: np.rint(ds["cdp_y"].values[i0:i1, x0:x1].ravel() / factor),
    }
    for byte, value in fields.items():
        put_field(h, byte, np.asarray(value).astype(np.int64), endian)
    return h


# ---------------------------------------------------------------- export

def export_segy(src, dst: str | os.PathLike, *, overwrite: bool = False, progress=None) -> dict:
    """Write a volume (path or Dataset) to a SEG-Y file; see the module docstring for the rules.

    The file is written under a temporary sibling name and renamed when complete; an
    existing file is replaced only with ``overwrite=True``. Memory is bounded: one block of
    at most :data:`BLOCK_TRACES` traces is encoded at a time.

    Returns
    -------
    report : dict with ``summary`` lines, ``traces``, ``format``, ``endian``, ``headers``
    """
    t_start = time.perf_counter()
    dst = Path(dst)
    if dst.exists() and not overwrite:
        raise AaspiError(f"{dst} already exists; pass --overwrite (overwrite=True) to replace it.")
    progress = progress if progress is not None else Progress()
    if isinstance(src, xr.Dataset):
        ds, folder = src, None
    else:
        ds, folder = open_volume(src), Path(src).resolve().parent
        ds.encoding["aaspi_path"] = str(src)
    plan = _plan(ds, folder)
    chunks = _DirectChunks.of(Path(src) / "data") if folder is not None else None
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(dst)
    try:
        written = _write(ds, plan, tmp, progress, chunks)
        commit_path(tmp, dst, overwrite=overwrite)
    except BaseException:
        remove_path(tmp)
        raise
    ns = ds.sizes["sample"]
    seconds = time.perf_counter() - t_start
    summary = [
        f"wrote {dst.name}: {written} traces x {ns} samples, format {plan.format} "
        f"({format_name(plan.format)}), {plan.endian}-endian, {seconds:.1f} s",
        f"headers: {plan.origin}",
    ]
    return {"summary": summary, "path": str(dst), "traces": written, "format": plan.format,
            "endian": plan.endian, "headers": plan.mode, "seconds": round(seconds, 3)}


def start_writeback(paths, fd: int | None = None, offset: int = 0, length: int = 0) -> None:
    """Have the kernel start writing these files (or this range of ``fd``) to disk now.

    Linux keeps up to a tenth of RAM of written data in memory before writing any of it, so
    a long write would otherwise leave gigabytes for the final flush; handing each finished
    piece over at once lets the disk write while the next piece is prepared.
    ``POSIX_FADV_DONTNEED`` starts the write without waiting for it (and then drops the
    pages already clean). A no-op where ``posix_fadvise`` does not exist.
    """
    if not hasattr(os, "posix_fadvise"):
        return
    if fd is not None:
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    for path in paths:
        try:
            handle = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # a chunk zarr did not write (all fill value)
        try:
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(handle)


class _DirectChunks:
    """The volume's amplitude read straight from its plain chunk files (see
    :mod:`aaspi_py.io.segy_chunks`) into two block buffers used in turn: one being read by the
    reader thread while the other is encoded and written."""

    def __init__(self, root: Path, chunk_shape: tuple[int, int, int], samples: int):
        self.root, self.chunk_shape, self.samples = root, chunk_shape, samples
        self.buffers: list[np.ndarray | None] = [None, None]
        self.turn = 0

    @classmethod
    def of(cls, root: Path) -> _DirectChunks | None:
        import zarr

        from aaspi_py.framework.chunk_files import plain_chunks

        try:
            array = zarr.open_array(root, mode="r")
        except Exception:  # noqa: BLE001 - not a plain zarr array: read through xarray
            return None
        if not plain_chunks(array):
            return None
        return cls(root, tuple(array.metadata.chunk_grid.chunk_shape), array.shape[2])

    def read(self, i0: int, i1: int, x0: int, x1: int) -> np.ndarray:
        """Samples of the block as (traces, pieces, chunk samples), a view of a buffer that
        stays valid until the next-but-one call."""
        from aaspi_py.io.segy_chunks import read_chunk_files

        cs = self.chunk_shape[2]
        npieces = -(-self.samples // cs)
        n = (i1 - i0) * (x1 - x0)
        buf = self.buffers[self.turn]
        if buf is None or buf.size < npieces * n * cs:
            buf = self.buffers[self.turn] = np.empty(npieces * n * cs, np.float32)
        self.turn = 1 - self.turn
        pieces = buf[:npieces * n * cs].reshape(npieces, i1 - i0, x1 - x0, cs)
        read_chunk_files(self.root, i0, x0, pieces, self.chunk_shape)
        return pieces.reshape(npieces, n, cs).transpose(1, 0, 2)


def _write(ds: xr.Dataset, plan: _Plan, path: Path, progress, chunks: _DirectChunks | None = None) -> int:
    ni, nx, ns = ds["data"].shape
    record = np.dtype([("header", np.uint8, (240,)), ("samples", sample_dtype(plan.format, plan.endian), (ns,))])
    size = record.itemsize
    start = len(plan.textual) + len(plan.extended) + len(plan.binary)
    if len(plan.textual) != TEXT_SIZE or len(plan.binary) != 400:
        raise AaspiError("The volume's SEG-Y textual/binary headers are damaged (wrong length); "
                         "re-import the SEG-Y file.")
    scalars = None
    if plan.mode == "generated":
        cx_, cy_ = ds["cdp_x"].values, ds["cdp_y"].values
        delay, tscalar = _time_scalar(float(ds["sample"].values[0]))
        scalars = (_coordinate_scalar(np.concatenate([cx_.ravel(), cy_.ravel()])), delay, tscalar)
    i_edges, x_edges = _block_edges(ds)
    blocks = [(i0, i1, x0, x1) for i0, i1 in zip(i_edges[:-1], i_edges[1:])
              for x0, x1 in zip(x_edges[:-1], x_edges[1:])]
    written = done = 0
    records = _Records(record)
    with open(path, "wb") as f, ThreadPoolExecutor(1, thread_name_prefix="segy-export-reader") as reader:
        f.write(plan.textual + plan.binary + plan.extended)
        f.truncate(start + plan.traces * size)
        pending = reader.submit(_read_block, ds, plan, blocks[0], scalars, chunks) if blocks else None
        for k, block in enumerate(blocks):
            order, headers, data = pending.result()
            # the next block is read while this one is encoded and written
            pending = (reader.submit(_read_block, ds, plan, blocks[k + 1], scalars, chunks)
                       if k + 1 < len(blocks) else None)
            span = _write_traces(f, start, size, records, order, headers, data, plan)
            written += span[0]
            if span[0]:
                f.flush()
                start_writeback((), f.fileno(), start + span[1] * size, (span[2] - span[1]) * size)
            i0, i1, x0, x1 = block
            done += (i1 - i0) * (x1 - x0)
            progress.update(done / (ni * nx), "writing SEG-Y traces")
            try:
                progress.check()
            except BaseException:
                if pending is not None:
                    pending.cancel()
                raise
    if written != plan.traces:
        raise AaspiError(f"Export wrote {written} traces but the source SEG-Y had {plan.traces}; the volume's "
                         f"trace_order does not match its headers — re-import the SEG-Y file.")
    return written


def _read_block(ds: xr.Dataset, plan: _Plan, block: tuple[int, int, int, int], scalars,
                chunks: _DirectChunks | None = None):
    """Trace positions in the file, raw headers and float32 samples of one grid block; the
    samples as (traces, samples), or (traces, pieces, chunk samples) from plain chunk files."""
    i0, i1, x0, x1 = block
    ns = ds.sizes["sample"]
    nx = ds.sizes["crossline"]
    if chunks is not None and plan.mode != "generated":
        data = chunks.read(i0, i1, x0, x1)
    else:
        data = np.asarray(ds["data"][i0:i1, x0:x1].values).reshape(-1, ns)
    if plan.mode == "generated":
        order = (np.arange(i0, i1)[:, None] * nx + np.arange(x0, x1)[None, :]).ravel()
        live = np.asarray(ds["trace_mask"][i0:i1, x0:x1].values)
        headers = _generated_headers(ds, i0, i1, x0, x1, live, plan.endian, scalars)
        data = np.where(live.reshape(-1, 1), data, 0)
    else:
        order = plan.order[i0:i1, x0:x1].ravel().astype(np.int64)
        part = plan.headers[i0:i1, x0:x1]
        headers = np.asarray(getattr(part, "values", part)).reshape(-1, 240)
    return order, headers, data


class _Records:
    """A reusable array of SEG-Y trace records (fresh memory costs a page fault a page)."""

    def __init__(self, record: np.dtype):
        self.record, self.array = record, np.empty(0, record)

    def take(self, n: int) -> np.ndarray:
        if self.array.size < n:
            self.array = np.empty(n, self.record)
        return self.array[:n]


def _put_samples(samples: np.ndarray, data: np.ndarray, plan: _Plan) -> None:
    """Encode float32 traces into the records' sample field, (traces, samples) or
    (traces, pieces, chunk samples) as read from chunk files."""
    if data.ndim == 2:
        samples[...] = encode(data, plan.format, plan.endian)
        return
    m, ns = samples.shape
    cs = data.shape[2]
    full = ns // cs
    target = samples if plan.format in (5, 6) else np.empty((m, ns), np.float32)
    # float formats take the values as they are (the assignment swaps bytes); the others go
    # through encode (IBM, integer rounding and clipping)
    if full:
        view = target[:, :full * cs].reshape(m, full, cs)
        assert np.shares_memory(view, target)  # a view, so the assignment lands in the records
        view[...] = data[:, :full]
    if full * cs < ns:
        target[:, full * cs:] = data[:, full, :ns - full * cs]
    if target is not samples:
        samples[...] = encode(target, plan.format, plan.endian)


def _block_edges(ds: xr.Dataset) -> tuple[list[int], list[int]]:
    """Blocks of whole zarr chunk columns (so no chunk is decompressed twice), about
    BLOCK_TRACES traces each."""
    ni, nx = ds.sizes["inline"], ds.sizes["crossline"]
    chunks = ds["data"].chunks
    ci = int(chunks[0][0]) if chunks else max(1, BLOCK_TRACES // max(1, nx))
    cx = int(chunks[1][0]) if chunks else nx
    ki = max(1, BLOCK_TRACES // max(1, ci * nx)) if cx >= nx else 1
    kx = max(1, BLOCK_TRACES // max(1, ci * cx)) if cx < nx else 1
    return (list(range(0, ni, ci * ki)) + [ni], list(range(0, nx, cx * kx)) + [nx])


def _write_traces(f, start: int, size: int, records: _Records, order: np.ndarray, headers: np.ndarray,
                  data: np.ndarray, plan: _Plan) -> tuple[int, int, int]:
    """Write the traces of one block at their places in the file; returns the number of
    traces and the first and past-the-last trace position written."""
    keep = np.flatnonzero(order >= 0)
    keep = keep[np.argsort(order[keep], kind="stable")]
    traces = order[keep]
    if traces.size == 0:
        return 0, 0, 0
    rec = records.take(traces.size)
    in_order = keep.size == order.size and bool(np.all(keep == np.arange(keep.size)))
    rec["header"] = headers if in_order else headers[keep]
    _put_samples(rec["samples"], data if in_order else data[keep], plan)
    raw = memoryview(rec.view(np.uint8))
    breaks = np.flatnonzero(np.diff(traces) != 1) + 1
    for a, b in zip(np.r_[0, breaks].tolist(), np.r_[breaks, traces.size].tolist()):
        f.seek(start + int(traces[a]) * size)
        f.write(raw[a * size:b * size])
    return int(traces.size), int(traces[0]), int(traces[-1]) + 1

