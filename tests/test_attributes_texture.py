"""Texture (GLCM) attributes: equal to scikit-image's graycomatrix/graycoprops on the same
windows and grey levels, known values on constant and two-level blocks, a grey-level range
that does not depend on the chunking, block invariance, real F3 data."""

import dask.array as da
import numpy as np
import pytest
from attribute_family_checks import assert_chunk_invariant, f3_cube
from scipy import ndimage

from aaspi_py.attributes import texture
from aaspi_py.framework.errors import AaspiError

skimage_feature = pytest.importorskip("skimage.feature")
FAMILY = texture.FAMILY
PROPS = {"glcm_entropy": "entropy", "glcm_variance": "variance", "glcm_contrast": "contrast",
         "glcm_homogeneity": "homogeneity", "glcm_energy": "energy"}


def skimage_properties(levels, i, j, t, n_levels, traces, samples):
    """graycoprops of the window's GLCM: graycomatrix (distance 1, symmetric) summed over the
    window's inline slices (sample and crossline neighbours) and crossline slices (inline)."""
    r, rs = traces // 2, samples // 2
    padded = np.pad(levels, ((r, r), (r, r), (rs, rs)), mode="symmetric")
    window = padded[i:i + traces, j:j + traces, t:t + samples]
    glcm = skimage_feature.graycomatrix
    p = np.zeros((n_levels, n_levels, 1, 1), dtype=np.int64)
    for a in range(traces):
        p += glcm(window[a], [1], [0], levels=n_levels, symmetric=True)  # along the sample axis
        p += glcm(window[a], [1], [np.pi / 2], levels=n_levels, symmetric=True)  # along crossline
    for b in range(traces):
        p += glcm(window[:, b], [1], [np.pi / 2], levels=n_levels, symmetric=True)  # along inline
    return {name: skimage_feature.graycoprops(p, prop)[0, 0] for name, prop in PROPS.items()}


@pytest.mark.parametrize("n_levels, traces, samples", [(16, 5, 9), (8, 3, 5), (32, 3, 11)])
def test_glcm_properties_equal_scikit_image(rng, n_levels, traces, samples):
    x = rng.standard_normal((7, 6, 30)).astype(np.float32)
    x[:, :, 15:] *= 0.3  # quieter lower half: fewer levels in use
    clip = dict(glcm_clip_low=-2.0, glcm_clip_high=2.5)
    out = FAMILY.compute(x, FAMILY.names, sample_interval=4.0, glcm_levels=n_levels, glcm_traces=traces,
                         glcm_samples=samples, **clip)
    levels = texture.quantise(x, -2.0, 2.5, n_levels)
    for i, j, t in [(3, 2, 15), (0, 0, 0), (6, 5, 29), (2, 4, 1), (4, 1, 22)]:
        expected = skimage_properties(levels, i, j, t, n_levels, traces, samples)
        for name, value in expected.items():
            assert out[name][i, j, t] == pytest.approx(value, rel=1e-5, abs=1e-6), (name, i, j, t)


def test_quantisation_uses_the_given_range():
    x = np.array([-3.0, -1.0, -0.01, 0.0, 0.49, 0.5, 0.99, 5.0], np.float32)
    np.testing.assert_array_equal(texture.quantise(x, -1.0, 1.0, 4), [0, 0, 1, 2, 2, 3, 3, 3])


def test_constant_and_two_level_blocks_have_known_texture():
    flat = FAMILY.compute(np.full((4, 4, 20), 0.3, np.float32), FAMILY.names, sample_interval=4.0,
                          glcm_clip_low=-1.0, glcm_clip_high=1.0)
    for name, value in [("glcm_entropy", 0), ("glcm_variance", 0), ("glcm_contrast", 0),
                        ("glcm_homogeneity", 1), ("glcm_energy", 1)]:
        np.testing.assert_allclose(flat[name], value, atol=1e-6)
    # layers alternating between levels 0 and 3 sample by sample: only vertical pairs differ
    x = np.broadcast_to(np.where(np.arange(21) % 2 == 0, -0.9, 0.9), (5, 5, 21)).astype(np.float32)
    out = FAMILY.compute(x, FAMILY.names, sample_interval=4.0, glcm_levels=4, glcm_traces=3, glcm_samples=5,
                         glcm_clip_low=-1.0, glcm_clip_high=1.0)
    # window: 9 traces x 5 samples; 36 vertical pairs (0,3); 2 x 6 x 5 = 60 lateral equal pairs
    contrast = 36 * 2 * 9 / (2 * 96)
    np.testing.assert_allclose(out["glcm_contrast"][2, 2, 5:-5], contrast, rtol=1e-6)


def test_clip_range_does_not_depend_on_the_chunking(rng):
    x = rng.standard_normal((30, 28, 40)).astype(np.float32)
    low, high = texture.glcm_clip(x, max_samples=5000)
    assert low == -high and high > 0
    for chunks in [(7, 5, 40), (30, 3, 13)]:
        assert texture.glcm_clip(da.from_array(x, chunks=chunks), max_samples=5000) == (low, high)
    # from every trace, it is numpy's percentile of |x|
    assert texture.glcm_clip(x, max_samples=x.size)[1] == pytest.approx(np.percentile(np.abs(x), 99))


def test_default_levels_are_amplitude_over_the_local_rms(rng):
    x = rng.standard_normal((8, 7, 60)).astype(np.float32) * np.linspace(0.1, 10, 60).astype(np.float32)
    rms = np.sqrt(ndimage.uniform_filter(x.astype(np.float64) ** 2, (5, 5, 21), mode="reflect"))
    expected = texture.quantise(x / rms, -2.5, 2.5, 16)
    np.testing.assert_array_equal(texture.rms_levels(x, 16, 5, 21), expected)
    # so texture does not change with the amplitude's scale
    a = FAMILY.compute(x, FAMILY.names, sample_interval=4.0)
    b = FAMILY.compute(8 * x, FAMILY.names, sample_interval=4.0)
    for name in FAMILY.names:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, err_msg=name)


def test_texture_does_not_depend_on_the_blocks(rng):
    x = rng.standard_normal((14, 12, 40)).astype(np.float32) * np.linspace(0.5, 3, 12)[:, None].astype(np.float32)
    assert FAMILY.halo(FAMILY.options) == (4, 4)  # the levels' RMS window, then the GLCM window
    assert_chunk_invariant(FAMILY, x)
    assert_chunk_invariant(FAMILY, x, glcm_clip_low=-2.0, glcm_clip_high=2.0)


def test_texture_is_finite_on_real_f3():
    cube, dt = f3_cube()
    low, high = texture.glcm_clip(cube)
    for options in [{}, dict(glcm_clip_low=low, glcm_clip_high=high)]:
        out = FAMILY.compute(cube, FAMILY.names, sample_interval=dt, **options)
        for name in FAMILY.names:
            assert np.isfinite(out[name]).all() and np.ptp(out[name]) > 0, name
        assert out["glcm_entropy"].max() <= np.log(16**2) + 1e-5  # at most ln(levels^2)


@pytest.mark.parametrize("options, message", [
    (dict(glcm_levels=300), "glcm_levels must be a whole number from 2 to 256"),
    (dict(glcm_clip_low=1.0, glcm_clip_high=-1.0), "glcm_clip_low .* must be below glcm_clip_high"),
    (dict(glcm_samples=8), "glcm_samples must be an odd whole number"),
])
def test_bad_options_are_refused_in_one_line(options, message):
    with pytest.raises(AaspiError, match=message):
        FAMILY.compute(np.zeros((3, 3, 10), np.float32), ["glcm_entropy"], sample_interval=4.0, **options)
