"""The static street scene: layout and painting of sky, buildings, sidewalk, road, grass.

The scene is painted once per :class:`~bgmix.synthetic.SyntheticScene` on a canvas
padded by ``margin`` pixels on every side (room for camera jitter), in float32 RGB on
the 0–255 scale, then blurred slightly (lens blur) so that edges are soft like in real
footage. All sizes are relative to the frame height, so a scene looks the same at
160x120 and at 1280x960.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bgmix.synthetic import _random as R
from bgmix.synthetic._shapes import coverage, sd_box
from bgmix.synthetic._textures import fractal_noise, gaussian_blur, smoothstep

__all__ = ["Layout", "make_layout", "paint_static", "tree_geometry"]

#: Lens blur of the static background, in pixels.
LENS_SIGMA = 0.6


@dataclass(frozen=True)
class Layout:
    """Where things are, in frame coordinates (pixel centres at integers).

    Bands from top to bottom: sky and buildings down to ``horizon``; sidewalk to
    ``road_top``; road to ``road_bottom``; then grass, or (with water) a stone bank
    and water from ``water_top`` to the bottom edge.
    """

    height: int
    width: int
    margin: int
    horizon: float
    road_top: float
    road_bottom: float
    water_top: float | None

    @property
    def unit(self) -> float:
        """Pixels per layout unit: sizes are given for a 120-pixel-high frame."""
        return self.height / 120.0

    @property
    def canvas_shape(self) -> tuple[int, int]:
        return self.height + 2 * self.margin, self.width + 2 * self.margin

    def depth_scale(self, y_bottom: float) -> float:
        """Perspective size factor of an object standing at ``y_bottom``."""
        v = (y_bottom - self.horizon) / max(self.height - self.horizon, 1.0)
        return float(0.5 + 0.6 * np.clip(v, -0.2, 1.4))

    def canvas_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Frame coordinates of the canvas pixels: ``(Hc, 1)`` and ``(1, Wc)`` float32."""
        hc, wc = self.canvas_shape
        y = (np.arange(hc, dtype=np.float32) - self.margin)[:, None]
        x = (np.arange(wc, dtype=np.float32) - self.margin)[None, :]
        return y, x


def make_layout(height: int, width: int, *, margin: int, water: bool) -> Layout:
    """The band layout for a frame size; with ``water`` the road moves up."""
    h = float(height)
    if water:
        return Layout(height, width, margin, 0.34 * h, 0.44 * h, 0.72 * h, 0.76 * h)
    return Layout(height, width, margin, 0.40 * h, 0.52 * h, 0.90 * h, None)


def _paint(img: np.ndarray, cov: np.ndarray, colour: np.ndarray | tuple[float, ...]) -> None:
    """``img = img + (colour - img) * cov`` in place (``cov`` (h, w), colour broadcastable)."""
    img += (np.asarray(colour, np.float32) - img) * cov[..., None]


