"""Vectorised passes of the ``mog2`` kernel (see :mod:`bgmix._kernels.online_mog2`).

Each function is one loop over a tile of consecutive pixels, written with branch-free
selects so that LLVM vectorises it; the arithmetic is OpenCV's, in float32 and in
OpenCV's order. One pass, :func:`component_pass`, handles component ``mi`` of every
pixel of the tile, both for the update and (``write=False``) for the read-only
classification that the stop-and-stay hold needs first.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import literally, njit, types
from numba.extending import intrinsic

from bgmix._kernels.online_common import EPS32, sel
from bgmix._kernels.online_params import MOG2Params

__all__ = [
    "HELD",
    "MOG2Params",
    "Plane",
    "Tile",
    "component_pass",
    "finish_pass",
    "first_byte",
    "in_use_ranges",
    "inverse_total",
    "renorm_pass",
    "start_classify",
    "start_update",
    "todo_bits",
]

F32 = np.float32
I32 = np.int32
U8 = np.uint8
U64 = np.uint64

#: ``fitm`` value of a pixel whose model is frozen by the hold.
HELD = I32(1 << 20)


class Plane(NamedTuple):
    """Component ``m``'s state over a tile of N pixels (views into the model, IN/OUT).

    ``w``, ``v`` (N,) float32 weight and variance; ``m0``, ``m1``, ``m2`` (N,) float32
    mean per channel (``m1``, ``m2`` repeat ``m0`` for one channel); ``wp`` (N,)
    float32 IN: component ``m - 1``'s weight as its pass left it (``w`` for ``m = 0``).
    """

    w: np.ndarray
    v: np.ndarray
    m0: np.ndarray
    m1: np.ndarray
    m2: np.ndarray
    wp: np.ndarray


class Tile(NamedTuple):
    """Per-tile scratch of N pixels (IN/OUT of every pass).

    ``p0``, ``p1``, ``p2`` float32 sample per channel (``p1``, ``p2`` repeat ``p0``
    for one channel); ``nmc`` int32 components in use after pruning; ``total`` float32
    sum of the updated weights, then its inverse; ``bg`` int32 1 where background;
    ``fitm`` int32 -1 while no component matched, then 0 if the match is settled by
    the passes (the first component, or a later one that keeps its rank) or the index
    of a later component that must move up past heavier ones (left to the scalar
    scan), :data:`HELD` for pixels frozen by the hold; ``fitw`` float32 the matched
    component's weight before renormalising (set for the later components only: the
    scan reads it where ``fitm > 0``); ``held`` int32 1 where the hold freezes
    the pixel; ``todo`` uint8 1 where the scalar scan must visit the pixel (set by
    :func:`finish_pass`) and ``todo_words`` uint64 the same bytes eight at a time
    (``ceil(N / 8)`` of them; bytes past ``N`` are stale), read by :func:`todo_bits`;
    ``lo``, ``hi`` (K,) int64: component ``m`` is in use only at the tile's pixels
    ``[lo[m], hi[m])``, the range its passes run over (:func:`in_use_ranges`).
    """

    p0: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    nmc: np.ndarray
    total: np.ndarray
    bg: np.ndarray
    fitm: np.ndarray
    fitw: np.ndarray
    held: np.ndarray
    todo: np.ndarray
    todo_words: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


@njit(cache=True, error_model="numpy")
def start_update(nmr, t):
    """Reset the tile's scratch for the update; returns its largest ``nmodes``.

    ``nmr`` (N,) uint8 IN: components in use per pixel. Held pixels get no components
    (``nmc`` 0) and ``fitm`` :data:`HELD`, so no pass touches their model.
    """
    maxnm = I32(0)
    for x in range(nmr.shape[0]):
        n0 = I32(nmr[x])
        maxnm = max(maxnm, n0)
        free = t.held[x] == I32(0)
        t.nmc[x] = sel(free, n0, I32(0))
        t.total[x] = F32(0.0)
        t.bg[x] = I32(0)
        t.fitm[x] = sel(free, I32(-1), HELD)
    return maxnm


@njit(cache=True, error_model="numpy")
def start_classify(nmr, t):
    """Reset the tile's scratch for the read-only classification; returns the largest
    ``nmodes``. Pixels without a model count as background (they are never held)."""
    maxnm = I32(0)
    for x in range(nmr.shape[0]):
        n0 = I32(nmr[x])
        maxnm = max(maxnm, n0)
        t.nmc[x] = n0
        t.total[x] = F32(0.0)
        t.bg[x] = sel(n0 == I32(0), I32(1), I32(0))
        t.fitm[x] = I32(-1)
    return maxnm


@njit(cache=True, error_model="numpy")
def in_use_ranges(nmr, maxnm, t):
    """Fill ``t.lo``, ``t.hi`` for components ``0 .. maxnm - 1`` from ``nmr`` (N,)
    uint8 IN, the components in use per pixel: ``[lo[m], hi[m])`` is the smallest
    range of the tile's pixels holding every pixel with more than ``m`` components.

    The higher components are in use at few pixels, often close together (a moving
    edge, a flickering light): on street footage at 1080p, running every pass over
    the whole tile would take 3.6 pixel-passes a pixel for 1.5 components in use;
    these ranges take 2.6. A pass over a pixel where its component is not in use
    changes nothing, so the ranges only skip work.
    """
    n = nmr.shape[0]
    t.lo[0] = 0
    t.hi[0] = n
    # A pixel with more than m components has more than m - 1: each range is searched
    # within the previous one, in 32-bit lanes.
    lo = np.uint64(0)
    hi = np.uint64(n)
    for m in range(1, maxnm):
        mm = U8(m)
        mlo = I32(n)
        mhi = I32(-1)
        for x in range(lo, hi):
            used = nmr[x] > mm
            mlo = min(mlo, sel(used, I32(x), I32(n)))
            mhi = max(mhi, sel(used, I32(x), I32(-1)))
        t.lo[m] = mlo
        t.hi[m] = mhi + 1
        lo = np.uint64(mlo)
        hi = np.uint64(max(mhi + 1, mlo))


@njit(inline="always")
def _tile_range(t, mi):
    """``range(t.lo[mi], t.hi[mi])`` with unsigned indices: a signed index that may be
    negative gets Python's wrap-around at every access, which stops LLVM from
    vectorising the loop."""
    return range(np.uint64(t.lo[mi]), np.uint64(t.hi[mi]))


@njit(inline="always")
def _sq_dist(nch, c, t, x):
    """``(|mu - x|^2, mu_0 - x_0, mu_1 - x_1, mu_2 - x_2)`` of pixel ``x``, OpenCV's sum order."""
    d0 = c.m0[x] - t.p0[x]
    dist2 = d0 * d0
    d1 = F32(0.0)
    d2 = F32(0.0)
    if nch == 3:
        d1 = c.m1[x] - t.p1[x]
        d2 = c.m2[x] - t.p2[x]
        dist2 = dist2 + d1 * d1 + d2 * d2
    return dist2, d0, d1, d2


