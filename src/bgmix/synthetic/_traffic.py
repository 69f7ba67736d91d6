"""Who is in the scene when: lanes, random arrivals with random access, scripted stops.

Objects travel along *lanes*: two traffic lanes on the road (opposite directions, each
with its own speed), two sidewalk directions for pedestrians, pedestrians who come up
from the bottom edge and turn along the sidewalk (no water), and boats on the water.
Every object enters from outside the frame and leaves it again, so no object pops
into view.

Arrivals are generated per lane in fixed *slots* of frames: slot ``k`` of lane ``l``
draws its objects from the stream ``(seed, TRAFFIC, l, k)``. To find the objects
present at frame ``t`` only the slots that can still have an object on screen are
generated (and cached), so any frame is available at once and a scene of 100,000
frames costs no more memory than one of 100. Vehicle lanes allow at most one arrival
per slot, in the first half of it, and all vehicles of a lane share its speed, so they
keep their distance and never overlap.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from bgmix.synthetic import _random as R
from bgmix.synthetic._background import Layout
from bgmix.synthetic._objects import Actor, Track
from bgmix.synthetic._textures import make_lattice

__all__ = ["Lane", "Traffic"]

#: Objects enter and leave this far outside the frame (> the largest camera shake).
_ENTRY = 18.0

_CAR_PAINT = np.array(
    [
        (200, 30, 35),
        (30, 70, 170),
        (235, 235, 232),
        (25, 25, 28),
        (165, 168, 172),
        (230, 190, 40),
        (40, 120, 70),
        (120, 30, 40),
        (90, 110, 130),
        (215, 110, 30),
    ],
    np.float32,
)
_CLOTHES = np.array(
    [
        (40, 50, 90),
        (170, 30, 40),
        (230, 230, 225),
        (30, 30, 35),
        (60, 110, 60),
        (200, 160, 60),
        (110, 70, 130),
        (90, 140, 190),
        (150, 110, 80),
        (220, 120, 150),
    ],
    np.float32,
)
_SKIN = np.array([(235, 195, 160), (200, 150, 110), (150, 100, 70), (95, 65, 45)], np.float32)
_HAIR = np.array([(30, 25, 20), (90, 60, 35), (200, 170, 110), (130, 130, 130)], np.float32)


@dataclass(frozen=True)
class Lane:
    """A stream of objects of one kind along one path.

    ``rate`` is the expected number of arrivals per slot (a probability when
    ``exclusive``). Horizontal lanes run at base line ``y`` (pedestrians: uniform in
    ``[y, y + spread]``) in ``direction`` ±1; the ``"crossing"`` lane walks up from the
    bottom edge to the sidewalk, then along it.
    """

    index: int
    kind: str  # "car", "person", "crossing", "boat"
    y: float
    spread: float
    direction: int
    speed: tuple[float, float]
    size: tuple[float, float]
    slot: int
    rate: float
    exclusive: bool
    max_life: float


class Traffic:
    """The objects of a scene; :meth:`active` lists those present at a frame.

    Parameters
    ----------
    layout : Layout
    root : int
        Scene seed.
    object_rate : float
        Expected number of objects entering per 100 frames, over all lanes.
    people_fraction : float
        Share of pedestrians among them.
    speed_scale : float
        Multiplies every speed.
    shadow_strength : (float, float)
        Range of the brightness factor ``k`` inside shadows.
    stop : (int, int | None) or None
        ``(stop_frame, stop_duration)`` of the car that parks, or None.
    """

    def __init__(
        self,
        layout: Layout,
        root: int,
        *,
        object_rate: float,
        people_fraction: float,
        speed_scale: float,
        shadow_strength: tuple[float, float],
        stop: tuple[int, int | None] | None,
        n_frames: int,
    ) -> None:
        self.layout = layout
        self.root = root
        self.shadow_strength = shadow_strength
        self.lanes = self._make_lanes(object_rate, people_fraction, speed_scale)
        self.scripted: list[Actor] = []
        if stop is not None:
            self.scripted.append(self._parked_car(stop, speed_scale, n_frames))
        self._slot_actors = functools.lru_cache(maxsize=4096)(self._make_slot)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_slot_actors"]  # a cache: rebuilt on unpickling (scenes go to workers)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._slot_actors = functools.lru_cache(maxsize=4096)(self._make_slot)

    # ------------------------------------------------------------------ lanes
    def _make_lanes(self, rate: float, people: float, speed_scale: float) -> list[Lane]:
        lay = self.layout
        u = lay.unit
        rng = R.stream(self.root, R.LANES)
        width = lay.width + 2 * _ENTRY
        rh = lay.road_bottom - lay.road_top
        sw = lay.road_top - lay.horizon
        lanes: list[Lane] = []
        water = lay.water_top is not None
        vehicles = rate * (1.0 - people)
        boats = 0.2 * vehicles if water else 0.0
        cars = vehicles - boats
        walkers = rate * people
        crossing = 0.0 if water else 0.2 * walkers
        walkers -= crossing
        first = int(rng.choice((-1, 1)))
        for i, frac in enumerate((0.58, 0.93)):
            yb = lay.road_top + frac * rh
            scale = lay.depth_scale(yb)
            v = float(rng.uniform(1.0, 2.6) * u * speed_scale * scale)
            size_max = 44.0 * u * scale
            slot = max(8, math.ceil(2.0 * (size_max + 6.0 * u) / v))
            life = (width + 2.0 * size_max) / v + 2.0
            lanes.append(
                Lane(
                    len(lanes),
                    "car",
                    yb,
                    0.0,
                    first if i == 0 else -first,
                    (v, v),
                    (34.0 * u, 44.0 * u),
                    slot,
                    min(1.0, cars / 2.0 * slot / 100.0),
                    True,
                    life,
                )
            )
        y_lo = lay.horizon + 0.45 * sw
        scale = lay.depth_scale(lay.road_top)
        v_lo, v_hi = 0.35 * u * speed_scale * scale, 0.8 * u * speed_scale * scale
        for d in (1, -1):
            life = (width + 2 * 30.0 * u) / v_lo + 2.0
            lanes.append(
                Lane(
                    len(lanes),
                    "person",
                    y_lo,
                    0.45 * sw,
                    d,
                    (v_lo, v_hi),
                    (22.0 * u, 30.0 * u),
                    50,
                    walkers / 2.0 * 0.5,
                    False,
                    life,
                )
            )
        if crossing > 0:
            life = (width + lay.height + 4 * 30.0 * u) / v_lo + 2.0
            lanes.append(
                Lane(
                    len(lanes),
                    "crossing",
                    y_lo,
                    0.45 * sw,
                    0,
                    (v_lo, v_hi),
                    (22.0 * u, 30.0 * u),
                    50,
                    crossing * 0.5,
                    False,
                    life,
                )
            )
        if boats > 0:
            assert lay.water_top is not None
            yb = lay.water_top + 0.5 * (lay.height - lay.water_top)
            v = float(rng.uniform(0.4, 0.8) * u * speed_scale)
            size_max = 60.0 * u
            slot = max(8, math.ceil(2.0 * (size_max + 10.0 * u) / v))
            life = (width + 2.0 * size_max) / v + 2.0
            lanes.append(
                Lane(
                    len(lanes),
                    "boat",
                    yb,
                    0.0,
                    int(rng.choice((-1, 1))),
                    (v, v),
                    (40.0 * u, 60.0 * u),
                    slot,
                    min(1.0, boats * slot / 100.0),
                    True,
                    life,
                )
            )
        return lanes

    # ------------------------------------------------------------------ actors
    def active(self, t: int) -> list[Actor]:
        """Actors present at frame ``t``, far ones first (drawing order)."""
        out = [a for a in self.scripted if a.active(t)]
        for lane in self.lanes:
            if lane.rate <= 0:
                continue
            k_hi = t // lane.slot
            k_lo = max(0, math.floor((t - lane.max_life) / lane.slot))
            for k in range(k_lo, k_hi + 1):
                out.extend(a for a in self._slot_actors(lane.index, k) if a.active(t))
        out.sort(key=lambda a: a.track.at(t)[0])
        return out

    def _make_slot(self, lane_index: int, k: int) -> tuple[Actor, ...]:
        lane = self.lanes[lane_index]
        rng = R.stream(self.root, R.TRAFFIC, lane_index, k)
        if lane.exclusive:
            n = int(rng.random() < lane.rate)
            starts = [k * lane.slot + rng.uniform(0, lane.slot / 2) for _ in range(n)]
        else:
            n = int(rng.poisson(lane.rate))
            starts = sorted(k * lane.slot + rng.uniform(0, lane.slot) for _ in range(n))
        return tuple(self._spawn(lane, t0, rng) for t0 in starts)

    def _spawn(self, lane: Lane, t0: float, rng: np.random.Generator) -> Actor:
        lay = self.layout
        k_lo, k_hi = self.shadow_strength
        shadow_k = float(rng.uniform(k_lo, k_hi))
        lattice = make_lattice(rng, (8, 8))
        speed = float(rng.uniform(*lane.speed))
        if lane.kind in ("car", "boat"):
            size = float(rng.uniform(*lane.size)) if lane.kind == "boat" else lane.size[0]
            kind = lane.kind
            if lane.kind == "car" and rng.random() < 0.25:
                kind, size = "van", lane.size[1]
            scale = lay.depth_scale(lane.y) if lane.kind == "car" else 1.0
            half = 0.55 * size * scale + 2.0
            x_in, x_out = self._ends(lane.direction, half)
            track = Track(
                (t0, t0 + abs(x_out - x_in) / speed), (lane.y, lane.y), (x_in, x_out), ("linear",)
            )
            colours = _vehicle_colours(rng) if kind != "boat" else _boat_colours(rng)
            return Actor(
                kind,
                track,
                size,
                colours,
                lattice,
                shadow_k,
                rng.uniform(0, 6.3),
                bob=0.5 * lay.unit if kind == "boat" else 0.0,
            )
        size = float(rng.uniform(*lane.size))
        yb = lane.y + rng.uniform(0, lane.spread)
        half = 0.25 * size + 2.0
        if lane.kind == "person":
            x_in, x_out = self._ends(lane.direction, half)
            track = Track(
                (t0, t0 + abs(x_out - x_in) / speed), (yb, yb), (x_in, x_out), ("linear",)
            )
        else:  # crossing: up from the bottom edge, then along the sidewalk
            x_c = float(rng.uniform(0.15, 0.85) * lay.width)
            y_in = lay.height + _ENTRY + 1.2 * size * lay.depth_scale(lay.height)
            direction = int(rng.choice((-1, 1)))
            _, x_out = self._ends(direction, half)
            t1 = t0 + (y_in - yb) / speed
            t2 = t1 + abs(x_out - x_c) / speed
            track = Track((t0, t1, t2), (y_in, yb, yb), (x_c, x_c, x_out), ("linear", "linear"))
        return Actor(
            "person", track, size, _person_colours(rng), lattice, shadow_k, rng.uniform(0, 6.3)
        )

    def _ends(self, direction: int, half: float) -> tuple[float, float]:
        # Beyond the largest shake, so the traffic does not depend on the jitter option.
        left = -_ENTRY - half
        right = self.layout.width - 1 + _ENTRY + half
        return (left, right) if direction > 0 else (right, left)

    def _parked_car(self, stop: tuple[int, int | None], speed_scale: float, n_frames: int) -> Actor:
        """A car that drives in, brakes, stays parked at the far kerb, and may leave."""
        lay = self.layout
        rng = R.stream(self.root, R.SCRIPTED)
        stop_frame, duration = stop
        yb = lay.road_top + 0.28 * (lay.road_bottom - lay.road_top)
        scale = lay.depth_scale(yb)
        size = 36.0 * lay.unit
        v = 1.6 * lay.unit * speed_scale * scale
        d = int(rng.choice((-1, 1)))
        x_stop = float(rng.uniform(0.3, 0.7) * lay.width)
        brake = 0.2 * lay.width
        half = 0.55 * size * scale + 2.0
        x_in, x_out = self._ends(d, half)
        t_stop = float(stop_frame)
        t_brake = t_stop - 2.0 * brake / v
        t_in = t_brake - abs(x_stop - d * brake - x_in) / v
        times = [t_in, t_brake, t_stop]
        xs = [x_in, x_stop - d * brake, x_stop]
        ease = ["linear", "out"]
        if duration is None:
            times.append(float(max(n_frames, stop_frame + 1)))
            xs.append(x_stop)
            ease.append("linear")
        else:
            t_go = t_stop + float(duration)
            t_cruise = t_go + 2.0 * brake / v
            times += [t_go, t_cruise, t_cruise + abs(x_out - (x_stop + d * brake)) / v]
            xs += [x_stop, x_stop + d * brake, x_out]
            ease += ["linear", "in", "linear"]
        track = Track(tuple(times), (yb,) * len(times), tuple(xs), tuple(ease))
        k_lo, k_hi = self.shadow_strength
        return Actor(
            "car",
            track,
            size,
            _vehicle_colours(rng),
            make_lattice(rng, (8, 8)),
            float(rng.uniform(k_lo, k_hi)),
            fixed_scale=scale,
        )


def _vehicle_colours(rng: np.random.Generator) -> dict[str, np.ndarray]:
    paint = _CAR_PAINT[rng.integers(len(_CAR_PAINT))] * np.float32(rng.uniform(0.85, 1.1))
    return {
        "body": np.clip(paint, 0, 255).astype(np.float32),
        "glass": np.float32([45, 60, 75]) * np.float32(rng.uniform(0.8, 1.3)),
        "tyre": np.float32([28, 28, 30]),
        "hub": np.float32([150, 150, 155]),
        "head": np.float32([250, 240, 200]),
        "tail": np.float32([200, 30, 25]),
    }


def _boat_colours(rng: np.random.Generator) -> dict[str, np.ndarray]:
    hull = _CAR_PAINT[rng.integers(len(_CAR_PAINT))]
    return {
        "body": hull.astype(np.float32),
        "stripe": np.float32([235, 235, 230]) if hull.mean() < 150 else np.float32([30, 60, 140]),
        "cabin": np.float32([238, 238, 232]),
        "glass": np.float32([40, 55, 70]),
    }


def _person_colours(rng: np.random.Generator) -> dict[str, np.ndarray]:
    pick = rng.integers(len(_CLOTHES), size=2)
    return {
        "shirt": _CLOTHES[pick[0]].copy(),
        "legs": _CLOTHES[pick[1]] * np.float32(0.7),
        "skin": _SKIN[rng.integers(len(_SKIN))].copy(),
        "hair": _HAIR[rng.integers(len(_HAIR))].copy(),
    }
