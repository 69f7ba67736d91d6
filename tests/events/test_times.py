"""Times as frames, seconds or timecodes."""

from __future__ import annotations

import pytest

from bgmix.events import format_timecode, parse_time, to_frames
from bgmix.exceptions import ParameterError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (75, (75.0, "frames")),
        ("75", (75.0, "frames")),
        ("12 frames", (12.0, "frames")),
        ("1.5s", (1.5, "seconds")),
        (".5s", (0.5, "seconds")),
        (2.25, (2.25, "seconds")),
        ("00:01:02.500", (62.5, "seconds")),
        ("01:02.5", (62.5, "seconds")),
        ("10:00:00", (36000.0, "seconds")),
    ],
)
def test_parse_time_forms(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    "value", [-1, "-2s", "1.5 minutes", "00:61:00", "1:2:3:4", True, None, "s"]
)
def test_parse_time_rejects(value):
    with pytest.raises(ParameterError, match="pre"):
        parse_time(value, name="pre")


@pytest.mark.parametrize(
    ("value", "fps", "frames"),
    [(75, None, 75), ("1.5s", 25.0, 38), ("1.5s", 30.0, 45), ("00:00:02", 29.97, 60), (0, 5.0, 0)],
)
def test_to_frames(value, fps, frames):
    assert to_frames(value, fps) == frames


def test_seconds_without_a_frame_rate_is_an_error():
    with pytest.raises(ParameterError, match="no frame rate"):
        to_frames("2s", None, name="post")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00.000"), (62.5, "00:01:02.500"), (3725.0004, "01:02:05.000"),
     (59.9996, "00:01:00.000"), (360000.25, "100:00:00.250"), (-1, "00:00:00.000")],
)  # fmt: skip
def test_format_timecode(seconds, text):
    assert format_timecode(seconds) == text


def test_round_trip_timecode():
    for s in (0.0, 1.234, 59.999, 3599.5, 86399.001):
        assert parse_time(format_timecode(s))[0] == pytest.approx(s, abs=5e-4)
