"""Per-frame motion scores and the robustness tests."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.background import make_subtractor
from bgmix.events import MotionScorer


def flat(value=90, shape=(60, 80)):
    return np.full(shape, value, np.uint8)


def with_block(frame, y0, y1, x0, x1, value=220):
    f = frame.copy()
    f[y0:y1, x0:x1] = value
    return f


class Bright:
    """A stand-in model: foreground is every pixel brighter than 150."""

    def apply(self, frame, learning_rate=-1.0):
        return np.where(frame > 150, 255, 0).astype(np.uint8)


def scorer(**kw):
    base = {"warmup": 0, "persist": 0, "normalise": False, "flatten": 0}
    return MotionScorer(Bright(), **(base | kw))


def test_score_is_the_foreground_fraction_with_a_box():
    s = scorer()
    s(flat())
    r = s(with_block(flat(), 10, 20, 30, 50))
    assert r.score == pytest.approx(200 / 4800)
    assert r.largest == pytest.approx(200 / 4800)
    assert r.bbox == (30, 10, 50, 20)


def test_box_is_mapped_to_full_resolution():
    s = scorer(scale=(4.0, 4.5))
    s(flat())
    assert s(with_block(flat(), 10, 20, 30, 50)).bbox == (120, 45, 200, 90)


def test_small_blobs_are_dropped():
    s = scorer(min_blob=0.01)  # 48 pixels
    s(flat())
    f = with_block(flat(), 0, 5, 0, 5)  # 25 pixels
    f = with_block(f, 30, 40, 30, 40)  # 100 pixels
    r = s(f)
    assert r.score == pytest.approx(100 / 4800) and r.bbox == (30, 30, 40, 40)


def test_roi_limits_the_score_and_its_area():
    roi = np.zeros((60, 80), bool)
    roi[:, :40] = True
    s = scorer(roi=roi)
    s(flat())
    r = s(with_block(with_block(flat(), 0, 10, 0, 10), 0, 10, 60, 70))
    assert r.score == pytest.approx(100 / 2400) and r.bbox == (0, 0, 10, 10)


def test_global_change_scores_zero_and_relearns():
    s = MotionScorer(make_subtractor("mog2"), warmup=0, persist=0, normalise=False, flatten=0)
    rng = np.random.default_rng(0)
    base = rng.integers(60, 120, (60, 80)).astype(np.uint8)
    for _ in range(20):
        s(base)
    r = s(np.clip(base.astype(int) + 80, 0, 255).astype(np.uint8))
    assert r.global_change and r.score == 0.0
    after = s(np.clip(base.astype(int) + 80, 0, 255).astype(np.uint8))
    assert not after.global_change and after.score < 0.01


def test_persistence_drops_flicker_and_keeps_what_stays():
    s = scorer(persist=2)
    s(flat())
    assert s(with_block(flat(), 10, 20, 10, 20)).score == 0.0  # first appearance
    assert s(with_block(flat(), 10, 20, 12, 22)).score > 0.0  # moved 2 px: still there
    assert s(with_block(flat(), 40, 50, 60, 70)).score == 0.0  # elsewhere: flicker


def test_busy_cells_are_ignored_but_a_passer_by_counts():
    s = scorer(busy_window=20, busy_level=0.2, busy_cell=10)
    rng = np.random.default_rng(1)
    scores = []
    for t in range(60):  # a flickering patch (a tree) at the top-left, every frame
        f = flat()
        f[:10, :10] = np.where(rng.random((10, 10)) < 0.5, 200, 90)
        if t == 59:
            f = with_block(f, 40, 50, 40, 50)
        scores.append(s(f).score)
    assert scores[1] > 0.0  # not yet known as busy
    assert max(scores[30:59]) == 0.0  # the busy patch no longer counts
    assert scores[59] == pytest.approx(100 / 4800)


def test_flatten_cancels_a_smooth_light_change():
    rng = np.random.default_rng(2)
    base = rng.integers(60, 160, (60, 80)).astype(np.float32)
    ramp = np.linspace(0.7, 1.0, 80)[None, :]  # a lamp's falloff switched on
    plain = MotionScorer(make_subtractor("frame-difference"), warmup=0, persist=0, normalise=False,
                         flatten=0)  # fmt: skip
    flattened = MotionScorer(make_subtractor("frame-difference"), warmup=0, persist=0,
                             normalise=False, flatten=8)  # fmt: skip
    for s in (plain, flattened):
        s(base.astype(np.uint8))
    lit = np.clip(base * ramp, 0, 255).astype(np.uint8)
    assert plain(lit).score > 0.2
    assert flattened(lit).score < 0.01


def test_warmup_frames_score_zero():
    s = scorer(warmup=3)
    assert [s(with_block(flat(), 0, 30, 0, 30 + 5 * t)).score for t in range(3)] == [0, 0, 0]
