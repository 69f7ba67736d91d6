"""Numba kernel of the neighbourhood test of ``gmm-consensus``: is a foreground
pixel explained by the background model of a neighbour?

After the ``gmm-full`` band kernel (:mod:`bgmix._kernels.online_gmm_full`) has
classified and updated every row of a frame, :func:`displaced_rows` looks at the
pixels it called foreground and tests each against the background components of its
neighbours (Elgammal, Harwood & Davis 2000, the *displacement probability*): water,
foliage and a shaking camera move background colours by a pixel or two, so a pixel
that one of its neighbours' backgrounds explains is displaced background, not an
object. Only foreground pixels pay for the test.

:func:`displaced_rows` reads the model (the state of ``GMMFullState``, whatever
band updated it) and the frame, and writes only its own rows of ``explained``, so
bands run on several threads give the same flags as one band. :func:`blob_misses_rows` and
:func:`drop_displaced` make the same test per blob of the mask (Elgammal's component
displacement probability), the first in row bands too; a blob is given up at its
first pixels that no neighbour explains, so that objects cost almost nothing.

Before the full Mahalanobis test, a component is rejected when one channel alone
is too far (:func:`_marginal_reject`), which ends most tests.

:func:`shadow_rows` relabels the remaining foreground that is a darker copy of one
of the pixel's own background components (a cast shadow, Prati et al. 2003), the
test of ``mog2`` generalised to a full covariance.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH

__all__ = ["blob_budget", "blob_misses_rows", "displaced_rows", "drop_displaced", "shadow_rows"]

F32 = np.float32


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _adjugate_form(cov, m, yy, xx, e0, e1, e2, floor):
    """``(e^T adj(Σ) e, max(det Σ, floor))`` for the 3x3 covariance ``m`` of pixel
    ``(yy, xx)``, so that ``e^T Σ^-1 e < t`` is ``q < t * det`` without a division."""
    a = cov[m, 0, yy, xx]
    b = cov[m, 1, yy, xx]
    c = cov[m, 2, yy, xx]
    d = cov[m, 3, yy, xx]
    e = cov[m, 4, yy, xx]
    f = cov[m, 5, yy, xx]
    # cofactors of the symmetric matrix [[a, b, c], [b, d, e], [c, e, f]]
    ca = d * f - e * e
    cb = c * e - b * f
    cc = b * e - c * d
    cd = a * f - c * c
    ce = b * c - a * e
    cf = a * d - b * b
    det = max(a * ca + b * cb + c * cc, floor)
    q = ca * e0 * e0 + cd * e1 * e1 + cf * e2 * e2
    q += F32(2.0) * (cb * e0 * e1 + cc * e0 * e2 + ce * e1 * e2)
    return q, det


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _component_matches(frame, y, x, mean, cov, m, yy, xx, lam2, floor):
    """True when pixel ``(y, x)`` of ``frame`` is within Mahalanobis distance
    ``sqrt(lam2)`` of component ``m`` of pixel ``(yy, xx)``; also returns the
    component's ``1 / sqrt(det Σ)`` (its ranking key divided by its weight)."""
    if mean.shape[1] == 3:
        e0 = F32(frame[y, x, 0]) - mean[m, 0, yy, xx]
        e1 = F32(frame[y, x, 1]) - mean[m, 1, yy, xx]
        e2 = F32(frame[y, x, 2]) - mean[m, 2, yy, xx]
        q, det = _adjugate_form(cov, m, yy, xx, e0, e1, e2, floor)
        return q < lam2 * det, F32(1.0) / math.sqrt(det)
    v = max(cov[m, 0, yy, xx], floor)
    e0 = F32(frame[y, x, 0]) - mean[m, 0, yy, xx]
    return e0 * e0 < lam2 * v, F32(1.0) / math.sqrt(v)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _marginal_reject(frame, y, x, mean, cov, m, yy, xx, lam2):
    r"""True when a single channel already puts pixel ``(y, x)`` beyond the match
    threshold of component ``m`` of pixel ``(yy, xx)``: for a positive definite
    :math:`\Sigma`, :math:`e^\top \Sigma^{-1} e \ge e_c^2 / \Sigma_{cc}` for every
    channel :math:`c`, so the full test can be skipped (most tests end here)."""
    e0 = F32(frame[y, x, 0]) - mean[m, 0, yy, xx]
    if e0 * e0 >= lam2 * cov[m, 0, yy, xx]:
        return True
    if mean.shape[1] == 3:
        e1 = F32(frame[y, x, 1]) - mean[m, 1, yy, xx]
        if e1 * e1 >= lam2 * cov[m, 3, yy, xx]:
            return True
        e2 = F32(frame[y, x, 2]) - mean[m, 2, yy, xx]
        if e2 * e2 >= lam2 * cov[m, 5, yy, xx]:
            return True
    return False


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _inv_sqrt_det(mean, cov, m, yy, xx, floor):
    """``1 / sqrt(det Σ)`` of component ``m`` of pixel ``(yy, xx)`` (its ranking key
    divided by its weight), with ``det Σ`` floored as in :func:`_component_matches`."""
    if mean.shape[1] == 3:
        _, det = _adjugate_form(cov, m, yy, xx, F32(0.0), F32(0.0), F32(0.0), floor)
        return F32(1.0) / math.sqrt(det)
    return F32(1.0) / math.sqrt(max(cov[m, 0, yy, xx], floor))


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _weight_ranked_before(weight, mean, cov, m, yy, xx, isdet, floor):
    """Weight of the components of pixel ``(yy, xx)`` ranked before component ``m``
    (``isdet``: its ``1 / sqrt(det Σ)``) by ``w / sqrt(det Σ)``, ties to the lower
    index: ``m`` is background under the ranked rule when this is below ``tbr``."""
    key = weight[m, yy, xx] * isdet
    cum = F32(0.0)
    for j in range(weight.shape[0]):
        if j == m:
            continue
        kj = weight[j, yy, xx] * _inv_sqrt_det(mean, cov, j, yy, xx, floor)
        if kj > key or (kj == key and j < m):
            cum += weight[j, yy, xx]
    return cum


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _explained_by(frame, y, x, weight, mean, cov, yy, xx, lam2, tbr, ranked, floor):
    """True when a background component of pixel ``(yy, xx)`` matches pixel ``(y, x)``.

    Background components follow ``gmm-full``'s rule: with ``ranked``, the
    components ranked by ``w / sqrt(det Σ)`` (ties to the lower index) before which
    less than ``tbr`` of the weight comes; otherwise every component.
    """
    kmax = weight.shape[0]
    for m in range(kmax):
        if _marginal_reject(frame, y, x, mean, cov, m, yy, xx, lam2):
            continue
        ok, isdet = _component_matches(frame, y, x, mean, cov, m, yy, xx, lam2, floor)
        if not ok:
            continue
        if not ranked or _weight_ranked_before(weight, mean, cov, m, yy, xx, isdet, floor) < tbr:
            return True
    return False


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _explained_near(frame, y, x, weight, mean, cov, radius, lam2, tbr, ranked, floor):
    """True when a background component of a pixel within Chebyshev distance
    ``radius`` of ``(y, x)`` (itself excluded) matches pixel ``(y, x)``. The rings at
    distance 1, 2, ... are visited in turn, so that the nearest neighbours, which
    explain most displaced pixels, are tried first."""
    h, w = weight.shape[1], weight.shape[2]
    for d in range(1, radius + 1):
        for yy in range(y - d, y + d + 1):
            if yy < 0 or yy >= h:
                continue
            edge = yy == y - d or yy == y + d
            step = 1 if edge else 2 * d
            for xx in range(x - d, x + d + 1, step):
                if xx < 0 or xx >= w:
                    continue
                if _explained_by(frame, y, x, weight, mean, cov, yy, xx, lam2, tbr, ranked, floor):
                    return True
    return False


