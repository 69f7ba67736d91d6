"""ConfusionCounts, the label rule and the CDnet metrics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgmix.exceptions import FrameFormatError, GroundTruthError, ParameterError
from bgmix.metrics import (
    METRIC_NAMES,
    ConfusionCounts,
    groundtruth_labels,
    mean_metrics,
)


def oracle_counts(mask, gt, roi=None):
    """Pixel-by-pixel CDnet comparator with the documented label rule."""
    tp = fp = fn = tn = shadow = shadow_fp = 0
    h, w = gt.shape
    for y in range(h):
        for x in range(w):
            if roi is not None and not roi[y, x]:
                continue
            g = int(gt[y, x])
            if g in (85, 170):
                continue
            positive = g == 255 or (g not in (0, 50) and g >= 128)
            predicted = bool(mask[y, x] == 255) if mask.dtype == np.uint8 else bool(mask[y, x])
            if positive and predicted:
                tp += 1
            elif positive:
                fn += 1
            elif predicted:
                fp += 1
            else:
                tn += 1
            if g == 50:
                shadow += 1
                shadow_fp += predicted
    return ConfusionCounts(tp, fp, fn, tn, shadow_fp, shadow)


def test_update_matches_hand_counts_with_every_label():
    gt = np.array(
        [
            [0, 0, 50, 50, 85],
            [170, 255, 255, 255, 0],
        ],
        np.uint8,
    )
    mask = np.array(
        [
            [0, 255, 255, 127, 255],
            [255, 255, 127, 0, 127],
        ],
        np.uint8,
    )
    c = ConfusionCounts().update(mask, gt)
    # (0,0) tn, (0,1) fp, (0,2) shadow fp, (0,3) shadow tn (127 is negative), (0,4) ignored,
    # (1,0) ignored, (1,1) tp, (1,2) fn (127 is negative), (1,3) fn, (1,4) tn.
    assert c == ConfusionCounts(tp=1, fp=2, fn=2, tn=3, shadow_fp=1, shadow=2)


def test_roi_excludes_pixels():
    gt = np.full((2, 3), 255, np.uint8)
    mask = np.zeros((2, 3), np.uint8)
    roi = np.array([[True, False, True], [False, False, True]])
    c = ConfusionCounts().update(mask, gt, roi)
    assert c == ConfusionCounts(fn=3)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (9, 4)])
def test_update_matches_pixel_oracle(seed, shape):
    rng = np.random.default_rng(seed)
    labels = np.array([0, 50, 85, 170, 255, 5, 127, 128, 200, 251], np.uint8)
    gt = rng.choice(labels, size=shape)
    mask = rng.choice(np.array([0, 127, 255, 254], np.uint8), size=shape)
    roi = rng.random(shape) < 0.7 if seed % 2 else None
    assert ConfusionCounts().update(mask, gt, roi) == oracle_counts(mask, gt, roi)
    as_bool = mask == 255
    assert ConfusionCounts().update(as_bool, gt, roi) == oracle_counts(mask, gt, roi)


def test_streaming_sum_equals_whole():
    rng = np.random.default_rng(3)
    gts = rng.choice(np.array([0, 50, 85, 170, 255], np.uint8), size=(5, 6, 7))
    masks = rng.choice(np.array([0, 127, 255], np.uint8), size=(5, 6, 7))
    stream = ConfusionCounts()
    for m, g in zip(masks, gts, strict=True):
        stream.update(m, g)
    whole = ConfusionCounts().update(masks.reshape(30, 7), gts.reshape(30, 7))
    assert stream == whole
    per_frame = [ConfusionCounts().update(m, g) for m, g in zip(masks, gts, strict=True)]
    assert sum(per_frame) == whole
    acc = ConfusionCounts()
    for c in per_frame:
        acc += c
    assert acc == whole


def test_label_rule_table():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    positive, evaluated = groundtruth_labels(values)
    pos, ev = positive.ravel(), evaluated.ravel()
    assert not ev[85] and not ev[170]
    assert ev.sum() == 254
    assert not pos[0] and not pos[50] and pos[255]
    # Wallflower's hand-segmented grey values: threshold at 128.
    for v in (5, 18, 51, 65, 70, 127):
        assert not pos[v] and ev[v]
    for v in (128, 190, 246, 250):
        assert pos[v] and ev[v]


def test_metrics_hand_computed():
    c = ConfusionCounts(tp=3, fp=1, fn=2, tn=4, shadow_fp=1, shadow=4)
    m = c.metrics()
    assert list(m) == list(METRIC_NAMES)
    assert m["recall"] == pytest.approx(3 / 5)
    assert m["specificity"] == pytest.approx(4 / 5)
    assert m["fpr"] == pytest.approx(1 / 5)
    assert m["fnr"] == pytest.approx(2 / 5)
    assert m["pwc"] == pytest.approx(100 * 3 / 10)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["f_measure"] == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert m["fpr_shadow"] == pytest.approx(1 / 4)
    assert c.total == 10
    # F equals 2TP / (2TP + FP + FN) whenever it is defined.
    assert m["f_measure"] == pytest.approx(6 / (6 + 1 + 2))


def test_zero_denominators_give_nan_without_warnings():
    # pytest turns warnings into errors, so a stray RuntimeWarning would fail here.
    empty = ConfusionCounts().metrics()
    assert all(math.isnan(v) for v in empty.values())
    no_foreground = ConfusionCounts(fp=2, tn=8)
    assert math.isnan(no_foreground.recall)
    assert math.isnan(no_foreground.fnr)
    assert no_foreground.precision == 0.0
    assert math.isnan(no_foreground.f_measure)
    assert no_foreground.pwc == pytest.approx(20.0)
    nothing_predicted = ConfusionCounts(fn=3, tn=5)
    assert math.isnan(nothing_predicted.precision)
    assert math.isnan(nothing_predicted.f_measure)
    assert nothing_predicted.recall == 0.0
    all_wrong = ConfusionCounts(fp=2, fn=3)
    assert all_wrong.precision == 0.0 and all_wrong.recall == 0.0
    assert all_wrong.f_measure == 0.0
    perfect = ConfusionCounts(tp=4, tn=6)
    assert perfect.f_measure == 1.0 and perfect.pwc == 0.0


def test_addition_and_serialisation():
    a = ConfusionCounts(1, 2, 3, 4, 1, 2)
    b = ConfusionCounts(10, 20, 30, 40, 0, 5)
    assert a + b == ConfusionCounts(11, 22, 33, 44, 1, 7)
    assert sum([a, b]) == a + b
    assert ConfusionCounts.from_dict(a.to_dict()) == a
    assert ConfusionCounts.from_dict({"tp": 1, "fp": 0, "fn": 0, "tn": 2}) == ConfusionCounts(
        1, 0, 0, 2
    )
    big = ConfusionCounts(tp=2**40) + ConfusionCounts(tp=2**40)
    assert big.tp == 2**41
    c = ConfusionCounts(np.int64(3), np.uint32(4))
    assert type(c.tp) is int and type(c.fp) is int
    with pytest.raises(TypeError):
        _ = a + 1


@pytest.mark.parametrize(
    "kwargs",
    [{"tp": -1}, {"fp": 1.5}, {"tn": True}, {"fn": "3"}, {"shadow_fp": 2, "shadow": 1}],
)
def test_invalid_counts(kwargs):
    with pytest.raises(ParameterError):
        ConfusionCounts(**kwargs)


def test_from_dict_rejects_unknown_field():
    with pytest.raises(ParameterError, match="tpp"):
        ConfusionCounts.from_dict({"tpp": 1})


def test_update_rejects_bad_input():
    gt = np.zeros((3, 4), np.uint8)
    with pytest.raises(GroundTruthError, match="4x3"):
        ConfusionCounts().update(np.zeros((4, 3), np.uint8), gt)
    with pytest.raises(GroundTruthError, match="ROI"):
        ConfusionCounts().update(np.zeros((3, 4), np.uint8), gt, np.ones((2, 2), bool))
    with pytest.raises(FrameFormatError, match="mask"):
        ConfusionCounts().update(np.zeros((3, 4), np.float32), gt)
    with pytest.raises(FrameFormatError, match="mask"):
        ConfusionCounts().update(np.zeros((3, 4, 3), np.uint8), gt)
    with pytest.raises(FrameFormatError, match="mask"):
        ConfusionCounts().update([[0]], gt)
    with pytest.raises(FrameFormatError, match="ground truth"):
        ConfusionCounts().update(np.zeros((3, 4), np.uint8), gt.astype(np.uint16))
    with pytest.raises(FrameFormatError, match="ground truth"):
        groundtruth_labels(np.zeros((3, 4, 3), np.uint8))


def test_mean_metrics_skips_undefined_values():
    rows = [
        {"recall": 0.5, "f_measure": math.nan},
        {"recall": 1.0, "f_measure": 0.4},
        {"recall": math.nan, "f_measure": 0.8},
    ]
    m = mean_metrics(rows)
    assert m["recall"] == pytest.approx(0.75)
    assert m["f_measure"] == pytest.approx(0.6)
    assert math.isnan(m["precision"])  # absent everywhere
    assert all(math.isnan(v) for v in mean_metrics([]).values())
