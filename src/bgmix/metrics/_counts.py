"""Pixel confusion counts and the CDnet 2014 metrics computed from them.

Ground-truth values follow CDnet's label convention; a method's mask counts as
positive where it is 255 and negative everywhere else (0 background, 127 shadow),
as CDnet's comparator does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from bgmix._cdnet import GT_BACKGROUND, GT_FOREGROUND, GT_OUTSIDE_ROI, GT_SHADOW, GT_UNKNOWN
from bgmix.exceptions import FrameFormatError, GroundTruthError, ParameterError

__all__ = [
    "METRIC_NAMES",
    "ConfusionCounts",
    "groundtruth_labels",
    "mean_metrics",
]

#: Keys of :meth:`ConfusionCounts.metrics`, in CDnet's order (plus CDnet's FPR-S).
METRIC_NAMES: tuple[str, ...] = (
    "recall",
    "specificity",
    "fpr",
    "fnr",
    "pwc",
    "precision",
    "f_measure",
    "fpr_shadow",
)

# Label codes: 0 negative, 1 hard shadow (negative), 2 positive, 3 not evaluated.
_NEGATIVE, _SHADOW, _POSITIVE, _IGNORED = 0, 1, 2, 3


def _label_table() -> np.ndarray:
    table = np.where(np.arange(256) >= 128, _POSITIVE, _NEGATIVE).astype(np.uint8)
    table[GT_BACKGROUND] = _NEGATIVE
    table[GT_SHADOW] = _SHADOW
    table[GT_OUTSIDE_ROI] = _IGNORED
    table[GT_UNKNOWN] = _IGNORED
    table[GT_FOREGROUND] = _POSITIVE
    return table


_LABELS = _label_table()
# code = 2 * label + predicted; 8 marks pixels outside the spatial ROI.
_CODES = (2 * _LABELS).astype(np.uint8)
_OUTSIDE = 8


def groundtruth_labels(groundtruth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a ground-truth mask into positive and evaluated pixels.

    Parameters
    ----------
    groundtruth : (H, W) uint8 ndarray
        CDnet labels, a binary 0/255 mask, or a grey hand-segmented mask.

    Returns
    -------
    positive : (H, W) bool ndarray
        Pixels that are foreground.
    evaluated : (H, W) bool ndarray
        Pixels that count in the confusion matrix (False for 85 and 170).

    Notes
    -----
    One rule per grey value, so that CDnet, binary and hand-segmented masks are all
    read correctly:

    ========================  ==========================================
    value                     meaning
    ========================  ==========================================
    0                         background (negative)
    50                        hard shadow: negative (counted for FPR-S)
    85                        outside the region of interest: not evaluated
    170                       unknown motion: not evaluated
    255                       foreground (positive)
    any other value < 128     negative (anti-aliased or hand-drawn mask)
    any other value >= 128    positive
    ========================  ==========================================

    Wallflower's hand-segmented masks (mostly 0/255 with a few grey values such as
    5, 51, 190, 246) are thereby thresholded at 128.
    """
    gt = _check_groundtruth(groundtruth)
    labels = _LABELS[gt]
    return labels == _POSITIVE, labels != _IGNORED


def _ratio(num: int, den: int) -> float:
    """``num / den``, NaN when ``den`` is zero (an undefined rate, not an error)."""
    return num / den if den else math.nan


