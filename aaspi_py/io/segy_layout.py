"""What a SEG-Y file's headers say about its layout: byte order, sample format, trace size.

:func:`read_layout` reads the 3200-byte textual header, any extended textual headers and the
400-byte binary header, detects the byte order, checks the sample format and the file size,
and returns a :class:`SegyLayout`. Every problem is one :class:`AaspiError` line naming the
file, what is wrong and what would work.

Trace header fields are addressed by their 1-based first byte, as in the SEG-Y standard and
segyio (inline 189, crossline 193, cdp_x 181, cdp_y 185, offset 37, coordinate scalar 71).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aaspi_py.framework.errors import AaspiError
from aaspi_py.io.segy_formats import (
    FORMATS,
    REFUSED,
    check_format,
    format_name,
    item_size,
    sample_dtype,
)

TEXT_SIZE = 3200
BINARY_SIZE = 400
TRACE_HEADER_SIZE = 240
_REV2_ENDIAN_CONSTANT = 0x01020304

#: first byte (1-based) -> size in bytes of every standard trace header field (SEG-Y rev 1)
TRACE_FIELDS: dict[int, int] = {
    **dict.fromkeys((1, 5, 9, 13, 17, 21, 25), 4), **dict.fromkeys((29, 31, 33, 35), 2),
    **dict.fromkeys((37, 41, 45, 49, 53, 57, 61, 65), 4), 69: 2, 71: 2,
    **dict.fromkeys((73, 77, 81, 85), 4), **dict.fromkeys(range(89, 181, 2), 2),
    **dict.fromkeys((181, 185, 189, 193, 197), 4), 201: 2, 203: 2, 205: 4, 209: 2, 211: 2,
    213: 2, 215: 2, 217: 2, 219: 4, 223: 2, 225: 4, 229: 2, 231: 2, 233: 4, 237: 4,
}
# named fields used here
OFFSET, FIELD_RECORD, CDP, COORD_SCALAR = 37, 9, 21, 71
DELAY, SAMPLE_COUNT, SAMPLE_INTERVAL, TIME_SCALAR = 109, 115, 117, 215
TRACE_ID, SEQ_LINE, SEQ_FILE = 29, 1, 5


def check_field(byte: int, what: str) -> int:
    """The size of the trace header field starting at ``byte``; a one-line error otherwise."""
    if byte not in TRACE_FIELDS:
        near = sorted(TRACE_FIELDS, key=lambda b: abs(b - byte))[:2]
        raise AaspiError(
            f"Trace header byte {byte} given for {what} is not the first byte of a SEG-Y trace header "
            f"field; use a field start such as {near[0]} or {near[1]} (inline is usually 189 or 9, "
            f"crossline 193 or 21)."
        )
    return TRACE_FIELDS[byte]


def header_field(headers: np.ndarray, byte: int, endian: str) -> np.ndarray:
    """Values of one trace header field for a stack of raw headers.

    Parameters
    ----------
    headers : uint8 array of shape (n_traces, 240)
    byte : 1-based first byte of the field (a key of :data:`TRACE_FIELDS`)
    endian : 'big' or 'little'

    Returns
    -------
    int64 array of shape (n_traces,)
    """
    size = TRACE_FIELDS[byte]
    raw = np.ascontiguousarray(headers[:, byte - 1: byte - 1 + size])
    dtype = np.dtype((">" if endian == "big" else "<") + f"i{size}")
    return raw.view(dtype)[:, 0].astype(np.int64)


def put_field(headers: np.ndarray, byte: int, values, endian: str) -> None:
    """Write one trace header field into raw headers of shape (n_traces, 240) in place."""
    size = TRACE_FIELDS[byte]
    dtype = np.dtype((">" if endian == "big" else "<") + f"i{size}")
    vals = np.broadcast_to(np.asarray(values, dtype=dtype), headers.shape[:1])
    headers[:, byte - 1: byte - 1 + size] = np.ascontiguousarray(vals).view(np.uint8).reshape(-1, size)


@dataclass(frozen=True)
class SegyLayout:
    """Byte layout of a SEG-Y file (all offsets in bytes from the start of the file)."""

    path: str
    endian: str  # 'big' or 'little'
    format: int  # sample format code
    samples: int  # samples per trace
    interval: float  # sample interval, ms (µs / 1000)
    t0: float  # time of the first sample, ms (delay recording time x its scalar)
    data_start: int  # first trace header
    traces: int
    textual: bytes  # 3200-byte textual header, raw
    extended: bytes  # extended textual headers, raw (multiple of 3200 bytes)
    binary: bytes  # 400-byte binary header, raw
    notes: tuple[str, ...] = ()  # things the import report should mention

    @property
    def trace_size(self) -> int:
        return TRACE_HEADER_SIZE + self.samples * item_size(self.format)

    @property
    def record_dtype(self) -> np.dtype:
        """One trace as stored: raw header bytes then samples in the file's dtype."""
        return np.dtype([("header", np.uint8, (TRACE_HEADER_SIZE,)),
                         ("samples", sample_dtype(self.format, self.endian), (self.samples,))])

    def sample_axis(self) -> np.ndarray:
        return self.t0 + np.arange(self.samples) * self.interval

    def describe_format(self) -> str:
        return f"format {self.format} ({format_name(self.format)}), {self.endian}-endian"


