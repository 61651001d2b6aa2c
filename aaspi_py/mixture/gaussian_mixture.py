"""Parsimonious Gaussian mixtures: k-means → SEM → CEM (or EM), nine covariance models, BIC.

:class:`GaussianMixture` follows the scikit-learn API (``fit``, ``predict``,
``predict_proba``, ``score``, ``score_samples``, ``bic``, ``get_params``) and is the model
that :mod:`aaspi_py.selection.attribute_selection` fits per facies and attribute combination. The loop
itself lives in :mod:`aaspi_py.mixture.em`, the covariance models in :mod:`aaspi_py.mixture.covariance_models`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from aaspi_py.mixture import em as gmm_em
from aaspi_py.mixture.bhattacharyya import bhattacharyya
from aaspi_py.mixture.covariance_models import MODELS, model_code, n_parameters
from aaspi_py.mixture.init import ward_labels

__all__ = ["GaussianMixture", "best_mixture", "bhattacharyya", "MODELS"]

ALGORITHMS = {"em": gmm_em.EM, "cem": gmm_em.CEM, "sem-cem": gmm_em.SEM_CEM}


def sem_noise(random_state, n_iterations: int, n_voxels: int, n_clusters: int) -> np.ndarray:
    """Gumbel noise for the SEM draws, shape (n_iterations, n_voxels, n_clusters)."""
    rng = check_random_state(random_state)
    return rng.gumbel(size=(n_iterations, n_voxels, n_clusters))


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture with a Celeux–Govaert covariance model, fitted by SEM then CEM.

    Initialisation (``init="multi"``, the default): three starting partitions — k-means (at
    most ``kmeans_max_iter`` iterations) in the plane of the first two eigenvectors of the
    covariance, and Ward's hierarchical agglomeration (on at most 2 000 voxels) of the
    standardised and of the raw attributes, much as mclust starts from a hierarchical
    agglomeration (:mod:`aaspi_py.mixture.init`); the algorithm runs from each and the highest
    likelihood is kept. ``init="kmeans-pca"`` uses the first start only (3× faster). ``algorithm="sem-cem"`` then runs ``sem_iterations`` of SEM (labels drawn from
    the posteriors, M-step on the drawn partition), keeps the iterate with the highest
    log-likelihood, and runs CEM (labels = argmax posterior) until the partition stops
    changing. ``"cem"`` skips SEM; ``"em"`` runs classical EM with scikit-learn's stopping
    rule. A hard partition must leave every cluster at least d + 1 voxels (enough for a
    non-singular scatter); SEM rejects a draw below that and CEM stops at the last valid
    parameters, so empty or singular clusters never give NaN.

    Parameters
    ----------
    n_components : int, default=1
        Number of clusters K.
    covariance_model : {"EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV", "VVV"}, default="VVV"
        mclust name of the covariance model (see :mod:`aaspi_py.mixture.covariance_models`). VVV, EEE, VVI
        and VII are scikit-learn's "full", "tied", "diag" and "spherical".
    algorithm : {"sem-cem", "cem", "em"}, default="sem-cem"
    sem_iterations : int, default=200
        SEM iterations before CEM (``"sem-cem"`` only).
    sem_sample : int or None, default=None
        Run SEM on a seeded random sample of at most this many voxels (CEM and the
        likelihood always use all of them). None: all voxels.
    max_iter : int, default=100
        Cap on CEM or EM iterations.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per voxel changes by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every cluster covariance (in the units of X).
    kmeans_max_iter : int, default=300
        Cap on the k-means iterations of the initialisation.
    init : {"multi", "kmeans-pca"}, default="multi"
        Starting partitions (see above); ignored when starting parameters are given.
    weights_init, means_init, precisions_init : array-like, default=None
        Starting parameters, shapes (K,), (K, d), (K, d, d) (full precision matrices);
        whichever is missing comes from the k-means partition.
    random_state : int, RandomState instance or None, default=None
        Seeds the SEM draws and the SEM sample.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray of shape (n_components, n_features, n_features)
    precisions_ : ndarray of shape (n_components, n_features, n_features)
    precisions_cholesky_ : ndarray of shape (n_components, n_features, n_features)
        Upper-triangular U_k with U_k U_kᵀ = Σ_k⁻¹ (scikit-learn's convention).
    log_likelihood_ : float
        Log-likelihood of the training data under the fitted mixture.
    lower_bound_ : float
        ``log_likelihood_`` per voxel (scikit-learn's name).
    converged_ : bool
    degenerate_ : bool
        True when CEM met a partition with a cluster below d + 1 voxels.
    n_iter_ : int
        CEM or EM iterations run.
    sem_best_iteration_ : int
        SEM iteration whose parameters were kept (-1 without SEM).
    n_starts_ : int
        Starting partitions tried.
    n_features_in_ : int

    Notes
    -----
    :meth:`bic` returns ``log L − ½ p log n`` (course-notes eq. 6): **higher is better**,
    the opposite sign of scikit-learn's ``GaussianMixture.bic``.

    Examples
    --------
    >>> import numpy as np
    >>> from aaspi_py import GaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(6, 1, (200, 2))]
    >>> gm = GaussianMixture(2, covariance_model="VVI", random_state=0).fit(X)
    >>> sorted(np.round(gm.means_[:, 0]).tolist())
    [0.0, 6.0]
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_model": [StrOptions(set(MODELS))],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "sem_iterations": [Interval(Integral, 0, None, closed="left")],
        "sem_sample": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "kmeans_max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"multi", "kmeans-pca"})],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=1, *, covariance_model="VVV", algorithm="sem-cem",
                 sem_iterations=200, sem_sample=None, max_iter=100, tol=1e-3, reg_covar=1e-6,
                 kmeans_max_iter=300, init="multi", weights_init=None, means_init=None, precisions_init=None,
                 random_state=None):
        self.n_components = n_components
        self.covariance_model = covariance_model
        self.algorithm = algorithm
        self.sem_iterations = sem_iterations
        self.sem_sample = sem_sample
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.kmeans_max_iter = kmeans_max_iter
        self.init = init
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state

    # ------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the mixture to X of shape (n_voxels, n_attributes); returns self."""
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        k = self.n_components
        if n < k:
            raise ValueError(f"Expected n_samples >= n_components but got n_components = {k}, "
                             f"n_samples = {n}")
        rng = check_random_state(self.random_state)
        algorithm = ALGORITHMS[self.algorithm]
        # centring is exact for the likelihood and keeps the one-pass moments accurate
        center = X.mean(axis=0)
        phi = gmm_em.quadratic_features(np.ascontiguousarray(X - center))
        phi_sum = phi.sum(axis=1)
        sem = algorithm == gmm_em.SEM_CEM and self.sem_iterations > 0 and k > 1
        phi_sem, phi_sem_sum = phi, phi_sum
        if sem and self.sem_sample is not None and n > self.sem_sample:
            idx = np.sort(rng.choice(n, self.sem_sample, replace=False))
            phi_sem = np.ascontiguousarray(phi[:, idx])
            phi_sem_sum = phi_sem.sum(axis=1)
        start_phi, start_sum = (phi_sem, phi_sem_sum) if sem else (phi, phi_sum)
        labels = gmm_em.kmeans_pca_labels(start_phi, start_sum, d, k, self.kmeans_max_iter)
        code = np.array([model_code(self.covariance_model)])
        no_init = (np.zeros(0), np.zeros((0, d)), np.zeros((0, d, d)))
        starts = [labels]
        if any(v is not None for v in (self.weights_init, self.means_init, self.precisions_init)):
            init = self._starting_parameters(start_phi, start_sum, labels, code[0], d, center)
            starts = [np.zeros(0, dtype=np.int64)]
        else:
            init = no_init
            if self.init == "multi" and k > 1:
                x_start = X if start_phi is phi else X[idx]
                for standardise in (True, False):
                    # a fixed seed for the agglomeration subsample: the SEM draws stay those of random_state
                    ward = ward_labels(x_start, k, np.random.default_rng(0), standardise)
                    if ward is not None:
                        starts.append(ward)
        noise = (sem_noise(rng, self.sem_iterations, phi_sem.shape[1], k) if sem
                 else np.zeros((0, phi_sem.shape[1], k)))
        fits = [gmm_em.fit_mixtures(
            phi, phi_sum, phi_sem, phi_sem_sum, d, code, k, start, *init, noise, algorithm,
            self.max_iter, self.tol, np.full(d, float(self.reg_covar)), d + 1, np.zeros(1), -np.inf,
            np.zeros((1, 1), dtype=np.bool_)) for start in starts]
        # the highest likelihood among the fits that did not end on a degenerate partition
        w, m, c, ll, status, n_iter, best = max(
            fits, key=lambda f: (f[4][0] != gmm_em.DEGENERATE, f[3][0]))
        self.n_starts_ = len(starts)
        self._set_parameters(w[0], m[0] + center, c[0])
        self.log_likelihood_ = float(ll[0])
        self.lower_bound_ = self.log_likelihood_ / n
        self.converged_ = bool(status[0] == gmm_em.CONVERGED)
        self.degenerate_ = bool(status[0] == gmm_em.DEGENERATE)
        self.n_iter_ = int(n_iter[0])
        self.sem_best_iteration_ = int(best[0])
        return self

    def _starting_parameters(self, phi, phi_sum, labels, code, d, center):
        k = self.n_components
        stats = np.zeros((k, phi.shape[0]))
        gmm_em._hard_stats(phi, phi_sum, labels, k, phi.shape[0], stats, np.empty(phi.shape[1]))
        stats[:, 0] = np.maximum(stats[:, 0], 1e-12)
        weights, means, covs = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
        gmm_em._parameters(code, stats, d, True, np.full(d, float(self.reg_covar)), gmm_em._cross_index(d),
                           weights, means, np.zeros((k, d, d)), covs)
        if self.weights_init is not None:
            weights = _checked(self.weights_init, (k,), "weights_init")
            if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
                raise ValueError("weights_init must be non-negative and sum to 1")
        if self.means_init is not None:
            means = _checked(self.means_init, (k, d), "means_init") - center
        if self.precisions_init is not None:
            prec = _checked(self.precisions_init, (k, d, d), "precisions_init")
            try:
                covs = np.linalg.inv(prec)
            except np.linalg.LinAlgError:
                raise ValueError("precisions_init must be invertible") from None
            covs = 0.5 * (covs + np.swapaxes(covs, 1, 2))
        return (np.ascontiguousarray(weights), np.ascontiguousarray(means),
                np.ascontiguousarray(covs))

    def _set_parameters(self, weights, means, covariances):
        self.weights_ = weights
        self.means_ = means
        self.covariances_ = covariances
        low = np.linalg.cholesky(covariances)
        eye = np.eye(means.shape[1])
        self.precisions_cholesky_ = np.stack([solve_triangular(lk, eye, lower=True).T for lk in low])
        self.precisions_ = self.precisions_cholesky_ @ np.swapaxes(self.precisions_cholesky_, 1, 2)
        self._log_det = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)

    # ------------------------------------------------------------ evaluation

    def _weighted_log_prob(self, X):
        d = X.shape[1]
        out = np.empty((X.shape[0], self.n_components))
        for k in range(self.n_components):
            z = (X - self.means_[k]) @ self.precisions_cholesky_[k]
            out[:, k] = (np.log(max(self.weights_[k], 1e-300))
                         - 0.5 * (d * np.log(2 * np.pi) + self._log_det[k] + (z * z).sum(axis=1)))
        return out

    def score_samples(self, X):
        """Log-density of each voxel, shape (n_voxels,)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return logsumexp(self._weighted_log_prob(np.asarray(X, np.float64)), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood per voxel."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Posterior probability of each cluster, shape (n_voxels, n_components)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        lp = self._weighted_log_prob(np.asarray(X, np.float64))
        return np.exp(lp - logsumexp(lp, axis=1, keepdims=True))

    def predict(self, X):
        """Cluster of maximum posterior, shape (n_voxels,)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._weighted_log_prob(np.asarray(X, np.float64)).argmax(axis=1)

    def fit_predict(self, X, y=None):
        """Fit, then return the cluster of each voxel."""
        return self.fit(X).predict(X)

    def n_parameters(self) -> int:
        """Free parameters: mclust's count for the covariances, K·d means, K − 1 weights."""
        check_is_fitted(self)
        return n_parameters(self.covariance_model, self.n_features_in_, self.n_components)

    def bic(self, X) -> float:
        """BIC = log L − ½ p log n on X (course-notes eq. 6). **Higher is better.**

        This is −½ × scikit-learn's ``GaussianMixture.bic``, whose lower values are better.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        ll = float(self.score_samples(X).sum())
        return ll - 0.5 * self.n_parameters() * np.log(X.shape[0])


def _checked(value, shape, name):
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def best_mixture(X, max_clusters: int = 2, models=MODELS, **params) -> GaussianMixture:
    """The mixture of highest BIC over K = 1 … ``max_clusters`` and the given covariance models.

    BIC = log L − ½ p log n (course-notes eq. 6): **higher is better**. Ties go to fewer
    clusters, then to the simpler model (order of :data:`MODELS`).

    Parameters
    ----------
    X : array-like of shape (n_voxels, n_attributes)
    max_clusters : int
    models : sequence of str
    **params : passed to :class:`GaussianMixture` (e.g. ``random_state``, ``sem_iterations``)

    Returns
    -------
    GaussianMixture
        Fitted; its BIC on X is ``bic_``.
    """
    best, best_bic = None, -np.inf
    for k in range(1, max_clusters + 1):
        for model in models:
            gm = GaussianMixture(k, covariance_model=model, **params).fit(X)
            bic = gm.bic(X)
            if bic > best_bic:
                best, best_bic = gm, bic
    best.bic_ = best_bic
    return best

