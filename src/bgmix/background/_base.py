"""The one base class of every background subtractor.

A subclass declares its parameters in its class body as :class:`Param` attributes,
each with its default and the values it accepts::

    history: int = Param(200, int_in(1))

The base class builds the keyword-only ``__init__`` from them (a subclass's own
parameters first, in order, then its bases'; redeclaring an inherited parameter
changes only its default), stores every argument untouched on ``self`` under its
name, and checks them all in :meth:`BackgroundSubtractor._validate_params`, which a
subclass extends only for what a declaration cannot say (values derived for the
kernels). It fills four hooks:

``_initialize(frame)``
    allocate the model state from the first frame;
``_apply(frame, learning_rate)``
    classify one frame and update the state, returning the raw ``(H, W)`` uint8 mask;
``_background()``
    the current background image, ``(H, W, C)`` float or uint8 on the 0–255 scale;
``_state_attrs``
    the names of the attributes that hold the state (arrays, scalars or a NumPy
    ``Generator``), which :meth:`save` writes and :func:`load_subtractor` restores.

Frames reach the hooks already validated by :func:`bgmix._validation.as_frame`:
``(H, W, C)`` with C = 1 or 3, uint8, or float32 on the 0–255 scale.
"""

from __future__ import annotations

import abc
import inspect
import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from bgmix._atomic import atomic_output
from bgmix._threads import check_n_jobs, resolve_n_jobs
from bgmix._typing import Frame, ImageU8, Mask, StrPath
from bgmix._validation import Interval, as_frame, check_frame_size, check_learning_rate, check_param
from bgmix.background._postprocess import PostProcess, as_postprocess
from bgmix.exceptions import (
    BgmixError,
    InputError,
    NotFittedError,
    ParameterError,
    SourceNotFoundError,
)

__all__ = [
    "BACKGROUND",
    "FOREGROUND",
    "SHADOW",
    "BackgroundSubtractor",
    "Param",
    "ThreadedSubtractor",
    "bound",
    "int_in",
    "real_in",
]

#: Mask values.
BACKGROUND = 0
SHADOW = 127
FOREGROUND = 255

_FORMAT_VERSION = 1


def int_in(low: float | None, high: float | None = None) -> Interval:
    """The integers in ``[low, high]`` (a None bound is open)."""
    return Interval(numbers.Integral, low, high)


def real_in(low: float | None, high: float | None = None, *, closed: str = "both") -> Interval:
    """The finite reals between ``low`` and ``high`` (``closed`` as in :class:`Interval`)."""
    return Interval(numbers.Real, low, high, closed=closed, finite=True)


def bound(owner: Any, name: str) -> float | None:
    """Parameter ``name`` of ``owner`` as a bound of another parameter's range, or None
    (unbounded) when it is not itself a valid value, so that its own check reports it
    and the other parameter is not blamed for it."""
    value = getattr(owner, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (ok and math.isfinite(value)):
        return None
    try:
        owner._param_specs[name].check(owner, name, value)
    except ParameterError:
        return None
    return float(value)


class Param:
    """A constructor parameter of a subtractor: its default and the values it accepts.

    Parameters
    ----------
    default
        The default value.
    *accepts
        Constraints of :func:`bgmix._validation.check_param` (:class:`Interval`,
        :class:`Options`, ``"random_state"``, ...), the value must satisfy one; or a
        function of the subtractor returning such a constraint, for a range bounded by
        another parameter (``lambda s: real_in(bound(s, "var_min"))``). None given:
        any value (the subclass checks it itself).
    optional : bool, default False
        None is accepted as well, and not reported as accepted in error messages.

    Examples
    --------
    >>> Param(200, int_in(1)).check(None, "history", 0)
    Traceback (most recent call last):
    ...
    bgmix.exceptions.ParameterError: history must be an int in the range [1, inf); got 0
    """

    def __init__(self, default: Any, *accepts: Any, optional: bool = False) -> None:
        self.default = default
        self.accepts = accepts
        self.optional = optional

    def check(self, owner: Any, name: str, value: Any) -> None:
        """Raise :class:`~bgmix.exceptions.ParameterError` naming ``name`` unless
        ``value`` is accepted (``owner``: the subtractor, for bounds set by another
        parameter)."""
        if not self.accepts or (self.optional and value is None):
            return
        check_param(name, value, [c(owner) if callable(c) else c for c in self.accepts])

    def __repr__(self) -> str:
        return f"Param({self.default!r})"


def _generated_init(cls: type) -> Callable[..., None]:
    """The keyword-only ``__init__`` of a class that declares :class:`Param` attributes."""
    specs: dict[str, Param] = cls._param_specs  # type: ignore[attr-defined]

    def __init__(self: BackgroundSubtractor, **params: Any) -> None:
        for key in params:
            if key not in specs:
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword argument {key!r}"
                )
        for name, spec in specs.items():
            if name != "postprocess":
                setattr(self, name, params.get(name, spec.default))
        BackgroundSubtractor.__init__(
            self, postprocess=params.get("postprocess", specs["postprocess"].default)
        )

    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(inspect.get_annotations(klass))
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_param]
        + [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=spec.default,
                annotation=annotations.get(name, inspect.Parameter.empty),
            )
            for name, spec in specs.items()
        ],
        return_annotation=None,
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return __init__


