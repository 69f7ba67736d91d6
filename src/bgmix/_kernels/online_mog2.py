"""Numba kernels of the adaptive Gaussian mixture of Zivkovic (2004, 2006), ``mog2``.

State (float32, structure of arrays, one plane per component so that a pass reads
contiguous memory and the planes of unused components are not touched)::

    weight  (K, H, W)      mixing weights, in decreasing order at every pixel
    var     (K, H, W)      isotropic variance of each component
    mean    (K, C, H, W)   mean of each component, one plane per channel
    nmodes  (H, W) uint8   number of components in use
    hold    (H, W) uint16  consecutive non-background frames (stop-and-stay hold)

The arithmetic reproduces OpenCV's ``BackgroundSubtractorMOG2`` operation for
operation in float32 (same order, no fast-math reassociation or contraction), so the
masks are bit-identical to OpenCV's for the same frames and parameters. Only the
schedule differs: OpenCV walks the components of one pixel at a time; here each
pass handles component ``m`` of a tile of consecutive pixels (a band of rows is
contiguous in every plane) with vector instructions, over the range of the tile
where some pixel has that component in use, and the per-pixel bookkeeping that
cannot be vectorised (moving a matched component up the ranking, creating a
component, the shadow test) runs afterwards in one scalar scan of the tile's pixels
that need it (about one in fifteen on street footage). The results are the same
because the operations of each pixel keep their order. The vector passes are in
:mod:`bgmix._kernels.online_mog2_passes`.

The model's arrays travel as one :class:`MOG2State`, the frame's scalars as one
:class:`~bgmix._kernels.online_mog2_passes.MOG2Params`, the per-tile scratch as one
:class:`~bgmix._kernels.online_mog2_passes.Tile`: named fields on both sides.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import literally, njit

from bgmix._kernels.online_common import EPS32, hold_update, load_row, sel
from bgmix._kernels.online_mog2_passes import (
    HELD,
    Plane,
    Tile,
    component_pass,
    finish_pass,
    first_byte,
    in_use_ranges,
    inverse_total,
    renorm_pass,
    start_classify,
    start_update,
    todo_bits,
)
from bgmix._kernels.online_params import MOG2Params

__all__ = ["HELD", "MOG2Params", "MOG2State", "mog2_background_rows", "mog2_rows"]

F32 = np.float32
I32 = np.int32
U8 = np.uint8

#: Pixels per tile: every pass runs over this many consecutive pixels of a band of
#: rows (rows are contiguous in every plane), so calls are few and loops long.
TILE = 1024


class MOG2State(NamedTuple):
    """The per-pixel ``mog2`` model (IN/OUT, updated in place).

    Attributes
    ----------
    weight, var : (K, H, W) float32 ndarray
        Mixing weights (in decreasing order at every pixel) and isotropic variances.
    mean : (K, C, H, W) float32 ndarray
        Means, one plane per channel.
    nmodes : (H, W) uint8 ndarray
        Components in use.
    hold : (H, W) uint16 ndarray
        Consecutive non-background frames (stop-and-stay hold).
    """

    weight: np.ndarray
    var: np.ndarray
    mean: np.ndarray
    nmodes: np.ndarray
    hold: np.ndarray


# --------------------------------------------------------------------------- scalar parts
@njit(cache=True, inline="always")
def _swap_up(weight, var, mean, nch, i, p):
    """Exchange components ``i`` and ``i - 1`` of pixel ``p``."""
    t = weight[i, p]
    weight[i, p] = weight[i - 1, p]
    weight[i - 1, p] = t
    t = var[i, p]
    var[i, p] = var[i - 1, p]
    var[i - 1, p] = t
    for c in range(nch):
        t = mean[i, c, p]
        mean[i, c, p] = mean[i - 1, c, p]
        mean[i - 1, c, p] = t


@njit(cache=True, inline="always")
def _is_shadow(p, weight, var, mean, nm, nch, q0, q1, q2, prm):
    """Prati et al. (2003): a darker copy of a background component, colour unchanged."""
    tweight = F32(0.0)
    for mode in range(nm):
        a0 = mean[mode, 0, p]
        num = q0 * a0
        den = a0 * a0
        a1 = F32(0.0)
        a2 = F32(0.0)
        if nch == 3:
            a1 = mean[mode, 1, p]
            a2 = mean[mode, 2, p]
            num += q1 * a1
            num += q2 * a2
            den += a1 * a1
            den += a2 * a2
        if den == F32(0.0):
            return False
        if num <= den and num >= prm.tau * den:
            a = num / den
            d = a * a0 - q0
            dist2a = d * d
            if nch == 3:
                d = a * a1 - q1
                dist2a += d * d
                d = a * a2 - q2
                dist2a += d * d
            if dist2a < prm.tb * var[mode, p] * a * a:
                return True
        tweight += weight[mode, p]
        if tweight > prm.tbr:
            return False
    return False


@njit(cache=True, error_model="numpy")
def _scan(t0, nch, weight, var, mean, nmodes, mask, t, prm):
    """The per-pixel events of a tile starting at pixel ``t0``, in OpenCV's order.

    Visits the pixels marked in ``t.todo``, eight at a time (the others are settled
    by the passes). ``weight``, ``var`` (K, N), ``mean`` (K, C, N), ``nmodes``, ``mask``
    (N,): the flattened model and mask (IN/OUT); ``t`` the tile's scratch (IN);
    ``prm`` the frame's :class:`MOG2Params`. A matched component below the first
    that outweighs the one above it (its mean and variance already updated by its
    pass) moves up past lighter ones (weights before renormalising, as OpenCV does
    right after the match), then the pixel's weights are renormalised; an unmatched
    pixel gets a new component; a pixel that is not background gets the shadow test.
    """
    kmax = weight.shape[0]
    alpha = prm.alpha
    alpha1 = F32(1.0) - alpha
    mprune = -prm.prune
    for wi in range(t.todo_words.shape[0]):
        word = todo_bits(t, wi)
        while word != np.uint64(0):
            b, word = first_byte(word)
            x = wi * 8 + b
            p = t0 + x
            fm = t.fitm[x]
            if fm > I32(0) and fm != HELD:
                wgt = t.fitw[x]
                i = fm
                while i > 0:
                    if wgt < weight[i - 1, p]:
                        break
                    _swap_up(weight, var, mean, nch, i, p)
                    i -= 1
                if i != fm:
                    weight[i, p] = sel(wgt < mprune, F32(0.0), wgt)
                r = t.total[x]
                for m in range(t.nmc[x]):
                    weight[m, p] *= r
            unmatched = fm < I32(0)
            if not unmatched and t.bg[x] != I32(0):
                continue
            if unmatched and alpha > F32(0.0):
                nm = np.int64(nmodes[p])
                if nm == kmax:
                    mode = kmax - 1
                else:
                    mode = nm
                    nm += 1
                if nm == 1:
                    weight[mode, p] = F32(1.0)
                else:
                    weight[mode, p] = alpha
                    for i in range(nm - 1):
                        weight[i, p] *= alpha1
                mean[mode, 0, p] = t.p0[x]
                if nch == 3:
                    mean[mode, 1, p] = t.p1[x]
                    mean[mode, 2, p] = t.p2[x]
                var[mode, p] = prm.var_init
                i = nm - 1
                while i > 0:
                    if alpha < weight[i - 1, p]:
                        break
                    _swap_up(weight, var, mean, nch, i, p)
                    i -= 1
                nmodes[p] = U8(nm)
            if t.bg[x] == I32(0) and prm.detect_shadows:
                nm = np.int64(nmodes[p])
                q0, q1, q2 = t.p0[x], t.p1[x], t.p2[x]
                if _is_shadow(p, weight, var, mean, nm, nch, q0, q1, q2, prm):
                    mask[p] = prm.shadow_value


@njit(inline="always")
def _plane(wf, vf, mf, m, c1, c2, t0, t1):
    return Plane(
        wf[m, t0:t1],
        vf[m, t0:t1],
        mf[m, 0, t0:t1],
        mf[m, c1, t0:t1],
        mf[m, c2, t0:t1],
        wf[max(m - 1, 0), t0:t1],
    )


# --------------------------------------------------------------------------- drivers
@njit(cache=True, nogil=True, error_model="numpy")
def mog2_rows(y0, y1, frame, state, mask, prm):
    """Classify rows ``[y0, y1)`` of ``frame`` into ``mask`` and update the mixture:
    the band kernel of :mod:`bgmix._kernels.online_common`, with ``state`` a
    :class:`MOG2State` and ``prm`` a :class:`MOG2Params` (shadows get
    ``prm.shadow_value``)."""
    if frame.shape[2] == 3:
        _rows(3, y0, y1, frame, state, mask, prm)
    else:
        _rows(1, y0, y1, frame, state, mask, prm)


@njit(cache=True, nogil=True, error_model="numpy")
def _rows(nch, y0, y1, frame, state, mask, prm):
    """:func:`mog2_rows` for ``nch`` (a literal) channels."""
    literally(nch)
    h, w = mask.shape
    kmax = state.weight.shape[0]
    n = h * w
    # The passes work on each pixel independently: rows [y0, y1) are one contiguous
    # run of pixels in every plane, processed in tiles of TILE pixels.
    wf = state.weight.reshape(kmax, n)
    vf = state.var.reshape(kmax, n)
    mf = state.mean.reshape(kmax, nch, n)
    nf = state.nmodes.reshape(n)
    hf = state.hold.reshape(n)
    kf = mask.reshape(n)
    ff = frame.reshape(n * nch)
    p0a = np.empty(TILE, np.float32)
    p1a = np.empty(TILE, np.float32) if nch == 3 else p0a
    p2a = np.empty(TILE, np.float32) if nch == 3 else p0a
    totala = np.empty(TILE, np.float32)
    fitwa = np.empty(TILE, np.float32)
    nmca = np.empty(TILE, np.int32)
    bga = np.empty(TILE, np.int32)
    fitma = np.empty(TILE, np.int32)
    helda = np.zeros(TILE, np.int32)
    todow = np.zeros((TILE + 7) // 8, np.uint64)
    todoa = todow.view(np.uint8)
    loa = np.empty(kmax, np.int64)
    hia = np.empty(kmax, np.int64)
    c1 = 1 if nch == 3 else 0
    c2 = 2 if nch == 3 else 0
    for t0 in range(y0 * w, y1 * w, TILE):
        t1 = min(t0 + TILE, y1 * w)
        size = t1 - t0
        t = Tile(
            p0a[:size],
            p1a[:size],
            p2a[:size],
            nmca[:size],
            totala[:size],
            bga[:size],
            fitma[:size],
            fitwa[:size],
            helda[:size],
            todoa[:size],
            todow[: (size + 7) // 8],
            loa,
            hia,
        )
        load_row(ff[t0 * nch : t1 * nch], nch, t.p0, t.p1, t.p2)
        if prm.hold_frames > 0:
            maxnm = start_classify(nf[t0:t1], t)
            in_use_ranges(nf[t0:t1], maxnm, t)
            for m in range(maxnm):
                component_pass(I32(m), nch, False, _plane(wf, vf, mf, m, c1, c2, t0, t1), t, prm)
            hold_update(t.bg, hf[t0:t1], t.held, prm.hold_frames)
        maxnm = start_update(nf[t0:t1], t)
        if prm.hold_frames == 0:  # with the hold, set above from the same nmodes
            in_use_ranges(nf[t0:t1], maxnm, t)
        for m in range(maxnm):
            component_pass(I32(m), nch, True, _plane(wf, vf, mf, m, c1, c2, t0, t1), t, prm)
        inverse_total(t.total)
        for m in range(maxnm):
            renorm_pass(I32(m), wf[m, t0:t1], t)
        finish_pass(nf[t0:t1], kf[t0:t1], t)
        _scan(t0, nch, wf, vf, mf, nf, kf, t, prm)


@njit(cache=True, nogil=True, error_model="numpy")
def mog2_background_rows(y0, y1, weight, mean, nmodes, tbr, out):
    """Rows ``[y0, y1)`` of OpenCV's background image (``getBackgroundImage``).

    At each pixel, the weight-averaged mean of its heaviest components, up to and
    including the one whose cumulative weight exceeds ``tbr``::

        B = (sum_{k<=K'} w_k mu_k) / (sum_{k<=K'} w_k),
        K' = min{K' : sum_{k<=K'} w_k > tbr}  (or all the components in use)

    rounded half to even and saturated to ``out`` ((H, W, C) uint8 OUT), as OpenCV's
    ``saturate_cast`` does (0 where the weights sum to at most float32's epsilon).
    Float32 operations in OpenCV's order, so the image is OpenCV's bit for bit.

    The sums run component by component over tiles of :data:`TILE` pixels, each pass
    over the range of the tile's pixels still summing (vector loops, as
    :func:`mog2_rows`): a component's plane is read only where it counts.
    """
    if mean.shape[1] == 3:
        _background_rows(3, y0, y1, weight, mean, nmodes, tbr, out)
    else:
        _background_rows(1, y0, y1, weight, mean, nmodes, tbr, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _background_rows(nch, y0, y1, weight, mean, nmodes, tbr, out):
    """:func:`mog2_background_rows` for ``nch`` (a literal) channels."""
    literally(nch)
    kmax = weight.shape[0]
    h, w = nmodes.shape
    n = h * w
    wf = weight.reshape(kmax, n)
    mf = mean.reshape(kmax, nch, n)
    nf = nmodes.reshape(n)
    of = out.reshape(n * nch)
    a0 = np.empty(TILE, np.float32)
    a1 = np.empty(TILE, np.float32)
    a2 = np.empty(TILE, np.float32)
    total = np.empty(TILE, np.float32)
    live = np.empty(TILE, np.uint8)
    b0 = np.empty(TILE, np.uint8)
    b1 = np.empty(TILE, np.uint8)
    b2 = np.empty(TILE, np.uint8)
    c1 = 1 if nch == 3 else 0
    c2 = 2 if nch == 3 else 0
    for t0 in range(y0 * w, y1 * w, TILE):
        size = min(TILE, y1 * w - t0)
        a0[:] = F32(0.0)
        a1[:] = F32(0.0)
        a2[:] = F32(0.0)
        total[:] = F32(0.0)
        live[:] = U8(1)
        lo = np.uint64(0)
        hi = np.uint64(size)
        for m in range(kmax):
            if lo >= hi:
                break
            w_m = wf[m, t0 : t0 + size]
            m0 = mf[m, 0, t0 : t0 + size]
            m1 = mf[m, c1, t0 : t0 + size]
            m2 = mf[m, c2, t0 : t0 + size]
            nm = nf[t0 : t0 + size]
            mm = U8(m)
            nlo = np.uint64(size)
            nhi = np.uint64(0)
            for x in range(lo, hi):
                use = (live[x] != U8(0)) & (nm[x] > mm)
                wk = w_m[x]
                s = total[x] + wk
                a0[x] = sel(use, a0[x] + wk * m0[x], a0[x])
                if nch == 3:
                    a1[x] = sel(use, a1[x] + wk * m1[x], a1[x])
                    a2[x] = sel(use, a2[x] + wk * m2[x], a2[x])
                total[x] = sel(use, s, total[x])
                more = use & ~(s > tbr)
                live[x] = sel(more, U8(1), U8(0))
                nlo = min(nlo, sel(more, x, np.uint64(size)))
                nhi = max(nhi, sel(more, x + np.uint64(1), np.uint64(0)))
            lo = nlo
            hi = nhi
        for x in range(size):
            s = total[x]
            inv = sel(abs(s) > EPS32, F32(1.0) / s, F32(0.0))
            b0[x] = _saturate_u8(a0[x] * inv)
            if nch == 3:
                b1[x] = _saturate_u8(a1[x] * inv)
                b2[x] = _saturate_u8(a2[x] * inv)
        row = of[t0 * nch : (t0 + size) * nch]
        if nch == 3:
            for x in range(np.uint64(size)):
                row[np.uint64(3) * x] = b0[x]
                row[np.uint64(3) * x + np.uint64(1)] = b1[x]
                row[np.uint64(3) * x + np.uint64(2)] = b2[x]
        else:
            row[:] = b0[:size]


@njit(inline="always")
def _saturate_u8(v):
    """OpenCV's ``saturate_cast<uchar>`` of a float: round half to even, clamp to
    0..255 (NaN to 0)."""
    r = np.rint(v)
    r = sel(r > F32(0.0), r, F32(0.0))
    return U8(sel(r < F32(255.0), r, F32(255.0)))
