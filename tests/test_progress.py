"""The one progress rule: a bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import io

from bgmix._progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_gets_periodic_lines_with_rate_and_time_left():
    log = io.StringIO()
    with Progress(10, "mog2", stream=log, interval=0.0) as bar:
        for _ in range(10):
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11  # one per update (interval 0) and a final one
    assert lines[0].startswith("mog2: 1/10 frames (10.0%)")
    assert "frames/s" in lines[0] and "left" in lines[0]
    assert lines[-1].startswith("mog2: 10/10 frames (100.0%)") and " in 0:00:0" in lines[-1]
    assert "\r" not in log.getvalue()


def test_log_lines_are_spaced_by_the_interval():
    log = io.StringIO()
    bar = Progress(None, "read", stream=log, interval=3600.0)
    for _ in range(100):
        bar.update(1)
    assert log.getvalue() == ""  # less than an interval has passed
    bar.close()
    bar.close()
    assert log.getvalue().splitlines() == [log.getvalue().splitlines()[0]]
    assert log.getvalue().startswith("read: 100 frames")


def test_disabled_is_silent_but_counts():
    log = io.StringIO()
    with Progress(5, "x", stream=log, enabled=False, interval=0.0) as bar:
        bar.update(5)
    assert log.getvalue() == "" and bar.n == 5


def test_terminal_gets_a_bar():
    tty = _Tty()
    with Progress(4, "subtract", stream=tty) as bar:
        bar.update(4)
    assert "subtract" in tty.getvalue() and "\r" in tty.getvalue()
