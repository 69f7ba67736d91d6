"""The event state machine: per-frame motion scores in, events out, streaming.

:class:`EventDetector` is pure (no video, no model): it is fed ``(frame, score,
bbox)`` one frame at a time and returns each event once it can no longer change,
so it serves both the whole-file :func:`~bgmix.events.detect_events` and the live
:func:`~bgmix.events.iter_events`.

Rules, with durations in frames:

* a frame is *active* when its score is at least ``threshold``;
* an event **opens** when ``min_event`` consecutive frames are active (its motion
  starts at the first of them);
* an open event **closes** once ``post`` frames in a row are quiet (not active); its
  motion ends at the last active frame;
* it is **padded**: ``start = motion_start - pre`` (not before the first frame) and
  ``end = motion_end + post`` (not after the last frame), both inclusive;
* two events **merge** when the next one's padded start is at most ``merge`` frames
  after the previous one's padded end (touching or overlapping padding merges with
  the default ``merge=0``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from bgmix._validation import check_int, check_real

__all__ = ["Event", "EventDetector", "EventList", "union_box"]

#: A bounding box ``(x0, y0, x1, y1)``: x0, y0 inclusive, x1, y1 exclusive pixel edges.
Box = tuple[int, int, int, int]


def union_box(a: Box | None, b: Box | None) -> Box | None:
    """The smallest box holding both (None is the empty box).

    >>> union_box((0, 0, 2, 2), (1, 1, 5, 3)), union_box(None, (1, 2, 3, 4))
    ((0, 0, 5, 3), (1, 2, 3, 4))
    """
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


@dataclass
class Event:
    """One motion event.

    Attributes
    ----------
    index : int
        1-based number of the event in its run.
    start_frame, end_frame : int
        First and last frame of the event, padding included (inclusive).
    start_time, end_time : float
        Timestamps in seconds of ``start_frame`` and ``end_frame``.
    peak_score : float
        Highest motion score inside the event, and ``peak_frame`` where it occurs.
    peak_frame : int
    bbox : [x0, y0, x1, y1] or None
        Box around every foreground blob that counted in the event's active frames,
        in full-resolution pixels (x1, y1 exclusive).
    motion_start, motion_end : int
        First and last active frame (the event without its padding).
    clip : str or None
        File name of the event's clip, once written.
    """

    index: int
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    peak_score: float
    peak_frame: int
    bbox: list[int] | None
    motion_start: int
    motion_end: int
    clip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Frames in the event, padding included."""
        return self.end_frame - self.start_frame + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON record (the ``events.json`` keys, then ``extra``'s)."""
        d = asdict(self)
        extra = d.pop("extra")
        d["start_time"] = round(self.start_time, 6)
        d["end_time"] = round(self.end_time, 6)
        d["peak_score"] = round(float(self.peak_score), 6)
        return d | extra


class EventList(list):
    """The events of a run (a list of :class:`Event`), with what produced them.

    Attributes
    ----------
    source : str or list of str
        The input (several when read as one timeline).
    fps : float or None
        Frame rate used for times.
    frames : int
        Frames analysed.
    method : str
        Background model.
    params : dict
        Every setting of the run (model parameters and event options).
    size : (width, height)
        Full-resolution frame size (bounding boxes are in these pixels).
    scores : (N,) float32 ndarray
        The motion score of every analysed frame; ``score_frames`` their frame numbers.
    score_frames : (N,) int64 ndarray
    error : str or None
        Why reading stopped early (a file that fails to decode part-way); the events
        are those found up to ``stopped_at``.
    stopped_at : int or None
        The frame at which reading stopped, when ``error`` is set.
    sources : list of dict
        For each input file: ``{"path", "first_frame", "frames"}`` on the timeline.
    """

    def __init__(self, events: Any = (), **attrs: Any) -> None:
        super().__init__(events)
        self.source: Any = attrs.pop("source", None)
        self.fps: float | None = attrs.pop("fps", None)
        self.frames: int = attrs.pop("frames", 0)
        self.method: str = attrs.pop("method", "")
        self.params: dict[str, Any] = attrs.pop("params", {})
        self.size: tuple[int, int] | None = attrs.pop("size", None)
        self.scores: np.ndarray = attrs.pop("scores", np.zeros(0, np.float32))
        self.score_frames: np.ndarray = attrs.pop("score_frames", np.zeros(0, np.int64))
        self.error: str | None = attrs.pop("error", None)
        self.stopped_at: int | None = attrs.pop("stopped_at", None)
        self.sources: list[dict[str, Any]] = attrs.pop("sources", [])
        if attrs:
            raise TypeError(f"EventList got unexpected attributes {sorted(attrs)}")

    def to_dict(self) -> dict[str, Any]:
        """The ``events.json`` document."""
        out: dict[str, Any] = {
            "source": self.source,
            "fps": self.fps,
            "frames": self.frames,
            "method": self.method,
            "params": self.params,
            "events": [e.to_dict() for e in self],
            "width": None if self.size is None else self.size[0],
            "height": None if self.size is None else self.size[1],
            "sources": self.sources,
        }
        if self.error is not None:
            out["error"] = self.error
            out["stopped_at"] = self.stopped_at
        return out

    def __repr__(self) -> str:
        err = f", stopped at frame {self.stopped_at}" if self.error else ""
        return f"<EventList {len(self)} events in {self.frames} frames{err}>"


@dataclass
class _Open:
    """An event under construction (motion frames only; padding added on close)."""

    motion_start: int
    motion_end: int
    peak_score: float
    peak_frame: int
    bbox: Box | None

    def add(self, frame: int, score: float, bbox: Box | None) -> None:
        self.motion_end = frame
        if score > self.peak_score:
            self.peak_score, self.peak_frame = score, frame
        self.bbox = union_box(self.bbox, bbox)

    def absorb(self, other: _Open) -> None:
        self.motion_end = max(self.motion_end, other.motion_end)
        if other.peak_score > self.peak_score:
            self.peak_score, self.peak_frame = other.peak_score, other.peak_frame
        self.bbox = union_box(self.bbox, other.bbox)


class EventDetector:
    """Streaming event detection over per-frame motion scores.

    Parameters
    ----------
    threshold : float
        A frame is active when its score is ``>= threshold``.
    min_event : int, default 1
        Consecutive active frames that open an event.
    pre, post : int, default 0
        Padding before the motion starts and after it ends, in frames; ``post`` is
        also the quiet time that closes an event.
    merge : int, default 0
        Largest gap (frames) between two padded events that still merges them.
    first_frame : int, default 0
        Earliest frame number (padding never reaches before it).
    time_of : callable(frame) -> float, optional
        Timestamp of a frame number in seconds (default: the frame number itself).

    Examples
    --------
    >>> det = EventDetector(0.5, min_event=2, pre=1, post=2)
    >>> out = [e for i, s in enumerate([0, 1, 1, 1, 0, 0, 0, 0, 1, 0]) for e in det.push(i, s)]
    >>> out += det.finish()
    >>> [(e.start_frame, e.end_frame) for e in out]
    [(0, 5)]
    """

    def __init__(
        self,
        threshold: float,
        *,
        min_event: int = 1,
        pre: int = 0,
        post: int = 0,
        merge: int = 0,
        first_frame: int = 0,
        time_of: Callable[[int], float] | None = None,
    ) -> None:
        self.threshold = check_real("threshold", threshold)
        self.min_event = max(1, check_int("min_event", min_event, low=0))
        self.pre = check_int("pre", pre, low=0)
        self.post = check_int("post", post, low=0)
        self.merge = check_int("merge", merge, low=0)
        self.first_frame = check_int("first_frame", first_frame)
        self._time_of = time_of or float
        self._run: _Open | None = None  # active frames not yet an event
        self._open: _Open | None = None
        self._pending: _Open | None = None  # closed, may still merge with the next
        self._last = first_frame - 1
        self._count = 0

    # ---- feeding --------------------------------------------------------------------
    def push(self, frame: int, score: float, bbox: Box | None = None) -> list[Event]:
        """Feed one frame; return the events that are now final (usually none)."""
        out: list[Event] = []
        self._last = frame
        active = score >= self.threshold
        if self._open is not None:
            if active:
                self._open.add(frame, score, bbox)
            elif frame - self._open.motion_end >= max(self.post, 1):
                self._pending, self._open = self._open, None
        elif active:
            if self._run is None:
                self._run = _Open(frame, frame, score, frame, bbox)
            else:
                self._run.add(frame, score, bbox)
            if frame - self._run.motion_start + 1 >= self.min_event:
                self._start(self._run, out)
                self._run = None
        else:
            self._run = None
        self._flush_pending(frame, out)
        return out

    def finish(self) -> list[Event]:
        """End of the stream: close what is open and return the last events."""
        out: list[Event] = []
        if self._open is not None:
            self._pending, self._open = self._open, None
        if self._pending is not None:
            out.append(self._emit(self._pending))
            self._pending = None
        self._run = None
        return out

    # ---- internals --------------------------------------------------------------------
    def _start(self, run: _Open, out: list[Event]) -> None:
        pending = self._pending
        if pending is not None and self._padded_start(run) <= self._padded_end(pending) + 1 + (
            self.merge
        ):
            pending.absorb(run)
            self._open, self._pending = pending, None
            return
        if pending is not None:
            out.append(self._emit(pending))
            self._pending = None
        self._open = run

    def _flush_pending(self, frame: int, out: list[Event]) -> None:
        """Emit the pending event once no future event can merge with it."""
        if self._pending is None:
            return
        earliest = self._run.motion_start if self._run is not None else frame + 1
        if self._open is None and earliest - self.pre > self._padded_end(self._pending) + 1 + (
            self.merge
        ):
            out.append(self._emit(self._pending))
            self._pending = None

    def _padded_start(self, e: _Open) -> int:
        return max(self.first_frame, e.motion_start - self.pre)

    def _padded_end(self, e: _Open) -> int:
        return e.motion_end + self.post

    def _emit(self, e: _Open) -> Event:
        self._count += 1
        start = self._padded_start(e)
        end = min(self._padded_end(e), self._last)
        return Event(
            index=self._count,
            start_frame=start,
            end_frame=end,
            start_time=self._time_of(start),
            end_time=self._time_of(end),
            peak_score=float(e.peak_score),
            peak_frame=e.peak_frame,
            bbox=None if e.bbox is None else [int(v) for v in e.bbox],
            motion_start=e.motion_start,
            motion_end=e.motion_end,
        )


def renumber(events: list[Event]) -> list[Event]:
    """Copies of ``events`` numbered 1, 2, ... in order."""
    return [replace(e, index=i) for i, e in enumerate(events, 1)]
