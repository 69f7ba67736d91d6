"""The scene object: renders any frame on demand, with its exact ground truth.

Rendering frame ``t`` (all in float32 on the 0–255 scale, then rounded once):

1. the background canvas at ``t``: the static painting, rippling water rows, the
   swaying canopy;
2. camera shake: the frame is the canvas window at a sub-pixel offset (bilinear);
3. shadows multiply the ground by ``1 - s (1 - k)``; objects are composited over it
   with their anti-aliased coverage, far ones first;
4. illumination multiplies frame and background alike by the gain at ``t``;
5. sensor noise (Gaussian, salt and pepper) is added to the frame only.

The ground truth follows from the same quantities, so it is exact by construction:
255 where an object covers the pixel completely, 170 where an object covers it
partly (the one-pixel anti-aliased band around every object), 50 where a shadow
darkens the ground and no object is present, 85 outside the ROI, 0 elsewhere. With
the noise switched off, a pixel labelled 0 equals the true background exactly.
"""

from __future__ import annotations

import functools
import logging
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from bgmix._cdnet import GT_FOREGROUND, GT_OUTSIDE_ROI, GT_SHADOW, GT_UNKNOWN
from bgmix._typing import ImageU8
from bgmix.exceptions import ParameterError
from bgmix.synthetic import _random as R
from bgmix.synthetic._background import make_layout, paint_static
from bgmix.synthetic._dynamic import Canopy, Water
from bgmix.synthetic._objects import render_actor, render_shadow
from bgmix.synthetic._options import SceneOptions
from bgmix.synthetic._textures import dilate, shift_bilinear
from bgmix.synthetic._traffic import Traffic

__all__ = [
    "FrameRecord",
    "SyntheticScene",
]

logger = logging.getLogger(__name__)

_GRADUAL_TINT = np.float32([1.0, 0.94, 0.84])  # dusk: the light warms as it dims
_SUDDEN_TINT = np.float32([1.0, 0.97, 0.90])  # artificial light after the switch


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """One frame of a synthetic scene and its truth.

    Attributes
    ----------
    index : int
        0-based frame index (the CDnet file number is ``index + 1``).
    image : (H, W, 3) uint8 ndarray
        The frame, RGB.
    groundtruth : (H, W) uint8 ndarray
        CDnet labels: 0 background, 50 hard shadow, 85 outside the ROI, 170 unknown
        (object boundary band), 255 foreground.
    background : (H, W, 3) uint8 ndarray
        The true background at this frame: what the camera would see without objects,
        shadows and sensor noise (with the water, canopy, shake and light of frame
        ``index``).
    """

    index: int
    image: ImageU8
    groundtruth: ImageU8
    background: ImageU8

    @property
    def number(self) -> int:
        """The CDnet frame number, ``index + 1`` (``in000001.png`` is index 0)."""
        return self.index + 1


@functools.cache
def _gauss_table() -> np.ndarray:
    """Standard normal quantiles at the 65536 midpoints ``(i + 0.5) / 65536``, float32.

    Indexing it with uniform 16-bit integers draws standard normal noise (truncated at
    ±4.3σ, 65536 levels) four times faster than ``Generator.standard_normal``.
    """
    nd = NormalDist()
    return np.array([nd.inv_cdf((i + 0.5) / 65536) for i in range(65536)], np.float32)


def _to_u8(img: np.ndarray) -> np.ndarray:
    """Round float32 0–255 to uint8 (half up), clipping first."""
    out = np.clip(img, 0, 255)
    out += np.float32(0.5)
    return out.astype(np.uint8)


