"""Geometric attributes: dips of plane waves with known dips (and their sign), convergence of a
wedge, energy attributes against plain scipy.ndimage formulas, chunk invariance, real F3 data."""

import numpy as np
import pytest
from attribute_family_checks import assert_chunk_invariant, f3_cube, ricker
from scipy import ndimage

from aaspi_py.attributes import geometric
from aaspi_py.attributes._box import box_mean
from aaspi_py.framework.errors import AaspiError

FAMILY = geometric.FAMILY


def reflectors(times, n_samples=160, dt=4.0, frequency=30.0):
    """Ricker reflectors at ``times`` (array (..., n_events), in samples) → traces (..., n_samples)."""
    t = np.arange(n_samples) * dt
    events = (times[..., None] * dt)
    return ricker(t - events, frequency).sum(axis=-2).astype(np.float32)


def plane_waves(p, q, shape=(25, 23, 160), frequency=30.0):
    """Events that get deeper by p samples per inline and q per crossline (Ricker, 4 ms)."""
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    t0 = np.array([40.0, 75.0, 110.0])
    times = t0 + (p * (i - shape[0] // 2) + q * (j - shape[1] // 2))[..., None]
    return reflectors(times, shape[2], frequency=frequency)


# dips beyond 1 / (4 f dt) samples per trace alias: 2 samples/trace needs f < 31 Hz at 4 ms, and
# a Ricker's spectrum reaches twice its peak frequency
@pytest.mark.parametrize("p, q, frequency", [(0.6, -0.3, 30.0), (-1.5, 0.8, 25.0), (0.0, 2.0, 15.0)])
def test_dips_of_plane_waves_have_their_value_and_sign(p, q, frequency):
    out = FAMILY.compute(plane_waves(p, q, frequency=frequency), ["inline_dip", "crossline_dip", "dip_magnitude", "dip_deviation",
                                             "reflector_convergence"], sample_interval=4.0)
    # interior, where the window sees the reflectors (the envelope weights the average)
    inner = (slice(8, -8), slice(8, -8), slice(30, 130))  # beyond the halo: mirrored edges flip the dip
    np.testing.assert_allclose(np.median(out["inline_dip"][inner]), p, atol=0.02)
    np.testing.assert_allclose(np.median(out["crossline_dip"][inner]), q, atol=0.02)
    # atol: float32 squares of dips below 1e-19 samples/trace (no dip) underflow to 0
    np.testing.assert_allclose(out["dip_magnitude"], np.hypot(out["inline_dip"], out["crossline_dip"]), rtol=1e-6,
                               atol=1e-12)
    assert np.median(out["dip_deviation"][inner]) < 0.05  # the regional dip is the local dip
    assert np.median(out["reflector_convergence"][inner]) < 0.01


def test_event_deeper_at_higher_inline_has_positive_inline_dip():
    x = plane_waves(1.0, 0.0)
    # the event really is deeper (later) at the last inline than at the first
    assert np.argmax(x[-1, 9]) > np.argmax(x[0, 9])
    out = FAMILY.compute(x, ["inline_dip", "crossline_dip"], sample_interval=4.0)
    assert np.median(out["inline_dip"][5:-5, 5:-5, 30:130]) > 0.9
    assert abs(np.median(out["crossline_dip"][5:-5, 5:-5, 30:130])) < 0.02


def test_wedge_convergence_is_the_relative_thinning_rate():
    # layers k*h(i) thin towards higher inlines: dip p = k h'(i), so dp/dt = h'/h per sample
    n_i, h0, slope = 25, 12.0, -0.2
    i = np.arange(n_i)[:, None]
    h = h0 + slope * i
    times = 20 + np.arange(1, 9)[None, :] * h
    x = np.repeat(reflectors(times, 140, frequency=40.0)[:, None, :], 9, axis=1)
    out = FAMILY.compute(x, ["reflector_convergence", "inline_dip"], sample_interval=4.0)
    column = 12
    expected = abs(slope) / h[column, 0]
    zone = slice(int(20 + 2 * h[column, 0]), int(20 + 7 * h[column, 0]))
    measured = np.median(out["reflector_convergence"][column, 4, zone])
    np.testing.assert_allclose(measured, expected, rtol=0.2)
    # parallel layers do not converge
    flat = FAMILY.compute(plane_waves(0.5, 0.0), ["reflector_convergence"], sample_interval=4.0)
    assert np.median(flat["reflector_convergence"][6:-6, 6:-6, 30:130]) < 0.1 * expected


def test_energy_attributes_equal_plain_ndimage_formulas(rng):
    x = rng.standard_normal((18, 16, 60)).astype(np.float32)
    opts = dict(dip_traces=3, dip_samples=5, deviation_traces=7, deviation_samples=9)
    out = FAMILY.compute(x, ["energy_gradient", "energy_deviation", "dip_energy_covariance", "dip_magnitude"],
                         sample_interval=4.0, **opts)
    x64 = x.astype(np.float64)
    energy = ndimage.uniform_filter(x64**2, (3, 3, 5), mode="reflect")
    gradient = np.hypot(np.gradient(energy, axis=0), np.gradient(energy, axis=1))
    background = ndimage.uniform_filter(energy, (7, 7, 9), mode="reflect")
    magnitude = out["dip_magnitude"].astype(np.float64)
    mean = lambda a: ndimage.uniform_filter(a, (7, 7, 9), mode="reflect")  # noqa: E731
    covariance = mean(magnitude * energy) - mean(magnitude) * mean(energy)
    np.testing.assert_allclose(out["energy_gradient"], gradient, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out["energy_deviation"], (energy - background) / background, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["dip_energy_covariance"], covariance, rtol=1e-3,
                               atol=1e-5 * np.abs(covariance).max())


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("size", [(5, 3, 9), (11, 1, 1), (1, 31, 3), (1, 1, 71)])
def test_box_mean_equals_scipy_uniform_filter(rng, size, exact):
    a = rng.standard_normal((9, 7, 30)).astype(np.float32)
    expected = a.astype(np.float64)
    for axis, n in enumerate(size):
        expected = ndimage.uniform_filter1d(expected, n, axis=axis, mode="reflect")
    np.testing.assert_allclose(box_mean(a, size, exact=exact), expected, rtol=1e-5, atol=1e-6)


def test_geometric_attributes_do_not_depend_on_the_blocks(rng):
    x = plane_waves(0.7, -0.4, (14, 12, 90)) + 0.3 * rng.standard_normal((14, 12, 90)).astype(np.float32)
    assert_chunk_invariant(FAMILY, x, dip_traces=3, deviation_traces=5)


def test_geometric_attributes_are_finite_on_real_f3():
    cube, dt = f3_cube()
    out = FAMILY.compute(cube, FAMILY.names, sample_interval=dt)
    for name in FAMILY.names:
        assert np.isfinite(out[name]).all() and np.ptp(out[name]) > 0, name
    # F3's reflectors dip gently: a few tenths of a sample per trace at most in the median
    assert np.median(out["dip_magnitude"]) < 1.0


def test_halo_covers_every_window():
    assert FAMILY.halo(FAMILY.options) == (1 + 2 + 5, 1 + 2 + 5)
    assert FAMILY.halo({"dip_traces": 7, "deviation_traces": 3}) == (1 + 3 + 1, 1 + 3 + 1)


def test_even_window_is_refused_in_one_line():
    with pytest.raises(AaspiError, match="dip_traces must be an odd whole number"):
        FAMILY.compute(np.zeros((3, 3, 10), np.float32), ["inline_dip"], sample_interval=4.0, dip_traces=4)
