"""OpenCV's background subtractors behind bgmix's contract, as peers.

Each adapter takes RGB (or grey) frames like every bgmix method; the conversion to
OpenCV's BGR happens here and nowhere else. Parameters are OpenCV's, in snake case,
with OpenCV's defaults, so ``make_subtractor("opencv-mog2")`` is exactly
``cv2.createBackgroundSubtractorMOG2()``.

Two things OpenCV does not give, and how the adapters handle them:

* **Background image.** ``bgsegm`` MOG and GMG have none, and CNT's is grey. For
  these the adapter keeps its own estimate: a running mean (rate 0.05) of the input,
  updated only where OpenCV's mask says background.
* **Model state.** OpenCV does not expose the per-pixel model of any of these
  methods (``write()`` stores parameters only), so :meth:`save` raises
  :class:`~bgmix.exceptions.UnsupportedOperationError` instead of writing a file
  that could not resume bit-identically.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, ClassVar

import numpy as np

from bgmix._typing import StrPath
from bgmix._validation import Interval, check_param
from bgmix.background._base import BackgroundSubtractor
from bgmix.exceptions import UnsupportedOperationError

__all__ = [
    "OpenCVCNT",
    "OpenCVGMG",
    "OpenCVGSOC",
    "OpenCVKNN",
    "OpenCVLSBP",
    "OpenCVMOG",
    "OpenCVMOG2",
]

_OWN_BACKGROUND_RATE = np.float32(0.05)


def _number(value: Any) -> float | None:
    """``value`` as a bound of another parameter's range (None: not a number, so
    unbounded; the parameter itself is then reported)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return float(value) if ok and np.isfinite(value) else None


def _int(low: float | None, high: float | None = None) -> Interval:
    return Interval(numbers.Integral, low, high)


def _real(low: float | None, high: float | None = None) -> Interval:
    return Interval(numbers.Real, low, high, finite=True)


class _OpenCVSubtractor(BackgroundSubtractor):
    """Adapter base. A subclass declares its parameters (keyword-only ``__init__``
    arguments, stored by :meth:`_store_params`), their constraints (:meth:`_constraints`),
    OpenCV's factory and how many of the parameters it takes, in signature order (the
    others are given through setters), and whether OpenCV has a background image."""

    #: OpenCV returns a usable background image of the input's shape.
    _native_background: ClassVar[bool] = True
    #: The factory, under ``cv2``: ``"createBackgroundSubtractorMOG2"``, ``"bgsegm.create..."``.
    _factory: ClassVar[str]
    #: How many of the parameters, in signature order, the factory takes (None: all
    #: but ``postprocess``); the factory's order is the signature's.
    _n_factory_args: ClassVar[int | None] = None
    #: Parameters given through setters, with the setter's name.
    _setters: ClassVar[dict[str, str]] = {}

    def _constraints(self) -> dict[str, list[Any]]:
        return {}

    def _validate_params(self) -> None:
        super()._validate_params()
        for name, accepted in self._constraints().items():
            check_param(name, getattr(self, name), accepted)

    def _opencv_value(self, name: str) -> Any:
        """A parameter as OpenCV takes it: the type of its default (int, float, bool)."""
        default = inspect.signature(type(self).__init__).parameters[name].default
        return type(default)(getattr(self, name))

    def _create(self) -> Any:
        import cv2

        *path, factory = self._factory.split(".")
        module = cv2
        for part in path:
            module = getattr(module, part)
        names = [n for n in self._param_names() if n != "postprocess"][: self._n_factory_args]
        model = getattr(module, factory)(*(self._opencv_value(n) for n in names))
        for name, setter in self._setters.items():
            getattr(model, setter)(self._opencv_value(name))
        return model

    def _initialize(self, frame: np.ndarray) -> None:
        self._model = self._create()
        self._own_background = None if self._native_background else frame.astype(np.float32)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        import cv2

        img = frame if frame.dtype == np.uint8 else np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.shape[2] == 3 else img[:, :, 0]
        mask = self._model.apply(img, learningRate=float(learning_rate))
        if self._own_background is not None and learning_rate != 0.0:
            still = (mask == 0)[:, :, None]
            rate = _OWN_BACKGROUND_RATE if learning_rate < 0 else np.float32(learning_rate)
            self._own_background += np.where(still, rate * (frame - self._own_background), 0)
        return mask

    def _background(self) -> np.ndarray:
        import cv2

        if self._own_background is not None:
            return self._own_background
        bg = self._model.getBackgroundImage()
        if bg.ndim == 3 and self.frame_shape[2] == 1:
            return cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY)
        return cv2.cvtColor(bg, cv2.COLOR_BGR2RGB) if bg.ndim == 3 else bg

    def reset(self) -> None:
        super().reset()
        self._model = None
        self._own_background = None

    def save(self, path: StrPath) -> None:
        raise UnsupportedOperationError(
            f"{self.name}: OpenCV does not expose this model's per-pixel state, so it cannot be "
            "saved and resumed; use a bgmix method (e.g. 'mog2') for resumable models"
        )


