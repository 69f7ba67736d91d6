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

from typing import Any, ClassVar

import numpy as np

from bgmix._typing import StrPath
from bgmix.background._base import BackgroundSubtractor, Param, bound, int_in, real_in
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


class _OpenCVSubtractor(BackgroundSubtractor):
    """Adapter base. A subclass declares its parameters (:class:`Param`, with OpenCV's
    defaults, whose types are the types OpenCV takes), OpenCV's factory and how many of
    the parameters it takes, in signature order (the others are given through setters),
    and whether OpenCV has a background image."""

    #: OpenCV returns a usable background image of the input's shape.
    _native_background: ClassVar[bool] = True
    #: The factory, under ``cv2``: ``"createBackgroundSubtractorMOG2"``, ``"bgsegm.create..."``.
    _factory: ClassVar[str]
    #: How many of the parameters, in signature order, the factory takes (None: all
    #: but ``postprocess``); the factory's order is the signature's.
    _n_factory_args: ClassVar[int | None] = None
    #: Parameters given through setters, with the setter's name (a base class's
    #: setters are called after the subclass's).
    _setters: ClassVar[dict[str, str]] = {}

    def _opencv_value(self, name: str) -> Any:
        """A parameter as OpenCV takes it: the type of its default (int, float, bool)."""
        return type(self._param_specs[name].default)(getattr(self, name))

    def _create(self) -> Any:
        import cv2

        *path, factory = self._factory.split(".")
        module = cv2
        for part in path:
            module = getattr(module, part)
        names = [n for n in self._param_names() if n != "postprocess"][: self._n_factory_args]
        model = getattr(module, factory)(*(self._opencv_value(n) for n in names))
        setters: dict[str, str] = {}
        for klass in type(self).__mro__:
            for name, setter in vars(klass).get("_setters", {}).items():
                setters.setdefault(name, setter)
        for name, setter in setters.items():
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


class _OpenCVShadows(_OpenCVSubtractor):
    """The two OpenCV peers that mark shadows, MOG2 and KNN: their factories take
    ``(history, threshold, detect_shadows)`` and the rest goes through setters; a pixel
    at most ``shadow_threshold`` darker than the background gets ``shadow_value``
    (Prati et al. 2003). Declares those two parameters, last in both signatures."""

    shadow_value: int = Param(127, int_in(0, 255))
    shadow_threshold: float = Param(0.5, real_in(0.0, 1.0))

    _n_factory_args = 3
    _setters: ClassVar[dict[str, str]] = {
        "shadow_value": "setShadowValue",
        "shadow_threshold": "setShadowThreshold",
    }


class OpenCVMOG2(_OpenCVShadows):
    """OpenCV ``BackgroundSubtractorMOG2`` (Zivkovic 2004; Zivkovic & van der Heijden 2006).

    Parameters are OpenCV's (``history``, ``varThreshold``, ``detectShadows`` and the
    setters), in snake case with OpenCV's defaults. See bgmix's own ``mog2`` for the
    model's equations.

    References
    ----------
    .. [1] Z. Zivkovic, "Improved adaptive Gaussian mixture model for background
       subtraction", ICPR 2004.
    """

    history: int = Param(500, int_in(1))
    var_threshold: float = Param(16.0, real_in(0.0))
    detect_shadows: bool = Param(True)
    n_mixtures: int = Param(5, int_in(1, 255))
    background_ratio: float = Param(0.9, real_in(0.0, 1.0))
    var_threshold_gen: float = Param(9.0, real_in(0.0))
    var_init: float = Param(15.0, lambda s: real_in(bound(s, "var_min"), bound(s, "var_max")))
    var_min: float = Param(4.0, real_in(0.0))
    var_max: float = Param(75.0, lambda s: real_in(bound(s, "var_min")))
    complexity_reduction_threshold: float = Param(0.05, real_in(0.0))

    _factory = "createBackgroundSubtractorMOG2"
    _setters: ClassVar[dict[str, str]] = {
        "n_mixtures": "setNMixtures",
        "background_ratio": "setBackgroundRatio",
        "var_threshold_gen": "setVarThresholdGen",
        "var_init": "setVarInit",
        "var_min": "setVarMin",
        "var_max": "setVarMax",
        "complexity_reduction_threshold": "setComplexityReductionThreshold",
    }


