"""Numba kernels of the online Robust PCA subtractor, ``rpca-online``.

The frame is one column ``x`` of ``D = H W C`` values in the frame's own interleaved
order (``frame.reshape(-1)``: a pixel's channels are consecutive), and the
background subspace is ``U`` of shape ``(k, D)`` float32, one basis vector a row, so
that every loop below runs over consecutive memory and vectorises.

Each kernel walks *blocks* of ``BLOCK`` pixels ``[b0, b1)`` and writes only its own
blocks' outputs; the reductions (``U e`` and ``e . e``) go to one row of
``partial`` per block, which the caller sums in block order, so the result does not
depend on how :func:`bgmix._threads.run_bands` cuts the blocks over threads.

Kernels
-------
``huber_blocks(b0, b1, x, U, c, lam, nch, thr, partial, e, mask, classify)``
    with :math:`\\ell = U^T c` and the clipped residual
    :math:`e = \\operatorname{clip}(x - \\ell, -\\lambda, \\lambda)`, write
    ``partial[b, :k] = U_b e_b`` and ``partial[b, k] = e_b . e_b``; when ``classify``
    also store ``e`` and the mask, 255 where :math:`\\max_c |x - \\ell| > \\tau`
    (``thr``), else 0.
``update_blocks(b0, b1, U, e, g, rho, A, v, out)``
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


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def huber_blocks(b0, b1, x, U, c, lam, nch, thr, partial, e, mask, classify):
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
    """
    k = U.shape[0]
    D = U.shape[1]
    step = BLOCK * nch
    low = np.empty(step, F32)
    res = np.empty(step, F32)
    for b in range(b0, b1):
        i0 = b * step
        n = min(i0 + step, D) - i0
        for i in range(n):
            low[i] = F32(0.0)
        for j in range(k):
            cj = c[j]
            for i in range(n):
                low[i] += U[j, i0 + i] * cj
        ss = 0.0
        for i in range(n):
            r = F32(x[i0 + i]) - low[i]
            res[i] = r
            rc = min(max(r, -lam), lam)
            low[i] = rc
            ss += np.float64(rc) * np.float64(rc)
        for j in range(k):
            acc = 0.0
            for i in range(n):
                acc += np.float64(U[j, i0 + i] * low[i])
            partial[b, j] = acc
        partial[b, k] = ss
        if classify:
            for i in range(n):
                e[i0 + i] = low[i]
            p0 = i0 // nch
            for p in range(n // nch):
                d = F32(0.0)
                for ch in range(nch):
                    d = max(d, abs(res[p * nch + ch]))
                mask[p0 + p] = np.uint8(255) if d > thr else np.uint8(0)


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
        i0 = b * step
        n = min(i0 + step, D) - i0
        for i in range(n):
            q[i] = e[i0 + i]
        for j in range(k):
            gj = g[j]
            for i in range(n):
                q[i] -= U[j, i0 + i] * gj
        for i in range(n):
            q[i] *= inv
        for t in range(m):
            vt = v[t]
            for i in range(n):
                out[t, i0 + i] = q[i] * vt
            for j in range(k):
                a = A[j, t]
                for i in range(n):
                    out[t, i0 + i] += U[j, i0 + i] * a
