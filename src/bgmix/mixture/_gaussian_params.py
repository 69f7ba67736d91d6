"""Gaussian-mixture parameter algebra: M-step from statistics, precision factors, checks.

Shapes by covariance type (``K`` components, ``D`` features)::

    covariance_type   covariances / precisions   precisions_cholesky
    "full"            (K, D, D)                  (K, D, D) upper triangular
    "tied"            (D, D)                     (D, D) upper triangular
    "diag"            (K, D)                     (K, D)
    "spherical"       (K,)                       (K,)

The precision Cholesky factor ``U`` satisfies ``U U^T = Sigma^{-1}`` (scikit-learn's
convention), so ``log N(x | mu, Sigma) = -D/2 log 2 pi + log|U| - |(x - mu)^T U|^2 / 2``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bgmix.exceptions import ParameterError
from bgmix.mixture._checks import check_array

__all__ = [
    "GaussianState",
    "check_means",
    "check_precisions",
    "check_weights",
    "covariances_from_precisions",
    "log_det_cholesky",
    "n_parameters",
    "params_from_stats",
    "precision_cholesky",
    "precision_cholesky_from_precisions",
    "precisions_from_cholesky",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


class GaussianState(NamedTuple):
    """One set of mixture parameters (float64), as the EM loop passes them around."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


def _ill_defined(dtype: np.dtype) -> ParameterError:
    message = (
        "Fitting the mixture model failed because some components have ill-defined "
        "empirical covariance (for instance caused by singleton or collapsed samples). "
        "Try to decrease the number of components (n_components), increase reg_covar, "
        "or scale the input data."
    )
    if dtype == np.float32:
        message += " Passing float64 data instead of float32 can also help."
    return ParameterError(message)


