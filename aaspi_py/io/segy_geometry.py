"""From trace headers to the survey grid: line numbers, trace positions, cdp coordinates.

:func:`scan_headers` streams the trace headers of a file (bounded memory: 18 bytes per
trace are kept) and :func:`build_grid` places every trace on a regular inline/crossline
grid:

- line steps are the greatest common divisor of the gaps between line numbers, so
  decimated numbering (2, 4, 6 ...) keeps its step and missing lines become holes;
- each axis runs in the direction the file runs (a file that starts at inline 200 and ends
  at inline 100 gives a descending inline axis, as segyio's ``ilines`` does);
- traces may come in any order (inline-sorted, crossline-sorted or unsorted): the position
  of each trace in the file is kept in ``trace_index`` so export can write them back in the
  same order;
- a file whose traces all share one inline/crossline pair but have distinct cdp x/y is a
  2D line: it becomes one inline, crossline = CDP number (byte 21) or the trace's position;
- several traces at one position is prestack data (offsets at byte 37 differ) or wrong byte
  locations: both are refused with a line that says which and what would work.

Coordinates: cdp_x/cdp_y with the coordinate scalar of byte 71 applied (positive:
multiply, negative: divide, 0: 1). Holes in the grid get the coordinates of the affine
inline/crossline -> x/y map fitted to the live traces, so maps stay continuous.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.io.segy_layout import (
    CDP,
    COORD_SCALAR,
    FIELD_RECORD,
    OFFSET,
    SegyLayout,
    check_field,
    header_field,
)

#: refuse grids with more cells than this many per trace (plus a margin): such numbers are not line numbers
MAX_CELLS_PER_TRACE = 16
_CELL_MARGIN = 65536
SCAN_BLOCK = 8192  # traces per header read
_IOV_TRACES = 500  # headers per gather read (IOV_MAX is 1024 buffers)
#: largest file span mapped at once to read trace headers
MAP_BYTES = 16 << 20


@dataclass
class TraceKeys:
    """Per-trace header values needed to build the grid (one entry per trace, file order)."""

    inline: np.ndarray  # int32
    crossline: np.ndarray  # int32
    x: np.ndarray  # int32, raw cdp_x
    y: np.ndarray  # int32, raw cdp_y
    scalar: np.ndarray  # int16, coordinate scalar (byte 71)


@dataclass
class Grid:
    """The regular grid traces are placed on."""

    inline: np.ndarray  # (ni,) line numbers, in the file's direction
    crossline: np.ndarray  # (nx,)
    trace_index: np.ndarray  # (ni, nx) position of each trace in the file, -1 where none
    cdp_x: np.ndarray  # (ni, nx) float64
    cdp_y: np.ndarray  # (ni, nx) float64
    sorting: str  # 'inline', 'crossline' or 'unsorted'
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.trace_index.shape


# ---------------------------------------------------------------- scanning

def read_headers(layout: SegyLayout, start: int, stop: int) -> np.ndarray:
    """Raw trace headers of traces [start, stop), uint8 array of shape (n, 240).

    One sequential gather read (``preadv``) per :data:`_IOV_TRACES` traces: the headers land
    in the output, the samples between them in one small scratch buffer that stays in the
    CPU cache. Reading every byte in order is what lets the kernel read the file ahead in
    large requests (as ``cat`` does), and it leaves the samples in the page cache for the
    trace pass that follows.
    """
    n = stop - start
    out = np.empty((max(n, 0), 240), np.uint8)
    if n <= 0:
        return out
    size = layout.trace_size
    rows = memoryview(out.reshape(-1))
    gap = memoryview(bytearray(size - 240))
    fd = os.open(layout.path, os.O_RDONLY)
    try:
        for c in range(0, n, _IOV_TRACES):
            d = min(n, c + _IOV_TRACES)
            iov: list[memoryview] = []
            for i in range(c, d):
                iov += (rows[i * 240:(i + 1) * 240], gap)
            iov.pop()  # nothing to read after the last header
            offset = layout.data_start + (start + c) * size
            got = os.preadv(fd, iov, offset)
            if got != (d - c) * size - len(gap):
                raise AaspiError(f"{layout.path}: the file ended early at byte {offset + got}; it was "
                                 f"truncated while importing.")
    finally:
        os.close(fd)
    return out


def read_headers_at(fd: int, layout: SegyLayout, traces: np.ndarray) -> np.ndarray:
    """Raw 240-byte headers of the traces numbered ``traces`` (ascending, 0-based).

    Through memory maps of spans of at most :data:`MAP_BYTES`, advised for random access, so
    mostly the pages holding the headers are touched (not the samples between them), then
    unmapped: reading the headers costs a page fault per trace instead of a copy of the
    whole span, and the mapped pages, which count as the process's memory while mapped,
    never exceed one span. Returns uint8 of shape (len(traces), 240).
    """
    traces = np.asarray(traces, dtype=np.int64)
    out = np.empty((traces.size, 240), np.uint8)
    size = layout.trace_size
    if traces.size and layout.data_start + (int(traces[-1]) + 1) * size > os.fstat(fd).st_size:
        raise AaspiError(f"{layout.path}: the file ended before trace {int(traces[-1]) + 1}; it was truncated "
                         f"while importing.")
    per_map = max(1, MAP_BYTES // size)
    a = 0
    while a < traces.size:
        b = int(np.searchsorted(traces, traces[a] + per_map, side="left"))
        first = layout.data_start + int(traces[a]) * size
        base = first - first % mmap.ALLOCATIONGRANULARITY
        end = layout.data_start + (int(traces[b - 1]) + 1) * size
        with mmap.mmap(fd, end - base, access=mmap.ACCESS_READ, offset=base) as m:
            if hasattr(m, "madvise") and hasattr(mmap, "MADV_RANDOM"):
                m.madvise(mmap.MADV_RANDOM)
            span = int(traces[b - 1] - traces[a]) + 1
            view = np.ndarray((span, 240), np.uint8, buffer=m, offset=first - base, strides=(size, 1))
            try:
                out[a:b] = view[traces[a:b] - traces[a]]  # copies the selected headers only
            finally:
                del view  # the map cannot close while numpy holds it
        a = b
    return out


def read_field(layout: SegyLayout, byte: int, indices: np.ndarray) -> np.ndarray:
    """One header field of chosen traces (few traces; used for diagnostics)."""
    out = np.empty(len(indices), np.int64)
    with open(layout.path, "rb") as f:
        for k, i in enumerate(np.asarray(indices, dtype=np.int64)):
            f.seek(layout.data_start + int(i) * layout.trace_size)
            h = np.frombuffer(f.read(240), np.uint8).reshape(1, 240)
            out[k] = header_field(h, byte, layout.endian)[0]
    return out


def field_values(layout: SegyLayout, byte: int, stop: int | None = None) -> np.ndarray:
    """One header field of traces [0, stop), read block by block."""
    n = layout.traces if stop is None else min(stop, layout.traces)
    out = np.empty(n, np.int64)
    for a in range(0, n, SCAN_BLOCK):
        b = min(n, a + SCAN_BLOCK)
        out[a:b] = header_field(read_headers(layout, a, b), byte, layout.endian)
    return out


def scan_headers(layout: SegyLayout, *, iline: int = 189, xline: int = 193, cdp_x: int = 181,
                 cdp_y: int = 185, progress=None) -> TraceKeys:
    """Line numbers and raw coordinates of every trace, read block by block."""
    for byte, what in ((iline, "the inline number"), (xline, "the crossline number"),
                       (cdp_x, "cdp_x"), (cdp_y, "cdp_y")):
        check_field(byte, what)
    n = layout.traces
    keys = TraceKeys(np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
                     np.empty(n, np.int32), np.empty(n, np.int16))
    e = layout.endian
    for a in range(0, n, SCAN_BLOCK):
        b = min(n, a + SCAN_BLOCK)
        h = read_headers(layout, a, b)
        keys.inline[a:b] = header_field(h, iline, e)
        keys.crossline[a:b] = header_field(h, xline, e)
        keys.x[a:b] = header_field(h, cdp_x, e)
        keys.y[a:b] = header_field(h, cdp_y, e)
        keys.scalar[a:b] = header_field(h, COORD_SCALAR, e)
        if progress is not None:
            progress.update(b / n, "reading trace headers")
            progress.check()
    return keys


def scaled(raw: np.ndarray, scalar: np.ndarray) -> np.ndarray:
    """Apply the SEG-Y coordinate scalar: >0 multiplies, <0 divides, 0 means 1."""
    s = scalar.astype(np.float64)
    factor = np.ones_like(s)
    factor[s > 0] = s[s > 0]
    factor[s < 0] = 1.0 / -s[s < 0]
    return raw.astype(np.float64) * factor


# ---------------------------------------------------------------- grid

def _axis(values: np.ndarray, first: int, last: int) -> tuple[int, int, int, bool]:
    """Regular axis covering ``values``: (lowest, count, step, descending)."""
    uniq = np.unique(values.astype(np.int64))
    step = int(np.gcd.reduce(np.diff(uniq))) if uniq.size > 1 else 1
    lo, hi = int(uniq[0]), int(uniq[-1])
    return lo, (hi - lo) // step + 1, step, last < first


def _line_numbers(lo: int, count: int, step: int, descending: bool) -> np.ndarray:
    axis = lo + step * np.arange(count, dtype=np.int64)
    return axis[::-1].copy() if descending else axis


def _direction(key: np.ndarray, other: np.ndarray) -> tuple[int, int]:
    """First and last value of ``key`` along the traces that share the first trace's ``other``."""
    same = np.flatnonzero(other == other[0])
    return int(key[same[0]]), int(key[same[-1]])


