"""Numba settings shared by every kernel, defined once.

``FASTMATH`` allows reassociation, contraction and approximate functions, but never
``nnan``/``ninf``: kernels must see NaN and infinity for what they are.
``parallel=True`` kernels are never cached (``cache=True`` with ``parallel=True`` is
unreliable across thread layers); serial kernels may be.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba

__all__ = ["FASTMATH", "max_threads", "num_threads"]

#: LLVM fast-math flags used by every kernel (no ``nnan``, no ``ninf``). A plain
#: ``set`` because that is what Numba's ``fastmath=`` accepts; never mutate it.
FASTMATH: set[str] = {"nsz", "arcp", "contract", "afn", "reassoc"}


def max_threads() -> int:
    """Number of threads Numba may use at most (its thread pool size)."""
    return int(numba.config.NUMBA_NUM_THREADS)


@contextlib.contextmanager
def num_threads(n_jobs: int | None) -> Iterator[int]:
    """Run the enclosed kernels on ``n_jobs`` threads (None or -1: all), then restore.

    ``numba.set_num_threads`` is thread-local and cheap, so this can wrap every call.
    """
    limit = max_threads()
    n = limit if n_jobs is None or n_jobs < 0 else max(1, min(int(n_jobs), limit))
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)
