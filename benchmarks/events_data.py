"""Test videos with known motion events for ``benchmarks/events.py`` (issue 11).

Run from the repository root::

    .venv/bin/python benchmarks/events_data.py              # make what is missing
    .venv/bin/python benchmarks/events_data.py --force      # remake everything

Writes H.264 MP4 files and ``manifest.json`` to ``benchmarks/_cache/events/`` (ignored
by git). Everything is deterministic (fixed seeds), so the set can be remade anywhere;
the semi-real videos need the shared sequences (``$BGMIX_DATA`` or ``../shared/data``)
and are skipped with a message when they are absent.

Two groups of scenario families:

*synthetic* (320x240 at 15 fps, 384x216 at 25 fps, 320x240 at 20 fps; 75-95 s): a
street scene of :mod:`bgmix.synthetic` with no traffic, one nuisance running through
the whole video, and scripted objects (people walking across, cars, a person who
stops, a person crossing up from the bottom edge, two people at once) separated by
quiet stretches of 7-15 s. Families, one per
nuisance:

``light``   sudden light switches (gain 1 <-> 0.5-0.7 with a colour cast and a
            falloff, sometimes a fluorescent flicker) in the middle of quiet stretches;
``clouds``  large soft cloud shadows (25-40 % darker) drifting across the view plus a
            slow global brightness drift;
``rain``    bright rain streaks every frame, heavier and lighter over time;
``shake``   camera shake (wind): the whole view moves by up to 2-3.5 px every frame;
``trees``   a swaying tree canopy and rippling water with glints;
``night``   the scene at 30-45 % of the light, bluish, with strong sensor noise
            (sigma 9-13) and salt-and-pepper pixels.

*semi-real* (family ``semireal``, native size of the sequence, 25 fps, 60-80 s): the
quiet stretches are the background of a real sequence of the shared data (per pixel,
the median of the frames in which its ground truth says background, as SBMnet's
reference backgrounds; pixels never seen free are inpainted), with sensor noise
(sigma 2.5), a slow brightness drift (+-6 %) and one or two sudden exposure jumps
(+-10 %) in quiet stretches; the events are clips of 2.5-6 s of the real sequence
(frames whose ground truth has foreground throughout) whose moving objects (ground
truth 255, 170 and 50: objects, their rims and shadows, grown by 1.5 % of the height
and feathered) are pasted over that background, with the same noise and brightness
applied. Only the real activity enters the quiet scene: no cut to another frame
marks the start of an event.

Ground truth: an event is a maximal run of frames in which some object is visible
(synthetic: at least ``MIN_AREA`` = 25 pixels covered by half or more; semi-real: the
inserted clip), runs less than one second apart being merged. Frame ranges are
0-based and inclusive, with no padding. Each manifest entry also lists the nuisance
moments (light switches, exposure jumps) as ``nuisance_frames``.

Splits: ``tune`` and ``heldout``. Synthetic videos differ by seed (two tune videos
and one held-out video per family); semi-real videos differ by scene: the held-out
sequences are never used for tuning (:data:`SEMIREAL_SPLIT`; two videos per sequence).
SBI's ``Foliage`` and ``Snellen`` are left out on purpose: their "foreground" is
leaves swaying in front of the lens, a nuisance for a motion-event detector.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import CACHE, data_root  # noqa: E402

OUT = CACHE / "events"
GENERATOR_VERSION = 3
MIN_AREA = 25  # pixels covered >= 0.5 for an object to count as visible
MERGE_GAP_S = 1.0  # runs of visibility closer than this are one event

SYNTHETIC_FAMILIES = ("light", "clouds", "rain", "shake", "trees", "night")
#: family -> per-family seed offset; video k of a family has seed 1000 * offset + k.
_FAMILY_SEED = {f: i + 1 for i, f in enumerate(SYNTHETIC_FAMILIES)}
#: video index -> (width, height, fps, split): two tune videos and one held-out video
#: per family, at different sizes and frame rates.
SYNTH_VARIANTS = ((320, 240, 15, "tune"), (384, 216, 25, "tune"), (320, 240, 20, "heldout"))

#: Shared sequences -> split. Held-out scenes are never seen when tuning.
SEMIREAL_SPLIT = {
    "cdnet_baseline_highway": "tune",
    "sbi2015_Board": "tune",
    "sbi2015_CAVIAR2": "tune",
    "sbi2015_HighwayI": "heldout",
    "sbi2015_CaVignal": "heldout",
    "sbi2015_IBMtest2": "heldout",
}
#: Semi-real videos per sequence (distinct seeds: other clips, gaps and light).
SEMIREAL_PER_SEQUENCE = 2
SEMIREAL_FPS = 25


# --------------------------------------------------------------------------- events
def runs_to_events(active: np.ndarray, merge_gap: int) -> list[list[int]]:
    """Maximal runs of True in ``active`` as inclusive ``[start, end]`` pairs, runs
    separated by fewer than ``merge_gap`` False frames merged.

    >>> runs_to_events(np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1], bool), 3)
    [[1, 5], [10, 10]]
    """
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    events = [[int(idx[0]), int(idx[0])]]
    for i in idx[1:]:
        if i - events[-1][1] - 1 < merge_gap:
            events[-1][1] = int(i)
        else:
            events.append([int(i), int(i)])
    return events


# --------------------------------------------------------------------------- synthetic
@dataclass
class _Plan:
    """Scripted objects and quiet-stretch midpoints of a synthetic video."""

    actors: list[Any]
    gaps: list[tuple[int, int]]  # quiet stretches (first, last frame) between events


def _plan(scene: Any, rng: np.random.Generator, n_frames: int, fps: int) -> _Plan:
    """Script the objects: quiet start, then events separated by quiet stretches."""
    from bgmix.synthetic._objects import Actor, Track
    from bgmix.synthetic._textures import make_lattice
    from bgmix.synthetic._traffic import _person_colours, _vehicle_colours

    lay = scene._layout
    w, h, u = lay.width, lay.height, lay.unit
    sw = lay.road_top - lay.horizon
    actors: list[Actor] = []
    gaps: list[tuple[int, int]] = []
    t = int(rng.uniform(6, 10) * fps)
    gaps.append((0, t))

    def actor(kind: str, track: Track, size: float, colours: dict) -> Actor:
        lattice, phase = make_lattice(rng, (8, 8)), float(rng.uniform(0, 6.3))
        return Actor(kind, track, size, colours, lattice, 0.6, phase)

    def person(t0: float, keys: list[tuple[float, float, float]], size: float) -> Actor:
        times, ys, xs = zip(*keys, strict=True)
        track = Track(tuple(t0 + k for k in times), ys, xs, ("linear",) * (len(keys) - 1))
        return actor("person", track, size, _person_colours(rng))

    def walker(t0: float, direction: int, yb: float | None = None) -> Actor:
        size = float(rng.uniform(22, 30) * u)
        if yb is None:
            yb = float(
                rng.choice(
                    [rng.uniform(lay.horizon + 0.45 * sw, lay.road_top), rng.uniform(0.6, 0.95) * h]
                )
            )
        half = 0.3 * size * lay.depth_scale(yb) + 3
        x0, x1 = (-half, w + half) if direction > 0 else (w + half, -half)
        dur = float(rng.uniform(4, 9) * fps)
        return person(t0, [(0, yb, x0), (dur, yb, x1)], size)

    while True:
        kind = rng.choice(
            ["walk", "car", "loiter", "cross", "pair"], p=[0.3, 0.25, 0.15, 0.15, 0.15]
        )
        d = int(rng.choice((-1, 1)))
        new: list[Actor] = []
        if kind == "walk":
            new.append(walker(t, d))
        elif kind == "pair":
            new.append(walker(t, d))
            new.append(walker(t + rng.uniform(0.5, 2.0) * fps, -d))
        elif kind == "car":
            rh = lay.road_bottom - lay.road_top
            yb = lay.road_top + float(rng.choice((0.58, 0.93))) * rh
            size = float(rng.uniform(34, 44) * u)
            half = 0.6 * size * lay.depth_scale(yb) + 3
            x0, x1 = (-half, w + half) if d > 0 else (w + half, -half)
            dur = float(rng.uniform(2, 4) * fps)
            kind_ = "van" if rng.random() < 0.25 else "car"
            track = Track((t, t + dur), (yb, yb), (x0, x1), ("linear",))
            new.append(actor(kind_, track, size, _vehicle_colours(rng)))
        elif kind == "loiter":
            size = float(rng.uniform(22, 30) * u)
            yb = float(rng.uniform(0.6, 0.95) * h)
            half = 0.3 * size * lay.depth_scale(yb) + 3
            edge = -half if d > 0 else w + half
            stop = float(rng.uniform(0.3, 0.7) * w)
            walk = abs(stop - edge) / (rng.uniform(0.4, 0.7) * w / fps)  # frames
            wait = float(rng.uniform(1.0, 2.0) * fps)
            keys = [(0, yb, edge), (walk, yb, stop), (walk + wait, yb, stop)]
            keys.append((2 * walk + wait, yb, edge))
            new.append(person(t, keys, size))
        else:  # cross: up from the bottom edge, then along the sidewalk
            size = float(rng.uniform(22, 30) * u)
            yb = float(rng.uniform(lay.horizon + 0.45 * sw, lay.road_top))
            xc = float(rng.uniform(0.2, 0.8) * w)
            y_in = h + 1.2 * size * lay.depth_scale(h) + 3
            half = 0.3 * size + 3
            x_out = -half if d < 0 else w + half
            up = (y_in - yb) / (rng.uniform(0.25, 0.45) * h / fps)
            side = abs(x_out - xc) / (rng.uniform(0.25, 0.45) * w / fps)
            new.append(person(t, [(0, y_in, xc), (up, yb, xc), (up + side, yb, x_out)], size))
        end = math.ceil(max(a.track.end for a in new))
        if end + 6 * fps >= n_frames:
            break
        actors.extend(new)
        gap = int(rng.uniform(7, 15) * fps)
        gaps.append((end + 1, min(end + gap, n_frames - 1)))
        t = end + gap
    gaps[-1] = (gaps[-1][0], n_frames - 1)
    return _Plan(actors, gaps)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-blurred white noise scaled to [0, 1], float32."""
    import cv2

    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    field -= field.min()
    return field / max(float(field.max()), 1e-6)


