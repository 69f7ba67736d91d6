"""Per-pixel steps shared by the ``apply`` kernels of the batch models (``em`` and
``pixel-kmeans``): the ranked background decision, the restart at a frame and the
online weight update.

Each pixel ``(r, j)`` holds ``K`` components ordered by decreasing weight in
``weights[r, j, :]``, with their centres in ``centers[r, j, :, :]``. Every function is
inlined into its caller, so it costs nothing over writing the loop in place.
"""

from __future__ import annotations

from numba import njit

from bgmix._kernels._config import FASTMATH

__all__ = ["blend_weights", "ranked_foreground", "restart_pixel"]


@njit(fastmath=FASTMATH, inline="always")
def ranked_foreground(d2, weights, r, j, thr2, bg_ratio):
    """Stauffer and Grimson's decision (CVPR 1999) for pixel ``(r, j)``.

    The background components are the first :math:`B` whose cumulative weight reaches
    ``bg_ratio``; the pixel is foreground unless its squared distance ``d2[k]`` to one
    of them is below ``thr2``. IN ``d2`` (K,), ``weights`` (H, W, K); returns bool.
    """
    cum = 0.0
    for k in range(d2.shape[0]):
        if d2[k] < thr2:
            return False
        cum += weights[r, j, k]
        if cum >= bg_ratio:
            return True
    return True


@njit(fastmath=FASTMATH, inline="always")
def restart_pixel(weights, centers, r, j, x):
    """Restart pixel ``(r, j)`` at the sample ``x`` (C,): one component of weight 1
    centred on it, the others weightless. OUT ``weights``, ``centers[r, j, 0]``."""
    weights[r, j, 0] = 1.0
    for k in range(1, weights.shape[2]):
        weights[r, j, k] = 0.0
    for c in range(x.shape[0]):
        centers[r, j, 0, c] = x[c]


@njit(fastmath=FASTMATH, inline="always")
def blend_weights(weights, r, j, matched, alpha):
    """Online weight update of pixel ``(r, j)``,
    :math:`w_k \\leftarrow (1 - \\alpha) w_k + \\alpha [k = m]`, renormalised to sum
    to 1 (``m = matched``). IN/OUT ``weights``."""
    total = 0.0
    for k in range(weights.shape[2]):
        wk = (1.0 - alpha) * weights[r, j, k] + (alpha if k == matched else 0.0)
        weights[r, j, k] = wk
        total += wk
    for k in range(weights.shape[2]):
        weights[r, j, k] /= total
