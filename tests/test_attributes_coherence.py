"""Coherence: semblance and eigenstructure coherence equal their formulas (numpy's eigvalsh as
the peer), ~1 on laterally continuous reflectors, low on noise, block invariance, real F3."""

import numpy as np
import pytest
from attribute_family_checks import assert_chunk_invariant, f3_cube, ricker

from aaspi_py.attributes import coherence

FAMILY = coherence.FAMILY


def window_matrix(x, i, j, t, traces=3, samples=11):
    """Cross-product matrix of the window's traces (mirrored beyond the block, cut at trace ends)."""
    r, rs = traces // 2, samples // 2
    mirror = lambda k, n: k if 0 <= k < n else (-k - 1 if k < 0 else 2 * n - k - 1)  # noqa: E731
    rows = [x[mirror(i + a, x.shape[0]), mirror(j + b, x.shape[1]), max(t - rs, 0):t + rs + 1]
            for a in range(-r, r + 1) for b in range(-r, r + 1)]
    d = np.array(rows, dtype=np.float64)
    return d @ d.T


@pytest.mark.parametrize("traces, samples", [(3, 11), (5, 7)])
def test_coherence_equals_its_formulas_with_numpy_eigvalsh(rng, traces, samples):
    x = rng.standard_normal((7, 6, 40)).astype(np.float32)
    x[:, :3] += 2 * np.sin(np.arange(40) / 3.0)  # part coherent, part noise
    out = FAMILY.compute(x, FAMILY.names, sample_interval=4.0, coherence_traces=traces, coherence_samples=samples)
    for i, j, t in [(3, 2, 20), (0, 0, 0), (6, 5, 39), (2, 4, 3), (5, 1, 37), (4, 3, 25)]:
        c = window_matrix(x, i, j, t, traces, samples)
        k = c.shape[0]
        assert out["semblance"][i, j, t] == pytest.approx(c.sum() / (k * np.trace(c)), rel=1e-5)
        assert out["eigenstructure_coherence"][i, j, t] == pytest.approx(
            np.linalg.eigvalsh(c)[-1] / np.trace(c), rel=1e-5)


