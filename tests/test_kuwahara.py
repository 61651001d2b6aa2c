"""Kuwahara filter: equal to a brute-force reference, independent of chunking, edge-preserving.

The references below loop over every voxel and every candidate window with plain numpy;
they share no code with aaspi_py.filters.kuwahara.
"""

import itertools

import dask.array as da
import numpy as np
import pytest
from module_contract import ModuleContract

import aaspi_py
from aaspi_py.filters.kuwahara import global_variances, kuwahara
from aaspi_py.framework.errors import AaspiError

# ---------------------------------------------------------------- brute-force references


def _starts(p, h, octants):
    """Window starts (padded coordinates) of the candidates of position p, in increasing order."""
    offsets = sorted({0, h}) if octants else range(h + 1)
    return sorted(p + h - o for o in offsets)


def _windows(shape, window, octants):
    """For every voxel: its candidate windows as slices into the padded volume, in the
    tie-break order (smallest start first, inline, then crossline, then sample)."""
    halo = [w - 1 for w in window]
    for p in itertools.product(*map(range, shape)):
        cands = itertools.product(*[_starts(pi, h, octants) for pi, h in zip(p, halo)])
        yield p, [tuple(slice(s, s + w) for s, w in zip(c, window)) for c in cands]


def _pad(x, window, mask=None):
    x = np.asarray(x, dtype=float).copy()
    if mask is not None:
        x[~mask] = np.nan
    return np.pad(x, [(w - 1, w - 1) for w in window], mode="symmetric")


def _stat(v, statistic):
    return v.mean() if statistic == "mean" else np.median(v)


def brute_each(x, window, octants=False, statistic="mean", mask=None, min_valid=1):
    xp = _pad(x, window, mask)
    out = np.full(np.shape(x), np.nan)
    for p, cands in _windows(np.shape(x), window, octants):
        best = None
        for sl in cands:
            v = xp[sl][np.isfinite(xp[sl])]
            if v.size >= min_valid and (best is None or v.var() < best[0]):
                best = (v.var(), v)
        if best is not None:
            out[p] = _stat(best[1], statistic)
    if mask is not None:
        out[~mask] = np.nan
    return out


def brute_shared(xs, window, octants=False, statistic="mean", mask=None, scales=None, guide=None):
    """joint (scales given) or guide (guide volume given)."""
    pads = [_pad(x, window, mask) for x in xs]
    gp = None if guide is None else _pad(guide, window, mask)
    outs = [np.full(np.shape(xs[0]), np.nan) for _ in xs]
    for p, cands in _windows(np.shape(xs[0]), window, octants):
        best = None
        for sl in cands:
            vals = [xp[sl][np.isfinite(xp[sl])] for xp in pads]
            if gp is None:
                if min(v.size for v in vals) == 0:
                    continue
                score = sum(v.var() / s for v, s in zip(vals, scales))
            else:
                g = gp[sl][np.isfinite(gp[sl])]
                if g.size == 0:
                    continue
                score = g.var()
            if best is None or score < best[0]:
                best = (score, vals)
        if best is not None:
            for o, v in zip(outs, best[1]):
                if v.size:
                    o[p] = _stat(v, statistic)
    if mask is not None:
        for o in outs:
            o[~mask] = np.nan
    return outs


def brute_2d(s, window):
    """Plain 2D Kuwahara (all windows, mean) of a (n1, n2) image."""
    sp = np.pad(np.asarray(s, float), [(w - 1, w - 1) for w in window], mode="symmetric")
    out = np.empty(np.shape(s))
    for j, k in itertools.product(*map(range, np.shape(s))):
        best = None
        for a, b in itertools.product(range(j, j + window[0]), range(k, k + window[1])):
            v = sp[a:a + window[0], b:b + window[1]]
            if best is None or v.var() < best[0]:
                best = (v.var(), v.mean())
        out[j, k] = best[1]
    return out


def assert_same(y, ref):
    """Same NaN pattern and values equal to float32 rounding."""
    y = np.asarray(y)
    assert np.array_equal(np.isnan(y), np.isnan(ref)), "NaN pattern differs from the reference"
    np.testing.assert_allclose(y[~np.isnan(y)], ref[~np.isnan(ref)], rtol=2e-6, atol=2e-6)