def params_from_stats(
    nk_raw: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    shift: np.ndarray,
    *,
    covariance_type: str,
    reg_covar: float,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step: ``(nk, means, covariances)`` from statistics taken around ``shift``.

    Parameters
    ----------
    nk_raw : (K,) ndarray
        ``sum_i r_ik``.
    s1 : (K, D) ndarray
        ``sum_i r_ik (x_i - c_k)``.
    s2 : (K, D, D) or (K, D) ndarray
        ``sum_i r_ik (x_i - c_k)(x_i - c_k)^T`` (full, tied) or its diagonal.
    shift : (K, D) ndarray
        The points ``c_k``.
    covariance_type : {"full", "tied", "diag", "spherical"}
    reg_covar : float
        Added to the diagonal of every covariance.
    eps : float
        Machine epsilon of the data's dtype; ``10 eps`` is added to ``nk`` (as
        scikit-learn does) so that an empty component keeps finite parameters.

    Returns
    -------
    nk : (K,) ndarray
    means : (K, D) ndarray
        ``mu_k = sum_i r_ik x_i / nk``.
    covariances : ndarray, shape by ``covariance_type``
        ``Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / nk + reg_covar I``
        (tied: summed over components and divided by ``sum_k nk``; diag: the
        diagonal; spherical: the mean of the diagonal).

    Notes
    -----
    With ``d_k = mu_k - c_k``, ``sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T
    = s2_k - s1_k d_k^T - d_k s1_k^T + nk_raw_k d_k d_k^T``: the statistics are
    accumulated around points close to the new means, so no large terms cancel.
    """
    nk = nk_raw + 10.0 * eps
    means = (s1 + shift * nk_raw[:, None]) / nk[:, None]
    d = means - shift
    n_features = means.shape[1]
    if covariance_type in ("full", "tied"):
        cross = s1[:, :, None] * d[:, None, :]
        scatter = (
            s2
            - cross
            - np.swapaxes(cross, 1, 2)
            + nk_raw[:, None, None] * (d[:, :, None] * d[:, None, :])
        )
        if covariance_type == "full":
            cov = scatter / nk[:, None, None]
        else:
            cov = scatter.sum(axis=0) / nk.sum()
        cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
        idx = np.arange(n_features)
        cov[..., idx, idx] += reg_covar
        return nk, means, cov
    scatter = s2 - 2.0 * d * s1 + nk_raw[:, None] * d * d
    cov = scatter / nk[:, None] + reg_covar
    if covariance_type == "spherical":
        cov = cov.mean(axis=1)
    return nk, means, cov


def precision_cholesky(
    covariances: np.ndarray, covariance_type: str, dtype: np.dtype
) -> np.ndarray:
    """Upper-triangular ``U`` with ``U U^T = Sigma^{-1}`` (or ``1/sqrt(var)``).

    Raises
    ------
    ParameterError
        A covariance is not positive definite (collapsed component, ``reg_covar``
        too small for the data's scale).
    """
    if covariance_type in ("full", "tied"):
        cov = covariances if covariance_type == "full" else covariances[None]
        if not np.isfinite(cov).all():
            raise _ill_defined(dtype)
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise _ill_defined(dtype) from None
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not (diag > 0).all():
            raise _ill_defined(dtype)
        eye = np.broadcast_to(np.eye(cov.shape[-1]), cov.shape)
        inv = np.linalg.solve(chol, eye)  # L^{-1}, lower triangular
        prec_chol = np.triu(np.swapaxes(inv, 1, 2))
        return prec_chol if covariance_type == "full" else prec_chol[0]
    if not (np.isfinite(covariances).all() and (covariances > 0).all()):
        raise _ill_defined(dtype)
    return 1.0 / np.sqrt(covariances)


def _flip(a: np.ndarray) -> np.ndarray:
    return a[..., ::-1, ::-1]


def precision_cholesky_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    """Upper-triangular ``U`` with ``U U^T = P`` for given precisions ``P``.

    Notes
    -----
    With the exchange matrix ``J``, ``J P J = L L^T`` (Cholesky) gives the upper
    triangular ``U = J L J`` with ``U U^T = P``.
    """
    if covariance_type in ("full", "tied"):
        return np.ascontiguousarray(_flip(np.linalg.cholesky(_flip(precisions))))
    return np.sqrt(precisions)


def precisions_from_cholesky(prec_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    """``U U^T`` (full, tied) or ``U**2`` (diag, spherical)."""
    if covariance_type in ("full", "tied"):
        return prec_chol @ np.swapaxes(prec_chol, -1, -2)
    return prec_chol**2


def covariances_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    """Invert given precisions (matrices, or elementwise for diag/spherical)."""
    if covariance_type in ("full", "tied"):
        cov = np.linalg.inv(precisions)
        return 0.5 * (cov + np.swapaxes(cov, -1, -2))
    return 1.0 / precisions


def log_det_cholesky(prec_chol: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    """``log|U_k|`` per component (a scalar for tied)."""
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diagonal(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


def check_weights(weights: object, n_components: int) -> np.ndarray:
    """Validate ``weights_init``: shape (K,), values in [0, 1], summing to 1."""
    w = check_array(weights, estimator="GaussianMixture", name="weights_init", ensure_2d=False)
    if w.shape != (n_components,):
        raise ParameterError(
            f"The parameter 'weights_init' should have the shape of ({n_components},), "
            f"but got {w.shape}"
        )
    if (w < 0).any() or (w > 1).any():
        raise ParameterError(
            "The parameter 'weights_init' should be in the range [0, 1], but got max value "
            f"{w.max():.5f}, min value {w.min():.5f}"
        )
    atol = 1e-6 if w.dtype == np.float32 else 1e-8
    if abs(1.0 - float(w.sum(dtype=np.float64))) > atol:
        raise ParameterError(
            f"The parameter 'weights_init' should be normalized, but got sum(weights) = "
            f"{float(w.sum()):.5f}"
        )
    return w.astype(np.float64)


def check_means(means: object, n_components: int, n_features: int) -> np.ndarray:
    """Validate ``means_init``: shape (K, D)."""
    m = check_array(means, estimator="GaussianMixture", name="means_init", ensure_2d=False)
    if m.shape != (n_components, n_features):
        raise ParameterError(
            f"The parameter 'means_init' should have the shape of "
            f"({n_components}, {n_features}), but got {m.shape}"
        )
    return m.astype(np.float64)


def check_precisions(
    precisions: object, covariance_type: str, n_components: int, n_features: int
) -> np.ndarray:
    """Validate ``precisions_init``: shape by type, symmetric positive definite."""
    p = check_array(
        precisions,
        estimator="GaussianMixture",
        name="precisions_init",
        ensure_2d=False,
        allow_nd=True,
    )
    shapes = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }
    if p.shape != shapes[covariance_type]:
        raise ParameterError(
            f"The parameter 'precisions_init' ({covariance_type!r} precision) should have the "
            f"shape of {shapes[covariance_type]}, but got {p.shape}"
        )
    p = p.astype(np.float64)
    if covariance_type in ("full", "tied"):
        mats = p if covariance_type == "full" else p[None]
        sym = np.allclose(mats, np.swapaxes(mats, 1, 2))
        if not sym or not (np.linalg.eigvalsh(mats) > 0).all():
            raise ParameterError(
                f"The parameter 'precisions_init' ({covariance_type!r} precision) should be "
                "symmetric, positive-definite"
            )
    elif not (p > 0).all():
        raise ParameterError(
            f"The parameter 'precisions_init' ({covariance_type!r} precision) should be positive"
        )
    return p


def n_parameters(covariance_type: str, n_components: int, n_features: int) -> int:
    """Number of free parameters of the mixture (for BIC and AIC)."""
    if covariance_type == "full":
        cov_params = n_components * n_features * (n_features + 1) / 2.0
    elif covariance_type == "diag":
        cov_params = n_components * n_features
    elif covariance_type == "tied":
        cov_params = n_features * (n_features + 1) / 2.0
    else:
        cov_params = n_components
    mean_params = n_features * n_components
    return int(cov_params + mean_params + n_components - 1)
