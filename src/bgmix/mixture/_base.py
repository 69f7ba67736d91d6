"""The EM loop shared by the mixture models (``BaseMixture``).

It follows scikit-learn's ``sklearn.mixture._base.BaseMixture`` semantics exactly:
``n_init`` restarts keep the one with the largest final lower bound; each restart
alternates E- and M-steps until the change of the lower bound (the mean
log-likelihood per sample) is below ``tol`` or ``max_iter`` is reached, when a
:class:`~bgmix.exceptions.ConvergenceWarning` is issued; ``warm_start`` continues
from the fitted parameters; a final E-step makes ``fit_predict(X)`` equal to
``fit(X).predict(X)``. Subclasses provide small hooks operating on an immutable
parameter tuple, so a failed ``fit`` never leaves a half-updated model.
"""

from __future__ import annotations

import logging
import numbers
import time
import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bgmix._threads import resolve_n_jobs
from bgmix._validation import Interval, Options, check_random_state, validate_params
from bgmix.exceptions import ConvergenceWarning, ParameterError
from bgmix.mixture._checks import check_array, check_n_features
from bgmix.mixture._estimator import BaseEstimator

__all__ = ["BaseMixture"]

logger = logging.getLogger(__name__)


class BaseMixture(BaseEstimator, ABC):
    """Abstract base of mixture models fitted by expectation-maximisation.

    Subclasses implement the hooks :meth:`_initialize_parameters` (returns the
    initial parameters), :meth:`_em_step` (E-step on the current parameters and
    M-step; returns the new parameters and the mean log-likelihood of the *current*
    ones), :meth:`_state_from_attributes`, :meth:`_set_attributes` and
    :meth:`_estimate_labels`, :meth:`_estimate_log_prob_norm`, :meth:`_estimate_resp` and
    :meth:`_estimate_weighted_log_prob` (scoring new samples).
    """

    _estimator_type = "density_estimator"
    _fitted_attr = "lower_bound_"

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(numbers.Real, 0.0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "init_params": [Options({"kmeans", "k-means++", "random", "random_from_data"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_samples": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "n_jobs": ["n_jobs"],
    }

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _check_initial_parameters(self, X: np.ndarray) -> None:
        """Validate user-given initial parameters against ``X`` (store private copies)."""

    @abstractmethod
    def _initialize_parameters(self, X: np.ndarray, rng: np.random.Generator) -> Any:
        """Initial parameters for one restart."""

    @abstractmethod
    def _em_step(self, X: np.ndarray, state: Any) -> tuple[Any, float]:
        """``(new_state, mean log-likelihood of X under state)``."""

    @abstractmethod
    def _state_from_attributes(self) -> Any:
        """The fitted attributes as a parameter state (for ``warm_start``)."""

    @abstractmethod
    def _set_attributes(self, state: Any, dtype: np.dtype) -> None:
        """Store a parameter state as the fitted attributes, in ``dtype``."""

    # Scoring hooks: validated samples, fitted attributes; floats in the dtype of X.
    @abstractmethod
    def _estimate_labels(self, X: np.ndarray) -> NDArray[np.int64]:
        """Most probable component of each sample, (N,) int64."""

    @abstractmethod
    def _estimate_log_prob_norm(self, X: np.ndarray) -> np.ndarray:
        """``log p(x)`` of each sample, (N,)."""

    @abstractmethod
    def _estimate_resp(self, X: np.ndarray) -> np.ndarray:
        """Responsibilities (posterior probability of each component), (N, K)."""

    @abstractmethod
    def _estimate_weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        """``log pi_k + log N(x | mu_k, Sigma_k)``, (N, K)."""

    @property
    def _n_threads(self) -> int:
        """Threads for the kernels: ``n_jobs`` by the one rule of :mod:`bgmix._threads`."""
        return resolve_n_jobs(self.n_jobs)

    # --------------------------------------------------------------- fitting
    def fit(self, X: ArrayLike, y: Any = None) -> BaseMixture:
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times and the parameters with the largest
        final lower bound are kept. Each trial alternates E- and M-steps at most
        ``max_iter`` times, until the change of the lower bound is below ``tol``;
        otherwise a :class:`~bgmix.exceptions.ConvergenceWarning` is issued. With
        ``warm_start=True`` the first call initialises once and later calls resume
        from the fitted parameters. With ``max_samples`` the model is fitted on a
        random subsample of at most that many rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples, one per row; float32 stays float32.
        y : ignored
            Present for scikit-learn API consistency.

        Returns
        -------
        self
            The fitted model.
        """
        self._fit(X)
        return self

    def fit_predict(self, X: ArrayLike, y: Any = None) -> NDArray[np.int64]:
        """Fit the model like :meth:`fit`, then return the label of every row of ``X``.

        A final E-step with the kept parameters guarantees
        ``fit_predict(X) == fit(X).predict(X)``; with ``max_samples`` the model
        is fitted on a subsample and every row of ``X`` is labelled.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        labels : (n_samples,) int64 ndarray
            Index of the most probable component of each sample.
        """
        X = self._fit(X)
        return self._estimate_labels(X)

    def _fit(self, X: ArrayLike) -> np.ndarray:
        validate_params(self, self._parameter_constraints)
        name = type(self).__name__
        X = check_array(X, estimator=name, min_samples=2)
        n_samples, n_features = X.shape
        rng = check_random_state(self.random_state)
        X_fit = X
        if self.max_samples is not None and n_samples > self.max_samples:
            rows = np.sort(rng.choice(n_samples, size=int(self.max_samples), replace=False))
            X_fit = np.ascontiguousarray(X[rows])
        if X_fit.shape[0] < self.n_components:
            raise ParameterError(
                f"n_components={self.n_components} must be at most the number of samples: "
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {X_fit.shape[0]}"
            )
        do_init = not (self.warm_start and self.__sklearn_is_fitted__())
        if not do_init:
            check_n_features(X, self.n_features_in_, estimator=name)
        self._check_initial_parameters(X_fit)
        n_init = self.n_init if do_init else 1

        max_lower_bound = -np.inf
        best: tuple[Any, int, list[float], bool] | None = None
        for init in range(n_init):
            t_init = time.perf_counter()
            if self.verbose:
                logger.info("%s: initialization %d", name, init)
            state = (
                self._initialize_parameters(X_fit, rng)
                if do_init
                else self._state_from_attributes()
            )
            lower_bound = -np.inf if do_init else self.lower_bound_
            bounds: list[float] = []
            if self.max_iter == 0:
                best = (state, 0, bounds, False)
                continue
            converged = False
            n_iter = 0
            t_iter = time.perf_counter()
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                state, lower_bound = self._em_step(X_fit, state)
                bounds.append(lower_bound)
                change = lower_bound - previous
                if self.verbose and n_iter % self.verbose_interval == 0:
                    now = time.perf_counter()
                    logger.info(
                        "%s: iteration %d, %.5f s, lower bound change %.5f",
                        name,
                        n_iter,
                        now - t_iter,
                        change,
                    )
                    t_iter = now
                if abs(change) < self.tol:
                    converged = True
                    break
            if self.verbose:
                logger.info(
                    "%s: initialization %d %s after %.3f s, lower bound %.5f",
                    name,
                    init,
                    "converged" if converged else "did not converge",
                    time.perf_counter() - t_init,
                    lower_bound,
                )
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best = (state, n_iter, bounds, converged)
        assert best is not None
        state, n_iter, bounds, converged = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                f"{name}: the best initialization did not converge in max_iter="
                f"{self.max_iter} iterations (tol={self.tol}). Try different init "
                "parameters, increase max_iter or tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._set_attributes(state, X.dtype)
        self.converged_ = bool(converged)
        self.n_iter_ = int(n_iter)
        self.lower_bounds_ = [float(b) for b in bounds]
        self.n_features_in_ = int(n_features)
        self.lower_bound_ = float(max_lower_bound)
        return X

    # ---------------------------------------------------------- inference
    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Label of the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : (n_samples,) int64 ndarray
            ``argmax_k log(pi_k N(x | mu_k, Sigma_k))``.
        """
        return self._estimate_labels(self._validate_new(X))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Posterior probability (responsibility) of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        resp : (n_samples, n_components) ndarray, dtype of ``X``
            Rows sum to 1.
        """
        return self._estimate_resp(self._validate_new(X))

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Log-likelihood ``log p(x)`` of each sample under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : (n_samples,) ndarray, dtype of ``X``
        """
        return self._estimate_log_prob_norm(self._validate_new(X))

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean log-likelihood per sample of ``X`` under the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X), dtype=np.float64))

    def _tag_values(self) -> dict[str, Any]:
        return {}
