"""Background-image quality metrics of SBMnet / SBI (Maddalena & Petrosino).

They compare an estimated background image with the true background of the scene,
as the SBI 2015 and SBMnet 2016 evaluation scripts do (``Evaluate3.m``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix._validation import as_frame
from bgmix.exceptions import FrameFormatError, FrameSizeError

__all__ = ["BACKGROUND_METRIC_NAMES", "background_metrics", "luma", "ms_ssim"]

#: Keys of :func:`background_metrics`.
BACKGROUND_METRIC_NAMES: tuple[str, ...] = ("age", "peps", "pceps", "ms_ssim", "psnr", "cqm")

#: MS-SSIM scale weights (Wang, Simoncelli & Bovik 2003).
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_K1, _K2, _L = 0.01, 0.03, 255.0
_SIGMA = 1.5
_ERROR_THRESHOLD = 20


def background_metrics(estimate: Any, truth: Any) -> dict[str, float]:
    """SBMnet's metrics of an estimated background against the true background.

    Parameters
    ----------
    estimate, truth : (H, W) or (H, W, 3) ndarray, or path
        uint8 images (or float in [0, 1]), RGB or grey, of the same size and colour
        mode; a path is read with :func:`bgmix.io.read_image`.

    Returns
    -------
    dict
        ``age``
            Average grey-level error, mean :math:`|Y_e - Y_t|` (lower is better).
        ``peps``
            Percentage of error pixels, :math:`|Y_e - Y_t| > 20` (0-100, lower is
            better).
        ``pceps``
            Percentage of clustered error pixels: error pixels whose four
            4-connected neighbours are error pixels too (lower is better).
        ``ms_ssim``
            Multi-scale structural similarity on :math:`Y` (1 for identical images,
            higher is better); NaN for images under 32 pixels on a side.
        ``psnr``
            :math:`10 \\log_{10}(255^2 / \\mathrm{MSE})` on :math:`Y`, in dB; inf
            for identical images (the reference script reports 99 there).
        ``cqm``
            Colour image quality measure (Yalman & Ertürk 2013), in dB; NaN for
            grey images.

    Raises
    ------
    FrameFormatError
        Not an image, or one is colour and the other grey.
    FrameSizeError
        The sizes differ.

    Notes
    -----
    Following ``Evaluate3.m`` of the SBI/SBMnet evaluation code:

    * :math:`Y` is the image itself for grey images and, for colour images, the
      luma channel of MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, studio swing),
      rounded to an integer for uint8 input (see :func:`luma`).
    * pCEPs erodes the error map with the 4-neighbour cross (``strel('diamond',
      1)``); pixels outside the image count as errors (MATLAB's ``imerode`` pads
      binary images with 1), so an error pixel on the border is clustered when its
      neighbours inside the image are errors.
    * pEPs and pCEPs are percentages, as the SBI script prints them (its function
      returns fractions and the script multiplies by 100; SBMnet's web tables show
      the fraction).
    * MS-SSIM: see :func:`ms_ssim`.
    * CQM: the reversible transform :math:`Y' = \\lfloor (R + 2G + B)/4 \\rfloor`,
      :math:`U = R - G`, :math:`V = B - G`, and
      :math:`\\mathrm{CQM} = 0.9449\\,\\mathrm{PSNR}_{Y'} + 0.0551\\,(\\mathrm{PSNR}_U +
      \\mathrm{PSNR}_V)/2`. The reference computes :math:`U` and :math:`V` by
      subtracting uint8 arrays, which saturate at 0, so negative differences count
      as 0; bgmix does the same so that its values match published tables.

    References
    ----------
    .. [1] L. Maddalena and A. Petrosino, "Towards benchmarking scene background
       initialization", ICIAP 2015 Workshops (SBI dataset), LNCS 9281, 2015.
    .. [2] P.-M. Jodoin, L. Maddalena, A. Petrosino and Y. Wang, "Extensive
       benchmark and survey of modeling methods for scene background
       initialization", IEEE TIP 26(11), 2017 (SBMnet).
    .. [3] Y. Yalman and I. Ertürk, "A new color image quality measure based on YUV
       transformation and PSNR for human vision system", Turkish Journal of
       Electrical Engineering & Computer Sciences 21(2), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.full((40, 40), 100, np.uint8)
    >>> m = background_metrics(truth + 10, truth)
    >>> m["age"], m["peps"], round(m["psnr"], 2)
    (10.0, 0.0, 28.13)
    """
    est = _as_image(estimate, "estimate")
    gt = _as_image(truth, "truth")
    if est.shape[:2] != gt.shape[:2]:
        raise FrameSizeError(
            f"background estimate is {est.shape[1]}x{est.shape[0]} but the true background "
            f"is {gt.shape[1]}x{gt.shape[0]}"
        )
    if est.shape[2] != gt.shape[2]:
        kinds = {1: "grey", 3: "colour"}
        raise FrameFormatError(
            f"background estimate is {kinds[est.shape[2]]} but the true background is "
            f"{kinds[gt.shape[2]]}; give both in the same colour mode"
        )
    y_est, y_gt = _luma(est), _luma(gt)
    diff = np.abs(y_est - y_gt)
    n = diff.size
    errors = diff > _ERROR_THRESHOLD
    clustered = errors.copy()
    clustered[1:, :] &= errors[:-1, :]
    clustered[:-1, :] &= errors[1:, :]
    clustered[:, 1:] &= errors[:, :-1]
    clustered[:, :-1] &= errors[:, 1:]
    return {
        "age": float(diff.mean()),
        "peps": 100.0 * int(np.count_nonzero(errors)) / n,
        "pceps": 100.0 * int(np.count_nonzero(clustered)) / n,
        "ms_ssim": ms_ssim(y_est, y_gt),
        "psnr": _psnr(y_est, y_gt),
        "cqm": _cqm(est, gt) if est.shape[2] == 3 else math.nan,
    }


def luma(image: Any) -> np.ndarray:
    """Grey level ``Y`` used by the SBMnet metrics, as ``(H, W)`` float64.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) ndarray
        uint8, or float in [0, 1] (scaled to 0-255).

    Notes
    -----
    Grey images are returned as they are. For RGB, MATLAB's ``rgb2ycbcr`` luma
    (ITU-R BT.601 with studio swing, 16-235):

    .. math:: Y = 16 + (65.481\\,R + 128.553\\,G + 24.966\\,B) / 255

    rounded half away from zero for uint8 input, as MATLAB does.

    Examples
    --------
    >>> import numpy as np
    >>> luma(np.array([[[255, 0, 0], [255, 255, 255]]], np.uint8))
    array([[ 81., 235.]])
    """
    return _luma(_as_image(image, "image"))


def ms_ssim(a: Any, b: Any, *, window: int | None = None) -> float:
    """Multi-scale SSIM of two grey images (Wang, Simoncelli & Bovik 2003).

    Parameters
    ----------
    a, b : (H, W) array_like
        Grey images on the 0-255 scale (any real dtype), of the same shape.
    window : int, optional
        Side of the Gaussian window (sigma 1.5). Default, as SBI/SBMnet's
        ``Evaluate3.m``: 11 when the shorter side is at least 176 pixels, else
        ``shorter side // 16``, which keeps the window within the coarsest scale.

    Returns
    -------
    float
        In [0, 1] for natural images, 1 for identical images. NaN when the images
        are too small for five scales with a window of at least 2x2 (shorter side
        under 32 pixels with the default window), where the reference MATLAB code
        returns -Inf.

    Notes
    -----
    At each scale :math:`j = 1..5`, with Gaussian-weighted local means
    :math:`\\mu`, variances :math:`\\sigma^2` and covariance :math:`\\sigma_{ab}`
    over "valid" windows, :math:`C_1 = (0.01 \\cdot 255)^2`,
    :math:`C_2 = (0.03 \\cdot 255)^2`:

    .. math::

        c_j = \\overline{\\frac{2\\sigma_{ab} + C_2}{\\sigma_a^2 + \\sigma_b^2 + C_2}},
        \\qquad
        s_5 = \\overline{\\frac{(2\\mu_a\\mu_b + C_1)(2\\sigma_{ab} + C_2)}
        {(\\mu_a^2 + \\mu_b^2 + C_1)(\\sigma_a^2 + \\sigma_b^2 + C_2)}},

        \\text{MS-SSIM} = s_5^{w_5} \\prod_{j=1}^{4} c_j^{w_j},
        \\quad w = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333).

    Between scales the images are averaged over 2x2 blocks and subsampled by 2
    (MATLAB ``imfilter(ones(2)/4, 'symmetric')`` then ``(1:2:end, 1:2:end)``:
    an odd last row or column is averaged with its mirror, i.e. itself). A
    negative scale value (anti-correlated images) is clipped to 0 before the
    fractional power, as common implementations do.

    References
    ----------
    .. [1] Z. Wang, E. P. Simoncelli and A. C. Bovik, "Multiscale structural
       similarity for image quality assessment", 37th Asilomar Conference on
       Signals, Systems and Computers, 2003.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise FrameSizeError(
            "ms_ssim: expected two grey (H, W) images of the same shape; "
            f"got {x.shape} and {y.shape}"
        )
    levels = len(MS_SSIM_WEIGHTS)
    shorter = min(x.shape)
    size = (11 if shorter >= 176 else shorter // 16) if window is None else int(window)
    if size < 2 or shorter < 11 or shorter / 2 ** (levels - 1) < size:
        return math.nan
    g = _gaussian(size, _SIGMA)
    c1, c2 = (_K1 * _L) ** 2, (_K2 * _L) ** 2
    values = []
    for level in range(levels):
        mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)
        var_x = _filter_valid(x * x, g) - mu_x * mu_x
        var_y = _filter_valid(y * y, g) - mu_y * mu_y
        cov = _filter_valid(x * y, g) - mu_x * mu_y
        cs = (2.0 * cov + c2) / (var_x + var_y + c2)
        if level < levels - 1:
            values.append(float(cs.mean()))
            x, y = _downsample(x), _downsample(y)
        else:
            lum = (2.0 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
            values.append(float((lum * cs).mean()))
    result = 1.0
    for v, w in zip(values, MS_SSIM_WEIGHTS, strict=True):
        result *= max(v, 0.0) ** w
    return result


# ---------------------------------------------------------------------- helpers
def _as_image(image: Any, name: str) -> np.ndarray:
    """(H, W, C) uint8 or float32 0-255, from an array or a path."""
    if isinstance(image, str) or hasattr(image, "__fspath__"):
        from bgmix.io._images import read_image

        path: StrPath = image
        image = read_image(path, mode=None)
        if image.dtype != np.uint8:
            raise FrameFormatError(
                f"{name} {str(path)!r}: expected an 8-bit image, got {image.dtype}"
            )
    return as_frame(image, name=name)


def _luma(img: np.ndarray) -> np.ndarray:
    if img.shape[2] == 1:
        return img[:, :, 0].astype(np.float64)
    rgb = img.astype(np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    if img.dtype == np.uint8:
        y = np.floor(y + 0.5)  # MATLAB rounds half away from zero (y > 0 here)
    return y


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(_L * _L / mse)


def _cqm(est: np.ndarray, gt: np.ndarray) -> float:
    def yuv(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, g, b = (img[..., c].astype(np.float64) for c in range(3))
        return np.floor((r + 2.0 * g + b) / 4.0), np.maximum(r - g, 0.0), np.maximum(b - g, 0.0)

    ye, ue, ve = yuv(est)
    yt, ut, vt = yuv(gt)
    return 0.9449 * _psnr(yt, ye) + 0.0551 * (_psnr(ut, ue) + _psnr(vt, ve)) / 2.0


def _gaussian(size: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB's ``fspecial('gaussian', size, sigma)``, summing to 1."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Correlation with the separable window ``outer(g, g)``, 'valid' part only."""
    k = g.size
    rows = np.lib.stride_tricks.sliding_window_view(img, k, axis=0) @ g
    return np.lib.stride_tricks.sliding_window_view(rows, k, axis=1) @ g


def _downsample(img: np.ndarray) -> np.ndarray:
    """2x2 block mean with symmetric padding, then keep every other row and column."""
    p = np.pad(img, ((0, 1), (0, 1)), mode="symmetric")
    mean = (p[:-1, :-1] + p[1:, :-1] + p[:-1, 1:] + p[1:, 1:]) / 4.0
    return mean[::2, ::2]
