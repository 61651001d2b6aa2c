"""GTM volume mapping kernel: each voxel's outputs against a plain float64 numpy reference
(every node exponentiated, nothing left out), bit-identical for any chunking, and exact
where a voxel lies far from every node."""

import warnings

import dask.array as da
import numpy as np
import pytest

from aaspi_py.gtm.volume_mapping import VolumeGTM, map_volume
from aaspi_py.gtm.voxel_kernels import exp_array

SHAPE = (9, 8, 30)
FACIES = ["sand", "shale", "carbonate"]


def sheet_attributes(n_attributes, shape=SHAPE, seed=0):
    """Attributes of voxels on a curved 2D sheet with three facies offsets, plus noise."""
    rng = np.random.default_rng(seed)
    s, t = rng.uniform(size=(2, *shape))
    facies = np.where(s > 0.7, 0, np.where(t < 0.3, 1, 2))
    feats = np.stack([s, t, np.sin(3 * s), np.cos(2 * t), s * t, (facies == 0) * 1.5 - (facies == 1)], -1)
    mix = rng.normal(size=(6, n_attributes))
    values = feats @ mix + 0.3 * rng.standard_normal((*shape, n_attributes))
    return [values[..., j] for j in range(n_attributes)], facies


@pytest.fixture(scope="module", params=[(9, (20, 20), np.float32), (4, (5, 7), np.float64)],
                ids=["9 attributes, 20x20 nodes, float32", "4 attributes, 5x7 nodes, float64"])
def case(request):
    n_attr, latent, dtype = request.param
    values, facies = sheet_attributes(n_attr)
    X = np.column_stack([v.ravel() for v in values])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VolumeGTM.fit(X[::2], [f"a{j}" for j in range(n_attr)], latent_shape=latent, rbf_shape=(4, 4),
                              max_iter=20, random_state=0)
    model.fit_facies(X[::5], facies.ravel()[::5], FACIES)
    # outliers: a few standard deviations, far from every node (every exp(a) underflows),
    # NaN attributes, and dead traces
    values = [v.astype(dtype) for v in values]
    scale = model.scale
    values[0][1, 2, 3] += 8 * scale[0]
    values[-1][2, 2, 5] -= 40 * scale[-1]
    for j in range(n_attr):
        values[j][3, 4, 7] = model.center[j] + 300 * scale[j] * (-1) ** j
    values[1][4, 1, 9] = np.nan
    values[0][5, 5, 0] = np.inf
    mask = np.ones(SHAPE[:2], bool)
    mask[0, 3] = mask[8, 7] = False
    return model, values, mask


def reference(model, X):
    """Outputs of voxels X (n, D) by plain float64 numpy: all K exponentials, log-sum-exp."""
    g = model.gtm
    Z = (X.astype(np.float64) - model.center) / model.scale - g.mean_
    Y = g.means_ - g.mean_
    a = -0.5 * g.beta_ * ((Z[:, None, :] - Y[None]) ** 2).sum(-1)
    top = a.max(axis=1, keepdims=True)
    R = np.exp(a - top)
    R /= R.sum(axis=1, keepdims=True)
    ranked = np.sort(a, axis=1)
    return {"u": R @ g.nodes_, "mode": a.argmax(axis=1) + 1, "gap": ranked[:, -1] - ranked[:, -2], "R": R,
            "bc": np.minimum(np.sqrt(R) @ np.sqrt(model.facies_pdfs).T, 1.0),
            "posterior": R @ model.node_posterior().T}


def computed(model, values, mask, chunks, classify_by="posterior"):
    maps = map_volume(model, [da.from_array(v, chunks=chunks) for v in values], mask, classify_by=classify_by)
    out = da.compute(*maps.latent_mean, maps.latent_mode, *maps.bhattacharyya, *maps.posterior,
                     maps.classification, maps.pdf, maps.live_voxels)
    return out


