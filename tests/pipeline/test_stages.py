"""The generic stage runner: order, bounded memory, errors, interrupts, no thread left."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from bgmix._stages import Cancelled, each, run_stages, terminate_as_interrupt


def _alive(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]


def _forever() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1


def _slow(seconds: float):
    def stage(items: Iterator[int]) -> Iterator[int]:
        for x in items:
            time.sleep(seconds)
            yield x

    return stage


def test_order_is_kept_through_stages_and_every_sink() -> None:
    a: list[int] = []
    b: list[int] = []
    run_stages(
        range(300),
        [each(lambda x: x * 3), _slow(0.0001), each(lambda x: x - 1)],
        [a.extend, b.extend],
        depth=2,
        name="t-order",
    )
    expected = [3 * x - 1 for x in range(300)]
    assert a == expected and b == expected
    assert not _alive("t-order")


def test_stage_may_change_the_number_of_items() -> None:
    def pairs(items: Iterator[int]) -> Iterator[tuple[int, int]]:
        it = iter(items)
        for x in it:
            yield (x, next(it, None))

    out: list = []
    run_stages(range(5), [pairs], [out.extend], name="t-pairs")
    assert out == [(0, 1), (2, 3), (4, None)]


@pytest.mark.parametrize("depth", [1, 3, 8])
def test_back_pressure_bounds_items_in_flight(depth: int) -> None:
    produced = 0
    consumed = 0
    most = 0
    lock = threading.Lock()

    def source() -> Iterator[int]:
        nonlocal produced, most
        for i in range(200):
            with lock:
                produced += 1
                most = max(most, produced - consumed)
            yield i

    def slow_sink(items: Iterator[int]) -> None:
        nonlocal consumed
        for _ in items:
            time.sleep(0.001)
            with lock:
                consumed += 1

    run_stages(source(), [each(lambda x: x), each(lambda x: x)], [slow_sink], depth=depth)
    # Each of the 3 queues holds at most `depth`, each of the 4 threads one item in hand.
    assert consumed == 200
    assert most <= 3 * depth + 4


def test_first_error_wins_and_stops_every_thread() -> None:
    closed = threading.Event()
    seen_after: list[int] = []

    def source() -> Iterator[int]:
        try:
            i = 0
            while True:  # endless: only the stop can end it
                yield i
                i += 1
        finally:
            closed.set()

    def boom(items: Iterator[int]) -> Iterator[int]:
        for x in items:
            if x == 50:
                raise ValueError("stage 2 failed at 50")
            yield x

    def sink_that_fails_later(items: Iterator[int]) -> None:
        for x in items:
            seen_after.append(x)

    with pytest.raises(ValueError, match="failed at 50"):
        run_stages(source(), [each(lambda x: x), boom], [sink_that_fails_later], name="t-err")
    assert closed.is_set()  # the source iterator was closed
    assert seen_after == list(range(len(seen_after))) and len(seen_after) <= 50
    assert not _alive("t-err")


def test_an_error_in_a_sink_stops_the_source_and_the_other_sinks() -> None:
    other: list[int] = []

    def bad(items: Iterator[int]) -> None:
        for x in items:
            if x == 10:
                raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_stages(_forever(), [], [bad, other.extend], name="t-sink")
    assert not _alive("t-sink")


def test_an_error_in_the_source_is_raised() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise RuntimeError("decoder broke")

    with pytest.raises(RuntimeError, match="decoder broke"):
        run_stages(source(), [each(lambda x: x)], [list], name="t-src")


def test_a_stage_that_stops_reading_early_stops_upstream_quietly() -> None:
    def first_three(items: Iterator[int]) -> Iterator[int]:
        for i, x in enumerate(items):
            if i == 3:
                return
            yield x

    out: list[int] = []
    run_stages(_forever(), [first_three], [out.extend], name="t-early")
    assert out == [0, 1, 2]
    assert not _alive("t-early")


def test_cancelled_reaches_a_blocked_stage() -> None:
    # A stage blocked reading its input is woken by the stop: it sees Cancelled.
    saw: list[str] = []

    def waiting(items: Iterator[int]) -> Iterator[int]:
        try:
            yield from items
        except Cancelled:
            saw.append("cancelled")
            raise

    def source() -> Iterator[int]:
        yield 1
        time.sleep(0.2)
        raise KeyError("late")

    with pytest.raises(KeyError):
        run_stages(source(), [waiting], [list], name="t-cancel")
    assert saw == ["cancelled"]


@pytest.mark.usefixtures("ctrl_c_raises")
def test_keyboard_interrupt_in_the_caller_stops_every_thread() -> None:
    def interrupt_soon() -> None:
        time.sleep(0.2)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt_soon, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_stages(_forever(), [_slow(0.001)], [list], name="t-int")
    assert not _alive("t-int")


def test_sigterm_becomes_keyboard_interrupt_and_the_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def term_soon() -> None:
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=term_soon, daemon=True).start()
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), terminate_as_interrupt():
        run_stages(_forever(), [_slow(0.001)], [list], name="t-term")
    assert signal.getsignal(signal.SIGTERM) == before
    assert not _alive("t-term")


def test_terminate_as_interrupt_does_nothing_outside_the_main_thread() -> None:
    result: list = []

    def body() -> None:
        with terminate_as_interrupt():
            result.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert result == [before]


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        run_stages([1], depth=0)


def test_no_sinks_drops_items_and_runs_stages() -> None:
    seen: list[int] = []
    run_stages(range(4), [each(seen.append)])
    assert seen == [0, 1, 2, 3]


def test_cpu_seconds_are_reported_per_thread() -> None:
    def busy(items: Iterator[int]) -> Iterator[int]:
        for x in items:
            end = time.thread_time() + 0.002
            while time.thread_time() < end:
                pass
            yield x

    cpu: dict[str, float] = {}
    run_stages(range(50), [busy, each(lambda x: x)], [list], cpu_seconds=cpu)
    assert set(cpu) == {"source", "stage-1", "stage-2", "sink-1"}
    assert cpu["stage-1"] >= 0.09 and cpu["stage-1"] > cpu["stage-2"]
