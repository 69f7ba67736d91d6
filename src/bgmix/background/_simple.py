"""The simplest subtractors: frame difference and a running-mean background.

They exercise the subtractor contract end to end and serve as baselines in
evaluations; the Gaussian-mixture methods are measured against them.
"""

from __future__ import annotations

import numpy as np

from bgmix.background._base import FOREGROUND, BackgroundSubtractor, Param, real_in

__all__ = ["FrameDifference", "RunningMean"]


def difference_mask(frame: np.ndarray, reference: np.ndarray, threshold: float) -> np.ndarray:
    """255 where the largest per-channel absolute difference exceeds ``threshold``."""
    diff = np.abs(frame.astype(np.float32) - reference).max(axis=2)
    return np.where(diff > threshold, FOREGROUND, 0).astype(np.uint8)


def _blend(reference: np.ndarray, frame: np.ndarray, rate: float) -> np.ndarray:
    """``reference`` moved by ``rate`` towards ``frame`` (in place; 1: a float32 copy
    of the frame, 0: unchanged)."""
    if rate == 1.0:
        return frame.astype(np.float32)
    if rate > 0.0:
        reference += np.float32(rate) * (frame - reference)
    return reference


class FrameDifference(BackgroundSubtractor):
    """Foreground where the frame differs from the previous one.

    Parameters
    ----------
    threshold : float, default 25
        A pixel is foreground when its largest per-channel absolute difference to the
        reference frame exceeds this (0–255 scale).
    postprocess : PostProcess or dict, optional
        Mask post-processing.

    Notes
    -----
    With reference :math:`R_t` (the previous frame),

    .. math:: M_t(x) = [\\max_c |I_t(x, c) - R_{t}(x, c)| > \\tau],
              \\quad R_{t+1} = R_t + \\alpha (I_t - R_t)

    where :math:`\\alpha = 1` with the automatic learning rate (the reference is the
    previous frame), 0 when frozen (a fixed reference frame) and ``learning_rate``
    otherwise. The background image is the reference. Moving objects leave a
    "ghost" where they were, and uniform object interiors are missed (the aperture
    problem); both are why mixture models exist.

    References
    ----------
    .. [1] R. Jain and H.-H. Nagel, "On the analysis of accumulative difference
       pictures from image sequences of real world scenes", IEEE TPAMI 1(2), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> sub = FrameDifference(threshold=10)
    >>> _ = sub.apply(np.zeros((4, 4), np.uint8))
    >>> int(sub.apply(np.full((4, 4), 50, np.uint8)).max())
    255
    """

    _state_attrs = ("_reference",)

    threshold: float = Param(25.0, real_in(0.0, 255.0))

    def _initialize(self, frame: np.ndarray) -> None:
        self._reference = frame.astype(np.float32)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        mask = difference_mask(frame, self._reference, float(self.threshold))
        rate = 1.0 if learning_rate < 0 else learning_rate
        self._reference = _blend(self._reference, frame, rate)
        return mask

    def _background(self) -> np.ndarray:
        return self._reference


class RunningMean(BackgroundSubtractor):
    """Exponential running-average background, foreground by absolute difference.

    Parameters
    ----------
    alpha : float, default 0.05
        Learning rate used when ``apply`` is called with the automatic rate.
    threshold : float, default 30
        A pixel is foreground when its largest per-channel absolute difference to the
        background exceeds this (0–255 scale).
    postprocess : PostProcess or dict, optional
        Mask post-processing.

    Notes
    -----
    .. math:: M_t(x) = [\\max_c |I_t(x, c) - B_t(x, c)| > \\tau], \\quad
              B_{t+1} = (1 - \\alpha) B_t + \\alpha I_t, \\quad B_0 = I_0.

    References
    ----------
    .. [1] M. Piccardi, "Background subtraction techniques: a review",
       IEEE SMC 2004.

    Examples
    --------
    >>> import numpy as np
    >>> sub = RunningMean(alpha=0.5)
    >>> _ = sub.apply(np.zeros((2, 2), np.uint8))
    >>> _ = sub.apply(np.full((2, 2), 100, np.uint8))
    >>> int(sub.get_background_image()[0, 0])
    50
    """

    _state_attrs = ("_mean",)

    alpha: float = Param(0.05, real_in(0.0, 1.0, closed="right"))
    threshold: float = Param(30.0, real_in(0.0, 255.0))

    def _initialize(self, frame: np.ndarray) -> None:
        self._mean = frame.astype(np.float32)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        mask = difference_mask(frame, self._mean, float(self.threshold))
        rate = float(self.alpha) if learning_rate < 0 else learning_rate
        self._mean = _blend(self._mean, frame, rate)
        return mask

    def _background(self) -> np.ndarray:
        return self._mean