def within_float32(actual, expected):
    """float32 results equal to the float64 reference rounded to float32, to one unit in
    the last place, give or take 2**-53: the outputs are weighted means of values within
    [-1, 1] and the nodes the kernel leaves out weigh under 2**-54 together."""
    expected32 = expected.astype(np.float32)
    ulp = np.spacing(np.abs(expected32)).astype(np.float64)
    assert actual.dtype == np.float32
    np.testing.assert_array_less(np.abs(actual.astype(np.float64) - expected32), ulp * 1.0001 + 2.0**-53)


def test_outputs_match_a_float64_reference_within_float32_precision(case):
    model, values, mask = case
    u1, u2, mode, *rest = computed(model, values, mask, chunks=(4, 3, 11))
    m = len(FACIES)
    bc, post, classes, pdf, n_live = rest[:m], rest[m:2 * m], rest[2 * m], rest[2 * m + 1], rest[2 * m + 2]
    X = np.stack([v.reshape(-1) for v in values], axis=1)
    live = np.repeat(mask.reshape(-1), SHAPE[2]) & np.isfinite(X).all(axis=1)
    assert n_live == live.sum() == live.size - 2 * SHAPE[2] - 2
    ref = reference(model, X[live])
    within_float32(u1.reshape(-1)[live], ref["u"][:, 0])
    within_float32(u2.reshape(-1)[live], ref["u"][:, 1])
    for f in range(m):
        within_float32(bc[f].reshape(-1)[live], ref["bc"][:, f])
        within_float32(post[f].reshape(-1)[live], ref["posterior"][:, f])
    # the mode is the reference's except at exact near-ties of the two largest exponents
    differ = mode.reshape(-1)[live] != ref["mode"]
    assert np.all(ref["gap"][differ] < 1e-9), ref["gap"][differ]
    # most probable facies: argmax of the stored posteriors
    stored = np.stack([p.reshape(-1)[live] for p in post])
    np.testing.assert_array_equal(classes.reshape(-1)[live], stored.argmax(axis=0) + 1)
    # the unsupervised PDF: nodes left out weigh under 2**-54 per voxel
    np.testing.assert_allclose(pdf, ref["R"].sum(axis=0), rtol=1e-12, atol=live.sum() * 2.0**-53)
    # dead traces and voxels with a missing attribute are 0 everywhere
    for volume in (u1, u2, mode, *bc, *post, classes):
        assert np.all(volume.reshape(-1)[~live] == 0)


def test_outputs_are_bit_identical_for_any_chunking(case):
    model, values, mask = case
    for classify_by in ("posterior", "bhattacharyya"):
        runs = [computed(model, values, mask, chunks, classify_by)
                for chunks in ((4, 3, 11), (9, 8, 30), (1, 5, 7))]
        for other in runs[1:]:
            for a, b in zip(runs[0][:-2], other[:-2]):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(runs[0][-2], other[-2], rtol=1e-12)


def test_a_voxel_far_from_every_node_gets_the_nearest_side_of_the_map(case):
    model, values, mask = case
    u1, u2, mode, *_ = computed(model, values, mask, chunks=(4, 3, 11))
    X = np.array([[v[3, 4, 7] for v in values]], dtype=np.float64)
    ref = reference(model, X)
    g = model.gtm
    Z = (X - model.center) / model.scale - g.mean_
    d2 = ((Z[:, None, :] - (g.means_ - g.mean_)[None]) ** 2).sum(-1)
    # every unshifted exp(-β/2 d²) underflows to 0: only the log-sum-exp shift gives an answer
    assert np.all(np.exp(-0.5 * g.beta_ * d2) == 0)
    assert 0 < ref["R"].max() <= 1 and mode[3, 4, 7] == ref["mode"][0]
    within_float32(np.array([u1[3, 4, 7], u2[3, 4, 7]]), ref["u"][0])


def test_exp_is_exact_to_double_precision_on_the_clipped_range():
    x = np.concatenate([np.linspace(-708.0, 0.0, 200_001), -np.logspace(-12, 2.8, 1001), [0.0, -1e-300]])
    out = np.empty_like(x)
    exp_array(x, out)
    np.testing.assert_allclose(out, np.exp(x), rtol=3e-14, atol=0)
