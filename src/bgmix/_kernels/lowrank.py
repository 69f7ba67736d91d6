"""Fused element-wise steps of the inexact ALM for Robust PCA (``bgmix.lowrank.rpca``).

One iteration of the inexact augmented Lagrange multiplier method touches every entry
of five ``(m, n)`` matrices a few times; NumPy would make a temporary for every
operation. These kernels do each half of the iteration in one pass, parallel over rows
(every row is independent). Arrays are C-contiguous float64 ``(m, n)``; no validation.

With ``D`` the data, ``A`` the low-rank part, ``E`` the sparse part and ``Y`` the
multiplier:

``sparse_step``
    ``E = shrink(D - A + Y / mu, lam / mu)`` and ``X = D - E + Y / mu`` (the matrix
    whose singular values are thresholded next), where
    ``shrink(t, c) = sign(t) max(|t| - c, 0)``.
``dual_step``
    ``Z = D - A - E``, ``Y += mu Z``, and the per-row sums of ``Z**2`` (the caller adds
    them up in a fixed order, so the result does not depend on the thread count).
"""

from __future__ import annotations

from numba import njit, prange

from bgmix._kernels._config import FASTMATH

__all__ = ["dual_step", "sparse_step"]


@njit(parallel=True, fastmath=FASTMATH)
def sparse_step(D, A, Y, inv_mu, thr, E_out, X_out):
    """Soft-threshold ``D - A + Y/mu`` into ``E_out``; write ``D - E + Y/mu`` to ``X_out``.

    Parameters
    ----------
    D, A, Y : (m, n) float64 arrays
    inv_mu : float
        ``1 / mu``.
    thr : float
        The shrinkage threshold ``lam / mu``.
    E_out, X_out : (m, n) float64 arrays
        Out: the new sparse part and the matrix to threshold next.
    """
    m, n = D.shape
    for i in prange(m):
        for j in range(n):
            scaled = Y[i, j] * inv_mu
            t = D[i, j] - A[i, j] + scaled
            if t > thr:
                e = t - thr
            elif t < -thr:
                e = t + thr
            else:
                e = 0.0
            E_out[i, j] = e
            X_out[i, j] = D[i, j] - e + scaled


@njit(parallel=True, fastmath=FASTMATH)
def dual_step(D, A, E, Y, mu, row_sumsq):
    """``Z = D - A - E``; ``Y += mu * Z``; ``row_sumsq[i] = sum_j Z[i, j]**2``.

    Parameters
    ----------
    D, A, E : (m, n) float64 arrays
    Y : (m, n) float64 array
        In/out: the multiplier, updated in place.
    mu : float
    row_sumsq : (m,) float64 array
        Out: the squared norm of each row of ``Z``.
    """
    m, n = D.shape
    for i in prange(m):
        acc = 0.0
        for j in range(n):
            z = D[i, j] - A[i, j] - E[i, j]
            Y[i, j] += mu * z
            acc += z * z
        row_sumsq[i] = acc
