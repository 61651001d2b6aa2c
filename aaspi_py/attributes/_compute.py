"""``compute``: attributes of a numpy or dask amplitude volume, one family call per block.

Each family runs on blocks of whole traces carrying its inline/crossline halo. At the
survey edges the halo mirrors the volume (the edge trace repeated, numpy's "symmetric",
dask's "reflect"), so the numpy path and every dask chunking see the same neighbourhood of
every trace and give equal results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral, Real

import numpy as np

from aaspi_py.framework.errors import AaspiError

from ._family import Family


def check_names(names: str | Iterable[str], known: Mapping) -> list[str]:
    """The requested names as a list without repeats; unknown names give one line."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(dict.fromkeys(names))
    if not names:
        raise AaspiError(f"No attribute requested; name one or more of: {', '.join(known)}.")
    bad = [n for n in names if n not in known]
    if bad:
        raise AaspiError(f"Unknown attribute{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))}; "
                         f"valid names: {', '.join(known)}.")
    return names


def check_options(options: Mapping, defaults: Mapping, families: Iterable[Family]) -> dict:
    """Defaults completed by ``options``, type- and family-checked (one line per refusal)."""
    bad = [k for k in options if k not in defaults]
    if bad:
        raise AaspiError(f"Unknown attribute option{'s' if len(bad) > 1 else ''} {', '.join(map(repr, bad))}; "
                         f"valid options: {', '.join(defaults) or 'none'}.")
    out = dict(defaults)
    for key, value in options.items():
        default = defaults[key]
        if isinstance(default, bool):
            ok = isinstance(value, (bool, np.bool_))
        elif isinstance(default, Integral):
            ok = isinstance(value, Integral) and not isinstance(value, bool)
            value = int(value) if ok else value
        elif isinstance(default, Real):
            ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
            value = float(value) if ok else value
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise AaspiError(f"Attribute option {key!r} must be {type(default).__name__} like its default "
                             f"{default!r}; got {value!r}.")
        out[key] = value
    for family in families:
        message = family.check(out) if family.check is not None else None
        if message:
            raise AaspiError(f"Bad option for the {family.name} attributes: {message}.")
    return out


def _is_dask(data) -> bool:
    return type(data).__module__.startswith("dask.") and hasattr(data, "chunks")


def _halo(family: Family, options: Mapping, shape) -> tuple[int, int]:
    hi, hx = family.halo(options)
    # a halo wider than the survey only repeats mirrored traces
    return min(int(hi), shape[0]), min(int(hx), shape[1])


def _block(padded: np.ndarray, family: Family, names: list[str], halo: tuple[int, int],
           sample_interval: float, options: Mapping) -> np.ndarray:
    """Attributes ``names`` of one halo-padded block, cropped to the block: (n_names, i, x, s)."""
    x = np.asarray(padded, dtype=np.float32)
    if not np.isfinite(x).all():  # NaN/inf samples count as dead samples
        x = np.where(np.isfinite(x), x, np.float32(0))
    result = family.compute(x, names, sample_interval=sample_interval, **options)
    hi, hx = halo
    ni, nx = x.shape[0] - 2 * hi, x.shape[1] - 2 * hx
    out = np.empty((len(names), ni, nx, x.shape[2]), dtype=np.float32)
    for k, name in enumerate(names):
        out[k] = result[name][hi:hi + ni, hx:hx + nx]
    return out


def compute_family(data, family: Family, names: list[str], mask, sample_interval: float,
                   options: Mapping):
    """Stacked (n_names, inline, crossline, sample) float32 attributes of one family."""
    hi, hx = _halo(family, options, data.shape)
    args = dict(family=family, names=names, halo=(hi, hx), sample_interval=sample_interval, options=options)
    if not _is_dask(data):
        padded = np.pad(data, ((hi, hi), (hx, hx), (0, 0)), mode="symmetric") if hi or hx else data
        out = _block(padded, **args)
        if mask is not None:
            out *= mask[None, :, :, None]
        return out

    import dask.array as da
    from dask.array.overlap import ensure_minimum_chunksize

    chunks = (ensure_minimum_chunksize(hi, data.chunks[0]) if hi else data.chunks[0],
              ensure_minimum_chunksize(hx, data.chunks[1]) if hx else data.chunks[1],
              (data.shape[2],))
    data = data.rechunk(chunks)
    grown = da.overlap.overlap(data, depth={0: hi, 1: hx, 2: 0},
                               boundary={0: "reflect", 1: "reflect", 2: "none"})
    out = grown.map_blocks(_block, **args, new_axis=0, chunks=((len(names),), *data.chunks),
                           dtype=np.float32, meta=np.empty((0, 0, 0, 0), np.float32))
    if mask is not None:
        live = da.from_array(mask[None, :, :, None], chunks=((1,), *data.chunks[:2], (1,)))
        out = out * live
    return out


#: voxels of a compute block (64 x 64 x 256): memory per block stays bounded however long the traces
BLOCK_VOXELS = 64 * 64 * 256


def whole_trace_chunks(shape, chunks) -> tuple:
    """Chunks of whole traces holding at most about :data:`BLOCK_VOXELS` voxels each.

    Long traces get narrower blocks (a power of two of traces across, at least 8), so the
    memory a block needs does not grow with the trace length; chunks already narrower stay.
    """
    lateral = int(np.sqrt(BLOCK_VOXELS / max(shape[2], 1)))
    lateral = max(8, 1 << max(lateral.bit_length() - 1, 0))
    out = []
    for axis in (0, 1):
        widest = max(chunks[axis]) if chunks[axis] else 1
        out.append(chunks[axis] if widest <= lateral else lateral)
    return (out[0], out[1], -1)


def prepare(data, mask):
    """``data`` as float32 (numpy or dask, whole traces per chunk) with dead traces zeroed."""
    dask = _is_dask(data)
    if not dask:
        data = np.asarray(data)
    if data.ndim != 3:
        raise AaspiError(f"Attributes need a 3D amplitude volume (inline, crossline, sample); got shape {data.shape}.")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != data.shape[:2]:
            raise AaspiError(f"The trace mask has shape {mask.shape}; it must be (inline, crossline) = {data.shape[:2]}.")
        if mask.all():
            mask = None
    data = data.astype(np.float32, copy=False) if not dask else data.astype(np.float32)
    if dask:
        data = data.rechunk(whole_trace_chunks(data.shape, data.chunks))
    if mask is not None:
        if dask:
            import dask.array as da

            live = da.from_array(mask[:, :, None], chunks=(*data.chunks[:2], (1,)))
            data = da.where(live, data, np.float32(0))
        else:
            data = np.where(mask[:, :, None], data, np.float32(0))
    return data, mask.astype(np.float32) if mask is not None else None