def build_grid(layout: SegyLayout, keys: TraceKeys, *, iline: int = 189, xline: int = 193) -> Grid:
    """Place the traces on a regular grid, or raise one line saying why they cannot be."""
    where = layout.path
    il, xl = keys.inline.astype(np.int64), keys.crossline.astype(np.int64)
    n = il.size
    notes: list[str] = []
    if n > 1 and np.all(il == il[0]) and np.all(xl == xl[0]):
        xl, notes = _as_2d_line(layout, keys, iline, xline)
    il_lo, ni, il_step, il_desc = _axis(il, *_direction(il, xl))
    xl_lo, nx, xl_step, xl_desc = _axis(xl, *_direction(xl, il))
    if ni * nx > MAX_CELLS_PER_TRACE * n + _CELL_MARGIN:
        raise AaspiError(
            f"{where}: the numbers at trace header bytes {iline}/{xline} do not form a survey grid: "
            f"{n} traces would spread over {ni} x {nx} inline/crossline positions (inlines "
            f"{il.min()}..{il.max()}, crosslines {xl.min()}..{xl.max()}); the trace headers hold no "
            f"usable line numbers there — give the right bytes (--iline/--xline) or fix the headers."
        )
    il_axis = _line_numbers(il_lo, ni, il_step, il_desc)
    xl_axis = _line_numbers(xl_lo, nx, xl_step, xl_desc)
    ii = (il_axis[0] - il) // il_step if il_desc else (il - il_axis[0]) // il_step
    jj = (xl_axis[0] - xl) // xl_step if xl_desc else (xl - xl_axis[0]) // xl_step
    flat = ii * nx + jj
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(np.diff(flat[order]) == 0)
    if dup.size:
        _refuse_duplicates(layout, il, xl, order, dup, iline, xline)
    index_dtype = np.int32 if n < 2**31 - 1 else np.int64
    trace_index = np.full(ni * nx, -1, dtype=index_dtype)
    trace_index[flat] = np.arange(n, dtype=index_dtype)
    trace_index = trace_index.reshape(ni, nx)
    cdp_x, cdp_y = _coordinates(keys, flat, ni, nx)
    missing = ni * nx - n
    if missing:
        notes.append(f"{missing} grid positions have no trace (masked)")
    return Grid(inline=il_axis, crossline=xl_axis, trace_index=trace_index, cdp_x=cdp_x, cdp_y=cdp_y,
                sorting=_sorting(trace_index), notes=notes)


