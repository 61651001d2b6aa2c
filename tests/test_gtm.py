"""The GTM estimator: exact log-likelihood, monotone EM, manifold recovery, peer (ugtm)."""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import spearmanr
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from aaspi_py.gtm.estimator import GTM, gtm_from_dict, gtm_to_dict, latent_grid


def independent_loglik(X, weights, beta, phi, mean):
    """Mean log-likelihood per sample from W, β and Φ, with plain distances and logsumexp."""
    centers = phi @ weights + mean
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    k, d = centers.shape
    per_sample = logsumexp(-0.5 * beta * d2, axis=1) + 0.5 * d * np.log(beta / (2 * np.pi)) - np.log(k)
    return per_sample.mean(), per_sample


def ugtm_loglik(X, opt, n_nodes):
    """ugtm's model scored with the same definition (its own figure omits a shift)."""
    centers = opt.matY.T
    beta = 1.0 / float(opt.betaInv)
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    per_sample = logsumexp(-0.5 * beta * d2, axis=1) + 0.5 * X.shape[1] * np.log(beta / (2 * np.pi)) - np.log(n_nodes)
    return per_sample.mean()


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(3)
    centers = rng.normal(scale=3.0, size=(4, 6))
    return np.concatenate([c + rng.normal(size=(150, 6)) for c in centers])


def fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GTM(**kw).fit(X)


# ---------------------------------------------------------------- likelihood and EM

