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
from bgmix._validation import check_int, check_real
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


class _OpenCVSubtractor(BackgroundSubtractor):
    """Adapter base: subclasses give ``_create()`` and whether OpenCV has a background."""

    #: OpenCV returns a usable background image of the input's shape.
    _native_background: ClassVar[bool] = True

    def _create(self) -> Any:
        raise NotImplementedError

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
        self.history = history
        self.var_threshold = var_threshold
        self.detect_shadows = detect_shadows
        self.n_mixtures = n_mixtures
        self.background_ratio = background_ratio
        self.var_threshold_gen = var_threshold_gen
        self.var_init = var_init
        self.var_min = var_min
        self.var_max = var_max
        self.complexity_reduction_threshold = complexity_reduction_threshold
        self.shadow_value = shadow_value
        self.shadow_threshold = shadow_threshold
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("history", self.history, low=1)
        check_real("var_threshold", self.var_threshold, low=0.0)
        check_int("n_mixtures", self.n_mixtures, low=1, high=255)
        check_real("background_ratio", self.background_ratio, low=0.0, high=1.0)
        check_real("var_threshold_gen", self.var_threshold_gen, low=0.0)
        check_real("var_min", self.var_min, low=0.0)
        check_real("var_max", self.var_max, low=float(self.var_min))
        check_real("var_init", self.var_init, low=float(self.var_min), high=float(self.var_max))
        check_real("complexity_reduction_threshold", self.complexity_reduction_threshold, low=0.0)
        check_int("shadow_value", self.shadow_value, low=0, high=255)
        check_real("shadow_threshold", self.shadow_threshold, low=0.0, high=1.0)

    def _create(self) -> Any:
        import cv2

        m = cv2.createBackgroundSubtractorMOG2(
            int(self.history), float(self.var_threshold), bool(self.detect_shadows)
        )
        m.setNMixtures(int(self.n_mixtures))
        m.setBackgroundRatio(float(self.background_ratio))
        m.setVarThresholdGen(float(self.var_threshold_gen))
        m.setVarInit(float(self.var_init))
        m.setVarMin(float(self.var_min))
        m.setVarMax(float(self.var_max))
        m.setComplexityReductionThreshold(float(self.complexity_reduction_threshold))
        m.setShadowValue(int(self.shadow_value))
        m.setShadowThreshold(float(self.shadow_threshold))
        return m


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
        self.history = history
        self.dist2_threshold = dist2_threshold
        self.detect_shadows = detect_shadows
        self.knn_samples = knn_samples
        self.n_samples = n_samples
        self.shadow_value = shadow_value
        self.shadow_threshold = shadow_threshold
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("history", self.history, low=1)
        check_real("dist2_threshold", self.dist2_threshold, low=0.0)
        check_int("n_samples", self.n_samples, low=1)
        check_int("knn_samples", self.knn_samples, low=1, high=int(self.n_samples))
        check_int("shadow_value", self.shadow_value, low=0, high=255)
        check_real("shadow_threshold", self.shadow_threshold, low=0.0, high=1.0)

    def _create(self) -> Any:
        import cv2

        m = cv2.createBackgroundSubtractorKNN(
            int(self.history), float(self.dist2_threshold), bool(self.detect_shadows)
        )
        m.setkNNSamples(int(self.knn_samples))
        m.setNSamples(int(self.n_samples))
        m.setShadowValue(int(self.shadow_value))
        m.setShadowThreshold(float(self.shadow_threshold))
        return m


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
        self.history = history
        self.n_mixtures = n_mixtures
        self.background_ratio = background_ratio
        self.noise_sigma = noise_sigma
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("history", self.history, low=1)
        check_int("n_mixtures", self.n_mixtures, low=1, high=255)
        check_real("background_ratio", self.background_ratio, low=0.0, high=1.0)
        check_real("noise_sigma", self.noise_sigma, low=0.0)

    def _create(self) -> Any:
        import cv2

        return cv2.bgsegm.createBackgroundSubtractorMOG(
            int(self.history),
            int(self.n_mixtures),
            float(self.background_ratio),
            float(self.noise_sigma),
        )


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
        self.initialization_frames = initialization_frames
        self.decision_threshold = decision_threshold
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("initialization_frames", self.initialization_frames, low=1)
        check_real("decision_threshold", self.decision_threshold, low=0.0, high=1.0)

    def _create(self) -> Any:
        import cv2

        return cv2.bgsegm.createBackgroundSubtractorGMG(
            int(self.initialization_frames), float(self.decision_threshold)
        )


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
        self.min_pixel_stability = min_pixel_stability
        self.use_history = use_history
        self.max_pixel_stability = max_pixel_stability
        self.is_parallel = is_parallel
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("min_pixel_stability", self.min_pixel_stability, low=1)
        check_int(
            "max_pixel_stability", self.max_pixel_stability, low=int(self.min_pixel_stability)
        )

    def _create(self) -> Any:
        import cv2

        return cv2.bgsegm.createBackgroundSubtractorCNT(
            int(self.min_pixel_stability),
            bool(self.use_history),
            int(self.max_pixel_stability),
            bool(self.is_parallel),
        )


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
        self.mc = mc
        self.n_samples = n_samples
        self.replace_rate = replace_rate
        self.propagation_rate = propagation_rate
        self.hits_threshold = hits_threshold
        self.alpha = alpha
        self.beta = beta
        self.blinking_supression_decay = blinking_supression_decay
        self.blinking_supression_multiplier = blinking_supression_multiplier
        self.noise_removal_threshold_fac_bg = noise_removal_threshold_fac_bg
        self.noise_removal_threshold_fac_fg = noise_removal_threshold_fac_fg
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("mc", self.mc, low=0, high=1)
        check_int("n_samples", self.n_samples, low=1)
        check_real("replace_rate", self.replace_rate, low=0.0, high=1.0)
        check_real("propagation_rate", self.propagation_rate, low=0.0, high=1.0)
        check_int("hits_threshold", self.hits_threshold, low=1)
        check_real("alpha", self.alpha, low=0.0)
        check_real("beta", self.beta, low=0.0)

    def _create(self) -> Any:
        import cv2

        return cv2.bgsegm.createBackgroundSubtractorGSOC(
            int(self.mc),
            int(self.n_samples),
            float(self.replace_rate),
            float(self.propagation_rate),
            int(self.hits_threshold),
            float(self.alpha),
            float(self.beta),
            float(self.blinking_supression_decay),
            float(self.blinking_supression_multiplier),
            float(self.noise_removal_threshold_fac_bg),
            float(self.noise_removal_threshold_fac_fg),
        )


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
        self.mc = mc
        self.n_samples = n_samples
        self.lsbp_radius = lsbp_radius
        self.t_lower = t_lower
        self.t_upper = t_upper
        self.t_inc = t_inc
        self.t_dec = t_dec
        self.r_scale = r_scale
        self.r_incdec = r_incdec
        self.noise_removal_threshold_fac_bg = noise_removal_threshold_fac_bg
        self.noise_removal_threshold_fac_fg = noise_removal_threshold_fac_fg
        self.lsbp_threshold = lsbp_threshold
        self.min_count = min_count
        super().__init__(postprocess=postprocess)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int("mc", self.mc, low=0, high=1)
        check_int("n_samples", self.n_samples, low=1)
        check_int("lsbp_radius", self.lsbp_radius, low=1)
        check_real("t_lower", self.t_lower, low=0.0)
        check_real("t_upper", self.t_upper, low=float(self.t_lower))
        check_int("lsbp_threshold", self.lsbp_threshold, low=0, high=32)
        check_int("min_count", self.min_count, low=1, high=int(self.n_samples))

    def _create(self) -> Any:
        import cv2

        return cv2.bgsegm.createBackgroundSubtractorLSBP(
            int(self.mc),
            int(self.n_samples),
            int(self.lsbp_radius),
            float(self.t_lower),
            float(self.t_upper),
            float(self.t_inc),
            float(self.t_dec),
            float(self.r_scale),
            float(self.r_incdec),
            float(self.noise_removal_threshold_fac_bg),
            float(self.noise_removal_threshold_fac_fg),
            int(self.lsbp_threshold),
            int(self.min_count),
        )
