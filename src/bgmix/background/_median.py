"""``mean`` and ``median``: per-pixel average and median backgrounds.

Both fit exactly over a batch of training frames (block by block, so any number of
frames), and both also run without a fit, online: a cumulative (or exponential) mean,
and McFarlane & Schofield's approximate median.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix.background._base import Param, real_in
from bgmix.background._batch import BatchSubtractor
from bgmix.background._simple import difference_mask

__all__ = ["BatchMean", "BatchMedian"]


class BatchMedian(BatchSubtractor):
    """Per-pixel median background: exact over training frames, approximate online.

    Parameters
    ----------
    threshold : float, default 30.0
        A pixel is foreground when its largest per-channel absolute difference to the
        background exceeds this (0–255 scale).
    step : float, default 1.0
        Online update: the background moves towards each frame by at most ``step``
        grey levels per frame (automatic learning rate).
    max_memory, block_rows, n_jobs, postprocess
        See :class:`~bgmix.background._batch.BatchSubtractor`.

    Notes
    -----
    :meth:`fit` computes the exact per-pixel, per-channel median of the training frames
    (NumPy's convention: the mean of the two middle values for an even count), by
    counting for uint8 frames (exact, linear time, any number of frames in blocks of
    rows) and by sorting for float frames.

    :meth:`apply` classifies with :math:`M_t = [\\max_c |I_t - B_t| > \\tau]`, then,
    unless frozen, updates the approximate median of McFarlane & Schofield:

    .. math:: B_{t+1} = B_t + \\mathrm{clip}(I_t - B_t, -s, s),

    with :math:`s` = ``step`` for the automatic rate (for uint8 frames and ``step=1``
    the classic +1/−1 per frame), :math:`s = 255\\alpha` for an explicit rate
    :math:`\\alpha \\in (0, 1)`, and :math:`B = I_t` for :math:`\\alpha = 1`. It converges
    to the running median of each pixel. Without :meth:`fit`, the first frame starts
    the estimate (``requires_fit`` is False).

    References
    ----------
    .. [1] N. J. B. McFarlane and C. P. Schofield, "Segmentation and tracking of
       piglets in images", Machine Vision and Applications 8(3), 1995.
    .. [2] R. Cucchiara, C. Grana, M. Piccardi and A. Prati, "Detecting moving
       objects, ghosts, and shadows in video streams", IEEE TPAMI 25(10), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 50, 20)])
    >>> int(BatchMedian().fit(frames).get_background_image()[0, 0])
    20
    """

    requires_fit = False
    _state_attrs = ("_median",)

    threshold: float = Param(30.0, real_in(0.0, 255.0))
    step: float = Param(1.0, real_in(0.0, 255.0, closed="right"))

    def _fit_allocate(self, shape: tuple[int, int, int, int]) -> dict[str, Any]:
        _, H, W, C = shape
        return {"_median": np.empty((H, W, C), np.float32)}

    def _fit_block(self, block: np.ndarray, r0: int, r1: int, state: dict[str, Any]) -> None:
        from bgmix._kernels import batch_stats

        out = state["_median"][r0:r1]
        batch_stats.median(block, out, n_threads=self._n_threads)

    def _initialize(self, frame: np.ndarray) -> None:
        self._median = frame.astype(np.float32)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        mask = difference_mask(frame, self._median, float(self.threshold))
        if learning_rate == 1.0:
            self._median = frame.astype(np.float32)
        elif learning_rate != 0.0:
            step = float(self.step) if learning_rate < 0 else 255.0 * learning_rate
            delta = frame.astype(np.float32) - self._median
            self._median += np.clip(delta, -step, step)
        return mask

    def _background(self) -> np.ndarray:
        return self._median


class BatchMean(BatchSubtractor):
    """Per-pixel mean background: exact over training frames, cumulative online.

    Parameters
    ----------
    threshold : float, default 30.0
        A pixel is foreground when its largest per-channel absolute difference to the
        background exceeds this (0–255 scale).
    alpha : float, optional
        Online rate of the automatic learning rate. None (default): the cumulative
        mean of every frame seen (fitted and applied), rate :math:`1 / (n + 1)`;
        a number in (0, 1]: an exponential running mean with that rate.
    max_memory, block_rows, n_jobs, postprocess
        See :class:`~bgmix.background._batch.BatchSubtractor`.

    Notes
    -----
    :meth:`fit` computes :math:`B = \\frac1T \\sum_t I_t` (in float64, block by
    block) and sets the count :math:`n = T`. :meth:`apply` classifies with
    :math:`M_t = [\\max_c |I_t - B| > \\tau]`, then updates

    .. math:: B \\leftarrow B + \\rho (I_t - B), \\quad
              \\rho = \\frac{1}{n + 1} \\text{ (cumulative) or } \\alpha,

    and :math:`n \\leftarrow n + 1`; an explicit ``learning_rate`` is used as
    :math:`\\rho` (0 freezes, 1 re-initialises with :math:`n = 1`). With the
    cumulative rate, fitting on frames 1…T and applying frames T+1…N gives the mean
    of frames 1…N. Without :meth:`fit` the first frame starts the mean
    (``requires_fit`` is False).

    References
    ----------
    .. [1] M. Piccardi, "Background subtraction techniques: a review", IEEE SMC 2004.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 50, 30)])
    >>> int(BatchMean().fit(frames).get_background_image()[0, 0])
    30
    """

    requires_fit = False
    _state_attrs = ("_mean", "_count")

    threshold: float = Param(30.0, real_in(0.0, 255.0))
    alpha: float | None = Param(None, real_in(0.0, 1.0, closed="right"), optional=True)

    def _fit_allocate(self, shape: tuple[int, int, int, int]) -> dict[str, Any]:
        T, H, W, C = shape
        return {"_mean": np.empty((H, W, C), np.float64), "_count": np.int64(T)}

    def _fit_block(self, block: np.ndarray, r0: int, r1: int, state: dict[str, Any]) -> None:
        np.mean(block, axis=0, dtype=np.float64, out=state["_mean"][r0:r1])

    def _initialize(self, frame: np.ndarray) -> None:
        self._mean = frame.astype(np.float64)
        self._count = np.int64(0)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        mask = difference_mask(frame, self._mean, float(self.threshold))
        if learning_rate == 0.0:
            return mask
        if learning_rate == 1.0:
            self._mean = frame.astype(np.float64)
            self._count = np.int64(1)
            return mask
        if learning_rate < 0:
            rate = 1.0 / (int(self._count) + 1) if self.alpha is None else float(self.alpha)
        else:
            rate = learning_rate
        self._mean += rate * (frame - self._mean)
        self._count = np.int64(int(self._count) + 1)
        return mask

    def _background(self) -> np.ndarray:
        return self._mean
