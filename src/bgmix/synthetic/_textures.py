"""Procedural texture primitives: value noise, fractal noise, blur and resampling.

Everything is vectorised NumPy on float32 arrays. Coordinates follow one convention in
the whole generator: pixel ``(i, j)`` has its centre at ``(y, x) = (i, j)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "dilate",
    "fractal_noise",
    "gaussian_blur",
    "make_lattice",
    "sample_lattice",
    "shift_bilinear",
    "smoothstep",
    "warp_bilinear",
]


def make_lattice(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random lattice of values uniform in [-1, 1] (float32) for :func:`sample_lattice`."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def smoothstep(u: np.ndarray) -> np.ndarray:
    """Hermite ``3u² − 2u³`` of ``u`` clipped to [0, 1] (C¹ easing, float32)."""
    u = np.clip(u, 0.0, 1.0).astype(np.float32, copy=False)
    return u * u * (np.float32(3.0) - np.float32(2.0) * u)


def sample_lattice(lattice: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Value noise: the lattice interpolated smoothly at ``(y, x)``, periodic.

    Parameters
    ----------
    lattice : (ny, nx) float32 ndarray
        Values at integer lattice points; the noise repeats every ``ny`` by ``nx`` units.
    y, x : ndarray
        Coordinates in lattice units; broadcast against each other (e.g. ``(h, 1)`` and
        ``(1, w)`` give an ``(h, w)`` result).

    Returns
    -------
    ndarray, float32
        Values in [-1, 1], C¹-continuous in ``y`` and ``x``.
    """
    ny, nx = lattice.shape
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    fy = np.floor(y)
    fx = np.floor(x)
    ty = smoothstep((y - fy).astype(np.float32))
    tx = smoothstep((x - fx).astype(np.float32))
    row0 = (fy.astype(np.int64) % ny) * nx
    row1 = ((fy.astype(np.int64) + 1) % ny) * nx
    col0 = fx.astype(np.int64) % nx
    col1 = (col0 + 1) % nx
    flat = lattice.ravel()
    v00, v01 = flat.take(row0 + col0), flat.take(row0 + col1)
    v10, v11 = flat.take(row1 + col0), flat.take(row1 + col1)
    top = v00 + (v01 - v00) * tx
    bottom = v10 + (v11 - v10) * tx
    return (top + (bottom - top) * ty).astype(np.float32, copy=False)


def fractal_noise(
    rng: np.random.Generator,
    y: np.ndarray,
    x: np.ndarray,
    *,
    cell: float,
    octaves: int = 4,
    persistence: float = 0.5,
) -> np.ndarray:
    """Fractal (multi-octave) value noise evaluated at ``(y, x)``, roughly in [-1, 1].

    Octave ``k`` has cells of ``cell / 2**k`` pixels and amplitude ``persistence**k``;
    the sum is divided by the total amplitude. Each octave has its own random lattice
    (large enough to cover the coordinates without repeating) and sub-cell offset
    drawn from ``rng``.
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y_min, y_span = float(y.min()), float(np.ptp(y))
    x_min, x_span = float(x.min()), float(np.ptp(x))
    total = np.zeros(np.broadcast_shapes(y.shape, x.shape), np.float32)
    norm = 0.0
    amp = 1.0
    size = float(cell)
    for _ in range(octaves):
        shape = (int(np.ceil(y_span / size)) + 3, int(np.ceil(x_span / size)) + 3)
        lattice = make_lattice(rng, shape)
        oy, ox = rng.uniform(0.0, 1.0, size=2)
        total += np.float32(amp) * sample_lattice(
            lattice, (y - y_min) / size + oy, (x - x_min) / size + ox
        )
        norm += amp
        amp *= persistence
        size = max(size / 2.0, 0.5)
    return total / np.float32(norm)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3.0 * sigma)))
    k = np.exp(-(np.arange(-radius, radius + 1, dtype=np.float64) ** 2) / (2.0 * sigma * sigma))
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur over the first two axes (edge-replicated borders).

    Parameters
    ----------
    image : (H, W[, C]) float32 ndarray
    sigma : float
        Standard deviation in pixels; 0 returns a copy.
    """
    out = np.array(image, dtype=np.float32, copy=True)
    if sigma <= 0:
        return out
    k = _gaussian_kernel(sigma)
    r = len(k) // 2
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        for i, w in enumerate(k):
            acc += w * np.take(padded, np.arange(i, i + n), axis=axis)
        out = acc
    return out


def shift_bilinear(
    canvas: np.ndarray, top: float, left: float, height: int, width: int
) -> np.ndarray:
    """Crop ``canvas`` at a sub-pixel offset with bilinear interpolation.

    Returns the ``(height, width, ...)`` window whose pixel ``(i, j)`` is the canvas
    interpolated at ``(top + i, left + j)``. The caller keeps the window inside the
    canvas (``0 <= top`` and ``top + height <= canvas_height - 1`` when ``top`` is
    fractional, likewise for ``left``).
    """
    iy = int(np.floor(top))
    ix = int(np.floor(left))
    fy = np.float32(top - iy)
    fx = np.float32(left - ix)
    a = canvas[iy : iy + height, ix : ix + width]
    if fy == 0 and fx == 0:
        return np.array(a, dtype=np.float32, copy=True)
    b = canvas[iy : iy + height, ix + 1 : ix + 1 + width] if fx else a
    c = canvas[iy + 1 : iy + 1 + height, ix : ix + width] if fy else a
    d = canvas[iy + 1 : iy + 1 + height, ix + 1 : ix + 1 + width] if (fx and fy) else a
    one = np.float32(1.0)
    return ((one - fy) * ((one - fx) * a + fx * b) + fy * ((one - fx) * c + fx * d)).astype(
        np.float32, copy=False
    )


def warp_bilinear(image: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Sample ``image`` (H, W, C) at float coordinates ``(y, x)`` (same shape), bilinear.

    Coordinates are clamped to the image, so samples never read outside it.
    """
    h, w, c = image.shape
    y = np.clip(np.asarray(y, np.float32), 0, h - 1)
    x = np.clip(np.asarray(x, np.float32), 0, w - 1)
    y0 = np.minimum(y.astype(np.int64), max(h - 2, 0))
    x0 = np.minimum(x.astype(np.int64), max(w - 2, 0))
    fy = (y - y0)[..., None]
    fx = (x - x0)[..., None]
    dy = 1 if h > 1 else 0
    dx = 1 if w > 1 else 0
    flat = image.reshape(h * w, c)
    i00 = y0 * w + x0
    v00 = flat.take(i00, axis=0)
    v01 = flat.take(i00 + dx, axis=0)
    v10 = flat.take(i00 + dy * w, axis=0)
    v11 = flat.take(i00 + dy * w + dx, axis=0)
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return (top + (bottom - top) * fy).astype(np.float32, copy=False)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation of a 2-D bool mask by a square of side ``2 * radius + 1``."""
    out = mask.copy()
    if radius <= 0:
        return out
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for s in range(1, min(radius, n - 1) + 1):
            lo = [slice(None)] * 2
            hi = [slice(None)] * 2
            lo[axis] = slice(0, n - s)
            hi[axis] = slice(s, n)
            out[tuple(lo)] |= src[tuple(hi)]
            out[tuple(hi)] |= src[tuple(lo)]
    return out