@pytest.fixture
def volume(rng):
    """A small random volume with NaN voxels, and a trace mask with dead traces."""
    x = rng.standard_normal((5, 6, 7)).astype("f4")
    x[rng.random(x.shape) < 0.08] = np.nan
    mask = rng.random((5, 6)) > 0.2
    return x, mask


# ---------------------------------------------------------------- equality with brute force

@pytest.mark.parametrize("window", [(3, 3, 3), (3, 5, 1), (2, 3, 4)])
@pytest.mark.parametrize("subwindows", ["all", "octants"])
@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_each_equals_brute_force(volume, window, subwindows, statistic):
    x, mask = volume
    ref = brute_each(x, window, subwindows == "octants", statistic, mask)
    assert_same(kuwahara(x, window, subwindows=subwindows, statistic=statistic, mask=mask), ref)
    # the dask path (blocks with halos) gives the same
    y = kuwahara(da.from_array(x, chunks=(2, 3, 4)), window, subwindows=subwindows,
                 statistic=statistic, mask=mask)
    assert isinstance(y, da.Array)
    assert_same(y.compute(), ref)


def test_without_nan_or_mask_and_min_valid(rng):
    x = rng.standard_normal((4, 5, 6))
    assert_same(kuwahara(x), brute_each(x, (3, 3, 3)))
    assert kuwahara(x).dtype == np.float64 and kuwahara(x.astype("f4")).dtype == np.float32
    x[rng.random(x.shape) < 0.3] = np.nan
    assert_same(kuwahara(x, (3, 3, 3), min_valid=12), brute_each(x, (3, 3, 3), min_valid=12))
    # windows of more than 32 voxels take the median by quickselect instead of rank counting
    assert_same(kuwahara(x, (5, 3, 3), statistic="median"), brute_each(x, (5, 3, 3), statistic="median"))


@pytest.mark.parametrize("window", [(3, 3, 3), (3, 5, 1)])
@pytest.mark.parametrize("subwindows", ["all", "octants"])
@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_joint_and_guide_equal_brute_force(volume, rng, window, subwindows, statistic):
    x, mask = volume
    other = (3.0 * rng.standard_normal(x.shape) + 5.0).astype("f4")
    scales = global_variances([x, other], mask)
    live = np.broadcast_to(mask[:, :, None], x.shape)
    for got, arr in zip(scales, [x, other]):
        assert got == pytest.approx(np.nanvar(np.where(live, arr, np.nan).astype(float)), rel=1e-5)
    kw = {"subwindows": subwindows, "statistic": statistic, "mask": mask}
    octants = subwindows == "octants"
    for y, ref in zip(kuwahara([x, other], window, selection="joint", **kw),
                      brute_shared([x, other], window, octants, statistic, mask, scales=scales)):
        assert_same(y, ref)
    # guide: the second volume chooses for both
    for y, ref in zip(kuwahara([x, other], window, selection="guide", guide=1, **kw),
                      brute_shared([x, other], window, octants, statistic, mask, guide=other)):
        assert_same(y, ref)


def test_tie_rule_and_reflection():
    # A constant guide ties every candidate: the window starting first wins, i.e. the one
    # ending at the voxel on every axis: out[p] = mean of x[p-2 .. p] (3x3x3 window).
    x = np.arange(4 * 5 * 6, dtype=float).reshape(4, 5, 6) ** 1.5
    y = kuwahara(x, selection="guide", guide=np.zeros_like(x))
    xp = np.pad(x, 2, mode="symmetric")
    ref = np.empty_like(x)
    for p in itertools.product(*map(range, x.shape)):
        ref[p] = xp[p[0]:p[0] + 3, p[1]:p[1] + 3, p[2]:p[2] + 3].mean()
    np.testing.assert_allclose(y, ref, rtol=1e-12)
    # half-sample reflection at the border: for 0 10 20 30 the first sample's candidates are
    # (10 0 0), (0 0 10) and (0 10 20); the first two tie with mean 10/3. (Whole-sample
    # reflection would give (20 10 0), (10 0 10), (0 10 20): mean 20/3.)
    line = np.array([0.0, 10.0, 20.0, 30.0]).reshape(1, 1, 4)
    assert kuwahara(line, (1, 1, 3))[0, 0, 0] == pytest.approx(10 / 3)


# ---------------------------------------------------------------- chunking

