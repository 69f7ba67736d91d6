"""The files of an events run, written into one folder that appears whole.

``events.json`` (the run and every event), ``events.csv`` (one row per event,
timecodes ``HH:MM:SS.mmm``), ``scores.csv`` (frame, time, score), ``clips/`` (one
H.264 MP4 per event), ``thumbs/`` (the peak frame of each event with its box) and
``timeline.png`` (score over time, events shaded, the threshold line).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix.events._clips import cut_clip, read_frame, segments, thumbnail
from bgmix.events._detect import EventList
from bgmix.events._times import format_timecode, to_frames

__all__ = ["folder_names", "write_event_files", "write_into", "write_outputs", "write_timeline"]

log = logging.getLogger(__name__)

#: Most points drawn on the timeline (longer runs are reduced to per-bin maxima).
_TIMELINE_POINTS = 4000


def write_outputs(
    events: EventList, out_dir: StrPath, *, overwrite: bool = False, **options: Any
) -> Path:
    """Write every output of ``events`` into ``out_dir`` atomically.

    Parameters
    ----------
    events : EventList
        From :func:`~bgmix.events.detect_events` (its ``sources`` say where to cut clips).
    out_dir : path
        The folder; an existing non-empty one needs ``overwrite=True`` and is
        replaced as a whole once the new one is complete.
    **options
        Those of :func:`write_into`.

    Returns
    -------
    Path
        ``out_dir``.
    """
    from bgmix._atomic import atomic_directory

    out = Path(out_dir)
    with atomic_directory(out, overwrite=overwrite, what="events folder") as tmp:
        write_into(events, tmp, **options)
    return out


def write_into(
    events: EventList,
    folder: Path,
    *,
    clips: bool = True,
    thumbnails: bool = True,
    timeline: bool = True,
    clip_mode: str = "auto",
    max_lead: Any = "10s",
    progress: bool = False,
) -> None:
    """Write the outputs into an existing (temporary) folder.

    Parameters
    ----------
    events : EventList
    folder : Path
    clips, thumbnails, timeline : bool
        Which of the heavier outputs to write.
    clip_mode : {"auto", "copy", "encode"}
        Stream copy where key frames allow (``auto``), always copy from the key frame
        before, or always re-encode.
    max_lead : time, default "10s"
        In ``auto`` mode, how long before an event a copied clip may start, or the
        event's length when longer (sparser key frames are re-encoded instead).
    progress : bool
        Report progress on stderr.
    """
    from bgmix._progress import progress_bar
    from bgmix._validation import check_choice

    check_choice("clip_mode", clip_mode, ("auto", "copy", "encode"))
    if (clips or thumbnails) and events:
        lead = to_frames(max_lead, events.fps, name="max_lead")
        with progress_bar(len(events), "clips", enabled=progress, unit="event") as bar:
            for event in events:
                _event_media(events, event, folder, clips, thumbnails, clip_mode, lead)
                bar.update(1)
    write_event_files(events, folder)
    if timeline:
        write_timeline(events, folder / "timeline.png")


def _event_media(
    events: EventList,
    event: Any,
    folder: Path,
    clips: bool,
    thumbnails: bool,
    mode: str,
    lead: int,
) -> None:
    segs = segments(events.sources, event.start_frame, event.end_frame)
    if not segs or any(s.kind in ("array", "camera") for s in segs):
        return  # frames that cannot be read again
    name = f"event{event.index:04d}"
    if clips:
        (folder / "clips").mkdir(exist_ok=True)
        rel = f"clips/{name}.mp4"
        # a long clip may start further before its event: the extra part is small beside it
        lead = max(lead, event.n_frames)
        result = cut_clip(segs, folder / rel, mode=mode, max_lead=lead, fps=events.fps or 25.0)
        event.clip = rel
        event.extra.update(
            clip_mode=result.mode,
            clip_first_frame=result.first_frame,
            clip_last_frame=result.last_frame,
        )
    if thumbnails:
        peak = segments(events.sources, event.peak_frame, event.peak_frame)
        frame = read_frame(peak[0]) if peak else None
        if frame is not None:
            (folder / "thumbs").mkdir(exist_ok=True)
            rel = f"thumbs/{name}.jpg"
            thumbnail(frame, event.bbox, folder / rel)
            event.extra["thumbnail"] = rel


def write_event_files(events: EventList, folder: Path) -> None:
    """``events.json``, ``events.csv`` and ``scores.csv`` in ``folder``."""
    doc = events.to_dict()
    (folder / "events.json").write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    with open(folder / "events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["index", "start_frame", "end_frame", "start_time", "end_time", "duration",
             "peak_score", "peak_frame", "x0", "y0", "x1", "y1", "clip"]
        )  # fmt: skip
        for e in events:
            box = e.bbox or ["", "", "", ""]
            w.writerow(
                [e.index, e.start_frame, e.end_frame, format_timecode(e.start_time),
                 format_timecode(e.end_time), format_timecode(e.end_time - e.start_time),
                 f"{e.peak_score:.6f}", e.peak_frame, *box, e.clip or ""]
            )  # fmt: skip
    fps = events.fps or 0.0
    with open(folder / "scores.csv", "w", newline="") as f:
        f.write("frame,time,score\n")
        times = events.score_frames / fps if fps else np.full(len(events.scores), np.nan)
        rows = zip(
            events.score_frames.tolist(), times.tolist(), events.scores.tolist(), strict=False
        )
        f.writelines(f"{n},{t:.3f},{s:.6f}\n" for n, t, s in rows)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | tuple):
        return list(value)
    return str(value)


def _bin_maxima(t: np.ndarray, s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Bins of ``k`` points (the last one shorter): each bin's first time and its
    largest score, so that every spike stays visible on a plot of fewer points.

    >>> t, s = _bin_maxima(np.arange(7.0), np.array([0, 5, 1, 0, 0, 2, 9.0]), 3)
    >>> t.tolist(), s.tolist()
    ([0.0, 3.0, 6.0], [5.0, 2.0, 9.0])
    """
    n = len(s) // k * k
    times, peaks = [t[:n:k]], [s[:n].reshape(-1, k).max(axis=1)]
    if n < len(s):  # a shorter last bin
        times.append(t[n : n + 1])
        peaks.append(s[n:].max(keepdims=True))
    return np.concatenate(times), np.concatenate(peaks)