@njit(cache=True, nogil=True, error_model="numpy")
def displaced_rows(
    y0, y1, frame, weight, mean, cov, mask, explained, radius, lam2, tbr, ranked, var_min
):
    """Flag the foreground pixels of rows ``[y0, y1)`` that a neighbour's background
    explains.

    Parameters
    ----------
    y0, y1 : int
        IN: the band of rows.
    frame : (H, W, C) uint8 or float32 ndarray
        IN: the frame (0–255 scale), C in {1, 3}.
    weight, mean, cov : float32 ndarrays
        IN: the ``gmm-full`` model, ``(K, H, W)``, ``(K, C, H, W)`` and ``(K, S, H,
        W)`` (see :class:`~bgmix._kernels.online_gmm_full.GMMFullState`).
    mask : (H, W) uint8 ndarray
        IN: the model's mask (255 foreground).
    explained : (H, W) uint8 ndarray
        OUT (rows ``[y0, y1)``): 1 where ``mask`` is 255 and a background component
        of a pixel within Chebyshev distance ``radius`` (the pixel itself excluded)
        matches the frame's pixel, else 0.
    radius : int
        IN: the neighbourhood's Chebyshev radius (at least 1).
    lam2 : float32
        IN: the squared Mahalanobis match threshold.
    tbr : float32
        IN: ``background_ratio`` of the ranked rule.
    ranked : bool
        IN: the ranked background rule (else every component is background).
    var_min : float32
        IN: the model's ``var_min`` (a floor of ``det Σ`` follows from it as in the
        ``gmm-full`` kernel).
    """
    w = mask.shape[1]
    nch = mean.shape[1]
    floor = var_min * F32(1e-3)
    if nch == 3:
        floor = floor * floor * floor
    for y in range(y0, y1):
        for x in range(w):
            if mask[y, x] != 255:
                explained[y, x] = 0
                continue
            hit = _explained_near(frame, y, x, weight, mean, cov, radius, lam2, tbr, ranked, floor)
            explained[y, x] = 1 if hit else 0


