"""kuwahara3d's steps beside the filter: per-block change statistics and the run's memory model."""

from __future__ import annotations


def _change_block(x, y, live):
    from aaspi_py.filters.kuwahara_kernels import change_sums

    return change_sums(x, y, live[:, :, 0]).reshape(1, 1, 1, 8)


def change_statistics(x, y, live):
    """Dask array (blocks..., 8): ``change_sums`` of each block of ``x`` (input) and ``y``,
    one small task per block beside the block's write."""
    import dask.array as da
    import numpy as np

    y = y.rechunk(x.chunks)
    live = da.from_array(np.ascontiguousarray(live)[:, :, None], chunks=(x.chunks[0], x.chunks[1], 1))
    parts = da.map_blocks(_change_block, x, y, live, new_axis=3, chunks=(*((1,) * n for n in x.numblocks), (8,)),
                          dtype=np.float64)
    return parts


def memory_needed(shape, n_inputs, window, selection, chunks):
    """Bytes a kuwahara3d run holds at most (see :func:`aaspi_py.framework.volume_store.memory_model`)."""
    from aaspi_py.framework.volume_store import memory_model

    # joint and guide keep float64 means and variances of every input, a score and an index
    work = 8 * (2 * n_inputs + 2) if selection != "each" else 16
    n_read = n_inputs + (1 if selection == "guide" else 0)
    return memory_model(shape, n_read if selection != "each" else 1, n_outputs=n_inputs if selection != "each" else 1,
                        halo=[w - 1 for w in window], chunks=chunks, work_bytes_per_voxel=work)
