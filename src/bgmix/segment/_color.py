"""Colour spaces for segmentation features: RGB, CIE L*a*b* (D65) and HSV, both ways.

Conventions (float64 arrays, last axis the channels):

* ``"rgb"``: R, G, B in [0, 255].
* ``"lab"``: L* in [0, 100], a* and b* roughly in [-128, 127] (sRGB, D65 white).
* ``"hsv"``: the HSV cylinder in Cartesian form, ``(S cos H, S sin H, V)`` with S
  and V in [0, 100]: hue is an angle, so reds on both sides of 0 degrees are close,
  and greys (S = 0) are close whatever their (meaningless) hue.

Grey images have a single feature: the intensity in [0, 255] ("rgb"), L* ("lab") or
V ("hsv").
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLOR_SPACES", "channel_range", "from_features", "rgb_to_hsv", "to_features"]

COLOR_SPACES = ("rgb", "lab", "hsv")

# sRGB (D65) <-> CIE XYZ, IEC 61966-2-1.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE = _RGB_TO_XYZ.sum(axis=1)  # XYZ of sRGB white (1, 1, 1)
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def channel_range(color_space: str) -> float:
    """Nominal span of the first channel (255 for RGB, 100 for L* and V)."""
    return 255.0 if color_space == "rgb" else 100.0


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, None)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1.0 / 2.4) - 0.055)


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0)


def _lab_f_inv(f: np.ndarray) -> np.ndarray:
    f3 = f**3
    return np.where(f3 > _EPS, f3, (116.0 * f - 16.0) / _KAPPA)


def _rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    xyz = _srgb_to_linear(rgb / 255.0) @ _RGB_TO_XYZ.T / _WHITE
    f = _lab_f(xyz)
    return np.stack(
        [
            116.0 * f[..., 1] - 16.0,
            500.0 * (f[..., 0] - f[..., 1]),
            200.0 * (f[..., 1] - f[..., 2]),
        ],
        axis=-1,
    )


def _lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_lab_f_inv(fx), _lab_f_inv(fy), _lab_f_inv(fz)], axis=-1) * _WHITE
    return _linear_to_srgb(xyz @ _XYZ_TO_RGB.T) * 255.0


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 255] -> (..., 3) H in degrees [0, 360), S and V in [0, 100]."""
    return _rgb_to_hsv(np.asarray(rgb, np.float64))


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 255] -> H in degrees [0, 360), S and V in [0, 100]."""
    c = rgb / 255.0
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    v = c.max(axis=-1)
    delta = v - c.min(axis=-1)
    s = np.divide(delta, v, out=np.zeros_like(v), where=v > 0)
    safe = np.where(delta > 0, delta, 1.0)
    h = np.where(
        v == r,
        ((g - b) / safe) % 6.0,
        np.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
    )
    h = np.where(delta > 0, h * 60.0, 0.0) % 360.0
    return np.stack([h, s * 100.0, v * 100.0], axis=-1)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_rgb_to_hsv`."""
    h = (hsv[..., 0] % 360.0) / 60.0
    s = np.clip(hsv[..., 1] / 100.0, 0.0, 1.0)
    v = np.clip(hsv[..., 2] / 100.0, 0.0, 1.0)
    c = v * s
    x = c * (1.0 - np.abs(h % 2.0 - 1.0))
    m = v - c
    sector = np.floor(h).astype(np.int64) % 6
    zeros = np.zeros_like(c)
    table = [
        (c, x, zeros),
        (x, c, zeros),
        (zeros, c, x),
        (zeros, x, c),
        (x, zeros, c),
        (c, zeros, x),
    ]
    out = np.zeros((*h.shape, 3))
    for idx, (r1, g1, b1) in enumerate(table):
        sel = sector == idx
        out[sel, 0] = r1[sel]
        out[sel, 1] = g1[sel]
        out[sel, 2] = b1[sel]
    return (out + m[..., None]) * 255.0


def to_features(pixels: np.ndarray, color_space: str) -> np.ndarray:
    """Colour features of ``pixels``.

    Parameters
    ----------
    pixels : (..., 3) or (..., 1) ndarray
        RGB (or grey) values in [0, 255].
    color_space : {"rgb", "lab", "hsv"}

    Returns
    -------
    (..., 3) or (..., 1) float64 ndarray
        Features in the conventions of this module.
    """
    p = np.asarray(pixels, np.float64)
    if p.shape[-1] == 1:
        if color_space == "lab":
            return _rgb_to_lab(np.repeat(p, 3, axis=-1))[..., :1]
        if color_space == "hsv":
            return p * (100.0 / 255.0)
        return p
    if color_space == "lab":
        return _rgb_to_lab(p)
    if color_space == "hsv":
        hsv = _rgb_to_hsv(p)
        angle = np.deg2rad(hsv[..., 0])
        return np.stack(
            [hsv[..., 1] * np.cos(angle), hsv[..., 1] * np.sin(angle), hsv[..., 2]], axis=-1
        )
    return p


def from_features(features: np.ndarray, color_space: str) -> np.ndarray:
    """Inverse of :func:`to_features`: (..., C) features -> (..., C) RGB/grey in [0, 255].

    Values are clipped to [0, 255] (features outside the gamut, such as sampled
    colours, map to the nearest displayable value per channel), not rounded.
    """
    f = np.asarray(features, np.float64)
    if f.shape[-1] == 1:
        if color_space == "lab":
            lab = np.concatenate([f, np.zeros_like(f), np.zeros_like(f)], axis=-1)
            out = _lab_to_rgb(lab)[..., :1]
        elif color_space == "hsv":
            out = f * (255.0 / 100.0)
        else:
            out = f
    elif color_space == "lab":
        out = _lab_to_rgb(f)
    elif color_space == "hsv":
        hue = np.rad2deg(np.arctan2(f[..., 1], f[..., 0])) % 360.0
        sat = np.hypot(f[..., 0], f[..., 1])
        out = _hsv_to_rgb(np.stack([hue, sat, f[..., 2]], axis=-1))
    else:
        out = f
    return np.clip(out, 0.0, 255.0)
