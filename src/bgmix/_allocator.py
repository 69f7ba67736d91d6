"""glibc's allocator settings of the processes bgmix owns: the ``bgmix`` script's
(:func:`bgmix._cli.main`) and the worker processes of a local Dask cluster that bgmix
makes (a worker plugin, :mod:`bgmix.parallel._client`). The library never changes them
in a process it does not own.

A run allocates and frees a few frame-sized arrays a frame (the decoded image, the
mask, the filtered mask) in several threads. With glibc's defaults each thread's heap
grows, is trimmed back when the arrays are freed, and grows again for the next frame:
some 2,200 ``mprotect`` and ``madvise`` calls and 13,000 page faults more on 795
frames of 640x480 (``strace -c``), and in a virtual machine every change of mappings
also interrupts the other core. Kept, the memory is reused: a ``bgmix subtract`` run
without outputs took 3.05 instead of 3.43 s and 4.82 instead of 5.40 s of CPU at
640x480 (medians of 8 rounds in shuffled order), 13.62 instead of 14.21 s at 1080p,
for 10-21 MiB more peak memory; ``bgmix subtract --scheduler local:2`` (2,385 frames
of 640x480 in two time segments, without outputs) 13.49 instead of 14.78 s with the
workers tuned too (medians of 4 in shuffled order).
"""

from __future__ import annotations

import os
import sys

__all__ = ["MALLOC_OPTIONS", "applied", "on_glibc", "tune_allocator"]

#: glibc ``mallopt`` parameters, as (name, number, value): blocks below 32 MiB (a 4K
#: colour frame is 24 MiB) come from malloc's heaps, and a heap keeps up to 64 MiB of
#: freed memory (128 MiB before it trims) instead of giving it back at once.
MALLOC_OPTIONS = (
    ("M_MMAP_THRESHOLD", -3, 32 << 20),
    ("M_TOP_PAD", -2, 64 << 20),
    ("M_TRIM_THRESHOLD", -1, 128 << 20),
)

_applied: dict[str, int] = {}


def tune_allocator() -> dict[str, int]:
    """Set :data:`MALLOC_OPTIONS` in this process when it runs on glibc; return those set.

    A setting the user chose (``MALLOC_TOP_PAD_`` and the like in the environment, or
    ``glibc.malloc.top_pad`` in ``GLIBC_TUNABLES``) is kept. On other C libraries
    (musl, macOS, Windows) nothing is changed and ``{}`` is returned.
    """
    if not on_glibc():
        return {}
    import ctypes  # here: the script's --help need not load it

    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    done = {
        name: value
        for name, number, value in MALLOC_OPTIONS
        if not _chosen_by_user(name) and mallopt(number, value) == 1
    }
    _applied.update(done)
    return done


def applied() -> dict[str, int]:
    """The settings :func:`tune_allocator` has made in this process (``{}`` if none)."""
    return dict(_applied)


def _chosen_by_user(name: str) -> bool:
    """Whether the environment sets glibc's parameter ``name`` (``M_TOP_PAD``, ...)."""
    short = name[2:]
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return f"MALLOC_{short}_" in os.environ or f"glibc.malloc.{short.lower()}=" in tunables


def on_glibc() -> bool:
    """Whether this process runs on Linux with glibc's allocator."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError):
        return False
