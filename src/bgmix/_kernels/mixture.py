"""Gaussian-mixture kernels: fused E-step + M-step statistics, and scoring.

Pure functions over arrays, no validation (the wrappers in :mod:`bgmix.mixture`
validate and allocate). Two families cover the four covariance types:

* ``full``: a per-component upper-triangular precision Cholesky factor ``U_k``
  (``(K, D, D)``); ``tied`` passes the shared factor repeated ``K`` times.
* ``diag``: a per-component diagonal precision ``(K, D)``; ``spherical`` passes its
  scalar precision repeated over the ``D`` features.

For sample ``x`` and component ``k`` the weighted log density is

.. math::

    \\ell_k(x) = \\log\\pi_k + \\log|U_k| - \\tfrac{D}{2}\\log 2\\pi
                - \\tfrac12 \\lVert (x - \\mu_k)^\\top U_k \\rVert^2 ,

the constant part ``log_norm[k] = log pi_k + log|U_k| - D/2 log 2 pi`` is computed
once by the caller. Responsibilities are ``r_k = exp(l_k - logsumexp(l))``.

The EM kernels visit every sample once: log densities, log-sum-exp (one ``exp``
per component), responsibilities and the M-step sufficient statistics, accumulated
**around the current means** (``x - mu_k``, which the log density needs anyway) so
that the covariance update does not suffer from cancellation:

``nk[k] = sum_i r_ik``, ``s1[k] = sum_i r_ik (x_i - mu_k)``,
``s2[k] = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T`` (full) or its diagonal (diag).

Samples are split into fixed blocks whose count depends only on the data size, not
on the number of threads; each block owns its partial sums and the blocks are summed
in order at the end, so results are bit-identical for any ``n_jobs``. All arithmetic
is float64 whatever the dtype of ``X`` (float32 inputs are read as they are).

The per-block kernels (:mod:`bgmix._kernels.mixture_blocks`) are serial, cached,
GIL-free Numba functions; the range functions here loop over a range of blocks and
:func:`bgmix._threads.run_bands` runs the ranges on ``n_threads`` threads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH, readonly
from bgmix._kernels.mixture_blocks import (
    MODE_LABELS,
    MODE_LOG_NORM,
    MODE_RESP,
    MODE_WEIGHTED,
    _hard_block_full,
    em_block,
    score_block,
)
from bgmix._threads import run_bands

__all__ = [
    "MODE_LABELS",
    "MODE_LOG_NORM",
    "MODE_RESP",
    "MODE_WEIGHTED",
    "block_layout",
    "em_diag",
    "em_full",
    "hard_stats",
    "score_diag",
    "score_full",
]

#: Samples per block unless the per-block buffers would grow too large.
_BLOCK_ROWS = 2048
#: Upper bound of the bytes held by all per-block partial statistics.
_MAX_PARTIAL_BYTES = 64 * 2**20


def block_layout(n_samples: int, stats_per_block: int) -> tuple[int, int]:
    """``(block_rows, n_blocks)`` for ``n_samples`` rows, independent of thread count.

    ``stats_per_block`` is the number of float64 partial sums one block holds; the
    block count is capped so that all partials stay below 64 MiB.
    """
    n_blocks = max(1, -(-n_samples // _BLOCK_ROWS))
    cap = max(1, _MAX_PARTIAL_BYTES // (8 * max(1, stats_per_block)))
    n_blocks = min(n_blocks, cap)
    rows = max(1, -(-n_samples // n_blocks))
    return rows, -(-n_samples // rows)


# ---------------------------------------------------------------- block ranges
# Each processes blocks [b0, b1) of ``rows`` rows; run by run_bands.


class RangeKernels(NamedTuple):
    """Range kernels over blocks ``[b0, b1)`` of ``rows`` rows, for one feature count.

    ``em_full`` / ``em_diag(b0, b1, X, rows, means, factor, log_norm, part_ll, part_nk,
    part_s1, part_s2)``: each block ``b`` writes its own partials ``part_*[b]`` (OUT).
    ``score_full`` / ``score_diag(b0, b1, X, rows, means, factor, log_norm, mode,
    labels, log_prob_norm, out)``: the rows' outputs (OUT).
    """

    em_full: Any
    em_diag: Any
    score_full: Any
    score_diag: Any


def _range_kernels(n_features: int) -> RangeKernels:
    """The range kernels, written once, built for ``n_features`` features (0: any).

    Only plain constants are captured (``n_features``, ``full``), so that the compiled
    code is cached on disk like any other kernel's.
    """

    def em_range(full):
        @njit(fastmath=FASTMATH, cache=True, nogil=True)
        def em(b0, b1, X, rows, means, factor, log_norm, part_ll, part_nk, part_s1, part_s2):
            nf = X.shape[1] if n_features == 0 else n_features
            n = X.shape[0]
            for b in range(b0, b1):
                start, stop = b * rows, min(n, (b + 1) * rows)
                nk, s1, s2 = part_nk[b], part_s1[b], part_s2[b]
                part_ll[b] = em_block(X, start, stop, nf, full, means, factor, log_norm, nk, s1, s2)

        return em

    def score_range(full):
        @njit(fastmath=FASTMATH, cache=True, nogil=True)
        def score(b0, b1, X, rows, means, factor, log_norm, mode, labels, lpn, out):
            nf = X.shape[1] if n_features == 0 else n_features
            n = X.shape[0]
            for b in range(b0, b1):
                start, stop = b * rows, min(n, (b + 1) * rows)
                score_block(
                    X, start, stop, nf, full, means, factor, log_norm, mode, labels, lpn, out
                )

        return score

    return RangeKernels(em_range(True), em_range(False), score_range(True), score_range(False))


#: Range kernels for 3 features (pixels) and for any number.
_RANGES = {3: _range_kernels(3), 0: _range_kernels(0)}


def _ranges(X: np.ndarray) -> RangeKernels:
    return _RANGES[3 if X.shape[1] == 3 else 0]


@njit(cache=True, nogil=True)
def _hard_range(b0, b1, X, rows, labels, shift, part_nk, part_s1, part_s2):
    n = X.shape[0]
    for b in range(b0, b1):
        _hard_block_full(
            X, b * rows, min(n, (b + 1) * rows), labels, shift, part_nk[b], part_s1[b], part_s2[b]
        )


# ---------------------------------------------------------------- public wrappers


def _em(X, means, factor, log_norm, full, block_rows, n_threads):
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    n_blocks = -(-n_samples // block_rows)
    part_ll = np.zeros(n_blocks)
    part_nk = np.zeros((n_blocks, n_components))
    part_s1 = np.zeros((n_blocks, n_components, n_features))
    stats_shape = (n_features, n_features) if full else (n_features,)
    part_s2 = np.zeros((n_blocks, n_components, *stats_shape))
    run_bands(
        _ranges(X).em_full if full else _ranges(X).em_diag,
        n_blocks,
        n_threads,
        readonly(X),
        block_rows,
        means,
        factor,
        log_norm,
        part_ll,
        part_nk,
        part_s1,
        part_s2,
    )
    # Blocks are summed in order (NumPy reduces axis 0 row by row): the result does
    # not depend on how the blocks were spread over threads.
    s2 = part_s2.sum(axis=0)
    if full:
        s2 = np.triu(s2) + np.swapaxes(np.triu(s2, 1), 1, 2)
    return float(part_ll.sum()), part_nk.sum(axis=0), part_s1.sum(axis=0), s2


def em_full(X, means, prec_chol, log_norm, block_rows, n_threads=1):
    """One E-step with the M-step statistics, full (or tied) covariances.

    Parameters
    ----------
    X : (N, D) float32 or float64 array
    means : (K, D) float64 array
    prec_chol : (K, D, D) float64 array, upper-triangular precision Cholesky factors
    log_norm : (K,) float64 array, ``log w_k + log|U_k| - D/2 log(2 pi)``
    block_rows : int, rows per block (see :func:`block_layout`)
    n_threads : int, threads (a resolved ``n_jobs``); results do not depend on it

    Returns
    -------
    sum_log_prob : float, ``sum_i log p(x_i)``
    nk : (K,) float64, ``sum_i r_ik``
    s1 : (K, D) float64, ``sum_i r_ik (x_i - mu_k)``
    s2 : (K, D, D) float64, ``sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T``
    """
    return _em(X, means, prec_chol, log_norm, True, block_rows, n_threads)


def em_diag(X, means, precisions, log_norm, block_rows, n_threads=1):
    """One E-step with the M-step statistics, diagonal (or spherical) covariances.

    Parameters
    ----------
    X : (N, D) float32 or float64 array
    means : (K, D) float64 array
    precisions : (K, D) float64 array, diagonal precisions ``1 / sigma^2``
    log_norm : (K,) float64 array
    block_rows : int

    Returns
    -------
    sum_log_prob : float
    nk : (K,) float64
    s1 : (K, D) float64, ``sum_i r_ik (x_i - mu_k)``
    s2 : (K, D) float64, ``sum_i r_ik (x_i - mu_k)^2``
    """
    return _em(X, means, precisions, log_norm, False, block_rows, n_threads)


def score_full(
    X, means, prec_chol, log_norm, mode, labels, log_prob_norm, out, block_rows, n_threads=1
):
    """Score samples under a full (or tied) mixture, in place.

    ``mode`` selects what is written: :data:`MODE_LABELS` -> ``labels`` (N,) int64,
    the argmax component; :data:`MODE_LOG_NORM` -> ``log_prob_norm`` (N,)
    ``log p(x)``; :data:`MODE_RESP` -> ``log_prob_norm`` and ``out`` (N, K)
    responsibilities; :data:`MODE_WEIGHTED` -> ``out`` (N, K) the weighted log
    densities. Arrays not written may be empty; float outputs take the dtype of
    ``X`` (computed in float64).
    """
    n_blocks = -(-X.shape[0] // block_rows)
    run_bands(
        _ranges(X).score_full,
        n_blocks,
        n_threads,
        readonly(X),
        block_rows,
        means,
        prec_chol,
        log_norm,
        mode,
        labels,
        log_prob_norm,
        out,
    )


def score_diag(
    X, means, precisions, log_norm, mode, labels, log_prob_norm, out, block_rows, n_threads=1
):
    """Score samples under a diagonal (or spherical) mixture; see :func:`score_full`."""
    n_blocks = -(-X.shape[0] // block_rows)
    run_bands(
        _ranges(X).score_diag,
        n_blocks,
        n_threads,
        readonly(X),
        block_rows,
        means,
        precisions,
        log_norm,
        mode,
        labels,
        log_prob_norm,
        out,
    )


def hard_stats(X, labels, shift, full, block_rows, n_threads=1):
    """Sufficient statistics of a hard assignment (one-hot responsibilities).

    Parameters
    ----------
    X : (N, D) float32 or float64 array
    labels : (N,) int64 array in ``[0, K)``
    shift : (K, D) float64 array, the point each component's sums are taken around
    full : bool, return the full ``(D, D)`` scatter (else only its diagonal)
    block_rows : int

    Returns
    -------
    nk : (K,) float64, the counts
    s1 : (K, D) float64, ``sum_{i in k} (x_i - shift_k)``
    s2 : (K, D, D) float64 if ``full``, else (K, D): ``sum_{i in k} (x_i - shift_k)(...)^T``
    """
    n_samples, n_features = X.shape
    n_components = shift.shape[0]
    n_blocks = -(-n_samples // block_rows)
    part_nk = np.zeros((n_blocks, n_components))
    part_s1 = np.zeros((n_blocks, n_components, n_features))
    part_s2 = np.zeros((n_blocks, n_components, n_features, n_features))
    run_bands(
        _hard_range,
        n_blocks,
        n_threads,
        readonly(X),
        block_rows,
        labels,
        shift,
        part_nk,
        part_s1,
        part_s2,
    )
    s2 = part_s2.sum(axis=0)
    s2 = np.triu(s2) + np.swapaxes(np.triu(s2, 1), 1, 2)
    if not full:
        s2 = np.diagonal(s2, 0, 1, 2).copy()
    return part_nk.sum(axis=0), part_s1.sum(axis=0), s2