def blob_budget(labels, n_labels, share):
    """``(n_labels,)`` int64: the unexplained pixels each blob of ``labels`` may have
    and still be displaced, ``floor((1 - share) * area)`` (no count needed for
    ``share = 1``: every budget is 0)."""
    if share == 1.0:
        return np.zeros(n_labels, np.int64)
    area = np.bincount(labels.ravel(), minlength=n_labels)
    return np.floor((1.0 - share) * area + 1e-9).astype(np.int64)


@njit(cache=True, nogil=True, error_model="numpy")
def blob_misses_rows(
    y0, y1, frame, weight, mean, cov, labels, allowed, missed_at, radius, lam2, tbr, ranked, var_min
):
    """Mark the pixels of rows ``[y0, y1)`` of the mask's blobs that no neighbour
    explains, the first step of the blob test (Elgammal's component displacement).

    Pixels are tested in raster order, and a blob is given up in the band as soon as
    it has more unexplained pixels there than ``allowed`` (its whole budget), so an
    object's blob costs a few tests only. :func:`drop_displaced` then counts the marks
    per blob: a blob is displaced when it has at most ``allowed`` of them. The
    decision is the same for any cut into bands: a band stops counting a blob only
    once the blob is already over its budget.

    Parameters
    ----------
    y0, y1 : int
        IN: the band of rows.
    frame, weight, mean, cov, radius, lam2, tbr, ranked, var_min
        As in :func:`displaced_rows`.
    labels : (H, W) int32 ndarray
        IN: blob labels of the mask's foreground (0 is background).
    allowed : (n_labels,) int64 ndarray
        IN: the unexplained pixels each blob may have and still be displaced
        (:func:`blob_budget`).
    missed_at : (H, W) uint8 ndarray
        OUT (rows ``[y0, y1)``, only where 1 is written; zero it before): 1 at the
        tested pixels that no neighbour explains.
    """
    w = labels.shape[1]
    floor = var_min * F32(1e-3)
    if mean.shape[1] == 3:
        floor = floor * floor * floor
    missed = np.zeros(allowed.shape[0], np.int64)
    for y in range(y0, y1):
        for x in range(w):
            b = labels[y, x]
            if b == 0 or missed[b] > allowed[b]:
                continue
            hit = _explained_near(frame, y, x, weight, mean, cov, radius, lam2, tbr, ranked, floor)
            if not hit:
                missed[b] += 1
                missed_at[y, x] = 1