@pytest.mark.parametrize("chunks", [(1, 1, 1), (2, 3, 4), (1, 6, 2), (5, 2, 7), (3, 4, 5)])
def test_identical_whatever_the_chunking(rng, chunks):
    x = rng.standard_normal((7, 8, 9)).astype("f4")
    x[rng.random(x.shape) < 0.05] = np.nan
    mask = rng.random((7, 8)) > 0.1
    other = rng.standard_normal(x.shape).astype("f4")
    for window, kw in [((3, 3, 3), {}), ((5, 3, 4), {"statistic": "median"}),
                       ((3, 3, 3), {"subwindows": "octants"})]:
        whole = kuwahara(x, window, mask=mask, **kw)
        y = kuwahara(da.from_array(x, chunks=chunks), window, mask=mask, **kw).compute()
        assert np.array_equal(y, whole, equal_nan=True), (window, kw)
    whole = kuwahara([x, other], selection="joint", mask=mask)
    y = da.compute(*kuwahara([da.from_array(x, chunks=chunks), da.from_array(other, chunks=chunks)],
                             selection="joint", mask=mask))
    for a, b in zip(y, whole):
        assert np.array_equal(a, b, equal_nan=True)


# ---------------------------------------------------------------- properties

@pytest.mark.parametrize("axis", [0, 2])
def test_constant_along_one_axis_is_the_2d_filter(rng, axis):
    s = rng.standard_normal((7, 8))
    x = np.repeat(np.expand_dims(s, axis), 5, axis=axis)
    y = kuwahara(x, (3, 3, 3))
    ref = brute_2d(s, (3, 3))
    for t in range(5):
        np.testing.assert_allclose(np.take(y, t, axis=axis), ref, rtol=1e-10, atol=1e-12)


def test_noisy_step_edge_stays_a_step(rng):
    level = np.where(np.arange(32) < 16, 0.0, 1.0)  # edge between crosslines 15 and 16
    truth = np.broadcast_to(level[None, :, None], (24, 32, 24))
    x = truth + 0.2 * rng.standard_normal(truth.shape)
    y = kuwahara(x, (3, 3, 3))
    inner = (slice(2, -2), slice(None), slice(2, -2))  # away from the volume's borders
    y, x, truth = y[inner], x[inner], truth[inner]
    # next to the edge each side keeps its level (a 3x3x3 box mean would give 1/3 and 2/3)
    assert abs(y[:, 15].mean() - 0.0) < 0.05 and abs(y[:, 16].mean() - 1.0) < 0.05
    assert np.array_equal(y[:, 15:17] > 0.5, truth[:, 15:17] > 0.5)
    # while the noise inside each side drops
    for side in (slice(0, 16), slice(16, 32)):
        assert y[:, side].var() < 0.25 * x[:, side].var()


def test_joint_selection_aligns_edges_across_attributes(rng):
    # two attributes with one edge (a plane tilted across crosslines), one clean, one noisy
    il, xl, t = np.meshgrid(np.arange(16), np.arange(32), np.arange(20), indexing="ij")
    high = xl >= 12 + (il + t) // 4
    clean = high + 0.1 * rng.standard_normal(high.shape)
    noisy = high + 0.7 * rng.standard_normal(high.shape)
    each = kuwahara([clean, noisy], (3, 3, 3))
    joint = kuwahara([clean, noisy], (3, 3, 3), selection="joint")

    def edge(v):
        # per trace segment (inline, sample): the crossline where the attribute crosses 0.5
        return (v < 0.5).sum(axis=1)

    true_edge = edge(high.astype(float))  # number of low voxels: the edge position
    assert np.abs(edge(each[0]) - true_edge).mean() < 0.2  # the clean one is right alone
    miss_each = np.abs(edge(each[1]) - edge(each[0])).mean()
    miss_joint = np.abs(edge(joint[1]) - edge(joint[0])).mean()
    assert miss_joint < 0.5 * miss_each
    assert np.abs(edge(joint[1]) - true_edge).mean() < np.abs(edge(each[1]) - true_edge).mean()


