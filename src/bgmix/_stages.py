"""Run a chain of stages concurrently, joined by bounded queues.

A *stage* is a plain callable that takes an iterator of items and returns (or, as a
generator, yields) an iterable of items: decoding, a model, post-processing. A *sink*
is a callable that takes an iterator of items and consumes it: a writer, a counter.
Each is testable alone, with a list as input. :func:`run_stages` runs the source,
every stage and every sink in a thread of its own::

    source ──q──> stage 1 ──q──> stage 2 ──q──┬──> sink 1
                                               └──q──> sink 2

* **Bounded memory and back-pressure.** Each arrow is a ``queue.Queue`` of at most
  ``depth`` items; a fast producer waits for its slow consumer, so at most
  ``depth`` items wait per queue whatever the length of the stream.
* **Order.** One thread per stage and FIFO queues: every stage and every sink sees
  the items in the order the source produced them.
* **Fan-out.** Every sink receives every item the last stage yields (the same
  object, not a copy: sinks must not modify items).
* **First error wins.** The first exception raised in any thread (source, stage or
  sink) sets a stop event; every other thread then leaves at its next queue
  operation (its input iterator raises :class:`Cancelled`, which ends it quietly),
  the source iterator is closed, every thread is joined, and that first exception is
  raised in the caller's thread. Later errors, usually consequences, are logged.
* **Interrupts.** Ctrl-C (``KeyboardInterrupt``) reaches the caller's thread, which
  only supervises: it stops every thread the same way and re-raises.
  :func:`terminate_as_interrupt` turns SIGTERM (``docker stop``, systemd, cluster
  nannies) into the same ``KeyboardInterrupt``, so context managers clean up.
* **Early end.** A stage or sink that stops reading before its input ends closes its
  input queue: its producer's next put raises :class:`Cancelled`, and so on upstream,
  so nothing keeps running for nobody (a sink that stops early does not stop the
  other sinks).

Stages release the GIL where the work is (Numba ``nogil`` kernels, OpenCV, FFmpeg
decoders and encoders, zlib), so the threads run in parallel.

Examples
--------
>>> def double(items):
...     for x in items:
...         yield 2 * x
>>> seen = []
>>> run_stages(range(5), [double, each(lambda x: x + 1)], [seen.extend])
>>> seen
[1, 3, 5, 7, 9]
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Cancelled", "Sink", "Stage", "each", "run_stages", "terminate_as_interrupt"]

logger = logging.getLogger(__name__)

#: A stage: items in, items out (a generator function is the usual form).
Stage = Callable[[Iterator[Any]], Iterable[Any]]
#: A sink: consumes its items.
Sink = Callable[[Iterator[Any]], Any]

_END = object()
#: Seconds between two checks of the stop event by a waiting thread.
POLL = 0.05


class Cancelled(Exception):
    """Raised inside a stage's or sink's input (or output) when the run is stopping.

    Let it propagate: the runner ends the thread quietly. Code that must clean up
    uses ``finally`` or a context manager, as for any exception.
    """


def each(function: Callable[[Any], Any]) -> Stage:
    """A stage that maps ``function`` over its items, one output per input.

    Examples
    --------
    >>> list(each(str.upper)(iter("ab")))
    ['A', 'B']
    """

    def stage(items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            yield function(item)

    stage.__name__ = getattr(function, "__name__", "each")
    return stage


class _Channel:
    """A bounded queue between two threads that gives up when the run stops or when
    its consumer has left."""

    def __init__(self, depth: int, stop: threading.Event) -> None:
        self._q: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = stop
        self.closed = False  # the consumer will read no more

    def put(self, item: Any) -> None:
        while True:
            if self._stop.is_set() or self.closed:
                raise Cancelled
            try:
                self._q.put(item, timeout=POLL)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Any]:
        try:
            while True:
                if self._stop.is_set():
                    raise Cancelled
                try:
                    item = self._q.get(timeout=POLL)
                except queue.Empty:
                    continue
                if item is _END:
                    return
                yield item
        finally:
            self.closed = True
            self.drain()

    def drain(self) -> None:
        """Drop waiting items (lets a blocked producer notice the end at once)."""
        while True:
            try:
                self._q.get_nowait()
            except queue.Empty:
                return


class _Fanout:
    """The output of a thread: one channel, or several (one per sink)."""

    def __init__(self, channels: Sequence[_Channel]) -> None:
        self._channels = channels

    def put(self, item: Any) -> None:
        if not self._channels:
            return  # no sink: the items are dropped
        open_ = [c for c in self._channels if not c.closed]
        if not open_:
            raise Cancelled
        for channel in open_:
            with contextlib.suppress(Cancelled):
                channel.put(item)
        if all(c.closed for c in self._channels):
            raise Cancelled

    def end(self) -> None:
        for channel in self._channels:
            with contextlib.suppress(Cancelled):
                channel.put(_END)


def run_stages(
    source: Iterable[Any],
    stages: Sequence[Stage] = (),
    sinks: Sequence[Sink] = (),
    *,
    depth: int = 4,
    name: str = "bgmix",
    join_timeout: float = 30.0,
    cpu_seconds: dict[str, float] | None = None,
) -> None:
    """Run ``source -> stages[0] -> ... -> stages[-1] -> every sink``, each in a thread.

    Parameters
    ----------
    source : iterable
        The items. Iterated (and closed, if it has ``close``) by a thread of its own.
    stages : sequence of callables ``f(iterator) -> iterable``
        Applied in order, each in its own thread.
    sinks : sequence of callables ``f(iterator)``
        Each receives every item the last stage yields, in its own thread. Without
        sinks, the items are dropped.
    depth : int, default 4
        Capacity of every queue (at least 1).
    name : str
        Prefix of the thread names (``"bgmix-stage-1"``...), for debugging.
    join_timeout : float
        Seconds to wait for a thread after a stop; a thread still busy then (a
        blocking read from a camera) is left to finish on its own (daemon thread)
        and a warning is logged.
    cpu_seconds : dict, optional
        Filled with the CPU seconds each thread used (``time.thread_time``), keyed
        ``"source"``, ``"stage-1"``..., ``"sink-1"``...: where the work goes. Threads
        a stage starts itself (a thread pool, a codec's threads) are not included.

    Raises
    ------
    BaseException
        The first exception raised by the source, a stage or a sink, or a
        ``KeyboardInterrupt`` received by the calling thread, after every thread
        has stopped.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1; got {depth}")
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def fail(exc: BaseException) -> None:
        with lock:
            if errors:
                logger.debug("%s: a later error after the first one", name, exc_info=exc)
            else:
                errors.append(exc)
        stop.set()

    n_links = len(stages) + 1  # source -> stage 1 -> ... -> last stage -> sinks
    links: list[_Fanout] = []
    inputs: list[_Channel | None] = [None]
    for i in range(n_links):
        if i < len(stages):
            channel = _Channel(depth, stop)
            links.append(_Fanout([channel]))
            inputs.append(channel)
        else:
            sink_channels = [_Channel(depth, stop) for _ in sinks]
            links.append(_Fanout(sink_channels))

    def feed() -> None:
        _pump(source, links[0])

    def make_stage(i: int) -> Callable[[], None]:
        stage, channel, out = stages[i], inputs[i + 1], links[i + 1]
        assert channel is not None

        def run() -> None:
            try:
                _pump(stage(iter(channel)), out)
            finally:
                channel.closed = True

        return run

    def make_sink(sink: Sink, channel: _Channel) -> Callable[[], None]:
        def run() -> None:
            try:
                sink(iter(channel))
            finally:
                channel.closed = True

        return run

    def guarded(label: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            t0 = time.thread_time()
            try:
                target()
            except Cancelled:
                pass
            except BaseException as exc:
                fail(exc)
            finally:
                if cpu_seconds is not None:
                    cpu_seconds[label] = time.thread_time() - t0

        return run

    targets = [("source", feed)]
    targets += [(f"stage-{i + 1}", make_stage(i)) for i in range(len(stages))]
    sink_channels = links[-1]._channels
    targets += [
        (f"sink-{j + 1}", make_sink(s, c))
        for j, (s, c) in enumerate(zip(sinks, sink_channels, strict=True))
    ]
    threads = [
        threading.Thread(target=guarded(label, t), name=f"{name}-{label}", daemon=True)
        for label, t in targets
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(POLL)
    except BaseException as exc:  # KeyboardInterrupt (or SIGTERM turned into one)
        fail(exc)
    finally:
        stop.set()
        _join_all(threads, join_timeout, name)
    if errors:
        raise errors[0]


def _pump(items: Iterable[Any], out: _Fanout) -> None:
    """Put every item of ``items`` to ``out``, then the end mark; close ``items``."""
    iterator = iter(items)
    try:
        for item in iterator:
            out.put(item)
        out.end()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _join_all(threads: Sequence[threading.Thread], timeout: float, name: str) -> None:
    end = time.monotonic() + timeout
    for thread in threads:
        while thread.is_alive() and time.monotonic() < end:
            try:
                thread.join(POLL)
            except KeyboardInterrupt:  # a second Ctrl-C while stopping: keep stopping
                continue
        if thread.is_alive():
            logger.warning("%s: thread %s still busy after %.0f s", name, thread.name, timeout)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` like Ctrl-C does.

    ``docker stop``, systemd and cluster schedulers send SIGTERM, whose default action
    kills the process at once and leaves temporary outputs behind; turned into
    ``KeyboardInterrupt``, it unwinds every ``with`` block and ``finally`` clause,
    which remove them. The previous handler is restored on exit. Outside the main
    thread (where Python cannot install signal handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (AttributeError, ValueError):  # pragma: no cover - no SIGTERM here
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
