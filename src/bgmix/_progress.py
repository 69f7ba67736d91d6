"""Progress reporting shared by every long-running command and library call.

One rule everywhere: a bar (tqdm) with frames/s and the time left when stderr is a
terminal; a plain line every few seconds when stderr is redirected to a log (a bar's
carriage returns make unreadable logs); nothing when disabled (``-q``).

Examples
--------
>>> with progress_bar(3, "demo", enabled=False) as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.n
3
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, Self

__all__ = ["LOG_INTERVAL", "Progress", "progress_bar"]

#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 5.0


class Progress:
    """A progress report: ``update(n)``, ``close()``, usable as a context manager.

    Parameters
    ----------
    total : int or None
        Expected number of units (None when unknown: no percentage, no time left).
    desc : str
        What is being done, at the start of each line.
    enabled : bool or None
        False: silent. True: always report. None: report when stderr is a terminal or
        a log (that is, always; kept for symmetry with ``--progress/--no-progress``).
    unit : str
        Name of one unit (``"frame"``).
    stream : file, optional
        Where to write (default ``sys.stderr``, looked up when created).
    interval : float
        Seconds between two lines when ``stream`` is not a terminal.

    Attributes
    ----------
    n : int
        Units done so far.
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        *,
        enabled: bool | None = True,
        unit: str = "frame",
        stream: IO[str] | None = None,
        interval: float = LOG_INTERVAL,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = 0
        self._stream = sys.stderr if stream is None else stream
        self._enabled = enabled is not False
        self._interval = interval
        self._start = time.perf_counter()
        self._last_line = self._start
        self._bar: Any = None
        if self._enabled and _isatty(self._stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=self._stream,
                leave=False,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.n += n
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.perf_counter()
        if now - self._last_line >= self._interval:
            self._last_line = now
            self._write_line(now)

    def close(self) -> None:
        """End the report (a bar is removed; a log gets a last line). Safe to call twice."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._enabled and self.n and self._last_line != -1.0:
            self._write_line(time.perf_counter(), final=True)
        self._last_line = -1.0
        self._enabled = False

    @property
    def elapsed(self) -> float:
        """Seconds since the report started."""
        return time.perf_counter() - self._start

    def _write_line(self, now: float, *, final: bool = False) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.n / elapsed
        done = f"{self.n}" if self.total is None else f"{self.n}/{self.total}"
        parts = [f"{self.desc}: {done} {self.unit}s"]
        if self.total:
            parts.append(f"({100.0 * self.n / self.total:.1f}%)")
        parts.append(f"{rate:.1f} {self.unit}s/s")
        if final:
            parts.append(f"in {_clock(elapsed)}")
        elif self.total and rate > 0:
            parts.append(f"{_clock(max(0.0, (self.total - self.n) / rate))} left")
        print(" ".join(parts), file=self._stream, flush=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress_bar(
    total: int | None, desc: str, *, enabled: bool | None = True, unit: str = "frame"
) -> Progress:
    """A :class:`Progress` on stderr: a bar on a terminal, a line every few seconds in a
    log, nothing when ``enabled`` is False."""
    return Progress(total, desc, enabled=enabled, unit=unit)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
