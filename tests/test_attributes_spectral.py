"""Spectral attributes: peak frequency of sinusoids and Ricker wavelets of known frequency (time
and depth units), equality with numpy FFT spectra of the same windows, roughness of notched
spectra, block invariance, real F3 data."""

import numpy as np
import pytest
from attribute_family_checks import assert_chunk_invariant, f3_cube, ricker
from scipy import signal

from aaspi_py.attributes import spectral
from aaspi_py.framework.errors import AaspiError

FAMILY = spectral.FAMILY


def traces(trace):
    return np.broadcast_to(np.asarray(trace, np.float32), (2, 3, len(trace))).copy()


@pytest.mark.parametrize("frequency", [12.0, 25.0, 40.0, 90.0])
def test_peak_frequency_of_a_sinusoid(frequency):
    t = np.arange(300) * 4.0
    out = FAMILY.compute(traces(np.sin(2 * np.pi * frequency * t / 1000)), ["peak_frequency"], sample_interval=4.0)
    np.testing.assert_allclose(out["peak_frequency"][:, :, 20:-20], frequency, atol=0.3)


@pytest.mark.parametrize("frequency", [20.0, 30.0, 45.0])
def test_peak_frequency_of_a_ricker_wavelet(frequency):
    # a window holding the whole wavelet (160 ms); the taper shifts the peak up by ~2 %
    t = np.arange(300) * 2.0
    out = FAMILY.compute(traces(ricker(t - 300, frequency)), ["peak_frequency"], sample_interval=2.0,
                         spectral_window=81, spectral_nfft=256)
    assert out["peak_frequency"][0, 0, 150] == pytest.approx(frequency, rel=0.03)


def test_depth_data_gives_cycles_per_km():
    z = np.arange(300) * 5.0  # m
    wavelength = 40.0  # m: 25 cycles/km
    out = FAMILY.compute(traces(np.cos(2 * np.pi * z / wavelength)), ["peak_frequency"], sample_interval=5.0)
    np.testing.assert_allclose(out["peak_frequency"][:, :, 20:-20], 1000.0 / wavelength, atol=0.3)


def test_attributes_equal_numpy_fft_spectra_of_the_same_windows(rng):
    x = rng.standard_normal((2, 2, 80)).astype(np.float32)
    window, nfft, dt = 21, 64, 4.0
    out = FAMILY.compute(x, FAMILY.names, sample_interval=dt, spectral_window=window, spectral_nfft=nfft)
    taper = signal.windows.hann(window + 2)[1:-1]
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (window // 2,) * 2), mode="symmetric")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=-1) * taper
    a = np.abs(np.fft.rfft(windows, n=nfft, axis=-1))
    f = np.fft.rfftfreq(nfft, dt / 1000)
    p = a**2
    centre = (p * f).sum(-1) / p.sum(-1)
    bandwidth = np.sqrt((p * (f - centre[..., None]) ** 2).sum(-1) / p.sum(-1))
    top = a.max(-1)
    roughness = (np.abs(np.diff(a, axis=-1)).sum(-1) - (2 * top - a[..., 0] - a[..., -1])) / (2 * top)
    np.testing.assert_allclose(out["spectral_bandwidth"], bandwidth, rtol=1e-4)
    np.testing.assert_allclose(out["spectral_roughness"], roughness, rtol=1e-3, atol=1e-5)
    # the peak lies within half a bin of numpy's largest bin above 0 Hz (parabolic refinement)
    coarse = f[np.argmax(a[..., 1:], axis=-1) + 1]
    assert np.abs(out["peak_frequency"] - coarse).max() <= 0.5 * f[1] + 1e-3


def test_bandwidth_grows_with_the_wavelet_band_and_roughness_with_notches():
    t = np.arange(300) * 2.0
    narrow, wide = (FAMILY.compute(traces(ricker(t - 300, f)), FAMILY.names, sample_interval=2.0,
                                   spectral_window=81, spectral_nfft=256) for f in (20.0, 40.0))
    ratio = wide["spectral_bandwidth"][0, 0, 150] / narrow["spectral_bandwidth"][0, 0, 150]
    assert 1.8 < ratio < 2.2  # a Ricker's bandwidth scales with its peak frequency
    assert narrow["spectral_roughness"][0, 0, 150] < 1e-4  # one smooth peak: no notch
    # two reflectors of opposite polarity 30 ms apart notch the spectrum at 0 and 33 Hz
    pair = ricker(t - 285, 40.0) - ricker(t - 315, 40.0)
    notched = FAMILY.compute(traces(pair), ["spectral_roughness"], sample_interval=2.0, spectral_window=51)
    assert notched["spectral_roughness"][0, 0, 150] > 0.3


def test_spectral_attributes_do_not_depend_on_the_blocks(rng):
    assert_chunk_invariant(FAMILY, rng.standard_normal((12, 14, 60)).astype(np.float32))


def test_spectral_attributes_are_finite_on_real_f3():
    cube, dt = f3_cube()
    out = FAMILY.compute(cube, FAMILY.names, sample_interval=dt)
    for name in FAMILY.names:
        assert np.isfinite(out[name]).all() and np.ptp(out[name]) > 0, name
    live = np.abs(cube) > 0
    assert 10 < np.median(out["peak_frequency"][live]) < 60  # a seismic band, in Hz


def test_fft_shorter_than_the_window_is_refused():
    with pytest.raises(AaspiError, match="spectral_nfft .* must be at least spectral_window"):
        FAMILY.compute(np.zeros((1, 1, 50), np.float32), ["peak_frequency"], sample_interval=4.0,
                       spectral_window=31, spectral_nfft=16)
