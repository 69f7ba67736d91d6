"""``detect_events`` and ``iter_events``: decode, model and score, event machine.

The run is three stages, each a plain function or generator so that a concurrent
stage runner can take them over: :func:`analysed_frames` (decode, in a prefetch
thread, grey and downscaled), :class:`~bgmix.events._score.MotionScorer` (model and
score) and :class:`~bgmix.events._detect.EventDetector` (events). Outputs (clips,
thumbnails, files) come after, in :mod:`bgmix.events._outputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgmix._roi import as_roi, check_roi
from bgmix._validation import check_int
from bgmix.events._detect import Event, EventDetector, EventList
from bgmix.events._score import FrameScore, MotionScorer
from bgmix.events._times import to_frames
from bgmix.exceptions import CorruptFrameError, FrameSizeError, ParameterError

__all__ = ["DEFAULTS", "analysed_frames", "detect_events", "iter_events"]

log = logging.getLogger(__name__)

#: Default event options (chosen on the tuning split of ``benchmarks/events.py``).
DEFAULTS: dict[str, Any] = {
    "threshold": 0.001,
    "min_event": "0.3s",
    "pre": "1.5s",
    "post": "2s",
    "merge": 0,
    "max_side": 320,
    "min_blob": 0.0005,
    "global_fraction": 0.4,
    "persist": 2,
    "normalise": True,
    "flatten": 8.0,
    "busy_window": "30s",
    "busy_level": 0.1,
    "busy_cell": 16,
    "warmup": 5,
}

_FALLBACK_FPS = 25.0
_PREFETCH = 16


@dataclass
class _Timeline:
    """What the decode stage learned about the inputs."""

    full_size: tuple[int, int] | None = None
    size: tuple[int, int] | None = None
    fps: float | None = None
    total: int | None = 0
    sources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    stopped_at: int | None = None
    last_frame: int = -1


def _as_inputs(source: Any) -> list[Any]:
    if isinstance(source, list | tuple) and not (
        source and all(isinstance(f, np.ndarray) for f in source)
    ):
        if not source:
            raise ParameterError("source: no input given")
        return list(source)
    return [source]


def _label(src: Any) -> str:
    return "array" if isinstance(src, np.ndarray | list | tuple) else str(src)


def analysed_frames(
    inputs: Sequence[Any],
    timeline: _Timeline,
    *,
    max_side: int,
    grey: bool = True,
    start: int = 0,
    stop: int | None = None,
    prefetch: int = _PREFETCH,
) -> Iterator[tuple[int, np.ndarray]]:
    """Stage 1: yield ``(frame_number, frame)`` over all inputs as one timeline.

    Frames are grey (``grey=True``) and downscaled so that their longer side is at
    most ``max_side`` (0: full size). Frame numbers continue from one input to the
    next. A frame that cannot be decoded ends the stream, with ``timeline.error``
    and ``timeline.stopped_at`` set (the frames before it were all delivered).

    Raises
    ------
    FrameSizeError
        Two inputs of different frame sizes.
    """
    import cv2

    from bgmix.io import open_source

    offset = 0
    for n, src in enumerate(inputs):
        sel = {"start": start, "stop": stop} if len(inputs) == 1 else {}
        with open_source(src, grey=grey, on_error="raise", prefetch=prefetch, **sel) as source:
            info = source.info
            full = (info.width, info.height)
            if timeline.full_size is None:
                timeline.full_size = full
                timeline.size = _analysis_size(full, max_side)
                timeline.fps = info.fps
            elif full != timeline.full_size:
                fw, fh = timeline.full_size
                raise FrameSizeError(
                    f"input {_label(src)!r} is {info.width}x{info.height} but "
                    f"{_label(inputs[0])!r} is {fw}x{fh}: inputs of one timeline must have one "
                    "frame size (run them file by file instead)"
                )
            if info.fps and timeline.fps and abs(info.fps - timeline.fps) > 1e-3:
                log.warning(
                    "%s: %.3f frames/s differs from the timeline's %.3f; times use the latter",
                    _label(src), info.fps, timeline.fps,
                )  # fmt: skip
            if timeline.total is not None:
                timeline.total = None if info.frame_count is None else (
                    timeline.total + info.frame_count
                )  # fmt: skip
            record = {
                "path": _label(src),
                "kind": info.kind,
                "offset": offset,
                "first_frame": offset,
                "frames": 0,
            }
            timeline.sources.append(record)
            size = timeline.size
            assert size is not None
            number = offset - 1
            frames = source.numbered()
            try:
                for number, frame in frames:
                    number += offset
                    if record["frames"] == 0:
                        record["first_frame"] = number
                    if frame.shape[1::-1] != size:
                        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                    record["frames"] += 1
                    timeline.last_frame = number
                    yield number, frame
            except CorruptFrameError as exc:
                timeline.error = str(exc)
                timeline.stopped_at = timeline.last_frame + 1
                log.warning("%s: stopped at frame %d", exc, timeline.stopped_at)
                return
            finally:
                frames.close()  # type: ignore[attr-defined]
            expected = info.frame_count
            got = record["frames"]
            if expected is not None and expected - got > max(2, expected // 100):
                timeline.error = (
                    f"input {_label(src)!r} ended after {got} of the {expected} frames its "
                    "container announces (truncated or damaged file)"
                )
                timeline.stopped_at = timeline.last_frame + 1
                return
            offset = number + 1 if n < len(inputs) - 1 else offset


def _analysis_size(full: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = full
    if max_side <= 0 or max(w, h) <= max_side:
        return (w, h)
    f = max_side / max(w, h)
    return (max(1, round(w * f)), max(1, round(h * f)))


class _Settings:
    """Validated options of one run."""

    def __init__(self, method: Any, options: dict[str, Any]) -> None:
        unknown = sorted(set(options) - set(DEFAULTS) - {"params", "roi", "start", "stop", "fps"})
        if unknown:
            raise ParameterError(
                f"detect_events got unknown option {unknown[0]!r}; options are "
                f"{', '.join(sorted({*DEFAULTS, 'params', 'roi', 'start', 'stop', 'fps'}))}"
            )
        self.values = DEFAULTS | {k: v for k, v in options.items() if k in DEFAULTS}
        self.method = method
        self.model_params = dict(options.get("params") or {})
        self.roi = options.get("roi")
        check_roi(self.roi)
        self.fps = options.get("fps")
        self.start = options.get("start")
        self.stop = options.get("stop")
        self.max_side = check_int("max_side", self.values["max_side"], low=0)

    def make_subtractor(self) -> Any:
        from bgmix.background import make_subtractor

        if isinstance(self.method, str):
            return make_subtractor(self.method, **self.model_params)
        return self.method


def _scan(
    inputs: list[Any], settings: _Settings, timeline: _Timeline, *, progress: bool, sink: Any
) -> Iterator[Event]:
    """Run the stages; ``sink(number, FrameScore)`` sees every frame's score."""
    from bgmix._progress import progress_bar

    fps_hint = settings.fps
    start_frames = 0
    if settings.start is not None:
        start_frames = to_frames(settings.start, fps_hint or _probe_fps(inputs), name="start")
    stop_frames = None
    if settings.stop is not None:
        stop_frames = to_frames(settings.stop, fps_hint or _probe_fps(inputs), name="stop")
    if len(inputs) > 1 and (settings.start is not None or settings.stop is not None):
        raise ParameterError("start/stop apply to a single input, not to a timeline of several")
    frames = analysed_frames(
        inputs, timeline, max_side=settings.max_side, start=start_frames, stop=stop_frames
    )
    detector: EventDetector | None = None
    scorer: MotionScorer | None = None
    bar = None
    try:
        for number, frame in frames:
            if detector is None:
                fps = fps_hint or timeline.fps or _FALLBACK_FPS
                timeline.fps = fps
                scorer = make_scorer(settings, timeline, fps)
                detector = make_detector(settings, number, fps)
                bar = progress_bar(timeline.total, "events", enabled=progress)
            result = scorer(frame)
            sink(number, result)
            yield from detector.push(number, result.score, result.bbox)
            bar.update(1)
    finally:
        frames.close()  # type: ignore[attr-defined]
        if bar is not None:
            bar.close()
    if detector is not None:
        yield from detector.finish()