def _band(y: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Anti-aliased coverage of the rows between ``top`` and ``bottom``, shape (Hc, 1)."""
    return np.clip(np.minimum(y - top + 0.5, bottom - y + 0.5), 0, 1).astype(np.float32)


_FACADES = np.array(
    [
        (150, 82, 62),  # brick
        (165, 162, 155),  # concrete
        (205, 185, 145),  # sandstone
        (95, 97, 108),  # dark slate
        (120, 140, 158),  # blue-grey glass
        (185, 120, 90),  # terracotta
        (220, 215, 200),  # white render
    ],
    np.float32,
)


def paint_static(layout: Layout, root: int, *, tree: bool) -> np.ndarray:
    """Paint the static scene (without the swaying canopy) on the padded canvas.

    Returns
    -------
    (Hc, Wc, 3) float32 ndarray
        RGB on the 0–255 scale, lens-blurred.
    """
    y, x = layout.canvas_grid()
    hc, wc = layout.canvas_shape
    u = layout.unit
    img = np.empty((hc, wc, 3), np.float32)

    # Sky: vertical gradient with soft clouds.
    rng = R.stream(root, R.SKY)
    top_col = np.array(rng.uniform([90, 140, 200], [125, 170, 225]), np.float32)
    low_col = np.array(rng.uniform([180, 200, 220], [205, 220, 238]), np.float32)
    t = np.clip(y / max(layout.horizon, 1.0), 0, 1)[..., None]
    img[:] = top_col + (low_col - top_col) * t
    clouds = fractal_noise(rng, y, x, cell=40 * u, octaves=4)
    _paint(img, 0.85 * smoothstep((clouds - 0.05) / 0.45), (244, 245, 248))

    _paint_buildings(img, y, x, layout, R.stream(root, R.BUILDINGS))
    _paint_ground(img, y, x, layout, R.stream(root, R.GROUND))
    if tree:
        _paint_trunk(img, y, x, layout, root)
    return gaussian_blur(img, LENS_SIGMA)


def _paint_buildings(img: np.ndarray, y: np.ndarray, x: np.ndarray, lay: Layout, rng) -> None:
    u = lay.unit
    tex_all = fractal_noise(rng, y, x, cell=12 * u, octaves=3)
    lit_table = rng.random((16, 64)) < 0.25
    left = -lay.margin - rng.uniform(0, 20 * u)
    while left < lay.width + lay.margin:
        w = rng.uniform(26 * u, 66 * u)
        roof = rng.uniform(5 * u, min(34 * u, lay.horizon - 6 * u))
        face = _FACADES[rng.integers(len(_FACADES))] * rng.uniform(0.85, 1.12)
        sx = rng.uniform(7 * u, 11 * u)
        sy = rng.uniform(8 * u, 12 * u)
        ww, wh = sx * rng.uniform(0.45, 0.65), sy * rng.uniform(0.45, 0.6)
        lit_shift = int(rng.integers(64))
        # Work on the canvas columns this building touches.
        c0 = max(int(np.floor(left + lay.margin)) - 1, 0)
        c1 = min(int(np.ceil(left + w + lay.margin)) + 2, x.shape[1])
        if c1 > c0:
            xs, sub, tex = x[:, c0:c1], img[:, c0:c1], tex_all[:, c0:c1]
            cx, cy = left + w / 2, (roof + lay.horizon + 2) / 2
            cov = coverage(sd_box(y, xs, cy, cx, (lay.horizon + 2 - roof) / 2, w / 2))
            _paint(sub, cov, face * (1 + 0.07 * tex)[..., None])
            _paint(sub, coverage(sd_box(y, xs, roof + 1.0 * u, cx, 1.0 * u, w / 2)), face * 0.62)
            # Windows: a grid of rounded boxes inset from the walls, some lit.
            x0 = left + (w - sx * max(1, int((w - 4 * u) // sx))) / 2
            y0 = roof + 3 * u
            lu = np.mod(xs - x0, sx) - sx / 2
            lv = np.mod(y - y0, sy) - sy / 2
            win = coverage(sd_box(lv, lu, 0.0, 0.0, wh / 2, ww / 2, 0.4 * u))
            bottom = lay.horizon - 4 * u
            inner = coverage(sd_box(y, xs, (y0 + bottom) / 2, cx, (bottom - y0) / 2, w / 2 - 2 * u))
            col_idx = (np.floor((xs - x0) / sx).astype(np.int64) + lit_shift) % 64
            row_idx = np.floor((y - y0) / sy).astype(np.int64) % 16
            lit = lit_table[row_idx, col_idx]
            sheen = 12 * np.clip(1 - lv / (wh / 2), 0, 2) * ~lit
            glass = np.where(lit[..., None], np.float32([215, 200, 150]), np.float32([48, 58, 74]))
            _paint(sub, win * inner, glass + sheen[..., None])
        left += w + rng.uniform(-2 * u, 6 * u)


def _paint_ground(img: np.ndarray, y: np.ndarray, x: np.ndarray, lay: Layout, rng) -> None:
    u = lay.unit
    # Sidewalk with tile seams and a kerb.
    side = _band(y, lay.horizon, lay.road_top) * np.ones_like(x)
    col = np.array(rng.uniform([160, 155, 145], [180, 176, 166]), np.float32)
    tex = fractal_noise(rng, y, x, cell=6 * u, octaves=3)
    _paint(img, side, col * (1 + 0.05 * tex)[..., None])
    pitch = rng.uniform(9 * u, 14 * u)
    seam_d = np.abs(np.mod(x - 0.3 * (y - lay.horizon), pitch) - pitch / 2)
    seam = np.clip(0.5 + 0.5 * u - (pitch / 2 - seam_d), 0, 1) * side
    _paint(img, seam * 0.6, col * 0.72)
    kerb = _band(y, lay.road_top - 1.2 * u, lay.road_top) * np.ones_like(x)
    _paint(img, kerb, col * 1.12)

    # Asphalt: coarse blotches and fine grain; dashed centre line and an edge line.
    road = _band(y, lay.road_top, lay.road_bottom) * np.ones_like(x)
    grey = rng.uniform(76, 96)
    blotch = fractal_noise(rng, y, x, cell=30 * u, octaves=3)
    grain = fractal_noise(rng, y, x, cell=1.5, octaves=2)
    asphalt = grey * (1 + 0.08 * blotch + 0.07 * grain)
    _paint(img, road, np.stack([asphalt, asphalt * 1.01, asphalt * 1.05], axis=-1))
    rh = lay.road_bottom - lay.road_top
    mark_y = lay.road_top + 0.70 * rh
    thick = max(0.6, 0.9 * u)
    period, dash = 30 * u, 16 * u
    phase = rng.uniform(0, period)
    dash_d = np.abs(np.mod(x + phase, period) - period / 2) - dash / 2
    _paint(img, coverage(np.maximum(np.abs(y - mark_y) - thick, dash_d)) * 0.85, (225, 222, 205))
    edge = _band(y, lay.road_bottom - 4 * u - thick, lay.road_bottom - 4 * u + thick)
    _paint(img, edge * np.ones_like(x) * 0.8, (228, 226, 215))

    # Below the road: grass, or a stone bank above the water.
    if lay.water_top is None:
        grass = _band(y, lay.road_bottom, lay.height + lay.margin + 1) * np.ones_like(x)
        g = fractal_noise(rng, y, x, cell=10 * u, octaves=4)
        blades = fractal_noise(rng, y * 0.25, x, cell=1.2, octaves=1)
        base = np.array(rng.uniform([60, 100, 40], [85, 130, 60]), np.float32)
        shade = (1 + 0.18 * g + 0.12 * blades)[..., None]
        _paint(img, grass, base * shade)
    else:
        bank = _band(y, lay.road_bottom, lay.water_top) * np.ones_like(x)
        stone = fractal_noise(rng, y, x, cell=3 * u, octaves=2)
        _paint(img, bank, np.float32([150, 140, 125]) * (1 + 0.1 * stone)[..., None])
        water = _band(y, lay.water_top, lay.height + lay.margin + 1) * np.ones_like(x)
        depth = np.clip((y - lay.water_top) / max(lay.height - lay.water_top, 1.0), 0, 1)
        near, far = np.float32([28, 72, 92]), np.float32([70, 120, 140])
        _paint(img, water, far + (near - far) * depth[..., None])


def tree_geometry(lay: Layout, root: int) -> tuple[float, float, float]:
    """``(cx, bottom, top)`` of the tree trunk: on the sidewalk, in front of the buildings."""
    cx = float(R.stream(root, R.TREE, 0).uniform(0.2, 0.8) * lay.width)
    bottom = lay.horizon + 0.55 * (lay.road_top - lay.horizon)
    return cx, bottom, bottom - 24 * lay.unit


def _paint_trunk(img: np.ndarray, y: np.ndarray, x: np.ndarray, lay: Layout, root: int) -> None:
    """The tree trunk (the canopy is a separate, swaying layer; see ``_dynamic``)."""
    u = lay.unit
    cx, bottom, top = tree_geometry(lay, root)
    rng = R.stream(root, R.TREE, 1)
    trunk = coverage(sd_box(y, x, (top + bottom) / 2, cx, (bottom - top) / 2, max(0.8, 2.0 * u)))
    bark = fractal_noise(rng, y, x, cell=2.0 * u, octaves=2)
    _paint(img, trunk, np.float32([92, 66, 45]) * (1 + 0.15 * bark)[..., None])
