"""The scenario kinds and :func:`generate`.

Every kind is the same street scene (sky, buildings with windows, a sidewalk, a
two-lane road with markings, grass or water; cars, vans and pedestrians of several
sizes and speeds entering and leaving the frame; mild sensor noise) with one
difficulty turned up. What makes each hard, and what its ground truth means:

``baseline``
    The reference case: static textured background, anti-aliased objects, sensor
    noise σ = 3. Ground truth: 255 objects, 170 their one-pixel boundary band, 0 the
    rest.
``dynamic``
    A strip of rippling water with specular glints and a tree whose canopy sways over
    the facades. Both keep changing but are background: ground truth 0 there (255 only
    on objects, e.g. a boat). Hard for single-mode models: the water pixels are bimodal
    (dark water / bright glint) and the leaves cover and uncover the wall behind.
    :attr:`SyntheticScene.dynamic_region` marks where the background moves.
``illumination-gradual``
    Dusk: the light ramps smoothly (cosine ease) from 1 to ``gain_end`` = 0.5 over the
    sequence while warming in colour. Ground truth is unchanged by the light (0 on the
    background): a model that adapts too slowly reports the whole frame as foreground.
``illumination-sudden``
    The light switches at ``switch_frame`` (default ``n_frames // 2``): from that frame
    on, everything is ``gain_end`` = 0.55 times as bright, with a slight colour cast and
    a ±10 % left-to-right falloff. The background stays 0 in the ground truth: the
    point is how fast a method recovers after the step.
``shadows``
    Objects cast soft-edged shadows onto the ground (same chromaticity, 0.4–0.8 of the
    brightness, a penumbra of about 10 % of the object's height). Shadow pixels are 50
    (hard shadow: negative, like background, in CDnet's metrics); the objects 255. A
    method without shadow detection reports them as foreground.
``jitter``
    Camera shake: every frame the whole view (background and objects) is displaced by
    a sub-pixel to pixel offset (a smooth sway plus a random jolt, within ±``jitter`` =
    2 px). Ground truth is only the objects at their displaced positions: edges and
    texture that move with the camera are background.
``stopped-object``
    A car drives in, brakes to a stop at ``stop_frame`` (default ``n_frames // 4``),
    stays parked for ``stop_duration`` frames (default ``n_frames // 2``; None: until
    the end) and drives away; normal traffic goes on around it. Following CDnet's
    intermittent-object rule the car is 255 the whole time it is there, parked or not:
    a model that absorbs it into the background misses it, and once it leaves, a model
    that had absorbed it reports a "ghost" where it stood (ground truth 0 there).
``noise``
    The baseline scene (same background and traffic for the same seed) under strong
    sensor noise: Gaussian σ = 15 and 0.5 % salt-and-pepper pixels. Ground truth as in
    ``baseline``.
``mixed``
    The demo scene, 320x240 and 400 frames by default: water, a swaying tree, cast
    shadows, more traffic and mild noise.

All options of every kind can be changed (see :data:`OPTION_DOCS`), and options combine:
``generate("baseline", shadows=True, jitter=1.5)`` is a valid scene.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bgmix._validation import check_int
from bgmix.exceptions import ParameterError
from bgmix.synthetic._options import OPTION_DOCS, build_options, check_size
from bgmix.synthetic._random import root_seed
from bgmix.synthetic._scene import SyntheticScene

__all__ = ["OPTION_DOCS", "SCENARIOS", "generate"]

#: Scenario kind -> one-line description.
SCENARIOS: dict[str, str] = {
    "baseline": "static textured street, cars and pedestrians, mild sensor noise",
    "dynamic": "rippling water and a swaying tree: moving background labelled 0",
    "illumination-gradual": "the light dims and warms slowly over the sequence (dusk)",
    "illumination-sudden": "the light switches at a known frame; the background stays 0",
    "shadows": "objects cast soft shadows (0.4-0.8 of the brightness) labelled 50",
    "jitter": "camera shake: the whole view moves by up to 2 px every frame",
    "stopped-object": "a car parks for a long time (255 throughout), then leaves",
    "noise": "the baseline scene under strong Gaussian and salt-and-pepper noise",
    "mixed": "demo scene (320x240): water, swaying tree, shadows, traffic, mild noise",
}

# kind -> (default width, height, n_frames), preset options given (width, height, n_frames)
_Preset = Callable[[int], dict[str, Any]]
_KINDS: dict[str, tuple[tuple[int, int, int], _Preset]] = {
    "baseline": ((160, 120, 300), lambda n: {}),
    "dynamic": ((160, 120, 300), lambda n: {"water": True, "foliage": True}),
    "illumination-gradual": (
        (160, 120, 300),
        lambda n: {"illumination": "gradual", "gain_end": 0.5},
    ),
    "illumination-sudden": (
        (160, 120, 300),
        lambda n: {"illumination": "sudden", "gain_end": 0.55},
    ),
    "shadows": ((160, 120, 300), lambda n: {"shadows": True}),
    "jitter": ((160, 120, 300), lambda n: {"jitter": 2.0}),
    "stopped-object": (
        (160, 120, 400),
        lambda n: {"stop_frame": n // 4, "stop_duration": max(n // 2, 1)},
    ),
    "noise": ((160, 120, 300), lambda n: {"noise_sigma": 15.0, "salt_pepper": 0.005}),
    "mixed": (
        (320, 240, 400),
        lambda n: {"water": True, "foliage": True, "shadows": True, "object_rate": 5.0},
    ),
}
assert set(_KINDS) == set(SCENARIOS)


def generate(
    kind: str,
    *,
    width: int | None = None,
    height: int | None = None,
    n_frames: int | None = None,
    seed: int | np.random.Generator = 0,
    **options: Any,
) -> SyntheticScene:
    r"""Make a synthetic scene of the given kind, with exact ground truth.

    Nothing is rendered here beyond the static background (a few milliseconds); frames
    are rendered when asked for, so any length costs the same memory.

    Parameters
    ----------
    kind : str
        One of :data:`SCENARIOS`: ``"baseline"``, ``"dynamic"``,
        ``"illumination-gradual"``, ``"illumination-sudden"``, ``"shadows"``,
        ``"jitter"``, ``"stopped-object"``, ``"noise"``, ``"mixed"``.
    width, height : int, optional
        Frame size in pixels, 8 to 8192 (default 160x120; 320x240 for ``"mixed"``).
        The whole scene scales with the height.
    n_frames : int, optional
        Number of frames (default 300; 400 for ``"stopped-object"`` and ``"mixed"``).
    seed : int or numpy.random.Generator, default 0
        Root seed; the same kind, size, options and seed give identical frames. A
        Generator is drawn from once and the scene records the resulting int.
    **options
        Scene options overriding the kind's preset (see :data:`OPTION_DOCS`):
        ``noise_sigma``, ``salt_pepper``, ``object_rate``, ``people_fraction``,
        ``speed_scale``, ``shadows``, ``shadow_strength``, ``water``, ``foliage``,
        ``dynamic_amplitude``, ``illumination``, ``gain_end``, ``switch_frame``,
        ``jitter``, ``stop_frame``, ``stop_duration``, ``warmup``, ``roi``.

    Returns
    -------
    SyntheticScene
        ``scene.frame(t)`` gives a :class:`FrameRecord` (``image`` (H, W, 3) uint8,
        ``groundtruth`` (H, W) uint8, ``background`` (H, W, 3) uint8);
        ``scene.to_arrays()`` gives frames (T, H, W, 3) and ground truth (T, H, W).

    Raises
    ------
    ParameterError
        Unknown kind (the message lists the kinds), unknown option, or a value out of
        range (the message names the parameter).

    Notes
    -----
    Image formation. With :math:`B_t` the true background at frame :math:`t` (static
    painting, water, canopy, camera offset :math:`o_t`), :math:`d_j` the signed distance
    (pixels, negative inside) to object :math:`j`, :math:`s_j` the strength of its
    shadow and :math:`k_j \in [0.4, 0.8]` its darkness,

    .. math::

        c_j(x) = \operatorname{clip}(0.5 - d_j(x), 0, 1), \qquad
        S(x) = \min_j \bigl(1 - s_j(x) (1 - k_j)\bigr),

        I_t = g_t \odot \bigl(\text{over}_j(c_j, O_j;\ S\,B_t)\bigr) + \sigma n_t,

    where :math:`\text{over}` composites the object colours :math:`O_j` far to near
    with coverage :math:`c_j`, :math:`g_t` is the illumination gain (per channel, and
    per column after a sudden switch), :math:`n_t` standard normal noise (plus
    salt-and-pepper), and the frame is rounded to uint8 once at the end. The record's
    ``background`` is :math:`g_t \odot B_t`.

    Ground truth (CDnet 2014 labels), with :math:`c = \max_j c_j`: 255 where
    :math:`c = 1` (pixel centre at least half a pixel inside an object), 170 where
    :math:`0 < c < 1` (the one-pixel anti-aliased rim: unknown, not evaluated), 50 where
    :math:`c = 0` and :math:`S < 1` (shadow: negative), 85 outside the ROI, 0 elsewhere.
    With the noise off, every pixel labelled 0 equals the true background exactly.
    Frames before ``scene.temporal_roi[0]`` are a warm-up, not evaluated.

    Randomness: every component draws from its own stream of
    ``SeedSequence([seed, component, ...])``; frame ``t``'s noise and shake from the
    streams keyed by ``t``. Hence ``frame(t)`` equals the ``t``-th record of the
    iteration, and changing the noise leaves the background and traffic unchanged.

    References
    ----------
    .. [1] Y. Wang, P.-M. Jodoin, F. Porikli, J. Konrad, Y. Benezeth and P. Ishwar,
       "CDnet 2014: An expanded change detection benchmark dataset", CVPR Workshops,
       2014 (labels, ROI and temporal ROI conventions).
    .. [2] K. Toyama, J. Krumm, B. Brumitt and B. Meyers, "Wallflower: principles and
       practice of background maintenance", ICCV 1999 (the canonical hard cases).

    Examples
    --------
    >>> from bgmix.synthetic import generate
    >>> scene = generate("shadows", n_frames=20, seed=1)
    >>> rec = scene.frame(10)
    >>> rec.image.shape, rec.groundtruth.dtype
    ((120, 160, 3), dtype('uint8'))
    >>> frames, truth = scene.to_arrays()
    >>> frames.shape, truth.shape
    ((20, 120, 160, 3), (20, 120, 160))
    """
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ParameterError(
            f"unknown scene kind {kind!r}; expected one of: {', '.join(SCENARIOS)}"
        )
    (dw, dh, dn), preset = _KINDS[kind]
    w, h, n = check_size(
        dw if width is None else width,
        dh if height is None else height,
        dn if n_frames is None else n_frames,
    )
    if not isinstance(seed, np.random.Generator):
        check_int("seed", seed, low=0, high=2**63 - 1)
    opts = build_options(preset(n), options, width=w, height=h, n_frames=n)
    return SyntheticScene(kind, width=w, height=h, n_frames=n, seed=root_seed(seed), options=opts)
