"""Bhattacharyya distance: closed forms, numerical integration, near-singular covariances."""

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import multivariate_normal, norm

from aaspi_py import bhattacharyya


def _closed_form_1d(m1, s1, m2, s2):
    v = s1 ** 2 + s2 ** 2
    return (m1 - m2) ** 2 / (4 * v) + 0.5 * np.log(v / (2 * s1 * s2))


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 2.0, 1.0), (1.5, 0.3, -0.2, 2.5), (3.0, 0.05, 3.0, 1.0)])
def test_one_dimension_matches_closed_form_and_integral(m1, s1, m2, s2):
    d = float(bhattacharyya([m1], [[s1 ** 2]], [m2], [[s2 ** 2]]))
    assert d == pytest.approx(_closed_form_1d(m1, s1, m2, s2), rel=1e-12)
    lo, hi = min(m1 - 12 * s1, m2 - 12 * s2), max(m1 + 12 * s1, m2 + 12 * s2)
    coeff, _ = integrate.quad(lambda x: np.sqrt(norm.pdf(x, m1, s1) * norm.pdf(x, m2, s2)), lo, hi,
                              points=[m1, m2], limit=400, epsabs=1e-13, epsrel=1e-11)
    assert d == pytest.approx(-np.log(coeff), rel=1e-7, abs=1e-10)


def test_two_dimensions_match_numerical_integration():
    m1, c1 = np.array([0.0, 0.5]), np.array([[1.0, 0.6], [0.6, 0.8]])
    m2, c2 = np.array([1.2, -0.4]), np.array([[0.5, -0.2], [-0.2, 1.5]])
    p, q = multivariate_normal(m1, c1), multivariate_normal(m2, c2)
    coeff, _ = integrate.dblquad(lambda y, x: np.sqrt(p.pdf([x, y]) * q.pdf([x, y])), -9, 10, -9, 9,
                                 epsabs=1e-11, epsrel=1e-9)
    assert float(bhattacharyya(m1, c1, m2, c2)) == pytest.approx(-np.log(coeff), rel=1e-6)


def test_general_formula_properties():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 4, 4))
    covs = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(4)
    means = rng.standard_normal((5, 4))
    d = bhattacharyya(means[:, None], covs[:, None], means[None], covs[None])
    assert d.shape == (5, 5)
    assert np.allclose(np.diag(d), 0.0, atol=1e-12)
    assert np.allclose(d, d.T, rtol=1e-12)
    assert (d[~np.eye(5, dtype=bool)] > 0).all()
    # eq. 7 written out with inverses and determinants
    i, j = 1, 3
    s = 0.5 * (covs[i] + covs[j])
    dm = means[j] - means[i]
    direct = dm @ np.linalg.inv(s) @ dm / 8 + 0.5 * np.log(np.linalg.det(s) / np.sqrt(np.linalg.det(covs[i]) * np.linalg.det(covs[j])))
    assert d[i, j] == pytest.approx(direct, rel=1e-12)


def test_distance_never_decreases_when_an_attribute_is_added():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 5, 5))
    c1, c2 = a @ a.T + np.eye(5), b @ b.T + np.eye(5)
    m1, m2 = rng.standard_normal((2, 5))
    prev = 0.0
    for n in range(1, 6):
        d = float(bhattacharyya(m1[:n], c1[:n, :n], m2[:n], c2[:n, :n]))
        assert d >= prev - 1e-12
        prev = d


def test_near_singular_covariances_stay_exact():
    # diagonal covariances: D is the sum of one-dimensional closed forms, even with variances of 1e-14
    v1 = np.array([1e-14, 1.0, 3e-9])
    v2 = np.array([2e-14, 0.5, 1e-9])
    m1 = np.array([0.0, 1.0, 2.0])
    m2 = np.array([1e-7, -1.0, 2.0 + 1e-5])
    expected = sum(_closed_form_1d(m1[k], np.sqrt(v1[k]), m2[k], np.sqrt(v2[k])) for k in range(3))
    got = float(bhattacharyya(m1, np.diag(v1), m2, np.diag(v2)))
    assert got == pytest.approx(expected, rel=1e-10)
    # a well-conditioned pair scaled by 1e-60 (determinants near 1e-360 underflow to 0 in
    # np.linalg.det): the distance is scale-invariant and must come out unchanged
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 3))
    c1, c2 = a @ a.T + np.eye(3), b @ b.T + np.eye(3)
    assert np.linalg.det(c1 * 1e-120) == 0.0
    tiny = float(bhattacharyya(m1 * 1e-60, c1 * 1e-120, m2 * 1e-60, c2 * 1e-120))
    assert tiny == pytest.approx(float(bhattacharyya(m1, c1, m2, c2)), rel=1e-10)


def test_singular_covariance_gives_a_finite_distance():
    c = np.array([[1.0, 1.0], [1.0, 1.0]])  # rank one
    d = bhattacharyya([0.0, 0.0], c, [1.0, 0.0], np.eye(2))
    assert np.isfinite(d) and d > 0
    assert float(bhattacharyya([0.0, 0.0], c, [0.0, 0.0], c)) == pytest.approx(0.0, abs=1e-12)
