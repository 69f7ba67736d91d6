"""Moving objects: trajectories, silhouettes, texture, anti-aliased sprites and shadows.

An :class:`Actor` is a car, a van, a pedestrian or a boat following a :class:`Track`.
At time ``t`` it is drawn as a union of simple shapes (rounded boxes, ellipses,
convex polygons) given by signed distance functions, so its coverage of every pixel is
exact and anti-aliased (see :mod:`bgmix.synthetic._shapes`). Colours carry a texture
that moves with the object (value noise in the object's own coordinates) and a
top-to-bottom shading. Pedestrians swing their legs and arms in step with the distance
they walk; boats bob on the water.

Shadows are the object's silhouette projected onto the ground by a distant light:
ground point ``(Y, X)`` below the object's base line ``y_b`` receives the shadow of
object point ``(y_b - h, X - l_x h)`` with ``h = (Y - y_b) / l_y``. The shadow strength
falls off smoothly over a penumbra a few pixels wide; the ground under it keeps its
colour and is multiplied by ``1 - s (1 - k)`` with ``k`` in [0.4, 0.8]: same
chromaticity, 40–80 % of the brightness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bgmix.synthetic._shapes import coverage, sd_box, sd_ellipse, sd_polygon, union
from bgmix.synthetic._textures import sample_lattice, smoothstep

__all__ = ["Actor", "Sprite", "Track", "render_actor", "render_shadow"]

_EASE: dict[str, Callable[[float], float]] = {
    "linear": lambda u: u,
    "out": lambda u: 1.0 - (1.0 - u) ** 2,  # decelerate to rest
    "in": lambda u: u * u,  # accelerate from rest
}


@dataclass(frozen=True)
class Track:
    """A piecewise trajectory through keyframes ``(time, y, x)``.

    Between keyframes ``i`` and ``i + 1`` the position moves along the straight segment
    with the easing ``ease[i]`` (``"linear"``, ``"out"`` to stop smoothly, ``"in"`` to
    start smoothly); two equal consecutive positions make the object wait.
    """

    times: tuple[float, ...]
    ys: tuple[float, ...]
    xs: tuple[float, ...]
    ease: tuple[str, ...]

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        return self.times[-1]

    def at(self, t: float) -> tuple[float, float, float, float]:
        """``(y, x, distance walked so far, horizontal heading ±1)`` at time ``t``."""
        times = self.times
        i = int(np.searchsorted(times, t, side="right")) - 1
        i = min(max(i, 0), len(times) - 2)
        span = times[i + 1] - times[i]
        u = 0.0 if span <= 0 else min(max((t - times[i]) / span, 0.0), 1.0)
        e = _EASE[self.ease[i]](u)
        y0, y1, x0, x1 = self.ys[i], self.ys[i + 1], self.xs[i], self.xs[i + 1]
        walked = 0.0
        for k in range(i):
            walked += float(np.hypot(self.ys[k + 1] - self.ys[k], self.xs[k + 1] - self.xs[k]))
        walked += e * float(np.hypot(y1 - y0, x1 - x0))
        heading = 1.0
        for k in (*range(i, len(times) - 1), *range(i - 1, -1, -1)):
            dx = self.xs[k + 1] - self.xs[k]
            if dx:
                heading = 1.0 if dx > 0 else -1.0
                break
        return y0 + e * (y1 - y0), x0 + e * (x1 - x0), walked, heading


@dataclass(eq=False)
class Actor:
    """One moving object: what it is, how it looks and where it goes.

    ``size`` is the car/boat length or the pedestrian height in pixels at depth scale 1
    (objects are scaled by :meth:`Layout.depth_scale` of their base line).
    """

    kind: str  # "car", "van", "person" or "boat"
    track: Track
    size: float
    colours: dict[str, np.ndarray]
    lattice: np.ndarray
    shadow_k: float
    phase: float = 0.0
    bob: float = 0.0  # boats: bobbing amplitude in pixels
    fixed_scale: float | None = None

    def active(self, t: float) -> bool:
        return self.track.start <= t <= self.track.end


@dataclass
class Sprite:
    """An actor drawn at one time: bounding box in frame rows/columns and its layers."""

    r0: int
    c0: int
    rgb: np.ndarray  # (h, w, 3) float32, unlit colour
    cover: np.ndarray  # (h, w) float32 coverage in [0, 1]


@dataclass(frozen=True)
class _Part:
    """One shape of a silhouette: its signed distance function and its colour.

    ``outline`` parts make the silhouette (coverage, shadow); the others are details
    painted inside it (windows, hubs, lights) and are drawn after them.
    """

    sdf: Callable[[np.ndarray, np.ndarray], np.ndarray]
    colour: np.ndarray
    outline: bool = True


def _geometry(actor: Actor, t: float, scale_of: Callable[[float], float]):
    """Base line, centre, size, parts (outline first) and bounding box at time ``t``."""
    yb, cx, walked, heading = actor.track.at(t)
    if actor.bob:
        yb += actor.bob * np.sin(0.11 * t + actor.phase)
    s = actor.fixed_scale if actor.fixed_scale is not None else scale_of(yb)
    size = actor.size * s
    if actor.kind in ("car", "van"):
        parts, box = _vehicle_parts(actor, yb, cx, size, heading)
    elif actor.kind == "person":
        swing = 0.45 * np.sin(actor.phase + 2 * np.pi * walked / (0.55 * actor.size))
        parts, box = _person_parts(actor, yb, cx, size, swing)
    else:
        parts, box = _boat_parts(actor, yb, cx, size, heading)
    return yb, cx, size, parts, box


def _vehicle_parts(a: Actor, yb: float, cx: float, L: float, f: float):
    c = a.colours
    van = a.kind == "van"
    body_h = (0.40 if van else 0.27) * L
    rw = 0.105 * L
    body_cy = yb - 0.07 * L - body_h / 2
    body_top = body_cy - body_h / 2
    body_r = 0.22 * body_h
    parts = [_Part(lambda y, x: sd_box(y, x, body_cy, cx, body_h / 2, L / 2, body_r), c["body"])]
    details = []
    if van:
        wy, wx = body_top + 0.28 * body_h, cx - f * 0.06 * L
        details.append(
            _Part(
                lambda y, x: sd_box(y, x, wy, wx, 0.12 * body_h, 0.38 * L, 0.04 * L),
                c["glass"],
                False,
            )
        )
        top = body_top
    else:
        bot, top = body_top + 0.02 * L, body_top - 0.2 * L
        cab = [(bot, cx - f * 0.34 * L), (bot, cx + f * 0.26 * L),
               (top, cx + f * 0.10 * L), (top, cx - f * 0.24 * L)]  # fmt: skip
        i = 0.035 * L
        win = [(bot - 0.4 * i, cx - f * (0.34 * L - 1.6 * i)),
               (bot - 0.4 * i, cx + f * (0.26 * L - 1.8 * i)),
               (top + i, cx + f * (0.10 * L - 0.8 * i)),
               (top + i, cx - f * (0.24 * L - 0.8 * i))]  # fmt: skip
        parts.append(_Part(lambda y, x: sd_polygon(y, x, cab), c["body"]))
        details.append(_Part(lambda y, x: sd_polygon(y, x, win), c["glass"], False))
    for wx in (cx - 0.31 * L, cx + 0.31 * L):
        parts.append(_Part(lambda y, x, wx=wx: sd_ellipse(y, x, yb - rw, wx, rw, rw), c["tyre"]))
        details.append(
            _Part(
                lambda y, x, wx=wx: sd_ellipse(y, x, yb - rw, wx, 0.45 * rw, 0.45 * rw),
                c["hub"],
                False,
            )
        )
    ly, hx, tx = body_cy - 0.12 * body_h, cx + f * 0.46 * L, cx - f * 0.465 * L
    details.append(
        _Part(lambda y, x: sd_ellipse(y, x, ly, hx, 0.045 * L, 0.03 * L), c["head"], False)
    )
    details.append(
        _Part(lambda y, x: sd_ellipse(y, x, ly, tx, 0.04 * L, 0.025 * L), c["tail"], False)
    )
    return parts + details, (top, yb, cx - L / 2, cx + L / 2)


def _limb(y0: float, x0: float, length: float, half_w: float, angle: float, colour):
    """A rounded limb hanging from ``(y0, x0)``, swung by ``angle`` radians."""
    cy = y0 + 0.5 * length * np.cos(angle)
    cx = x0 - 0.5 * length * np.sin(angle)
    return _Part(lambda y, x: sd_box(y, x, cy, cx, length / 2, half_w, half_w, angle), colour)


def _person_parts(a: Actor, yb: float, cx: float, P: float, swing: float):
    c = a.colours
    hip, shoulder, head = yb - 0.46 * P, yb - 0.79 * P, yb - 0.905 * P
    torso = yb - 0.64 * P
    parts = [_limb(hip, cx + side * 0.035 * P, 0.46 * P, 0.05 * P, side * swing, c["legs"])
             for side in (-1.0, 1.0)]  # fmt: skip
    parts += [_limb(shoulder, cx + side * 0.125 * P, 0.34 * P, 0.035 * P, -0.8 * side * swing,
                    c["shirt"]) for side in (-1.0, 1.0)]  # fmt: skip
    parts += [
        _Part(lambda y, x: sd_box(y, x, torso, cx, 0.18 * P, 0.12 * P, 0.05 * P), c["shirt"]),
        _Part(lambda y, x: sd_ellipse(y, x, head - 0.012 * P, cx, 0.083 * P, 0.072 * P), c["hair"]),
        _Part(lambda y, x: sd_ellipse(y, x, head + 0.012 * P, cx, 0.075 * P, 0.064 * P), c["skin"]),
    ]
    half_w = max(0.16 * P, 0.23 * P * abs(np.sin(swing)) + 0.09 * P)
    return parts, (yb - P, yb + 0.02 * P, cx - half_w, cx + half_w)


def _boat_parts(a: Actor, yb: float, cx: float, L: float, f: float):
    c = a.colours
    deck = yb - 0.15 * L
    hull = [(deck, cx - f * 0.48 * L), (deck, cx + f * 0.5 * L),
            (yb, cx + f * 0.30 * L), (yb, cx - f * 0.44 * L)]  # fmt: skip
    cab_cy, cab_h, cab_x = deck - 0.075 * L, 0.08 * L, cx - f * 0.12 * L
    sx = cx + f * 0.01 * L
    parts = [
        _Part(lambda y, x: sd_polygon(y, x, hull), c["body"]),
        _Part(lambda y, x: sd_box(y, x, cab_cy, cab_x, cab_h, 0.17 * L, 0.02 * L), c["cabin"]),
        _Part(
            lambda y, x: sd_box(y, x, deck + 0.02 * L, sx, 0.015 * L, 0.47 * L), c["stripe"], False
        ),
        _Part(
            lambda y, x: sd_box(y, x, cab_cy - 0.01 * L, cab_x, 0.025 * L, 0.14 * L),
            c["glass"],
            False,
        ),
    ]
    return parts, (cab_cy - cab_h, yb, cx - 0.5 * L, cx + 0.5 * L)


def _bbox(box: tuple[float, float, float, float], height: int, width: int):
    top, bottom, left, right = box
    r0 = max(int(np.floor(top)) - 1, 0)
    r1 = min(int(np.ceil(bottom)) + 2, height)
    c0 = max(int(np.floor(left)) - 1, 0)
    c1 = min(int(np.ceil(right)) + 2, width)
    return r0, r1, c0, c1


def render_actor(
    actor: Actor,
    t: float,
    scale_of: Callable[[float], float],
    height: int,
    width: int,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Sprite | None:
    """Draw ``actor`` at time ``t`` into a frame of ``height`` x ``width``.

    ``offset`` (dy, dx) is the camera shake added to the actor's position. Returns None
    when the actor covers no pixel of the frame.
    """
    yb, cx, size, parts, box = _geometry(actor, t, scale_of)
    oy, ox = offset
    top, bottom, left, right = box
    r0, r1, c0, c1 = _bbox((top + oy, bottom + oy, left + ox, right + ox), height, width)
    if r1 <= r0 or c1 <= c0:
        return None
    y = np.arange(r0, r1, dtype=np.float32)[:, None] - np.float32(oy)
    x = np.arange(c0, c1, dtype=np.float32)[None, :] - np.float32(ox)
    dists = [p.sdf(y, x) for p in parts]
    cover = coverage(union(*(d for p, d in zip(parts, dists, strict=True) if p.outline)))
    if not cover.any():
        return None
    # Texture moving with the object, and shading darker towards the base line.
    cell = max(size / 9.0, 1.0)
    tex = sample_lattice(actor.lattice, (y - yb) / cell, (x - cx) / cell)
    shade = np.float32(1.08) - np.float32(0.22) * np.clip((y - top) / max(bottom - top, 1.0), 0, 1)
    modulation = ((1 + np.float32(0.07) * tex) * shade)[..., None]
    rgb = np.broadcast_to(parts[0].colour, (r1 - r0, c1 - c0, 3)).astype(np.float32)
    for part, d in zip(parts[1:], dists[1:], strict=True):
        rgb += (part.colour - rgb) * coverage(d)[..., None]
    return Sprite(r0, c0, rgb * modulation, cover)


def render_shadow(
    actor: Actor,
    t: float,
    scale_of: Callable[[float], float],
    light: tuple[float, float],
    height: int,
    width: int,
    offset: tuple[float, float] = (0.0, 0.0),
    ground_bottom: float | None = None,
) -> tuple[int, int, np.ndarray] | None:
    """Shadow strength ``s`` in [0, 1] cast by ``actor`` at time ``t``.

    ``light`` is ``(l_y, l_x)``: a point ``h`` pixels above the base line falls
    ``l_y h`` pixels below it and ``l_x h`` to the side. Shadow is cast only on rows above
    ``ground_bottom`` (the water edge). Returns ``(r0, c0, s)`` or None.
    """
    yb, _, _, parts, box = _geometry(actor, t, scale_of)
    ly, lx = light
    oy, ox = offset
    top, bottom, left, right = box
    tall = bottom - top
    pen = max(1.2, 0.10 * tall)
    reach_y, reach_x = ly * tall, lx * tall
    r0, r1, c0, c1 = _bbox(
        (
            yb - pen + oy,
            yb + reach_y + pen + oy,
            min(left, left + reach_x) - pen + ox,
            max(right, right + reach_x) + pen + ox,
        ),
        height,
        width,
    )
    if ground_bottom is not None:
        r1 = min(r1, int(np.ceil(ground_bottom + oy)))
    if r1 <= r0 or c1 <= c0:
        return None
    gy = np.arange(r0, r1, dtype=np.float32)[:, None] - np.float32(oy)
    gx = np.arange(c0, c1, dtype=np.float32)[None, :] - np.float32(ox)
    h = np.maximum(gy - np.float32(yb), 0) / np.float32(ly)
    oy_obj = np.float32(yb) - h
    ox_obj = gx - np.float32(lx) * h
    d = union(*(p.sdf(oy_obj, ox_obj) for p in parts if p.outline))
    d = d * np.float32(min(1.0, ly * 1.5))
    s = smoothstep((np.float32(pen / 2) - d) / np.float32(pen))
    s = s * smoothstep((gy - np.float32(yb - pen)) / np.float32(pen))
    if ground_bottom is not None:
        s = s * (gy < np.float32(ground_bottom))
    if not s.any():
        return None
    return r0, c0, s.astype(np.float32, copy=False)
