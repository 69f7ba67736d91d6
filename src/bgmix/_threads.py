"""The one rule for ``n_jobs``, the CPUs a process may use, and the one band runner.

Every estimator, subtractor and pipeline stage resolves its thread count here, so that
``n_jobs`` means the same everywhere (joblib's convention): ``None`` or ``-1`` every
CPU this process may run on, ``-2`` all but one, ``-k`` all but ``k - 1``, a positive
``n`` at most ``n`` (capped at the CPUs available). ``0`` is an error.

Every parallel kernel of bgmix is a serial, cached, GIL-free Numba function over a
range ``[start, stop)`` of rows, pixels or blocks; :func:`run_bands` cuts the range
into contiguous bands and runs them on one process-wide thread pool (fork-safe: a
child process starts its own). Kernels write only their own band's outputs (and
reductions go through per-block partials summed in block order), so results do not
depend on the number of threads. No ``prange``: ``parallel=True`` kernels cannot be
cached, and compiling them cost seconds at the start of every process.

Examples
--------
>>> resolve_n_jobs(1)
1
>>> resolve_n_jobs(None) == resolve_n_jobs(-1) == available_cpus()
True
"""

from __future__ import annotations

import itertools
import numbers
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bgmix.exceptions import ParameterError

__all__ = ["available_cpus", "band_edges", "check_n_jobs", "resolve_n_jobs", "run_bands"]


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_n_jobs(value: Any, *, name: str = "n_jobs") -> int | None:
    """Validate ``n_jobs``: None or a non-zero integer.

    Raises
    ------
    ParameterError
        For 0, a non-integer or a bool.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) == 0:
        raise ParameterError(
            f"{name} must be None, a positive number of threads, or -1 for every CPU "
            f"(-2 all but one, ...); got {value!r}"
        )
    return int(value)


def resolve_n_jobs(n_jobs: Any) -> int:
    """Number of threads for ``n_jobs`` (validated by :func:`check_n_jobs`), at least 1."""
    n = check_n_jobs(n_jobs)
    cpus = available_cpus()
    if n is None:
        return cpus
    if n < 0:
        return max(1, cpus + 1 + n)
    return min(n, cpus)


# --------------------------------------------------------------------------- runner
#: Bands per thread that :func:`run_bands` cuts a long enough range into.
BANDS_PER_THREAD = 4

#: Pool threads are named after this prefix (and never start bands of their own).
_THREAD_PREFIX = "bgmix-band"

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_local = threading.local()


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist there, start afresh."""
    global _pool, _pool_size, _pool_lock
    _pool = None
    _pool_size = 0
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _mark_worker() -> None:
    _local.worker = True


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process-wide pool, grown to at least ``workers`` threads (created on first
    use; a forked child process creates its own)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix=_THREAD_PREFIX, initializer=_mark_worker
            )
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def band_edges(n_items: int, n_threads: int, *, min_items: int = 1) -> list[int]:
    """Edges ``[0, e_1, ..., n_items]`` of the contiguous bands :func:`run_bands` uses.

    At most ``n_threads`` bands, each of at least ``min_items`` items (a single band
    when ``n_items < 2 * min_items``), as equal as integer division allows.

    >>> band_edges(10, 3)
    [0, 3, 6, 10]
    >>> band_edges(10, 4, min_items=4)
    [0, 5, 10]
    """
    bands = max(1, min(int(n_threads), int(n_items) // max(1, int(min_items))))
    return [(n_items * b) // bands for b in range(bands + 1)]


def run_bands(
    kernel: Callable[..., Any], n_items: int, n_threads: int, *args: Any, min_items: int = 1
) -> None:
    """Run ``kernel(start, stop, *args)`` over ``[0, n_items)`` in contiguous bands.

    The range is cut by :func:`band_edges` into up to :data:`BANDS_PER_THREAD` bands per
    thread when it is long enough (each band at least ``8 * min_items``), else one per
    thread. The calling thread and ``n_threads - 1`` threads of the process-wide pool
    take the bands in order, each the next one not yet taken, until none is left
    (dynamic scheduling: a thread slowed by another stage of a pipeline, or by another
    process, takes fewer bands instead of holding the others up). The call returns
    when all are done; the first exception of a band is raised. Nothing runs in
    parallel when there is one band, or when called from a pool thread (no nested
    pools).

    Parameters
    ----------
    kernel : callable
        ``kernel(start, stop, *args)``; must release the GIL (Numba ``nogil=True``)
        to run truly in parallel, and write only its own band's outputs, so that the
        result does not depend on the number of bands.
    n_items : int
        Rows, blocks or pixels to cover.
    n_threads : int
        Threads to use (a resolved ``n_jobs``, see :func:`resolve_n_jobs`).
    *args
        Passed on to every call.
    min_items : int, default 1
        Smallest band: below it, handing work to another thread costs more than it
        saves.
    """
    if getattr(_local, "worker", False):
        n_threads = 1
    n_threads = max(1, min(int(n_threads), int(n_items) // max(1, int(min_items))))
    if n_threads == 1:
        kernel(0, n_items, *args)
        return
    split = min(BANDS_PER_THREAD * n_threads, int(n_items) // (8 * max(1, int(min_items))))
    edges = band_edges(n_items, max(n_threads, split), min_items=min_items)
    taken = itertools.count()
    n_bands = len(edges) - 1

    def drain() -> None:
        while (b := next(taken)) < n_bands:  # next() of a count is atomic
            kernel(edges[b], edges[b + 1], *args)

    pool = _executor(n_threads - 1)
    futures = [pool.submit(drain) for _ in range(n_threads - 1)]
    try:
        drain()
    finally:
        for future in futures:
            future.result()
