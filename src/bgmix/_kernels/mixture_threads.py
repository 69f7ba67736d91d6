"""Spread the blocks of a serial, GIL-free, cached kernel over a pool of threads.

The mixture and k-means kernels are serial Numba functions compiled with
``nogil=True, cache=True`` that process a range of fixed-size row blocks, each block
writing its own partial results. :func:`parallel_blocks` splits the block range into
one contiguous chunk per thread and runs the chunks on a shared thread pool; since
the kernels release the GIL the chunks run truly in parallel.

Why not ``prange``: a ``parallel=True`` driver cannot be cached, and recompiling it
(LLVM re-optimises every function it calls) cost several seconds per dtype at every
start of a process, which every ``bgmix segment`` run and every test session paid.
Cached GIL-free kernels load in milliseconds instead. The block layout depends only
on the data size (never on the thread count) and partial results are summed in block
order by the caller, so results are bit-identical for any number of threads.

The number of threads is Numba's current setting (``numba.get_num_threads()``), so
:func:`bgmix._kernels._config.num_threads` (``n_jobs``) controls it as for every
other kernel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from bgmix._kernels._config import max_threads

__all__ = ["parallel_blocks", "readonly"]

_POOL: ThreadPoolExecutor | None = None
_POOL_PID = -1
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The shared pool, created on first use (and again in a forked child process,
    whose copy of the parent's pool has no threads)."""
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid():
            _POOL = ThreadPoolExecutor(
                max_workers=max(1, max_threads()), thread_name_prefix="bgmix-kernel"
            )
            _POOL_PID = os.getpid()
        return _POOL


def parallel_blocks(kernel: Callable[..., Any], n_blocks: int, *args: Any) -> None:
    """Run ``kernel(first_block, stop_block, *args)`` over ``[0, n_blocks)`` in parallel.

    The range is cut into at most ``numba.get_num_threads()`` contiguous chunks; each
    chunk runs on a pool thread (the calling thread waits). ``kernel`` must release
    the GIL (``nogil=True``) and write only to its own blocks' outputs.
    """
    n_threads = min(numba.get_num_threads(), n_blocks)
    if n_threads <= 1:
        kernel(0, n_blocks, *args)
        return
    bounds = np.linspace(0, n_blocks, n_threads + 1).round().astype(np.int64)
    pool = _pool()
    futures = [
        pool.submit(kernel, int(bounds[t]), int(bounds[t + 1]), *args)
        for t in range(n_threads)
        if bounds[t] < bounds[t + 1]
    ]
    for future in futures:
        future.result()


def readonly(X: np.ndarray) -> np.ndarray:
    """A read-only view of ``X`` (no copy).

    Kernels take ``X`` through such a view so that writable and read-only inputs
    (memory maps) share one compiled version.
    """
    view = X.view()
    view.flags.writeable = False
    return view
