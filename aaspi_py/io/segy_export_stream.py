"""One-pass SEG-Y export of an imported volume whose traces filled its grid in inline order.

The mirror of :mod:`aaspi_py.io.segy_stream`: when the volume is an imported SEG-Y itself
(raw trace headers kept), its trace order is the grid in inline order and its amplitude is
stored as plain chunk files, the file is written front to back in batches of whole inlines.
A reader thread reads each chunk file's rows of the batch (one ``preadv`` per chunk file,
the whole group of chunk files read ahead by the kernel), the main thread lays the traces out as SEG-Y records (raw
headers, samples encoded to the file's format and byte order), and a writer thread writes
the batch as one contiguous range. The output is written with ``O_DIRECT`` in whole pages
(the bytes after the last whole page of a batch are carried to the next one; the file is
cut to its size at the end), so the written file is not copied through the page cache and
nothing is left to flush. zarr is the only heavy library it loads (not xarray or dask).

Anything else (a module output, a generated geometry, holes, another trace order, a
compressed amplitude) is exported by :mod:`aaspi_py.io.segy_writer`.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.framework.progress import Progress
from aaspi_py.io.segy_formats import encode, format_name, sample_dtype
from aaspi_py.io.segy_stream import _PAGE, _batches, aligned_empty

#: write the SEG-Y file with O_DIRECT where the file system allows it
DIRECT = True


def _attributes(volume: Path) -> dict | None:
    try:
        return json.loads((volume / "zarr.json").read_text()).get("attributes", {})
    except (OSError, ValueError):
        return None


def plan(volume: Path) -> dict | None:
    """What the one-pass export needs, or None when the volume is not a case for it."""
    attrs = _attributes(volume)
    if not attrs or not attrs.get("segy_binary_header") or not (volume / "trace_header").is_dir() \
            or not (volume / "trace_order").is_dir():
        return None
    import zarr

    from aaspi_py.framework.chunk_files import plain_chunks

    try:
        data = zarr.open_array(volume / "data", mode="r")
        order = zarr.open_array(volume / "trace_order", mode="r")
    except Exception:  # noqa: BLE001 - not a plain volume: the general export says what is wrong
        return None
    if not plain_chunks(data):
        return None
    ni, nx, ns = data.shape
    if int(attrs.get("segy_trace_count", -1)) != ni * nx or order.shape != (ni, nx):
        return None
    if not np.array_equal(order[...], np.arange(ni * nx).reshape(ni, nx)):
        return None
    textual, binary = base64.b64decode(attrs.get("segy_textual_header") or ""), base64.b64decode(attrs["segy_binary_header"])
    if len(textual) != 3200 or len(binary) != 400:
        return None  # damaged: the general export says so
    return {"shape": (ni, nx, ns), "chunks": tuple(data.metadata.chunk_grid.chunk_shape),
            "fill": float(data.metadata.fill_value), "format": int(attrs["segy_format"]),
            "endian": attrs.get("segy_endian", "big"),
            "head": textual + binary + base64.b64decode(attrs.get("segy_extended_textual_headers") or "")}


class _ChunkRows:
    """Rows of the chunk files of one volume, read into block buffers. The files of a chunk
    group are opened together and the kernel is asked to read them all ahead at once
    (``POSIX_FADV_WILLNEED``): rows read one batch at a time would otherwise wait on the disk
    request by request (O_DIRECT reads of that size ran at 30 MB/s)."""

    def __init__(self, root: Path, chunk_shape, npieces: int, ncols: int, fill: float):
        self.root, self.chunk_shape, self.fill = root, chunk_shape, fill
        self.npieces, self.ncols = npieces, ncols
        ci, cx, cs = chunk_shape
        self.sink = memoryview(bytearray(4 * cx * cs))
        self.group, self.fds = -1, {}

    def _open_group(self, g: int) -> None:
        self.close()
        self.group = g
        for b in range(self.ncols):
            for k in range(self.npieces):
                try:
                    fd = os.open(self.root / str(g) / str(b) / str(k), os.O_RDONLY)
                except FileNotFoundError:  # never written: all fill value
                    continue
                if hasattr(os, "posix_fadvise"):
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
                self.fds[(b, k)] = fd

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def read(self, g: int, r0: int, r1: int, c0: int, c1: int, pieces: np.ndarray) -> None:
        """Rows ``r0:r1`` (within chunk group ``g``) of crosslines ``c0:c1`` into
        ``pieces`` (npieces, r1 - r0, c1 - c0, cs)."""
        if g != self.group:
            self._open_group(g)
        ci, cx, cs = self.chunk_shape
        row_bytes = 4 * cx * cs
        for b in range(c0 // cx, -(-c1 // cx)):
            a0, cols = b * cx - c0, min(cx, c1 - b * cx)
            for k in range(pieces.shape[0]):
                fd = self.fds.get((b, k))
                if fd is None:
                    pieces[k, :, a0:a0 + cols] = self.fill
                    continue
                iov: list = []
                for r in range(r1 - r0):
                    iov.append(pieces[k, r, a0:a0 + cols])
                    if cols < cx:
                        iov.append(self.sink[:4 * (cx - cols) * cs])
                if os.preadv(fd, iov, (r0 - g * ci) * row_bytes) != (r1 - r0) * row_bytes:
                    raise AaspiError(f"{self.root / str(g) / str(b) / str(k)} is shorter than a chunk; the "
                                     f"volume is damaged — import the SEG-Y file again.")


class _PageWriter:
    """Writer thread: ranges of whole pages at page offsets (``O_DIRECT`` where allowed;
    ordinary writes where the file system refuses it)."""

    def __init__(self, path: Path, free: queue.Queue):
        self.path, self.free = path, free
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        self.fd, self.direct = -1, False
        if DIRECT and hasattr(os, "O_DIRECT"):
            try:
                self.fd, self.direct = os.open(path, flags | os.O_DIRECT, 0o644), True
            except OSError:
                pass
        if self.fd < 0:
            self.fd = os.open(path, flags, 0o644)
        self.items: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="segy-export-writer", daemon=True)
        self.thread.start()

    def put(self, buffer: np.ndarray, length: int, offset: int) -> None:
        """Write ``buffer[:length]`` at ``offset``; the buffer goes back to ``free`` once written."""
        if self.error is not None:
            raise self.error
        self.items.put((buffer, length, offset))

    def write(self, view, offset: int) -> None:
        done = 0
        while done < len(view):
            try:
                n = os.pwrite(self.fd, view[done:], offset + done)
            except OSError as e:
                if not (self.direct and e.errno == errno.EINVAL):
                    raise
                self.direct = False  # refused here: ordinary writes
                os.close(self.fd)
                self.fd = os.open(self.path, os.O_WRONLY)
                continue
            if n <= 0:
                raise OSError(f"could not write {self.path}")
            done += n

    def _run(self) -> None:
        while (item := self.items.get()) is not None:
            buffer, length, offset = item
            try:
                if self.error is None:
                    self.write(memoryview(buffer)[:length], offset)
            except BaseException as e:  # noqa: BLE001 - handed to the encoding thread
                self.error = e
            finally:
                self.free.put(buffer)

    def finish(self, tail: np.ndarray, offset: int, size: int) -> None:
        """Write ``tail`` (the bytes after the last whole page) at ``offset``, set the file's
        size and close it."""
        self.items.put(None)
        self.thread.join()
        try:
            if self.error is not None:
                raise self.error
            if tail.size:
                page = aligned_empty(_PAGE, np.uint8)
                page[:tail.size], page[tail.size:] = tail, 0
                self.write(memoryview(page)[:_PAGE if self.direct else tail.size], offset)
            os.ftruncate(self.fd, size)
        finally:
            os.close(self.fd)


def _encode(samples: np.ndarray, pieces: np.ndarray, fmt: int, endian: str) -> None:
    """Traces from ``pieces`` (npieces, traces, cs) into the records' sample field (traces,
    ns) in the file's dtype."""
    n, ns = samples.shape
    cs = pieces.shape[2]
    full = ns // cs
    by_trace = pieces.transpose(1, 0, 2)
    floats = fmt in (5, 6)  # the assignment converts and swaps bytes; others need encode()
    target = samples if floats else np.empty((n, ns), np.float32)
    if full:
        target[:, :full * cs].reshape(n, full, cs)[...] = by_trace[:, :full]
    if full * cs < ns:
        target[:, full * cs:] = by_trace[:, full, :ns - full * cs]
    if not floats:
        samples[...] = encode(target, fmt, endian)


