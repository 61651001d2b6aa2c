"""One-pass SEG-Y import of a survey whose traces fill its grid in inline order.

Most post-stack volumes are written that way: every inline complete, crosslines in the same
order in every inline, trace ``t`` at grid position ``(t // nx, t % nx)``. For those the
grid is known from a few headers (:func:`predict_grid`: the first inline, the first trace
of the second inline and the last trace), so the file can be read once, in order, with the
headers taken from the same reads as the samples, instead of a header pass followed by a
trace pass. The prediction is only a guess: every header is kept and
:func:`aaspi_py.io.segy_geometry.build_grid` places the traces at the end exactly as the
two-pass import does; if its grid differs from the guess, the output is discarded and the
caller imports the file the general way (reading it again).

The file is read in batches of whole inlines (or of whole chunk columns of one inline when
an inline is larger than :data:`BATCH_BYTES`), each one contiguous range of the file, by a
reader thread (``O_DIRECT`` where allowed, see :class:`_Source`). The main thread decodes a
batch straight into the chunk layout; a writer thread writes each chunk file's rows of the
batch with one ``pwritev`` at their offset in the file (a chunk file holds its inline rows
one after the other), so a chunk is written in pieces as its inlines arrive and no chunk
column has to be held in memory (see :class:`_ChunkGroupWriter`). When the last inline of
a group of chunks is written, the files are padded as zarr pads edge chunks, handed to the
disk and closed, and that group's trace mask and raw
headers go through zarr on a thread of their own. Reading from disk, decoding and writing
to disk overlap, on both cores.

Decoding: IBM floats (format 1) through segyio (``segyio.tools.native`` on the raw words);
the other formats with one numpy cast from the file's dtype into the chunk layout (byte
swap and conversion in the copy that the layout needs anyway). segyio's reader costs 0.46
CPU-s for the 1.23 GB benchmark file in the page cache (``gettr`` into a reused buffer),
plus 0.15 s to lay the traces out chunk by chunk; the read and cast here cost 0.33 s in
all, values equal to segyio's in the tests.

The zarr metadata and the small coordinate arrays are written by a thread of their own
while the traces stream (zarr loads there, behind the disk), the amplitude chunk files in a
sibling folder that is moved into the volume at the end; the cdp coordinates, known only
when every header has been read, are written last.
"""

from __future__ import annotations

import errno
import os
import queue
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aaspi_py.io.segy_geometry import Grid, TraceKeys, build_grid, read_field, read_headers
from aaspi_py.io.segy_layout import COORD_SCALAR, SegyLayout, header_field

#: bytes of file read, decoded and written as one batch (two raw and three decoded buffers
#: of this size are in use). 8 MB imports the 1.23 GB benchmark file as fast as 32 MB did
#: (2.02 s both) at 156 MB peak instead of 280, and keeps a 384³ import within 1.2x of a
#: 128³ one's peak (benches/memory.py), where 32 MB batches of whole inlines grew with the
#: inline length
BATCH_BYTES = 8 << 20
#: headers read to find the length of the first inline, at most
PREDICT_TRACES = 1 << 16
_MAX_IOV = 1000  # buffers per gather write (IOV_MAX is 1024)
#: write the chunk files with O_DIRECT where the chunk rows allow it (see _ChunkGroupWriter).
#: Off: measured side by side on the benchmark file (load 3-4), ordinary writes handed to the
#: disk group by group took 2.12-2.13 s where O_DIRECT writes (four in flight) took
#: 2.63-2.79 s, for about the same CPU time (the kernel merges the page cache into larger
#: disk requests than the chunk rows of one batch)
DIRECT_WRITES = False
#: O_DIRECT chunk writes in flight at once
DIRECT_WRITE_THREADS = 4
#: read the SEG-Y file with O_DIRECT where the file system allows it (see _Source)
DIRECT_READS = True
_BLOCK = 512  # O_DIRECT offsets and lengths: multiples of the disk's logical block (512 on most)
_PAGE = 4096  # ... and buffers aligned to a page


