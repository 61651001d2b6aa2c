"""Helpers for the SEG-Y tests: the shipped test files and variants made from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import segyio

SEGY = Path(__file__).resolve().parent / "data" / "segy"

IMPORTABLE = [
    "f3.sgy", "ex2_complete_3d_75x71x26.segy", "small.sgy", "small-lsb.sgy",
    "zfp-small-irregular.sgy", "zfp-small_hole.sgy", "zfp-small-2d.sgy", "zfp-small-negative-samples.sgy",
    *[f"multiformats/Format{n}.sgy" for n in ("1lsb", "1msb", "2msb", "3msb", "5lsb", "5msb", "8msb", "16msb")],
]
REGULAR = ["f3.sgy", "ex2_complete_3d_75x71x26.segy", "small.sgy", "small-lsb.sgy",
           "zfp-small-negative-samples.sgy", "multiformats/Format1lsb.sgy", "multiformats/Format8msb.sgy"]


def endian_of(path: Path) -> str:
    return "little" if "lsb" in Path(path).name else "big"


def segyio_traces(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every trace as segyio decodes it, in file order, as float32; and segyio's sample axis."""
    with segyio.open(path, ignore_geometry=True, endian=endian_of(path)) as f:
        return segyio.tools.collect(f.trace[:]).astype(np.float32), np.asarray(f.samples)


def records(path: Path) -> tuple[bytes, np.ndarray, int]:
    """(headers bytes, traces as an array of raw records, record size) of a plain SEG-Y file."""
    raw = Path(path).read_bytes()
    with segyio.open(path, ignore_geometry=True, endian=endian_of(path)) as f:
        n = f.tracecount
    size = (len(raw) - 3600) // n
    recs = np.frombuffer(raw, np.uint8, offset=3600).reshape(n, size).copy()
    return raw[:3600], recs, size


def write(path: Path, head: bytes, recs: np.ndarray) -> Path:
    path.write_bytes(head + recs.tobytes())
    return path


def set_field(recs: np.ndarray, byte: int, values, size: int = 4, endian: str = "big") -> None:
    """Set a trace header field of every record (records: uint8 array (n, record_size))."""
    dtype = np.dtype((">" if endian == "big" else "<") + f"i{size}")
    vals = np.broadcast_to(np.asarray(values, dtype=np.int64).astype(dtype), recs.shape[:1])
    recs[:, byte - 1: byte - 1 + size] = np.ascontiguousarray(vals).view(np.uint8).reshape(-1, size)


def patched_binary(src: Path, dst: Path, offset: int, value: int, size: int = 2) -> Path:
    """A copy of ``src`` with one binary header field (byte offset from 3201) changed, big-endian."""
    raw = bytearray(Path(src).read_bytes())
    raw[3200 + offset: 3200 + offset + size] = int(value).to_bytes(size, "big", signed=True)
    dst.write_bytes(bytes(raw))
    return dst


def shuffled_small(tmp: Path, seed: int = 3) -> tuple[Path, np.ndarray]:
    """small.sgy with its traces in a random order; returns the file and the permutation."""
    head, recs, _ = records(SEGY / "small.sgy")
    perm = np.random.default_rng(seed).permutation(len(recs))
    return write(tmp / "small-shuffled.sgy", head, recs[perm]), perm


def renumbered_small(tmp: Path) -> Path:
    """small.sgy with reversed, negative, decimated line numbers (inline -2, -4 .. -10 in file
    order; crossline 30, 27 .. 18)."""
    head, recs, _ = records(SEGY / "small.sgy")
    k = np.arange(len(recs))
    set_field(recs, 189, -2 - 2 * (k // 5))
    set_field(recs, 193, 30 - 3 * (k % 5))
    return write(tmp / "small-renumbered.sgy", head, recs)


def long_traces(tmp: Path, samples: int = 40000) -> Path:
    """A 1 x 2 survey of IEEE traces longer than 32767 samples (sample count stored unsigned)."""
    head = bytearray((SEGY / "small.sgy").read_bytes()[:3600])
    head[3220:3222] = samples.to_bytes(2, "big")
    head[3224:3226] = (5).to_bytes(2, "big")
    recs = np.zeros((2, 240 + 4 * samples), np.uint8)
    set_field(recs, 189, 7)
    set_field(recs, 193, [1, 2])
    set_field(recs, 115, samples, size=2)
    values = np.stack([np.sin(np.arange(samples) / 50.0), np.cos(np.arange(samples) / 70.0)]).astype(">f4")
    recs[:, 240:] = values.view(np.uint8).reshape(2, -1)
    return write(tmp / "long-ok.sgy", bytes(head), recs)
