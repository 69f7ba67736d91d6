"""Vectorised passes of the ``mog2`` kernel (see :mod:`bgmix._kernels.online_mog2`).

Each function is one loop over a tile of consecutive pixels, written with branch-free
selects so that LLVM vectorises it; the arithmetic is OpenCV's, in float32 and in
OpenCV's order. ``fitm`` holds -1 while a pixel has matched no component, the index
of the matched component afterwards, and :data:`HELD` for pixels frozen by the hold.
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit

from bgmix._kernels.online_common import EPS32, sel

__all__ = [
    "HELD",
    "classify_pass",
    "finish_pass",
    "inverse_total",
    "pass0",
    "pass_m",
    "renorm_pass",
]

F32 = np.float32
I32 = np.int32
U8 = np.uint8

#: ``fitm`` value of a pixel whose model is frozen by the hold.
HELD = I32(1 << 20)


@njit(cache=True, error_model="numpy")
def pass0(
    nch,
    nmr,
    held,
    wr,
    vr,
    m0,
    m1,
    m2,
    p0,
    p1,
    p2,
    nmc,
    total,
    bg,
    fitm,
    fitw,
    alpha,
    alpha1,
    prune,
    mprune,
    tb,
    tbr,
    tg,
    var_min,
    var_max,
):
    """Update component 0 of every pixel of a tile; return the tile's largest nmodes."""
    literally(nch)
    maxnm = I32(0)
    for x in range(wr.shape[0]):
        n0 = I32(nmr[x])
        maxnm = max(maxnm, n0)
        free = held[x] == I32(0)
        act = (n0 > I32(0)) & free
        wold = wr[x]
        wgt = alpha1 * wold + prune
        vv = vr[x]
        d0 = m0[x] - p0[x]
        dist2 = d0 * d0
        d1 = F32(0.0)
        d2 = F32(0.0)
        if nch == 3:
            d1 = m1[x] - p1[x]
            d2 = m2[x] - p2[x]
            dist2 = dist2 + d1 * d1 + d2 * d2
        bg[x] = sel(act & (F32(0.0) < tbr) & (dist2 < tb * vv), I32(1), I32(0))
        fit = act & (dist2 < tg * vv)
        wgt = sel(fit, wgt + alpha, wgt)
        k = alpha / wgt
        m0[x] = sel(fit, m0[x] - k * d0, m0[x])
        if nch == 3:
            m1[x] = sel(fit, m1[x] - k * d1, m1[x])
            m2[x] = sel(fit, m2[x] - k * d2, m2[x])
        vn = min(max(vv + k * (dist2 - vv), var_min), var_max)
        vr[x] = sel(fit, vn, vv)
        fitw[x] = wgt
        fitm[x] = sel(fit, I32(0), sel(free, I32(-1), HELD))
        pr = act & (wgt < mprune)
        wgt = sel(pr, F32(0.0), wgt)
        nmc[x] = sel(free, sel(pr, n0 - I32(1), n0), I32(0))
        wr[x] = sel(act, wgt, wold)
        total[x] = sel(act, wgt, F32(0.0))
    return maxnm


