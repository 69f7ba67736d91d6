"""Exact per-pixel medians over a block of frames.

``data[t, r, j, c]`` of shape ``(T, R, W, C)``; the median of every ``(r, j, c)`` over
``t`` is written to ``out[r, j, c]`` (float32), with NumPy's convention for an even
count (the mean of the two middle values). uint8 data use a 256-bin counting pass per
pixel (exact, O(T + 256), no sort); float data sort a copy of each pixel's samples.
Parallel over rows; no validation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._threads import run_bands

__all__ = ["median"]


@njit(cache=True, nogil=True)
def _median_u8_rows(r0, r1, data, out):
    """Rows ``[r0, r1)`` of :func:`median` for uint8 data (IN ``r0, r1``: the row band; the
    other arguments are :func:`median`'s)."""
    T, _R, W, C = data.shape
    lo_rank = (T - 1) // 2  # 0-based ranks of the two middle samples
    hi_rank = T // 2
    for r in range(r0, r1):
        hist = np.zeros(256, np.int32)
        for j in range(W):
            for c in range(C):
                hist[:] = 0
                for t in range(T):
                    hist[data[t, r, j, c]] += 1
                cum = 0
                lo = -1
                hi = -1
                for v in range(256):
                    cum += hist[v]
                    if lo < 0 and cum > lo_rank:
                        lo = v
                    if cum > hi_rank:
                        hi = v
                        break
                out[r, j, c] = 0.5 * (lo + hi)


@njit(cache=True, nogil=True)
def _median_float_rows(r0, r1, data, out):
    """Rows ``[r0, r1)`` of :func:`median` for float data (IN ``r0, r1``: the row band; the
    other arguments are :func:`median`'s)."""
    T, _R, W, C = data.shape
    lo_rank = (T - 1) // 2
    hi_rank = T // 2
    for r in range(r0, r1):
        buf = np.empty(T, np.float64)
        for j in range(W):
            for c in range(C):
                for t in range(T):
                    buf[t] = data[t, r, j, c]
                buf.sort()
                out[r, j, c] = 0.5 * (buf[lo_rank] + buf[hi_rank])


# --------------------------------------------------------------------------- drivers
def median(data, out, *, n_threads=1):
    """Exact per-pixel median of ``data`` over its first axis, in place into ``out``.

    uint8 samples are counted (:func:`_median_u8_rows`), other dtypes sorted
    (:func:`_median_float_rows`, NumPy's ``median``).

    Parameters
    ----------
    data : (T, R, W, C) uint8 or float array
        IN: the samples.
    out : (R, W, C) float32 array
        OUT: the medians.
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    kernel = _median_u8_rows if data.dtype == np.uint8 else _median_float_rows
    run_bands(kernel, data.shape[1], n_threads, data, out)