def make_scorer(settings: _Settings, timeline: _Timeline, fps: float) -> MotionScorer:
    """The run's :class:`MotionScorer`, once the decode stage knows the frame sizes."""
    v = settings.values
    assert timeline.full_size is not None and timeline.size is not None
    roi = as_roi(settings.roi, frame_size=timeline.size, source_size=timeline.full_size)
    fw, fh = timeline.full_size
    w, h = timeline.size
    return MotionScorer(
        settings.make_subtractor(),
        roi=roi,
        scale=(fw / w, fh / h),
        min_blob=v["min_blob"],
        global_fraction=v["global_fraction"],
        persist=v["persist"],
        normalise=v["normalise"],
        flatten=v["flatten"],
        busy_window=to_frames(v["busy_window"], fps, name="busy_window"),
        busy_level=v["busy_level"],
        busy_cell=v["busy_cell"],
        warmup=v["warmup"],
    )


def make_detector(settings: _Settings, first: int, fps: float) -> EventDetector:
    """The run's :class:`EventDetector` for a timeline starting at frame ``first``."""
    v = settings.values
    return EventDetector(
        v["threshold"],
        min_event=to_frames(v["min_event"], fps, name="min_event"),
        pre=to_frames(v["pre"], fps, name="pre"),
        post=to_frames(v["post"], fps, name="post"),
        merge=to_frames(v["merge"], fps, name="merge"),
        first_frame=first,
        time_of=lambda f: f / fps,
    )


