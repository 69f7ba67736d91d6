"""``GaussianMixture``: scikit-learn's estimator, written with fused Numba EM kernels."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bgmix._validation import Options, check_random_state
from bgmix.exceptions import ParameterError
from bgmix.mixture import _gaussian_params as gp
from bgmix.mixture._base import BaseMixture

__all__ = ["GaussianMixture"]

_LOG_2PI = math.log(2.0 * math.pi)


def _kernels():
    from bgmix._kernels import mixture

    return mixture


class GaussianMixture(BaseMixture):
    """Gaussian mixture model fitted by expectation-maximisation.

    A drop-in equivalent of ``sklearn.mixture.GaussianMixture`` (same parameters,
    attributes, methods and EM semantics; scikit-learn is not needed), whose E-step
    and M-step statistics run in one fused, multi-threaded pass over the data.

    Parameters
    ----------
    n_components : int, default 1
        Number of mixture components ``K``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        Each component has its own general covariance matrix ("full"), all share
        one ("tied"), each has a diagonal one ("diag") or a single variance
        ("spherical").
    tol : float, default 1e-3
        EM stops when the lower bound (mean log-likelihood per sample) changes by
        less than ``tol``.
    reg_covar : float, default 1e-6
        Non-negative value added to the diagonal of every covariance.
    max_iter : int, default 100
        Most EM iterations per initialisation (0: only initialise).
    n_init : int, default 1
        Number of initialisations; the one with the largest lower bound is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default "kmeans"
        How the responsibilities that give the initial parameters are made: from
        the labels of a :class:`KMeans` fit (one restart), from k-means++ seeds
        (one sample per component), uniformly at random, or from random samples.
    weights_init : array-like of shape (K,), optional
        Initial weights (overrides ``init_params`` for the weights).
    means_init : array-like of shape (K, D), optional
        Initial means.
    precisions_init : array-like, optional
        Initial precisions (inverse covariances); shape (K,) spherical, (D, D)
        tied, (K, D) diag, (K, D, D) full.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the initialisation, the ``max_samples`` subsample and :meth:`sample`.
    warm_start : bool, default False
        Resume from the fitted parameters at the next ``fit`` (``n_init`` ignored).
    verbose : int, default 0
        Log (at INFO level, logger ``bgmix.mixture._base``) each initialisation
        (1) and every ``verbose_interval`` iterations with timings (2). Nothing is
        printed.
    verbose_interval : int, default 10
        Iterations between two log records.
    max_samples : int, optional
        Fit on a random subsample of at most this many rows (``fit_predict`` still
        labels every row). Bounds the fitting time on multi-megapixel images.
    n_jobs : int, optional
        Threads of the kernels (None or -1: all).

    Attributes
    ----------
    weights_ : (K,) ndarray
        Mixture weights ``pi_k``.
    means_ : (K, D) ndarray
        Component means ``mu_k``.
    covariances_ : ndarray
        Covariances, shape by ``covariance_type`` as for ``precisions_init``.
    precisions_ : ndarray
        Their inverses.
    precisions_cholesky_ : ndarray
        Upper-triangular ``U_k`` with ``U_k U_k^T = precisions_[k]`` (square roots
        for diag and spherical).
    converged_ : bool
        Whether the kept initialisation reached ``tol``.
    n_iter_ : int
        EM iterations of the kept initialisation.
    lower_bound_ : float
        Final lower bound of the kept initialisation (the mean log-likelihood of the
        training data under the parameters before the last M-step).
    lower_bounds_ : list of float
        Lower bound at every iteration of the kept initialisation.
    n_features_in_ : int
        Number of features ``D`` seen in ``fit``.

    Notes
    -----
    The model is :math:`p(x) = \\sum_k \\pi_k \\mathcal N(x \\mid \\mu_k, \\Sigma_k)`.
    E-step: :math:`r_{ik} = \\pi_k \\mathcal N(x_i \\mid \\mu_k, \\Sigma_k) / p(x_i)`,
    computed in log space with log-sum-exp and the precision Cholesky factor
    :math:`U_k` (:math:`\\log \\mathcal N = -\\tfrac D2 \\log 2\\pi + \\log|U_k|
    - \\tfrac12 \\lVert (x-\\mu_k)^\\top U_k \\rVert^2`). M-step: with
    :math:`N_k = \\sum_i r_{ik}`, :math:`\\pi_k = N_k / N`,
    :math:`\\mu_k = \\sum_i r_{ik} x_i / N_k` and
    :math:`\\Sigma_k = \\sum_i r_{ik} (x_i-\\mu_k)(x_i-\\mu_k)^\\top / N_k
    + \\text{reg\\_covar}\\, I`. The lower bound is
    :math:`\\tfrac1N \\sum_i \\log p(x_i)`, which EM never decreases.

    float32 data stays float32 (attributes and outputs); the kernels accumulate in
    float64. Results do not depend on ``n_jobs``.

    References
    ----------
    .. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from
       incomplete data via the EM algorithm", J. R. Stat. Soc. B 39(1), 1977.
    .. [2] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer 2006,
       section 9.2.
    .. [3] F. Pedregosa et al., "Scikit-learn: Machine Learning in Python", JMLR 12,
       2011 (the interface reproduced here).

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.mixture import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.round(gm.means_[np.argsort(gm.means_[:, 0])], 3)
    array([[ 1.,  2.],
           [10.,  2.]])
    >>> bool(gm.predict([[0, 0]])[0] == gm.predict([[1, 2]])[0])
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **BaseMixture._parameter_constraints,
        "covariance_type": [Options(set(gp.COVARIANCE_TYPES))],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: ArrayLike | None = None,
        means_init: ArrayLike | None = None,
        precisions_init: ArrayLike | None = None,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        max_samples: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------- initialise
    def _check_initial_parameters(self, X: np.ndarray) -> None:
        n_features = X.shape[1]
        k = self.n_components
        self._weights_init = (
            None if self.weights_init is None else gp.check_weights(self.weights_init, k)
        )
        self._means_init = (
            None if self.means_init is None else gp.check_means(self.means_init, k, n_features)
        )
        self._precisions_init = (
            None
            if self.precisions_init is None
            else gp.check_precisions(self.precisions_init, self.covariance_type, k, n_features)
        )

    def _initialize_parameters(self, X: np.ndarray, rng: np.random.Generator) -> gp.GaussianState:
        n_samples = X.shape[0]
        k = self.n_components
        if self._weights_init is None or self._means_init is None or self._precisions_init is None:
            stats = self._initial_stats(X, rng)
            nk, means, cov = gp.params_from_stats(
                *stats,
                covariance_type=self.covariance_type,
                reg_covar=self.reg_covar,
                eps=float(np.finfo(X.dtype).eps),
            )
            weights = nk / n_samples
        else:
            weights = means = cov = None
        if self._weights_init is not None:
            weights = self._weights_init.copy()
        if self._means_init is not None:
            means = self._means_init.copy()
        if self._precisions_init is None:
            prec_chol = gp.precision_cholesky(cov, self.covariance_type, X.dtype)
        else:
            prec_chol = gp.precision_cholesky_from_precisions(
                self._precisions_init, self.covariance_type
            )
            cov = gp.covariances_from_precisions(self._precisions_init, self.covariance_type)
        assert weights is not None and means is not None and means.shape[0] == k
        return gp.GaussianState(weights, means, cov, prec_chol)

    def _initial_stats(self, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``(nk_raw, s1, s2, shift)`` of the initial responsibilities."""
        n_samples, n_features = X.shape
        k = self.n_components
        full = self.covariance_type in ("full", "tied")
        if self.init_params == "random":
            resp = rng.uniform(size=(n_samples, k))
            resp /= resp.sum(axis=1, keepdims=True)
            nk_raw = resp.sum(axis=0)
            sums = resp.T @ X
            shift = sums / np.maximum(nk_raw, np.finfo(np.float64).tiny)[:, None]
            s1 = sums - nk_raw[:, None] * shift
            s2 = np.empty((k, n_features, n_features) if full else (k, n_features))
            for c in range(k):
                diff = X - shift[c]
                if full:
                    s2[c] = (resp[:, c] * diff.T) @ diff
                else:
                    s2[c] = resp[:, c] @ (diff * diff)
            return nk_raw, s1, s2, shift
        if self.init_params == "kmeans":
            from bgmix.mixture._kmeans import KMeans

            km = KMeans(n_clusters=k, n_init=1, random_state=rng, n_jobs=self.n_jobs).fit(X)
            labels = km.labels_.astype(np.int64)
            shift = km.cluster_centers_.astype(np.float64)
            kern = _kernels()
            rows, _ = kern.block_layout(n_samples, k * (1 + n_features + n_features**2))
            nk_raw, s1, s2 = kern.hard_stats(X, labels, shift, full, rows, self._n_threads)
            return nk_raw, s1, s2, shift
        if self.init_params == "k-means++":
            from bgmix.mixture._kmeans import kmeans_plusplus

            _, indices = kmeans_plusplus(X, k, random_state=rng, n_jobs=self.n_jobs)
        else:  # random_from_data
            indices = rng.choice(n_samples, size=k, replace=False)
        shift = X[indices].astype(np.float64)
        s2 = np.zeros((k, n_features, n_features) if full else (k, n_features))
        return np.ones(k), np.zeros((k, n_features)), s2, shift

    # ------------------------------------------------------------------- EM
    def _kernel_args(self, weights, means, prec_chol) -> tuple[str, tuple[np.ndarray, ...]]:
        """Family ("full"/"diag") and (means, factor, log_norm) for the kernels."""
        k, n_features = means.shape
        cov_type = self.covariance_type
        with np.errstate(divide="ignore"):
            log_w = np.log(weights)
        log_det = gp.log_det_cholesky(prec_chol, cov_type, n_features)
        # Fresh, writable, C-contiguous float64 copies (K x D small): the kernels see one
        # array type whatever the attributes are (float32, read-only memory maps).
        log_norm = np.array(log_w + log_det - 0.5 * n_features * _LOG_2PI, np.float64)
        means = np.array(means, np.float64, order="C")
        if cov_type == "full":
            factor = np.array(prec_chol, np.float64, order="C")
        elif cov_type == "tied":
            factor = np.array(np.broadcast_to(prec_chol, (k, n_features, n_features)), np.float64)
        elif cov_type == "diag":
            factor = np.array(np.square(prec_chol, dtype=np.float64), order="C")
        else:
            factor = np.repeat(np.square(prec_chol, dtype=np.float64)[:, None], n_features, axis=1)
        family = "full" if cov_type in ("full", "tied") else "diag"
        return family, (means, factor, log_norm)

    def _em_step(self, X: np.ndarray, state: gp.GaussianState) -> tuple[gp.GaussianState, float]:
        kern = _kernels()
        n_samples, n_features = X.shape
        k = self.n_components
        family, (means, factor, log_norm) = self._kernel_args(
            state.weights, state.means, state.precisions_cholesky
        )
        if family == "full":
            rows, _ = kern.block_layout(n_samples, k * (1 + n_features + n_features**2))
            sum_ll, nk_raw, s1, s2 = kern.em_full(X, means, factor, log_norm, rows, self._n_threads)
        else:
            rows, _ = kern.block_layout(n_samples, k * (1 + 2 * n_features))
            sum_ll, nk_raw, s1, s2 = kern.em_diag(X, means, factor, log_norm, rows, self._n_threads)
        nk, new_means, cov = gp.params_from_stats(
            nk_raw,
            s1,
            s2,
            means,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            eps=float(np.finfo(X.dtype).eps),
        )
        weights = nk / nk.sum()
        prec_chol = gp.precision_cholesky(cov, self.covariance_type, X.dtype)
        return gp.GaussianState(weights, new_means, cov, prec_chol), sum_ll / n_samples

    def _state_from_attributes(self) -> gp.GaussianState:
        return gp.GaussianState(
            np.asarray(self.weights_, np.float64),
            np.asarray(self.means_, np.float64),
            np.asarray(self.covariances_, np.float64),
            np.asarray(self.precisions_cholesky_, np.float64),
        )

    def _set_attributes(self, state: gp.GaussianState, dtype: np.dtype) -> None:
        self.weights_ = state.weights.astype(dtype)
        self.means_ = state.means.astype(dtype)
        self.covariances_ = state.covariances.astype(dtype)
        self.precisions_cholesky_ = state.precisions_cholesky.astype(dtype)
        self.precisions_ = gp.precisions_from_cholesky(
            state.precisions_cholesky, self.covariance_type
        ).astype(dtype)

    # -------------------------------------------------------------- scoring
    def _estimate_labels(self, X: np.ndarray) -> NDArray[np.int64]:
        return self._run_score(X, _kernels().MODE_LABELS)[0]

    def _estimate_log_prob_norm(self, X: np.ndarray) -> np.ndarray:
        return self._run_score(X, _kernels().MODE_LOG_NORM)[1]

    def _estimate_resp(self, X: np.ndarray) -> np.ndarray:
        return self._run_score(X, _kernels().MODE_RESP)[2]

    def _estimate_weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        return self._run_score(X, _kernels().MODE_WEIGHTED)[2]

    def _run_score(self, X: np.ndarray, mode: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the scoring kernel in ``mode`` (a ``MODE_*`` constant of
        :mod:`bgmix._kernels.mixture`): ``(labels, log_prob_norm, out)``, the arrays
        the mode does not write being empty."""
        kern = _kernels()
        n_samples = X.shape[0]
        k = self.means_.shape[0]
        family, (means, factor, log_norm) = self._kernel_args(
            np.asarray(self.weights_, np.float64),
            np.asarray(self.means_, np.float64),
            np.asarray(self.precisions_cholesky_, np.float64),
        )
        labels = np.empty(n_samples if mode == kern.MODE_LABELS else 0, np.int64)
        norm = np.empty(n_samples if mode in (kern.MODE_LOG_NORM, kern.MODE_RESP) else 0, X.dtype)
        out = np.empty(
            (n_samples, k) if mode in (kern.MODE_RESP, kern.MODE_WEIGHTED) else (0, k), X.dtype
        )
        rows, _ = kern.block_layout(n_samples, 1)
        score = kern.score_full if family == "full" else kern.score_diag
        score(X, means, factor, log_norm, mode, labels, norm, out, rows, self._n_threads)
        return labels, norm, out

    # ------------------------------------------------------------- extras
    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Component counts are multinomial with the weights; each component's samples
        are ``mu_k + L_k z`` with ``L_k`` the Cholesky factor of ``Sigma_k`` and ``z``
        standard normal. The random stream comes from ``random_state`` (an int gives
        the same samples at every call, as in scikit-learn).

        Parameters
        ----------
        n_samples : int, default 1

        Returns
        -------
        X : (n_samples, n_features) float64 ndarray
            Samples, grouped by component.
        y : (n_samples,) int64 ndarray
            Component of each sample.
        """
        self._check_is_fitted()
        if (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, int | np.integer)
            or n_samples < 1
        ):
            raise ParameterError(
                f"n_samples must be an integer >= 1 (the sampling requires at least one "
                f"sample); got {n_samples!r}"
            )
        rng = check_random_state(self.random_state)
        weights = np.asarray(self.weights_, np.float64)
        counts = rng.multinomial(int(n_samples), weights / weights.sum())
        return sample_gaussians(
            rng,
            counts,
            np.asarray(self.means_, np.float64),
            np.asarray(self.covariances_, np.float64),
            self.covariance_type,
        )

    def _n_parameters(self) -> int:
        return gp.n_parameters(self.covariance_type, self.means_.shape[0], self.means_.shape[1])

    def bic(self, X: ArrayLike) -> float:
        """Bayesian information criterion on ``X`` (lower is better).

        ``BIC = -2 log L(X) + p log N`` with ``p`` the number of free parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        float
        """
        n = np.shape(X)[0]
        return self._penalised_deviance(X, math.log(n))

    def aic(self, X: ArrayLike) -> float:
        """Akaike information criterion on ``X`` (lower is better): ``-2 log L(X) + 2p``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        float
        """
        return self._penalised_deviance(X, 2.0)

    def _penalised_deviance(self, X: ArrayLike, cost: float) -> float:
        """``-2 log L(X) + cost * p``: the BIC with ``cost = log N``, the AIC with 2."""
        return -2.0 * self.score(X) * np.shape(X)[0] + cost * self._n_parameters()

    def _tag_values(self) -> dict[str, Any]:
        return {}


def sample_gaussians(
    rng: np.random.Generator,
    counts: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``counts[k]`` draws from each Gaussian ``N(means[k], covariances[k])``.

    Returns ``(X, y)``: (sum(counts), D) float64 samples grouped by component and
    their int64 component labels.
    """
    n_features = means.shape[1]
    parts = []
    for k, count in enumerate(counts):
        z = rng.standard_normal(size=(int(count), n_features))
        if covariance_type in ("full", "tied"):
            cov = covariances[k] if covariance_type == "full" else covariances
            parts.append(means[k] + z @ _matrix_sqrt(cov).T)
        else:
            parts.append(means[k] + z * np.sqrt(np.maximum(covariances[k], 0.0)))
    X = np.vstack(parts) if parts else np.empty((0, n_features))
    y = np.repeat(np.arange(len(counts), dtype=np.int64), counts.astype(np.int64))
    return X, y


def _matrix_sqrt(cov: np.ndarray) -> np.ndarray:
    """``A`` with ``A A^T = cov``: the Cholesky factor, or ``V sqrt(max(w, 0))`` when
    ``cov`` is only positive semi-definite."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(0.5 * (cov + cov.T))
        return v * np.sqrt(np.clip(w, 0.0, None))
