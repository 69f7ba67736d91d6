"""The matching rule of the motion-event benchmark (benchmarks/events_score.py)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from benchmarks.events_score import main, match_events, prf, score_video, totals


def _overlaps(a, b) -> bool:
    return min(a[1], b[1]) >= max(a[0], b[0])


def _brute_max_matching(truth, pred) -> int:
    """Largest number of one-to-one overlapping pairs, by trying every assignment."""
    best = 0
    n = min(len(truth), len(pred))
    for k in range(n, 0, -1):
        for ts in itertools.combinations(range(len(truth)), k):
            for ps in itertools.permutations(range(len(pred)), k):
                if all(_overlaps(truth[i], pred[j]) for i, j in zip(ts, ps, strict=True)):
                    return k
    return best


def _ranges(rng, n, length=100):
    out = []
    for _ in range(n):
        a = int(rng.integers(0, length))
        out.append([a, a + int(rng.integers(0, 25))])
    return out


def test_matching_is_one_to_one_and_maximum_against_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(200):
        truth = _ranges(rng, int(rng.integers(0, 5)))
        pred = _ranges(rng, int(rng.integers(0, 5)))
        pairs = match_events(truth, pred)
        assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
        assert all(_overlaps(truth[i], pred[j]) for i, j in pairs)
        assert len(pairs) == _brute_max_matching(truth, pred)


def test_one_prediction_over_two_events_counts_one_hit_and_one_miss():
    s = score_video([[10, 20], [40, 50]], [[5, 60]])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 1)


def test_a_split_event_counts_one_hit_and_one_false_alarm():
    s = score_video([[10, 50]], [[8, 20], [30, 55]])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)
    assert s["pairs"] == [[0, 1]]  # the larger IoU wins


def test_ranges_are_inclusive_one_shared_frame_is_enough():
    assert match_events([[10, 20]], [[20, 30]]) == [(0, 0)]
    assert match_events([[10, 20]], [[21, 30]]) == []


def test_errors_raw_and_without_the_padding():
    s = score_video([[100, 150]], [[75, 175]], pre=20, post=30)
    assert s["start_err_raw"] == [-25] and s["end_err_raw"] == [25]
    assert s["start_err_core"] == [-5] and s["end_err_core"] == [-5]
    assert s["iou"] == [pytest.approx(51 / 101, abs=1e-4)]


def test_pooling_adds_counts_before_the_ratios():
    a = score_video([[0, 10], [20, 30], [40, 50]], [[0, 10], [20, 30], [40, 50]])
    b = score_video([[0, 10]], [[60, 70], [80, 90]])
    t = totals([a, b])
    assert (t["tp"], t["fp"], t["fn"]) == (3, 2, 1)
    assert t["precision"] == pytest.approx(3 / 5) and t["recall"] == pytest.approx(3 / 4)
    assert t["f"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)


def test_prf_conventions():
    assert prf(0, 0, 4) == (1.0, 0.0, 0.0)
    assert prf(0, 3, 0) == (0.0, 1.0, 0.0)


def test_command_scores_an_entry_file(tmp_path, capsys):
    entry = {"name": "v", "frames": 300, "fps": 10, "events": [[50, 80], [200, 220]]}
    (tmp_path / "entry.json").write_text(json.dumps(entry))
    events = {
        "events": [{"start_frame": 40, "end_frame": 95}, {"start_frame": 120, "end_frame": 130}]
    }
    (tmp_path / "events.json").write_text(json.dumps(events))
    assert main([str(tmp_path / "entry.json"), str(tmp_path / "events.json"), "--pre", "10"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["tp"], out["fp"], out["fn"]) == (1, 1, 1)
    assert out["mae_start_core"] == 0.0 and out["mae_start_raw"] == 10.0


def test_docstring_examples():
    import doctest

    import benchmarks.events_score as mod

    failed, attempted = doctest.testmod(mod)
    assert attempted > 0 and failed == 0
