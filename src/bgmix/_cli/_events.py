"""``bgmix events``: find, list and cut the moments with motion."""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any

import click

from bgmix._cli import _options as opt
from bgmix._cli._options import (
    method_option,
    output_option,
    overwrite_option,
    params_option,
    parse_params,
    quiet_option,
)
from bgmix.exceptions import ParameterError

_GLOB = re.compile(r"[*?\[]")


def expand_inputs(items: tuple[str, ...]) -> list[Any]:
    """Files, folders of videos and glob patterns -> the list of inputs, in order.

    A folder that holds video files stands for those videos (natural name order); a
    folder of images stays one input (an image sequence); a camera index stays an int.
    """
    from bgmix.exceptions import SourceNotFoundError
    from bgmix.io._video import VIDEO_SUFFIXES

    out: list[Any] = []
    for item in items:
        path = Path(item)
        if not path.exists() and _GLOB.search(item):
            matches = sorted(glob.glob(item), key=_natural)
            if not matches:
                raise SourceNotFoundError(f"input pattern {item!r} matches no file")
            out.extend(matches)
        elif path.is_dir():
            videos = sorted(
                (p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()),
                key=lambda p: _natural(p.name),
            )
            out.extend(str(p) for p in videos) if videos else out.append(item)
        elif not path.exists() and item.isdigit():
            out.append(int(item))
        else:
            out.append(item)
    return out


def _natural(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(name))]


#: (option, help) of the options that take a TIME.
_TIMES = (
    ("--min-event", "Motion that lasts this long opens an event (75, 1.5s, 00:00:01.5) [0.3s]."),
    ("--pre", "Padding before the motion [1.5s]."),
    ("--post", "Quiet time that closes an event, kept as padding after it [2s]."),
    ("--merge", "Merge events whose padded spans are at most this far apart [0]."),
    ("--start", "Start here (single input)."),
    ("--stop", "Stop before here (single input)."),
)

#: (flag, default, help) of the on/off options.
_FLAGS = (
    ("--clips/--no-clips", True, "One H.264 clip per event."),
    ("--thumbnails/--no-thumbnails", True, "One JPEG per event at its peak, with its box."),
    ("--timeline/--each", False,
     "Several inputs: one continuous timeline, or each file on its own (a subfolder each)."),
)  # fmt: skip


def _time_options(func):
    for name, text in reversed(_TIMES):
        func = click.option(name, default=None, metavar="TIME", help=text)(func)
    return func


def _flag_options(func):
    for name, default, text in reversed(_FLAGS):
        func = click.option(name, default=default, show_default=True, help=text)(func)
    return click.option(
        "--clip-mode", type=click.Choice(["auto", "copy", "encode"]), default="auto",
        show_default=True, help="auto: stream copy where key frames allow, else re-encode.",
    )(func)  # fmt: skip


# fmt: off
@click.command("events")
@click.argument("sources", nargs=-1, required=True, metavar="SRC...")
@output_option(help="Output folder (events.json, events.csv, scores.csv, clips, thumbs, ...).")
@method_option
@params_option
@click.option("--threshold", type=float, default=None,
              help="Active frame: kept foreground >= this fraction of the region [0.001].")
@_time_options
@click.option("--roi", multiple=True, metavar="POLYGON|FILE",
              help="Region of interest: 'x0,y0 x1,y1 x2,y2 ...' (two points: a rectangle; "
              "repeatable), a text file of polygons, or a mask image.")
@click.option("--max-side", type=int, default=None,
              help="Analyse frames downscaled to this longer side, 0 for full size [320].")
