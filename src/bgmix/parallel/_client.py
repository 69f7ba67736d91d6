"""Where units of work run: in this process, or on a Dask cluster.

:class:`Runner` takes ``None`` (run every unit here, one after the other), a
``distributed.Client``, a scheduler address (``"tcp://host:8786"``), ``"local"`` (a
``LocalCluster`` with one single-threaded worker process per CPU) or ``"local:N"`` (N
worker processes; with at most one per CPU, each is pinned to a CPU of its own). Units
are plain functions of one small ``dict`` (paths and parameters) that return a small
``dict``; they read their inputs and publish their outputs themselves, so no frame
passes through the scheduler or the client.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bgmix.exceptions import BgmixError, ParameterError

__all__ = ["ExtraNotInstalledError", "Runner", "SchedulerError", "parse_scheduler"]

log = logging.getLogger(__name__)

#: Seconds to wait for a remote scheduler before giving up.
CONNECT_TIMEOUT = 5.0

_LOCAL = re.compile(r"local(?::(\d+))?")


class SchedulerError(BgmixError, ConnectionError):
    """The Dask scheduler cannot be reached or the cluster cannot be started."""


class ExtraNotInstalledError(BgmixError, ImportError):
    """An optional dependency (here Dask's ``distributed``) is not installed."""


def parse_scheduler(spec: Any) -> tuple[str, Any]:
    """Classify a ``scheduler`` argument.

    Returns
    -------
    ("none", None), ("client", Client), ("local", n_workers or None) or ("address", str)

    Examples
    --------
    >>> parse_scheduler("local:3"), parse_scheduler("local"), parse_scheduler(None)
    (('local', 3), ('local', None), ('none', None))
    >>> parse_scheduler("tcp://10.0.0.5:8786")
    ('address', 'tcp://10.0.0.5:8786')
    """
    if spec is None:
        return "none", None
    if isinstance(spec, str):
        text = spec.strip()
        m = _LOCAL.fullmatch(text)
        if m:
            n = None if m.group(1) is None else int(m.group(1))
            if n == 0:
                raise ParameterError("scheduler 'local:0': give at least one worker process")
            return "local", n
        if not text or text.startswith("local"):
            raise ParameterError(
                f"scheduler {spec!r}: expected a scheduler address (tcp://host:8786), "
                "'local' or 'local:N'"
            )
        return "address", text
    if type(spec).__name__ == "Client" and hasattr(spec, "submit"):
        return "client", spec
    raise ParameterError(
        "scheduler must be None, a distributed.Client, an address, 'local' or 'local:N'; "
        f"got {type(spec).__name__}"
    )


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExtraNotInstalledError(
            "running on a cluster needs Dask: pip install 'bgmix[distributed]'"
        ) from None
    return distributed


@contextmanager
def _client(spec: Any, *, timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A connected ``distributed.Client`` for ``spec``; a cluster or client made here is
    closed on exit, one given is left open."""
    kind, value = parse_scheduler(spec)
    if kind == "client":
        yield value
        return
    distributed = _import_distributed()
    if kind == "address":
        try:
            client = distributed.Client(value, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {value!r} within {timeout:g} s "
                f"({reason[:160]})"
            ) from None
        with client:
            yield client
        return
    import dask

    from bgmix._threads import available_cpus

    n = value or available_cpus()
    # Dask's statistical profiler samples the stacks of every thread of a worker 100
    # times a second: 10-15 % of a segment task's CPU time, measured; nobody reads it.
    # Dask's nanny also sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off
    # glibc's adaptive mmap threshold: every frame-sized array is then mmap'ed and
    # unmapped, page faults and all (system time 0.27 s -> 2.27 s for 600 frames of
    # a 320x240 segment, 5.6 s of user time). A value the user exported is kept. The
    # workers get the bgmix script's allocator settings instead (_allocator_plugin).
    config = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    }
    with dask.config.set(config):
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            client.register_plugin(_allocator_plugin(distributed), name="bgmix-allocator")
            cpus = _cpus()
            if cpus is not None and n <= len(cpus):
                client.register_plugin(_pin_plugin(distributed, cpus), name="bgmix-pin")
            yield client
    finally:
        cluster.close()


def _cpus() -> list[int] | None:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return None


def pin_process(cpu: int) -> None:
    """Run every thread of this process, and those it starts later, on CPU ``cpu``.

    A single-threaded worker of a local cluster is given one CPU: its task's decoder,
    encoder and pipeline threads (FFmpeg and x264 size their thread pools by the CPUs
    the process may use) then share that CPU instead of taking the other workers'.
    """
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:  # a thread that ended meanwhile
            pass


def _allocator_plugin(distributed: Any) -> Any:
    """A worker plugin giving the worker process the ``bgmix`` script's allocator
    settings (:func:`bgmix._allocator.tune_allocator`): frame-sized arrays are reused
    instead of handed back to the system after every frame."""

    class TuneAllocator(distributed.WorkerPlugin):
        def setup(self, worker: Any) -> None:
            from bgmix._allocator import tune_allocator

            tune_allocator()

    return TuneAllocator()


def _pin_plugin(distributed: Any, cpus: list[int]) -> Any:
    """A worker plugin giving the worker named ``i`` (a LocalCluster names its workers
    0, 1, ...) the CPU ``cpus[i]``."""

    class PinToCpu(distributed.WorkerPlugin):
        def setup(self, worker: Any) -> None:
            if isinstance(worker.name, int):
                pin_process(cpus[worker.name % len(cpus)])

    return PinToCpu()


class Runner:
    """Run units of work here or on a Dask cluster.

    Parameters
    ----------
    scheduler : None, distributed.Client, str
        ``None``: in this process. A ``Client``: on its cluster (left open). An address:
        connect to that scheduler. ``"local"`` / ``"local:N"``: start a ``LocalCluster``
        of single-threaded worker processes (one per CPU, or N) for the run.
    progress : bool
        Report finished units on stderr.

    Attributes
    ----------
    stats : dict
        ``tasks`` submitted, ``bytes_sent`` (pickled size of the submitted functions
        and arguments: what the client sends to the scheduler), ``startup_seconds``.

    Notes
    -----
    Tasks may run more than once (a worker that dies mid-task has its tasks run again
    elsewhere), so every unit is idempotent: it writes under temporary names and
    renames its outputs into place when complete.
    """

    def __init__(self, scheduler: Any = None, *, progress: bool = False) -> None:
        self.kind, _ = parse_scheduler(scheduler)
        self._spec = scheduler
        self._progress = progress
        self._ctx: Any = None
        self.client: Any = None
        self.stats: dict[str, Any] = {"tasks": 0, "bytes_sent": 0, "startup_seconds": 0.0}

    @property
    def distributed(self) -> bool:
        """Whether units run on a Dask cluster."""
        return self.kind != "none"

    def __enter__(self) -> Runner:
        if self.distributed:
            t0 = time.perf_counter()
            self._ctx = _client(self._spec)
            self.client = self._ctx.__enter__()
            self.stats["startup_seconds"] = time.perf_counter() - t0
            log.info("Dask cluster: %s", self.client)
        return self

    def __exit__(self, *exc: Any) -> None:
        ctx, self._ctx, self.client = self._ctx, None, None
        if ctx is not None:
            ctx.__exit__(*exc)

    def map(
        self,
        fn: Callable[[dict[str, Any]], dict[str, Any]],
        units: Sequence[dict[str, Any]],
        *,
        desc: str = "units",
        cost: Sequence[float] | None = None,
    ) -> list[dict[str, Any]]:
        """``[fn(u) for u in units]``, here or on the cluster; results in unit order.

        With ``cost`` (an estimate per unit, any unit of measure), the cluster starts the
        costliest units first (longest processing time first: the last unit to finish
        is a short one, so the workers finish close together).

        An exception raised by a unit is raised here (the first one; the other units
        are cancelled). Ctrl-C cancels the units still queued or running.
        """
        from bgmix._progress import progress_bar

        units = list(units)
        if not units:
            return []
        bar = progress_bar(len(units), desc, enabled=self._progress, unit="unit")
        try:
            if not self.distributed:
                out = []
                for u in units:
                    out.append(fn(dict(u, threads=None)))
                    bar.update(1)
                return out
            return self._map_cluster(fn, units, bar, cost)
        finally:
            bar.close()

    def _map_cluster(
        self, fn: Callable, units: list[dict[str, Any]], bar: Any, cost: Sequence[float] | None
    ) -> list:
        import cloudpickle
        from distributed import as_completed

        order = list(range(len(units)))
        if cost is not None:
            order.sort(key=lambda i: -cost[i])
        futures: list[Any] = [None] * len(units)
        for rank, i in enumerate(order):
            u = dict(units[i], threads=1)
            payload = cloudpickle.dumps((fn, u), protocol=pickle.HIGHEST_PROTOCOL)
            self.stats["bytes_sent"] += len(payload)
            futures[i] = self.client.submit(fn, u, pure=False, priority=len(units) - rank)
        self.stats["tasks"] += len(futures)
        try:
            for future in as_completed(futures, loop=self.client.loop):
                if future.status == "error":
                    future.result()  # raises the unit's exception here
                bar.update(1)
            return self.client.gather(futures)
        except BaseException as exc:
            self.client.cancel(futures)
            if isinstance(exc, KeyboardInterrupt) and self.kind == "local":
                self._stop_and_sweep(units)
            raise

    def _stop_and_sweep(self, units: list[dict[str, Any]]) -> None:
        """Ctrl-C on a cluster started here: stop its workers (tasks die mid-write),
        then remove the temporary outputs they leave. A remote cluster's running
        tasks finish on their own: their outputs appear complete or not at all."""
        from pathlib import Path

        from bgmix.parallel._manifest import remove_stale

        self.__exit__(None, None, None)
        for u in units:
            for key in ("out", "part"):
                if isinstance(u.get(key), str):
                    remove_stale(Path(u[key]))