def test_loglik_history_is_exact_at_every_iteration(blobs):
    full = fit(blobs, latent_shape=(8, 8), rbf_shape=(3, 3), max_iter=12, tol=0)
    assert full.n_iter_ == 12 and full.loglik_.shape == (13,)
    # EM is deterministic, so a fit stopped after i iterations is the full fit's i-th state
    for i in (0, 1, 2, 5, 12):
        g = fit(blobs, latent_shape=(8, 8), rbf_shape=(3, 3), max_iter=i, tol=0)
        ll, per_sample = independent_loglik(blobs, g.weights_, g.beta_, g.phi_, g.mean_)
        assert g.loglik_[-1] == pytest.approx(ll, rel=1e-12, abs=1e-12)
        assert full.loglik_[i] == pytest.approx(ll, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(g.score_samples(blobs), per_sample, rtol=1e-12, atol=1e-12)
    assert full.score(blobs) == pytest.approx(full.loglik_[-1], rel=1e-13)


def test_em_never_decreases_its_objective(blobs):
    # without regularisation EM maximises the likelihood itself
    g = fit(blobs, latent_shape=(10, 10), rbf_shape=(4, 4), regularization=0.0, max_iter=60, tol=0)
    assert np.all(np.diff(g.loglik_) >= -1e-10 * np.abs(g.loglik_[1:]))
    assert g.loglik_[-1] > g.loglik_[0] + 0.5
    # with a weight prior the penalised log-likelihood is what never decreases
    g = fit(blobs, latent_shape=(10, 10), rbf_shape=(4, 4), regularization=10.0, max_iter=60, tol=0)
    assert np.all(np.diff(g.objective_) >= -1e-10 * np.abs(g.objective_[1:]))
    penalty = 0.5 * 10.0 * np.sum(g.weights_[:-1] ** 2) / len(blobs)
    assert g.objective_[-1] == pytest.approx(g.loglik_[-1] - penalty, rel=1e-12)


def test_convergence_stops_early_and_warns_otherwise(blobs):
    g = fit(blobs, latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=500, tol=1e-3)
    assert g.converged_ and g.n_iter_ < 500
    assert g.objective_[-1] - g.objective_[-2] < 1e-3
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        GTM(latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=2, tol=0).fit(blobs)


def test_far_outliers_stay_finite_and_exact():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    g = fit(X, latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=20)
    far = np.array([[1e4, 0, 0], [0, -3e3, 50], [40.0, 40.0, 40.0]])
    _, expected = independent_loglik(far, g.weights_, g.beta_, g.phi_, g.mean_)
    np.testing.assert_allclose(g.score_samples(far), expected, rtol=1e-10)
    R = g.predict_proba(far)
    np.testing.assert_allclose(R.sum(axis=1), 1.0, rtol=1e-12)
    # the responsibility sits on the node nearest to the outlier
    nearest = ((far[:, None, :] - g.means_[None]) ** 2).sum(-1).argmin(axis=1)
    np.testing.assert_array_equal(g.predict(far), nearest)


def test_translation_equivariant_far_from_the_origin(blobs):
    """Data at 1e6 from the origin gives the same model: centring and the unpenalised bias."""
    a = fit(blobs, latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=25, tol=0)
    b = fit(blobs + 1e6, latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=25, tol=0)
    np.testing.assert_allclose(b.loglik_, a.loglik_, rtol=1e-8)
    np.testing.assert_allclose(b.means_ - 1e6, a.means_, atol=1e-6)
    np.testing.assert_allclose(b.transform(blobs + 1e6), a.transform(blobs), atol=1e-8)


def test_outputs_are_consistent(blobs):
    g = fit(blobs, latent_shape=(7, 5), rbf_shape=(3, 3), max_iter=15)
    R = g.predict_proba(blobs)
    assert R.shape == (len(blobs), 35)
    np.testing.assert_allclose(R.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(g.transform(blobs), R @ g.nodes_, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(g.predict(blobs), R.argmax(axis=1))
    assert np.all(np.abs(g.transform(blobs)) <= 1.0)
    # node i * n2 + j sits at (u1[i], u2[j]): first coordinate slowest, as ugtm and reshape
    np.testing.assert_array_equal(g.nodes_.reshape(7, 5, 2)[3, 1], [np.linspace(-1, 1, 7)[3], np.linspace(-1, 1, 5)[1]])
    np.testing.assert_array_equal(latent_grid((1, 3))[:, 0], 0.0)


def test_save_and_load_predict_identically(blobs):
    g = fit(blobs, latent_shape=(6, 6), rbf_shape=(3, 3), max_iter=10)
    import json

    meta, arrays = gtm_to_dict(g)
    meta = json.loads(json.dumps(meta))  # what a JSON file gives back
    again = gtm_from_dict(meta, arrays)
    np.testing.assert_array_equal(again.predict_proba(blobs), g.predict_proba(blobs))
    np.testing.assert_array_equal(again.transform(blobs), g.transform(blobs))
    assert again.get_params() == g.get_params()


def test_bad_grid_is_refused_with_a_clear_message(blobs):
    with pytest.raises(ValueError, match=r"'latent_shape' parameter of GTM must be a pair of positive ints"):
        GTM(latent_shape=(20,)).fit(blobs)
    with pytest.raises(ValueError, match=r"'rbf_shape'.*Got \(0, 3\)"):
        GTM(rbf_shape=(0, 3)).fit(blobs)
    with pytest.raises(ValueError, match="'regularization' parameter of GTM must be a float"):
        GTM(regularization=-1.0).fit(blobs)


# ---------------------------------------------------------------- what it finds

def test_latent_coordinates_recover_a_2d_manifold_in_5d():
    rng = np.random.default_rng(7)
    s, t = rng.uniform(0, 1, size=(2, 1500))
    # a curved sheet: the 2D parameters, a bend along each, and their product
    X = np.column_stack([s, t, 0.5 * np.sin(np.pi * s), 0.5 * np.cos(np.pi * t), s * t])
    X += rng.normal(scale=0.01, size=X.shape)
    g = fit(X, latent_shape=(12, 12), rbf_shape=(4, 4), regularization=0.01, max_iter=80)
    Z = g.transform(X)
    rho = np.abs(np.array([[spearmanr(Z[:, a], p)[0] for p in (s, t)] for a in range(2)]))
    # latent axes may come out swapped or flipped
    best = max(rho[0, 0] + rho[1, 1], rho[0, 1] + rho[1, 0]) / 2
    assert best > 0.95, rho


# ---------------------------------------------------------------- peer: ugtm

def _against_ugtm(X, k, m, s, regul, niter):
    """Both run to convergence (ugtm by its own criterion, ours until EM stops gaining)."""
    ugtm = pytest.importorskip("ugtm")
    init = ugtm.initialize(X, k, m, s, random_state=0)
    opt = ugtm.optimize(X, init, regul, niter, verbose=False)
    ours = fit(X, latent_shape=(k, k), rbf_shape=(m, m), rbf_width=np.sqrt(s), regularization=regul,
               linear_terms=False, max_iter=niter, tol=0)
    # the same grid and the same RBFs (ugtm's s is a variance factor: width sqrt(s) spacings)
    np.testing.assert_allclose(ours.nodes_, init.matX, atol=1e-12)
    np.testing.assert_allclose(ours.phi_[:, :-1], init.matPhiMPlusOne[:, :-1], rtol=1e-10, atol=1e-12)
    theirs = ugtm_loglik(X, opt, k * k)
    return ours.loglik_[-1], theirs


def test_final_loglik_at_least_ugtm_on_iris():
    X = load_iris().data
    X = (X - X.mean(0)) / X.std(0)
    ours, theirs = _against_ugtm(X, k=10, m=4, s=0.3, regul=0.1, niter=300)
    assert ours >= theirs - 1e-9, (ours, theirs)


def test_final_loglik_at_least_ugtm_on_1000x10():
    rng = np.random.default_rng(11)
    latent = rng.normal(size=(1000, 3))
    X = np.tanh(latent @ rng.normal(size=(3, 10))) + 0.1 * rng.normal(size=(1000, 10))
    X = (X - X.mean(0)) / X.std(0)
    ours, theirs = _against_ugtm(X, k=12, m=4, s=1.0, regul=0.1, niter=300)
    assert ours >= theirs - 1e-9, (ours, theirs)


# ---------------------------------------------------------------- scikit-learn conformance

@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([GTM(latent_shape=(4, 4), rbf_shape=(2, 2)), GTM(init="random", random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
