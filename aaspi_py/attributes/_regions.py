"""Attributes of one region of a volume read with its halo (for
:func:`aaspi_py.framework.volume_store.write_regions`): the attributes module reads each
block of whole traces and its inline/crossline halo straight from zarr inside its task,
instead of through a dask overlap graph that holds whole neighbouring chunks.

The block each family sees is the one :func:`aaspi_py.attributes.compute` gives it (dead
traces zeroed, non-finite samples 0, the halo mirrored at the survey edges), so the
outputs equal that function's for any chunking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._compute import check_names, check_options, whole_trace_chunks


class AttributeRegions:
    """Callable ``(blocks, index, region) -> (outputs, partial)`` computing ``names``.

    Parameters
    ----------
    names : sequence of str
        Attributes, in output order.
    options : mapping
        Family options (checked and completed with the defaults).
    sample_interval : float
        ms (time) or m (depth).
    mask : ndarray of shape (n_inline, n_crossline), bool, optional
        Live traces; dead ones are zero in the input and in every output.
    """

    def __init__(self, names: Sequence[str], options: Mapping, *, shape: Sequence[int], sample_interval: float,
                 mask: np.ndarray | None = None) -> None:
        from aaspi_py import attributes

        self.names = check_names(list(names), dict.fromkeys(attributes.NAMES))
        groups: dict[str, list[str]] = {}
        for name in self.names:
            groups.setdefault(attributes.family_of(name), []).append(name)
        opts = check_options(dict(options), attributes.OPTIONS, [attributes.FAMILIES[f] for f in groups])
        self.groups = groups
        self.options = {f: {k: v for k, v in opts.items() if k in attributes.FAMILIES[f].options} for f in groups}
        self.sample_interval = float(sample_interval)
        self.mask = None if mask is None or np.all(mask) else np.ascontiguousarray(mask, dtype=bool)
        self.halos = {}
        for f in groups:
            hi, hx = attributes.FAMILIES[f].halo(self.options[f])
            # a halo wider than the survey only repeats mirrored traces
            self.halos[f] = (min(int(hi), int(shape[0])), min(int(hx), int(shape[1])))

    @property
    def halo(self) -> tuple[int, int, int]:
        """The halo to read: the widest family's, none along the samples."""
        return max(a for a, _ in self.halos.values()), max(b for _, b in self.halos.values()), 0

    @staticmethod
    def chunks(shape: Sequence[int], chunks: Sequence[Sequence[int]]) -> tuple[int, int, int]:
        """Output chunks and blocks: whole traces' lateral extent bounded as the dask path
        bounds it (narrower for long traces), 128 samples per zarr chunk."""
        from aaspi_py.volume import DEFAULT_CHUNKS

        lateral = whole_trace_chunks(shape, chunks)
        first = [c[0] if isinstance(c, tuple) else int(c) for c in lateral[:2]]
        return first[0], first[1], DEFAULT_CHUNKS[2]

    def __call__(self, blocks: list[np.ndarray], index: list[np.ndarray], region: tuple[slice, ...]):
        from aaspi_py import attributes

        (x,) = blocks
        x = np.asarray(x, dtype=np.float32)
        live = None
        if self.mask is not None:
            live = self.mask[np.ix_(index[0], index[1])]
            x = np.where(live[:, :, None], x, np.float32(0))
        if not np.isfinite(x).all():  # NaN/inf samples count as dead samples
            x = np.where(np.isfinite(x), x, np.float32(0))
        big_i, big_x, _ = self.halo
        ni, nx = region[0].stop - region[0].start, region[1].stop - region[1].start
        result: dict[str, np.ndarray] = {}
        for f, names in self.groups.items():
            hi, hx = self.halos[f]
            block = np.ascontiguousarray(x[big_i - hi:big_i + ni + hi, big_x - hx:big_x + nx + hx])
            got = attributes.FAMILIES[f].compute(block, names, sample_interval=self.sample_interval,
                                                 **self.options[f])
            for name in names:
                result[name] = np.asarray(got[name], dtype=np.float32)[hi:hi + ni, hx:hx + nx]
        outs = []
        for name in self.names:
            out = result[name]
            if live is not None:
                out = out * live[big_i:big_i + ni, big_x:big_x + nx, None].astype(np.float32)
            outs.append(np.ascontiguousarray(out, dtype=np.float32))
        return outs, np.zeros(0)