def test_bad_arguments_say_what_to_fix(rng):
    x = rng.standard_normal((3, 4, 5))
    with pytest.raises(AaspiError, match=r"window must be three ints >= 1"):
        kuwahara(x, (3, 0, 3))
    with pytest.raises(AaspiError, match=r"selection must be one of 'each', 'joint', 'guide'"):
        kuwahara(x, selection="both")
    with pytest.raises(AaspiError, match=r"share one shape"):
        kuwahara([x, x[:, :, :4]], selection="joint")
    with pytest.raises(AaspiError, match=r"min_valid \(28\) is more than the 3x3x3 window holds"):
        kuwahara(x, min_valid=28)
    with pytest.raises(AaspiError, match=r"mask must have shape"):
        kuwahara(x, mask=np.ones((4, 3), bool))


def test_public_export(rng):
    # aaspi_py.kuwahara is the filter function, even after its file has been imported
    x = rng.standard_normal((3, 4, 5))
    assert np.array_equal(aaspi_py.kuwahara(x, (3, 1, 3)), kuwahara(x, (3, 1, 3)))


# ---------------------------------------------------------------- the module

def _write_pair(project, rng, shape=(6, 7, 12)):
    a = rng.standard_normal(shape).astype("f4")
    b = (2.0 * rng.standard_normal(shape) + 1.0).astype("f4")
    mask = np.ones(shape[:2], bool)
    mask[0, :2] = False
    a[~mask] = 0.0  # dead traces hold zeros, as after SEG-Y import
    aaspi_py.save_volume(a, project.volumes_dir / "amp.zarr", trace_mask=mask, kind="attribute")
    aaspi_py.save_volume(b, project.volumes_dir / "env.zarr", trace_mask=mask, kind="attribute")
    return a, b, mask


class TestKuwahara3dModule(ModuleContract):
    module_id = "kuwahara3d"

    def setup_project(self, project):
        _write_pair(project, np.random.default_rng(3))
        return {"inputs": ["amp", "env"], "window": [3, 3, 3]}


@pytest.mark.parametrize("selection", ["each", "joint", "guide"])
def test_module_matches_the_function(project, rng, selection):
    a, b, mask = _write_pair(project, rng)
    res = aaspi_py.run("kuwahara3d", project.root, inputs=["amp", "env"], window=[3, 5, 3],
                       selection=selection, guide="env", suffix="_t")
    assert sorted(res.outputs) == ["kuwahara3d_amp_test_t", "kuwahara3d_env_test_t"]
    ref = kuwahara([a, b], (3, 5, 3), selection=selection, guide=1, mask=mask)
    for name, r in zip(["amp", "env"], ref):
        ds = aaspi_py.open_volume(res.outputs[f"kuwahara3d_{name}_test_t"])
        assert ds.attrs["kind"] == "filtered" and ds["data"].dtype == np.float32
        assert np.array_equal(ds["trace_mask"].values, mask)
        assert np.isnan(ds["data"].values[~mask]).all()  # dead traces stay dead
        assert np.array_equal(ds["data"].values, r, equal_nan=True)
    live_a = np.where(mask[:, :, None], a, np.nan)  # the dead traces' zeros are not data
    before, after = res.report["std_before_after"]["amp"]
    assert before == pytest.approx(np.nanstd(live_a), rel=1e-6)
    assert after == pytest.approx(np.nanstd(ref[0]), rel=1e-6) and after < 0.6 * before
    assert res.report["mean_abs_change"]["amp"] == pytest.approx(np.nanmean(abs(ref[0] - live_a)), rel=1e-6)
    assert res.report["summary"][1].startswith("kuwahara3d_amp_test_t: std ")


def test_module_refuses_bad_inputs(project, rng):
    _write_pair(project, rng)
    with pytest.raises(AaspiError, match=r"'window' parameter of kuwahara3d needs three sizes"):
        aaspi_py.run("kuwahara3d", project.root, inputs=["amp"], window=[3, 3])
    with pytest.raises(AaspiError, match=r"Volume 'nope' \(parameter 'inputs'\) not found"):
        aaspi_py.run("kuwahara3d", project.root, inputs=["amp", "nope"])
    aaspi_py.save_volume(np.zeros((6, 7, 10), "f4"), project.volumes_dir / "short.zarr")
    with pytest.raises(AaspiError, match=r"Volume 'short' \(parameter 'inputs'\) is not on the grid"):
        aaspi_py.run("kuwahara3d", project.root, inputs=["amp", "short"], selection="joint")
