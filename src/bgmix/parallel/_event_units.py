"""Units of ``bgmix.parallel.events``: one input per task, or one video in time segments.

A whole-input unit runs :func:`bgmix.events.detect_events` and writes the events folder
(``events.json``, clips, thumbnails, ...) as ``bgmix events`` writes it. A segment unit
decodes frames ``[warm_start, stop)`` of one video, runs the motion scorer (model and
robustness tests) over all of them and keeps the per-frame score and box of frames
``[start, stop)`` in a part folder. The merge unit feeds those scores, in frame order,
to one :class:`~bgmix.events.EventDetector`, exactly as a serial run feeds its own: an
event that crosses a segment border is one event, and where the segment's scores equal
the serial run's (everywhere in the first segment, and wherever the warmed-up model's
masks agree with the sequential model's) the events are the same. The merge then cuts
the clips and thumbnails and publishes the folder.

Every output is published by atomic rename with a manifest (as the subtract units'),
so a rerun skips what is complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory
from bgmix.exceptions import BgmixError, ParameterError
from bgmix.parallel._manifest import (
    claim,
    identity,
    is_complete,
    remove_stale,
    write_manifest,
)
from bgmix.parallel._units import _user_params, worker_params

__all__ = ["event_merge_unit", "event_segment_unit", "events_unit", "events_warmup", "report"]

#: Files of a segment's part folder.
_PART_FILES = ["scores.npz", "part.json"]


def events_warmup(method: str, params: dict[str, Any], busy_window: int) -> int:
    """Frames scored before a segment without output: the model's warm-up
    (:func:`~bgmix.parallel.default_warmup`) or twice the busy-cell average's window
    ``busy_window`` (an exponential average: after two windows its start weighs
    e^-2), whichever is longer.

    >>> events_warmup("mog2", {"history": 100}, 750), events_warmup("mog2", {}, 0)
    (1500, 1000)
    """
    from bgmix.parallel._segments import default_warmup

    return max(default_warmup(method, params), 2 * busy_window)


def _identity(src: Any) -> Any:
    return [identity(s) for s in src] if isinstance(src, list) else identity(src)


def report(out: Path, skipped: bool) -> dict[str, Any]:
    """The small record a unit returns, read back from its ``events.json``."""
    doc = json.loads((out / "events.json").read_text(encoding="utf-8"))
    return {
        "source": doc["source"],
        "out": str(out),
        "skipped": skipped,
        "events": len(doc["events"]),
        "frames": doc["frames"],
        "error": doc.get("error"),
        "stopped_at": doc.get("stopped_at"),
    }


def _publish(found: Any, out: Path, record: dict[str, Any], media: dict[str, Any]) -> None:
    """Write every output of ``found`` into ``out``, whole, with its manifest."""
    from bgmix.events._outputs import write_into

    with atomic_directory(out, overwrite=True, what="events folder") as tmp:
        write_into(found, tmp, **media)
        write_manifest(tmp, record, sorted(os.listdir(tmp)))


def events_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """:func:`bgmix.events.detect_events` of one input (or one timeline of several)
    into its own events folder, published whole.

    With ``unit["tolerate"]`` a input that cannot be read (a :class:`BgmixError` other
    than a :class:`ParameterError`) gives a record with ``error`` and no folder, as
    ``bgmix events`` does for one file among several.
    """
    from bgmix.events import detect_events

    out = Path(unit["out"])
    record = {"input": _identity(unit["src"]), "task": unit["task"]}
    if not claim(out, record):
        return report(out, skipped=True)
    options = dict(unit["options"])
    given = dict(options.pop("params", None) or {})
    params = worker_params(unit["method"], given, unit.get("threads"))
    try:
        found = detect_events(unit["src"], unit["method"], params=params, **options)
    except BgmixError as exc:
        if not unit.get("tolerate") or isinstance(exc, ParameterError):
            raise
        first = unit["src"][0] if isinstance(unit["src"], list) else unit["src"]
        return {"source": str(first), "out": None, "skipped": False, "error": str(exc)}
    found.params["model"] = _user_params(found.params["model"], given)
    _publish(found, out, record, unit["media"])
    return report(out, skipped=False)


def event_segment_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Score frames ``[warm_start, stop)`` of a video; keep those of ``[start, stop)``.

    The part folder ``unit["part"]`` receives ``scores.npz`` (``frames``, ``scores``,
    ``boxes``: one row per frame, ``-1`` for no box) and ``part.json`` (frame rate,
    sizes, kind, and the decoding error that stopped the segment early, if any).
    """
    from bgmix.events._run import _FALLBACK_FPS, _Settings, _Timeline, analysed_frames, make_scorer

    part = Path(unit["part"])
    warm_start, start, stop = unit["warm_start"], unit["start"], unit["stop"]
    record = {"input": identity(unit["src"]), "task": unit["task"]}
    if not claim(part, record):
        return {"part": str(part), "skipped": True}
    options = dict(unit["options"])
    given = dict(options.pop("params", None) or {})
    options["params"] = worker_params(unit["method"], given, unit.get("threads"))
    settings = _Settings(unit["method"], options)
    timeline = _Timeline()
    frames = analysed_frames(
        [unit["src"]], timeline, max_side=settings.max_side, start=warm_start, stop=stop
    )
    numbers: list[int] = []
    scores: list[float] = []
    boxes: list[tuple[int, int, int, int]] = []
    scorer = None
    try:
        for number, frame in frames:
            if scorer is None:
                timeline.fps = settings.fps or timeline.fps or _FALLBACK_FPS
                scorer = make_scorer(settings, timeline, timeline.fps)
            result = scorer(frame)
            if number >= start:
                numbers.append(number)
                scores.append(result.score)
                boxes.append((-1, -1, -1, -1) if result.bbox is None else result.bbox)
    finally:
        frames.close()  # type: ignore[attr-defined]
    if timeline.error is None and len(numbers) != stop - start:
        raise ParameterError(
            f"{unit['src']}: segment [{start}, {stop}) gave {len(numbers)} frames "
            "(a shorter video than announced)"
        )
    info = {
        "fps": timeline.fps,
        "full_size": timeline.full_size,
        "size": timeline.size,
        "kind": timeline.sources[0]["kind"] if timeline.sources else "video",
        "error": timeline.error,
        "stopped_at": timeline.stopped_at,
    }
    with atomic_directory(part, overwrite=True) as tmp:  # the manifest said: incomplete
        np.savez(
            tmp / "scores.npz",
            frames=np.asarray(numbers, np.int64),
            scores=np.asarray(scores, np.float64),
            boxes=np.asarray(boxes, np.int64).reshape(-1, 4),
        )
        (tmp / "part.json").write_text(json.dumps(info), encoding="utf-8")
        write_manifest(tmp, record, _PART_FILES)
    return {"part": str(part), "skipped": False, "n_frames": len(numbers)}


