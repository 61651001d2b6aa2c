"""Shared checks for the attribute family tests: synthetic volumes with known answers, the
real F3 cut, and the chunk-invariance check that emulates a framework cutting a volume into
halo-padded blocks of whole traces."""

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "segy"


def ricker(t_ms: np.ndarray, frequency: float) -> np.ndarray:
    """Ricker wavelet of peak ``frequency`` Hz at times ``t_ms`` (ms)."""
    a = (np.pi * frequency * t_ms / 1000.0) ** 2
    return (1 - 2 * a) * np.exp(-a)


def f3_cube() -> tuple[np.ndarray, float]:
    """The real F3 cut (inline, crossline, sample) as float32 and its sample interval in ms."""
    import segyio

    with segyio.open(DATA / "f3.sgy") as f:
        return segyio.tools.cube(f).astype(np.float32), segyio.tools.dt(f) / 1000.0


def compute_in_blocks(family, x, names, splits, **options):
    """``family`` on ``x`` cut at inline/crossline ``splits`` = (inline cuts, crossline cuts):
    each block gets the family's halo (mirrored at the survey edges) and is cropped back."""
    hi, hx = family.halo(family.options | options)
    padded = np.pad(x, ((hi, hi), (hx, hx), (0, 0)), mode="symmetric")
    out = {name: np.full(x.shape, np.nan, np.float32) for name in names}
    i_edges = [0, *splits[0], x.shape[0]]
    x_edges = [0, *splits[1], x.shape[1]]
    for i0, i1 in zip(i_edges[:-1], i_edges[1:]):
        for j0, j1 in zip(x_edges[:-1], x_edges[1:]):
            block = padded[i0:i1 + 2 * hi, j0:j1 + 2 * hx]
            result = family.compute(np.ascontiguousarray(block), names, sample_interval=4.0, **options)
            for name in names:
                assert result[name].dtype == np.float32 and result[name].shape == block.shape
                out[name][i0:i1, j0:j1] = result[name][hi:hi + i1 - i0, hx:hx + j1 - j0]
    return out


def assert_chunk_invariant(family, x, names=None, **options):
    """Whole volume = two different block cuttings, for every attribute of ``family``."""
    names = list(names or family.names)
    whole = compute_in_blocks(family, x, names, ([], []), **options)
    for splits in [([5], [4, 9]), ([3, 4, 11], [7])]:
        cut = compute_in_blocks(family, x, names, splits, **options)
        for name in names:
            scale = float(np.abs(whole[name]).max()) or 1.0
            np.testing.assert_allclose(cut[name], whole[name], rtol=1e-5, atol=1e-5 * scale, err_msg=name)
