"""Validation of frames and parameters, with messages that name the input.

Everything here raises :mod:`bgmix.exceptions` classes and never lets a NumPy error
escape. Kernels (``bgmix._kernels``) assume their inputs went through these checks.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError

__all__ = [
    "as_frame",
    "as_generator",
    "check_choice",
    "check_frame_size",
    "check_int",
    "check_learning_rate",
    "check_random_state",
    "check_real",
    "parse_train",
    "train_frames",
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


def check_choice(name: str, value: Any, choices: tuple[Any, ...] | list[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ParameterError`."""
    if value not in choices:
        raise ParameterError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}"
        )
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``[low, high]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ParameterError(f"{name} must be in {_interval(low, high, True, True)}; got {v}")
    return v


def check_random_state(name: str, value: Any) -> None:
    """Accept None, a non-negative int seed or a :class:`numpy.random.Generator`."""
    if value is None or isinstance(value, np.random.Generator):
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be None, a non-negative int seed or a numpy.random.Generator; "
            f"got {value!r}"
        )
    check_int(name, value, low=0)


def as_generator(random_state: Any, *, name: str = "random_state") -> np.random.Generator:
    """A Generator from None (fresh entropy), an int seed, or a Generator (returned as is)."""
    check_random_state(name, random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(None if random_state is None else int(random_state))


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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number; got {value!r} ({type(value).__name__})")
    v = float(value)
    ok = np.isfinite(v)
    if ok and low is not None:
        ok = v >= low if low_inclusive else v > low
    if ok and high is not None:
        ok = v <= high if high_inclusive else v < high
    if not ok:
        raise ParameterError(
            f"{name} must be in {_interval(low, high, low_inclusive, high_inclusive)}; "
            f"got {value!r}"
        )
    return v


def check_learning_rate(learning_rate: Any) -> float:
    """Validate ``learning_rate`` with OpenCV's meaning: -1 automatic, 0 frozen, (0, 1]."""
    if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
        v = float(learning_rate)
        if v < 0:
            return -1.0
    return check_real("learning_rate", learning_rate, low=0.0, high=1.0)


def _interval(low: float | None, high: float | None, li: bool, hi: bool) -> str:
    left = "(-inf" if low is None else ("[" if li else "(") + f"{low:g}"
    right = "inf)" if high is None else f"{high:g}" + ("]" if hi else ")")
    return f"{left}, {right}"


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
