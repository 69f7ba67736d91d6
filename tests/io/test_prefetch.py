"""The background reader thread: order, bounded memory, errors, stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from bgmix.io import open_source
from bgmix.io._prefetch import prefetched


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def _wait_gone(name: str, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while _threads(name) and time.monotonic() < end:
        time.sleep(0.01)
    return not _threads(name)


def test_order_is_preserved() -> None:
    assert list(prefetched(iter(range(500)), 3, name="t-order")) == list(range(500))


def test_queue_is_bounded() -> None:
    produced = []

    def gen() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    it = prefetched(gen(), 4, name="t-bounded")
    assert next(it) == 0
    time.sleep(0.3)  # let the reader run as far ahead as it may
    # one item handed out, at most 4 queued, one more waiting to be put
    assert len(produced) <= 1 + 4 + 1
    it.close()
    assert _wait_gone("t-bounded")


def test_errors_propagate_after_the_good_items() -> None:
    def gen() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("decoder failed")

    got = []
    with pytest.raises(KeyError, match="decoder failed"):
        for x in prefetched(gen(), 2, name="t-error"):
            got.append(x)
    assert got == [1, 2]
    assert _wait_gone("t-error")


def test_early_break_stops_the_thread_and_closes_the_reader() -> None:
    closed = threading.Event()

    def gen() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    for x in prefetched(gen(), 2, name="t-break"):
        if x == 5:
            break
    assert closed.wait(5)
    assert _wait_gone("t-break")


def test_consumer_exception_stops_the_thread() -> None:
    it = prefetched(iter(range(10**6)), 2, name="t-consumer")
    with pytest.raises(RuntimeError):
        for x in it:
            if x == 3:
                raise RuntimeError("model failed")
    it.close()  # what FrameSource.close() does for the source's active iteration
    assert _wait_gone("t-consumer")


def test_consumer_exception_in_with_block_stops_the_source_thread() -> None:
    with (
        pytest.raises(RuntimeError),
        open_source(np.zeros((99, 4, 4), np.uint8), prefetch=1) as src,
    ):
        for _ in src:
            raise RuntimeError("model failed")
    assert not [
        t for t in threading.enumerate() if t.name.startswith("bgmix-prefetch") and t.is_alive()
    ]


def test_source_close_stops_its_prefetch_thread() -> None:
    frames = np.zeros((50, 8, 8), np.uint8)
    src = open_source(frames, prefetch=2)
    it = iter(src)
    next(it)
    assert [t for t in threading.enumerate() if t.name.startswith("bgmix-prefetch")]
    src.close()
    assert not [
        t for t in threading.enumerate() if t.name.startswith("bgmix-prefetch") and t.is_alive()
    ]


def test_decoding_overlaps_consumer_work() -> None:
    """The reader produces frame k+1 while the consumer still holds frame k.

    Without a reader thread this would deadlock: the consumer waits, while holding
    frame 0, for an event only the production of frame 1 sets.
    """
    producing_next = threading.Event()

    def reader() -> Iterator[int]:
        yield 0
        producing_next.set()
        yield 1

    it = prefetched(reader(), 1, name="t-overlap")
    assert next(it) == 0
    assert producing_next.wait(5), "the reader did not run ahead of the consumer"
    assert list(it) == [1]
