"""Per-frame motion scores from a background model's masks, with the robustness tests
that keep a camera's day (light switches, clouds, rain, shake, swaying trees, night
noise) from looking like motion.

For an analysed frame (grey, downscaled) the scorer

1. optionally normalises its brightness (gain ``ref / median``, where ``ref`` follows
   the frames' median slowly), so global light changes reach the model attenuated;
2. gets the model's mask (``255`` foreground; shadows ``127`` do not count) inside the
   region of interest;
3. treats a frame whose raw foreground covers more than ``global_fraction`` of the
   region as a **global change** (a light switch, an auto-exposure jump, a camera
   knocked): its score is 0 and the model re-learns from it (``learning_rate=1``),
   then learns fast for ``relearn`` frames;
4. keeps the 8-connected blobs of at least ``min_blob`` of the region's area (rain,
   snow and sensor noise make many tiny blobs);
5. keeps, with ``persist`` > 0, only blobs that overlap the previous frame's kept
   foreground (dilated by ``persist`` pixels): flicker and shake come and go, a
   moving object stays;
6. scores the frame with the kept foreground's fraction of the region,

.. math:: s_t = \\frac{1}{|R|} \\sum_{b \\in B_t} |b|,

which does not depend on the resolution, and reports the largest blob's fraction and
the box around the kept blobs (in full-resolution pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bgmix._validation import check_int, check_real

__all__ = ["FrameScore", "MotionScorer"]


@dataclass(frozen=True)
class FrameScore:
    """The motion measured on one frame."""

    score: float
    largest: float
    bbox: tuple[int, int, int, int] | None
    global_change: bool = False


class MotionScorer:
    """Turn frames into motion scores with a background subtractor.

    Parameters
    ----------
    subtractor : BackgroundSubtractor
        The model (its own post-processing applies first).
    roi : (h, w) bool ndarray, optional
        Region of interest at the analysed size (None: the whole frame).
    scale : (sx, sy)
        Full-resolution pixels per analysed pixel, to map boxes back.
    min_blob : float
        Smallest blob kept, as a fraction of the region's area.
    global_fraction : float
        Raw foreground fraction above which a frame is a global change (1 disables).
    relearn : int
        Frames of fast learning after a global change.
    relearn_rate : float
        Learning rate during those frames.
    persist : int
        0: off; otherwise a blob counts only if it overlaps the previous frame's kept
        foreground dilated by this many pixels.
    normalise : bool
        Normalise frame brightness before the model.
    warmup : int
        First frames used to learn the model only (score 0).
    """

    def __init__(
        self,
        subtractor: Any,
        *,
        roi: np.ndarray | None = None,
        scale: tuple[float, float] = (1.0, 1.0),
        min_blob: float = 0.0005,
        global_fraction: float = 0.4,
        relearn: int = 10,
        relearn_rate: float = 0.1,
        persist: int = 0,
        normalise: bool = True,
        warmup: int = 5,
    ) -> None:
        self.subtractor = subtractor
        self.roi = roi
        self.scale = scale
        self.min_blob = check_real("min_blob", min_blob, low=0.0, high=1.0)
        self.global_fraction = check_real(
            "global_fraction", global_fraction, low=0.0, high=1.0, low_inclusive=False
        )
        self.relearn = check_int("relearn", relearn, low=0)
        self.relearn_rate = check_real("relearn_rate", relearn_rate, low=0.0, high=1.0)
        self.persist = check_int("persist", persist, low=0, high=64)
        self.normalise = bool(normalise)
        self.warmup = check_int("warmup", warmup, low=0)
        self._n = 0
        self._fast = 0
        self._ref: float | None = None
        self._prev: np.ndarray | None = None
        self._area: float | None = None
        self._kernel: np.ndarray | None = None

    def __call__(self, frame: np.ndarray) -> FrameScore:
        """Score one analysed frame ``(h, w)`` or ``(h, w, 3)`` uint8."""
        import cv2

        self._n += 1
        if self._area is None:
            self._area = (
                float(self.roi.sum())
                if self.roi is not None
                else float(frame.shape[0] * frame.shape[1])
            )
        if self.normalise:
            frame = self._normalised(frame)
        rate = self.relearn_rate if self._fast > 0 else -1.0
        self._fast = max(0, self._fast - 1)
        mask = self.subtractor.apply(frame, learning_rate=rate)
        fg = mask == 255
        if self.roi is not None:
            fg &= self.roi
        fg8 = fg.view(np.uint8)
        raw = cv2.countNonZero(fg8) / self._area
        if self._n <= self.warmup:
            return FrameScore(0.0, 0.0, None)
        if raw > self.global_fraction:
            self.subtractor.apply(frame, learning_rate=1.0)
            self._fast = self.relearn
            self._prev = None
            return FrameScore(0.0, 0.0, None, global_change=True)
        if raw == 0.0:
            self._prev = None if self.persist else self._prev
            return FrameScore(0.0, 0.0, None)
        _n, labels, stats, _ = cv2.connectedComponentsWithStats(fg8, connectivity=8)
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = np.flatnonzero(areas >= self.min_blob * self._area) + 1
        if self.persist and keep.size:
            keep = self._persistent(labels, keep)
        if keep.size == 0:
            return FrameScore(0.0, 0.0, None)
        kept = stats[keep]
        total = float(kept[:, cv2.CC_STAT_AREA].sum())
        largest = float(kept[:, cv2.CC_STAT_AREA].max())
        x0 = int(kept[:, cv2.CC_STAT_LEFT].min())
        y0 = int(kept[:, cv2.CC_STAT_TOP].min())
        x1 = int((kept[:, cv2.CC_STAT_LEFT] + kept[:, cv2.CC_STAT_WIDTH]).max())
        y1 = int((kept[:, cv2.CC_STAT_TOP] + kept[:, cv2.CC_STAT_HEIGHT]).max())
        sx, sy = self.scale
        bbox = (
            int(np.floor(x0 * sx)),
            int(np.floor(y0 * sy)),
            int(np.ceil(x1 * sx)),
            int(np.ceil(y1 * sy)),
        )
        return FrameScore(total / self._area, largest / self._area, bbox)

    def _normalised(self, frame: np.ndarray) -> np.ndarray:
        import cv2

        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        hist = cv2.calcHist([grey], [0], None if self.roi is None else self.roi.view(np.uint8),
                            [256], [0, 256]).ravel()  # fmt: skip
        median = float(np.searchsorted(np.cumsum(hist), hist.sum() / 2.0)) + 0.5
        if self._ref is None:
            self._ref = median
        gain = self._ref / median
        self._ref += 0.02 * (median - self._ref)
        if abs(gain - 1.0) < 0.02:
            return frame
        return cv2.convertScaleAbs(frame, alpha=gain)

    def _persistent(self, labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
        import cv2

        current = np.isin(labels, keep)
        prev, self._prev = self._prev, current
        if prev is None:
            return keep[:0]
        if self._kernel is None:
            r = self.persist
            self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        near = cv2.dilate(prev.view(np.uint8), self._kernel) > 0
        hit = np.unique(labels[near & current])
        return np.intersect1d(keep, hit)