def aligned_empty(count: int, dtype) -> np.ndarray:
    """An uninitialised 1-D array whose first byte is page-aligned (for O_DIRECT)."""
    dtype = np.dtype(dtype)
    raw = np.empty(count * dtype.itemsize + _PAGE, np.uint8)
    start = -raw.ctypes.data % _PAGE
    return raw[start:start + count * dtype.itemsize].view(dtype)


@dataclass(frozen=True)
class Prediction:
    """The grid a file would have if its traces filled it in inline order."""

    inline: np.ndarray  # (ni,) line numbers, in file order
    crossline: np.ndarray  # (nx,)

    @property
    def shape(self) -> tuple[int, int]:
        return self.inline.size, self.crossline.size

    def placeholder_grid(self) -> Grid:
        """The predicted grid with zero coordinates (written when every header is read)."""
        ni, nx = self.shape
        index = np.arange(ni * nx, dtype=np.int32 if ni * nx < 2**31 - 1 else np.int64).reshape(ni, nx)
        zeros = np.zeros((ni, nx))
        return Grid(inline=self.inline, crossline=self.crossline, trace_index=index, cdp_x=zeros,
                    cdp_y=zeros.copy(), sorting="inline")


def _arithmetic(values: np.ndarray) -> bool:
    steps = np.diff(values)
    return values.size == 1 or (steps[0] != 0 and bool(np.all(steps == steps[0])))


def predict_grid(layout: SegyLayout, iline: int, xline: int) -> Prediction | None:
    """The grid of a file whose traces fill it inline by inline, or None when the headers
    read here already show otherwise (the final check is :func:`stream_import`'s)."""
    e, n = layout.endian, layout.traces
    count = min(n, 4096)
    while True:
        h = read_headers(layout, 0, count)
        il = header_field(h, iline, e)
        changed = np.flatnonzero(il != il[0])
        if changed.size or count == n:
            break
        if count >= PREDICT_TRACES:
            return None
        count = min(n, 4 * count)
    nx = int(changed[0]) if changed.size else n
    if n % nx or n < 2:
        return None
    xl = header_field(h[:nx], xline, e)
    if not _arithmetic(xl):
        return None
    ni = n // nx
    il0 = int(il[0])
    if ni > 1:
        second, last = (int(v) for v in read_field(layout, iline, np.array([nx, n - 1])))
        step = second - il0
        if step == 0 or last != il0 + (ni - 1) * step:
            return None
    else:
        step = 1
    return Prediction(inline=il0 + step * np.arange(ni, dtype=np.int64), crossline=xl.astype(np.int64))


@dataclass
class _Batch:
    """Inline rows [r0, r1) and crossline columns [c0, c1) of one chunk group ``g``."""

    g: int
    r0: int
    r1: int
    c0: int
    c1: int
    last_of_group: bool


