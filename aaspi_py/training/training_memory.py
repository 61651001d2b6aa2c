"""The memory a training set needs, and the one-line refusal when it cannot fit.

Reading the attribute values at the training voxels (define_training_data's extraction,
rfc3d's text training file) holds two things:

- per training voxel: its indices, facies, polygon, position and one float64 value per
  attribute, with the temporary copies of sorting, gathering and writing them. This part is
  proportional to the training voxels, and inevitable: the training set is the result.
- per thread: the zarr chunk being decoded and the points taken from it. Only the chunks
  that hold training voxels are read, one task per chunk (a dask point gather), so this
  part does not grow with the volume.

The bytes per voxel were measured with ``tracemalloc`` on 0.5 to 1 million voxels of one
and four attributes (define_training_data: 169 + 6 per attribute to extract, 126 + 16 per
attribute more to write the training set's files; rfc3d's file read: about 510 + 8 per
attribute, the text parsed into Python rows and the polygon look-up) and rounded up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from aaspi_py.framework.errors import AaspiError

#: define_training_data: bytes per training voxel, and per voxel and attribute
EXTRACT_BYTES = (200, 32)
#: rfc3d reading a text training file: bytes per row, and per row and attribute
TEXT_FILE_BYTES = (600, 16)


def training_memory(n_voxels: int, n_attributes: int, chunks: Sequence[int], *,
                    per_voxel: tuple[int, int] = EXTRACT_BYTES, threads: int | None = None) -> int:
    """Bytes a training set of ``n_voxels`` × ``n_attributes`` needs at most, with its reads.

    Parameters
    ----------
    n_voxels : int
        Training voxels (rows of a text training file).
    n_attributes : int
        Attribute volumes read at each voxel.
    chunks : (int, int, int)
        Chunk shape of the attribute volumes.
    per_voxel : (int, int)
        Bytes per voxel, and per voxel and attribute (:data:`EXTRACT_BYTES`,
        :data:`TEXT_FILE_BYTES`).
    threads : int, optional
        Chunks read at once (default: the CPU count).

    Returns
    -------
    int
        The voxels' share plus, per thread, a float64 copy of a decoded chunk (float32
        chunk and the points taken from it, with room for the result of a cast).
    """
    threads = threads or os.cpu_count() or 1
    base, per_attribute = per_voxel
    chunk = 4 * int(np.prod([int(c) for c in chunks]))
    return int(n_voxels) * (base + per_attribute * int(n_attributes)) + threads * 3 * chunk


def check_training_memory(n_voxels: int, n_attributes: int, chunks: Sequence[int], what: str, fix: str, *,
                          per_voxel: tuple[int, int] = EXTRACT_BYTES, available: int | None = None) -> None:
    """Refuse, in one line, a training set that cannot fit in memory.

    Parameters
    ----------
    n_voxels, n_attributes, chunks, per_voxel
        As in :func:`training_memory`.
    what : str
        Where the voxels come from, e.g. "the polygons of facies 'salt', 'mtd'".
    fix : str
        What to change, e.g. "draw smaller or fewer polygons".
    available : int, optional
        Bytes available (default: the memory available now).
    """
    from aaspi_py.framework.resources import available_bytes, format_bytes

    needed = training_memory(n_voxels, n_attributes, chunks, per_voxel=per_voxel)
    have = available_bytes() if available is None else available
    if needed > have:
        raise AaspiError(f"{what} give {n_voxels:,} training voxels; with {n_attributes} attribute(s) they need "
                         f"about {format_bytes(needed)} of memory but {format_bytes(have)} is available; {fix}.")
