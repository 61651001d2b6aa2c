"""Boxes of a volume read from and written to its zarr chunk files directly, for arrays
stored as plain float32 chunks (no compression: every float volume of a project).

zarr v3 stores such an array's chunk ``(i, j, k)`` as the file ``c/i/j/k`` under the
array's folder: the chunk's values, little-endian float32 in C order, edge chunks padded
to the full chunk shape with the fill value; a chunk never written reads as the fill
value. Going through zarr costs, per (64, 64, 128) chunk, several times the copy itself
(its codec pipeline runs on an event loop in another thread); reading the file directly
costs the copy. A box that takes only part of a chunk (the halo of a neighbouring chunk)
maps the file and copies just that part, where zarr decodes the whole chunk.

:func:`plain_chunks` says when an array is stored that way; :func:`chunk_files` gives the
picklable handle the region tasks use (None: go through zarr).
"""

from __future__ import annotations

import errno
import itertools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def plain_chunks(array, chunk_shape: tuple[int, ...] | None = None) -> bool:
    """Whether a zarr array stores float32 chunks as plain little-endian files under
    ``c/i/j/k`` (no codec but bytes, zarr's default key encoding)."""
    from zarr.codecs import BytesCodec

    meta = getattr(array, "metadata", None)
    return (getattr(meta, "zarr_format", None) == 3 and len(meta.codecs) == 1
            and isinstance(meta.codecs[0], BytesCodec)
            and str(getattr(meta.codecs[0].endian, "value", "")) == "little"
            and getattr(meta.chunk_key_encoding, "name", "") == "default"
            and getattr(meta.chunk_key_encoding, "separator", "") == "/"
            and (chunk_shape is None or tuple(meta.chunk_grid.chunk_shape) == tuple(chunk_shape))
            and array.ndim == 3 and array.dtype == np.float32 and sys.byteorder == "little")


def chunk_pieces(lo: Sequence[int], hi: Sequence[int], chunks: Sequence[int]):
    """The chunks a box ``[lo, hi)`` meets on a regular chunk grid: per chunk, its index,
    the slices of it the box takes and where they go in the box."""
    ranges = [range(a // c, (b - 1) // c + 1) for a, b, c in zip(lo, hi, chunks)]
    for idx in itertools.product(*ranges):
        start = [i * c for i, c in zip(idx, chunks)]
        inner = tuple(slice(max(a, s) - s, min(b, s + c) - s) for a, b, s, c in zip(lo, hi, start, chunks))
        where = tuple(slice(s + q.start - a, s + q.stop - a) for q, s, a in zip(inner, start, lo))
        yield idx, inner, where


class ChunkFiles:
    """The chunk files of one plain float32 array on a local (or shared) filesystem.

    Parameters
    ----------
    folder : Path
        The array's folder (holding ``zarr.json`` and ``c/``).
    shape, chunks : (int, int, int)
        The array's shape and chunk shape.
    fill : float
        The array's fill value (what a chunk never written holds).
    """

    def __init__(self, folder: Path, shape: Sequence[int], chunks: Sequence[int], fill: float) -> None:
        self.folder = Path(folder)
        self.shape = tuple(int(n) for n in shape)
        self.chunks = tuple(int(c) for c in chunks)
        self.fill = np.float32(fill)

    def _path(self, idx: Sequence[int]) -> Path:
        return self.folder.joinpath("c", *map(str, idx))

    def read_box(self, lo: Sequence[int], hi: Sequence[int], out: np.ndarray) -> np.ndarray:
        """``array[lo:hi]`` into ``out`` (any float32 view of the box's shape)."""
        for idx, inner, where in chunk_pieces(lo, hi, self.chunks):
            path = self._path(idx)
            if not path.exists():
                out[where] = self.fill
                continue
            whole = all(q.start == 0 and q.stop == c for q, c in zip(inner, self.chunks))
            if whole and out[where].flags.c_contiguous:
                with open(path, "rb") as f:
                    if f.readinto(out[where]) != 4 * int(np.prod(self.chunks)):
                        raise OSError(f"{path} is shorter than a chunk; the volume is damaged")
                continue
            # part of a chunk (a halo): map the file and copy only what the box takes
            if path.stat().st_size != 4 * int(np.prod(self.chunks)):
                raise OSError(f"{path} is not one chunk long; the volume is damaged")
            mapped = np.memmap(path, dtype=np.float32, mode="r", shape=self.chunks)
            out[where] = mapped[inner]
            del mapped
        return out

    def write_box(self, lo: Sequence[int], block: np.ndarray) -> None:
        """``array[lo:lo + block.shape] = block`` for a box on chunk boundaries (ending on
        one or at the array's end): whole chunk files, edge chunks padded with the fill."""
        hi = [a + n for a, n in zip(lo, block.shape)]
        for a, b, c, n in zip(lo, hi, self.chunks, self.shape):
            if a % c or (b % c and b != n):
                raise ValueError(f"box {lo}..{hi} is not on the chunk grid {self.chunks}")
        for idx, inner, where in chunk_pieces(lo, hi, self.chunks):
            part = block[where]
            if part.shape != self.chunks:  # an edge chunk: padded as zarr pads it
                full = np.full(self.chunks, self.fill, dtype=np.float32)
                full[inner] = part
                part = full
            part = np.ascontiguousarray(part, dtype=np.float32)
            path = self._path(idx)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                write_all(fd, [memoryview(part).cast("B")])
            finally:
                os.close(fd)


def write_all(fd: int, buffers: list) -> None:
    """Write ``buffers`` to ``fd`` in full. A short write (a disk filling up) is followed
    by a write of the rest, which then fails with the system's own error (ENOSPC: "No space
    left on device"), so the run reports the cause rather than a short count."""
    total = sum(memoryview(b).nbytes for b in buffers)
    done = os.writev(fd, buffers)
    if done == total:
        return
    rest = memoryview(b"".join(bytes(memoryview(b).cast("B")) for b in buffers))[done:]
    while rest.nbytes:
        n = os.write(fd, rest)
        if n == 0:
            raise OSError(errno.EIO, "no progress writing a chunk file")
        rest = rest[n:]


def chunk_files(array) -> ChunkFiles | None:
    """The :class:`ChunkFiles` of a zarr array stored as plain float32 chunks in a local
    folder, else None (other codecs, stores or types go through zarr)."""
    if not plain_chunks(array):
        return None
    store_path = getattr(array, "store_path", None)
    root = getattr(getattr(store_path, "store", None), "root", None)
    if root is None:
        return None
    folder = Path(root) / store_path.path if store_path.path else Path(root)
    if not (folder / "zarr.json").is_file():
        return None
    fill = array.fill_value if array.fill_value is not None else 0.0
    return ChunkFiles(folder, array.shape, array.chunks, float(fill))
