"""Per-pixel initial parameters of the EM kernels (see :mod:`bgmix._kernels.batch_em`).

Shapes as there: ``data`` ``(T, R, W, C)``; ``weights`` ``(R, W, K)``, ``means``
``(R, W, K, C)``, ``covs`` ``(R, W, K, C, C)`` float32. Parallel over rows; no
validation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._threads import run_bands

__all__ = ["INIT_QUANTILE", "INIT_RANDOM", "em_init", "pixel_hash"]

INIT_QUANTILE = 0
INIT_RANDOM = 1


@njit(inline="always")
def pixel_hash(seed, index):
    """A 64-bit mix of ``seed`` and ``index`` (splitmix64), as a float in [0, 1)."""
    z = (np.uint64(seed) + np.uint64(index + 1) * np.uint64(0x9E3779B97F4A7C15)) & np.uint64(
        0xFFFFFFFFFFFFFFFF
    )
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _init_buffers(T, C, K):
    """The arrays :func:`_init_pixel` fills for ``T`` samples of ``C`` channels and
    ``K`` components: ``w, mu, cov`` (its outputs) and the scratch ``key, group, gm,
    gcov, chosen, mom``."""
    return (
        np.empty(K),
        np.empty((K, C)),
        np.empty((K, C, C)),
        np.empty(T),
        np.empty(T, np.int64),
        np.empty(C),
        np.empty((C, C)),
        np.empty(K, np.int64),
        np.empty((1, n_moments(C))),
    )


@njit(inline="always")
def n_moments(C):
    """Length of :func:`moments`'s output for ``C`` channels: ``1 + C + C (C + 1) / 2``."""
    return 1 + C + (C * (C + 1)) // 2


@njit(fastmath=FASTMATH, inline="always")
def moments(r, k, x, T, out):
    """Moments of the samples ``x`` (C, T) weighted by ``r[k]`` (T,), for C = 1 or 3.

    ``out[k]`` receives ``n = sum_t r_t``, then ``sum_t r_t x_a[t]`` for each channel
    ``a``, then ``sum_t r_t x_a[t] x_b[t]`` for ``b <= a`` (the lower triangle, row by
    row): :func:`n_moments` values. One pass over the samples without branches, the
    sums in scalar locals, so that it vectorises. (Rows are indexed here: passing
    row views made the EM fit about 7% slower, measured.)
    """
    if x.shape[0] == 3:
        n = 0.0
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        b00 = 0.0
        b10 = 0.0
        b11 = 0.0
        b20 = 0.0
        b21 = 0.0
        b22 = 0.0
        for t in range(T):
            rk = r[k, t]
            x0 = x[0, t]
            x1 = x[1, t]
            x2 = x[2, t]
            r0 = rk * x0
            r1 = rk * x1
            r2 = rk * x2
            n += rk
            a0 += r0
            a1 += r1
            a2 += r2
            b00 += r0 * x0
            b10 += r1 * x0
            b11 += r1 * x1
            b20 += r2 * x0
            b21 += r2 * x1
            b22 += r2 * x2
        out[k, 1] = a0
        out[k, 2] = a1
        out[k, 3] = a2
        out[k, 4] = b00
        out[k, 5] = b10
        out[k, 6] = b11
        out[k, 7] = b20
        out[k, 8] = b21
        out[k, 9] = b22
    else:
        n = 0.0
        a0 = 0.0
        b00 = 0.0
        for t in range(T):
            rk = r[k, t]
            r0 = rk * x[0, t]
            n += rk
            a0 += r0
            b00 += r0 * x[0, t]
        out[k, 1] = a0
        out[k, 2] = b00
    out[k, 0] = n


@njit(fastmath=FASTMATH, inline="always")
def _params_from_moments(m, n, reg, diag, mu, cov):
    """Mean ``mu`` (C,) and covariance ``cov`` (C, C) from :func:`moments`'s ``m[0]``.

    ``mu_a = m_a / n`` and ``cov_ab = m_ab / n - mu_a mu_b`` (the biased estimate),
    the diagonal clipped at zero and raised by ``reg``; off-diagonals zero if ``diag``.
    (The EM M-step writes the same formulas out in scalars, inline: through a shared
    function the EM fit measured about 10% slower.)
    """
    C = mu.shape[0]
    for a in range(C):
        mu[a] = m[0, 1 + a] / n
    i = 1 + C
    for a in range(C):
        for b in range(a + 1):
            if diag and a != b:
                v = 0.0
            else:
                v = m[0, i] / n - mu[a] * mu[b]
            if a == b:
                v = max(v, 0.0) + reg
            cov[a, b] = v
            cov[b, a] = v
            i += 1


@njit(inline="always")
def _load_samples(data, r, j, x):
    """``x[c, t] = data[t, r, j, c]`` as float: pixel ``(r, j)``'s samples, (C, T)."""
    T, _R, _W, C = data.shape
    for t in range(T):
        for c in range(C):
            x[c, t] = float(data[t, r, j, c])