@_flag_options
@overwrite_option
@quiet_option
@opt.scheduler_option
@opt.segments_option
@opt.warmup_option
def events(sources, output, method, params, roi, clips, thumbnails, clip_mode, timeline,
           overwrite, quiet, scheduler, segments, warmup, **opts) -> None:  # fmt: skip
    """Find the moments with motion in SRC (video files, folders of videos or images,
    glob patterns, a camera index) and write events.json, events.csv, scores.csv, a
    clip and a thumbnail per event and timeline.png under OUTPUT.

    TIME values are frames (75), seconds (1.5s) or timecodes (00:01:02.500). A file
    that fails to decode part-way keeps the events found up to there and the command
    exits with 1, naming the frame where it stopped.

    With --scheduler the inputs run as tasks on a Dask cluster (one per input), and
    one long video in time segments (--segments); a rerun skips complete outputs.
    """
    from bgmix._atomic import atomic_directory
    from bgmix.events import detect_events
    from bgmix.events._outputs import folder_names, write_into

    inputs = expand_inputs(sources)
    options = {k: v for k, v in opts.items() if v is not None}
    if roi:
        options["roi"] = list(roi)
    model = parse_params(params)
    media = {"clips": clips, "thumbnails": thumbnails, "clip_mode": clip_mode}
    if scheduler is not None or segments is not None:
        _parallel(inputs, output, method, model, media, timeline, quiet, scheduler, segments,
                  warmup, options)
        return
    if warmup is not None:
        raise ParameterError("--warmup applies to time segments (--segments or --scheduler)")
    groups = [inputs] if timeline or len(inputs) == 1 else [[i] for i in inputs]
    failures: list[str] = []
    summary: list[dict[str, Any]] = []
    with atomic_directory(output, overwrite=overwrite, what="events folder") as tmp:
        names = folder_names([g[0] for g in groups]) if len(groups) > 1 else [""]
        for group, name in zip(groups, names, strict=True):
            src = group if len(group) > 1 else group[0]
            folder = tmp / name if name else tmp
            folder.mkdir(exist_ok=True)
            try:
                found = detect_events(src, method, params=model, progress=not quiet, **options)
            except Exception as exc:
                from bgmix.exceptions import BgmixError

                if (
                    len(groups) == 1
                    or not isinstance(exc, BgmixError)
                    or isinstance(exc, ParameterError)
                ):
                    raise
                failures.append(f"{group[0]}: {' '.join(str(exc).split())}")
                summary.append({"source": str(group[0]), "error": str(exc)})
                folder.rmdir()
                continue
            write_into(found, folder, progress=not quiet, **media)
            if found.error:
                failures.append(f"{found.error} (stopped at frame {found.stopped_at})")
            summary.append(
                {"source": found.source, "folder": name or ".", "events": len(found),
                 "frames": found.frames, "error": found.error}
            )  # fmt: skip
            if not quiet:
                click.echo(
                    f"{found.source}: {len(found)} events in {found.frames} frames", err=True
                )
        if len(groups) > 1:
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _finish(summary, output, failures)


# fmt: on


def _parallel(inputs, output, method, model, media, timeline, quiet, scheduler, segments,
              warmup, options) -> None:  # fmt: skip
    """The inputs as tasks, or one video in time segments, through :mod:`bgmix.parallel`."""
    from bgmix.parallel import events as run

    if any(not isinstance(i, str) for i in inputs):
        raise ParameterError("--scheduler and --segments need files or folders, not a camera")
    if segments is None and len(inputs) == 1:
        segments = opt.auto_segments(method, model)
    else:
        segments = opt.parse_segments(segments)
    records = run(
        inputs, output, scheduler=scheduler, method=method, params=model, timeline=timeline,
        segments=segments, warmup=warmup, progress=not quiet, **media, **options,
    )  # fmt: skip
    failures = []
    for r in records:
        if r["out"] is None:
            failures.append(f"{r['source']}: {' '.join(r['error'].split())}")
            continue
        if r["error"]:
            failures.append(f"{r['error']} (stopped at frame {r['stopped_at']})")
        if not quiet:
            done = ", complete already, skipped" if r["skipped"] else ""
            click.echo(f"{r['source']}: {r['events']} events in {r['frames']} frames{done}",
                       err=True)  # fmt: skip
    _finish(records, output, failures)


def _finish(records: list[dict[str, Any]], output: Any, failures: list[str]) -> None:
    """The closing line (events found in all, where), then one line per failure and
    exit status 1 if any input failed."""
    total = sum(r.get("events", 0) for r in records)
    click.echo(f"{total} events -> {output}")
    if failures:
        for line in failures:
            click.echo(f"bgmix: error: {line}", err=True)
        click.get_current_context().exit(1)