def export(volume: Path, dst: Path, info: dict, progress=None) -> int:
    """Write the SEG-Y file of an imported volume (:func:`plan` said yes) to ``dst``; returns
    the number of traces written."""
    import zarr

    progress = progress if progress is not None else Progress()
    ni, nx, ns = info["shape"]
    ci, cx, cs = info["chunks"]
    npieces = -(-ns // cs)
    fmt, endian, head = info["format"], info["endian"], info["head"]
    record = np.dtype([("header", np.uint8, (240,)), ("samples", sample_dtype(fmt, endian), (ns,))])
    size = record.itemsize
    batches = _batches(ni, nx, info["chunks"], size)
    largest = max((b.r1 - b.r0) * (b.c1 - b.c0) for b in batches)
    headers = zarr.open_array(volume / "trace_header", mode="r")
    rows = _ChunkRows(volume / "data" / "c", info["chunks"], npieces, -(-nx // cx), info["fill"])
    piece_buffers = [aligned_empty(largest * npieces * cs, np.float32) for _ in range(2)]
    free: queue.Queue = queue.Queue()
    for _ in range(3):  # one being filled, one queued, one being written
        free.put(aligned_empty(largest * size + len(head) + 2 * _PAGE, np.uint8))
    writer = _PageWriter(dst, free)
    group_headers: dict[int, np.ndarray] = {}

    def read(k: int):
        b = batches[k]
        count = (b.r1 - b.r0) * (b.c1 - b.c0)
        pieces = piece_buffers[k % 2][:npieces * count * cs].reshape(npieces, b.r1 - b.r0, b.c1 - b.c0, cs)
        rows.read(b.g, b.r0, b.r1, b.c0, b.c1, pieces)
        if b.g not in group_headers:  # a group's headers decompressed once
            group_headers.clear()
            group_headers[b.g] = headers[b.g * ci:min(ni, (b.g + 1) * ci)]
        h = group_headers[b.g][b.r0 - b.g * ci:b.r1 - b.g * ci, b.c0:b.c1].reshape(count, 240)
        return pieces.reshape(npieces, count, cs), h

    written = position = 0
    carry = np.frombuffer(head, np.uint8)  # bytes from ``position`` on, not written yet
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="segy-export-reader") as reader:
            pending = reader.submit(read, 0)
            for k in range(len(batches)):
                pieces, h = pending.result()
                # the reader moves on to the next batch while this one is encoded and written
                pending = reader.submit(read, k + 1) if k + 1 < len(batches) else None
                count = pieces.shape[1]
                out = free.get()
                out[:carry.size] = carry
                rec = out[carry.size:carry.size + count * size].view(record)
                rec["header"] = h
                _encode(rec["samples"], pieces, fmt, endian)
                length = carry.size + count * size
                whole = length - length % _PAGE
                carry = out[whole:length].copy()
                writer.put(out, whole, position)
                position += whole
                written += count
                progress.update((k + 1) / len(batches), "writing SEG-Y traces")
                progress.check()
    finally:
        rows.close()
        writer.finish(carry, position, len(head) + ni * nx * size)
    return written


def export_if_plain(src, dst: Path, *, overwrite: bool, progress=None) -> dict | None:
    """:func:`aaspi_py.io.segy.export_segy` for an imported volume that :func:`plan` accepts,
    or None (nothing done) for any other."""
    from aaspi_py.framework.volume_files import commit_path, remove_path, temporary_path

    if not isinstance(src, (str, os.PathLike)):
        return None
    t_start = time.perf_counter()
    volume = Path(src)
    info = plan(volume)
    if info is None:
        return None
    if dst.exists() and not overwrite:
        raise AaspiError(f"{dst} already exists; pass --overwrite (overwrite=True) to replace it.")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(dst)
    try:
        written = export(volume, tmp, info, progress)
        commit_path(tmp, dst, overwrite=overwrite)
    except BaseException:
        remove_path(tmp)
        raise
    seconds = time.perf_counter() - t_start
    fmt, endian = info["format"], info["endian"]
    summary = [
        f"wrote {dst.name}: {written} traces x {info['shape'][2]} samples, format {fmt} "
        f"({format_name(fmt)}), {endian}-endian, {seconds:.1f} s",
        "headers: headers, sample format and trace order of the imported SEG-Y",
    ]
    return {"summary": summary, "path": str(dst), "traces": written, "format": fmt, "endian": endian,
            "headers": "source", "seconds": round(seconds, 3)}
