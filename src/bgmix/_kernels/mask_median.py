"""Median filter of a three-level mask by counting.

A subtractor's mask holds at most three values: 0, 255 and one shadow value ``s``
(0 < s < 255). The median of the ``n = k * k`` values of a window is at least ``v``
exactly when at least ``(n + 1) / 2`` of them are, so with

    ``a`` = number of 255s in the window,   ``b`` = number of non-zero values,

the median is 255 if ``a >= (n + 1) / 2``, else ``s`` if ``b >= (n + 1) / 2``, else 0.
Both counts are box sums of indicator images, separable into a vertical and a
horizontal sum of ``k`` terms, which vectorise; a sorting network (OpenCV's
``medianBlur`` for ``k = 5``) needs about a hundred min/max operations a pixel.
The column counts slide down one row at a time (one row added, one removed), the row
sums are ``k`` shifted adds, all in byte lanes. Borders replicate the edge rows and
columns, as ``cv2.medianBlur`` does, so the result is the same bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._kernels.online_common import sel

__all__ = ["median_three_level"]

U8 = np.uint8


@njit(cache=True, nogil=True, error_model="numpy")
def median_three_level(mask, out, k):
    """The ``k`` x ``k`` median of ``mask`` into ``out``.

    Parameters
    ----------
    mask : (H, W) uint8 ndarray
        IN: the mask.
    out : (H, W) uint8 ndarray
        OUT: the filtered mask, written when the function returns True.
    k : int
        IN: the window's side, odd, 3 to 15 (the counts are bytes: at most 225).

    Returns
    -------
    bool
        False, with ``out`` untouched, when ``mask`` holds two different values other
        than 0 and 255: the counting does not apply (use a general median).
    """
    h, w = mask.shape
    r = k // 2
    # unsigned indices: a signed one gets Python's negative wrap-around at every
    # access, which stops LLVM from vectorising the loops
    uw = np.uint64(w)
    ur = np.uint64(r)
    # The shadow value: the mask must hold at most one value other than 0 and 255.
    lo = U8(255)
    hi = U8(0)
    for y in range(h):
        row = mask[y]
        for x in range(uw):
            v = row[x]
            mid = (v != U8(0)) & (v != U8(255))
            lo = min(lo, sel(mid, v, U8(255)))
            hi = max(hi, sel(mid, v, U8(0)))
    if hi != U8(0) and lo != hi:
        return False
    s = hi
    half = U8((k * k + 1) // 2)
    # column counts of the window's rows (255s, non-zeros), edge columns replicated
    va = np.zeros(w + 2 * r, np.uint8)
    vb = np.zeros(w + 2 * r, np.uint8)
    ha = np.empty(w, np.uint8)
    hb = np.empty(w, np.uint8)
    for dy in range(-r, r + 1):
        _count_row(mask[min(max(dy, 0), h - 1)], va, vb, ur, uw, U8(1))
    for y in range(h):
        if y > 0:  # slide the window down one row
            _count_row(mask[min(y + r, h - 1)], va, vb, ur, uw, U8(1))
            _count_row(mask[max(y - r - 1, 0)], va, vb, ur, uw, U8(255))
        for x in range(r):
            va[x] = va[r]
            vb[x] = vb[r]
            va[r + w + x] = va[r + w - 1]
            vb[r + w + x] = vb[r + w - 1]
        # row sums of k column counts, one shifted add at a time; Numba adds bytes as
        # 64-bit integers, and truncating the sums (which fit a byte) lets LLVM add in
        # 64 byte lanes
        for x in range(uw):
            ha[x] = va[x]
            hb[x] = vb[x]
        for dx in range(np.uint64(1), np.uint64(k)):
            for x in range(uw):
                ha[x] = U8(ha[x] + va[x + dx])
                hb[x] = U8(hb[x] + vb[x + dx])
        orow = out[y]
        for x in range(uw):
            orow[x] = sel(ha[x] >= half, U8(255), sel(hb[x] >= half, s, U8(0)))
    return True


@njit(inline="always")
def _count_row(row, va, vb, ur, uw, sign):
    """Add (``sign`` 1) or remove (``sign`` 255: minus one modulo 256) the 255s and
    the non-zero values of ``row`` to the column counts ``va``, ``vb``."""
    for x in range(uw):
        v = row[x]
        va[ur + x] += sel(v == U8(255), sign, U8(0))
        vb[ur + x] += sel(v != U8(0), sign, U8(0))
