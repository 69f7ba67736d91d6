"""Image segmentation by Gaussian mixtures or k-means, and images sampled from a mixture."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bgmix._validation import as_frame, check_choice, check_int, check_real
from bgmix.exceptions import ParameterError
from bgmix.segment._color import COLOR_SPACES, channel_range, from_features, to_features

__all__ = ["SegmentationResult", "image_features", "sample_image", "segment_image"]

METHODS = ("gmm", "kmeans")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_CHUNK = 1 << 18  # pixels per chunk when sampling


@dataclass(frozen=True, eq=False)
class SegmentationResult:
    """What :func:`segment_image` returns; components ordered by decreasing weight.

    Attributes
    ----------
    labels : (H, W) int32 ndarray
        Component of every pixel, ``0 .. n_components - 1``.
    palette_image : (H, W, 3) or (H, W) uint8 ndarray
        Every pixel painted with its component's mean colour (grey for grey input).
    weights : (K,) float64 ndarray
        Mixture weights (GMM) or pixel fractions (k-means); they sum to 1.
    means : (K, F) float64 ndarray
        Component means in feature space: the colour features first (see
        :mod:`bgmix.segment._color`), then ``(row, col)`` scaled positions when
        ``spatial_weight > 0``.
    covariances : (K, F, F) float64 ndarray
        Component covariances in feature space (full matrices whatever the
        ``covariance_type``; for k-means, the empirical covariance of each cluster).
    colors : (K, 3) or (K, 1) uint8 ndarray
        Each component's mean colour as RGB (or grey).
    method, color_space : str
    spatial_weight : float
    spatial_scale : float
        Feature units per pixel of the position features (0 without them).
    shape : tuple of int
        ``(H, W)`` of the segmented image.
    model : GaussianMixture or KMeans
        The fitted estimator (its component order is the estimator's own).
    """

    labels: NDArray[np.int32]
    palette_image: NDArray[np.uint8]
    weights: NDArray[np.float64]
    means: NDArray[np.float64]
    covariances: NDArray[np.float64]
    colors: NDArray[np.uint8]
    method: str
    color_space: str
    spatial_weight: float
    spatial_scale: float
    shape: tuple[int, int]
    model: Any = field(repr=False)

    @property
    def n_components(self) -> int:
        """Number of components ``K``."""
        return int(self.weights.shape[0])

    @property
    def n_color_features(self) -> int:
        """Number of colour features (3, or 1 for grey images)."""
        return int(self.colors.shape[1])


def image_features(
    image: np.ndarray, *, color_space: str = "rgb", spatial_weight: float = 0.0
) -> tuple[np.ndarray, float]:
    """Per-pixel features of an image, one row per pixel (row-major order).

    Parameters
    ----------
    image : (H, W) or (H, W, 3) ndarray
        uint8, or float in [0, 1].
    color_space : {"rgb", "lab", "hsv"}
    spatial_weight : float, default 0
        Weight of the pixel position. With ``w > 0`` two features ``(row, col) * s``
        are appended, with ``s = w * R / max(H, W)`` and ``R`` the span of the first
        colour channel (255 for RGB, 100 for L* and V): crossing the image's longer
        side then costs as much as ``w`` times the whole lightness range.

    Returns
    -------
    features : (H * W, F) float32 ndarray
    spatial_scale : float
        ``s`` (0 without position features).
    """
    frame = as_frame(image, name="image")
    color_space = check_choice("color_space", color_space, COLOR_SPACES)
    spatial_weight = check_real("spatial_weight", spatial_weight, low=0.0)
    return _frame_features(frame, color_space, spatial_weight)


def _frame_features(
    frame: np.ndarray, color_space: str, spatial_weight: float
) -> tuple[np.ndarray, float]:
    h, w, c = frame.shape
    n = h * w
    flat = frame.reshape(n, c)
    scale = spatial_weight * channel_range(color_space) / max(h, w) if spatial_weight else 0.0
    out = np.empty((n, c + (2 if scale else 0)), np.float32)
    # In chunks: the float64 temporaries of the colour conversion stay bounded on
    # multi-megapixel images.
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        out[start:stop, :c] = to_features(flat[start:stop], color_space)
        if scale:
            idx = np.arange(start, stop)
            out[start:stop, c] = (idx // w) * scale
            out[start:stop, c + 1] = (idx % w) * scale
    return out, float(scale)


def segment_image(
    image: np.ndarray,
    n_components: int,
    *,
    method: str = "gmm",
    color_space: str = "rgb",
    spatial_weight: float = 0.0,
    covariance_type: str = "full",
    max_samples: int | None = None,
    max_iter: int | None = None,
    n_init: int = 1,
    random_state: int | np.random.Generator | None = None,
    n_jobs: int | None = None,
) -> SegmentationResult:
    """Segment an image into ``n_components`` regions by colour (and position).

    Every pixel becomes a feature vector (its colour in ``color_space``, plus its
    scaled position when ``spatial_weight > 0``); a :class:`~bgmix.mixture.GaussianMixture`
    or :class:`~bgmix.mixture.KMeans` is fitted to the features and every pixel takes
    the label of its most probable component (nearest centre).

    Parameters
    ----------
    image : (H, W) or (H, W, 3) ndarray
        uint8, or float in [0, 1]; RGB or grey.
    n_components : int
        Number of regions ``K`` (at least 1, at most the number of pixels).
    method : {"gmm", "kmeans"}, default "gmm"
    color_space : {"rgb", "lab", "hsv"}, default "rgb"
    spatial_weight : float, default 0
        Weight of the position features (see :func:`image_features`).
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        For ``method="gmm"``.
    max_samples : int, optional
        Fit on a random subsample of at most this many pixels, then label every
        pixel: bounded time on multi-megapixel images.
    max_iter : int, optional
        EM (default 100) or Lloyd (default 300) iterations.
    n_init : int, default 1
        Restarts; the best (largest lower bound, lowest inertia) is kept.
    random_state : int, Generator or None
    n_jobs : int, optional
        Threads (None or -1: all).

    Returns
    -------
    SegmentationResult
        Labels, palette image, per-component weight/mean/covariance/colour, and the
        fitted model; components are ordered by decreasing weight.

    Raises
    ------
    FrameFormatError
        ``image`` is not an (H, W[, 3]) uint8 or [0, 1] float array.
    ParameterError
        A parameter is out of range.

    Notes
    -----
    GMM: :math:`p(f) = \\sum_k \\pi_k \\mathcal N(f \\mid \\mu_k, \\Sigma_k)` fitted by
    EM, label :math:`\\arg\\max_k \\pi_k \\mathcal N(f \\mid \\mu_k, \\Sigma_k)`.
    k-means: label :math:`\\arg\\min_k \\lVert f - \\mu_k \\rVert`. The palette colour
    of a component is its mean colour feature converted back to RGB.

    References
    ----------
    .. [1] C. Carson, S. Belongie, H. Greenspan and J. Malik, "Blobworld: image
       segmentation using expectation-maximization and its application to image
       querying", IEEE TPAMI 24(8), 2002.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((20, 30, 3), np.uint8); img[:, 15:] = (200, 40, 40)
    >>> res = segment_image(img, 2, method="kmeans", random_state=0)
    >>> sorted(map(tuple, res.colors.tolist()))
    [(0, 0, 0), (200, 40, 40)]
    """
    from bgmix.mixture import GaussianMixture, KMeans

    method = check_choice("method", method, METHODS)
    covariance_type = check_choice("covariance_type", covariance_type, COVARIANCE_TYPES)
    n_components = check_int("n_components", n_components, low=1)
    n_init = check_int("n_init", n_init, low=1)
    if max_samples is not None:
        max_samples = check_int("max_samples", max_samples, low=max(2, n_components))
    if max_iter is not None:
        max_iter = check_int("max_iter", max_iter, low=1)
    frame = as_frame(image, name="image")
    color_space = check_choice("color_space", color_space, COLOR_SPACES)
    spatial_weight = check_real("spatial_weight", spatial_weight, low=0.0)
    h, w, c = frame.shape
    if n_components > h * w:
        raise ParameterError(
            f"n_components must be at most the number of pixels ({h * w}); got {n_components}"
        )
    features, scale = _frame_features(frame, color_space, spatial_weight)
    # the options both models take alike
    fit_options: dict[str, Any] = dict(
        n_init=n_init, max_samples=max_samples, random_state=random_state, n_jobs=n_jobs
    )
    if method == "gmm":
        model = GaussianMixture(
            n_components,
            covariance_type=covariance_type,
            max_iter=100 if max_iter is None else max_iter,
            **fit_options,
        )
        raw_labels = model.fit_predict(features)
        weights = np.asarray(model.weights_, np.float64)
        means = np.asarray(model.means_, np.float64)
        covariances = _full_covariances(model, features.shape[1])
    else:
        model = KMeans(n_components, max_iter=300 if max_iter is None else max_iter, **fit_options)
        raw_labels = model.fit_predict(features)
        means = np.asarray(model.cluster_centers_, np.float64)
        weights, covariances = _cluster_moments(features, raw_labels, means, n_jobs)
    order = np.argsort(-weights, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = rank[raw_labels].astype(np.int32).reshape(h, w)
    weights, means, covariances = weights[order], means[order], covariances[order]
    rgb = from_features(means[:, :c], color_space)
    colors = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    palette = colors[labels]
    if c == 1:
        palette = palette[..., 0]
    return SegmentationResult(
        labels=labels,
        palette_image=palette,
        weights=weights,
        means=means,
        covariances=covariances,
        colors=colors,
        method=method,
        color_space=color_space,
        spatial_weight=float(spatial_weight),
        spatial_scale=scale,
        shape=(h, w),
        model=model,
    )


def _full_covariances(model: Any, n_features: int) -> np.ndarray:
    cov = np.asarray(model.covariances_, np.float64)
    k = model.means_.shape[0]
    kind = model.covariance_type
    if kind == "full":
        return cov.copy()
    if kind == "tied":
        return np.broadcast_to(cov, (k, n_features, n_features)).copy()
    if kind == "diag":
        return np.stack([np.diag(v) for v in cov])
    return cov[:, None, None] * np.eye(n_features)[None]


def _cluster_moments(
    features: np.ndarray, labels: np.ndarray, centers: np.ndarray, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel fraction and empirical covariance of each k-means cluster."""
    from bgmix._kernels import mixture as kern
    from bgmix._threads import resolve_n_jobs

    n, d = features.shape
    k = centers.shape[0]
    rows, _ = kern.block_layout(n, k * (1 + d + d * d))
    counts, s1, s2 = kern.hard_stats(
        features, labels.astype(np.int64), centers, True, rows, resolve_n_jobs(n_jobs)
    )
    safe = np.maximum(counts, 1.0)
    offset = s1 / safe[:, None]
    cov = s2 / safe[:, None, None] - offset[:, :, None] * offset[:, None, :]
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return counts / n, cov


def sample_image(
    model: SegmentationResult | Any,
    shape: tuple[int, int] | None = None,
    *,
    color_space: str = "rgb",
    spatial_scale: float = 0.0,
    fitted_shape: tuple[int, int] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> NDArray[np.uint8]:
    """Generate an image by sampling a fitted colour (and position) mixture.

    Without position features every pixel is an independent draw from the colour
    mixture. With position features, the pixel at ``(row, col)`` draws its colour
    from the mixture *conditioned on its position*: component ``k`` is chosen with
    probability proportional to ``pi_k N(p | mu_k^pos, Sigma_k^pos)`` and the colour
    from the conditional Gaussian of that component, so the sample reproduces the
    layout of the segmented image with each region's colour and texture statistics.

    Parameters
    ----------
    model : SegmentationResult or fitted GaussianMixture
        A :func:`segment_image` result (GMM or k-means; k-means clusters are used as
        Gaussians with their empirical covariances), or a fitted
        :class:`~bgmix.mixture.GaussianMixture` over colour features (then give
        ``color_space``, and ``spatial_scale`` and ``fitted_shape`` if it was fitted
        with position features).
    shape : (H, W), optional
        Output size; default the segmented image's. With position features the
        output's positions are mapped proportionally onto the fitted image.
    color_space : {"rgb", "lab", "hsv"}, default "rgb"
        Only for a bare GaussianMixture.
    spatial_scale : float, default 0
        Only for a bare GaussianMixture: feature units per pixel of its position
        features (:func:`image_features`).
    fitted_shape : (H, W), optional
        Only for a bare GaussianMixture with position features.
    random_state : int, Generator or None

    Returns
    -------
    (H, W, 3) or (H, W) uint8 ndarray
        RGB, or grey when the model has a single colour feature.

    Notes
    -----
    For a component with mean :math:`(\\mu_c, \\mu_p)` and covariance blocks
    :math:`\\Sigma_{cc}, \\Sigma_{cp}, \\Sigma_{pp}`, the colour given position
    :math:`p` is Gaussian with mean
    :math:`\\mu_c + \\Sigma_{cp}\\Sigma_{pp}^{-1}(p - \\mu_p)` and covariance
    :math:`\\Sigma_{cc} - \\Sigma_{cp}\\Sigma_{pp}^{-1}\\Sigma_{pc}`; the component is
    drawn with probability :math:`\\propto \\pi_k \\mathcal N(p \\mid \\mu_p, \\Sigma_{pp})`.

    References
    ----------
    .. [1] C. M. Bishop, "Pattern Recognition and Machine Learning", Springer 2006,
       section 2.3.1 (conditional Gaussian distributions).
    """
    from bgmix._validation import check_random_state
    from bgmix.mixture import GaussianMixture

    if isinstance(model, SegmentationResult):
        weights, means, covs = model.weights, model.means, model.covariances
        n_colour = model.n_color_features
        color_space = model.color_space
        spatial_scale = model.spatial_scale
        fitted_shape = model.shape
    elif isinstance(model, GaussianMixture):
        model._check_is_fitted()
        color_space = check_choice("color_space", color_space, COLOR_SPACES)
        spatial_scale = check_real("spatial_scale", spatial_scale, low=0.0)
        weights = np.asarray(model.weights_, np.float64)
        means = np.asarray(model.means_, np.float64)
        covs = _full_covariances(model, means.shape[1])
        n_colour = means.shape[1] - (2 if spatial_scale > 0 else 0)
        if n_colour not in (1, 3):
            raise ParameterError(
                f"model: expected 1 or 3 colour features (plus 2 position features when "
                f"spatial_scale > 0); the mixture has {means.shape[1]} features"
            )
    else:
        raise ParameterError(
            "model must be a SegmentationResult or a fitted bgmix GaussianMixture; got "
            f"{type(model).__name__}"
        )
    spatial = spatial_scale > 0
    if shape is None:
        if fitted_shape is None:
            raise ParameterError("shape is required for a bare GaussianMixture")
        shape = fitted_shape
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 2
        or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape)
    ):
        raise ParameterError(f"shape must be (height, width) with positive integers; got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if spatial and fitted_shape is None:
        raise ParameterError("fitted_shape is required for a mixture with position features")
    rng = check_random_state(random_state)
    n = h * w
    out = np.empty((n, n_colour), np.uint8)

    def emit(rows: np.ndarray | slice, colour: np.ndarray) -> None:
        out[rows] = np.rint(from_features(colour, color_space)).astype(np.uint8)

    if not spatial:
        # Each pixel picks a component by its weight, then draws from that Gaussian;
        # in chunks of pixels, so memory stays bounded on large images.
        cumulative = np.cumsum(weights / weights.sum())
        roots = [_sqrt_psd(covs[k, :n_colour, :n_colour]) for k in range(weights.size)]
        for start in range(0, n, _CHUNK):
            m = min(_CHUNK, n - start)
            comp = np.minimum(
                np.searchsorted(cumulative, rng.random(m), side="right"), weights.size - 1
            )
            z = rng.standard_normal((m, n_colour))
            colour = np.empty((m, n_colour))
            for k in np.unique(comp):
                sel = comp == k
                colour[sel] = means[k, :n_colour] + z[sel] @ roots[k].T
            emit(slice(start, start + m), colour)
    else:
        fh, fw = fitted_shape
        for start in range(0, n, _CHUNK):
            idx = np.arange(start, min(n, start + _CHUNK))
            pos = (
                np.stack(
                    [((idx // w) + 0.5) * fh / h - 0.5, ((idx % w) + 0.5) * fw / w - 0.5], axis=1
                )
                * spatial_scale
            )
            emit(idx, _conditional_draw(rng, pos, weights, means, covs, n_colour))
    out = out.reshape(h, w, n_colour)
    return out[..., 0] if n_colour == 1 else out


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _conditional_draw(rng, pos, weights, means, covs, n_colour):
    """Colours at positions ``pos`` (M, 2) from the position-conditioned mixture."""
    k = weights.size
    c = n_colour
    log_w = np.empty((pos.shape[0], k))
    gains = np.empty((k, c, 2))
    cond_chol = np.empty((k, c, c))
    for j in range(k):
        s_pp = covs[j, c:, c:] + 1e-9 * np.eye(2)
        s_cp = covs[j, :c, c:]
        diff = pos - means[j, c:]
        maha = np.einsum("ij,ij->i", diff, np.linalg.solve(s_pp, diff.T).T)
        sign, log_det = np.linalg.slogdet(s_pp)
        with np.errstate(divide="ignore"):
            log_w[:, j] = np.log(weights[j]) - 0.5 * (maha + log_det)
        if sign <= 0:
            log_w[:, j] = -np.inf
        gains[j] = np.linalg.solve(s_pp, s_cp.T).T  # Sigma_cp Sigma_pp^-1
        cond_chol[j] = _sqrt_psd(covs[j, :c, :c] - gains[j] @ s_cp.T)
    log_w -= log_w.max(axis=1, keepdims=True)
    prob = np.exp(log_w)
    prob /= prob.sum(axis=1, keepdims=True)
    u = rng.random(pos.shape[0])[:, None]
    comp = np.minimum((prob.cumsum(axis=1) < u).sum(axis=1), k - 1)
    z = rng.standard_normal((pos.shape[0], c))
    out = np.empty((pos.shape[0], c))
    for j in range(k):
        sel = comp == j
        if sel.any():
            mean = means[j, :c] + (pos[sel] - means[j, c:]) @ gains[j].T
            out[sel] = mean + z[sel] @ cond_chol[j].T
    return out
