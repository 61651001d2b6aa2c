"""Generative Topographic Mapping (Bishop, Svensén & Williams, 1998).

A regular grid of K nodes ``u_k`` in a 2D latent square [-1, 1]² is mapped to data space by
a generalised linear model ``y_k = Φ(u_k) W + mean`` whose basis Φ holds M Gaussian radial
basis functions on a regular grid (width a multiple of their spacing), optionally the two
latent coordinates (linear terms), and a bias. Each ``y_k`` is the centre of an isotropic
Gaussian of precision β; the data density is the equal-weight mixture

    p(x) = (1/K) Σ_k (β/2π)^(D/2) exp(-β/2 ||x - y_k||²).

EM (expectation / conditional maximisation) fits W and β: the E-step computes the
responsibilities R_nk ∝ exp(-β/2 ||x_n - y_k||²); the M-step solves
``(Φᵀ G Φ + (α/β) I') W = Φᵀ R X`` with ``G = diag(Σ_n R_nk)`` (I' is the identity without
the bias, which is not penalised, so the model is translation equivariant), then
``1/β = Σ_nk R_nk ||x_n - y_k||² / (N D)`` with the new centres. Each step maximises the
penalised log-likelihood ``log L - α/2 ||W'||²``, which therefore never decreases.

Speed: the E-step works on blocks of rows small enough to stay in cache. The exponent
``-β/2 ||x - y||²`` comes out of one BLAS product of the augmented rows ``[x, 1, ||x||²]``
with ``[βy, -β/2 ||y||², -β/2]``, so it is ≤ 0 (no overflow) and a single in-place ``exp``
gives the unnormalised responsibilities. Numerics:

- rows far from every centre (sum of the exponentials below 1e-200, where precision would
  be lost) are recomputed with the usual log-sum-exp shift by the row maximum;
- exponents are clipped at -600 so no subnormal number slows the arithmetic down; a
  clipped term is below 1e-58 of its row's largest;
- rows where the expansion could lose more than 1e-9 in an exponent (huge β ||x||²) are
  recomputed from plain differences;

so log-likelihoods and responsibilities are exact to double precision everywhere.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    DensityMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["GTM", "Exponents", "latent_grid", "rbf_basis"]

#: below this sum of exponentials a row is recomputed with the log-sum-exp shift
TINY = 1e-200
#: unnormalised responsibilities per block (rows × nodes), sized to stay in cache
_BLOCK_ELEMENTS = 1 << 16
#: exponents are clipped here so that exp() and the products that follow stay normal
#: numbers (arithmetic on subnormals is ~100x slower on x86); a clipped term is below
#: 1e-58 of its row's largest (rows summing under TINY are recomputed with the shift)
EXP_FLOOR = -600.0


# ---------------------------------------------------------------- latent space and basis

def latent_grid(shape: tuple[int, int]) -> np.ndarray:
    """Regular grid of points in the latent square [-1, 1]².

    Parameters
    ----------
    shape : tuple of int (n1, n2)
        Points along each latent axis; an axis with one point sits at 0.

    Returns
    -------
    ndarray of shape (n1 * n2, 2)
        Point ``i * n2 + j`` is ``(u1[i], u2[j])``: the first coordinate varies slowest,
        so a K-vector reshaped to ``shape`` is indexed ``[i, j]``.
    """
    axes = [np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1) for n in shape]
    g1, g2 = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([g1.ravel(), g2.ravel()])


def rbf_spacing(shape: tuple[int, int]) -> float:
    """Distance between neighbouring RBF centres on their grid (2 if the grid is one point)."""
    steps = [2.0 / (n - 1) for n in shape if n > 1]
    return min(steps) if steps else 2.0


def rbf_basis(points: np.ndarray, centers: np.ndarray, sigma: float, linear_terms: bool = True) -> np.ndarray:
    """The GTM basis Φ at latent points: Gaussian RBFs, optional linear terms, bias.

    Parameters
    ----------
    points : ndarray of shape (n_points, 2)
        Latent coordinates.
    centers : ndarray of shape (n_rbf, 2)
        RBF centres.
    sigma : float
        RBF standard deviation in latent units.
    linear_terms : bool
        Append the two latent coordinates as basis functions.

    Returns
    -------
    ndarray of shape (n_points, n_rbf + 2 * linear_terms + 1)
        Columns: ``exp(-||u - c_j||² / (2 σ²))``, then ``u1, u2`` if ``linear_terms``,
        then the constant 1 (bias).
    """
    points = np.asarray(points, dtype=np.float64)
    d2 = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    cols = [np.exp(-d2 / (2.0 * sigma * sigma))]
    if linear_terms:
        cols.append(points)
    cols.append(np.ones((len(points), 1)))
    return np.hstack(cols)


# ---------------------------------------------------------------- E-step kernel

def block_rows(n_nodes: int) -> int:
    """Rows per block so that a (rows, n_nodes) float64 block stays in cache."""
    return max(16, _BLOCK_ELEMENTS // max(1, n_nodes))


def augment(Xc: np.ndarray) -> np.ndarray:
    """Rows ``[x, 1, ||x||²]`` of shape (n, D + 2), float64 C-ordered."""
    n, d = Xc.shape
    out = np.empty((n, d + 2))
    out[:, :d] = Xc
    out[:, d] = 1.0
    np.einsum("ij,ij->i", Xc, Xc, out=out[:, d + 1])
    return out


class Exponents:
    """``a_nk = -scale β/2 ||x_n - y_k||²`` for blocks of augmented rows.

    One BLAS product of ``augment(x)`` (n, D + 2) with ``[βy, -β/2 ||y||², -β/2]ᵀ * scale``
    (D + 2, K) gives every exponent. The expansion loses digits when
    ``β (||x||² + ||y||²)`` is huge (a collapsed fit, or an extreme outlier): rows whose
    rounding error could exceed 1e-9 are recomputed from plain differences.

    Parameters
    ----------
    centers : ndarray of shape (K, D)
        Centres ``y_k`` (centred like the rows).
    beta : float
    scale : float
    """

    #: largest tolerated rounding error of an exponent
    tolerance = 1e-9

    def __init__(self, centers: np.ndarray, beta: float, scale: float = 1.0) -> None:
        k, d = centers.shape
        self.centers = np.ascontiguousarray(centers, dtype=np.float64)
        self.coef = 0.5 * beta * scale
        y2 = np.einsum("ij,ij->i", self.centers, self.centers)
        m = np.empty((d + 2, k))
        m[:d] = beta * self.centers.T
        m[d] = -0.5 * beta * y2
        m[d + 1] = -0.5 * beta
        m *= scale
        self.matrix = m
        # rounding of a (D + 2)-term dot product, terms bounded by coef (||x||² + ||y||²)
        self._err = 2.0 * (d + 2) * np.finfo(np.float64).eps * self.coef
        self._y2max = float(y2.max()) if k else 0.0
        self._ymax = float(np.sqrt(self._y2max))

    def lowest(self, xa: np.ndarray) -> float:
        """A lower bound of the exponents of augmented rows ``xa``:
        ``-coef (||x|| + ||y||)² <= -coef ||x - y||²``."""
        if not len(xa):
            return 0.0
        return -self.coef * (float(np.sqrt(xa[:, -1].max())) + self._ymax) ** 2

    @property
    def n_nodes(self) -> int:
        return self.matrix.shape[1]

    def fill(self, xa: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Exponents of augmented rows ``xa`` (n, D + 2) into ``out`` (n, K); returns ``out``."""
        np.matmul(xa, self.matrix, out=out)
        risky = np.flatnonzero(self._err * (xa[:, -1] + self._y2max) > self.tolerance)
        if risky.size:
            diff = xa[risky, None, :-2] - self.centers[None, :, :]
            out[risky] = -self.coef * np.einsum("nkd,nkd->nk", diff, diff)
        return out


