"""Numba kernel of Stauffer and Grimson's adaptive Gaussian mixture, ``mog``.

State (float32, pixel-major: each pixel's components are contiguous, as the kernel
walks one pixel's components at a time)::

    weight  (H, W, K)      weights, the components sorted by w / sigma (decreasing);
                           a weight of 0 marks an empty slot (they sort last)
    mean    (H, W, K, C)   means
    var     (H, W, K, V)   per-channel variance: V = 1 (spherical, one variance for
                           every channel) or V = C (diagonal)
    hold    (H, W) uint16  consecutive non-background frames (stop-and-stay hold)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import literally, njit

__all__ = ["MOGState", "mog_background", "mog_rows"]

F32 = np.float32


@njit(cache=True, inline="always")
def _ranks_before(weight, var, y, x, i, j, nv):
    """True when component ``i`` ranks before ``j``: ``w_i / s_i > w_j / s_j`` with
    ``s`` the RMS standard deviation, compared without roots or divisions as
    ``w_i^2 sum(var_j) > w_j^2 sum(var_i)``."""
    si = F32(0.0)
    sj = F32(0.0)
    for c in range(nv):
        si += var[y, x, i, c]
        sj += var[y, x, j, c]
    wi = weight[y, x, i]
    wj = weight[y, x, j]
    return wi * wi * sj > wj * wj * si


@njit(cache=True, inline="always")
def _swap(weight, mean, var, y, x, i, j, nch, nv):
    t = weight[y, x, i]
    weight[y, x, i] = weight[y, x, j]
    weight[y, x, j] = t
    for c in range(nch):
        t = mean[y, x, i, c]
        mean[y, x, i, c] = mean[y, x, j, c]
        mean[y, x, j, c] = t
    for c in range(nv):
        t = var[y, x, i, c]
        var[y, x, i, c] = var[y, x, j, c]
        var[y, x, j, c] = t


class MOGState(NamedTuple):
    """The per-pixel ``mog`` model (IN/OUT, updated in place).

    Attributes
    ----------
    weight : (H, W, K) float32 ndarray
    mean : (H, W, K, C) float32 ndarray
    var : (H, W, K, V) float32 ndarray
        V = 1: spherical; V = C: diagonal covariance.
    hold : (H, W) uint16 ndarray
        Consecutive non-background frames (stop-and-stay hold).
    """

    weight: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    hold: np.ndarray


@njit(cache=True, nogil=True, error_model="numpy")
def mog_rows(y0, y1, frame, state, mask, prm):
    """Classify rows ``[y0, y1)`` of ``frame`` into ``mask`` and update the mixture:
    the band kernel of :mod:`bgmix._kernels.online_common`, with ``state`` a
    :class:`MOGState` and ``prm`` a :class:`MOGParams`."""
    if frame.shape[2] == 1:
        _rows(1, 1, y0, y1, frame, state, mask, prm)
    elif state.var.shape[3] == 1:
        _rows(3, 1, y0, y1, frame, state, mask, prm)
    else:
        _rows(3, 3, y0, y1, frame, state, mask, prm)


@njit(cache=True, nogil=True, error_model="numpy")
def _rows(nch, nv, y0, y1, frame, state, mask, prm):
    """:func:`mog_rows` for ``nch`` channels and ``nv`` variances per component
    (literals)."""
    literally(nch)
    literally(nv)
    weight, mean, var, hold = state.weight, state.mean, state.var, state.hold
    alpha, lam2, var_min, tbr = prm.alpha, prm.lam2, prm.var_min, prm.tbr
    hold_frames = prm.hold_frames
    kmax = weight.shape[2]
    diagonal = nv > 1
    one = F32(1.0)
    alpha1 = one - alpha
    px = np.empty(nch, np.float32)
    for y in range(y0, y1):
        for x in range(frame.shape[1]):
            for c in range(nch):
                px[c] = F32(frame[y, x, c])
            # first match in ranking order
            match = -1
            cum = F32(0.0)
            for k in range(kmax):
                wk = weight[y, x, k]
                if wk <= F32(0.0):
                    break
                ok = True
                if diagonal:
                    for c in range(nch):
                        d = px[c] - mean[y, x, k, c]
                        if d * d >= lam2 * var[y, x, k, c]:
                            ok = False
                            break
                else:
                    d2 = F32(0.0)
                    for c in range(nch):
                        d = px[c] - mean[y, x, k, c]
                        d2 += d * d
                    ok = d2 < lam2 * F32(nch) * var[y, x, k, 0]
                if ok:
                    match = k
                    break
                cum += wk
            background = match >= 0 and cum < tbr
            mask[y, x] = 0 if background else 255
            if hold_frames > 0:
                if background or weight[y, x, 0] <= F32(0.0):
                    hold[y, x] = 0
                else:
                    count = min(int(hold[y, x]) + 1, 65535)
                    hold[y, x] = count
                    if count <= hold_frames:
                        continue
            if alpha <= F32(0.0):
                continue
            # weights: w <- (1 - alpha) w + alpha M
            for k in range(kmax):
                weight[y, x, k] = alpha1 * weight[y, x, k]
            if match >= 0:
                wm = weight[y, x, match] + alpha
                weight[y, x, match] = wm
                rho = alpha / wm
                d2 = F32(0.0)
                for c in range(nch):
                    mu = mean[y, x, match, c] + rho * (px[c] - mean[y, x, match, c])
                    mean[y, x, match, c] = mu
                    d = px[c] - mu
                    if diagonal:
                        v = var[y, x, match, c]
                        var[y, x, match, c] = max(v + rho * (d * d - v), var_min)
                    else:
                        d2 += d * d
                if not diagonal:
                    v = var[y, x, match, 0]
                    var[y, x, match, 0] = max(v + rho * (d2 / F32(nch) - v), var_min)
                k = match
            else:
                # replace the least probable component (the last one, or an empty slot)
                k = kmax - 1
                weight[y, x, k] = prm.w_init
                for c in range(nch):
                    mean[y, x, k, c] = px[c]
                for c in range(nv):
                    var[y, x, k, c] = prm.var_init
                total = F32(0.0)
                for j in range(kmax):
                    total += weight[y, x, j]
                inv = one / total
                for j in range(kmax):
                    weight[y, x, j] *= inv
            # restore the ranking: only component k changed its key relative to the others
            k0 = k
            while k > 0 and (
                weight[y, x, k - 1] <= F32(0.0) or _ranks_before(weight, var, y, x, k, k - 1, nv)
            ):
                _swap(weight, mean, var, y, x, k, k - 1, nch, nv)
                k -= 1
            if k == k0:
                while (
                    k < kmax - 1
                    and weight[y, x, k + 1] > F32(0.0)
                    and _ranks_before(weight, var, y, x, k + 1, k, nv)
                ):
                    _swap(weight, mean, var, y, x, k, k + 1, nch, nv)
                    k += 1


@njit(cache=True)
def mog_background(weight, mean):
    """Mean of each pixel's first-ranked component, ``(H, W, C)`` float32."""
    h, w, _, nch = mean.shape
    out = np.empty((h, w, nch), np.float32)
    for y in range(h):
        for x in range(w):
            for c in range(nch):
                out[y, x, c] = mean[y, x, 0, c]
    return out
