"""Evaluation: CDnet 2014 change-detection metrics and SBMnet background metrics.

Score methods on sequences with ground truth in CDnet layout
(``input/``, ``groundtruth/``, optional ``ROI.bmp`` and ``temporalROI.txt``)::

    from bgmix.metrics import evaluate
    report = evaluate("dataset/baseline", ["opencv-mog2", "opencv-knn"])
    print(report.table())
    report.to_json("scores.json")

or one at a time with :func:`evaluate_sequence`; accumulate pixel counts yourself
with :class:`ConfusionCounts`; compare a background estimate with the true
background with :func:`background_metrics`.
"""

from bgmix._cdnet import GT_BACKGROUND, GT_FOREGROUND, GT_OUTSIDE_ROI, GT_SHADOW, GT_UNKNOWN
from bgmix.metrics._background import (
    BACKGROUND_METRIC_NAMES,
    MS_SSIM_WEIGHTS,
    background_metrics,
    luma,
    ms_ssim,
)
from bgmix.metrics._counts import (
    METRIC_NAMES,
    ConfusionCounts,
    groundtruth_labels,
    mean_metrics,
)
from bgmix.metrics._evaluate import evaluate, evaluate_sequence
from bgmix.metrics._report import EvaluationReport, SequenceResult
from bgmix.metrics._sequence import Sequence, find_sequences, read_groundtruth, read_sequence

__all__ = [
    "BACKGROUND_METRIC_NAMES",
    "GT_BACKGROUND",
    "GT_FOREGROUND",
    "GT_OUTSIDE_ROI",
    "GT_SHADOW",
    "GT_UNKNOWN",
    "METRIC_NAMES",
    "MS_SSIM_WEIGHTS",
    "ConfusionCounts",
    "EvaluationReport",
    "Sequence",
    "SequenceResult",
    "background_metrics",
    "evaluate",
    "evaluate_sequence",
    "find_sequences",
    "groundtruth_labels",
    "luma",
    "mean_metrics",
    "ms_ssim",
    "read_groundtruth",
    "read_sequence",
]