class OpenCVKNN(_OpenCVShadows):
    """OpenCV ``BackgroundSubtractorKNN`` (Zivkovic & van der Heijden 2006).

    References
    ----------
    .. [1] Z. Zivkovic and F. van der Heijden, "Efficient adaptive density estimation
       per image pixel for the task of background subtraction", Pattern Recognition
       Letters 27(7), 2006.
    """

    history: int = Param(500, int_in(1))
    dist2_threshold: float = Param(400.0, real_in(0.0))
    detect_shadows: bool = Param(True)
    knn_samples: int = Param(2, lambda s: int_in(1, bound(s, "n_samples")))
    n_samples: int = Param(7, int_in(1))

    _factory = "createBackgroundSubtractorKNN"
    _setters: ClassVar[dict[str, str]] = {
        "knn_samples": "setkNNSamples",
        "n_samples": "setNSamples",
    }


class OpenCVMOG(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorMOG`` (KaewTraKulPong & Bowden 2001).

    References
    ----------
    .. [1] P. KaewTraKulPong and R. Bowden, "An improved adaptive background mixture
       model for real-time tracking with shadow detection", AVBS 2001.
    """

    _native_background = False

    history: int = Param(200, int_in(1))
    n_mixtures: int = Param(5, int_in(1, 255))
    background_ratio: float = Param(0.7, real_in(0.0, 1.0))
    noise_sigma: float = Param(0.0, real_in(0.0))

    _factory = "bgsegm.createBackgroundSubtractorMOG"


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

    initialization_frames: int = Param(120, int_in(1))
    decision_threshold: float = Param(0.8, real_in(0.0, 1.0))

    _factory = "bgsegm.createBackgroundSubtractorGMG"


class OpenCVCNT(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorCNT`` (S. Zeevi, 2016): pixel stability counting.

    References
    ----------
    .. [1] S. Zeevi, "BackgroundSubtractorCNT", 2016,
       https://github.com/sagi-z/BackgroundSubtractorCNT.
    """

    _native_background = False

    min_pixel_stability: int = Param(15, int_in(1))
    use_history: bool = Param(True)
    max_pixel_stability: int = Param(15 * 60, lambda s: int_in(bound(s, "min_pixel_stability")))
    is_parallel: bool = Param(True)

    _factory = "bgsegm.createBackgroundSubtractorCNT"


class OpenCVGSOC(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorGSOC`` (GSoC 2017, sample consensus).

    References
    ----------
    .. [1] OpenCV contrib ``bgsegm`` module, "BackgroundSubtractorGSOC", 2017.
    """

    mc: int = Param(0, int_in(0, 1))
    n_samples: int = Param(20, int_in(1))
    replace_rate: float = Param(0.003, real_in(0.0, 1.0))
    propagation_rate: float = Param(0.01, real_in(0.0, 1.0))
    hits_threshold: int = Param(32, int_in(1))
    alpha: float = Param(0.01, real_in(0.0))
    beta: float = Param(0.0022, real_in(0.0))
    blinking_supression_decay: float = Param(0.1)
    blinking_supression_multiplier: float = Param(0.1)
    noise_removal_threshold_fac_bg: float = Param(0.0004)
    noise_removal_threshold_fac_fg: float = Param(0.0008)

    _factory = "bgsegm.createBackgroundSubtractorGSOC"


class OpenCVLSBP(_OpenCVSubtractor):
    """OpenCV contrib ``bgsegm.BackgroundSubtractorLSBP`` (local SVD binary patterns).

    References
    ----------
    .. [1] L. Guo, D. Xu and Z. Qiang, "Background subtraction using local SVD binary
       pattern", CVPRW 2016.
    """

    mc: int = Param(0, int_in(0, 1))
    n_samples: int = Param(20, int_in(1))
    lsbp_radius: int = Param(16, int_in(1))
    t_lower: float = Param(2.0, real_in(0.0))
    t_upper: float = Param(32.0, lambda s: real_in(bound(s, "t_lower")))
    t_inc: float = Param(1.0)
    t_dec: float = Param(0.05)
    r_scale: float = Param(10.0)
    r_incdec: float = Param(0.005)
    noise_removal_threshold_fac_bg: float = Param(0.0004)
    noise_removal_threshold_fac_fg: float = Param(0.0008)
    lsbp_threshold: int = Param(8, int_in(0, 32))
    min_count: int = Param(2, lambda s: int_in(1, bound(s, "n_samples")))

    _factory = "bgsegm.createBackgroundSubtractorLSBP"
