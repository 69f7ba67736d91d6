"""Decode ahead in a background thread, through a bounded queue.

``prefetched(items, depth)`` runs the generator ``items`` in a daemon thread and hands
its items to the consumer through a queue of at most ``depth`` items, so memory stays
constant while decoding overlaps the consumer's work (decoders and OpenCV release the
GIL). An exception raised in the thread is raised again in the consumer, and closing
the returned generator (``break``, ``close()``, an exception in the consumer) stops the
thread, which then closes ``items`` itself, in its own thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["prefetched"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL = 0.05  # seconds between checks of the stop flag


def prefetched(
    items: Iterator[T], depth: int, *, name: str = "bgmix-prefetch", join_timeout: float = 10.0
) -> Generator[T, None, None]:
    """Yield the items of ``items``, produced ahead by a background thread.

    Parameters
    ----------
    items : iterator
        Usually a generator; it is advanced and finally closed by the thread only.
    depth : int
        Queue capacity (at least 1): how many items may wait for the consumer.
    name : str
        Thread name, for debugging.
    join_timeout : float
        Seconds to wait for the thread when the consumer stops early; a thread stuck
        in a blocking read after that is left to finish on its own (it is a daemon).

    Yields
    ------
    item
        The items of ``items``, in order.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1; got {depth}")
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((_ITEM, item)):
                    return
            put((_END, None))
        except BaseException as exc:
            put((_ERROR, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("%s: error while closing the frame reader", name)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            try:
                tag, value = q.get(timeout=_POLL)
            except queue.Empty:
                if thread.is_alive() or not q.empty():
                    continue
                raise RuntimeError(f"{name}: reader thread ended without a result") from None
            if tag == _ITEM:
                yield value  # type: ignore[misc]
            elif tag == _END:
                return
            else:
                assert isinstance(value, BaseException)
                raise value
    finally:
        stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                break
        thread.join(join_timeout)
        if thread.is_alive():
            logger.warning(
                "%s: reader thread still busy after %.0f s; leaving it to finish",
                name,
                join_timeout,
            )
