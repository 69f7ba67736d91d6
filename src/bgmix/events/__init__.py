"""Motion events: per-frame motion scores, event detection, clips and thumbnails.

>>> from bgmix.events import EventDetector
>>> det = EventDetector(0.5, min_event=1)
>>> [(e.start_frame, e.end_frame) for e in det.push(0, 1.0) + det.push(1, 0.0) + det.finish()]
[(0, 0)]
"""

from bgmix.events._detect import Event, EventDetector, EventList
from bgmix.events._run import DEFAULTS, detect_events, iter_events
from bgmix.events._score import FrameScore, MotionScorer
from bgmix.events._times import format_timecode, parse_time, to_frames

__all__ = [
    "DEFAULTS",
    "Event",
    "EventDetector",
    "EventList",
    "FrameScore",
    "MotionScorer",
    "detect_events",
    "format_timecode",
    "iter_events",
    "parse_time",
    "to_frames",
]