class OpenCVMOG2(_OpenCVSubtractor):
    """OpenCV ``BackgroundSubtractorMOG2`` (Zivkovic 2004; Zivkovic & van der Heijden 2006).

    Parameters are OpenCV's (``history``, ``varThreshold``, ``detectShadows`` and the
    setters), in snake case with OpenCV's defaults. See bgmix's own ``mog2`` for the
    model's equations.

    References
    ----------
    .. [1] Z. Zivkovic, "Improved adaptive Gaussian mixture model for background
       subtraction", ICPR 2004.
    """

    def __init__(
        self,
        *,
        history: int = 500,
        var_threshold: float = 16.0,
        detect_shadows: bool = True,
        n_mixtures: int = 5,
        background_ratio: float = 0.9,
        var_threshold_gen: float = 9.0,
        var_init: float = 15.0,
        var_min: float = 4.0,
        var_max: float = 75.0,
        complexity_reduction_threshold: float = 0.05,
        shadow_value: int = 127,
        shadow_threshold: float = 0.5,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "createBackgroundSubtractorMOG2"
    _n_factory_args = 3
    _setters: ClassVar[dict[str, str]] = {
        "n_mixtures": "setNMixtures",
        "background_ratio": "setBackgroundRatio",
        "var_threshold_gen": "setVarThresholdGen",
        "var_init": "setVarInit",
        "var_min": "setVarMin",
        "var_max": "setVarMax",
        "complexity_reduction_threshold": "setComplexityReductionThreshold",
        "shadow_value": "setShadowValue",
        "shadow_threshold": "setShadowThreshold",
    }

    def _constraints(self) -> dict[str, list[Any]]:
        var_min, var_max = _number(self.var_min), _number(self.var_max)
        return {
            "history": [_int(1)],
            "var_threshold": [_real(0.0)],
            "n_mixtures": [_int(1, 255)],
            "background_ratio": [_real(0.0, 1.0)],
            "var_threshold_gen": [_real(0.0)],
            "var_min": [_real(0.0)],
            "var_max": [_real(var_min)],
            "var_init": [_real(var_min, var_max)],
            "complexity_reduction_threshold": [_real(0.0)],
            "shadow_value": [_int(0, 255)],
            "shadow_threshold": [_real(0.0, 1.0)],
        }


class OpenCVKNN(_OpenCVSubtractor):
    """OpenCV ``BackgroundSubtractorKNN`` (Zivkovic & van der Heijden 2006).

    References
    ----------
    .. [1] Z. Zivkovic and F. van der Heijden, "Efficient adaptive density estimation
       per image pixel for the task of background subtraction", Pattern Recognition
       Letters 27(7), 2006.
    """

    def __init__(
        self,
        *,
        history: int = 500,
        dist2_threshold: float = 400.0,
        detect_shadows: bool = True,
        knn_samples: int = 2,
        n_samples: int = 7,
        shadow_value: int = 127,
        shadow_threshold: float = 0.5,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "createBackgroundSubtractorKNN"
    _n_factory_args = 3
    _setters: ClassVar[dict[str, str]] = {
        "knn_samples": "setkNNSamples",
        "n_samples": "setNSamples",
        "shadow_value": "setShadowValue",
        "shadow_threshold": "setShadowThreshold",
    }

    def _constraints(self) -> dict[str, list[Any]]:
        return {
            "history": [_int(1)],
            "dist2_threshold": [_real(0.0)],
            "n_samples": [_int(1)],
            "knn_samples": [_int(1, _number(self.n_samples))],
            "shadow_value": [_int(0, 255)],
            "shadow_threshold": [_real(0.0, 1.0)],
        }


class OpenCVMOG(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorMOG`` (KaewTraKulPong & Bowden 2001).

    References
    ----------
    .. [1] P. KaewTraKulPong and R. Bowden, "An improved adaptive background mixture
       model for real-time tracking with shadow detection", AVBS 2001.
    """

    _native_background = False

    def __init__(
        self,
        *,
        history: int = 200,
        n_mixtures: int = 5,
        background_ratio: float = 0.7,
        noise_sigma: float = 0.0,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "bgsegm.createBackgroundSubtractorMOG"

    def _constraints(self) -> dict[str, list[Any]]:
        return {
            "history": [_int(1)],
            "n_mixtures": [_int(1, 255)],
            "background_ratio": [_real(0.0, 1.0)],
            "noise_sigma": [_real(0.0)],
        }


class OpenCVGMG(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorGMG`` (Godbehere et al. 2012).

    The mask is all background during the first ``initialization_frames`` frames.

    References
    ----------
    .. [1] A. Godbehere, A. Matsukawa and K. Goldberg, "Visual tracking of human
       visitors under variable-lighting conditions for a responsive audio art
       installation", ACC 2012.
    """

    _native_background = False

    def __init__(
        self,
        *,
        initialization_frames: int = 120,
        decision_threshold: float = 0.8,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "bgsegm.createBackgroundSubtractorGMG"

    def _constraints(self) -> dict[str, list[Any]]:
        return {"initialization_frames": [_int(1)], "decision_threshold": [_real(0.0, 1.0)]}


class OpenCVCNT(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorCNT`` (S. Zeevi, 2016): pixel stability counting.

    References
    ----------
    .. [1] S. Zeevi, "BackgroundSubtractorCNT", 2016,
       https://github.com/sagi-z/BackgroundSubtractorCNT.
    """

    _native_background = False

    def __init__(
        self,
        *,
        min_pixel_stability: int = 15,
        use_history: bool = True,
        max_pixel_stability: int = 15 * 60,
        is_parallel: bool = True,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "bgsegm.createBackgroundSubtractorCNT"

    def _constraints(self) -> dict[str, list[Any]]:
        return {
            "min_pixel_stability": [_int(1)],
            "max_pixel_stability": [_int(_number(self.min_pixel_stability))],
        }


class OpenCVGSOC(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorGSOC`` (GSoC 2017, sample consensus).

    References
    ----------
    .. [1] OpenCV contrib ``bgsegm`` module, "BackgroundSubtractorGSOC", 2017.
    """

    def __init__(
        self,
        *,
        mc: int = 0,
        n_samples: int = 20,
        replace_rate: float = 0.003,
        propagation_rate: float = 0.01,
        hits_threshold: int = 32,
        alpha: float = 0.01,
        beta: float = 0.0022,
        blinking_supression_decay: float = 0.1,
        blinking_supression_multiplier: float = 0.1,
        noise_removal_threshold_fac_bg: float = 0.0004,
        noise_removal_threshold_fac_fg: float = 0.0008,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "bgsegm.createBackgroundSubtractorGSOC"

    def _constraints(self) -> dict[str, list[Any]]:
        return {
            "mc": [_int(0, 1)],
            "n_samples": [_int(1)],
            "replace_rate": [_real(0.0, 1.0)],
            "propagation_rate": [_real(0.0, 1.0)],
            "hits_threshold": [_int(1)],
            "alpha": [_real(0.0)],
            "beta": [_real(0.0)],
        }


class OpenCVLSBP(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorLSBP`` (local SVD binary patterns).

    References
    ----------
    .. [1] L. Guo, D. Xu and Z. Qiang, "Background subtraction using local SVD binary
       pattern", CVPRW 2016.
    """

    def __init__(
        self,
        *,
        mc: int = 0,
        n_samples: int = 20,
        lsbp_radius: int = 16,
        t_lower: float = 2.0,
        t_upper: float = 32.0,
        t_inc: float = 1.0,
        t_dec: float = 0.05,
        r_scale: float = 10.0,
        r_incdec: float = 0.005,
        noise_removal_threshold_fac_bg: float = 0.0004,
        noise_removal_threshold_fac_fg: float = 0.0008,
        lsbp_threshold: int = 8,
        min_count: int = 2,
        postprocess: Any = None,
    ) -> None:
        self._store_params(locals())

    _factory = "bgsegm.createBackgroundSubtractorLSBP"

    def _constraints(self) -> dict[str, list[Any]]:
        return {
            "mc": [_int(0, 1)],
            "n_samples": [_int(1)],
            "lsbp_radius": [_int(1)],
            "t_lower": [_real(0.0)],
            "t_upper": [_real(_number(self.t_lower))],
            "lsbp_threshold": [_int(0, 32)],
            "min_count": [_int(1, _number(self.n_samples))],
        }
