"""detect_events / iter_events on composed scenes with known motion."""

from __future__ import annotations

import numpy as np
import pytest

import bgmix
from bgmix.events import detect_events, iter_events
from bgmix.exceptions import CorruptFrameError, FrameSizeError, ParameterError
from tests.events.scenes import FPS, OBJ_ROWS, scene, write_mp4

NO_PAD = {"pre": 0, "post": 0}


def test_crossing_object_is_one_event_with_its_frames_and_box():
    events = detect_events(scene(cross=(60, 100)), fps=FPS, **NO_PAD)
    (e,) = events
    assert 60 <= e.motion_start <= 62 and 98 <= e.motion_end <= 99
    x0, y0, x1, y1 = e.bbox
    assert abs(y0 - OBJ_ROWS[0]) <= 2 and abs(y1 - OBJ_ROWS[1]) <= 2
    assert x0 <= 8 and x1 >= 150
    assert e.start_time == pytest.approx(e.start_frame / FPS)
    assert events.frames == 150 and len(events.scores) == 150
    assert events.scores[:55].max() == 0.0 and events.scores[70:90].min() > 0.001


def test_default_padding_in_frames():
    (e,) = detect_events(scene(cross=(60, 100)), fps=FPS)
    assert e.start_frame == e.motion_start - round(1.5 * FPS)
    assert e.end_frame == min(149, e.motion_end + 2 * FPS)


@pytest.mark.parametrize(
    "nuisance",
    [{"gain_from": 75}, {"gain_from": 75, "gain": 1.6}, {"shake": 2.0},
     {"noise": 15.0, "salt": 0.005}],
    ids=["light-off", "light-on", "shake", "noise"],
)  # fmt: skip
def test_nuisances_alone_make_no_event(nuisance):
    assert len(detect_events(scene(cross=None, **nuisance), fps=FPS)) == 0


@pytest.mark.parametrize("nuisance", [{"gain_from": 40}, {"shake": 2.0}, {"noise": 15.0}])
def test_crossing_is_still_found_under_nuisances(nuisance):
    events = detect_events(scene(cross=(60, 100), **nuisance), fps=FPS, **NO_PAD)
    assert len(events) == 1 and 60 <= events[0].motion_start <= 66


def test_roi_excludes_motion_outside_it():
    frames = scene(cross=(60, 100))
    assert len(detect_events(frames, fps=FPS, roi="0,0 159,0 159,40 0,40")) == 0
    (e,) = detect_events(frames, fps=FPS, roi="0,40 80,40 80,100 0,100", **NO_PAD)
    assert e.bbox[2] <= 82


def test_roi_outside_the_frame():
    with pytest.raises(ParameterError, match="outside the 160x120 frame"):
        detect_events(scene(n=20, cross=None), fps=FPS, roi="0,0 500,0 500,50")


def test_iter_events_streams_events_before_the_end():
    frames = np.concatenate([scene(cross=(60, 100)), scene(n=200, cross=None)])
    seen = []
    for event in iter_events(frames, fps=FPS, **NO_PAD):
        seen.append(event)
    assert len(seen) == 1 and seen[0].end_frame < 110


def test_unknown_option():
    with pytest.raises(ParameterError, match="unknown option 'treshold'"):
        detect_events(scene(n=5), treshold=0.1)


def test_timeline_of_two_files_continues_frame_numbers(tmp_path):
    a = write_mp4(scene(cross=None), tmp_path / "a.mp4")
    b = write_mp4(scene(cross=(30, 70), seed=0), tmp_path / "b.mp4")
    events = detect_events([a, b], **NO_PAD)
    assert events.frames == 300
    assert [s["first_frame"] for s in events.sources] == [0, 150]
    (e,) = events
    assert 180 <= e.motion_start <= 183 and 218 <= e.motion_end <= 219
    assert events.source == [str(a), str(b)]


def test_timeline_of_different_sizes_is_an_error(tmp_path):
    a = write_mp4(scene(n=10, cross=None), tmp_path / "a.mp4")
    small = scene(n=10, cross=None)[:, :96, :128]
    b = write_mp4(small, tmp_path / "b.mp4")
    with pytest.raises(FrameSizeError, match=r"b\.mp4.*128x96.*160x120"):
        detect_events([a, b])


def truncate(src, dst, fraction=0.6):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_file_that_fails_part_way_keeps_earlier_events(tmp_path):
    """A recording cut short (the header announces 300 frames, the data stops
    about 60 % in): the events before the cut are kept and the stop is reported."""
    frames = np.concatenate([scene(cross=(30, 60)), scene(cross=None)])
    full = tmp_path / "full.mp4"
    with bgmix.open_sink(full, fps=FPS) as sink:  # +faststart: the index comes first
        for f in frames:
            sink.write(f)
    broken = truncate(full, tmp_path / "broken.mp4")
    events = detect_events(broken, **NO_PAD)
    assert len(events) == 1 and 30 <= events[0].motion_start <= 33
    assert "broken.mp4" in events.error and "300" in events.error
    assert 100 < events.stopped_at < 300 and events.stopped_at == events.frames
    with pytest.raises(CorruptFrameError, match="stopped at frame"):
        list(iter_events(broken))