def event_merge_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Run the event detector over the parts' scores in frame order, write the events
    folder ``unit["out"]`` as the serial run writes it, then remove the parts.

    The frames stop at the first part that stopped early on a decoding error, as the
    serial run stops there.
    """
    from bgmix.events._run import _FALLBACK_FPS, _Settings, _Timeline, event_list, make_detector

    out = Path(unit["out"])
    parts = [Path(p) for p in unit["parts"]]
    record = {"input": identity(unit["src"]), "task": unit["task"]}
    skipped = is_complete(out, record)
    if not skipped:
        remove_stale(out)
        settings = _Settings(unit["method"], dict(unit["options"]))
        numbers, scores, boxes = [], [], []
        timeline = _Timeline()
        for p in parts:
            info = json.loads((p / "part.json").read_text(encoding="utf-8"))
            with np.load(p / "scores.npz") as data:
                numbers.append(data["frames"])
                scores.append(data["scores"])
                boxes.append(data["boxes"])
            if timeline.full_size is None and info["full_size"] is not None:
                timeline.full_size = tuple(info["full_size"])
                timeline.size = tuple(info["size"])
                timeline.fps = settings.fps or info["fps"] or _FALLBACK_FPS
                kind = info["kind"]
            if info["error"] is not None:
                timeline.error, timeline.stopped_at = info["error"], info["stopped_at"]
                break
        frames = np.concatenate(numbers)
        values = np.concatenate(scores)
        rows = np.concatenate(boxes)
        found_events = []
        if len(frames):
            timeline.sources = [
                {
                    "path": str(unit["src"]),
                    "kind": kind,
                    "offset": 0,
                    "first_frame": int(frames[0]),
                    "frames": len(frames),
                }
            ]
            detector = make_detector(settings, int(frames[0]), timeline.fps)
            for n, s, b in zip(frames.tolist(), values.tolist(), rows.tolist(), strict=True):
                found_events += detector.push(n, s, None if b[0] < 0 else tuple(b))
            found_events += detector.finish()
        found = event_list(found_events, settings, timeline, str(unit["src"]), values, frames)
        _publish(found, out, record, unit["media"])
    for p in parts:
        shutil.rmtree(p, ignore_errors=True)
    parent = parts[0].parent
    if parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
    return report(out, skipped=skipped)