def exp_block(xa: np.ndarray, expo: Exponents, out: np.ndarray, tiny: float = TINY,
              floor: float = EXP_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Unnormalised responsibilities of a block of augmented rows, in place.

    Parameters
    ----------
    xa : ndarray of shape (n, D + 2)
        Augmented rows (:func:`augment`).
    expo : Exponents
        Of the current centres.
    out : ndarray of shape (n, K), float64, C-contiguous
        Receives ``exp(a_nk - shift_n)``.
    tiny : float
        Rows whose sum falls below this are recomputed with the log-sum-exp shift.
    floor : float
        Exponents are clipped at ``floor`` before ``exp``.

    Returns
    -------
    total : ndarray of shape (n,)
        Row sums of ``out`` (never below ``tiny``).
    shift : ndarray of shape (n,)
        0 for most rows; the row maximum of ``a`` for rows recomputed with log-sum-exp.
        ``log Σ_k exp(a_nk) = log(total_n) + shift_n``.
    """
    expo.fill(xa, out)
    if expo.lowest(xa) < floor:  # the clip is a pass over the block: skip it when it cannot bite
        np.maximum(out, floor, out=out)
    np.exp(out, out=out)
    total = out.sum(axis=1)
    shift = np.zeros(len(out))
    far = np.flatnonzero(~(total >= tiny))
    if far.size:
        a = expo.fill(xa[far], np.empty((far.size, expo.n_nodes)))
        shift[far] = a.max(axis=1)
        a -= shift[far, None]
        np.maximum(a, floor, out=a)
        np.exp(a, out=a)
        out[far] = a
        total[far] = a.sum(axis=1)
    return total, shift


def iter_blocks(Xc: np.ndarray, centers: np.ndarray, beta: float, *, scale: float = 1.0):
    """Yield ``(start, stop, E, total, shift)`` over blocks of rows of ``Xc``.

    ``E`` (rows, K) is a reused buffer holding ``exp(scale * (a - shift))``, with
    ``a = -β/2 ||x - y_k||²``; consume it before asking for the next block.
    ``total`` and ``shift`` are as in :func:`exp_block` (for ``scale != 1`` the shift is
    ``scale`` times the row maximum, and rows are recomputed below ``1e-200 ** scale`` so
    that ``E ** (1 / scale)`` stays in the normal floating-point range).
    """
    n = len(Xc)
    k = len(centers)
    rows = block_rows(k)
    expo = Exponents(centers, beta, scale)
    buf = np.empty((min(rows, max(n, 1)), k))
    tiny, floor = TINY**scale, EXP_FLOOR * scale
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        xa = augment(Xc[start:stop])
        E = buf[: stop - start]
        total, shift = exp_block(xa, expo, E, tiny, floor)
        yield start, stop, E, total, shift


def _blas_single_thread():
    """BLAS limited to one thread: our products are small and threads only add overhead."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# ---------------------------------------------------------------- estimator

class GTM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, DensityMixin, BaseEstimator):
    """Generative Topographic Mapping: a constrained Gaussian mixture on a 2D latent grid.

    Parameters
    ----------
    latent_shape : tuple of int (n1, n2), default=(20, 20)
        Latent grid: K = n1 * n2 nodes evenly spaced over [-1, 1]².
    rbf_shape : tuple of int (m1, m2), default=(5, 5)
        Grid of Gaussian radial basis function centres over [-1, 1]².
    rbf_width : float, default=1.0
        RBF standard deviation as a multiple of the spacing of the RBF centres
        (ugtm's width factor ``s`` is a variance factor: ``rbf_width = sqrt(s)``).
    regularization : float, default=0.1
        Precision α of the Gaussian prior on the weights (RBF and linear terms; the bias is
        not penalised). Larger values give a stiffer manifold.
    linear_terms : bool, default=True
        Add the two latent coordinates to the basis (Bishop et al. 1998).
    init : {"pca", "random"}, default="pca"
        ``"pca"``: the grid is mapped onto the plane of the two leading principal
        components, its spread matching their variances; 1/β starts at the larger of the
        third eigenvalue and the squared half spacing between neighbouring centres (Bishop
        et al. 1998). ``"random"``: Gaussian weights drawn with ``random_state``.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-5
        Stop when the mean penalised log-likelihood per sample improves by less than this.
    random_state : int, RandomState instance or None, default=None
        Seed for ``init="random"`` (the PCA initialisation is deterministic).

    Attributes
    ----------
    nodes_ : ndarray of shape (n_nodes, 2)
        Latent coordinates of the nodes (:func:`latent_grid` order).
    rbf_centers_ : ndarray of shape (n_rbf, 2)
        Latent coordinates of the RBF centres.
    rbf_sigma_ : float
        RBF standard deviation in latent units.
    phi_ : ndarray of shape (n_nodes, n_basis)
        Basis matrix Φ at the nodes (:func:`rbf_basis`).
    weights_ : ndarray of shape (n_basis, n_features)
        W, mapping the basis to centred data space.
    mean_ : ndarray of shape (n_features,)
        Training data mean; the centres are ``means_ = phi_ @ weights_ + mean_``.
    means_ : ndarray of shape (n_nodes, n_features)
        Data-space centres y_k of the mixture components.
    beta_ : float
        Inverse noise variance β of every component.
    loglik_ : ndarray of shape (n_iter_ + 1,)
        Exact mean log-likelihood per sample of the training data: entry 0 after the
        initialisation, entry i after i EM iterations (``loglik_[-1] == score(X)``).
    objective_ : ndarray of shape (n_iter_ + 1,)
        Mean penalised log-likelihood per sample, ``loglik_ - α ||W'||² / (2 N)``, the
        quantity EM never decreases.
    n_iter_ : int
        EM iterations run.
    converged_ : bool
        Whether ``tol`` was reached before ``max_iter``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X has string feature names.

    Notes
    -----
    ``transform`` returns the posterior mean of each sample in latent space, ``predict``
    the index of its most responsible node (the mode; its coordinates are
    ``nodes_[predict(X)]``), ``predict_proba`` the responsibilities. A K-vector (a row of
    ``predict_proba``, a PDF) reshapes to ``latent_shape`` with ``[i, j]`` at
    ``(u1[i], u2[j])``.

    References
    ----------
    C. M. Bishop, M. Svensén and C. K. I. Williams (1998), GTM: the Generative Topographic
    Mapping. Neural Computation 10(1), 215-234.

    Examples
    --------
    >>> import numpy as np
    >>> from aaspi_py import GTM
    >>> X = np.random.default_rng(0).normal(size=(500, 4))
    >>> gtm = GTM(latent_shape=(10, 10), rbf_shape=(3, 3)).fit(X)
    >>> gtm.transform(X).shape, gtm.predict_proba(X).shape
    ((500, 2), (500, 100))
    """

    _parameter_constraints: dict = {
        "latent_shape": [tuple, list],
        "rbf_shape": [tuple, list],
        "rbf_width": [Interval(Real, 0, None, closed="neither")],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "linear_terms": ["boolean"],
        "init": [StrOptions({"pca", "random"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        latent_shape: tuple[int, int] = (20, 20),
        rbf_shape: tuple[int, int] = (5, 5),
        rbf_width: float = 1.0,
        regularization: float = 0.1,
        *,
        linear_terms: bool = True,
        init: str = "pca",
        max_iter: int = 100,
        tol: float = 1e-5,
        random_state: Any = None,
    ) -> None:
        self.latent_shape = latent_shape
        self.rbf_shape = rbf_shape
        self.rbf_width = rbf_width
        self.regularization = regularization
        self.linear_terms = linear_terms
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- setup
    @staticmethod
    def _check_shape(name: str, value: Any, minimum: int) -> tuple[int, int]:
        ok = (isinstance(value, tuple | list) and len(value) == 2
              and all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in value))
        if not ok or value[0] * value[1] < minimum:
            raise ValueError(
                f"The '{name}' parameter of GTM must be a pair of positive ints with at least "
                f"{minimum} points in all, e.g. (20, 20). Got {value!r} instead."
            )
        return int(value[0]), int(value[1])

    def _build_basis(self) -> None:
        latent = self._check_shape("latent_shape", self.latent_shape, 2)
        rbf = self._check_shape("rbf_shape", self.rbf_shape, 1)
        self.nodes_ = latent_grid(latent)
        self.rbf_centers_ = latent_grid(rbf)
        self.rbf_sigma_ = float(self.rbf_width) * rbf_spacing(rbf)
        self.phi_ = rbf_basis(self.nodes_, self.rbf_centers_, self.rbf_sigma_, self.linear_terms)

    def _penalty_mask(self) -> np.ndarray:
        mask = np.ones(self.phi_.shape[1])
        mask[-1] = 0.0  # the bias is not penalised
        return mask

    def _initialize(self, Xc: np.ndarray) -> tuple[np.ndarray, float]:
        n, d = Xc.shape
        cov = Xc.T @ Xc / n
        eigval, eigvec = np.linalg.eigh(cov)
        eigval = np.clip(eigval[::-1], 0.0, None)
        eigvec = eigvec[:, ::-1]
        scale = max(float(eigval.sum()), np.finfo(float).tiny) if d else 1.0
        if self.init == "pca":
            z = self.nodes_ - self.nodes_.mean(0)
            std = z.std(0)
            z = z / np.where(std > 0, std, 1.0)
            axes = np.zeros((d, 2))
            q = min(2, d)
            axes[:, :q] = eigvec[:, :q] * np.sqrt(eigval[:q])
            target = z @ axes.T
            weights = np.linalg.lstsq(self.phi_, target, rcond=None)[0]
        else:
            rng = check_random_state(self.random_state)
            weights = rng.normal(scale=np.sqrt(scale / d) if d else 1.0, size=(self.phi_.shape[1], d))
            weights[-1] = 0.0
        centers = self.phi_ @ weights
        d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(d2, np.inf)
        spacing2 = float(np.mean(d2.min(axis=1))) if len(centers) > 1 else 0.0
        third = float(eigval[2]) if d >= 3 else 0.0
        beta_inv = max(third, spacing2 / 4.0, 1e-12 * scale, np.finfo(float).tiny)
        return weights, 1.0 / beta_inv

    # -- EM
    def _e_step(self, Xc: np.ndarray, centers: np.ndarray, beta: float):
        """Total log-likelihood, node weights G (K,) and R @ X (K, D) for the current model."""
        k, d = centers.shape
        n = len(Xc)
        rows = block_rows(k)
        expo = Exponents(centers, beta)
        buf = np.empty((min(rows, n), k))
        stats = np.zeros((k, d + 2))
        loglik = 0.0
        for start in range(0, n, rows):
            xa = augment(Xc[start:start + rows])
            E = buf[: len(xa)]
            total, shift = exp_block(xa, expo, E)
            loglik += np.log(total).sum() + shift.sum()
            # one product gives R @ X and G = Σ_n R_nk (the column of ones); normalising
            # the few columns of xa is cheaper than normalising the (rows, K) block
            xa /= total[:, None]
            stats += E.T @ xa
        loglik += n * (0.5 * d * np.log(beta / (2.0 * np.pi)) - np.log(k))
        return loglik, stats[:, d], stats[:, :d]

    def _m_step(self, g: np.ndarray, rx: np.ndarray, beta: float, sum_x2: float, n: int):
        phi = self.phi_
        a = (phi * g[:, None]).T @ phi
        a[np.diag_indices_from(a)] += (self.regularization / beta) * self._penalty_mask()
        weights = np.linalg.lstsq(a, phi.T @ rx, rcond=None)[0]
        centers = phi @ weights
        d = rx.shape[1]
        # Σ_nk R_nk ||x_n - y_k||² expanded, from the statistics of the E-step (Σ_k R_nk = 1)
        resid = sum_x2 - 2.0 * np.einsum("kd,kd->", centers, rx) + np.einsum("k,kd,kd->", g, centers, centers)
        floor = 1e-12 * sum_x2 / max(n * d, 1)
        beta_inv = max(resid / (n * d), floor, np.finfo(float).tiny)
        return weights, 1.0 / beta_inv

    def _penalty(self, weights: np.ndarray, n: int) -> float:
        mask = self._penalty_mask()
        return 0.5 * self.regularization * float(np.sum(mask[:, None] * weights**2)) / n

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, *, callback: Any = None) -> GTM:
        """Fit the GTM to X by EM from the chosen initialisation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (usually standardised attributes).
        y : Ignored
        callback : callable, optional
            Called as ``callback(iteration, loglik)`` after the initialisation (iteration 0)
            and after every EM iteration; an exception it raises stops the fit (e.g. to
            cancel).

        Returns
        -------
        self : GTM
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self._build_basis()
        with _blas_single_thread():
            self._fit(X, callback)
        return self

    def _fit(self, X: np.ndarray, callback: Any) -> None:
        n, d = X.shape
        self.mean_ = X.mean(axis=0)
        # centring keeps ||x||² + ||y||² - 2 x·y accurate; the model is translation equivariant
        Xc = X - self.mean_
        sum_x2 = float(np.einsum("ij,ij->", Xc, Xc))
        weights, beta = self._initialize(Xc)
        ll, g, rx = self._e_step(Xc, self.phi_ @ weights, beta)
        loglik = [ll / n]
        objective = [ll / n - self._penalty(weights, n)]
        if callback is not None:
            callback(0, loglik[0])
        converged = False
        it = 0
        for it in range(1, self.max_iter + 1):
            weights, beta = self._m_step(g, rx, beta, sum_x2, n)
            ll, g, rx = self._e_step(Xc, self.phi_ @ weights, beta)
            loglik.append(ll / n)
            objective.append(ll / n - self._penalty(weights, n))
            if callback is not None:
                callback(it, loglik[-1])
            if objective[-1] - objective[-2] < self.tol:
                converged = True
                break
        self.weights_ = weights
        self.beta_ = float(beta)
        self.means_ = self.phi_ @ weights + self.mean_
        self.loglik_ = np.asarray(loglik)
        self.objective_ = np.asarray(objective)
        self.n_iter_ = it
        self.converged_ = converged
        self._n_features_out = 2
        if not converged and self.max_iter > 0:
            warnings.warn(
                f"GTM did not converge in {self.max_iter} iterations (last gain "
                f"{objective[-1] - objective[-2]:.3g} >= tol {self.tol:g}); raise max_iter or tol.",
                ConvergenceWarning, stacklevel=2,
            )

    # -- inference
    def _validate(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X - self.mean_

    def _blocks(self, Xc: np.ndarray):
        with _blas_single_thread():
            yield from iter_blocks(Xc, self.means_ - self.mean_, self.beta_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities: posterior probability of each node given each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_nodes)
            Rows sum to 1.
        """
        Xc = self._validate(X)
        out = np.empty((len(Xc), len(self.nodes_)))
        for start, stop, E, total, _ in self._blocks(Xc):
            np.divide(E, total[:, None], out=out[start:stop])
        return out

    def transform(self, X: Any) -> np.ndarray:
        """Posterior mean of each sample in latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``Σ_k R_nk u_k``, inside [-1, 1]².
        """
        Xc = self._validate(X)
        out = np.empty((len(Xc), 2))
        for start, stop, E, total, _ in self._blocks(Xc):
            out[start:stop] = (E @ self.nodes_) / total[:, None]
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Index of the most responsible node (the posterior mode) of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), int
            Node indices into ``nodes_``; ``nodes_[predict(X)]`` are the latent modes.
        """
        Xc = self._validate(X)
        out = np.empty(len(Xc), dtype=np.intp)
        for start, stop, E, _, _ in self._blocks(Xc):
            out[start:stop] = E.argmax(axis=1)
        return out

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each sample under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            ``log p(x_n)``.
        """
        Xc = self._validate(X)
        out = np.empty(len(Xc))
        for start, stop, _, total, shift in self._blocks(Xc):
            out[start:stop] = np.log(total) + shift
        d = self.means_.shape[1]
        out += 0.5 * d * np.log(self.beta_ / (2.0 * np.pi)) - np.log(len(self.nodes_))
        return out

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