@dataclass(slots=True)
class ConfusionCounts:
    """Pixel counts of a binary classification against CDnet ground truth.

    Counts are exact Python integers (they never overflow, unlike int32
    accumulators) and add up: ``sum(per_frame, ConfusionCounts())`` is the count of
    a whole sequence, and the metrics of a sequence are computed from its summed
    counts, as CDnet does.

    Parameters
    ----------
    tp, fp, fn, tn : int
        True positives, false positives, false negatives and true negatives.
    shadow_fp : int
        Pixels labelled hard shadow (50) that the method marked foreground (already
        included in ``fp``); CDnet's "NbErrorShadow".
    shadow : int
        Evaluated pixels labelled hard shadow (already included in ``fp + tn``).

    Notes
    -----
    The metrics of Goyette et al. (2012) and Wang et al. (2014):

    .. math::

        \\mathrm{Re} = \\frac{TP}{TP + FN},\\quad
        \\mathrm{Sp} = \\frac{TN}{TN + FP},\\quad
        \\mathrm{FPR} = \\frac{FP}{FP + TN},\\quad
        \\mathrm{FNR} = \\frac{FN}{TP + FN},

        \\mathrm{PWC} = 100\\,\\frac{FN + FP}{TP + FN + FP + TN},\\quad
        \\mathrm{Pr} = \\frac{TP}{TP + FP},\\quad
        F = \\frac{2\\,\\mathrm{Pr}\\,\\mathrm{Re}}{\\mathrm{Pr} + \\mathrm{Re}},

        \\mathrm{FPR}_S = \\frac{\\text{shadow pixels marked foreground}}
        {\\text{shadow pixels}}.

    A ratio whose denominator is zero is undefined and returned as NaN (without a
    warning): recall and FNR when the ground truth has no foreground pixel,
    precision when the method marks none, and so on. The F-measure is NaN when
    precision or recall is NaN, and 0 when both are 0.

    References
    ----------
    .. [1] N. Goyette, P.-M. Jodoin, F. Porikli, J. Konrad and P. Ishwar,
       "changedetection.net: A new change detection benchmark dataset", CVPR
       Workshops, 2012.
    .. [2] Y. Wang, P.-M. Jodoin, F. Porikli, J. Konrad, Y. Benezeth and P. Ishwar,
       "CDnet 2014: An expanded change detection benchmark dataset", CVPR
       Workshops, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.array([[0, 255], [255, 170]], np.uint8)
    >>> mask = np.array([[255, 255], [0, 255]], np.uint8)
    >>> c = ConfusionCounts().update(mask, gt)
    >>> c
    ConfusionCounts(tp=1, fp=1, fn=1, tn=0, shadow_fp=0, shadow=0)
    >>> round(c.f_measure, 3)
    0.5
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    shadow_fp: int = 0
    shadow: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ParameterError(
                    f"ConfusionCounts.{f.name} must be a non-negative integer; got {value!r}"
                )
            setattr(self, f.name, int(value))
        if self.shadow_fp > self.shadow:
            raise ParameterError(
                f"ConfusionCounts: shadow_fp ({self.shadow_fp}) exceeds shadow ({self.shadow})"
            )

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: ConfusionCounts) -> ConfusionCounts:
        if not isinstance(other, ConfusionCounts):
            return NotImplemented
        return ConfusionCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )

    def __radd__(self, other: Any) -> ConfusionCounts:
        # Lets the built-in sum() start from 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return ConfusionCounts(*(getattr(self, f.name) for f in fields(self)))
        return NotImplemented

    def __iadd__(self, other: ConfusionCounts) -> ConfusionCounts:
        if not isinstance(other, ConfusionCounts):
            return NotImplemented
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def total(self) -> int:
        """Number of evaluated pixels, ``tp + fp + fn + tn``."""
        return self.tp + self.fp + self.fn + self.tn

    # ------------------------------------------------------------------ streaming
    def update(
        self, mask: np.ndarray, groundtruth: np.ndarray, roi: np.ndarray | None = None
    ) -> ConfusionCounts:
        """Add one frame's pixels to the counts (in place) and return ``self``.

        Parameters
        ----------
        mask : (H, W) uint8 or bool ndarray
            The method's output: 255 (or True) is positive; every other value,
            including 127 (shadow), is negative.
        groundtruth : (H, W) uint8 ndarray
            Labels as described in :func:`groundtruth_labels`.
        roi : (H, W) bool ndarray, optional
            The spatial region of interest: only True pixels are evaluated.
            None evaluates every pixel.

        Raises
        ------
        FrameFormatError
            ``mask`` or ``groundtruth`` is not a 2-D array of a supported dtype.
        GroundTruthError
            The shapes of ``mask``, ``groundtruth`` and ``roi`` differ.
        """
        gt = _check_groundtruth(groundtruth)
        pred = _check_mask(mask)
        if pred.shape != gt.shape:
            raise GroundTruthError(
                f"mask of size {_wh(pred.shape)} differs from its ground truth's {_wh(gt.shape)}"
            )
        code = _CODES[gt]
        code += pred
        if roi is not None:
            roi = np.asarray(roi)
            if roi.shape != gt.shape:
                raise GroundTruthError(
                    f"ROI of size {_wh(roi.shape)} differs from the ground truth's {_wh(gt.shape)}"
                )
            code[~roi.astype(bool, copy=False)] = _OUTSIDE
        n = np.bincount(code.ravel(), minlength=_OUTSIDE + 1)
        self.tn += int(n[0] + n[2])
        self.fp += int(n[1] + n[3])
        self.fn += int(n[4])
        self.tp += int(n[5])
        self.shadow += int(n[2] + n[3])
        self.shadow_fp += int(n[3])
        return self

    # ------------------------------------------------------------------ metrics
    @property
    def recall(self) -> float:
        """TP / (TP + FN); NaN without ground-truth foreground."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> float:
        """TN / (TN + FP); NaN without ground-truth background."""
        return _ratio(self.tn, self.tn + self.fp)

    @property
    def fpr(self) -> float:
        """False positive rate FP / (FP + TN)."""
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def fnr(self) -> float:
        """False negative rate FN / (TP + FN)."""
        return _ratio(self.fn, self.tp + self.fn)

    @property
    def pwc(self) -> float:
        """Percentage of wrong classifications, 100 (FN + FP) / (TP + FN + FP + TN)."""
        return 100.0 * _ratio(self.fn + self.fp, self.total)

    @property
    def precision(self) -> float:
        """TP / (TP + FP); NaN when the method marks no pixel foreground."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f_measure(self) -> float:
        """2 Pr Re / (Pr + Re); NaN if either is NaN, 0 when both are 0."""
        pr, re = self.precision, self.recall
        if math.isnan(pr) or math.isnan(re):
            return math.nan
        return 2.0 * pr * re / (pr + re) if pr + re > 0 else 0.0

    @property
    def fpr_shadow(self) -> float:
        """CDnet's FPR-S: fraction of hard-shadow pixels (label 50) marked foreground."""
        return _ratio(self.shadow_fp, self.shadow)

    def metrics(self) -> dict[str, float]:
        """Every metric of :data:`METRIC_NAMES` as a dict of floats (NaN when undefined)."""
        return {name: float(getattr(self, name)) for name in METRIC_NAMES}

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, int]:
        """The counts as a JSON-ready dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfusionCounts:
        """Inverse of :meth:`to_dict` (missing shadow counts default to 0)."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ParameterError(
                f"ConfusionCounts: unknown field(s) {', '.join(unknown)}; "
                f"expected {', '.join(names)}"
            )
        return cls(**{k: data[k] for k in names if k in data})


