"""Reading what a report shows: evaluation results, ``bgmix subtract`` run folders and
``bgmix events`` run folders, all checked before anything is written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bgmix._typing import StrPath
from bgmix.exceptions import InputError, SourceNotFoundError
from bgmix.metrics._report import EvaluationReport

__all__ = ["EventsRun", "SubtractRun", "load_inputs"]


@dataclass
class SubtractRun:
    """A ``bgmix subtract`` output folder: ``run.json``, ``side_by_side.mp4``,
    ``background.png``."""

    path: Path
    info: dict[str, Any]
    video: Path | None
    background: Path | None


@dataclass
class EventsRun:
    """A ``bgmix events`` output folder: ``events.json``, ``timeline.png``, and per
    event a clip and a thumbnail.

    Each event of ``events.json`` names its clip (``"clip"``, relative to the folder)
    and may name its thumbnail (``"thumbnail"``); without one the thumbnail is
    ``thumbnails/event_NNN.jpg`` with NNN the event's ``index`` on three digits.
    """

    path: Path
    info: dict[str, Any]
    timeline: Path | None
    events: list[dict[str, Any]] = field(default_factory=list)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{what} {str(path)!r} is not readable JSON: {exc}") from None


def _require(path: Path, what: str, owner: Path) -> Path:
    if not path.is_file():
        raise InputError(f"{owner}: {what} {str(path)!r} is missing")
    return path


def _evaluation(path: Path) -> EvaluationReport:
    report = EvaluationReport.from_json(path)
    for r in report.results:
        for key in ("video", "poster", "counts", "background", "truth"):
            if r.media and key in r.media:
                _require(Path(r.media[key]), f"{key} of {r.method} on {r.sequence}", path)
    return report


def _subtract_run(folder: Path) -> SubtractRun:
    info = _read_json(folder / "run.json", "run summary")
    if not isinstance(info, dict) or "method" not in info:
        raise InputError(
            f"{str(folder / 'run.json')!r} is not a bgmix subtract summary (no 'method')"
        )
    video = folder / "side_by_side.mp4"
    background = folder / "background.png"
    return SubtractRun(
        folder,
        info,
        video if video.is_file() else None,
        background if background.is_file() else None,
    )


def _events_run(folder: Path) -> EventsRun:
    info = _read_json(folder / "events.json", "events file")
    events = info.get("events") if isinstance(info, dict) else None
    if not isinstance(events, list):
        raise InputError(f"{str(folder / 'events.json')!r} is not a bgmix events file")
    out = []
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise InputError(f"{folder / 'events.json'}: event {i} is not an object")
        index = int(event.get("index", i))
        entry = dict(event)
        if event.get("clip"):
            entry["clip_path"] = _require(folder / str(event["clip"]), "clip", folder)
        thumb = event.get("thumbnail") or f"thumbnails/event_{index:03d}.jpg"
        entry["thumbnail_path"] = _require(folder / str(thumb), "thumbnail", folder)
        out.append(entry)
    timeline = folder / "timeline.png"
    return EventsRun(folder, info, timeline if timeline.is_file() else None, out)


def load_inputs(
    inputs: list[StrPath | EvaluationReport],
) -> tuple[EvaluationReport | None, list[SubtractRun], list[EventsRun]]:
    """Sort and read the inputs of a report.

    Parameters
    ----------
    inputs : list of paths or EvaluationReport
        Evaluation results (JSON of ``bgmix evaluate -o FILE.json`` or an
        :class:`EvaluationReport`), ``bgmix subtract`` folders (with ``run.json``) and
        ``bgmix events`` folders (with ``events.json``). Several evaluations are merged.

    Raises
    ------
    SourceNotFoundError, InputError
        A missing input, a file that is not a bgmix evaluation (another tool's, or a
        newer format), a folder that is neither kind of run, a (sequence, method)
        given twice, or a recorded video, picture or clip that is missing.
    """
    if not inputs:
        raise InputError("give at least one results file or run folder")
    reports: list[EvaluationReport] = []
    runs: list[SubtractRun] = []
    events: list[EventsRun] = []
    for item in inputs:
        if isinstance(item, EvaluationReport):
            reports.append(item)
            continue
        p = Path(item)
        if not p.exists():
            raise SourceNotFoundError(f"report input {str(p)!r} does not exist")
        if p.is_file() and p.name in ("run.json", "events.json"):
            p = p.parent  # the run folder, named by its summary file
        if p.is_file():
            reports.append(_evaluation(p))
        elif (p / "events.json").is_file():
            events.append(_events_run(p))
        elif (p / "run.json").is_file():
            runs.append(_subtract_run(p))
        else:
            raise InputError(
                f"report input {str(p)!r} is a folder without run.json (bgmix subtract) or "
                "events.json (bgmix events)"
            )
    merged = None
    if reports:
        results = [r for rep in reports for r in rep.results]
        seen: set[tuple[str, str, str]] = set()
        for r in results:
            key = (str(r.path or r.sequence), r.category, r.method)
            if key in seen:
                raise InputError(
                    f"method {r.method!r} on sequence {r.sequence!r} appears in more than one "
                    "result; give each (sequence, method) once"
                )
            seen.add(key)
        methods = list(dict.fromkeys(m for rep in reports for m in rep.methods))
        merged = EvaluationReport(results, methods=methods)
    return merged, runs, events
