"""Dynamic background: rippling water and a swaying tree canopy.

Both are **background** (ground truth 0): they move all the time, but nothing in them
is a moving object. They are what defeats a single-Gaussian or running-average model
and what per-pixel mixtures (several modes per pixel) are designed for.

Water
    Brightness of the water strip is its rest colour plus a wave height ``h(y, x, t)``:
    a sum of travelling sine waves (wavelengths 7–30 % of the frame height, periods of
    25–80 frames, crests mostly horizontal as on water seen at a grazing angle) and two
    layers of value noise drifting in opposite directions, so the pattern never repeats
    exactly. Where ``h`` is high a specular glint adds up to +200 grey levels: pixels
    flip between dark water and near-white sparkles, a strongly bimodal distribution.
Canopy
    The foliage is an RGBA layer (a ragged blob of leaf texture with gaps) composited
    over the buildings. Every frame it is resampled through a smooth displacement field
    that grows towards the top of the tree, mixes two incommensurate sway frequencies
    with a slow gust envelope, and varies in phase from one leaf cluster to the next:
    leaves cover and uncover the facade behind them, as in Wallflower's WavingTrees.
"""

from __future__ import annotations

import numpy as np

from bgmix.synthetic import _random as R
from bgmix.synthetic._background import LENS_SIGMA, Layout, tree_geometry
from bgmix.synthetic._shapes import sd_ellipse, union
from bgmix.synthetic._textures import (
    dilate,
    fractal_noise,
    gaussian_blur,
    make_lattice,
    sample_lattice,
    smoothstep,
    warp_bilinear,
)

__all__ = ["Canopy", "Water"]

_TWO_PI = 2.0 * np.pi


class Water:
    """Rippling water over canvas rows ``[row0, Hc)``; see the module docstring.

    Parameters
    ----------
    layout : Layout
    rest : (Hc, Wc, 3) float32 ndarray
        The static canvas; its water rows are the rest colour.
    root : int
        Scene seed.
    amplitude : float
        Wave brightness amplitude in grey levels (glints scale with it).
    """

    def __init__(self, layout: Layout, rest: np.ndarray, root: int, *, amplitude: float) -> None:
        assert layout.water_top is not None
        rng = R.stream(root, R.WATER)
        u = layout.unit
        self.row0 = int(np.ceil(layout.water_top + layout.margin))
        self.amplitude = float(amplitude)
        y, x = layout.canvas_grid()
        self._y = y[self.row0 :]
        self._x = x
        self._base = rest[self.row0 :].copy()
        n = 6
        lam = rng.uniform(8 * u, 36 * u, n)
        theta = rng.uniform(-0.6, 0.6, n)
        k = _TWO_PI / lam
        self._ky = (k * np.cos(theta) * 1.6).astype(np.float32)
        self._kx = (k * np.sin(theta)).astype(np.float32)
        self._omega = (_TWO_PI / rng.uniform(25, 80, n)).astype(np.float32)
        self._phase = rng.uniform(0, _TWO_PI, n).astype(np.float32)
        amp = np.sqrt(lam)
        self._amp = (amp / amp.sum()).astype(np.float32)
        self._lattices = (make_lattice(rng, (32, 64)), make_lattice(rng, (32, 64)))
        self._cell = 5.0 * u
        self._drift = 0.35 * u
        self._glint = np.float32(min(1.0, self.amplitude / 25.0) * 200.0)

    def height(self, t: float) -> np.ndarray:
        """Wave height ``h`` on the water rows, (rows, Wc) float32 roughly in [-1, 1]."""
        y, x = self._y, self._x
        tt = np.float32(t)
        # sin(ky y + kx x - w t + p) = sin(A) cos(B) + cos(A) sin(B), A = ky y - w t + p,
        # B = kx x: sines of rows and columns only, then outer products.
        arg_y = self._ky * y - self._omega * tt + self._phase  # (rows, n)
        arg_x = self._kx[:, None] * x  # (n, Wc)
        h = (self._amp * np.sin(arg_y)) @ np.cos(arg_x) + (self._amp * np.cos(arg_y)) @ np.sin(
            arg_x
        )
        c, d = self._cell, self._drift * float(t)
        n1 = sample_lattice(self._lattices[0], y / (0.6 * c), (x - d) / c)
        n2 = sample_lattice(self._lattices[1], y / (0.6 * c) + 0.5 * d / c, (x + 0.7 * d) / c)
        return np.float32(0.65) * h + np.float32(0.35) * (n1 + n2)

    def render_into(self, canvas: np.ndarray, t: float) -> None:
        """Overwrite the water rows of ``canvas`` with the water at time ``t``."""
        h = self.height(t)
        glint = self._glint * smoothstep((h - np.float32(0.45)) / np.float32(0.35)) ** 2
        canvas[self.row0 :] = self._base + (np.float32(self.amplitude) * h + glint)[..., None]

    def region(self, layout: Layout) -> np.ndarray:
        """Canvas pixels covered by water, (Hc, Wc) bool."""
        mask = np.zeros(layout.canvas_shape, bool)
        mask[self.row0 :] = True
        return mask


