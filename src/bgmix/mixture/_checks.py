"""Validation for the estimators: parameter constraints, input arrays, random states.

The estimators declare their parameters' constraints in one dict (as scikit-learn
does) and :func:`validate_params` checks them at the start of ``fit``; messages follow
scikit-learn's wording (``The 'tol' parameter of GaussianMixture must be a float in
the range [0.0, inf). Got -1 instead.``) and are raised as bgmix exceptions, which
are also ``ValueError``/``TypeError`` so scikit-learn tooling recognises them.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError

__all__ = [
    "Interval",
    "Options",
    "check_array",
    "check_n_features",
    "check_random_state",
    "validate_params",
]


class Interval:
    """A numeric range constraint: ``Interval(numbers.Integral, 1, None, closed="left")``.

    ``kind`` is :class:`numbers.Integral` (integers, bools excluded) or
    :class:`numbers.Real` (any real number except bools, integers included).
    ``closed`` is one of ``"both"``, ``"left"``, ``"right"``, ``"neither"``; a ``None``
    bound is unbounded.
    """

    def __init__(
        self, kind: type, low: float | None, high: float | None, *, closed: str = "both"
    ) -> None:
        self.kind = kind
        self.low = low
        self.high = high
        self.closed = closed

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        v = float(value)
        if not np.isfinite(v) and not (
            (v == np.inf and self.high is None) or (v == -np.inf and self.low is None)
        ):
            return False
        if self.low is not None:
            if v < self.low or (v == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if v > self.high or (v == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        name = "an int" if self.kind is numbers.Integral else "a float"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else repr(self.low)
        high = "inf" if self.high is None else repr(self.high)
        if self.kind is numbers.Real:
            low = low if self.low is None else repr(float(self.low))
            high = high if self.high is None else repr(float(self.high))
        return f"{name} in the range {left}{low}, {high}{right}"


class Options:
    """One of a fixed set of values (strings): ``Options({"full", "diag"})``."""

    def __init__(self, values: set[Any]) -> None:
        self.values = values

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return f"a str among {sorted(self.values)!r}".replace("[", "{").replace("]", "}")


def _satisfies(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, Interval | Options):
        return constraint.is_satisfied_by(value)
    if constraint == "boolean":
        return isinstance(value, bool | np.bool_)
    if constraint == "random_state":
        return (
            value is None
            or isinstance(value, np.random.Generator | np.random.RandomState)
            or (Interval(numbers.Integral, 0, 2**32 - 1).is_satisfied_by(value))
        )
    if constraint == "array-like":
        return isinstance(value, np.ndarray | Sequence) and not isinstance(value, str)
    if constraint == "verbose":
        return isinstance(value, bool | np.bool_) or Interval(
            numbers.Integral, 0, None
        ).is_satisfied_by(value)
    if constraint == "n_jobs":
        return value is None or (
            Interval(numbers.Integral, None, None).is_satisfied_by(value) and value != 0
        )
    raise TypeError(f"unknown constraint {constraint!r}")  # a bug in the estimator


def _describe(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, Interval | Options):
        return str(constraint)
    return {
        "boolean": "an instance of 'bool'",
        "random_state": "an int in the range [0, 4294967295], an instance of "
        "'numpy.random.Generator' or 'numpy.random.RandomState', or None",
        "array-like": "an array-like",
        "verbose": "an int in the range [0, inf) or a bool",
        "n_jobs": "a non-zero int (-1: all threads)",
    }[constraint]


def validate_params(estimator: Any, constraints: Mapping[str, list[Any]]) -> None:
    """Raise :class:`ParameterError` for the first parameter matching no constraint.

    ``constraints`` maps each constructor parameter to a list of accepted forms:
    :class:`Interval`, :class:`Options`, ``None``, or one of the strings
    ``"boolean"``, ``"random_state"``, ``"array-like"``, ``"verbose"``, ``"n_jobs"``.
    """
    name = type(estimator).__name__
    for param, accepted in constraints.items():
        value = getattr(estimator, param)
        if any(_satisfies(c, value) for c in accepted):
            continue
        described = [_describe(c) for c in accepted]
        text = (
            described[0]
            if len(described) == 1
            else (", ".join(described[:-1]) + " or " + described[-1])
        )
        raise ParameterError(
            f"The {param!r} parameter of {name} must be {text}. Got {value!r} instead."
        )


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


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    ``None`` gives a fresh, OS-seeded generator; an int seeds a new PCG64 generator
    (the same int always gives the same stream); a ``Generator`` is used as it is
    (its state advances); a legacy ``RandomState`` seeds a new generator from its
    stream (so it advances too, and the result is reproducible from its state).
    """
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**32, size=4, dtype=np.uint64))
    raise ParameterError(
        "random_state must be None, an int, a numpy.random.Generator or a "
        f"numpy.random.RandomState; got {seed!r}"
    )
