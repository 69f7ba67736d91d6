"""Numba kernels of the online Robust PCA subtractor, ``rpca-online``.

The frame is one column ``x`` of ``D = H W C`` values in the frame's own interleaved
order (``frame.reshape(-1)``: a pixel's channels are consecutive), and the
background subspace is ``U`` of shape ``(k, D)`` float32, one basis vector a row, so
that every loop below runs over consecutive memory and vectorises.

Each kernel walks *blocks* of ``BLOCK`` pixels ``[b0, b1)`` and writes only its own
blocks' outputs; the reductions (``U e`` and ``e . e``) go to one row of
``partial`` per block (summed in float32 within the block, where the loop
vectorises), which the caller sums in block order in float64, so the result does not
depend on how :func:`bgmix._threads.run_bands` cuts the blocks over threads. Every
kernel is serial, cached and GIL-free.

Kernels
-------
``huber_blocks(b0, b1, x, U, c, lam, nch, thr, partial, e, mask, classify, count,
absorb_after, boost)``
    with :math:`\\ell = U^T c` and the clipped residual
    :math:`e = \\operatorname{clip}(x - \\ell, -\\lambda, \\lambda)`, write
    ``partial[b, :k] = U_b e_b`` and ``partial[b, k] = e_b . e_b``; when ``classify``
    also store ``e`` and the mask, 255 where :math:`\\max_c |x - \\ell| > \\tau`
    (``thr``), else 0, count each pixel's consecutive foreground frames, and put the
    residual of a pixel foreground for more than ``absorb_after`` frames into ``e``
    unclipped, times ``boost`` (ghost absorption).
``update_blocks(b0, b1, U, e, g, rho, A, v, nch, out)``
    the rank-one update of the basis,
    ``out = A^T U + v q^T`` with ``q = (e - U^T g) / rho`` (``rho = 0``: no new
    direction, ``q = 0``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH

__all__ = ["BLOCK", "huber_blocks", "n_blocks", "update_blocks"]

#: Pixels per reduction block.
BLOCK = 2048

F32 = np.float32


def n_blocks(n_pixels: int) -> int:
    """Number of blocks of :data:`BLOCK` pixels covering ``n_pixels``."""
    return -(-int(n_pixels) // BLOCK)


@njit(cache=True, nogil=True, inline="always")
def _span(b, step, D):
    """Values ``[i0, i1)`` of block ``b`` (``step`` values a block, ``D`` in all)."""
    i0 = b * step
    return i0, min(i0 + step, D)


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def huber_blocks(
    b0, b1, x, U, c, lam, nch, thr, partial, e, mask, classify, count, absorb_after, boost
):
    """One step of the robust projection over the pixel blocks ``[b0, b1)``.

    Parameters
    ----------
    b0, b1 : int
        Blocks of :data:`BLOCK` pixels.
    x : (D,) uint8 or float32 ndarray
        The frame, ``frame.reshape(-1)`` (channels interleaved), 0–255 scale.
    U : (k, D) float32 ndarray
        Orthonormal rows: the background subspace.
    c : (k,) float32 ndarray
        Coefficients: the background is :math:`\\ell = U^T c`.
    lam : float32
        :math:`\\lambda`, the clipping (shrinkage) level.
    nch : int
        Channels C (D = pixels x C).
    thr : float32
        :math:`\\tau`, the mask threshold on :math:`\\max_c |x - \\ell|`.
    partial : (n_blocks, k + 1) float64 ndarray
        OUT: per block, :math:`U e` (k values) and :math:`e \\cdot e`.
    e : (D,) float32 ndarray
        OUT when ``classify``: the clipped residual.
    mask : (pixels,) uint8 ndarray
        OUT when ``classify``: 255 foreground, 0 background.
    classify : bool
        Write ``e`` and ``mask``.
    count : (pixels,) uint16 ndarray
        IN/OUT when ``classify`` and ``boost > 0``: consecutive foreground frames of
        each pixel (reset to 0 by a background frame, saturating at 65535).
    absorb_after : int
        A pixel whose count exceeds this is *absorbed*: its residual enters ``e``
        unclipped and multiplied by ``boost``.
    boost : float32
        Factor of an absorbed pixel's residual; 0 leaves ``count`` untouched and
        absorbs nothing.
    """
    k = U.shape[0]
    D = U.shape[1]
    step = BLOCK * nch
    low = np.empty(step, F32)
    res = np.empty(step, F32)
    for b in range(b0, b1):
        i0, i1 = _span(b, step, D)
        n = i1 - i0
        xb = x[i0:i1]
        for i in range(n):
            low[i] = F32(0.0)
        for j in range(k):
            cj = c[j]
            uj = U[j, i0:i1]
            for i in range(n):
                low[i] += uj[i] * cj
        for i in range(n):
            r = F32(xb[i]) - low[i]
            res[i] = r
            low[i] = min(max(r, -lam), lam)
        if classify:
            p0 = i0 // nch
            npx = n // nch
            mb = mask[p0 : p0 + npx]
            if nch == 3:
                for p in range(npx):
                    fg = (
                        (abs(res[3 * p]) > thr)
                        | (abs(res[3 * p + 1]) > thr)
                        | (abs(res[3 * p + 2]) > thr)
                    )
                    mb[p] = np.uint8(255) if fg else np.uint8(0)
            else:
                for p in range(npx):
                    mb[p] = np.uint8(255) if abs(res[p]) > thr else np.uint8(0)
            if boost > F32(0.0):
                cb = count[p0 : p0 + npx]
                for p in range(npx):
                    cnt = min(np.int32(cb[p]) + np.int32(1), np.int32(65535))
                    cb[p] = np.uint16(cnt if mb[p] != 0 else np.int32(0))
                for p in range(npx):
                    if np.int32(cb[p]) > absorb_after:
                        for ch in range(nch):
                            low[p * nch + ch] = res[p * nch + ch] * boost
            eb = e[i0:i1]
            for i in range(n):
                eb[i] = low[i]
        # block sums in float32 (vectorised), accumulated over blocks in float64
        ss = F32(0.0)
        for i in range(n):
            ss += low[i] * low[i]
        for j in range(k):
            uj = U[j, i0:i1]
            acc = F32(0.0)
            for i in range(n):
                acc += uj[i] * low[i]
            partial[b, j] = acc
        partial[b, k] = ss


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def update_blocks(b0, b1, U, e, g, rho, A, v, nch, out):
    """Rank-one update of the basis over the pixel blocks ``[b0, b1)``.

    Parameters
    ----------
    b0, b1 : int
        Blocks of :data:`BLOCK` pixels.
    U : (k, D) float32 ndarray
        The current basis (rows).
    e : (D,) float32 ndarray
        The clipped residual of the frame (:func:`huber_blocks`).
    g : (k,) float32 ndarray
        :math:`U e`, so that :math:`q = (e - U^T g) / \\rho` is the unit direction
        of ``e`` orthogonal to the basis.
    rho : float32
        :math:`\\|e - U^T g\\|`; 0 adds no direction.
    A : (k, m) float32 ndarray
        Rotation of the old basis.
    v : (m,) float32 ndarray
        Weights of the new direction.
    nch : int
        Channels C.
    out : (m, D) float32 ndarray
        OUT: the new basis, ``A^T U + v q^T``.
    """
    k = U.shape[0]
    D = U.shape[1]
    m = out.shape[0]
    step = BLOCK * nch
    q = np.empty(step, F32)
    inv = F32(1.0) / rho if rho > F32(0.0) else F32(0.0)
    for b in range(b0, b1):
        i0, i1 = _span(b, step, D)
        n = i1 - i0
        eb = e[i0:i1]
        for i in range(n):
            q[i] = eb[i]
        for j in range(k):
            gj = g[j]
            uj = U[j, i0:i1]
            for i in range(n):
                q[i] -= uj[i] * gj
        for i in range(n):
            q[i] *= inv
        for t in range(m):
            vt = v[t]
            ot = out[t, i0:i1]
            for i in range(n):
                ot[i] = q[i] * vt
            for j in range(k):
                a = A[j, t]
                uj = U[j, i0:i1]
                for i in range(n):
                    ot[i] += uj[i] * a
