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
from numba import literally, njit

from bgmix._kernels.online_common import EPS32, sel
from bgmix._kernels.online_params import MOG2Params

__all__ = [
    "HELD",
    "MOG2Params",
    "Plane",
    "Tile",
    "component_pass",
    "finish_pass",
    "inverse_total",
    "renorm_pass",
    "start_classify",
    "start_update",
    "update_moments",
]

F32 = np.float32
I32 = np.int32
U8 = np.uint8

#: ``fitm`` value of a pixel whose model is frozen by the hold.
HELD = I32(1 << 20)


class Plane(NamedTuple):
    """Component ``m``'s state over a tile of N pixels (views into the model, IN/OUT).

    ``w``, ``v`` (N,) float32 weight and variance; ``m0``, ``m1``, ``m2`` (N,) float32
    mean per channel (``m1``, ``m2`` repeat ``m0`` for one channel).
    """

    w: np.ndarray
    v: np.ndarray
    m0: np.ndarray
    m1: np.ndarray
    m2: np.ndarray


class Tile(NamedTuple):
    """Per-tile scratch of N pixels (IN/OUT of every pass).

    ``p0``, ``p1``, ``p2`` float32 sample per channel (``p1``, ``p2`` repeat ``p0``
    for one channel); ``nmc`` int32 components in use after pruning; ``total`` float32
    sum of the updated weights, then its inverse; ``bg`` int32 1 where background;
    ``fitm`` int32 -1 while no component matched, the matched component's index after,
    :data:`HELD` for pixels frozen by the hold; ``fitw`` float32 the matched
    component's weight before renormalising; ``held`` int32 1 where the hold freezes
    the pixel.
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
        IN: update the model (``c``, ``t.fitw``); False only classifies.
    c : Plane
        IN/OUT: component ``mi``'s planes over the tile.
    t : Tile
        IN/OUT: ``nmc``, ``total``, ``bg``, ``fitm`` (and ``fitw`` when writing).
    p : MOG2Params
        IN.

    Notes
    -----
    Only the first component's mean and variance are updated here, where most
    pixels match. A later component is matched by about one pixel in ten (street
    footage at 1080p: 88 % match the first, 10.6 % a later one, 1.4 % none), so its
    mean and variance are updated by the scalar scan of the tile
    (:mod:`bgmix._kernels.online_mog2`, same arithmetic): the later components' mean
    and variance planes are only read by this pass, never written back, which saves
    most of their memory traffic.
    """
    literally(nch)
    literally(write)
    if write and mi == I32(0):
        _pass(mi, nch, True, True, c, t, p)
    elif write:
        _pass(mi, nch, True, False, c, t, p)
    else:
        _pass(mi, nch, False, False, c, t, p)


@njit(inline="always")
def _pass(mi, nch, write, moments, c, t, p):
    """:func:`component_pass` with ``moments``: also update the matched pixels' mean
    and variance."""
    alpha = p.alpha
    alpha1 = F32(1.0) - alpha
    mprune = -p.prune
    for x in range(c.w.shape[0]):
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
        t.fitm[x] = sel(fit, mi, fm)
        pr = act & (wgt < mprune)
        t.nmc[x] = sel(pr, t.nmc[x] - I32(1), t.nmc[x])
        if moments:
            k = alpha / wgt
            c.m0[x] = sel(fit, c.m0[x] - k * d0, c.m0[x])
            if nch == 3:
                c.m1[x] = sel(fit, c.m1[x] - k * d1, c.m1[x])
                c.m2[x] = sel(fit, c.m2[x] - k * d2, c.m2[x])
            vn = min(max(vv + k * (dist2 - vv), p.var_min), p.var_max)
            c.v[x] = sel(fit, vn, vv)
        if write:
            t.fitw[x] = sel(fit, wgt, t.fitw[x])
        wgt = sel(pr, F32(0.0), wgt)
        if write:
            c.w[x] = sel(act, wgt, wold)
        t.total[x] += sel(act, wgt, F32(0.0))


@njit(inline="always")
def update_moments(nch, c, m, px, q0, q1, q2, wgt, p):
    """Mean and variance update of component ``m`` of pixel ``px`` (flattened model
    ``c`` = (weight, var, mean) planes) for the sample ``(q0, q1, q2)``, matched with
    weight ``wgt``: OpenCV's arithmetic, as :func:`component_pass` does for the first
    component."""
    var, mean = c
    d0 = mean[m, 0, px] - q0
    dist2 = d0 * d0
    d1 = F32(0.0)
    d2 = F32(0.0)
    if nch == 3:
        d1 = mean[m, 1, px] - q1
        d2 = mean[m, 2, px] - q2
        dist2 = dist2 + d1 * d1 + d2 * d2
    k = p.alpha / wgt
    mean[m, 0, px] = mean[m, 0, px] - k * d0
    if nch == 3:
        mean[m, 1, px] = mean[m, 1, px] - k * d1
        mean[m, 2, px] = mean[m, 2, px] - k * d2
    vv = var[m, px]
    var[m, px] = min(max(vv + k * (dist2 - vv), p.var_min), p.var_max)


@njit(cache=True, error_model="numpy")
def renorm_pass(mi, wr, t):
    """Renormalise component ``mi`` (``wr`` (N,) float32 IN/OUT) by ``t.total`` (the
    inverse sums). Pixels whose matched component must move up the ranking first
    (``fitm > 0``) are renormalised after the move, by the scalar scan of
    :mod:`bgmix._kernels.online_mog2`."""
    for x in range(wr.shape[0]):
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
    mask (``mr`` (N,) uint8 OUT: 0 background, 255 foreground)."""
    for x in range(nmr.shape[0]):
        nmr[x] = sel(t.fitm[x] == HELD, nmr[x], U8(t.nmc[x]))
        mr[x] = sel(t.bg[x] != I32(0), U8(0), U8(255))