def mean_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over ``rows``, skipping undefined (NaN) values.

    This is how CDnet averages: a category's metric is the mean of its sequences'
    metrics, and the overall metric the mean of the categories'. A metric that is
    NaN everywhere (or ``rows`` empty) stays NaN.

    Parameters
    ----------
    rows : iterable of dict
        Each with the keys of :data:`METRIC_NAMES` (missing keys count as NaN).
    """
    rows = list(rows)
    out: dict[str, float] = {}
    for name in METRIC_NAMES:
        values = [float(r.get(name, math.nan)) for r in rows]
        values = [v for v in values if not math.isnan(v)]
        out[name] = math.fsum(values) / len(values) if values else math.nan
    return out


def _check_groundtruth(groundtruth: Any) -> np.ndarray:
    if not isinstance(groundtruth, np.ndarray):
        raise FrameFormatError(
            f"ground truth: expected a (H, W) uint8 array, got {type(groundtruth).__name__}"
        )
    if groundtruth.ndim != 2 or groundtruth.dtype != np.uint8:
        raise FrameFormatError(
            f"ground truth: expected a (H, W) uint8 array, got shape {groundtruth.shape} "
            f"and dtype {groundtruth.dtype}"
        )
    return groundtruth


def _check_mask(mask: Any) -> np.ndarray:
    if not isinstance(mask, np.ndarray):
        raise FrameFormatError(f"mask: expected a (H, W) uint8 array, got {type(mask).__name__}")
    if mask.ndim != 2:
        raise FrameFormatError(f"mask: expected a (H, W) array, got shape {mask.shape}")
    if mask.dtype == np.bool_:
        return mask.view(np.uint8)
    if mask.dtype != np.uint8:
        raise FrameFormatError(
            f"mask: expected dtype uint8 (255 = foreground) or bool, got {mask.dtype}"
        )
    return (mask == 255).view(np.uint8)


def _wh(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}" if len(shape) >= 2 else str(shape)