@njit(cache=True, error_model="numpy")
def component_pass(mi, nch, write, c, t, p):
    """Component ``mi`` of every pixel of a tile: background test, match, update.

    Parameters
    ----------
    mi : int32
        IN: the component (the passes run for ``mi = 0, 1, ...`` in order).
    nch : literal int
        IN: channels (1 or 3).
    write : literal bool
        IN: update the model (``c``, and ``t.fitw`` for a later component); False
        only classifies.
    c : Plane
        IN/OUT: component ``mi``'s planes over the tile.
    t : Tile
        IN/OUT: ``nmc``, ``total``, ``bg``, ``fitm`` (and ``fitw`` when writing).
    p : MOG2Params
        IN.

    Notes
    -----
    Most pixels match the first component (street footage at 1080p: 88 % the first,
    8 % a later one, 2 % none), whose mean and variance are rewritten whole. A later
    component's are stored only where it matched (masked vector stores), so its
    planes stay clean in the cache where nothing matched and are not written back to
    memory. A later match whose weight stays below the component above it
    (``fitw < wp``: OpenCV's sort loop stops at once) is then settled (``fitm`` 0);
    one that must move up is left to the scalar scan of the tile
    (:mod:`bgmix._kernels.online_mog2`), which swaps it into place and renormalises.
    """
    literally(nch)
    literally(write)
    if write and mi == I32(0):
        _pass(mi, nch, True, FIRST, c, t, p)
    elif write:
        _pass(mi, nch, True, LATER, c, t, p)
    else:
        _pass(mi, nch, False, NONE, c, t, p)


#: ``moments`` of :func:`_pass`: no mean/variance update (classification), the first
#: component's (every pixel's planes rewritten), a later component's (stored only
#: where it matched).
NONE, FIRST, LATER = 0, 1, 2