class SyntheticScene:
    """A synthetic sequence with exact ground truth; frames are rendered on demand.

    Create scenes with :func:`bgmix.synthetic.generate`. A scene holds only its static
    background and a few small tables, so its memory does not grow with ``n_frames``;
    ``frame(t)`` renders any frame directly, and iterating yields the same records as
    ``frame(0), frame(1), ...``.

    Attributes
    ----------
    kind : str
        The scenario name (a key of :data:`~bgmix.synthetic.SCENARIOS`).
    width, height, n_frames : int
        Frame size and length.
    seed : int
        The root seed (reproduces the scene with the same kind and options).
    options : SceneOptions
        The validated options.
    """

    def __init__(
        self,
        kind: str,
        *,
        width: int,
        height: int,
        n_frames: int,
        seed: int,
        options: SceneOptions,
    ) -> None:
        self.kind = kind
        self.width = width
        self.height = height
        self.n_frames = n_frames
        self.seed = seed
        self.options = options
        o = options
        margin = int(np.ceil(o.jitter)) + 1 if o.jitter > 0 else 0
        self._layout = lay = make_layout(height, width, margin=margin, water=o.water)
        self._static = paint_static(lay, seed, tree=o.foliage)
        self._water = (
            Water(lay, self._static, seed, amplitude=o.dynamic_amplitude) if o.water else None
        )
        sway = 2.5 * lay.unit * o.dynamic_amplitude / 25.0
        self._canopy = Canopy(lay, seed, amplitude=sway) if o.foliage else None
        stop = None if o.stop_frame is None else (o.stop_frame, o.stop_duration)
        self._traffic = Traffic(
            lay,
            seed,
            object_rate=o.object_rate,
            people_fraction=o.people_fraction,
            speed_scale=o.speed_scale,
            shadow_strength=o.shadow_strength,
            stop=stop,
            n_frames=n_frames,
        )
        rng = R.stream(seed, R.LIGHT)
        self._light = (
            float(rng.uniform(0.3, 0.55)),
            float(rng.choice((-1, 1)) * rng.uniform(0.4, 1.1)),
        )
        jr = R.stream(seed, R.JITTER)
        self._shake = (
            jr.uniform(5, 13, 2),
            jr.uniform(0, 2 * np.pi, 2),
            jr.uniform(5, 13, 2),
            jr.uniform(0, 2 * np.pi, 2),
        )
        x = np.arange(width, dtype=np.float32) / max(width - 1, 1)
        self._sudden_field = (1 + np.float32(0.2) * (x - np.float32(0.5)))[None, :, None]
        self._roi = self._make_roi(o.roi)
        self._reference: np.ndarray | None = None
        self._dynamic_region: np.ndarray | None = None
        logger.debug(
            "synthetic scene %s %dx%d x %d frames, seed %d", kind, width, height, n_frames, seed
        )

    # ------------------------------------------------------------------ properties
    def __repr__(self) -> str:
        return (
            f"SyntheticScene(kind={self.kind!r}, width={self.width}, height={self.height}, "
            f"n_frames={self.n_frames}, seed={self.seed})"
        )

    def __len__(self) -> int:
        return self.n_frames

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(H, W, 3)``, the shape of every frame."""
        return self.height, self.width, 3

    @property
    def temporal_roi(self) -> tuple[int, int]:
        """``(first, last)`` evaluated frame **indices**, 0-based and inclusive.

        Frames before ``first`` are a warm-up that evaluations skip, as CDnet does.
        In the CDnet layout written by :func:`write_sequence` this becomes
        ``temporalROI.txt`` = ``first + 1  last + 1`` (CDnet numbers frames from 1).
        """
        return int(self.options.warmup or 0), self.n_frames - 1

    @property
    def roi(self) -> np.ndarray:
        """``(H, W)`` bool, read-only: the evaluated region (ground truth 85 outside)."""
        return self._roi

    @property
    def parameters(self) -> dict[str, Any]:
        """Everything that defines the scene, JSON-compatible (written to ``scene.json``)."""
        return {
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "n_frames": self.n_frames,
            "seed": self.seed,
            "options": self.options.to_json(),
        }

    @property
    def background(self) -> ImageU8:
        """The reference background, ``(H, W, 3)`` uint8, read-only.

        What a background estimator should converge to by the end of the sequence: the
        static scene under the light of the last frame, with the water and the canopy
        at rest and the camera at its central position (no shake).
        """
        if self._reference is None:
            canvas = self._static.copy()
            if self._canopy is not None:
                self._canopy.render_into(canvas, None)
            m = self._layout.margin
            bg = canvas[m : m + self.height, m : m + self.width] * self._gain(self.n_frames - 1)
            self._reference = _to_u8(bg)
            self._reference.flags.writeable = False
        return self._reference

    @property
    def dynamic_region(self) -> np.ndarray:
        """``(H, W)`` bool, read-only: where the background itself moves (water, canopy).

        Pixels there change from frame to frame yet are background (ground truth 0)
        unless an object is present. Includes the shake amplitude when there is jitter.
        """
        if self._dynamic_region is None:
            lay = self._layout
            mask = np.zeros(lay.canvas_shape, bool)
            for layer in (self._water, self._canopy):
                if layer is not None:
                    mask |= layer.region(lay)
            m = lay.margin
            mask = mask[m : m + self.height, m : m + self.width]
            mask = dilate(mask, int(np.ceil(self.options.jitter)))
            mask.flags.writeable = False
            self._dynamic_region = mask
        return self._dynamic_region

    # ------------------------------------------------------------------ frames
    def frame(self, t: int) -> FrameRecord:
        """Render frame ``t`` (0-based; negative counts from the end).

        Raises
        ------
        ParameterError
            ``t`` is not an integer in ``[-n_frames, n_frames)``.
        """
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise ParameterError(
                f"frame index t must be an integer; got {t!r} ({type(t).__name__})"
            )
        t = int(t)
        if not -self.n_frames <= t < self.n_frames:
            raise ParameterError(
                f"frame index t must be in [{-self.n_frames}, {self.n_frames - 1}]"
                f" (n_frames={self.n_frames}); got {t}"
            )
        if t < 0:
            t += self.n_frames
        return self._render(t)

    def __getitem__(self, t: int) -> FrameRecord:
        try:
            return self.frame(t)
        except ParameterError as exc:
            raise IndexError(str(exc)) from None

    def __iter__(self) -> Iterator[FrameRecord]:
        for t in range(self.n_frames):
            yield self._render(t)

    def to_arrays(self, start: int = 0, stop: int | None = None) -> tuple[ImageU8, ImageU8]:
        """All frames (or ``start:stop``) as arrays.

        Returns
        -------
        frames : (T, H, W, 3) uint8 ndarray
        groundtruth : (T, H, W) uint8 ndarray
        """
        start_, stop_, _ = slice(start, stop).indices(self.n_frames)
        n = max(stop_ - start_, 0)
        frames = np.empty((n, self.height, self.width, 3), np.uint8)
        truth = np.empty((n, self.height, self.width), np.uint8)
        for i, t in enumerate(range(start_, stop_)):
            rec = self._render(t)
            frames[i] = rec.image
            truth[i] = rec.groundtruth
        return frames, truth

    # ------------------------------------------------------------------ internals
    def _make_roi(self, roi: Any) -> np.ndarray:
        if isinstance(roi, np.ndarray):
            return roi
        mask = np.ones((self.height, self.width), bool)
        if roi:
            b = int(roi)
            mask[:b] = mask[-b:] = False
            mask[:, :b] = mask[:, -b:] = False
        mask.flags.writeable = False
        return mask

    def _gain(self, t: int) -> np.ndarray:
        """Illumination multiplier at frame ``t``: (3,) or (1, W, 3) float32."""
        o = self.options
        if o.illumination == "gradual":
            u = t / max(self.n_frames - 1, 1)
            e = np.float32(0.5 - 0.5 * np.cos(np.pi * u))
            return 1 + (np.float32(o.gain_end) * _GRADUAL_TINT - 1) * e
        if o.illumination == "sudden" and t >= (o.switch_frame or 0):
            return np.float32(o.gain_end) * _SUDDEN_TINT * self._sudden_field
        return np.ones(3, np.float32)

    def _offset(self, t: int) -> tuple[float, float]:
        """Camera shake at frame ``t``: a smooth sway plus a random jolt, within ±jitter."""
        a = self.options.jitter
        if a <= 0:
            return 0.0, 0.0
        periods, phases, periods2, phases2 = self._shake
        jolt = R.stream(self.seed, R.JITTER, t).normal(0.0, 0.35, 2)
        smooth = 0.4 * np.sin(2 * np.pi * t / periods + phases) + 0.3 * np.sin(
            2 * np.pi * t / (2.7 * periods2) + phases2
        )
        dy, dx = np.clip(a * (smooth + jolt), -a, a)
        return float(dy), float(dx)

    def _render(self, t: int) -> FrameRecord:
        lay = self._layout
        h, w = self.height, self.width
        if self._water is None and self._canopy is None:
            canvas = self._static
        else:
            canvas = self._static.copy()
            if self._water is not None:
                self._water.render_into(canvas, float(t))
            if self._canopy is not None:
                self._canopy.render_into(canvas, float(t))
        oy, ox = self._offset(t)
        m = lay.margin
        bg = shift_bilinear(canvas, m - oy, m - ox, h, w)
        img = bg.copy()
        gt = np.zeros((h, w), np.uint8)
        actors = self._traffic.active(t)
        scale_of = lay.depth_scale
        if self.options.shadows and actors:
            mult = np.ones((h, w), np.float32)
            for actor in actors:
                if actor.kind == "boat":
                    continue
                sh = render_shadow(
                    actor, float(t), scale_of, self._light, h, w, (oy, ox), lay.water_top
                )
                if sh is None:
                    continue
                r0, c0, s = sh
                win = mult[r0 : r0 + s.shape[0], c0 : c0 + s.shape[1]]
                np.minimum(win, 1 - s * np.float32(1 - actor.shadow_k), out=win)
            shadowed = mult < 1
            img *= mult[..., None]
            gt[shadowed] = GT_SHADOW
        cover = np.zeros((h, w), np.float32)
        for actor in actors:
            sp = render_actor(actor, float(t), scale_of, h, w, (oy, ox))
            if sp is None:
                continue
            sl = (slice(sp.r0, sp.r0 + sp.cover.shape[0]), slice(sp.c0, sp.c0 + sp.cover.shape[1]))
            img[sl] += (sp.rgb - img[sl]) * sp.cover[..., None]
            np.maximum(cover[sl], sp.cover, out=cover[sl])
        gt[cover > 0] = GT_UNKNOWN
        gt[cover >= 1] = GT_FOREGROUND
        gt[~self._roi] = GT_OUTSIDE_ROI
        if self.options.illumination != "constant":
            gain = self._gain(t)
            img *= gain
            bg *= gain
        o = self.options
        if o.noise_sigma > 0 or o.salt_pepper > 0:
            rng = R.stream(self.seed, R.NOISE, t)
            if o.noise_sigma > 0:
                draws = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
                img += np.float32(o.noise_sigma) * np.take(_gauss_table(), draws)
            if o.salt_pepper > 0:
                hit = rng.random((h, w)) < o.salt_pepper
                img[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0.0, 255.0)[:, None]
        return FrameRecord(t, _to_u8(img), gt, _to_u8(bg))
