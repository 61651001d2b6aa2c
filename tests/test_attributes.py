"""attributes: complex-trace values against scipy and known answers; the framework's contract
(numpy = dask for any chunking, dead traces, one-line refusals) for every attribute present."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from scipy import ndimage, signal

from aaspi_py import attributes
from aaspi_py.attributes._windows import quadrature
from aaspi_py.framework.errors import AaspiError

DATA = Path(__file__).resolve().parent / "data" / "segy"


def band_limited(rng, shape, dt_ms=4.0, band=(8.0, 45.0)):
    """Random traces band-passed to ``band`` Hz, so the phase moves < pi per two samples."""
    b, a = signal.butter(4, [f * dt_ms / 500.0 for f in band], btype="band")
    return signal.filtfilt(b, a, rng.standard_normal(shape), axis=-1).astype(np.float32)


# ---------------------------------------------------------------- complex trace against scipy


def test_complex_trace_equals_per_trace_scipy_hilbert(rng):
    x = band_limited(rng, (4, 3, 200))
    out = attributes.compute(x, ["envelope", "instantaneous_phase", "cos_phase", "instantaneous_frequency",
                                 "instantaneous_bandwidth", "rms_amplitude"],
                             sample_interval=4.0, trace_window=1)
    inner = slice(20, -20)
    for i, j in np.ndindex(x.shape[:2]):
        z = signal.hilbert(x[i, j].astype(np.float64))
        env = np.abs(z)
        phase = np.unwrap(np.angle(z))
        np.testing.assert_allclose(out["envelope"][i, j], env, rtol=1e-4, atol=1e-5 * env.max())
        np.testing.assert_allclose(np.cos(np.radians(out["instantaneous_phase"][i, j])), np.cos(np.angle(z)),
                                   atol=1e-4)
        np.testing.assert_allclose(out["cos_phase"][i, j], np.real(z) / env, atol=1e-4)
        # d(phase)/dt / 2 pi by central differences, in Hz
        freq = np.gradient(phase, 0.004) / (2 * np.pi)
        np.testing.assert_allclose(out["instantaneous_frequency"][i, j][inner], freq[inner], rtol=1e-3, atol=1e-2)
        bandwidth = np.abs(np.gradient(np.log(env), 0.004)) / (2 * np.pi)
        np.testing.assert_allclose(out["instantaneous_bandwidth"][i, j][inner], bandwidth[inner],
                                   rtol=1e-3, atol=1e-2)
        np.testing.assert_allclose(out["rms_amplitude"][i, j], np.abs(x[i, j]), rtol=1e-5, atol=1e-6)  # window 1


def test_rms_amplitude_and_sweetness_follow_their_formulas(rng):
    x = band_limited(rng, (3, 2, 120))
    out = attributes.compute(x, ["rms_amplitude", "sweetness", "envelope", "instantaneous_frequency"],
                             trace_window=11)
    padded = np.pad(x.astype(np.float64) ** 2, ((0, 0), (0, 0), (5, 5)), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 11, axis=-1)
    np.testing.assert_allclose(out["rms_amplitude"], np.sqrt(windows.mean(-1)), rtol=1e-4)
    expected = out["envelope"] / np.sqrt(np.maximum(out["instantaneous_frequency"], 1.0))
    np.testing.assert_allclose(out["sweetness"], expected, rtol=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3, 64, 101])
def test_quadrature_trace_equals_the_imaginary_part_of_scipy_hilbert(rng, n):
    # odd and even lengths: the Nyquist bin is kept real only for even n, as hilbert does
    x = rng.standard_normal((3, n)).astype(np.float32)
    expected = signal.hilbert(x.astype(np.float64), axis=-1).imag
    np.testing.assert_allclose(quadrature(x), expected, atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_same_traces_give_bit_identical_attributes_wherever_they_sit(rng):
    # one trace computed alone and inside a block of others: the same float32 bits
    x = band_limited(rng, (5, 7, 150))
    names = list(attributes.FAMILIES["complex_trace"].names)
    whole = attributes.compute(x, names)
    alone = attributes.compute(x[3:4, 2:3].copy(), names)
    for name in names:
        np.testing.assert_array_equal(alone[name], whole[name][3:4, 2:3], err_msg=name)


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize("dt, f", [(4.0, 30.0), (2.0, 62.5), (4.0, 7.0)])
def test_instantaneous_frequency_of_a_sinusoid(dt, f):
    t = np.arange(500) * dt / 1000.0
    x = np.broadcast_to(np.sin(2 * np.pi * f * t), (2, 2, 500)).astype(np.float32)
    out = attributes.compute(x, ["instantaneous_frequency", "instantaneous_bandwidth"], sample_interval=dt)
    inner = slice(60, -60)
    np.testing.assert_allclose(out["instantaneous_frequency"][..., inner], f, rtol=2e-3)
    # a constant-amplitude sinusoid has no bandwidth
    assert np.abs(out["instantaneous_bandwidth"][..., inner]).max() < 0.01 * f


def test_depth_data_frequency_is_in_cycles_per_km():
    dz = 5.0  # m
    wavelength = 125.0  # m: 8 cycles/km
    x = np.broadcast_to(np.cos(2 * np.pi * np.arange(400) * dz / wavelength), (1, 1, 400)).astype(np.float32)
    out = attributes.compute(x, ["instantaneous_frequency"], sample_interval=dz)
    np.testing.assert_allclose(out["instantaneous_frequency"][..., 60:-60], 1000.0 / wavelength, rtol=2e-3)
    assert attributes.units("instantaneous_frequency", "depth") == "cycles/km"
    assert attributes.units("instantaneous_frequency", "time") == "Hz"


def ricker(fp, dt_ms, n):
    t = (np.arange(n) - n // 2) * dt_ms / 1000.0
    a = (np.pi * fp * t) ** 2
    return ((1 - 2 * a) * np.exp(-a)).astype(np.float32)


@pytest.mark.parametrize("fp", [20.0, 35.0])
def test_instantaneous_frequency_of_a_ricker_wavelet(fp):
    """A zero-phase wavelet's instantaneous frequency at its centre is its amplitude-spectrum
    mean frequency, 2 fp / sqrt(pi) for a Ricker; weighted by |z|^2 over the wavelet it is
    the power-spectrum mean frequency, 1.0638 fp."""
    dt, n = 1.0, 1001
    x = ricker(fp, dt, n)[None, None, :]
    raw = attributes.compute(x, ["instantaneous_frequency"], sample_interval=dt, trace_window=1)
    assert raw["instantaneous_frequency"][0, 0, n // 2] == pytest.approx(2 * fp / np.sqrt(np.pi), rel=0.01)
    wide = attributes.compute(x, ["instantaneous_frequency"], sample_interval=dt, trace_window=401)
    u = np.linspace(0, 10, 100001)
    power_mean = np.trapezoid(u**5 * np.exp(-2 * u**2), u) / np.trapezoid(u**4 * np.exp(-2 * u**2), u)
    assert wide["instantaneous_frequency"][0, 0, n // 2] == pytest.approx(power_mean * fp, rel=0.01)


# ---------------------------------------------------------------- framework, for every attribute


@pytest.fixture(scope="module")
def cube():
    rng = np.random.default_rng(7)
    x = band_limited(rng, (13, 11, 64))
    # a continuous dipping layer over the noise, so geometric attributes see structure
    i, j, k = np.meshgrid(np.arange(13), np.arange(11), np.arange(64), indexing="ij")
    return (x + np.sin(2 * np.pi * (k - 0.5 * i - 0.3 * j) / 12.0)).astype(np.float32)


@pytest.fixture(scope="module")
def cube_results(cube):
    return attributes.compute(cube, attributes.NAMES)


@pytest.mark.parametrize("name", attributes.NAMES)
def test_result_does_not_depend_on_the_chunking(name, cube, cube_results):
    expected = cube_results[name]
    assert expected.dtype == np.float32 and expected.shape == cube.shape
    scale = float(np.abs(expected).max()) or 1.0
    for chunks in [(4, 5, 64), (13, 3, 20)]:
        lazy = attributes.compute(da.from_array(cube, chunks=chunks), [name])[name]
        assert isinstance(lazy, da.Array) and lazy.dtype == np.float32
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("name", attributes.NAMES)
def test_every_attribute_is_finite_on_real_f3_data(name, f3_amplitude):
    amplitude, dt = f3_amplitude
    value = attributes.compute(amplitude, [name], sample_interval=dt)[name]
    assert np.isfinite(value).all()
    assert np.ptp(value) > 0, f"{name} is constant on real data"


@pytest.fixture(scope="module")
def f3_amplitude():
    segyio = pytest.importorskip("segyio")
    with segyio.open(DATA / "f3.sgy") as f:
        cube = segyio.tools.cube(f).astype(np.float32)
        dt = segyio.tools.dt(f) / 1000.0
    return cube, dt


def test_dead_traces_are_zero_and_do_not_leak_nan(cube):
    mask = np.ones(cube.shape[:2], bool)
    mask[3, 4] = mask[0, :] = False
    x = cube.copy()
    x[~mask] = np.nan
    out = attributes.compute(x, attributes.NAMES, mask=mask)
    lazy = attributes.compute(da.from_array(x, chunks=(5, 5, 64)), attributes.NAMES, mask=mask)
    for name in attributes.NAMES:
        assert np.isfinite(out[name]).all(), name
        assert (out[name][~mask] == 0).all(), name
        np.testing.assert_allclose(lazy[name].compute(), out[name], rtol=1e-5,
                                   atol=1e-5 * (float(np.abs(out[name]).max()) or 1.0))


def test_every_attribute_has_a_one_line_description_with_units():
    for name in attributes.NAMES:
        text = attributes.describe(name)
        assert "\n" not in text and attributes.units(name) in text and len(text) > 40


def test_unknown_attribute_is_refused_with_the_valid_names(cube):
    with pytest.raises(AaspiError) as e:
        attributes.compute(cube, ["envelope", "sweetnes"])
    message = str(e.value)
    assert "'sweetnes'" in message and "\n" not in message
    assert all(n in message for n in attributes.NAMES)


def test_bad_options_are_refused_in_one_line(cube):
    with pytest.raises(AaspiError, match="Unknown attribute option 'windw'.*trace_window"):
        attributes.compute(cube, ["envelope"], windw=3)
    with pytest.raises(AaspiError, match="trace_window must be an odd number"):
        attributes.compute(cube, ["rms_amplitude"], trace_window=4)
    with pytest.raises(AaspiError, match="'trace_window' must be int"):
        attributes.compute(cube, ["rms_amplitude"], trace_window=2.5)
    with pytest.raises(AaspiError, match="sample_interval must be a positive"):
        attributes.compute(cube, ["envelope"], sample_interval=0)
    with pytest.raises(AaspiError, match="3D amplitude volume"):
        attributes.compute(cube[0], ["envelope"])


def test_rms_amplitude_window_reaches_the_reference(rng):
    x = band_limited(rng, (2, 2, 80))
    out = attributes.compute(x, ["rms_amplitude"], trace_window=5)["rms_amplitude"]
    ref = np.sqrt(ndimage.uniform_filter1d(x.astype(np.float64) ** 2, 5, axis=-1, mode="reflect"))
    np.testing.assert_allclose(out, ref, rtol=1e-4)
