"""Per-pixel EM for Gaussian mixtures: initialisation, fit, ordering, classification.

Every pixel's colour history ``x_1 … x_T`` (``C`` = 1 or 3 channels) gets its own
``K``-component mixture. The kernels work on a block of pixel rows,
``data[t, r, j, c]`` of shape ``(T, R, W, C)`` and any real dtype (uint8 or float32,
any strides), and write per-pixel parameters into caller-allocated arrays:

* ``weights`` ``(R, W, K)`` float32,
* ``means`` ``(R, W, K, C)`` float32,
* ``covs`` ``(R, W, K, C, C)`` float32 (a diagonal model stores zero off-diagonals).

Arithmetic is float64 inside a pixel; parameters are stored as float32. The kernels are
serial, cached and GIL-free over a band of rows; the drivers spread the rows over
``n_threads`` threads with :func:`bgmix._threads.run_bands`. They never validate: the wrappers in
:mod:`bgmix.background._em` do.

The initialisation lives in :mod:`bgmix._kernels.batch_em_init` and the classification
of new frames in :mod:`bgmix._kernels.batch_em_apply`; both are re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._kernels.batch_em_apply import em_apply, em_sort
from bgmix._kernels.batch_em_init import (
    INIT_QUANTILE,
    INIT_RANDOM,
    _init_buffers,
    _init_pixel,
    _load_samples,
    em_init,
    moments,
    n_moments,
    pixel_hash,
)
from bgmix._threads import run_bands

__all__ = [
    "INIT_QUANTILE",
    "INIT_RANDOM",
    "em_apply",
    "em_fit",
    "em_init",
    "em_run",
    "em_sort",
    "pixel_hash",
]

_LOG_2PI = math.log(2.0 * math.pi)
_EPS10 = 10.0 * np.finfo(np.float64).eps  # added to N_k, as scikit-learn does
_EMPTY = 1e-10  # below this responsibility mass a component keeps its mean and covariance


@njit(fastmath=FASTMATH, inline="always")
def _fexp(y):
    """``exp(y)`` for ``y <= 0`` in pure arithmetic, so that loops calling it vectorise.

    ``y`` is clamped at -700 (``exp(-700) ~ 1e-304``: a responsibility of zero), scaled
    by 2^-10 into [-0.69, 0], where a degree-15 Taylor polynomial is exact to double
    precision, and squared ten times. Relative error below 1e-12.
    """
    u = max(y, -700.0) * (1.0 / 1024.0)
    p = 1.0 / 1307674368000.0
    p = p * u + 1.0 / 87178291200.0
    p = p * u + 1.0 / 6227020800.0
    p = p * u + 1.0 / 479001600.0
    p = p * u + 1.0 / 39916800.0
    p = p * u + 1.0 / 3628800.0
    p = p * u + 1.0 / 362880.0
    p = p * u + 1.0 / 40320.0
    p = p * u + 1.0 / 5040.0
    p = p * u + 1.0 / 720.0
    p = p * u + 1.0 / 120.0
    p = p * u + 1.0 / 24.0
    p = p * u + 1.0 / 6.0
    p = p * u + 0.5
    p = p * u + 1.0
    p = p * u + 1.0
    p = p * p  # ten squarings, written out so that the caller's loop vectorises
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p


@njit(inline="always")
def _padded(T):
    """``T`` rounded up to a multiple of 16: vector loops then need no scalar remainder."""
    return ((T + 15) // 16) * 16


@njit(fastmath=FASTMATH, inline="always")
def _log_product(s, T, K):
    """``sum(log(s[:T]))`` for normalisers ``s`` in [1, K]: the log of their product,
    in chunks short enough (``K**n < 2**1000``) that the product cannot overflow."""
    bits = 1
    while (1 << bits) < K:
        bits += 1
    n = 1000 // bits
    if T <= n:
        p = 1.0
        for t in range(T):
            p *= s[t]
        return math.log(p)
    total = 0.0
    for t0 in range(0, T, n):
        p = 1.0
        for t in range(t0, min(T, t0 + n)):
            p *= s[t]
        total += math.log(p)
    return total


@njit(fastmath=FASTMATH, inline="always")
def _normalise(v, best, s, msk, T, K):
    """Responsibilities in place of the log-densities ``v`` (K, T); returns sum of log-lik.

    ``best`` and ``s`` are (T,) scratch. Padding samples (``msk`` 0) get zero
    responsibility and add nothing to the log-likelihood. Every loop runs over the
    samples without branches, so that it vectorises.
    """
    total = 0.0
    if K == 2:
        # one exponential per sample: the larger term is exp(0) = 1
        for t in range(T):
            a = v[0, t]
            b = v[1, t]
            e = _fexp(-abs(a - b))
            m = msk[t]
            best[t] = max(a, b) * m
            s[t] = 1.0 + e * m
            v[0, t] = 1.0 if a >= b else e
            v[1, t] = e if a >= b else 1.0
        for t in range(T):
            total += best[t]
        total += _log_product(s, T, K)
        for t in range(T):
            # 1 / s for s in [1, 2]: Newton's iteration from the best linear start,
            # exact to double precision after four steps (and it vectorises)
            x = s[t]
            y = 24.0 / 17.0 - (8.0 / 17.0) * x
            y = y * (2.0 - x * y)
            y = y * (2.0 - x * y)
            y = y * (2.0 - x * y)
            y = y * (2.0 - x * y)
            inv = msk[t] * y
            v[0, t] *= inv
            v[1, t] *= inv
    else:
        for t in range(T):
            best[t] = v[0, t]
        for k in range(1, K):
            for t in range(T):
                best[t] = max(best[t], v[k, t])
        for t in range(T):
            s[t] = 0.0
        for k in range(K):
            for t in range(T):
                e = _fexp(v[k, t] - best[t])
                v[k, t] = e
                s[t] += e
        for t in range(T):
            m = msk[t]
            total += best[t] * m
            s[t] = 1.0 + (s[t] - 1.0) * m
        total += _log_product(s, T, K)
        for t in range(T):
            s[t] = msk[t] / s[t]
        for k in range(K):
            for t in range(T):
                v[k, t] *= s[t]
    return total


@njit(fastmath=FASTMATH, inline="always")
def _root(v, floor):
    """``sqrt(v)``, or ``floor`` where ``v`` is not positive (a degenerate pivot)."""
    return math.sqrt(v) if v > 0.0 else floor


@njit(fastmath=FASTMATH)
def _em_pixel(x, msk, n_real, w, mu, cov, tol, max_iter, reg, diag, v, best, s, acc):
    """EM on one pixel's samples ``x`` (C, Tp), C = 1 or 3, in place on ``w``, ``mu``, ``cov``.

    Samples ``t`` with ``msk[t] = 0`` are padding (``Tp`` is a multiple of 16 so that
    every vector loop runs without a scalar remainder); ``n_real`` counts the others.
    ``v`` (K, Tp), ``best`` and ``s`` (Tp,) and ``acc`` (K, :func:`n_moments`) are
    scratch.

    Returns ``(n_iter, converged, mean log-likelihood)``. The loop is
    scikit-learn's: E-step (log-likelihood of the current parameters), M-step, stop
    when the change of the mean log-likelihood is below ``tol``. The E-step whitens a
    sample with the covariance's Cholesky factor ``L`` (``z = L^{-1} (x - mu)``, log
    density ``log w - (C log 2 pi + log det Sigma + |z|^2) / 2``), written out in
    scalar locals for each channel count; the M-step takes the responsibility-weighted
    moments of :func:`moments` (mean ``m_a / n``, covariance ``m_ab / n - mu_a mu_b``,
    the diagonal clipped at zero and raised by ``reg``). Each pass runs over the
    samples without branches so that it vectorises.
    """
    C, T = x.shape
    K = w.shape[0]
    prev = -np.inf
    ll = -np.inf
    converged = False
    n_iter = 0
    const = C * _LOG_2PI
    floor = math.sqrt(reg + 1e-12)
    for it in range(max_iter):
        n_iter = it + 1
        for k in range(K):
            l00 = _root(cov[k, 0, 0], floor)
            i00 = 1.0 / l00
            logw = math.log(w[k]) if w[k] > 0.0 else -1e300
            m0 = mu[k, 0]
            if C == 3:
                l10 = cov[k, 1, 0] / l00
                l20 = cov[k, 2, 0] / l00
                l11 = _root(cov[k, 1, 1] - l10 * l10, floor)
                l21 = (cov[k, 2, 1] - l20 * l10) / l11
                l22 = _root(cov[k, 2, 2] - l20 * l20 - l21 * l21, floor)
                off = logw - 0.5 * (const + 2.0 * math.log(l00 * l11 * l22))
                i11 = 1.0 / l11
                i22 = 1.0 / l22
                m1 = mu[k, 1]
                m2 = mu[k, 2]
                for t in range(T):
                    z0 = (x[0, t] - m0) * i00
                    z1 = (x[1, t] - m1 - l10 * z0) * i11
                    z2 = (x[2, t] - m2 - l20 * z0 - l21 * z1) * i22
                    v[k, t] = off - 0.5 * (z0 * z0 + z1 * z1 + z2 * z2)
            else:
                off = logw - 0.5 * (const + 2.0 * math.log(l00))
                for t in range(T):
                    z0 = (x[0, t] - m0) * i00
                    v[k, t] = off - 0.5 * z0 * z0
        ll = _normalise(v, best, s, msk, T, K) / n_real
        # M-step: responsibility-weighted moments, one vectorised pass per component
        norm = 0.0
        for k in range(K):
            moments(v, k, x, T, acc)
            norm += acc[k, 0] + _EPS10
        for k in range(K):
            n = acc[k, 0] + _EPS10
            w[k] = n / norm
            if acc[k, 0] < _EMPTY:
                continue  # an empty component keeps its mean and covariance
            m0 = acc[k, 1] / n
            mu[k, 0] = m0
            if C == 1:
                cov[k, 0, 0] = max(acc[k, 2] / n - m0 * m0, 0.0) + reg
                continue
            m1 = acc[k, 2] / n
            m2 = acc[k, 3] / n
            mu[k, 1] = m1
            mu[k, 2] = m2
            cov[k, 0, 0] = max(acc[k, 4] / n - m0 * m0, 0.0) + reg
            cov[k, 1, 1] = max(acc[k, 6] / n - m1 * m1, 0.0) + reg
            cov[k, 2, 2] = max(acc[k, 9] / n - m2 * m2, 0.0) + reg
            if diag:
                c10 = 0.0
                c20 = 0.0
                c21 = 0.0
            else:
                c10 = acc[k, 5] / n - m1 * m0
                c20 = acc[k, 7] / n - m2 * m0
                c21 = acc[k, 8] / n - m2 * m1
            cov[k, 1, 0] = c10
            cov[k, 0, 1] = c10
            cov[k, 2, 0] = c20
            cov[k, 0, 2] = c20
            cov[k, 2, 1] = c21
            cov[k, 1, 2] = c21
        if abs(ll - prev) < tol:
            converged = True
            break
        prev = ll
    return n_iter, converged, ll


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _em_rows(
    r0,
    r1,
    data,
    init,
    method,
    seed,
    row0,
    width,
    tol,
    max_iter,
    reg,
    diag,
    weights,
    means,
    covs,
    n_iter,
    converged,
    loglik,
):
    """EM on rows ``[r0, r1)`` of a block (IN ``r0, r1``), one gather per pixel.

    ``init`` (IN bool): start from :func:`em_init`'s parameters (``method``, ``seed``,
    ``row0``, ``width`` as there; rounded through float32 as :func:`em_init` stores
    them), else from ``weights``, ``means``, ``covs``. The other arguments are
    :func:`em_run`'s; the number of components is ``weights.shape[2]``.
    """
    T, _R, W, C = data.shape
    K = weights.shape[2]
    Tp = _padded(T)
    for r in range(r0, r1):
        buffers = _init_buffers(T, C, K)
        w, mu, cov = buffers[0], buffers[1], buffers[2]
        xp = np.empty((C, Tp))
        msk = np.zeros(Tp)
        msk[:T] = 1.0
        v = np.empty((K, Tp))
        best = np.empty(Tp)
        s = np.empty(Tp)
        acc = np.empty((K, n_moments(C)))
        for j in range(W):
            _load_samples(data, r, j, xp)
            for t in range(T, Tp):
                for c in range(C):
                    xp[c, t] = xp[c, 0]
            if init:
                pix = (row0 + r) * width + j
                x = xp[:, :T]
                _init_pixel(x, K, method, seed, pix, reg, diag, buffers)
            else:
                w[:] = weights[r, j]
                mu[:] = means[r, j]
                cov[:] = covs[r, j]
            # round the initial parameters through float32, as em_init stores them
            for k in range(K):
                w[k] = np.float32(w[k])
                for a in range(C):
                    mu[k, a] = np.float32(mu[k, a])
                    for b in range(C):
                        cov[k, a, b] = np.float32(cov[k, a, b])
            it, ok, ll = _em_pixel(
                xp, msk, T, w, mu, cov, tol, max_iter, reg, diag, v, best, s, acc
            )
            n_iter[r, j] = it
            converged[r, j] = ok
            loglik[r, j] = ll
            weights[r, j] = w
            means[r, j] = mu
            covs[r, j] = cov


# --------------------------------------------------------------------------- drivers
def em_run(data, *args, n_threads=1):
    """Run EM on every pixel of a block, starting from (and overwriting) the parameters.

    Parameters
    ----------
    data : (T, R, W, C) array
        Samples (uint8 or float, 0–255 scale), C = 1 or 3.
    tol : float
        Stop a pixel when its mean log-likelihood changes by less than this.
    max_iter : int
        Maximum number of EM iterations (E-step + M-step) per pixel.
    reg : float
        Added to the covariance diagonal in every M-step.
    diag : bool
        Diagonal covariances (off-diagonal entries stay zero).
    weights, means, covs : (R, W, K), (R, W, K, C), (R, W, K, C, C) float32
        Initial parameters in, fitted parameters out.
    n_iter : (R, W) int32
        Out: iterations run per pixel.
    converged : (R, W) bool
        Out: whether the pixel met ``tol`` before ``max_iter``.
    loglik : (R, W) float32
        Out: mean log-likelihood of the samples under the parameters of the last E-step.
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    run_bands(_em_rows, data.shape[1], n_threads, data, False, 0, 0, 0, data.shape[2], *args)


def em_fit(data, K, *args, n_threads=1):
    """:func:`em_init` then :func:`em_run` in one pass over the block (one gather per pixel).

    Arguments: ``data, K, method, seed, row0, width`` as for :func:`em_init`, then
    ``tol, max_iter, reg, diag, weights, means, covs, n_iter, converged, loglik`` as
    for :func:`em_run` (``weights`` etc. are outputs only); gives bit-identical
    results to the two kernels.
    """
    run_bands(_em_rows, data.shape[1], n_threads, data, True, *args)