def _batches(ni: int, nx: int, chunk_shape, trace_size: int) -> list[_Batch]:
    ci, cx, _ = chunk_shape
    out: list[_Batch] = []
    if nx * trace_size <= BATCH_BYTES:
        rows = max(1, min(ci, BATCH_BYTES // (nx * trace_size), _MAX_IOV // 2 - 1))
        for g0 in range(0, ni, ci):
            g1 = min(ni, g0 + ci)
            out += [_Batch(g0 // ci, r, min(g1, r + rows), 0, nx, r + rows >= g1) for r in range(g0, g1, rows)]
    else:  # an inline larger than a batch: whole chunk columns of one inline at a time
        cols = cx * max(1, BATCH_BYTES // (cx * trace_size))
        for g0 in range(0, ni, ci):
            g1 = min(ni, g0 + ci)
            out += [_Batch(g0 // ci, r, r + 1, c, min(nx, c + cols), r + 1 == g1 and c + cols >= nx)
                    for r in range(g0, g1) for c in range(0, nx, cols)]
    return out


class _ChunkGroupWriter:
    """Writer thread: the rows of each batch into their chunk files under ``root`` (the
    array's ``c`` folder), then, per finished group, padding, write-back and the group's
    trace mask and raw headers (through zarr, once the volume's metadata exists).

    Ordinary writes, each finished group handed to the disk at once (``posix_fadvise``).
    With :data:`DIRECT_WRITES`, when a chunk row is a whole number of disk blocks (the
    default chunks' rows are 32 KiB), the files are written with ``O_DIRECT`` instead: the
    disk reads the block buffers themselves, with no copy into the page cache, and
    :data:`DIRECT_WRITE_THREADS` writes are kept in flight, since each one waits for its disk
    request; a file system that refuses it (EINVAL) gets ordinary writes."""

    def __init__(self, root: Path, shape: tuple[int, int, int], chunk_shape, fill: float, extras,
                 free: queue.Queue):
        self.root, self.shape, self.chunk_shape, self.extras, self.free = root, shape, chunk_shape, extras, free
        ci, cx, cs = chunk_shape
        self.pad = aligned_empty(ci * cx * cs, np.float32)
        self.pad[:] = fill
        self.pad = memoryview(self.pad.view(np.uint8))
        self.direct = DIRECT_WRITES and hasattr(os, "O_DIRECT") and (4 * cs) % _BLOCK == 0
        self.fds: dict[tuple[int, int], int] = {}
        self.paths: dict[tuple[int, int], Path] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.items: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="segy-import-writer", daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        if self.error is not None:
            raise self.error
        self.items.put(item)

    def finish(self) -> None:
        self.items.put(None)
        self.thread.join()
        if self.pool is not None:
            self.pool.shutdown()
        self._close_all()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (item := self.items.get()) is not None:
            batch, pieces, live, headers, buffer = item
            try:
                if self.error is None:
                    self._write(batch, pieces)
                    self.extras.add(batch, live, headers)
                    if batch.last_of_group:
                        self._close_group(batch.g)
                        self.extras.flush(batch.g)
            except BaseException as e:  # noqa: BLE001 - handed to the reading thread
                self.error = e
            finally:
                self.free.put(buffer)

    def _fd(self, g: int, b: int, k: int) -> int:
        fd = self.fds.get((b, k))
        if fd is None:
            folder = self.root / str(g) / str(b)
            folder.mkdir(parents=True, exist_ok=True)
            path = self.paths[(b, k)] = folder / str(k)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            try:
                fd = os.open(path, flags | (os.O_DIRECT if self.direct else 0), 0o644)
            except OSError as e:
                if not (self.direct and e.errno == errno.EINVAL):
                    raise
                self._buffered()
                fd = os.open(path, flags, 0o644)
            self.fds[(b, k)] = fd
        return fd

    def _buffered(self) -> None:
        """Leave O_DIRECT (refused here): reopen the open files for ordinary writes."""
        self.direct = False
        for key, fd in self.fds.items():
            os.close(fd)
            self.fds[key] = os.open(self.paths[key], os.O_WRONLY)

    def _pwritev(self, key: tuple[int, int, int], iov: list, offset: int, expected: int) -> None:
        g, b, k = key
        try:
            got = os.pwritev(self._fd(g, b, k), iov, offset)
        except OSError as e:
            if not (self.direct and e.errno == errno.EINVAL):
                raise
            self._buffered()
            got = os.pwritev(self._fd(g, b, k), iov, offset)
        if got != expected:
            raise OSError(f"short write to chunk {g}/{b}/{k}")

    def _write(self, batch: _Batch, pieces: np.ndarray) -> None:
        ci, cx, cs = self.chunk_shape
        row_bytes = 4 * cx * cs
        jobs = []
        for b in range(batch.c0 // cx, -(-batch.c1 // cx)):
            a0 = b * cx - batch.c0
            cols = min(cx, batch.c1 - b * cx)
            for k in range(pieces.shape[0]):
                iov: list = []
                for r in range(batch.r1 - batch.r0):
                    iov.append(pieces[k, r, a0:a0 + cols])
                    if cols < cx:
                        iov.append(self.pad[:4 * (cx - cols) * cs])
                jobs.append(((batch.g, b, k), iov, (batch.r0 - batch.g * ci) * row_bytes,
                             (batch.r1 - batch.r0) * row_bytes))
        if self.direct and DIRECT_WRITE_THREADS > 1:
            for key, *_ in jobs:
                self._fd(*key)  # opened here, one at a time
            if self.pool is None:
                self.pool = ThreadPoolExecutor(DIRECT_WRITE_THREADS, thread_name_prefix="segy-import-direct")
            try:
                # O_DIRECT writes wait for the disk: several in flight keep it busy
                list(self.pool.map(lambda job: self._pwritev_direct(*job), jobs))
                return
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                self._buffered()  # refused here: the same writes, ordinary ones
        for job in jobs:
            self._pwritev(*job)

    def _pwritev_direct(self, key, iov, offset, expected) -> None:
        if os.pwritev(self.fds[key[1:]], iov, offset) != expected:
            raise OSError(f"short write to chunk {key[0]}/{key[1]}/{key[2]}")

    def _close_group(self, g: int) -> None:
        ci, cx, cs = self.chunk_shape
        rows = min(ci, self.shape[0] - g * ci)
        if rows < ci:  # edge chunks: padded to the full chunk, as zarr writes them
            for b, k in list(self.fds):
                self._pwritev((g, b, k), [self.pad[:4 * (ci - rows) * cx * cs]], 4 * rows * cx * cs,
                              4 * (ci - rows) * cx * cs)
        if not self.direct and hasattr(os, "posix_fadvise"):
            for fd in self.fds.values():
                # start the write to disk now rather than at the end (see segy_writer.start_writeback)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        self._close_all()

    def _close_all(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()
        self.paths.clear()


class _GroupExtras:
    """Trace mask and raw headers of one chunk group, collected batch by batch and written
    through zarr when the group is complete (after the volume's metadata is written), on a
    thread of their own so that the chunk writer does not wait for zarr."""

    def __init__(self, path: Path, nx: int, ci: int, keep_headers: bool, ready: threading.Event, status: dict):
        self.path, self.nx, self.ci, self.keep_headers = path, nx, ci, keep_headers
        self.ready, self.status = ready, status
        self.live = np.zeros((ci, nx), bool)
        self.headers = np.zeros((ci, nx, 240), np.uint8) if keep_headers else None
        self.arrays: dict | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="segy-import-headers")
        self.pending: list = []

    def add(self, batch: _Batch, live: np.ndarray, headers: np.ndarray) -> None:
        rows = slice(batch.r0 - batch.g * self.ci, batch.r1 - batch.g * self.ci)
        self.live[rows, batch.c0:batch.c1] = live
        if self.headers is not None:
            self.headers[rows, batch.c0:batch.c1] = headers

    def flush(self, g: int) -> None:
        """Hand the group's mask and headers to the thread that stores them."""
        headers = None if self.headers is None else self.headers.copy()
        self.pending.append(self.pool.submit(self._store, g, self.live.copy(), headers))

    def _store(self, g: int, live: np.ndarray, headers: np.ndarray | None) -> None:
        self.ready.wait()
        if "error" in self.status:
            return  # raised by the caller
        if self.arrays is None:
            import zarr

            names = ("trace_mask", "trace_header") if self.keep_headers else ("trace_mask",)
            self.arrays = {name: zarr.open_array(self.path / name, mode="r+") for name in names}
        i0 = g * self.ci
        i1 = min(self.arrays["trace_mask"].shape[0], i0 + self.ci)
        self.arrays["trace_mask"][i0:i1] = live[:i1 - i0]
        if headers is not None:
            self.arrays["trace_header"][i0:i1] = headers[:i1 - i0]

    def finish(self) -> None:
        """Wait until every group is stored; raise the first failure."""
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()


def _decode_into(samples: np.ndarray, pieces: np.ndarray, fmt: int, fill: float) -> np.ndarray:
    """Samples (traces, ns) in the file's dtype -> ``pieces`` (npieces, traces, cs) float32,
    padded with ``fill`` past the last sample; returns whether each trace is live (not all zero)."""
    n, ns = samples.shape
    npieces, _, cs = pieces.shape
    full = ns // cs
    if fmt == 1:
        import segyio._segyio  # noqa: F401 - segyio.tools.native needs it; segyio.open loads it lazily
        import segyio.tools

        # segyio converts big-endian IBM words in place
        words = samples.astype(np.dtype(">u4")).view(np.float32)
        samples = segyio.tools.native(words, format=1, copy=False).reshape(n, ns)
    by_trace = pieces.transpose(1, 0, 2)  # (traces, npieces, cs) view
    bits = by_trace.view(np.uint32)
    # live: any sample other than +-0; an OR of the bit patterns is one pass without a
    # temporary, several times cheaper than a float comparison
    ored = np.zeros(n, np.uint32)
    if full:
        np.copyto(by_trace[:, :full], samples[:, :full * cs].reshape(n, full, cs), casting="unsafe")
        ored = np.bitwise_or.reduce(np.bitwise_or.reduce(bits[:, :full], axis=-1), axis=-1)
    if full < npieces:
        rem = ns - full * cs
        np.copyto(by_trace[:, full, :rem], samples[:, full * cs:], casting="unsafe")
        ored |= np.bitwise_or.reduce(bits[:, full, :rem], axis=-1)
        by_trace[:, full, rem:] = fill
    return (ored & np.uint32(0x7FFFFFFF)) != 0


class _Source:
    """The SEG-Y file read in large ranges, with O_DIRECT where the file system allows it:
    the disk writes into the batch buffer itself, where a read through the page cache costs
    a copy (a third of the one-pass import's CPU time, measured with perf) and leaves 1.2 GB
    of cache behind. Ranges are widened to whole pages, as O_DIRECT needs."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY)
        self.direct = -1
        if DIRECT_READS and hasattr(os, "O_DIRECT"):
            try:
                self.direct = os.open(path, os.O_RDONLY | os.O_DIRECT)
            except OSError:
                self.direct = -1
        if self.direct < 0 and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)  # larger read-ahead

    def read(self, buffer: np.ndarray, start: int, length: int) -> np.ndarray:
        """Bytes [start, start + length) of the file, a view of ``buffer`` (page-aligned
        uint8, ``2 * 4096`` bytes longer than ``length``); shorter at the end of the file."""
        if self.direct >= 0:
            first = start - start % _PAGE
            stop = -(-(start + length) // _PAGE) * _PAGE
            try:
                got = os.preadv(self.direct, [buffer[:stop - first]], first)
                return buffer[start - first:max(start - first, min(got, start - first + length))]
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                os.close(self.direct)  # refused here: read through the page cache
                self.direct = -1
        got = os.preadv(self.fd, [buffer[:length]], start)
        return buffer[:got]

    def close(self) -> None:
        os.close(self.fd)
        if self.direct >= 0:
            os.close(self.direct)


def stream_import(layout: SegyLayout, prediction: Prediction, chunk_shape, tmp: Path, write_skeleton,
                  keep_headers: bool, progress, *, iline: int, xline: int, cdp_x: int, cdp_y: int,
                  fill: float = float("nan")) -> tuple[Grid, int] | None:
    """Import a file predicted to fill its grid in inline order into the volume folder ``tmp``.

    Parameters
    ----------
    layout : the file's layout
    prediction : from :func:`predict_grid`
    chunk_shape : zarr chunk shape of the amplitude
    tmp : volume folder to create (the caller renames it when complete)
    write_skeleton : function of a :class:`Grid` writing the volume's metadata and small
        arrays into ``tmp`` (run on a thread of its own while the traces stream)
    keep_headers : also store the raw trace headers
    progress : object with ``update(fraction, status)`` and ``check()``
    iline, xline, cdp_x, cdp_y : 1-based trace header bytes
    fill : the amplitude array's fill value (edge chunks are padded with it)

    Returns
    -------
    (grid, live) : the grid built from every header and the number of live traces, or
        None when the traces turn out not to fill the grid in inline order (``tmp`` removed)
    """
    from aaspi_py.framework.leftovers import temporary_name

    ni, nx = prediction.shape
    ci, cx, cs = chunk_shape
    ns, size = layout.samples, layout.trace_size
    npieces = -(-ns // cs)
    side = temporary_name(tmp, "chunks")
    ready, status = threading.Event(), {}

    def skeleton() -> None:
        try:
            write_skeleton(prediction.placeholder_grid())
        except BaseException as e:  # noqa: BLE001 - raised by the caller
            status["error"] = e
        finally:
            ready.set()

    source = _Source(layout.path)
    threading.Thread(target=skeleton, name="segy-import-metadata", daemon=True).start()
    n = layout.traces
    keys = TraceKeys(np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
                     np.empty(n, np.int32), np.empty(n, np.int16))
    record = layout.record_dtype
    batches = _batches(ni, nx, chunk_shape, size)
    largest = max((b.r1 - b.r0) * (b.c1 - b.c0) for b in batches)
    raw_buffers = [aligned_empty(largest * size + 2 * _PAGE, np.uint8) for _ in range(2)]
    free: queue.Queue = queue.Queue()
    for _ in range(3):  # one being decoded, one queued, one being written
        free.put(aligned_empty(largest * npieces * cs, np.float32))
    extras = _GroupExtras(tmp, nx, ci, keep_headers, ready, status)
    writer = _ChunkGroupWriter(side / "c", (ni, nx, ns), chunk_shape, fill, extras, free)

    def read(k: int) -> np.ndarray:
        b = batches[k]
        first = b.r0 * nx + b.c0
        count = (b.r1 - b.r0) * (b.c1 - b.c0)
        start = layout.data_start + first * size
        raw = source.read(raw_buffers[k % 2], start, count * size)
        if raw.size != count * size:
            from aaspi_py.framework.errors import AaspiError

            raise AaspiError(f"{layout.path}: the file ended early at trace {first + raw.size // size + 1}; it was "
                             f"truncated while importing.")
        return raw.view(record)

    live_total = 0
    finished = False
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="segy-import-reader") as reader:
            pending = reader.submit(read, 0)
            for k, b in enumerate(batches):
                records = pending.result()
                # the reader moves on to the next batch while this one is decoded
                pending = reader.submit(read, k + 1) if k + 1 < len(batches) else None
                first, count = b.r0 * nx + b.c0, records.size
                h = records["header"]
                e = layout.endian
                t = slice(first, first + count)
                keys.inline[t] = header_field(h, iline, e)
                keys.crossline[t] = header_field(h, xline, e)
                keys.x[t] = header_field(h, cdp_x, e)
                keys.y[t] = header_field(h, cdp_y, e)
                keys.scalar[t] = header_field(h, COORD_SCALAR, e)
                buffer = free.get()
                pieces = buffer[:npieces * count * cs].reshape(npieces, count, cs)
                live = _decode_into(records["samples"], pieces, layout.format, fill)
                live_total += int(live.sum())
                rows, cols = b.r1 - b.r0, b.c1 - b.c0
                writer.put((b, pieces.reshape(npieces, rows, cols, cs), live.reshape(rows, cols),
                            h.reshape(rows, cols, 240).copy() if keep_headers else None, buffer))
                progress.update((k + 1) / len(batches), "importing traces")
                progress.check()
                if "error" in status:  # the metadata could not be written: stop reading
                    raise status["error"]
        writer.finish()
        finished = True
        extras.finish()
        ready.wait()
        if "error" in status:
            raise status["error"]
        grid = build_grid(layout, keys, iline=iline, xline=xline)
        expected = prediction.placeholder_grid()
        if not (np.array_equal(grid.trace_index, expected.trace_index)
                and np.array_equal(grid.inline, expected.inline)
                and np.array_equal(grid.crossline, expected.crossline)):
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        import zarr

        zarr.open_array(tmp / "cdp_x", mode="r+")[:] = grid.cdp_x
        zarr.open_array(tmp / "cdp_y", mode="r+")[:] = grid.cdp_y
        os.replace(side / "c", tmp / "data" / "c")
        return grid, live_total
    finally:
        if not finished:
            try:
                writer.finish()
            except BaseException:  # noqa: BLE001 - the first error is the one being raised
                pass
        extras.pool.shutdown(wait=True)  # nothing may write into the volume after this returns
        ready.wait()
        source.close()
        shutil.rmtree(side, ignore_errors=True)

