"""Amplitude chunks moved between SEG-Y blocks and zarr chunk files without zarr's per-chunk
machinery, for the SEG-Y import and export.

An imported amplitude array has no compression: zarr v3 stores each chunk as a file
``c/i/j/k`` holding the chunk's float32 values, little-endian, in C order, edge chunks
padded to the full chunk shape. Reading and writing those files directly, one gather
read or write (``readv``/``writev``) per chunk straight from or into a block buffer, costs
the kernel's copy and nothing more; going through zarr costs several times that for
(64, 64, 128) chunks (benches/segy_ingest.py). :func:`~aaspi_py.framework.chunk_files.plain_chunks` says when an array is
stored that way; anything else is read and written through zarr.

A block buffer holds a block of whole chunk columns piece by piece: ``pieces[k]`` of shape
(inlines, crosslines, chunk samples) holds samples ``k * cs`` onwards of every trace, so
each chunk row ``pieces[k, i, j0:j1]`` is contiguous.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aaspi_py.framework.chunk_files import write_all


def _chunk_iov(pieces: np.ndarray, k: int, a: int, b: int, chunk_shape, pad: memoryview) -> list:
    """Buffers of chunk row ``k`` at block offset (a, b), padding where the block ends."""
    ci, cx, cs = chunk_shape
    _, nib, nxb, _ = pieces.shape
    rows, cols = min(ci, nib - a), min(cx, nxb - b)
    iov: list = []
    for r in range(rows):
        iov.append(pieces[k, a + r, b:b + cols])
        if cols < cx:
            iov.append(pad[:4 * (cx - cols) * cs])
    if rows < ci:
        iov.append(pad[:4 * (ci - rows) * cx * cs])
    return iov


def write_chunk_files(root: Path, i0: int, x0: int, pieces: np.ndarray, chunk_shape, samples: int,
                      fill: float = 0.0, on_written=None) -> None:
    """Write the chunks of a block (origin ``i0, x0`` on chunk boundaries) under ``root``
    (the array's folder). Edge chunks are padded with the array's ``fill`` value, as zarr
    pads them (so the files are the ones zarr would write); ``samples`` is the trace length.
    ``on_written(fd)`` is called on each file before it is closed."""
    ci, cx, cs = chunk_shape
    npieces, nib, nxb, _ = pieces.shape
    if npieces * cs > samples:
        pieces[-1, :, :, samples - (npieces - 1) * cs:] = fill
    pad = memoryview(np.full(ci * cx * cs, fill, np.float32).view(np.uint8))
    for a in range(0, nib, ci):
        for b in range(0, nxb, cx):
            folder = root / "c" / str((i0 + a) // ci) / str((x0 + b) // cx)
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(npieces):
                fd = os.open(folder / str(k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    write_all(fd, _chunk_iov(pieces, k, a, b, chunk_shape, pad))
                    if on_written is not None:
                        on_written(fd)
                finally:
                    os.close(fd)


def read_chunk_files(root: Path, i0: int, x0: int, pieces: np.ndarray, chunk_shape, fill: float = 0.0) -> None:
    """Fill ``pieces`` with the chunks of the block at ``i0, x0`` (the inverse of
    :func:`write_chunk_files`); a chunk zarr never wrote holds ``fill``."""
    ci, cx, cs = chunk_shape
    npieces, nib, nxb, _ = pieces.shape
    sink = memoryview(bytearray(4 * ci * cx * cs))
    for a in range(0, nib, ci):
        for b in range(0, nxb, cx):
            folder = root / "c" / str((i0 + a) // ci) / str((x0 + b) // cx)
            for k in range(npieces):
                try:
                    fd = os.open(folder / str(k), os.O_RDONLY)
                except FileNotFoundError:
                    pieces[k, a:a + ci, b:b + cx] = fill
                    continue
                try:
                    if os.readv(fd, _chunk_iov(pieces, k, a, b, chunk_shape, sink)) != 4 * ci * cx * cs:
                        raise OSError(f"{folder / str(k)} is shorter than a chunk; the volume is damaged")
                finally:
                    os.close(fd)