@njit(cache=True, error_model="numpy")
def pass_m(
    mi,
    nch,
    wr,
    vr,
    m0,
    m1,
    m2,
    p0,
    p1,
    p2,
    nmc,
    total,
    bg,
    fitm,
    fitw,
    alpha,
    alpha1,
    prune,
    mprune,
    tb,
    tbr,
    tg,
    var_min,
    var_max,
):
    """Update component ``mi`` (> 0) of every pixel of a tile."""
    literally(nch)
    for x in range(wr.shape[0]):
        act = mi < nmc[x]
        wold = wr[x]
        wgt = alpha1 * wold + prune
        fm = fitm[x]
        check = act & (fm < I32(0))
        vv = vr[x]
        d0 = m0[x] - p0[x]
        dist2 = d0 * d0
        d1 = F32(0.0)
        d2 = F32(0.0)
        if nch == 3:
            d1 = m1[x] - p1[x]
            d2 = m2[x] - p2[x]
            dist2 = dist2 + d1 * d1 + d2 * d2
        bg[x] = sel(check & (total[x] < tbr) & (dist2 < tb * vv), I32(1), bg[x])
        fit = check & (dist2 < tg * vv)
        wgt = sel(fit, wgt + alpha, wgt)
        k = alpha / wgt
        m0[x] = sel(fit, m0[x] - k * d0, m0[x])
        if nch == 3:
            m1[x] = sel(fit, m1[x] - k * d1, m1[x])
            m2[x] = sel(fit, m2[x] - k * d2, m2[x])
        vn = min(max(vv + k * (dist2 - vv), var_min), var_max)
        vr[x] = sel(fit, vn, vv)
        fitw[x] = sel(fit, wgt, fitw[x])
        fitm[x] = sel(fit, mi, fm)
        pr = act & (wgt < mprune)
        wgt = sel(pr, F32(0.0), wgt)
        nmc[x] = sel(pr, nmc[x] - I32(1), nmc[x])
        wr[x] = sel(act, wgt, wold)
        total[x] += sel(act, wgt, F32(0.0))


@njit(cache=True, error_model="numpy")
def classify_pass(
    mi,
    nch,
    nmr,
    wr,
    vr,
    m0,
    m1,
    m2,
    p0,
    p1,
    p2,
    nmc,
    total,
    bg,
    fitm,
    alpha,
    alpha1,
    prune,
    mprune,
    tb,
    tbr,
    tg,
):
    """Read-only twin of :func:`pass0` (``mi == 0``) and :func:`pass_m`: the background
    flags that the update would give, without touching the model (pixels without a
    model count as background, so they are never held). Returns the tile's largest
    nmodes when ``mi == 0``."""
    literally(nch)
    maxnm = I32(0)
    for x in range(wr.shape[0]):
        if mi == I32(0):
            n0 = I32(nmr[x])
            maxnm = max(maxnm, n0)
            nmc[x] = n0
            total[x] = F32(0.0)
            bg[x] = sel(n0 == I32(0), I32(1), I32(0))  # no model yet: never held
            fitm[x] = I32(-1)
        act = mi < nmc[x]
        wgt = alpha1 * wr[x] + prune
        check = act & (fitm[x] < I32(0))
        vv = vr[x]
        d0 = m0[x] - p0[x]
        dist2 = d0 * d0
        if nch == 3:
            d1 = m1[x] - p1[x]
            d2 = m2[x] - p2[x]
            dist2 = dist2 + d1 * d1 + d2 * d2
        bg[x] = sel(check & (total[x] < tbr) & (dist2 < tb * vv), I32(1), bg[x])
        fit = check & (dist2 < tg * vv)
        fitm[x] = sel(fit, mi, fitm[x])
        wgt = sel(fit, wgt + alpha, wgt)
        pr = act & (wgt < mprune)
        nmc[x] = sel(pr, nmc[x] - I32(1), nmc[x])
        total[x] += sel(act & (wgt >= mprune), wgt, F32(0.0))
    return maxnm


@njit(cache=True, error_model="numpy")
def renorm_pass(mi, wr, nmc, inv, fitm):
    """Renormalise component ``mi``; pixels whose matched component must move up the
    ranking first (``fitm > 0``) are renormalised after the move, by the scalar scan
    of :mod:`bgmix._kernels.online_mog2`."""
    for x in range(wr.shape[0]):
        wr[x] = sel((mi < nmc[x]) & (fitm[x] <= I32(0)), wr[x] * inv[x], wr[x])


@njit(cache=True, error_model="numpy")
def inverse_total(total):
    for x in range(total.shape[0]):
        t = total[x]
        total[x] = sel(abs(t) > EPS32, F32(1.0) / t, F32(0.0))


@njit(cache=True, error_model="numpy")
def finish_pass(nmr, mr, nmc, bg, fitm):
    for x in range(nmr.shape[0]):
        nmr[x] = sel(fitm[x] == HELD, nmr[x], U8(nmc[x]))
        mr[x] = sel(bg[x] != I32(0), U8(0), U8(255))