def write_timeline(events: EventList, path: Path, *, width: float = 10.0) -> None:
    """Score over time, events shaded, threshold dashed: a PNG of ``width`` inches."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fps = events.fps or 1.0
    unit = "s" if events.fps else "frame"
    t = events.score_frames / fps
    s = events.scores.astype(np.float64)
    if len(s) > _TIMELINE_POINTS:
        t, s = _bin_maxima(t, s, int(np.ceil(len(s) / _TIMELINE_POINTS)))
    fig = Figure(figsize=(width, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for e in events:
        ax.axvspan(e.start_frame / fps, (e.end_frame + 1) / fps, color="tab:orange", alpha=0.25,
                   lw=0)  # fmt: skip
    ax.plot(t, s, color="tab:blue", lw=0.8, label="motion score")
    threshold = events.params.get("threshold")
    if threshold is not None:
        ax.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"threshold {threshold:g}")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("foreground fraction")
    top = max(float(s.max()) if len(s) else 0.0, (threshold or 0.0) * 2, 1e-3)
    ax.set_ylim(0, top * 1.05)
    if len(t):
        ax.set_xlim(float(t[0]), float(events.score_frames[-1] + 1) / fps)
    ax.set_title(f"{len(events)} events in {format_timecode(len(events.scores) / fps)}"
                 if events.fps else f"{len(events)} events", fontsize=10)  # fmt: skip
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.savefig(path, format="png")


def folder_names(inputs: list[Any]) -> list[str]:
    """One unique, readable subfolder name per input file (its stem; ``cam-2`` for a
    second ``cam``).

    >>> folder_names(["a/cam.mp4", "b/cam.mp4", "day"])
    ['cam', 'cam-2', 'day']
    """
    names: list[str] = []
    for item in inputs:
        stem = Path(str(item)).stem or "input"
        name, n = stem, 2
        while name in names:
            name, n = f"{stem}-{n}", n + 1
        names.append(name)
    return names
