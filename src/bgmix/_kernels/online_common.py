"""Helpers shared by the online mixture kernels (``online_mog``, ``online_mog2``,
``online_gmm_full``).

The kernels process a band of rows in tiles of consecutive pixels (rows are
contiguous in every state plane), each in *passes*: simple loops over the pixels of
the tile that LLVM vectorises (16 float32 lanes with AVX-512), with
branch-free selects instead of ``if``. Rare per-pixel events (a new component, a
component moving up the ranking, the shadow test) are handled afterwards by a scalar
scan of the tile. All loops are compiled with ``error_model="numpy"`` so that a
division cannot raise (raising would stop the vectoriser).

Band kernels
------------
Each method has one entry point, ``mog_rows``, ``mog2_rows`` and ``gmm_full_rows``,
with one signature, ``kernel(y0, y1, frame, state, mask, prm)``:

* ``y0, y1`` (int, IN): the band of rows ``[y0, y1)``;
* ``frame`` ((H, W, C) uint8 or float32 ndarray, C-contiguous, C in {1, 3}, IN): the
  sample on the 0–255 scale;
* ``state`` (the method's named tuple of C-contiguous arrays, IN/OUT): the model,
  updated in place;
* ``mask`` ((H, W) uint8 ndarray, OUT): 0 background, 255 foreground (and the
  shadow value for ``mog2``);
* ``prm`` (the method's named tuple of scalars, IN): the frame's parameters.

A kernel classifies and updates its band only, and releases the GIL, so that
:func:`bgmix._threads.run_bands` runs bands of rows on several threads.

The stop-and-stay *hold* (shared by every online subtractor): each pixel has a
counter of consecutive frames in which it was not background; while the counter is
at most ``hold_frames``, the pixel's model is left untouched (selective update), so
an object that stops is not absorbed into the background before ``hold_frames``
frames have passed.
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit

__all__ = ["EPS32", "hold_update", "load_row", "sel"]

#: float32 machine epsilon (OpenCV's FLT_EPSILON).
EPS32 = np.float32(np.finfo(np.float32).eps)


@njit(inline="always")
def sel(cond, a, b):
    """Branch-free ``a if cond else b`` (LLVM turns it into a select)."""
    return a if cond else b


@njit(cache=True, error_model="numpy")
def hold_update(bg, hold_row, held, hold_frames):
    """Advance the consecutive-foreground counters of a tile and flag held pixels.

    Parameters
    ----------
    bg : (N,) int32 ndarray
        1 where the pixel was classified background in this frame, else 0.
    hold_row : (N,) uint16 ndarray
        Counters, updated in place: reset to 0 on background, else incremented
        (saturating at 65535).
    held : (N,) int32 ndarray
        Output: 1 where the pixel's model must not be updated this frame.
    hold_frames : int
        Pixels stay held while their counter is at most this.
    """
    lim = np.int32(hold_frames)
    for x in range(bg.shape[0]):
        c = np.int32(hold_row[x])
        fg = bg[x] == np.int32(0)
        c = sel(fg, min(c + np.int32(1), np.int32(65535)), np.int32(0))
        hold_row[x] = np.uint16(c)
        held[x] = sel(fg & (c <= lim), np.int32(1), np.int32(0))


@njit(cache=True, error_model="numpy")
def load_row(fl, nch, p0, p1, p2):
    """De-interleave a run of frame pixels into float32 channel arrays.

    Parameters
    ----------
    fl : (N * C,) uint8 or float32 ndarray
        N consecutive pixels of the frame, flattened (``frame.reshape(-1)[a:b]``).
    nch : {1, 3}
        Channels (a compile-time literal).
    p0, p1, p2 : (N,) float32 ndarray
        Outputs; ``p1`` and ``p2`` are not written for grey rows.
    """
    literally(nch)
    if nch == 3:
        for x in range(p0.shape[0]):
            p0[x] = np.float32(fl[3 * x])
            p1[x] = np.float32(fl[3 * x + 1])
            p2[x] = np.float32(fl[3 * x + 2])
    else:
        for x in range(p0.shape[0]):
            p0[x] = np.float32(fl[x])