class Canopy:
    """A swaying foliage layer composited over the canvas; see the module docstring.

    Parameters
    ----------
    layout : Layout
    root : int
        Scene seed.
    amplitude : float
        Sway amplitude at the top of the tree, in pixels.
    """

    def __init__(self, layout: Layout, root: int, *, amplitude: float) -> None:
        rng = R.stream(root, R.TREE, 2)
        u = layout.unit
        cx, _, trunk_top = tree_geometry(layout, root)
        radius = 17.0 * u
        cy = trunk_top - 0.55 * radius
        self.amplitude = float(amplitude)
        pad = int(np.ceil(self.amplitude * 1.6)) + 2
        hc, wc = layout.canvas_shape
        m = layout.margin
        self.r0 = max(int(np.floor(cy - 1.6 * radius + m)) - pad, 0)
        self.r1 = min(int(np.ceil(cy + 1.3 * radius + m)) + pad, hc)
        self.c0 = max(int(np.floor(cx - 1.7 * radius + m)) - pad, 0)
        self.c1 = min(int(np.ceil(cx + 1.7 * radius + m)) + pad, wc)
        y = (np.arange(self.r0, self.r1, dtype=np.float32) - m)[:, None]
        x = (np.arange(self.c0, self.c1, dtype=np.float32) - m)[None, :]
        # Crown: a union of leaf clusters with a ragged, noisy outline and gaps.
        blobs = [sd_ellipse(y, x, cy, cx, 0.75 * radius, 1.05 * radius)]
        for _ in range(6):
            a = rng.uniform(0, _TWO_PI)
            r = rng.uniform(0.45, 0.8) * radius
            blobs.append(
                sd_ellipse(
                    y,
                    x,
                    cy + 0.7 * r * np.sin(a) - 0.1 * radius,
                    cx + r * np.cos(a),
                    rng.uniform(0.35, 0.55) * radius,
                    rng.uniform(0.4, 0.65) * radius,
                )
            )
        d = union(*blobs)
        ragged = fractal_noise(rng, y, x, cell=5 * u, octaves=3)
        leaves = fractal_noise(rng, y, x, cell=1.6 * u, octaves=2)
        d = d + 0.22 * radius * ragged
        alpha = np.clip(0.5 - d, 0, 1) * np.clip(1.6 + 2.5 * leaves, 0, 1)
        base = np.array(rng.uniform([45, 85, 30], [70, 115, 50]), np.float32)
        light = np.clip(1.0 - (y - cy) / (2.5 * radius) - (x - cx) / (4.0 * radius), 0.5, 1.5)
        rgb = base * (light * (1 + 0.35 * leaves))[..., None]
        rgba = np.concatenate([rgb, alpha[..., None]], axis=-1).astype(np.float32)
        self._rgba = gaussian_blur(rgba, LENS_SIGMA)
        self._y = y
        self._x = x
        self._trunk_top = float(trunk_top)
        self._radius = radius
        self._phase_lattice = make_lattice(rng, (16, 16))
        self._phase_cell = 6.0 * u
        self._omega = _TWO_PI / rng.uniform(28, 45, 3)
        self._gust_omega = _TWO_PI / rng.uniform(150, 260)
        self._gust_phase = rng.uniform(0, _TWO_PI)
        weight = np.clip((self._trunk_top - y) / (1.8 * radius) + 0.25, 0.15, 1.0)
        phase = np.pi * (
            1 + sample_lattice(self._phase_lattice, y / self._phase_cell, x / self._phase_cell)
        )
        self._weight = weight.astype(np.float32)
        self._phase = phase.astype(np.float32)

    def displacement(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Displacement ``(dy, dx)`` in pixels of the canopy at time ``t``."""
        gust = 0.65 + 0.35 * np.sin(self._gust_omega * t + self._gust_phase)
        a = np.float32(self.amplitude * gust) * self._weight
        w0, w1, w2 = (np.float32(w * t) for w in self._omega)
        dx = a * (
            np.float32(0.7) * np.sin(w0 + self._phase)
            + np.float32(0.3) * np.sin(w1 + 2 * self._phase)
        )
        dy = a * np.float32(0.35) * np.sin(w2 + 1.3 * self._phase)
        return dy, dx

    def render_into(self, canvas: np.ndarray, t: float | None) -> None:
        """Composite the canopy on ``canvas`` at time ``t`` (None: at rest)."""
        if t is None:
            layer = self._rgba
        else:
            dy, dx = self.displacement(t)
            yy = np.arange(self._rgba.shape[0], dtype=np.float32)[:, None] - dy
            xx = np.arange(self._rgba.shape[1], dtype=np.float32)[None, :] - dx
            layer = warp_bilinear(self._rgba, yy, xx)
        sub = canvas[self.r0 : self.r1, self.c0 : self.c1]
        sub += (layer[..., :3] - sub) * layer[..., 3:4]

    def region(self, layout: Layout) -> np.ndarray:
        """Canvas pixels the canopy may cover at some time, (Hc, Wc) bool."""
        mask = np.zeros(layout.canvas_shape, bool)
        reach = int(np.ceil(self.amplitude * 1.05)) + 1
        mask[self.r0 : self.r1, self.c0 : self.c1] = dilate(self._rgba[..., 3] > 0, reach)
        return mask