def test_eigenstructure_coherence_equals_eigvalsh_everywhere_on_noise(rng):
    # noise is the hard case for the eigenvalue (small gaps): every voxel against LAPACK
    x = rng.standard_normal((5, 5, 30)).astype(np.float32)
    out = FAMILY.compute(x, ["eigenstructure_coherence"], sample_interval=4.0)
    expected = np.array([[[np.linalg.eigvalsh(c := window_matrix(x, i, j, t))[-1] / np.trace(c)
                           for t in range(30)] for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(out["eigenstructure_coherence"], expected, rtol=1e-5)


def test_continuous_layers_are_coherent_and_noise_is_not(rng):
    t = np.arange(120) * 4.0
    trace = sum(ricker(t - t0, 30.0) for t0 in (80, 200, 260, 380))
    layers = np.broadcast_to(trace, (9, 9, 120)).astype(np.float32)
    gains = (1 + 0.5 * rng.random((9, 9, 1))).astype(np.float32)  # amplitude varies laterally
    out = FAMILY.compute(layers * gains, FAMILY.names, sample_interval=4.0)
    live = np.abs(layers) > 0.05  # where the window holds signal
    assert out["eigenstructure_coherence"][live].min() > 0.999
    assert np.median(out["semblance"][live]) > 0.95
    assert np.median(out["semblance"][live]) < np.median(out["eigenstructure_coherence"][live])
    noise = FAMILY.compute(rng.standard_normal((9, 9, 120)).astype(np.float32), FAMILY.names, sample_interval=4.0)
    assert np.median(noise["semblance"]) < 0.2  # ~1/K for K = 9 traces
    assert np.median(noise["eigenstructure_coherence"]) < 0.45


def test_polarity_flips_are_coherent_for_eigenstructure_only():
    # the dominant eigenvector (+1, -1, ...) is orthogonal to the all-ones start of the iteration
    t = np.arange(80) * 4.0
    trace = ricker(t - 160, 25.0)
    sign = np.where((np.arange(6)[:, None] + np.arange(6)[None, :]) % 2 == 0, 1.0, -1.0)
    x = (sign[..., None] * trace).astype(np.float32)
    out = FAMILY.compute(x, FAMILY.names, sample_interval=4.0)
    live = (slice(1, -1), slice(1, -1), slice(30, 50))
    np.testing.assert_allclose(out["eigenstructure_coherence"][live], 1.0, atol=1e-5)
    assert out["semblance"][live].max() < 0.2


def test_dead_window_gives_zero_not_nan():
    out = FAMILY.compute(np.zeros((4, 4, 30), np.float32), FAMILY.names, sample_interval=4.0)
    for name in FAMILY.names:
        assert (out[name] == 0).all()


def test_coherence_does_not_depend_on_the_blocks(rng):
    x = rng.standard_normal((14, 12, 50)).astype(np.float32)
    x[:7] += np.sin(np.arange(50) / 2.5).astype(np.float32)
    assert_chunk_invariant(FAMILY, x)
    assert_chunk_invariant(FAMILY, x[:, :, :12], coherence_traces=5)


def test_coherence_is_finite_and_in_range_on_real_f3():
    cube, dt = f3_cube()
    out = FAMILY.compute(cube, FAMILY.names, sample_interval=dt)
    for name in FAMILY.names:
        assert np.isfinite(out[name]).all() and np.ptp(out[name]) > 0, name
        assert out[name].min() >= 0 and out[name].max() <= 1, name
    # lambda_1 is at least the Rayleigh quotient of the all-ones vector
    assert (out["eigenstructure_coherence"] >= out["semblance"] - 1e-6).all()
    noise = np.random.default_rng(0).standard_normal(cube.shape).astype(np.float32)
    incoherent = FAMILY.compute(noise, ["eigenstructure_coherence"], sample_interval=dt)
    assert np.median(out["eigenstructure_coherence"]) > np.median(incoherent["eigenstructure_coherence"]) + 0.2


def dipping_layers(p, q, shape=(21, 19, 120), frequency=25.0):
    """Ricker reflectors deepening by p samples per inline and q per crossline (4 ms)."""
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    t = np.arange(shape[2]) * 4.0
    base = (p * (i - shape[0] // 2) + q * (j - shape[1] // 2))[..., None]
    return sum(ricker(t - 4.0 * (t0 + base), frequency) for t0 in (35.0, 60.0, 85.0)).astype(np.float32)


def test_windows_along_dip_keep_dipping_reflectors_coherent():
    x = dipping_layers(1.5, -0.8)
    inner = (slice(7, -7), slice(7, -7), slice(25, 95))
    flat = FAMILY.compute(x, FAMILY.names, sample_interval=4.0)
    along = FAMILY.compute(x, FAMILY.names, sample_interval=4.0, coherence_along_dip=True)
    assert np.median(along["semblance"][inner]) > 0.99
    assert np.median(along["eigenstructure_coherence"][inner]) > 0.99
    assert np.median(flat["semblance"][inner]) < 0.6  # a flat window cuts across the dipping events


def test_windows_along_dip_equal_flat_windows_on_flat_layers():
    x = dipping_layers(0.0, 0.0)
    flat = FAMILY.compute(x, FAMILY.names, sample_interval=4.0)
    along = FAMILY.compute(x, FAMILY.names, sample_interval=4.0, coherence_along_dip=True)
    energy = np.abs(x) > 1e-3 * np.abs(x).max()  # where the window holds signal, not underflow
    for name in FAMILY.names:
        np.testing.assert_allclose(along[name][energy], flat[name][energy], atol=1e-5)


def test_coherence_along_dip_does_not_depend_on_the_blocks(rng):
    x = dipping_layers(0.8, 0.4, (14, 12, 60)) + 0.2 * rng.standard_normal((14, 12, 60)).astype(np.float32)
    assert FAMILY.halo({"coherence_along_dip": True}) == (3, 3)  # the dip window's reach
    assert_chunk_invariant(FAMILY, x, coherence_along_dip=True)
