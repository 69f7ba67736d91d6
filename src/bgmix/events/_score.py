"""Per-frame motion scores from a background model's masks, with the robustness tests
that keep a camera's day (light switches, clouds, rain, shake, swaying trees, night
noise) from looking like motion.

For an analysed frame (grey, downscaled) the scorer

1. optionally normalises its brightness (gain ``ref / median``, where ``ref`` follows
   the frames' median slowly), so global light changes reach the model attenuated;
   with ``flatten`` > 0 divides the frame by its local mean (a Gaussian of that many
   pixels), so smooth illumination (cloud shadows, a lamp's falloff, a light switch)
   cancels while edges and texture stay;
2. gets the model's mask (``255`` foreground; shadows ``127`` do not count) inside the
   region of interest;
3. treats a frame whose raw foreground covers more than ``global_fraction`` of the
   region as a **global change** (a light switch, an auto-exposure jump, a camera
   knocked): its score is 0 and the model re-learns from it (``learning_rate=1``),
   then learns fast for ``relearn`` frames;
4. keeps the 8-connected blobs of at least ``min_blob`` of the region's area (rain,
   snow and sensor noise make many tiny blobs);
5. drops, with ``busy_window`` > 0, the foreground of *busy cells*: cells of
   ``busy_cell`` pixels that held foreground in more than ``busy_level`` of the recent
   frames (swaying trees, water glints); a passer-by crosses a cell in a few frames;
6. keeps, with ``persist`` > 0, only blobs that overlap the previous frame's kept
   foreground (dilated by ``persist`` pixels): flicker and shake come and go, a
   moving object stays;
7. scores the frame with the kept foreground's fraction of the region,

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
    busy_window : int
        Frames of the busy-cell average (0 disables the test).
    busy_level : float
        Share of recent frames with foreground above which a cell is busy.
    busy_grow : int
        Grow the busy cells by this many cells.
    busy_cell : int
        Cell side in analysed pixels.
    flatten : float
        Sigma in pixels of the local-mean division (0 disables it).

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.background import make_subtractor
    >>> scorer = MotionScorer(make_subtractor("frame-difference"), warmup=0, persist=0)
    >>> still = np.full((40, 40), 90, np.uint8)
    >>> moved = still.copy(); moved[10:20, 10:20] = 200
    >>> _ = scorer(still); r = scorer(moved)
    >>> round(r.score, 4), r.bbox
    (0.0625, (10, 10, 20, 20))
    """

    def __init__(self, subtractor: Any, *, roi: np.ndarray | None = None,
                 scale: tuple[float, float] = (1.0, 1.0), min_blob: float = 0.0005,
                 global_fraction: float = 0.4, relearn: int = 10, relearn_rate: float = 0.1,
                 persist: int = 0, normalise: bool = True, warmup: int = 5,
                 busy_window: int = 0, busy_level: float = 0.15, busy_grow: int = 0,
                 busy_cell: int = 8, flatten: float = 0.0) -> None:  # fmt: skip
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
        self.busy_window = check_int("busy_window", busy_window, low=0)
        self.busy_level = check_real("busy_level", busy_level, low=0.0, high=1.0)
        self.busy_grow = check_int("busy_grow", busy_grow, low=0, high=16)
        self.busy_cell = check_int("busy_cell", busy_cell, low=1, high=256)
        self.flatten = check_real("flatten", flatten, low=0.0)
        self._busy: np.ndarray | None = None
        self._median: np.ndarray | None = None
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
        changed = None
        if self.flatten:
            changed = self._raw_change(frame)
            frame = self._flattened(frame)
        rate = self.relearn_rate if self._fast > 0 else -1.0
        self._fast = max(0, self._fast - 1)
        mask = self.subtractor.apply(frame, learning_rate=rate)
        fg = mask == 255
        if self.roi is not None:
            fg &= self.roi
        fg8 = fg.view(np.uint8)
        raw = cv2.countNonZero(fg8) / self._area
        if self.busy_window:
            fg8 = self._not_busy(fg8)
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
        if changed is not None:  # trim the halo that the local-mean division adds
            core = (np.isin(labels, keep) & changed).view(np.uint8)
            if core.any():
                x, y, w, h = cv2.boundingRect(core)
                x0, y0, x1, y1 = x, y, x + w, y + h
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

    def _raw_change(self, frame: np.ndarray) -> np.ndarray:
        """Pixels that differ from an approximate running median of the frames
        (McFarlane & Schofield 1995: the median moves one grey level per frame toward
        each new value) by more than 12 grey levels; used to trim boxes only."""
        import cv2

        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        g = grey.astype(np.int16)
        if self._median is None:
            self._median = g.copy()
        changed = np.abs(g - self._median) > 12
        self._median += np.sign(g - self._median).astype(np.int16)
        return changed

    def _flattened(self, frame: np.ndarray) -> np.ndarray:
        """Divide by the local mean (a Gaussian of sigma ``flatten`` pixels): smooth
        illumination (cloud shadows, a lamp's falloff) cancels, edges and texture stay."""
        import cv2

        f = frame.astype(np.float32) + 8.0
        local = cv2.GaussianBlur(f, (0, 0), self.flatten)
        return cv2.convertScaleAbs(f / local, alpha=128.0)

    def _not_busy(self, fg8: np.ndarray) -> np.ndarray:
        """Drop the foreground of busy cells: ``busy_cell``-pixel cells that held
        foreground in more than ``busy_level`` of the recent frames (an exponential
        moving average over ``busy_window`` frames). Swaying trees, water glints and
        edges under shake keep a cell busy; a passer-by crosses it in a few frames."""
        import cv2

        h, w = fg8.shape
        c = self.busy_cell
        gw, gh = max(1, -(-w // c)), max(1, -(-h // c))
        cells = cv2.resize(fg8.astype(np.float32), (gw, gh), interpolation=cv2.INTER_AREA)
        active = (cells > 0).astype(np.float32)
        if self._busy is None:
            self._busy = np.zeros((gh, gw), np.float32)
        cv2.accumulateWeighted(active, self._busy, 1.0 / self.busy_window)
        busy = (self._busy > self.busy_level).view(np.uint8)
        if self.busy_grow:
            busy = cv2.dilate(busy, np.ones((3, 3), np.uint8), iterations=self.busy_grow)
        full = cv2.resize(busy, (w, h), interpolation=cv2.INTER_NEAREST)
        return fg8 & (full ^ 1)

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