def _sorting(trace_index: np.ndarray) -> str:
    for name, grid in (("inline", trace_index), ("crossline", trace_index.T)):
        live = grid[grid >= 0]
        if live.size < 2 or np.all(np.diff(live) > 0):
            return name
    return "unsorted"


def _as_2d_line(layout: SegyLayout, keys: TraceKeys, iline: int, xline: int) -> tuple[np.ndarray, list[str]]:
    """All traces at one inline/crossline: a 2D line if positions differ, else refuse."""
    where, n = layout.path, keys.inline.size
    xy = np.stack([keys.x.astype(np.int64), keys.y.astype(np.int64)], axis=1)
    distinct_xy = np.unique(xy, axis=0).shape[0] == n
    if not distinct_xy:
        records = np.unique(field_values(layout, FIELD_RECORD, stop=100_000))
        offsets = np.unique(field_values(layout, OFFSET, stop=100_000))
        if records.size > 1:
            shown = _first_values(records, 6)
            raise AaspiError(
                f"{where}: shot gathers, not a 3D volume: all {n} traces have inline {keys.inline[0]} and "
                f"crossline {keys.crossline[0]} (bytes {iline}/{xline}) and come from field records {shown} "
                f"(byte 9); aaspi_py imports post-stack volumes sorted by inline/crossline — stack and bin "
                f"the gathers first, or give the bytes that hold the line numbers (--iline/--xline)."
            )
        what = "prestack gathers" if offsets.size > 1 else "no 3D geometry"
        raise AaspiError(
            f"{where}: {what}: all {n} traces have inline {keys.inline[0]} and crossline "
            f"{keys.crossline[0]} (bytes {iline}/{xline}) and no distinct cdp x/y; give the bytes that hold "
            f"the line numbers (--iline/--xline) or import a post-stack 3D volume."
        )
    cdp = field_values(layout, CDP)
    if np.unique(cdp).size == n and cdp.min() > 0:
        label, xl = "CDP number (byte 21)", cdp
    else:
        label, xl = "trace position in the file", np.arange(1, n + 1, dtype=np.int64)
    note = (f"no line numbers at bytes {iline}/{xline} (all {keys.inline[0]}/{keys.crossline[0]}) but distinct "
            f"cdp x/y: imported as a 2D line of {n} traces, crossline = {label}")
    return xl, [note]