def _probe_fps(inputs: list[Any]) -> float | None:
    from bgmix.io import open_source

    with open_source(inputs[0]) as s:
        return s.info.fps


def iter_events(source: Any, method: Any = "mog2", *, progress: bool = False, **options: Any):
    """Yield motion events as they close: the streaming form, for live cameras.

    Takes the same arguments as :func:`detect_events`. An event is yielded as soon as
    no later frame can change it (``post`` quiet time, plus ``pre`` + ``min_event``
    for a possible merge).

    Raises
    ------
    CorruptFrameError
        After the events found before it, when a frame cannot be decoded.
    """
    settings = _Settings(method, options)
    timeline = _Timeline()
    yield from _scan(
        _as_inputs(source), settings, timeline, progress=progress, sink=lambda n, r: None
    )
    if timeline.error is not None:
        raise CorruptFrameError(f"{timeline.error} (stopped at frame {timeline.stopped_at})")


def detect_events(
    source: Any, method: Any = "mog2", *, progress: bool = False, **options: Any
) -> EventList:
    """Find the moments with motion in a video, a camera or several files.

    Parameters
    ----------
    source : path, int, URL, array, or list of them
        Anything :func:`bgmix.open_source` opens; a list is read as one timeline
        (frame numbers continue from one file to the next; sizes must match).
    method : str or BackgroundSubtractor, default "mog2"
        The background model (see ``bgmix.available_methods()``).
    progress : bool
        Report progress on stderr.
    **options
        ``threshold`` (float, default 0.001): a frame is active when the kept
        foreground covers at least this fraction of the region of interest.
        ``min_event`` ("0.3s"), ``pre`` ("1.5s"), ``post`` ("2s"), ``merge`` (0): times as
        frames (``75``), seconds (``"1.5s"``) or timecodes (``"00:00:01.500"``); see
        :class:`~bgmix.events.EventDetector`. ``roi``: polygons ``"x0,y0 x1,y1 ..."``,
        a file or a mask (see :mod:`bgmix._roi`). ``max_side`` (320):
        analyse frames downscaled to this longer side (0: full size). ``min_blob``,
        ``global_fraction``, ``persist``, ``normalise``, ``flatten``, ``busy_window``,
        ``busy_level``, ``busy_cell``, ``warmup``: the robustness tests of
        :class:`~bgmix.events.MotionScorer` (see :data:`DEFAULTS`). ``params``: the model's
        parameters. ``start``, ``stop``: a part of a single input (times).
        ``fps``: frame rate when the source has none (default 25).

    Returns
    -------
    EventList
        The events, with the scores of every frame; ``error``/``stopped_at`` are set
        when a file failed to decode part-way (the events up to there are kept).

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((60, 48, 64), 100, np.uint8)
    >>> for t in range(20):                        # a bright block crosses in 20 frames
    ...     frames[20 + t, 10:30, 2 * t : 2 * t + 12] = 250
    >>> events = detect_events(frames, fps=10, pre=0, post=0, min_event=1)
    >>> [(e.start_frame, e.end_frame, e.bbox) for e in events]  # persist=2 skips frame 20
    [(21, 39, [2, 10, 50, 30])]
    """
    settings = _Settings(method, options)
    timeline = _Timeline()
    scores: list[float] = []
    numbers: list[int] = []

    def sink(number: int, result: FrameScore) -> None:
        numbers.append(number)
        scores.append(result.score)

    inputs = _as_inputs(source)
    events = list(_scan(inputs, settings, timeline, progress=progress, sink=sink))
    label = [_label(s) for s in inputs] if len(inputs) > 1 else _label(inputs[0])
    return event_list(events, settings, timeline, label, scores, numbers)


def event_list(
    events: list[Event],
    settings: _Settings,
    timeline: _Timeline,
    label: Any,
    scores: Any,
    numbers: Any,
) -> EventList:
    """The :class:`EventList` of a run: its events, per-frame scores and what made them."""
    params = {
        **{k: settings.values[k] for k in DEFAULTS},
        "roi": None if settings.roi is None else "custom",
        "model": _model_params(settings),
    }
    return EventList(
        events,
        source=label,
        fps=timeline.fps,
        frames=len(scores),
        method=settings.method if isinstance(settings.method, str) else settings.method.name,
        params=params,
        size=timeline.full_size,
        scores=np.asarray(scores, np.float32),
        score_frames=np.asarray(numbers, np.int64),
        error=timeline.error,
        stopped_at=timeline.stopped_at,
        sources=timeline.sources,
    )


def _model_params(settings: _Settings) -> dict[str, Any]:
    try:
        return settings.make_subtractor().json_params()
    except AttributeError:
        return dict(settings.model_params)