# ---------------------------------------------------------------- persistence without pickle

_ARRAYS = ("nodes_", "rbf_centers_", "phi_", "weights_", "mean_", "means_", "loglik_", "objective_")
_SCALARS = ("rbf_sigma_", "beta_", "n_iter_", "converged_", "n_features_in_")


def gtm_to_dict(gtm: GTM) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A fitted GTM as JSON-able metadata and a dict of arrays (for ``np.savez``).

    Returns
    -------
    meta : dict
        Constructor parameters and fitted scalars.
    arrays : dict of str to ndarray
        Fitted arrays (``weights_``, ``means_``, ``nodes_`` ...).
    """
    check_is_fitted(gtm)
    params = gtm.get_params()
    if not isinstance(params["random_state"], int | type(None)):
        params["random_state"] = None
    params["latent_shape"] = list(params["latent_shape"])
    params["rbf_shape"] = list(params["rbf_shape"])
    meta = {"params": params}
    for name in _SCALARS:
        value = getattr(gtm, name)
        meta[name] = value.item() if isinstance(value, np.generic) else value
    arrays = {name.rstrip("_"): np.asarray(getattr(gtm, name)) for name in _ARRAYS}
    return meta, arrays


def gtm_from_dict(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GTM:
    """Inverse of :func:`gtm_to_dict`."""
    params = dict(meta["params"])
    params["latent_shape"] = tuple(params["latent_shape"])
    params["rbf_shape"] = tuple(params["rbf_shape"])
    gtm = GTM(**params)
    for name in _ARRAYS:
        setattr(gtm, name, np.asarray(arrays[name.rstrip("_")], dtype=np.float64))
    for name in _SCALARS:
        setattr(gtm, name, meta[name])
    gtm.n_iter_ = int(gtm.n_iter_)
    gtm.n_features_in_ = int(gtm.n_features_in_)
    gtm._n_features_out = 2
    return gtm
