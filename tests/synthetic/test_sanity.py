"""Simple methods behave on the synthetic scenes as they do on real footage."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix import make_subtractor
from bgmix.synthetic import generate


def f_measure(masks: np.ndarray, truth: np.ndarray) -> float:
    """CDnet F-measure: 255 positive, 0 and 50 negative, 85 and 170 not counted."""
    pred = masks == 255
    pos = truth == 255
    neg = (truth == 0) | (truth == 50)
    tp = np.count_nonzero(pred & pos)
    fp = np.count_nonzero(pred & neg)
    fn = np.count_nonzero(~pred & pos)
    return 2 * tp / max(2 * tp + fp + fn, 1)


def _score(kind: str, method: str = "running-mean", **opts) -> float:
    scene = generate(kind, width=96, height=72, n_frames=160, seed=1, **opts)
    sub = make_subtractor(method)
    first, last = scene.temporal_roi
    masks, truth = [], []
    for rec in scene:
        mask = sub.apply(rec.image)
        if first <= rec.index <= last:
            masks.append(mask)
            truth.append(rec.groundtruth)
    return f_measure(np.stack(masks), np.stack(truth))


def test_f_measure_helper():
    truth = np.array([255, 255, 0, 50, 170, 85], np.uint8)
    assert f_measure(truth, truth) == 1.0
    masks = np.array([255, 0, 255, 0, 255, 255], np.uint8)  # TP 1, FN 1, FP 1
    assert f_measure(masks, truth) == pytest.approx(0.5)


def test_running_mean_is_clearly_better_on_baseline_than_on_noise():
    base = _score("baseline")
    noisy = _score("noise")
    assert base > 0.45
    assert base > noisy + 0.25


def test_running_mean_suffers_from_a_sudden_light_switch_and_camera_jitter():
    base = _score("baseline")
    assert _score("illumination-sudden", switch_frame=100) < base - 0.15
    assert _score("jitter") < base - 0.15