@njit(fastmath=FASTMATH)
def _init_pixel(x, K, method, seed, pix, reg, diag, buffers):
    """Initial weights, means and covariances of one pixel from its samples ``x`` (C, T).

    ``buffers`` is :func:`_init_buffers`'s tuple: the results go to ``w`` (K,), ``mu``
    (K, C) and ``cov`` (K, C, C); ``key`` (T,) float, ``group`` (T,) int, ``gm``
    (C,), ``gcov`` (C, C), ``chosen`` (K,) int and ``mom`` (1, :func:`n_moments`) are
    scratch.
    """
    w, mu, cov, key, group, gm, gcov, chosen, mom = buffers
    C, T = x.shape
    if method == INIT_RANDOM or T < K:
        # Overall mean and covariance: the random init's covariance, and the fallback
        # of the empty groups that only exist when T < K.
        for c in range(C):
            acc = 0.0
            for t in range(T):
                acc += x[c, t]
            gm[c] = acc / T
        for a in range(C):
            for b in range(a + 1):
                acc = 0.0
                for t in range(T):
                    acc += (x[a, t] - gm[a]) * (x[b, t] - gm[b])
                gcov[a, b] = acc / T
                gcov[b, a] = acc / T
    if method == INIT_RANDOM:
        # K distinct frames chosen by a hash of (seed, pixel); repeated when T < K.
        for k in range(K):
            if k >= T:
                chosen[k] = chosen[k % T]
                continue
            rank = int(pixel_hash(seed, pix * K + k) * (T - k))
            idx = -1
            cnt = -1
            for t in range(T):
                taken = False
                for i in range(k):
                    if chosen[i] == t:
                        taken = True
                if not taken:
                    cnt += 1
                    if cnt == rank:
                        idx = t
                        break
            chosen[k] = idx
        for k in range(K):
            w[k] = 1.0 / K
            for a in range(C):
                mu[k, a] = x[a, chosen[k]]
                for b in range(C):
                    v = 0.0 if (diag and a != b) else gcov[a, b]
                    cov[k, a, b] = v + reg if a == b else v
        return
    # Quantile init: the samples in a stable order of brightness, split into K groups of
    # positions [kT/K, (k+1)T/K). A sample's position is counted without branches.
    integral = True
    for t in range(T):
        acc = 0.0
        for c in range(C):
            acc += x[c, t]
        key[t] = acc
        integral &= acc == math.floor(acc)
    if integral and T < 2**20:
        # integer brightness (uint8 frames): break ties by index inside the key itself,
        # so that a position is a plain count of smaller keys
        for t in range(T):
            key[t] = key[t] * T + t
    for t in range(T):
        kt = key[t]
        if integral and T < 2**20:
            fpos = 0.0
            for u in range(T):
                fpos += 1.0 if key[u] < kt else 0.0
            pos = int(fpos)
        else:
            pos = 0
            for u in range(T):
                pos += (key[u] < kt) | ((key[u] == kt) & (u < t))
        g = 0
        for k in range(1, K):
            if pos >= (k * T) // K:
                g += 1
        group[t] = g
    # Group moments: the group's indicator (in ``key``, free now) as weights.
    ind = key.reshape((1, T))
    for k in range(K):
        for t in range(T):
            ind[0, t] = 1.0 if group[t] == k else 0.0
        moments(ind, 0, x, T, mom)
        w[k] = 1.0 / K
        if mom[0, 0] == 0.0:
            for a in range(C):
                mu[k, a] = gm[a]
                for b in range(C):
                    v = 0.0 if (diag and a != b) else gcov[a, b]
                    cov[k, a, b] = v + reg if a == b else v
            continue
        _params_from_moments(mom, mom[0, 0], reg, diag, mu[k], cov[k])


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _em_init_rows(r0, r1, data, K, method, seed, row0, width, reg, diag, weights, means, covs):
    """Rows ``[r0, r1)`` of :func:`em_init` (IN ``r0, r1``: the row band; the
    other arguments are :func:`em_init`'s)."""
    T, _R, W, C = data.shape
    for r in range(r0, r1):
        x = np.empty((C, T))
        buffers = _init_buffers(T, C, K)
        w, mu, cov = buffers[0], buffers[1], buffers[2]
        for j in range(W):
            _load_samples(data, r, j, x)
            _init_pixel(x, K, method, seed, (row0 + r) * width + j, reg, diag, buffers)
            for k in range(K):
                weights[r, j, k] = w[k]
                for a in range(C):
                    means[r, j, k, a] = mu[k, a]
                    for b in range(C):
                        covs[r, j, k, a, b] = cov[k, a, b]


# --------------------------------------------------------------------------- drivers
def em_init(*args, n_threads=1):
    """Initial parameters of every pixel of a block.

    Parameters
    ----------
    data : (T, R, W, C) array
        Samples of the block's pixels (uint8 or float, 0–255 scale).
    K : int
        Number of components.
    method : int
        :data:`INIT_QUANTILE` (sort the samples by brightness, split them into K groups
        of equal size; mean and covariance of each group; deterministic) or
        :data:`INIT_RANDOM` (means at K distinct frames drawn by a hash of ``seed`` and
        the pixel's global index ``(row0 + r) * width + j``; the pixel's overall
        covariance for every component). Weights start at ``1 / K``.
    seed : int
        Seed of the random init (ignored for quantiles).
    row0, width : int
        Global index of the block's first row and the frame width.
    reg : float
        Added to the covariance diagonal.
    diag : bool
        Zero the off-diagonal covariance entries.
    weights, means, covs : (R, W, K), (R, W, K, C), (R, W, K, C, C) float32
        Outputs.
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    run_bands(_em_init_rows, args[0].shape[1], n_threads, *args)