@njit(cache=True, nogil=True)
def drop_displaced(mask, labels, allowed, missed_at):
    """Clear (to 0 in ``mask``, IN/OUT) the blobs with at most ``allowed`` pixels
    marked in ``missed_at`` by :func:`blob_misses_rows`; returns the ``(n_labels,)``
    bool flags of the displaced blobs (never label 0)."""
    h, w = labels.shape
    n = allowed.shape[0]
    missed = np.zeros(n, np.int64)
    for y in range(h):
        for x in range(w):
            if missed_at[y, x] != 0:
                missed[labels[y, x]] += 1
    out = np.zeros(n, np.bool_)
    any_out = False
    for b in range(1, n):
        out[b] = missed[b] <= allowed[b]
        any_out |= out[b]
    if any_out:
        for y in range(h):
            for x in range(w):
                if mask[y, x] == 255 and out[labels[y, x]]:
                    mask[y, x] = 0
    return out


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _is_shadow_of(frame, y, x, mean, cov, m, lam2, tau, floor):
    r"""True when pixel ``(y, x)`` is a darker copy of its own component ``m``.

    With :math:`a = x^\top \mu / \mu^\top \mu` (the brightness ratio) and the
    residual :math:`r = x - a \mu`, the pixel is a shadow of the component when
    :math:`\tau \le a \le 1` and :math:`r^\top \Sigma^{-1} r < \lambda^2 a^2`: the
    colour is the component's, attenuated by :math:`a`, within the match threshold
    of the component's covariance scaled by :math:`a^2` (for
    :math:`\Sigma = \sigma^2 I` this is ``mog2``'s test).
    """
    m0 = mean[m, 0, y, x]
    m1 = mean[m, 1, y, x]
    m2 = mean[m, 2, y, x]
    x0 = F32(frame[y, x, 0])
    x1 = F32(frame[y, x, 1])
    x2 = F32(frame[y, x, 2])
    den = m0 * m0 + m1 * m1 + m2 * m2
    if den <= F32(0.0):
        return False
    a = (x0 * m0 + x1 * m1 + x2 * m2) / den
    if a < tau or a > F32(1.0):
        return False
    q, det = _adjugate_form(cov, m, y, x, x0 - a * m0, x1 - a * m1, x2 - a * m2, floor)
    return q < lam2 * a * a * det


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _shadow_of_background(frame, y, x, weight, mean, cov, lam2, tbr, ranked, tau, floor):
    """True when pixel ``(y, x)`` is a shadow of one of its background components
    (``gmm-full``'s rule, as in :func:`_explained_by`)."""
    kmax = weight.shape[0]
    for m in range(kmax):
        if not _is_shadow_of(frame, y, x, mean, cov, m, lam2, tau, floor):
            continue
        if not ranked:
            return True
        isdet = _inv_sqrt_det(mean, cov, m, y, x, floor)
        if _weight_ranked_before(weight, mean, cov, m, y, x, isdet, floor) < tbr:
            return True
    return False


@njit(cache=True, nogil=True, error_model="numpy")
def shadow_rows(y0, y1, frame, weight, mean, cov, mask, tau, lam2, tbr, ranked, var_min):
    """Relabel the foreground of rows ``[y0, y1)`` that is a cast shadow as 127.

    Colour frames only (in grey the test is a bare brightness ratio, which the
    shared sequences showed to remove dark objects rather than shadows).

    Parameters
    ----------
    y0, y1 : int
        IN: the band of rows.
    frame : (H, W, 3) uint8 or float32 ndarray
        IN: the frame (0–255 scale).
    weight, mean, cov : float32 ndarrays
        IN: the ``gmm-full`` model, ``(K, H, W)``, ``(K, 3, H, W)`` and ``(K, 6, H,
        W)`` (see :class:`~bgmix._kernels.online_gmm_full.GMMFullState`).
    mask : (H, W) uint8 ndarray
        IN/OUT (rows ``[y0, y1)``): pixels at 255 that are a shadow of one of their
        own background components (:func:`_is_shadow_of`) become 127.
    tau : float32
        IN: the lowest brightness ratio of a shadow (in (0, 1]).
    lam2, tbr, ranked, var_min
        As in :func:`displaced_rows`.
    """
    w = mask.shape[1]
    floor = var_min * F32(1e-3)
    floor = floor * floor * floor
    for y in range(y0, y1):
        for x in range(w):
            if mask[y, x] == 255 and _shadow_of_background(
                frame, y, x, weight, mean, cov, lam2, tbr, ranked, tau, floor
            ):
                mask[y, x] = 127