class _Nuisance:
    """Per-frame multiplicative light, additive layers and noise of a family."""

    def __init__(
        self, family: str, rng: np.random.Generator, plan: _Plan, size: tuple[int, int], fps: int
    ):
        self.family, self.rng, self.fps = family, rng, fps
        w, h = size
        self.noise_sigma, self.salt = 2.5, 0.0
        self.moments: list[int] = []
        x = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :, None]
        if family == "light":
            # Toggle between full light and a dimmer, tinted, uneven light at the middle
            # of every quiet stretch after the first.
            self.steps: list[tuple[int, np.ndarray, bool]] = []
            on = True
            for a, b in plan.gaps[1:]:
                m = (a + b) // 2
                on = not on
                if on:
                    gain = np.ones((1, 1, 3), np.float32)
                else:
                    g = float(rng.uniform(0.5, 0.7))
                    tint = np.float32([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.82, 0.95)])
                    gain = g * tint * (1 + float(rng.uniform(-0.25, 0.25)) * x)
                self.steps.append((m, gain.astype(np.float32), bool(rng.random() < 0.4)))
                self.moments.append(m)
        elif family == "clouds":
            self.cloud = _smooth_noise(rng, (h, 3 * w), 28.0)
            self.cloud = np.clip((self.cloud - 0.45) / 0.35, 0, 1)
            self.depth = float(rng.uniform(0.25, 0.4))
            self.speed = float(rng.uniform(0.6, 1.4)) * (1 if rng.random() < 0.5 else -1)
            self.period = float(rng.uniform(30, 60) * fps)
        elif family == "rain":
            self.rain_period = float(rng.uniform(20, 40) * fps)
            self.angle = float(rng.uniform(-0.35, 0.35))
        elif family == "night":
            self.gain = float(rng.uniform(0.3, 0.45)) * np.float32([0.85, 0.95, 1.15])
            self.noise_sigma, self.salt = float(rng.uniform(9, 13)), 0.002

    def apply(self, img: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        """Light, rain and noise on the float32 frame ``img`` at frame ``t`` (in place)."""
        f = self.family
        if f == "light":
            gain = None
            for m, g, flicker in self.steps:
                if t >= m:
                    gain = g
                if flicker and m - 4 <= t < m and (m - t) % 2 == 0:
                    gain = 0.5 * (g + (gain if gain is not None else 1.0))
            if gain is not None:
                img *= gain
        elif f == "clouds":
            w = img.shape[1]
            off = round(w + self.speed * t) % (2 * w)
            shade = 1 - self.depth * self.cloud[:, off : off + w]
            drift = 1 + 0.12 * math.sin(2 * math.pi * t / self.period)
            img *= (drift * shade)[..., None]
        elif f == "rain":
            self._rain(img, t, rng)
        elif f == "night":
            img *= self.gain
        h, w = img.shape[:2]
        img += np.float32(self.noise_sigma) * rng.standard_normal((h, w, 3), np.float32)
        if self.salt:
            hit = rng.random((h, w)) < self.salt
            img[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0.0, 255.0)[:, None]
        return img

    def _rain(self, img: np.ndarray, t: int, rng: np.random.Generator) -> None:
        import cv2

        h, w = img.shape[:2]
        level = 0.5 + 0.5 * math.sin(2 * math.pi * t / self.rain_period)
        count = int(120 + 300 * level)
        layer = np.zeros((h, w), np.float32)
        ys = rng.uniform(0, h, count)
        xs = rng.uniform(0, w, count)
        lengths = rng.uniform(6, 14, count)
        strengths = rng.uniform(0.25, 0.6, count)
        dx, dy = math.sin(self.angle), math.cos(self.angle)
        for y, x, n, s in zip(ys, xs, lengths, strengths, strict=True):
            p0 = (int(x * 4), int(y * 4))
            p1 = (int((x + dx * n) * 4), int((y + dy * n) * 4))
            cv2.line(layer, p0, p1, float(s), 1, cv2.LINE_AA, shift=2)
        layer = np.minimum(layer, 1.0)[..., None]
        img *= np.float32(0.92)
        img += (np.float32(215.0) - img) * layer


def _synthetic_video(family: str, k: int, path: Path) -> dict[str, Any]:
    import bgmix
    from bgmix.synthetic import generate
    from bgmix.synthetic._objects import render_actor

    seed = 1000 * _FAMILY_SEED[family] + k
    rng = np.random.default_rng(seed)
    w, h, fps, split = SYNTH_VARIANTS[k]
    n = int(rng.uniform(75, 95) * fps)
    opts: dict[str, Any] = {"object_rate": 0.0, "noise_sigma": 0.0}
    if family == "shake":
        opts["jitter"] = float(rng.uniform(2.0, 3.5))
    if family == "trees":
        opts.update(water=True, foliage=True, dynamic_amplitude=float(rng.uniform(30, 45)))
    scene = generate("baseline", width=w, height=h, n_frames=n, seed=seed, **opts)
    plan = _plan(scene, rng, n, fps)
    nuisance = _Nuisance(family, rng, plan, (w, h), fps)
    scale_of = scene._layout.depth_scale
    visible = np.zeros(n, bool)
    noise_rng = np.random.default_rng([seed, 7])
    with bgmix.open_sink(path, fps=fps, crf=20, preset="veryfast") as sink:
        for t in range(n):
            img = scene.frame(t).image.astype(np.float32)
            offset = scene._offset(t)
            for actor in plan.actors:
                if not actor.track.start - 1 <= t <= actor.track.end + 1:
                    continue
                sp = render_actor(actor, float(t), scale_of, h, w, offset)
                if sp is None:
                    continue
                sl = (
                    slice(sp.r0, sp.r0 + sp.cover.shape[0]),
                    slice(sp.c0, sp.c0 + sp.cover.shape[1]),
                )
                img[sl] += (sp.rgb - img[sl]) * sp.cover[..., None]
                if int((sp.cover >= 0.5).sum()) >= MIN_AREA:
                    visible[t] = True
            nuisance.apply(img, t, noise_rng)
            sink.write(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    return {
        "name": path.stem,
        "family": family,
        "group": "synthetic",
        "split": split,
        "seed": seed,
        "fps": fps,
        "frames": n,
        "width": w,
        "height": h,
        "events": runs_to_events(visible, int(MERGE_GAP_S * fps)),
        "nuisance_frames": nuisance.moments,
    }


# --------------------------------------------------------------------------- semi-real
def _read_sequence(name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames (RGB uint8) and foreground masks (bool, label 255) of a shared sequence."""
    from bgmix.io._images import read_image
    from bgmix.metrics._sequence import read_sequence

    seq = read_sequence(data_root() / "sequences" / name)
    frames, masks = [], []
    for number, p in seq.input_frames:
        g = seq.groundtruth.get(number)
        if g is None:
            continue
        frames.append(read_image(p, mode="RGB"))
        masks.append(read_image(g, mode="L"))
    return frames, masks


def median_background(frames: list[np.ndarray], labels: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median of the frames where the ground truth says background (label 0);
    pixels with fewer than 3 such frames are inpainted from the rest.

    >>> f = [np.full((4, 4, 3), v, np.uint8) for v in (10, 20, 30, 200)]
    >>> g = [np.zeros((4, 4), np.uint8)] * 3 + [np.full((4, 4), 255, np.uint8)]
    >>> int(median_background(f, g)[0, 0, 0])
    20
    """
    import cv2

    step = max(1, len(frames) // 200)
    stack = np.stack(frames[::step]).astype(np.float32)
    free = np.stack([g == 0 for g in labels[::step]])
    stack[~free] = np.nan
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bg = np.nanmedian(stack, axis=0)
    hole = free.sum(axis=0) < 3
    bg = np.nan_to_num(bg, nan=0.0)
    out = np.clip(bg + 0.5, 0, 255).astype(np.uint8)
    if hole.any():
        out = cv2.inpaint(out, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    return out


def activity_alpha(label: np.ndarray, grow: int) -> np.ndarray:
    """Where a real frame is pasted over the background: its moving objects (ground
    truth 255, their unknown rim 170 and shadows 50), grown by ``grow`` pixels and
    feathered, as float32 weights in [0, 1].

    >>> g = np.zeros((9, 9), np.uint8); g[4, 4] = 255
    >>> a = activity_alpha(g, 2)
    >>> float(a[4, 4]), float(a[0, 0]), bool(0 < a[4, 7] < 1)
    (1.0, 0.0, True)
    """
    import cv2

    core = np.isin(label, (50, 170, 255)).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    alpha = cv2.GaussianBlur(cv2.dilate(core, k).astype(np.float32), (0, 0), max(grow / 2, 0.8))
    alpha = np.maximum(alpha, core.astype(np.float32))
    alpha[alpha < 0.02] = 0.0
    return alpha


def _semireal_video(name: str, k: int, path: Path) -> dict[str, Any]:
    import bgmix

    seed = 500 + 10 * sorted(SEMIREAL_SPLIT).index(name) + k
    rng = np.random.default_rng(seed)
    fps = SEMIREAL_FPS
    frames, labels = _read_sequence(name)
    bg = median_background(frames, labels).astype(np.float32)
    h, w = bg.shape[:2]
    area = h * w
    busy = np.array([(g == 255).sum() >= max(0.002 * area, 40) for g in labels])
    n = int(rng.uniform(60, 80) * fps)
    # Timeline: quiet, clip, quiet, ... with the clips from busy stretches of the source.
    source = np.full(n, -1)
    events: list[list[int]] = []
    gaps: list[tuple[int, int]] = []
    t = int(rng.uniform(6, 10) * fps)
    gaps.append((0, t - 1))
    runs = runs_to_events(busy, 1)
    runs = [r for r in runs if r[1] - r[0] + 1 >= int(1.5 * fps)]
    while True:
        run = runs[int(rng.integers(len(runs)))]
        avail = run[1] - run[0] + 1
        length = min(int(rng.uniform(2.5, 6) * fps), avail)
        a = run[0] + int(rng.integers(avail - length + 1))
        if t + length + 6 * fps >= n:
            break
        source[t : t + length] = np.arange(a, a + length)
        events.append([t, t + length - 1])
        gap = int(rng.uniform(7, 14) * fps)
        gaps.append((t + length, min(t + length + gap - 1, n - 1)))
        t += length + gap
    gaps[-1] = (gaps[-1][0], n - 1)
    # Brightness: slow drift and one or two exposure jumps in quiet stretches.
    period = rng.uniform(25, 45) * fps
    gain = 1 + 0.06 * np.sin(2 * np.pi * np.arange(n) / period + rng.uniform(0, 6.3))
    jumps = sorted(rng.choice(np.arange(1, len(gaps)), size=min(2, len(gaps) - 1), replace=False))
    moments = []
    for j in jumps:
        m = (gaps[j][0] + gaps[j][1]) // 2
        gain[m:] *= 1 + float(rng.choice((-1, 1))) * rng.uniform(0.08, 0.12)
        moments.append(int(m))
    noise_rng = np.random.default_rng([seed, 7])
    grow = max(2, round(0.015 * h))
    with bgmix.open_sink(path, fps=fps, crf=20, preset="veryfast") as sink:
        for i in range(n):
            img = bg.copy()
            if source[i] >= 0:
                alpha = activity_alpha(labels[source[i]], grow)
                img += alpha[..., None] * (frames[source[i]] - bg)
            img *= np.float32(gain[i])
            img += np.float32(2.5) * noise_rng.standard_normal(img.shape, np.float32)
            sink.write(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    return {
        "name": path.stem,
        "family": "semireal",
        "group": "semireal",
        "split": SEMIREAL_SPLIT[name],
        "sequence": name,
        "seed": seed,
        "fps": fps,
        "frames": n,
        "width": w,
        "height": h,
        "events": events,
        "nuisance_frames": moments,
    }


# --------------------------------------------------------------------------- the set
def _jobs() -> list[tuple[str, str, int]]:
    jobs = [("synthetic", f, k) for f in SYNTHETIC_FAMILIES for k in range(len(SYNTH_VARIANTS))]
    have = (data_root() / "sequences").is_dir()
    if not have:
        print(f"no shared sequences under {data_root()}: semi-real videos skipped", flush=True)
    else:
        jobs += [("semireal", s, k) for s in SEMIREAL_SPLIT for k in range(SEMIREAL_PER_SEQUENCE)]
    return jobs


def _make(job: tuple[str, str, int], force: bool) -> dict[str, Any]:
    group, what, k = job
    stem = f"{what}_{k}" if group == "synthetic" else f"semireal_{what}_{k}"
    path = OUT / f"{stem}.mp4"
    side = OUT / f"{stem}.json"
    if not force and path.exists() and side.exists():
        entry = json.loads(side.read_text())
        if entry.get("version") == GENERATOR_VERSION:
            return entry
    t0 = time.perf_counter()
    fn = _synthetic_video if group == "synthetic" else _semireal_video
    entry = fn(what, k, path)
    entry = {"version": GENERATOR_VERSION, "path": str(path)} | entry
    side.write_text(json.dumps(entry, indent=1))
    print(f"  {stem}: {entry['frames']} frames, {len(entry['events'])} events,"
          f" {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    return entry


def build(force: bool = False, workers: int = 2) -> Path:
    """Make the missing videos (all with ``force``) and write ``manifest.json``."""
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = _jobs()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        entries = list(pool.map(_make, jobs, [force] * len(jobs)))
    manifest = {
        "generator": "benchmarks/events_data.py",
        "version": GENERATOR_VERSION,
        "rules": {
            "events": "inclusive 0-based frame ranges of activity, no padding",
            "min_area": MIN_AREA,
            "merge_gap_s": MERGE_GAP_S,
        },
        "videos": entries,
    }
    out = OUT / "manifest.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(out)
    return out


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """The manifest (``benchmarks/_cache/events/manifest.json`` by default)."""
    return json.loads(Path(path or OUT / "manifest.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="remake every video")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = build(args.force, args.workers)
    m = load_manifest(out)
    n_ev = sum(len(v["events"]) for v in m["videos"])
    n_fr = sum(v["frames"] for v in m["videos"])
    print(f"{out}: {len(m['videos'])} videos, {n_fr} frames, {n_ev} events,"
          f" {time.perf_counter() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
