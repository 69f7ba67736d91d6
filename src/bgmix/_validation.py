"""Validation of frames and parameters, with messages that name the input.

Everything here raises :mod:`bgmix.exceptions` classes and never lets a NumPy error
escape. Kernels (``bgmix._kernels``) assume their inputs went through these checks.

One parameter validator: a parameter is checked against a list of accepted forms
(:class:`Interval`, :class:`Options`, ``None``, or one of the names ``"boolean"``,
``"random_state"``, ``"array-like"``, ``"verbose"``, ``"n_jobs"``) by
:func:`check_param`. Estimators declare their constraints in one dict checked by
:func:`validate_params` (scikit-learn's wording, naming the class); subtractors and
functions call :func:`check_int`, :func:`check_real`, :func:`check_choice`,
:func:`check_bool` (the same check, one parameter at a time). One ``random_state`` rule:
:func:`check_random_state`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError

__all__ = [
    "Interval",
    "Options",
    "as_frame",
    "check_bool",
    "check_choice",
    "check_frame_size",
    "check_int",
    "check_learning_rate",
    "check_param",
    "check_random_state",
    "check_real",
    "parse_train",
    "train_frames",
    "validate_params",
]


def as_frame(frame: Any, *, name: str = "frame") -> np.ndarray:
    """Validate a user frame and return it in the kernels' layout.

    Parameters
    ----------
    frame : (H, W), (H, W, 1) or (H, W, 3) ndarray
        uint8 in [0, 255], or float in [0, 1] (the scikit-image convention). RGB order.
    name : str
        How the frame is called in error messages (``"frame 17"``).

    Returns
    -------
    (H, W, C) ndarray, C in {1, 3}, C-contiguous
        uint8 frames are returned as they are (no copy when already contiguous);
        float frames are returned as float32 scaled to [0, 255], so that every model
        works on one intensity scale whatever the input dtype.

    Raises
    ------
    FrameFormatError
        Not an array, wrong dtype, wrong number of dimensions or channels, empty,
        NaN/inf, or float values outside [0, 1].
    """
    if not isinstance(frame, np.ndarray):
        raise FrameFormatError(
            f"{name}: expected a NumPy array of shape (H, W) or (H, W, 3), "
            f"got {type(frame).__name__}"
        )
    if frame.ndim == 2:
        frame = frame[:, :, None]
    elif frame.ndim != 3:
        raise FrameFormatError(
            f"{name}: expected shape (H, W) or (H, W, 3), "
            f"got {frame.shape} ({frame.ndim} dimensions)"
        )
    h, w, c = frame.shape
    if c not in (1, 3):
        hint = " (drop the alpha channel: frame[..., :3])" if c == 4 else ""
        raise FrameFormatError(
            f"{name}: expected 1 or 3 channels, got {c} in shape {frame.shape}{hint}"
        )
    if h == 0 or w == 0:
        raise FrameFormatError(f"{name}: frame is empty, shape {frame.shape}")
    if frame.dtype == np.uint8:
        return np.ascontiguousarray(frame)
    if frame.dtype == np.bool_:
        raise FrameFormatError(
            f"{name}: dtype bool is not an image; convert with frame.astype(np.uint8) * 255"
        )
    if np.issubdtype(frame.dtype, np.floating):
        if not np.isfinite(frame).all():
            bad = int(np.size(frame) - np.count_nonzero(np.isfinite(frame)))
            raise FrameFormatError(f"{name}: {bad} values are NaN or infinite")
        lo, hi = float(frame.min()), float(frame.max())
        if lo < 0.0 or hi > 1.0:
            raise FrameFormatError(
                f"{name}: float frames must lie in [0, 1], got values in [{lo:g}, {hi:g}]"
                " (pass uint8, or divide by 255)"
            )
        return np.ascontiguousarray(frame * np.float32(255.0), dtype=np.float32)
    raise FrameFormatError(
        f"{name}: dtype {frame.dtype} is not supported; expected uint8, or float in [0, 1]"
    )


def check_frame_size(frame: np.ndarray, expected: tuple[int, ...], *, name: str = "frame") -> None:
    """Raise :class:`FrameSizeError` unless ``frame.shape == expected`` ((H, W, C) layout)."""
    if frame.shape != expected:
        raise FrameSizeError(
            f"{name}: size {_describe(frame.shape)} differs from the earlier frames' "
            f"{_describe(expected)}"
        )


def _describe(shape: tuple[int, ...]) -> str:
    h, w = shape[:2]
    c = shape[2] if len(shape) > 2 else 1
    return f"{w}x{h} {'grey' if c == 1 else 'RGB'}"


# ------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Interval:
    """A numeric range constraint: ``Interval(numbers.Integral, 1, None, closed="left")``.

    ``kind`` is :class:`numbers.Integral` (integers, bools excluded) or
    :class:`numbers.Real` (any real number except bools, integers included).
    ``closed`` is one of ``"both"``, ``"left"``, ``"right"``, ``"neither"``; a ``None``
    bound is unbounded (and then accepts an infinity unless ``finite``).

    Examples
    --------
    >>> str(Interval(numbers.Real, 0, 1, closed="right"))
    'a float in the range (0.0, 1.0]'
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = field(default="both", kw_only=True)
    finite: bool = field(default=False, kw_only=True)

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        v = float(value)
        unbounded = (v == np.inf and self.high is None) or (v == -np.inf and self.low is None)
        if not np.isfinite(v) and (self.finite or not unbounded):
            return False
        if self.low is not None:
            if v < self.low or (v == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if v > self.high or (v == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        real = self.kind is numbers.Real
        name = "a float" if real else "an int"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else repr(float(self.low) if real else self.low)
        high = "inf" if self.high is None else repr(float(self.high) if real else self.high)
        return f"{name} in the range {left}{low}, {high}{right}"


class Options:
    """One of a fixed set of values: ``Options({"full", "diag"})``.

    Examples
    --------
    >>> Options({"b", "a"}).is_satisfied_by("a"), str(Options({"b", "a"}))
    (True, "a str among {'a', 'b'}")
    """

    def __init__(self, values: Iterable[Any]) -> None:
        self.values = list(dict.fromkeys(values))

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return any(type(value) is type(v) and value == v for v in self.values)
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        if all(isinstance(v, str) for v in self.values):
            return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"
        return "one of " + ", ".join(repr(v) for v in self.values)


_NAMED = {
    "boolean": "an instance of 'bool'",
    "random_state": "an int in the range [0, 4294967295], an instance of "
    "'numpy.random.Generator' or 'numpy.random.RandomState', or None",
    "array-like": "an array-like",
    "verbose": "an int in the range [0, inf) or a bool",
    "n_jobs": "a non-zero int (-1: all threads)",
}


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
            or Interval(numbers.Integral, 0, 2**32 - 1).is_satisfied_by(value)
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
    raise TypeError(f"unknown constraint {constraint!r}")  # a bug in the caller


def _accepted(constraints: list[Any]) -> str:
    described = [
        "None" if c is None else str(c) if isinstance(c, Interval | Options) else _NAMED[c]
        for c in constraints
    ]
    if len(described) == 1:
        return described[0]
    return ", ".join(described[:-1]) + " or " + described[-1]


def check_param(name: str, value: Any, constraints: list[Any], *, owner: str | None = None) -> Any:
    """The one parameter check: return ``value`` if it satisfies one of ``constraints``.

    Raises
    ------
    ParameterError
        Naming the parameter, what is accepted and the value: ``history must be an
        int in the range [1, inf); got 0``, or with ``owner`` scikit-learn's wording
        ``The 'tol' parameter of GaussianMixture must be ... Got -1 instead.``
    """
    if any(_satisfies(c, value) for c in constraints):
        return value
    if owner is not None:
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be {_accepted(constraints)}. "
            f"Got {value!r} instead."
        )
    raise ParameterError(f"{name} must be {_accepted(constraints)}; got {value!r}")


def validate_params(estimator: Any, constraints: Mapping[str, list[Any]]) -> None:
    """Check every parameter of ``estimator`` against its declared constraints
    (``{"tol": [Interval(numbers.Real, 0, None)], ...}``) with :func:`check_param`."""
    owner = type(estimator).__name__
    for param, accepted in constraints.items():
        check_param(param, getattr(estimator, param), accepted, owner=owner)


def check_choice(name: str, value: Any, choices: tuple[Any, ...] | list[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ParameterError`."""
    return check_param(name, value, [Options(choices)])


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a bool if it is one, else raise :class:`ParameterError`."""
    return bool(check_param(name, value, ["boolean"]))


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``[low, high]``, else raise."""
    return int(check_param(name, value, [Interval(numbers.Integral, low, high)]))


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as float if it is a finite real in the interval, else raise."""
    closed = {(True, True): "both", (True, False): "left", (False, True): "right"}.get(
        (low_inclusive, high_inclusive), "neither"
    )
    interval = Interval(numbers.Real, low, high, closed=closed, finite=True)
    return float(check_param(name, value, [interval]))


def check_random_state(random_state: Any, *, name: str = "random_state") -> np.random.Generator:
    """The one ``random_state`` rule: turn it into a :class:`numpy.random.Generator`.

    ``None`` gives a fresh, OS-seeded generator; an int in [0, 2**32) seeds a new PCG64
    generator (the same int always gives the same stream); a ``Generator`` is used as
    it is (its state advances); a legacy ``RandomState`` seeds a new generator from its
    stream (so it advances too, and the result is reproducible from its state).
    Parameters are validated with the ``"random_state"`` constraint of
    :func:`check_param`, which accepts exactly these.

    Examples
    --------
    >>> int(check_random_state(5).integers(100)) == int(check_random_state(5).integers(100))
    True
    """
    check_param(name, random_state, ["random_state"])
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**32, size=4, dtype=np.uint64))
    return np.random.default_rng(None if random_state is None else int(random_state))


def check_learning_rate(learning_rate: Any) -> float:
    """Validate ``learning_rate`` with OpenCV's meaning: -1 automatic, 0 frozen, (0, 1]."""
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        v = float(learning_rate)
        if v < 0:
            return -1.0
    return check_real("learning_rate", learning_rate, low=0.0, high=1.0)


def parse_train(train: Any) -> float | int | str | None:
    """Validate the ``train`` option shared by ``subtract``, ``evaluate`` and the CLI.

    Returns None (online: nothing is fitted), ``"all"`` (fit on every frame), an int
    >= 1 (that many frames) or a float in (0, 1] (that fraction of the frames). Strings
    from the command line are parsed: ``"1"`` is one frame, ``"1.0"`` every frame.

    Examples
    --------
    >>> parse_train("0.4"), parse_train("25"), parse_train("ALL"), parse_train(None)
    (0.4, 25, 'all', None)
    """
    if train is None:
        return None
    if isinstance(train, str):
        text = train.strip().lower()
        if text == "all":
            return "all"
        try:
            train = int(text) if text.isdigit() else float(text)
        except ValueError:
            raise ParameterError(
                "train must be a fraction in (0, 1] (e.g. 0.4), a number of frames (e.g. 200) "
                f"or 'all'; got {train!r}"
            ) from None
    if isinstance(train, numbers.Integral) and not isinstance(train, bool):
        return check_int("train", train, low=1)
    if isinstance(train, numbers.Real) and not isinstance(train, bool):
        return check_real("train", train, low=0.0, high=1.0, low_inclusive=False)
    raise ParameterError(
        "train must be a fraction in (0, 1] (e.g. 0.4), a number of frames (e.g. 200) "
        f"or 'all'; got {train!r}"
    )


def train_frames(train: Any, frame_count: int | None, *, source: str = "source") -> int | None:
    """The one meaning of ``train`` (``bgmix subtract``, ``evaluate``, ``background``):
    how many of the first frames the model is fitted on before it classifies **every**
    frame, the training frames included (so the classified frames are the same in
    every mode).

    Returns 0 for None (online: nothing is fitted), the number of frames for a
    fraction (rounded half up, at least one) or a count (at most ``frame_count``), and
    ``frame_count`` for ``"all"`` (None when the length is unknown: every frame).

    Raises
    ------
    ParameterError
        A bad ``train``, or a fraction of a source of unknown length.

    Examples
    --------
    >>> train_frames(0.4, 10), train_frames(25, 10), train_frames("all", 9), train_frames(None, 9)
    (4, 10, 9, 0)
    """
    mode = parse_train(train)
    if mode is None:
        return 0
    if mode == "all":
        return frame_count
    if isinstance(mode, float):
        if frame_count is None:
            raise ParameterError(
                f"train={mode} is a fraction, but the length of {source} is unknown; "
                "give a number of frames"
            )
        return max(1, min(frame_count, int(np.floor(mode * frame_count + 0.5))))
    return mode if frame_count is None else min(int(mode), frame_count)
