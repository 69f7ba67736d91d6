"""The options of a synthetic scene: defaults, validation, and their JSON form.

Every kind is a preset of the same options, so options combine freely
(``generate("baseline", shadows=True, jitter=1.5)``). Each is validated with a
:class:`~bgmix.exceptions.ParameterError` that names it, the accepted values and the
value given.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from bgmix._validation import check_choice, check_int, check_real
from bgmix.exceptions import ParameterError

__all__ = ["OPTION_DOCS", "SceneOptions", "build_options", "check_size"]

#: Largest accepted frame side (a 8192x8192 RGB float32 canvas is 800 MB already).
MAX_SIDE = 8192
#: Smallest accepted frame side.
MIN_SIDE = 8


@dataclass(frozen=True, eq=False)
class SceneOptions:
    """Validated options of a scene (see :data:`OPTION_DOCS` for their meaning)."""

    noise_sigma: float = 3.0
    salt_pepper: float = 0.0
    object_rate: float = 4.0
    people_fraction: float = 0.35
    speed_scale: float = 1.0
    shadows: bool = False
    shadow_strength: tuple[float, float] = (0.4, 0.8)
    water: bool = False
    foliage: bool = False
    dynamic_amplitude: float = 25.0
    illumination: str = "constant"
    gain_end: float = 1.0
    switch_frame: int | None = None
    jitter: float = 0.0
    stop_frame: int | None = None
    stop_duration: int | None = None
    warmup: int | None = None
    roi: Any = None  # None, an int border, or an (H, W) bool array (normalised in the scene)

    def to_json(self) -> dict[str, Any]:
        """The options as JSON-compatible values (a custom ROI becomes ``"custom"``)."""
        out = asdict(self)
        out["shadow_strength"] = list(self.shadow_strength)
        if isinstance(self.roi, np.ndarray):
            out["roi"] = "custom"
        return out


#: One line per option, for docstrings, ``bgmix synth --help`` and error messages.
OPTION_DOCS: dict[str, str] = {
    "noise_sigma": "standard deviation of the Gaussian sensor noise, grey levels [0, 128]",
    "salt_pepper": "fraction of pixels set to black or white each frame [0, 0.5]",
    "object_rate": "expected number of objects entering per 100 frames [0, 100]",
    "people_fraction": "share of pedestrians among the objects [0, 1]",
    "speed_scale": "multiplies every object speed [0.1, 10]",
    "shadows": "objects cast soft shadows, labelled 50 (bool)",
    "shadow_strength": "(low, high) range of the brightness factor inside shadows, within (0, 1)",
    "water": "a strip of rippling water at the bottom (background, GT 0) (bool)",
    "foliage": "a tree whose canopy sways over the buildings (background, GT 0) (bool)",
    "dynamic_amplitude": "water brightness amplitude in grey levels; sets the sway too [0, 128]",
    "illumination": "'constant', 'gradual' (ramp over the sequence) or 'sudden' (a step)",
    "gain_end": "brightness factor at the end of the ramp / after the step (0, 4]",
    "switch_frame": "frame index of the sudden step (default n_frames // 2)",
    "jitter": "camera shake amplitude in pixels [0, 16]",
    "stop_frame": "frame index where a car comes to rest and parks (None: no parked car)",
    "stop_duration": "frames the car stays parked (None: until the end)",
    "warmup": "frames before the temporal ROI (default min(60, n_frames // 5))",
    "roi": "None (whole frame), a border width in pixels, or an (H, W) bool mask",
}


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(
            f"{name} must be True or False; got {value!r} ({type(value).__name__})"
        )
    return bool(value)


def _check_optional_int(name: str, value: Any, *, low: int, high: int) -> int | None:
    return None if value is None else check_int(name, value, low=low, high=high)


def check_size(width: Any, height: Any, n_frames: Any) -> tuple[int, int, int]:
    """Validate the frame size and length."""
    w = check_int("width", width, low=MIN_SIDE, high=MAX_SIDE)
    h = check_int("height", height, low=MIN_SIDE, high=MAX_SIDE)
    n = check_int("n_frames", n_frames, low=1, high=2**31 - 1)
    return w, h, n


def build_options(
    preset: dict[str, Any], overrides: dict[str, Any], *, width: int, height: int, n_frames: int
) -> SceneOptions:
    """Merge a kind's preset with user options, then validate every value.

    Raises
    ------
    ParameterError
        Unknown option, or a value out of range (the message names the option).
    """
    known = {f.name for f in fields(SceneOptions)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ParameterError(
            f"unknown scene option{plural} {', '.join(map(repr, unknown))};"
            f" valid options are: {', '.join(sorted(known))}"
        )
    v = {f.name: f.default for f in fields(SceneOptions)} | preset | overrides
    if overrides.get("stop_frame", 0) is None and "stop_duration" not in overrides:
        v["stop_duration"] = None  # no parked car: the preset's duration goes too
    opts: dict[str, Any] = {
        "noise_sigma": check_real("noise_sigma", v["noise_sigma"], low=0.0, high=128.0),
        "salt_pepper": check_real("salt_pepper", v["salt_pepper"], low=0.0, high=0.5),
        "object_rate": check_real("object_rate", v["object_rate"], low=0.0, high=100.0),
        "people_fraction": check_real("people_fraction", v["people_fraction"], low=0.0, high=1.0),
        "speed_scale": check_real("speed_scale", v["speed_scale"], low=0.1, high=10.0),
        "shadows": _check_bool("shadows", v["shadows"]),
        "water": _check_bool("water", v["water"]),
        "foliage": _check_bool("foliage", v["foliage"]),
        "dynamic_amplitude": check_real(
            "dynamic_amplitude", v["dynamic_amplitude"], low=0.0, high=128.0
        ),
        "illumination": check_choice(
            "illumination", v["illumination"], ("constant", "gradual", "sudden")
        ),
        "gain_end": check_real("gain_end", v["gain_end"], low=0.0, high=4.0, low_inclusive=False),
        "jitter": check_real("jitter", v["jitter"], low=0.0, high=16.0),
    }
    opts["shadow_strength"] = _check_strength(v["shadow_strength"])
    switch = v.get("switch_frame")
    if switch is not None and opts["illumination"] != "sudden":
        raise ParameterError(
            f"switch_frame is only used with illumination='sudden'; got switch_frame={switch!r}"
            f" with illumination={opts['illumination']!r}"
        )
    if opts["illumination"] == "sudden":
        if n_frames < 2:
            raise ParameterError("illumination='sudden' needs n_frames >= 2; got n_frames=1")
        switch = n_frames // 2 if switch is None else switch
        opts["switch_frame"] = check_int("switch_frame", switch, low=1, high=n_frames - 1)
    else:
        opts["switch_frame"] = None
    opts["stop_frame"] = _check_optional_int(
        "stop_frame", v.get("stop_frame"), low=0, high=max(n_frames - 1, 0)
    )
    duration = v.get("stop_duration")
    if duration is not None and opts["stop_frame"] is None:
        raise ParameterError(
            f"stop_duration needs stop_frame (the frame where the car parks); got"
            f" stop_duration={duration!r} and stop_frame=None"
        )
    opts["stop_duration"] = _check_optional_int("stop_duration", duration, low=1, high=2**31 - 1)
    warmup = v.get("warmup")
    opts["warmup"] = (
        min(60, n_frames // 5)
        if warmup is None
        else check_int("warmup", warmup, low=0, high=n_frames - 1)
    )
    opts["roi"] = _check_roi(v.get("roi"), width, height)
    return SceneOptions(**opts)


def _check_strength(value: Any) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ParameterError(f"shadow_strength must be a pair (low, high); got {value!r}") from None
    lo = check_real(
        "shadow_strength[0]", lo, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    hi = check_real(
        "shadow_strength[1]", hi, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    if lo > hi:
        raise ParameterError(f"shadow_strength must have low <= high; got ({lo:g}, {hi:g})")
    return lo, hi


def _check_roi(value: Any, width: int, height: int) -> Any:
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        limit = (min(width, height) - 1) // 2
        return check_int("roi", value, low=0, high=limit)
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype == object or arr.ndim != 2:
        raise ParameterError(
            f"roi must be None, a border width in pixels, or an (H, W) bool mask; got {value!r:.80}"
        )
    if arr.shape != (height, width):
        raise ParameterError(
            f"roi mask must have shape (height, width) = ({height}, {width}); got {arr.shape}"
        )
    if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.number)):
        raise ParameterError(f"roi mask must be bool or numeric; got dtype {arr.dtype}")
    mask = np.array(arr != 0, dtype=bool)
    if not mask.any():
        raise ParameterError("roi mask selects no pixel (all False)")
    mask.flags.writeable = False
    return mask
