"""The event state machine on hand-made score sequences."""

from __future__ import annotations

import pytest

from bgmix.events import EventDetector
from bgmix.events._detect import union_box
from bgmix.exceptions import ParameterError


def run(scores, boxes=None, **kw):
    det = EventDetector(kw.pop("threshold", 0.5), **kw)
    out = []
    for i, s in enumerate(scores):
        out += det.push(i, s, None if boxes is None else boxes[i])
    return out + det.finish()


def spans(events):
    return [(e.start_frame, e.end_frame) for e in events]


def seq(n, *runs):
    s = [0.0] * n
    for a, b in runs:
        for i in range(a, b + 1):
            s[i] = 1.0
    return s


def test_no_motion_no_event():
    assert run([0.0] * 50, min_event=1) == []


def test_min_event_filters_short_bursts():
    s = seq(40, (5, 6), (20, 24))
    assert spans(run(s, min_event=3)) == [(20, 24)]
    assert spans(run(s, min_event=2)) == [(5, 6), (20, 24)]
    assert spans(run(s, min_event=6)) == []


def test_threshold_is_inclusive():
    assert spans(run([0, 0.5, 0.5, 0], threshold=0.5, min_event=2)) == [(1, 2)]
    assert run([0, 0.49, 0.49, 0], threshold=0.5, min_event=2) == []


def test_padding_and_motion_bounds():
    (e,) = run(seq(60, (20, 29)), min_event=3, pre=5, post=7)
    assert (e.start_frame, e.end_frame) == (15, 36)
    assert (e.motion_start, e.motion_end) == (20, 29)
    assert e.n_frames == 22


def test_post_gap_keeps_one_event_and_longer_gap_splits():
    # a quiet gap of 4 frames inside the motion: post=5 bridges it, post=3 does not
    s = seq(60, (10, 19), (24, 30))
    assert spans(run(s, post=5)) == [(10, 35)]
    split = run(s, post=3)
    assert [(e.motion_start, e.motion_end) for e in split] == [(10, 19), (24, 30)]


def test_close_events_merge_through_padding():
    s = seq(100, (10, 15), (30, 35))
    # post 4 closes the first (end 19); pre 12 makes the second start at 18 -> merge
    (e,) = run(s, post=4, pre=12)
    assert (e.start_frame, e.end_frame, e.motion_start, e.motion_end) == (0, 39, 10, 35)
    # smaller pre: 30 - 5 = 25 > 19 + 1 -> two events, unless merge bridges the gap
    assert spans(run(s, post=4, pre=5)) == [(5, 19), (25, 39)]
    assert spans(run(s, post=4, pre=5, merge=5)) == [(5, 39)]
    assert spans(run(s, post=4, pre=5, merge=4)) == [(5, 19), (25, 39)]


def test_edges_of_the_video_clip_padding():
    (e,) = run(seq(20, (0, 3)), pre=10, post=10)
    assert (e.start_frame, e.end_frame) == (0, 13)
    (e,) = run(seq(20, (15, 19)), pre=2, post=10)
    assert (e.start_frame, e.end_frame) == (13, 19)
    det = EventDetector(0.5, pre=10, first_frame=100)
    out = [e for i in range(100, 110) for e in det.push(i, 1.0 if i >= 102 else 0.0)]
    (e,) = out + det.finish()
    assert e.start_frame == 100


def test_event_open_at_the_end_is_closed_by_finish():
    (e,) = run(seq(30, (25, 29)), min_event=2, post=50)
    assert (e.start_frame, e.end_frame, e.motion_end) == (25, 29, 29)


def test_run_shorter_than_min_event_at_the_end_is_dropped():
    assert run(seq(30, (28, 29)), min_event=3) == []


def test_peak_bbox_index_and_times():
    s = [0, 0.6, 0.9, 0.7, 0, 0, 0, 0, 0, 0, 0.8, 0.8, 0]
    boxes = [None, (1, 1, 3, 3), (2, 0, 5, 4), (0, 2, 2, 6)] + [None] * 6 + [(7, 7, 9, 9)] * 3
    det = EventDetector(0.5, post=1, time_of=lambda f: f / 10)
    out = [e for i, v in enumerate(s) for e in det.push(i, v, boxes[i])] + det.finish()
    assert [e.index for e in out] == [1, 2]
    a, b = out
    assert (a.peak_score, a.peak_frame, a.bbox) == (0.9, 2, [0, 0, 5, 6])
    assert (a.start_time, a.end_time) == (0.1, 0.4)
    assert b.bbox == [7, 7, 9, 9] and b.peak_frame == 10


def test_events_stream_out_as_soon_as_final():
    """With pre=0, min_event=1 and post=2, an event is final 2 quiet frames after its
    motion; the detector hands it out then, not at the end."""
    det = EventDetector(0.5, post=2)
    got = {}
    for i, v in enumerate(seq(40, (5, 8))):
        for e in det.push(i, v):
            got[i] = e
    assert list(got) == [11]
    assert det.finish() == []


def test_pending_event_waits_for_a_possible_merge():
    det = EventDetector(0.5, post=2, pre=3)
    emitted_at = [i for i, v in enumerate(seq(40, (5, 8))) for _ in det.push(i, v)]
    # end 10; a run starting at r merges when r - 3 <= 11 -> emitted once r >= 15 is sure
    assert emitted_at == [14]


def test_skipped_frame_numbers_count_as_time():
    det = EventDetector(0.5, min_event=3, post=4)
    frames = [0, 2, 4, 6, 8, 20, 22]
    scores = [1, 1, 1, 1, 0, 0, 0]
    out = [e for f, s in zip(frames, scores, strict=True) for e in det.push(f, s)] + det.finish()
    assert [(e.motion_start, e.motion_end, e.end_frame) for e in out] == [(0, 6, 10)]


def test_union_box():
    assert union_box(None, None) is None
    assert union_box((0, 0, 1, 1), None) == (0, 0, 1, 1)
    assert union_box((5, 5, 6, 9), (1, 7, 3, 8)) == (1, 5, 6, 9)


@pytest.mark.parametrize("kw", [{"min_event": -1}, {"pre": -2}, {"post": 1.5}, {"merge": "x"}])
def test_bad_options(kw):
    with pytest.raises(ParameterError):
        EventDetector(0.5, **kw)
