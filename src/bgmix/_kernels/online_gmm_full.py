"""Numba kernels of the per-pixel Gaussian mixture with full covariances, ``gmm-full``.

State (float32, structure of arrays, one plane per component and entry)::

    weight  (K, H, W)      mixing weights (they sum to 1 at every pixel)
    mean    (K, C, H, W)   means
    cov     (K, S, H, W)   covariances: S = 6 entries (00, 01, 02, 11, 12, 22) of
                           the symmetric 3x3 matrix for colour, S = 1 for grey
    hold    (H, W) uint16  consecutive non-background frames (stop-and-stay hold)

Every tile of consecutive pixels (a band of rows is contiguous in every plane) is
processed in vectorised passes: ``K`` distance passes (the Mahalanobis test of the
pixel through the cofactors of each component's covariance, the owner -- the
matching component ranked first by ``w / sqrt(det Σ)`` -- and the lightest
component), ``K`` ranking passes for the ranked rule, then ``K`` weight passes and,
for the components some pixel of the tile owns, a mean and covariance pass. Nothing
is stored but the covariances themselves; their cofactors are recomputed at every
frame, which costs less than reading a stored inverse from memory.

The covariance update is regularised,
``Σ ← (1 − ρ) Σ + ρ (e eᵀ + v_min I)``, so every eigenvalue stays at least ``v_min``
whatever the input (constant, saturated or pathological pixels included).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import literally, njit

from bgmix._kernels._config import FASTMATH
from bgmix._kernels.online_common import hold_update, load_row, sel

__all__ = ["RULE_ANY", "RULE_RANKED", "GMMFullState", "gmm_full_background", "gmm_full_rows"]

F32 = np.float32
I32 = np.int32


#: Pixels per tile: every pass runs over this many consecutive pixels of a band of
#: rows (rows are contiguous in every plane), so calls are few and loops long.
TILE = 2048

#: Background rules: a match with any component, or with one of the ranked first B.
RULE_ANY = 0
RULE_RANKED = 1


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _distance(
    mi,
    nch,
    wr,
    c0,
    c1,
    c2,
    c3,
    c4,
    c5,
    m0,
    m1,
    m2,
    p0,
    p1,
    p2,
    best,
    bestk,
    argw,
    minw,
    key,
    lam2,
    floor,
):
    """Mahalanobis test of every pixel of a tile against component ``mi``.

    Stores the ranking key ``w / sqrt(det Σ)`` of the component, keeps as owner the
    matching component of highest key (the first match in ranking order, ties to the
    lower index) and tracks the lightest component.

    Arguments (every array (N,) over the tile's pixels): ``mi`` int32 IN the component
    (passes run for ``mi = 0, 1, ...``); ``nch`` literal IN channels; ``wr`` float32 IN
    weights; ``c0``..``c5`` float32 IN covariance entries 00, 01, 02, 11, 12, 22 (all
    ``c0`` for one channel); ``m0``..``m2`` float32 IN means; ``p0``..``p2`` float32 IN
    the sample; ``best`` int32 IN/OUT owner (-1 none, reset at ``mi == 0``); ``bestk``
    float32 IN/OUT the owner's key; ``argw`` int32 and ``minw`` float32 IN/OUT the
    lightest component and its weight; ``key`` float32 OUT this component's key;
    ``lam2`` float32 IN squared match threshold; ``floor`` float32 IN floor of
    ``det Σ``."""
    literally(nch)
    first = mi == I32(0)
    for x in range(wr.shape[0]):
        wk = wr[x]
        if nch == 3:
            a = c0[x]
            b = c1[x]
            c = c2[x]
            d = c3[x]
            e = c4[x]
            f = c5[x]
            # cofactors of the symmetric matrix [[a, b, c], [b, d, e], [c, e, f]]
            ca = d * f - e * e
            cb = c * e - b * f
            cc = b * e - c * d
            cd = a * f - c * c
            ce = b * c - a * e
            cf = a * d - b * b
            det = max(a * ca + b * cb + c * cc, floor)
            e0 = p0[x] - m0[x]
            e1 = p1[x] - m1[x]
            e2 = p2[x] - m2[x]
            # e' adj(Σ) e = det(Σ) e' Σ^-1 e: the test needs no division
            q = ca * e0 * e0 + cd * e1 * e1 + cf * e2 * e2
            q += F32(2.0) * (cb * e0 * e1 + cc * e0 * e2 + ce * e1 * e2)
            match = q < lam2 * det
            isdet = F32(1.0) / math.sqrt(det)  # 1 / sqrt(det Σ)
        else:
            v = max(c0[x], floor)
            e0 = p0[x] - m0[x]
            match = e0 * e0 < lam2 * v
            isdet = F32(1.0) / math.sqrt(v)
        k = wk * isdet
        key[x] = k
        # the first pass starts the running owner / lightest from scratch
        pbest = sel(first, I32(-1), best[x])
        pbestk = sel(first, F32(-1.0), bestk[x])
        pargw = sel(first, I32(0), argw[x])
        pminw = sel(first, F32(np.inf), minw[x])
        better = match & (k > pbestk)
        best[x] = sel(better, mi, pbest)
        bestk[x] = sel(better, k, pbestk)
        lighter = wk < pminw
        argw[x] = sel(lighter, mi, pargw)
        minw[x] = sel(lighter, wk, pminw)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _rank(mi, wr, key, keyb, best, cum):
    """Add component ``mi``'s weight to ``cum`` where it ranks before the match
    (``cum`` starts from 0 at ``mi == 0``)."""
    first = mi == I32(0)
    for x in range(wr.shape[0]):
        b = best[x]
        k = key[x]
        kb = keyb[x]
        before = (k > kb) | ((k == kb) & (mi < b))
        cum[x] = sel(first, F32(0.0), cum[x]) + sel(before & (b >= I32(0)), wr[x], F32(0.0))


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _update_weight(mi, wr, best, argw, minw, held, alpha, learn):
    """``w <- w + alpha (M - w)`` for component ``mi`` of a tile; returns how many pixels
    own the component (matched or re-initialised). ``wr`` float32 IN/OUT; ``best``,
    ``argw``, ``minw`` IN (see :func:`_distance`); ``held`` int32 IN; ``alpha`` float32,
    ``learn`` bool IN.

    A re-initialised component starts from weight 0 (the weight of the component it
    replaces goes to the others in proportion), so after the update it has the low
    prior weight ``alpha``.
    """
    owners = 0
    for x in range(wr.shape[0]):
        free = held[x] == I32(0)
        b = best[x]
        unmatched = free & learn & (b < I32(0))
        lightest = minw[x]
        spare = lightest < F32(1.0)  # False only with a single component
        replaced = unmatched & (argw[x] == mi)
        own = (free & (b == mi)) | replaced
        owners += sel(own, 1, 0)
        wold = wr[x]
        wbase = sel(unmatched & spare, sel(replaced, F32(0.0), wold / (F32(1.0) - lightest)), wold)
        wnew = wbase + alpha * (sel(own, F32(1.0), F32(0.0)) - wbase)
        wr[x] = sel(free, wnew, wold)
    return owners


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _update_gauss(
    mi,
    nch,
    wr,
    c0,
    c1,
    c2,
    c3,
    c4,
    c5,
    m0,
    m1,
    m2,
    p0,
    p1,
    p2,
    best,
    argw,
    held,
    alpha,
    learn,
    var_init,
    vmin,
):
    """Mean and covariance updates of component ``mi`` where pixels own it (after
    :func:`_update_weight`, whose new weights give ``rho = alpha / w``).

    Arguments as in :func:`_distance` (``wr`` IN, ``c0``..``c5`` and ``m0``..``m2``
    IN/OUT), plus ``held`` int32 IN (1: the hold freezes the pixel), ``alpha`` float32
    IN learning rate, ``learn`` bool IN (``alpha > 0``), ``var_init`` float32 IN
    variance of a re-initialised component, ``vmin`` float32 IN eigenvalue floor."""
    literally(nch)
    for x in range(wr.shape[0]):
        free = held[x] == I32(0)
        b = best[x]
        matched = free & (b == mi)
        replaced = free & learn & (b < I32(0)) & (argw[x] == mi)
        rho = alpha / wr[x]
        e0 = p0[x] - m0[x]
        n0 = sel(matched, m0[x] + rho * e0, p0[x])
        s = c0[x]
        v0 = sel(matched, s + rho * (e0 * e0 + vmin - s), var_init)
        if nch == 3:
            e1 = p1[x] - m1[x]
            e2 = p2[x] - m2[x]
            n1 = sel(matched, m1[x] + rho * e1, p1[x])
            n2 = sel(matched, m2[x] + rho * e2, p2[x])
            s = c1[x]
            v1 = sel(matched, s + rho * (e0 * e1 - s), F32(0.0))
            s = c2[x]
            v2 = sel(matched, s + rho * (e0 * e2 - s), F32(0.0))
            s = c3[x]
            v3 = sel(matched, s + rho * (e1 * e1 + vmin - s), var_init)
            s = c4[x]
            v4 = sel(matched, s + rho * (e1 * e2 - s), F32(0.0))
            s = c5[x]
            v5 = sel(matched, s + rho * (e2 * e2 + vmin - s), var_init)
        # Stored only where the pixel owns the component (masked vector stores): the
        # planes' cache lines where no pixel does stay clean and are not written back.
        if matched | replaced:
            m0[x] = n0
            c0[x] = v0
            if nch == 3:
                m1[x] = n1
                m2[x] = n2
                c1[x] = v1
                c2[x] = v2
                c3[x] = v3
                c4[x] = v4
                c5[x] = v5


@njit(cache=True, error_model="numpy")
def _decide(best, cum, bg, mr, tbr, ranked):
    """Background flags ``bg`` and the mask row ``mr`` (0 background, 255 foreground)."""
    if ranked:
        for x in range(best.shape[0]):
            b = (best[x] >= I32(0)) & (cum[x] < tbr)
            bg[x] = sel(b, I32(1), I32(0))
            mr[x] = sel(b, np.uint8(0), np.uint8(255))
    else:
        for x in range(best.shape[0]):
            b = best[x] >= I32(0)
            bg[x] = sel(b, I32(1), I32(0))
            mr[x] = sel(b, np.uint8(0), np.uint8(255))


class GMMFullState(NamedTuple):
    """The per-pixel ``gmm-full`` model (IN/OUT, updated in place).

    Attributes
    ----------
    weight : (K, H, W) float32 ndarray
    mean : (K, C, H, W) float32 ndarray
    cov : (K, 6, H, W) float32 ndarray for C = 3, (K, 1, H, W) for C = 1
        Upper triangles (00, 01, 02, 11, 12, 22) of the covariances.
    hold : (H, W) uint16 ndarray
        Consecutive non-background frames (stop-and-stay hold).
    """

    weight: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    hold: np.ndarray


@njit(cache=True, nogil=True, error_model="numpy")
def gmm_full_rows(y0, y1, frame, state, mask, prm):
    """Classify rows ``[y0, y1)`` of ``frame`` into ``mask`` and update the mixture:
    the band kernel of :mod:`bgmix._kernels.online_common`, with ``state`` a
    :class:`GMMFullState` and ``prm`` a :class:`GMMFullParams` (``prm.rule`` is
    :data:`RULE_ANY` or :data:`RULE_RANKED`)."""
    if frame.shape[2] == 3:
        _rows(3, y0, y1, frame, state, mask, prm)
    else:
        _rows(1, y0, y1, frame, state, mask, prm)


@njit(cache=True, nogil=True, error_model="numpy")
def _rows(nch, y0, y1, frame, state, mask, prm):
    """:func:`gmm_full_rows` for ``nch`` (a literal) channels."""
    literally(nch)
    weight, mean, cov, hold = state.weight, state.mean, state.cov, state.hold
    alpha, lam2, var_init, var_min = prm.alpha, prm.lam2, prm.var_init, prm.var_min
    rule, tbr, hold_frames = prm.rule, prm.tbr, prm.hold_frames
    kmax = weight.shape[0]
    h, w = mask.shape
    n = h * w
    # Every pass treats pixels independently: rows [y0, y1) are one contiguous run
    # of pixels in every plane, processed in tiles of TILE pixels.
    wf = weight.reshape(kmax, n)
    mf = mean.reshape(kmax, nch, n)
    cf = cov.reshape(kmax, cov.shape[1], n)
    hf = hold.reshape(n)
    kf = mask.reshape(n)
    ff = frame.reshape(n * nch)
    p0a = np.empty(TILE, np.float32)
    p1a = np.empty(TILE, np.float32) if nch == 3 else p0a
    p2a = np.empty(TILE, np.float32) if nch == 3 else p0a
    besta = np.empty(TILE, np.int32)
    bestka = np.empty(TILE, np.float32)
    argwa = np.empty(TILE, np.int32)
    minwa = np.empty(TILE, np.float32)
    cuma = np.empty(TILE, np.float32)
    bga = np.empty(TILE, np.int32)
    helda = np.zeros(TILE, np.int32)
    keysa = np.empty((kmax, TILE), np.float32)
    ranked = rule == RULE_RANKED
    learn = alpha > F32(0.0)
    floor = var_min * F32(1e-3)
    floor = floor * floor * floor if nch == 3 else floor  # a floor on det(Σ)
    vmin = var_min
    c1 = 1 if nch == 3 else 0
    c2 = 2 if nch == 3 else 0
    s1 = 1 if nch == 3 else 0
    s2 = 2 if nch == 3 else 0
    s3 = 3 if nch == 3 else 0
    s4 = 4 if nch == 3 else 0
    s5 = 5 if nch == 3 else 0
    for t0 in range(y0 * w, y1 * w, TILE):
        t1 = min(t0 + TILE, y1 * w)
        size = t1 - t0
        p0 = p0a[:size]
        p1 = p1a[:size]
        p2 = p2a[:size]
        best = besta[:size]
        bestk = bestka[:size]
        argw = argwa[:size]
        minw = minwa[:size]
        cum = cuma[:size]
        bg = bga[:size]
        held = helda[:size]
        load_row(ff[t0 * nch : t1 * nch], nch, p0, p1, p2)
        for m in range(kmax):
            _distance(
                I32(m),
                nch,
                wf[m, t0:t1],
                cf[m, 0, t0:t1],
                cf[m, s1, t0:t1],
                cf[m, s2, t0:t1],
                cf[m, s3, t0:t1],
                cf[m, s4, t0:t1],
                cf[m, s5, t0:t1],
                mf[m, 0, t0:t1],
                mf[m, c1, t0:t1],
                mf[m, c2, t0:t1],
                p0,
                p1,
                p2,
                best,
                bestk,
                argw,
                minw,
                keysa[m, :size],
                lam2,
                floor,
            )
        if ranked:
            for m in range(kmax):
                _rank(I32(m), wf[m, t0:t1], keysa[m, :size], bestk, best, cum)
        _decide(best, cum, bg, kf[t0:t1], tbr, ranked)
        if hold_frames > 0:
            hold_update(bg, hf[t0:t1], held, hold_frames)
        if alpha > F32(0.0):
            for m in range(kmax):
                owners = _update_weight(I32(m), wf[m, t0:t1], best, argw, minw, held, alpha, learn)
                if owners == 0:
                    continue  # no pixel of the tile owns component m: its Gaussians stay
                _update_gauss(
                    I32(m),
                    nch,
                    wf[m, t0:t1],
                    cf[m, 0, t0:t1],
                    cf[m, s1, t0:t1],
                    cf[m, s2, t0:t1],
                    cf[m, s3, t0:t1],
                    cf[m, s4, t0:t1],
                    cf[m, s5, t0:t1],
                    mf[m, 0, t0:t1],
                    mf[m, c1, t0:t1],
                    mf[m, c2, t0:t1],
                    p0,
                    p1,
                    p2,
                    best,
                    argw,
                    held,
                    alpha,
                    learn,
                    var_init,
                    vmin,
                )


@njit(cache=True)
def gmm_full_background(weight, mean):
    """Mean of the heaviest component at every pixel, ``(H, W, C)`` float32."""
    kmax, nch, h, w = mean.shape
    out = np.empty((h, w, nch), np.float32)
    for y in range(h):
        for x in range(w):
            b = 0
            for m in range(1, kmax):
                if weight[m, y, x] > weight[b, y, x]:
                    b = m
            for c in range(nch):
                out[y, x, c] = mean[b, c, y, x]
    return out