def _first_values(values: np.ndarray, k: int) -> str:
    """The first ``k`` values for an error line, with ``...`` when there are more."""
    return ", ".join(str(v) for v in values[:k]) + (" ..." if values.size > k else "")


def _refuse_duplicates(layout: SegyLayout, il, xl, order, dup, iline: int, xline: int) -> None:
    where = layout.path
    first = order[dup[0]]
    same = order[np.flatnonzero((il[order] == il[first]) & (xl[order] == xl[first]))]
    per_position = same.size
    offsets = np.unique(read_field(layout, OFFSET, same[:64]))
    if offsets.size > 1:
        shown = _first_values(offsets, 8)
        raise AaspiError(
            f"{where}: prestack data: {per_position} traces at each inline/crossline position with offsets "
            f"{shown} (byte 37); aaspi_py imports post-stack volumes — stack the gathers or extract one "
            f"offset (one trace per position) and import that."
        )
    raise AaspiError(
        f"{where}: {dup.size} traces repeat an inline/crossline position already taken (e.g. inline "
        f"{il[first]}, crossline {xl[first]} at traces {', '.join(str(int(t) + 1) for t in same[:3])}); "
        f"check the line number bytes (--iline {iline} --xline {xline}) or remove the duplicate traces."
    )


def _coordinates(keys: TraceKeys, flat: np.ndarray, ni: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """cdp_x/cdp_y on the grid; holes filled from the affine fit of the live traces."""
    cx = np.full(ni * nx, np.nan)
    cy = np.full(ni * nx, np.nan)
    cx[flat] = scaled(keys.x, keys.scalar)
    cy[flat] = scaled(keys.y, keys.scalar)
    if flat.size < ni * nx:
        # least squares on a subsample of the live traces is plenty for a plane
        fit = flat[:: max(1, flat.size // 100_000)]
        fi, fj = np.divmod(fit, nx)
        design = np.stack([np.ones(fit.size), fi, fj], axis=1)
        holes = np.flatnonzero(np.isnan(cx))
        hi, hj = np.divmod(holes, nx)
        for c in (cx, cy):
            coef, *_ = np.linalg.lstsq(design, c[fit], rcond=None)
            c[holes] = coef[0] + coef[1] * hi + coef[2] * hj
    return cx.reshape(ni, nx), cy.reshape(ni, nx)
