"""Durations and instants as frames, seconds or timecodes, and timecode formatting.

A time is given as an int number of frames (``75``), a number of seconds with an
``s`` suffix (``"1.5s"``), or a timecode ``HH:MM:SS[.fff]`` / ``MM:SS[.fff]``
(``"00:01:02.500"``). The frame rate turns seconds into frames.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from bgmix.exceptions import ParameterError

__all__ = ["format_timecode", "parse_time", "to_frames"]

_SECONDS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*s(?:ec(?:onds?)?)?\s*$", re.IGNORECASE)
_FRAMES = re.compile(r"^\s*(\d+)\s*(?:f|frames?)?\s*$", re.IGNORECASE)
_TIMECODE = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*$")


def parse_time(value: Any, *, name: str = "time") -> tuple[float, str]:
    """Parse a time into ``(amount, unit)`` with unit ``"frames"`` or ``"seconds"``.

    Parameters
    ----------
    value : int, float or str
        ``75`` or ``"75"`` (frames), ``"1.5s"`` (seconds), ``"00:01:02.500"`` or
        ``"01:02.5"`` (timecode, seconds). A float is read as seconds.
    name : str
        The option's name, for error messages.

    Raises
    ------
    ParameterError
        Negative, not finite, or not one of the forms above.

    Examples
    --------
    >>> parse_time(75), parse_time("1.5s"), parse_time("00:01:02.500")
    ((75.0, 'frames'), (1.5, 'seconds'), (62.5, 'seconds'))
    """
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be frames, seconds or a timecode; got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ParameterError(f"{name} must not be negative; got {value}")
        return float(value), "frames"
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name} must be a non-negative number of seconds; got {value}")
        return v, "seconds"
    if isinstance(value, str):
        m = _FRAMES.match(value)
        if m:
            return float(m.group(1)), "frames"
        m = _SECONDS.match(value)
        if m:
            return float(m.group(1)), "seconds"
        m = _TIMECODE.match(value)
        if m:
            hours = int(m.group(1) or 0)
            minutes, seconds = int(m.group(2)), float(m.group(3))
            if minutes >= 60 or seconds >= 60:
                raise ParameterError(
                    f"{name}: {value!r} is not a valid timecode (MM < 60, SS < 60)"
                )
            return hours * 3600.0 + minutes * 60.0 + seconds, "seconds"
    raise ParameterError(
        f"{name} must be frames (75), seconds (1.5s) or a timecode (00:01:02.500); got {value!r}"
    )


def to_frames(value: Any, fps: float | None, *, name: str = "time") -> int:
    """A time as a whole number of frames (seconds are rounded at ``fps``).

    Raises
    ------
    ParameterError
        The time is in seconds and the frame rate is unknown.

    Examples
    --------
    >>> to_frames("1.5s", 25.0), to_frames(8, None), to_frames("00:00:02", 30)
    (38, 8, 60)
    """
    amount, unit = parse_time(value, name=name)
    if unit == "frames":
        return int(amount)
    if fps is None:
        raise ParameterError(
            f"{name}={value!r} is in seconds but the source has no frame rate; give frames"
        )
    return math.floor(amount * fps + 0.5)


def format_timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (milliseconds rounded; hours may exceed 99).

    Examples
    --------
    >>> format_timecode(62.5), format_timecode(3725.0004), format_timecode(59.9996)
    ('00:01:02.500', '01:02:05.000', '00:01:00.000')
    """
    ms = math.floor(max(0.0, float(seconds)) * 1000.0 + 0.5)
    s, ms = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