@njit(inline="always")
def _pass(mi, nch, write, moments, c, t, p):
    """:func:`component_pass` with ``moments`` (:data:`NONE`, :data:`FIRST` or
    :data:`LATER`): how the matched pixels' mean and variance are updated."""
    alpha = p.alpha
    alpha1 = F32(1.0) - alpha
    mprune = -p.prune
    for x in _tile_range(t, mi):
        act = mi < t.nmc[x]
        wold = c.w[x]
        wgt = alpha1 * wold + p.prune
        fm = t.fitm[x]
        check = act & (fm < I32(0))
        vv = c.v[x]
        dist2, d0, d1, d2 = _sq_dist(nch, c, t, x)
        t.bg[x] = sel(check & (t.total[x] < p.tbr) & (dist2 < p.tb * vv), I32(1), t.bg[x])
        fit = check & (dist2 < p.tg * vv)
        wgt = sel(fit, wgt + alpha, wgt)
        if moments == LATER:
            # settled (0) unless it outweighs the component above: then the scan moves it
            t.fitm[x] = sel(fit, sel(wgt < c.wp[x], I32(0), mi), fm)
        else:
            t.fitm[x] = sel(fit, mi, fm)
        pr = act & (wgt < mprune)
        t.nmc[x] = sel(pr, t.nmc[x] - I32(1), t.nmc[x])
        if moments == FIRST:
            k = alpha / wgt
            c.m0[x] = sel(fit, c.m0[x] - k * d0, c.m0[x])
            if nch == 3:
                c.m1[x] = sel(fit, c.m1[x] - k * d1, c.m1[x])
                c.m2[x] = sel(fit, c.m2[x] - k * d2, c.m2[x])
            vn = min(max(vv + k * (dist2 - vv), p.var_min), p.var_max)
            c.v[x] = sel(fit, vn, vv)
        elif moments == LATER:
            k = alpha / wgt
            vn = min(max(vv + k * (dist2 - vv), p.var_min), p.var_max)
            if fit:
                c.m0[x] = c.m0[x] - k * d0
                if nch == 3:
                    c.m1[x] = c.m1[x] - k * d1
                    c.m2[x] = c.m2[x] - k * d2
                c.v[x] = vn
            t.fitw[x] = sel(fit, wgt, t.fitw[x])
        wgt = sel(pr, F32(0.0), wgt)
        if write:
            c.w[x] = sel(act, wgt, wold)
        t.total[x] += sel(act, wgt, F32(0.0))


@njit(cache=True, error_model="numpy")
def renorm_pass(mi, wr, t):
    """Renormalise component ``mi`` (``wr`` (N,) float32 IN/OUT) by ``t.total`` (the
    inverse sums). Pixels whose matched component must move up the ranking first
    (``fitm > 0``) are renormalised after the move, by the scalar scan of
    :mod:`bgmix._kernels.online_mog2`."""
    for x in _tile_range(t, mi):
        keep = (mi < t.nmc[x]) & (t.fitm[x] <= I32(0))
        wr[x] = sel(keep, wr[x] * t.total[x], wr[x])


@njit(cache=True, error_model="numpy")
def inverse_total(total):
    """``total`` (N,) float32 IN/OUT: ``1 / total`` (0 where ``|total| <= eps``)."""
    for x in range(total.shape[0]):
        s = total[x]
        total[x] = sel(abs(s) > EPS32, F32(1.0) / s, F32(0.0))


@njit(cache=True, error_model="numpy")
def finish_pass(nmr, mr, t):
    """Store the components in use (``nmr`` (N,) uint8 OUT, held pixels kept) and the
    mask (``mr`` (N,) uint8 OUT: 0 background, 255 foreground), and mark in
    ``t.todo`` the pixels the scalar scan must visit: a match that must move up
    (``0 < fitm <`` :data:`HELD`), no match (``fitm < 0``: a new component) or not
    background (the shadow test). About one pixel in fifteen on street footage."""
    for x in range(nmr.shape[0]):
        fm = t.fitm[x]
        bg = t.bg[x] != I32(0)
        nmr[x] = sel(fm == HELD, nmr[x], U8(t.nmc[x]))
        mr[x] = sel(bg, U8(0), U8(255))
        t.todo[x] = sel(((fm != I32(0)) & (fm != HELD)) | ~bg, U8(1), U8(0))


@njit(inline="always")
def todo_bits(t, wi):
    """Word ``wi`` of ``t.todo_words`` with the bytes past the tile's end cleared: a
    nonzero byte per pixel to visit. The scan skips zero words (eight pixels with
    nothing to do) and finds the others' pixels with :func:`first_byte`. Byte ``i``
    of the tile is bits ``8i .. 8i + 7`` of its word: little-endian, as on every
    platform Numba supports (x86-64, AArch64, POWER little-endian)."""
    word = t.todo_words[wi]
    tail = t.todo.shape[0] - wi * 8
    if tail < 8:
        word &= (U64(1) << U64(8 * tail)) - U64(1)
    return word


@njit(inline="always")
def first_byte(word):
    """Index (0-7) of the first nonzero byte of a nonzero ``word`` from
    :func:`todo_bits` (whose bytes are 0 or 1), and the word with that byte cleared."""
    return np.int64(_cttz(word)) >> 3, word & (word - U64(1))


@intrinsic
def _cttz(typingctx, word):
    """Trailing zero bits of a nonzero uint64 (LLVM's ``cttz``: one instruction)."""
    if word != types.uint64:
        return None

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return types.uint64(types.uint64), codegen