def _int(buf: bytes, start: int, size: int, endian: str, signed: bool = True) -> int:
    return int.from_bytes(buf[start:start + size], endian, signed=signed)


def detect_endian(binary: bytes, where: str) -> str:
    """Byte order from the rev 2 constant (bytes 3297-3300) or the sample format code."""
    for endian in ("big", "little"):
        if _int(binary, 96, 4, endian, signed=False) == _REV2_ENDIAN_CONSTANT:
            return endian
    codes = set(FORMATS) | set(REFUSED)
    for endian in ("big", "little"):
        if _int(binary, 24, 2, endian) in codes:
            return endian
    big, little = _int(binary, 24, 2, "big"), _int(binary, 24, 2, "little")
    raise AaspiError(
        f"{where}: binary header bytes 3225-3226 hold no SEG-Y sample format code in either byte "
        f"order ({big} big-endian, {little} little-endian); the file is not SEG-Y or its binary "
        f"header is damaged — fix the format code (1 IBM float, 5 IEEE float, ...) in the header."
    )


def textual_to_str(raw: bytes) -> str:
    """Decode a 3200-byte textual header (EBCDIC or ASCII) to 40 lines of 80 characters."""
    ebcdic = raw[:1] == b"\xc3" or (raw.count(b"\x40") > raw.count(b"\x20"))
    text = raw.decode("cp037" if ebcdic else "latin-1", errors="replace")
    text = "".join(c if c.isprintable() else " " for c in text)
    return "\n".join(text[i:i + 80].rstrip() for i in range(0, len(text), 80))