class _RegistryName:
    """The ``name`` of a subtractor class: its name in the registry."""

    def __get__(self, obj: Any, cls: type) -> str:
        from bgmix.background._registry import registered_name

        return registered_name(cls)


class BackgroundSubtractor(abc.ABC):
    """Base class of every background subtractor in bgmix.

    Parameters
    ----------
    postprocess : PostProcess or dict, optional
        Mask post-processing (median filter, opening, closing, hole filling, minimum
        blob area) applied to every mask; see :class:`~bgmix.PostProcess`.

    Notes
    -----
    The contract, shared with OpenCV's ``cv::BackgroundSubtractor``:

    * ``apply(frame, learning_rate=-1)`` returns a ``(H, W)`` uint8 mask with 0 for
      background, 255 for foreground and 127 for shadow (when the method detects
      shadows). ``learning_rate`` < 0 lets the method choose, 0 freezes the model,
      1 re-initialises it from the current frame.
    * The first frame fixes the frame size and colour mode; a later frame of another
      size raises :class:`~bgmix.exceptions.FrameSizeError` until :meth:`reset`.
    * ``get_background_image()`` returns uint8 ``(H, W)`` or ``(H, W, 3)`` like the input.
    * ``save(path)`` writes the complete state; a loaded model produces bit-identical
      masks to the one that never stopped.
    """

    #: Registry name (``make_subtractor(name)``), read from the registry, where each
    #: method's name is written once; "" for a class that is not registered.
    name: ClassVar[str] = _RegistryName()  # type: ignore[assignment]
    #: True when :meth:`fit` must be called before :meth:`apply`.
    requires_fit: ClassVar[bool] = False
    #: Attribute names holding the model state, written by :meth:`save`.
    _state_attrs: ClassVar[tuple[str, ...]] = ()
    #: The declared parameters (:class:`Param`), in signature order.
    _param_specs: ClassVar[dict[str, Param]]

    postprocess: PostProcess | dict[str, Any] | None = Param(None)

    def __init__(self, *, postprocess: PostProcess | dict[str, Any] | None = None) -> None:
        self.postprocess = postprocess
        self._validate_params()
        self._frame_shape: tuple[int, int, int] | None = None
        self._n_frames = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {name: v for name, v in vars(cls).items() if isinstance(v, Param)}
        inherited = cls._param_specs
        specs = {name: spec for name, spec in own.items() if name not in inherited}
        specs.update({name: own.get(name, spec) for name, spec in inherited.items()})
        cls._param_specs = specs
        if own and "__init__" not in vars(cls):
            cls.__init__ = _generated_init(cls)  # type: ignore[method-assign]

    # ------------------------------------------------------------------ parameters
    def _validate_params(self) -> None:
        """Check every parameter against its :class:`Param`; subclasses extend it
        (calling ``super()`` first) only for what a declaration cannot say.

        Must raise :class:`~bgmix.exceptions.ParameterError` naming the parameter,
        and must not change the model state.
        """
        self._postprocessor = as_postprocess(self.postprocess)
        for name, spec in self._param_specs.items():
            spec.check(self, name, getattr(self, name))

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this subtractor, as given to the constructor."""
        return {name: getattr(self, name) for name in self._param_names()}

    def json_params(self) -> dict[str, Any]:
        """:meth:`get_params` as JSON values: a PostProcess as its dict, tuples and
        arrays as lists, NumPy scalars as Python numbers, a numpy Generator as None."""
        return {name: _jsonable(value) for name, value in self.get_params().items()}

    def set_params(self, **params: Any) -> Self:
        """Change parameters; the model state is kept.

        Raises :class:`~bgmix.exceptions.ParameterError` (leaving the subtractor
        unchanged) for an unknown name or an invalid value.
        """
        names = self._param_names()
        for key in params:
            if key not in names:
                raise ParameterError(
                    _unknown_param_message(self.name or type(self).__name__, key, names)
                )
        old = {key: getattr(self, key) for key in params}
        for key, value in params.items():
            setattr(self, key, value)
        try:
            self._validate_params()
        except BgmixError:
            for key, value in old.items():
                setattr(self, key, value)
            self._validate_params()
            raise
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            value = getattr(self, name)
            default = sig.parameters[name].default
            if default is inspect.Parameter.empty or not _equal(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ------------------------------------------------------------------ streaming
    @property
    def n_frames(self) -> int:
        """Number of frames given to :meth:`apply` since the last reset."""
        return self._n_frames

    @property
    def frame_shape(self) -> tuple[int, int, int] | None:
        """``(H, W, C)`` fixed by the first frame, or None before it."""
        return self._frame_shape

    def apply(self, frame: Frame, learning_rate: float = -1.0) -> Mask:
        """Classify one frame and update the model.

        Parameters
        ----------
        frame : (H, W) or (H, W, 3) ndarray
            uint8, or float in [0, 1]; RGB order.
        learning_rate : float, default -1
            Negative: the method's automatic rate. 0: the model is not updated.
            1: the model is re-initialised from this frame. Otherwise in (0, 1).

        Returns
        -------
        (H, W) uint8 ndarray
            0 background, 255 foreground, 127 shadow.
        """
        raw = self.apply_raw(frame, learning_rate)
        # post-processing in row bands on the subtractor's own threads (``n_jobs``)
        return self._postprocessor.apply(raw, n_jobs=getattr(self, "n_jobs", 1))

    def apply_raw(self, frame: Frame, learning_rate: float = -1.0) -> Mask:
        """:meth:`apply` without the post-processing: the model's own mask.

        ``postprocess_mask(apply_raw(frame))`` equals ``apply(frame)`` bit for bit;
        pipelines use the two halves to post-process in a stage of its own.
        """
        lr = check_learning_rate(learning_rate)
        x = as_frame(frame, name=f"frame {self._n_frames}")
        if self._frame_shape is None:
            if self.requires_fit:
                raise NotFittedError(
                    f"{self.name or type(self).__name__} must be fitted with fit(frames) "
                    "before apply()"
                )
            self._initialize(x)
            self._frame_shape = x.shape
        else:
            check_frame_size(x, self._frame_shape, name=f"frame {self._n_frames}")
        mask = self._apply(x, lr)
        self._n_frames += 1
        return mask

    def postprocess_mask(self, mask: Mask, n_jobs: int | None = 1) -> Mask:
        """Apply this subtractor's post-processing (``postprocess``) to a raw mask.

        One thread by default: a pipeline runs it in a stage of its own, beside the
        model's threads (:meth:`apply` uses the subtractor's ``n_jobs``). The result
        does not depend on ``n_jobs``.
        """
        return self._postprocessor.apply(mask, n_jobs=n_jobs)

    def fit(self, frames: Iterable[Frame] | np.ndarray) -> Self:
        """Learn the background from ``frames``.

        For online methods this runs :meth:`apply` on every frame with the automatic
        learning rate (a warm-up); batch methods override it with their batch fit.

        Parameters
        ----------
        frames : (T, H, W[, 3]) ndarray or iterable of frames
            For example an open :func:`bgmix.open_source`.
        """
        n = 0
        for frame in frames:
            self.apply(frame)
            n += 1
        if n == 0:
            raise InputError(f"fit: no frames given to {self.name or type(self).__name__}")
        return self

    def get_background_image(self) -> ImageU8:
        """The current background estimate: uint8 ``(H, W)`` or ``(H, W, 3)`` like the input."""
        if self._frame_shape is None:
            raise NotFittedError(
                f"{self.name or type(self).__name__} has no background yet: give it a frame first"
            )
        bg = np.asarray(self._background())
        if bg.dtype != np.uint8:
            bg = np.clip(np.rint(bg), 0, 255).astype(np.uint8)
        bg = bg.reshape(self._frame_shape)
        return bg[:, :, 0] if self._frame_shape[2] == 1 else bg

    def reset(self) -> None:
        """Forget the model: the next frame starts a new one (and may have a new size)."""
        self._frame_shape = None
        self._n_frames = 0

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def _initialize(self, frame: np.ndarray) -> None:
        """Allocate the model state from the first validated ``(H, W, C)`` frame."""

    @abc.abstractmethod
    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        """Classify and update; return the raw ``(H, W)`` uint8 mask."""

    @abc.abstractmethod
    def _background(self) -> np.ndarray:
        """Current background, ``(H, W, C)`` on the 0–255 scale."""

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = {}
        for attr in self._state_attrs:
            value = getattr(self, attr)
            if isinstance(value, np.random.Generator):
                state[attr + "@rng"] = np.array(json.dumps(value.bit_generator.state))
            else:
                state[attr] = np.asarray(value)
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        for key, value in state.items():
            if key.endswith("@rng"):
                rng = np.random.default_rng()
                rng.bit_generator.state = json.loads(str(value))
                setattr(self, key[:-4], rng)
            elif value.ndim == 0:
                setattr(self, key, value[()])
            else:
                setattr(self, key, np.ascontiguousarray(value))

    def save(self, path: StrPath) -> None:
        """Write parameters and the complete model state to ``path`` (NPZ format).

        The file is written under a temporary name and renamed when complete.
        Resume with :func:`bgmix.load_subtractor` (or ``type(self).load``). A
        ``random_state`` given as a :class:`numpy.random.Generator` is saved as None:
        whatever a method draws from it lives in the model state, so a resumed model
        still gives bit-identical output.
        """
        params = self.json_params()
        payload: dict[str, np.ndarray] = {
            "__format__": np.array(_FORMAT_VERSION),
            "__method__": np.array(self.name),
            "__params__": np.array(json.dumps(params)),
            "__n_frames__": np.array(self._n_frames),
            "__frame_shape__": np.array(
                self._frame_shape if self._frame_shape else (), dtype=np.int64
            ),
        }
        if self._frame_shape is not None:
            for key, value in self._get_state().items():
                payload["state/" + key] = value
        with atomic_output(path, what="model file") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **payload)

    @classmethod
    def load(cls, path: StrPath) -> BackgroundSubtractor:
        """Load a model written by :meth:`save`; it must be an instance of ``cls``."""
        model = load_subtractor(path)
        if not isinstance(model, cls):
            raise InputError(
                f"model file {str(path)!r} holds a {type(model).__name__}, not a {cls.__name__}"
            )
        return model


BackgroundSubtractor._param_specs = {"postprocess": BackgroundSubtractor.postprocess}  # type: ignore[assignment]


class ThreadedSubtractor(BackgroundSubtractor):
    """Base of the subtractors whose kernels run on threads: declares ``n_jobs``
    (after the subclass's own parameters), checks it and resolves it once."""

    n_jobs: int | None = Param(None)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_n_jobs(self.n_jobs)

    @property
    def _n_threads(self) -> int:
        """Threads for the kernels: ``n_jobs`` by the one rule of :mod:`bgmix._threads`."""
        return resolve_n_jobs(self.n_jobs)


def load_subtractor(path: StrPath) -> BackgroundSubtractor:
    """Load any subtractor written by :meth:`BackgroundSubtractor.save`.

    Raises
    ------
    SourceNotFoundError
        If ``path`` does not exist.
    InputError
        If the file is not a bgmix model file.
    """
    from bgmix.background._registry import make_subtractor

    p = Path(path)
    if not p.is_file():
        raise SourceNotFoundError(f"model file {str(p)!r} does not exist")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"model file {str(p)!r} is not a bgmix model file: {exc}") from None
    if "__method__" not in arrays or "__params__" not in arrays:
        raise InputError(f"model file {str(p)!r} is not a bgmix model file (no method name)")
    if int(arrays["__format__"]) > _FORMAT_VERSION:
        raise InputError(
            f"model file {str(p)!r} was written by a newer bgmix "
            f"(format {int(arrays['__format__'])})"
        )
    model = make_subtractor(str(arrays["__method__"]), **json.loads(str(arrays["__params__"])))
    shape = tuple(int(s) for s in arrays["__frame_shape__"])
    if shape:
        model._set_state({k[6:]: v for k, v in arrays.items() if k.startswith("state/")})
        model._frame_shape = shape  # type: ignore[assignment]
        model._n_frames = int(arrays["__n_frames__"])
    return model


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.random.Generator | np.random.RandomState):
        return None
    if isinstance(value, PostProcess):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _unknown_param_message(method: str, key: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{method} has no parameter {key!r}{hint}; its parameters are: {', '.join(names)}"
