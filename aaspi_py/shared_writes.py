"""Write several lazily computed volumes that share their blocks, in one dask pass.

``xarray.Dataset.to_zarr(compute=False)`` optimises each volume's graph on its own, which
fuses a shared upstream task (e.g. one attribute family computing seven outputs per block)
into every output and computes it once per output. Here each volume's metadata and
coordinates are written first (the data variable stays an unwritten placeholder), then one
``dask.array.store`` over all outputs writes every chunk-aligned block, so a shared block is
computed once and memory stays bounded by a few blocks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .volume import _chunks_for, build_dataset


def prepare_volume(data, path: str | os.PathLike, *, like, chunks=None, compressors=None, **build):
    """Write the metadata and coordinates of a volume at ``path``; return (zarr array, dask data).

    ``data`` is a lazy dask array of the volume's shape; it is not computed here. Samples
    are stored with ``compressors`` (default none: lossless codecs save little on float
    attributes for about twice the CPU of the write).
    """
    import dask.array as da
    import zarr

    shape = tuple(data.shape)
    ch = _chunks_for(shape, chunks)
    placeholder = da.zeros(shape, dtype=np.float32, chunks=ch)
    ds = build_dataset(placeholder, like=like, **build)
    # small coordinates in memory, so xarray writes them now and defers only the data
    ds = ds.assign_coords({k: ds[k].load() for k in ("cdp_x", "cdp_y", "trace_mask") if k in ds.coords})
    encoding = {"data": {"chunks": ch, "compressors": compressors}}
    for name in ("cdp_x", "cdp_y", "trace_mask"):
        if name in ds.coords:
            encoding[name] = {"chunks": ch[:2]}
    for name in list(ds.variables):
        ds[name].encoding.pop("chunks", None)
        ds[name].encoding.pop("preferred_chunks", None)
    ds.to_zarr(Path(path), mode="w", zarr_format=3, consolidated=False, encoding=encoding, compute=False)
    target = zarr.open_array(Path(path) / "data", mode="r+")
    dtype = target.dtype
    return target, data.astype(dtype).rechunk(ch)


def store_all(sources: Sequence, targets: Sequence):
    """One delayed writing every source into its zarr target (chunk-aligned, no lock)."""
    import dask.array as da

    return da.store(list(sources), list(targets), lock=False, compute=False)


__all__ = ["prepare_volume", "store_all"]
