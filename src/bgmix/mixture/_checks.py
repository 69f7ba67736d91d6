"""Validation of the estimators' input arrays.

Parameters are checked by the one validator of :mod:`bgmix._validation`
(:func:`~bgmix._validation.validate_params` over each estimator's constraint dict, in
scikit-learn's wording); errors are bgmix exceptions, which are also
``ValueError``/``TypeError`` so scikit-learn tooling recognises them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix.exceptions import FrameFormatError, FrameSizeError

__all__ = ["check_array", "check_n_features"]


def _is_sparse(X: Any) -> bool:
    module = type(X).__module__ or ""
    return module.startswith("scipy.sparse") or (hasattr(X, "tocsr") and hasattr(X, "nnz"))


def check_array(
    X: Any,
    *,
    estimator: str,
    name: str = "X",
    min_samples: int = 1,
    ensure_2d: bool = True,
    allow_nd: bool = False,
) -> np.ndarray:
    """Validate an input array and return it as float32 (kept) or float64.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Lists, NumPy arrays, read-only memory maps, anything :func:`numpy.asarray`
        turns into a numeric array. float32 stays float32; every other numeric
        dtype (integers, bools, float16, objects holding numbers) becomes float64.
    estimator : str
        The estimator's class name, for messages.
    name : str
        How the array is called in messages.
    min_samples : int
        Fewest rows accepted.
    ensure_2d, allow_nd : bool
        Require exactly 2 dimensions (the estimators' X) or accept any (parameters).

    Returns
    -------
    ndarray, C-contiguous, float32 or float64

    Raises
    ------
    FrameFormatError
        Sparse, complex, non-numeric, wrongly shaped or empty input, NaN or infinity
        (a ``ValueError`` and a ``TypeError``, as scikit-learn users expect).
    """
    if _is_sparse(X):
        raise FrameFormatError(
            f"{name}: sparse input is not supported by {estimator}; "
            f"pass a dense array ({name}.toarray())"
        )
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise FrameFormatError(f"{name}: cannot be read as a numeric array: {exc}") from None
    if np.iscomplexobj(arr):
        raise FrameFormatError(
            f"{name}: Complex data not supported by {estimator}; got {arr.dtype}"
        )
    if arr.dtype != np.float32:
        if arr.dtype.kind not in "biuf":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise FrameFormatError(
                    f"{name}: dtype {arr.dtype} cannot be converted to float64: {exc}"
                ) from None
            if np.iscomplexobj(arr):  # pragma: no cover - astype(float) refuses complex
                raise FrameFormatError(f"{name}: Complex data not supported by {estimator}")
        else:
            arr = arr.astype(np.float64, copy=False)
    if ensure_2d:
        if arr.ndim == 0:
            raise FrameFormatError(
                f"{name}: Expected 2D array, got scalar array instead: {name}={arr!r}. "
                "Reshape your data either using array.reshape(-1, 1) if your data has a "
                "single feature or array.reshape(1, -1) if it contains a single sample."
            )
        if arr.ndim == 1:
            raise FrameFormatError(
                f"{name}: Expected 2D array, got 1D array instead (shape {arr.shape}). "
                "Reshape your data either using array.reshape(-1, 1) if your data has a "
                "single feature or array.reshape(1, -1) if it contains a single sample."
            )
        if arr.ndim > 2:
            raise FrameFormatError(
                f"{name}: Found array with dim {arr.ndim}. {estimator} expected <= 2 "
                f"(shape {arr.shape})."
            )
        n_samples, n_features = arr.shape
        if n_samples < min_samples:
            raise FrameFormatError(
                f"{name}: Found array with {n_samples} sample(s) (shape={arr.shape}) while a "
                f"minimum of {min_samples} is required by {estimator}."
            )
        if n_features < 1:
            raise FrameFormatError(
                f"{name}: Found array with 0 feature(s) (shape={arr.shape}) while a minimum "
                f"of 1 is required by {estimator}."
            )
    elif arr.ndim > 1 and not allow_nd and arr.ndim != 2:
        raise FrameFormatError(f"{name}: expected at most 2 dimensions, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        what = "NaN" if np.isnan(arr).any() else f"infinity or a value too large for {arr.dtype}"
        raise FrameFormatError(f"Input {name} contains {what}.")
    return np.ascontiguousarray(arr)


def check_n_features(X: np.ndarray, expected: int, *, estimator: str) -> None:
    """Raise :class:`FrameSizeError` unless ``X`` has ``expected`` columns."""
    if X.shape[1] != expected:
        raise FrameSizeError(
            f"X has {X.shape[1]} features, but {estimator} is expecting {expected} "
            "features as input."
        )