def _extended_count(path: Path, binary: bytes, endian: str, size: int, where: str) -> int:
    count = _int(binary, 304, 2, endian)
    if count >= 0:
        return count
    if count != -1:
        return 0  # rev 0 files may hold anything in these then-unassigned bytes
    # -1: a variable number of extended headers, the last one holding ((SEG: EndText))
    with open(path, "rb") as f:
        f.seek(TEXT_SIZE + BINARY_SIZE)
        for n in range(1, (size - TEXT_SIZE - BINARY_SIZE) // TEXT_SIZE + 1):
            block = f.read(TEXT_SIZE)
            if b"EndText" in block or "EndText".encode("cp037") in block:
                return n
    raise AaspiError(
        f"{where}: the binary header announces a variable number of extended textual headers (-1 at "
        f"bytes 3505-3506) but none ends with ((SEG: EndText)); set the true count in the header."
    )


def read_layout(path: str | os.PathLike) -> SegyLayout:
    """Read and check the headers of a SEG-Y file; one clear :class:`AaspiError` on any problem."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise AaspiError(f"{where}: no such SEG-Y file; check the path.")
    size = path.stat().st_size
    if size < TEXT_SIZE + BINARY_SIZE:
        raise AaspiError(
            f"{where}: only {size} bytes, shorter than the 3600-byte SEG-Y textual and binary "
            f"headers; it is not a SEG-Y file (or it was cut short)."
        )
    with open(path, "rb") as f:
        head = f.read(TEXT_SIZE + BINARY_SIZE)
    textual, binary = head[:TEXT_SIZE], head[TEXT_SIZE:]
    endian = detect_endian(binary, where)
    fmt = _int(binary, 24, 2, endian)
    check_format(fmt, where)
    major = binary[300]
    if major >= 2 and _int(binary, 306, 4, endian) > 0:
        raise AaspiError(
            f"{where}: SEG-Y rev 2 additional trace headers (bytes 3507-3510) are not supported; "
            f"rewrite the file with standard 240-byte trace headers only."
        )
    n_ext = _extended_count(path, binary, endian, size, where)
    data_start = TEXT_SIZE + BINARY_SIZE + TEXT_SIZE * n_ext
    if data_start > size:
        raise AaspiError(
            f"{where}: the binary header announces {n_ext} extended textual headers ({data_start} bytes "
            f"of headers) but the file has only {size} bytes; the file is truncated or the count at "
            f"bytes 3505-3506 is wrong."
        )
    with open(path, "rb") as f:
        f.seek(TEXT_SIZE + BINARY_SIZE)
        extended = f.read(data_start - TEXT_SIZE - BINARY_SIZE)
        first = f.read(TRACE_HEADER_SIZE)
    samples = _int(binary, 20, 2, endian, signed=False)
    if samples == 0 and major >= 2:
        samples = _int(binary, 268, 4, endian, signed=False)
    if samples == 0 and len(first) == TRACE_HEADER_SIZE:
        samples = _int(first, SAMPLE_COUNT - 1, 2, endian, signed=False)
    if size == data_start:
        raise AaspiError(
            f"{where}: no traces — the file holds only its headers ({size} bytes); there is no "
            f"seismic data to import."
        )
    if samples == 0:
        raise AaspiError(
            f"{where}: the number of samples per trace is 0 in the binary header (bytes 3221-3222) and "
            f"in the first trace header (bytes 115-116); set it in the header."
        )
    trace_size = TRACE_HEADER_SIZE + samples * item_size(fmt)
    data_bytes = size - data_start
    if data_bytes % trace_size:
        raise AaspiError(
            f"{where}: {data_bytes} bytes of traces after the {data_start} bytes of headers is not a whole "
            f"number of {trace_size}-byte traces "
            f"(240-byte header + {samples} samples of {format_name(fmt)}); the file is truncated or "
            f"its traces differ in length — copy or export it again."
        )
    interval, notes = _sample_interval(binary, first, endian)
    if interval <= 0:
        raise AaspiError(
            f"{where}: the sample interval is {interval * 1000:g} µs (binary header bytes 3217-3218, "
            f"trace header bytes 117-118); set a positive interval in the header."
        )
    scalar = _int(first, TIME_SCALAR - 1, 2, endian)
    delay_scale = 1.0 if scalar == 0 else abs(1.0 / scalar if scalar < 0 else float(scalar))
    t0 = _int(first, DELAY - 1, 2, endian) * delay_scale
    return SegyLayout(path=str(path), endian=endian, format=fmt, samples=samples, interval=interval,
                      t0=float(t0), data_start=data_start, traces=data_bytes // trace_size,
                      textual=textual, extended=extended, binary=binary, notes=notes)


def _sample_interval(binary: bytes, first: bytes, endian: str,
                     fallback_us: int = 4000) -> tuple[float, tuple[str, ...]]:
    """Sample interval in ms from the binary header, else the first trace header, else 4 ms.

    segyio falls back to 4 ms when both headers give different non-zero intervals; the
    binary header is the file-wide value in the standard, so it wins here (and the report
    says so).
    """
    bin_dt = _int(binary, 16, 2, endian)
    trace_dt = _int(first, SAMPLE_INTERVAL - 1, 2, endian)
    if bin_dt == 0 and trace_dt == 0:
        return fallback_us / 1000.0, (f"no sample interval in the headers; assumed {fallback_us / 1000:g} ms",)
    if bin_dt and trace_dt and bin_dt != trace_dt:
        return bin_dt / 1000.0, (f"sample interval: binary header {bin_dt} µs, first trace header "
                                 f"{trace_dt} µs; used the binary header",)
    return (bin_dt or trace_dt) / 1000.0, ()
