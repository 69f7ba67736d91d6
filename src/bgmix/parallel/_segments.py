"""One long video in time segments: planning, the segment task and the merge task.

Frames ``[begin, end)`` are cut into consecutive segments. The task of segment
``[a, b)`` opens the video at ``a - warmup`` (a seek, not a decode from frame 0),
runs the model over the warm-up frames without writing anything, then writes the
masks, the side-by-side video and the per-frame scores of frames ``a .. b-1`` into a
part folder beside the output. The merge task joins the parts in order into the
same outputs a sequential run writes: mask PNGs are named by frame number, the MP4s
are concatenated by copying their packets (every segment starts with a key frame, so
nothing is re-encoded), the background image is the last segment's, and ``run.json``
sums the counts.

A model warmed up on ``warmup`` frames is not the sequential model, but it forgets
its start at the rate it learns: for the online mixtures with an automatic learning
rate ``1/min(2n, history)``, twice ``history`` frames of warm-up leave the first masks of a
segment differing from the sequential run's in a small fraction of pixels
(``benchmarks/parallel.py`` measures it).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory, atomic_output
from bgmix.exceptions import ParameterError
from bgmix.parallel._manifest import claim, identity, is_complete, remove_stale, write_manifest
from bgmix.parallel._units import worker_params

__all__ = [
    "DEFAULT_WARMUP",
    "concat_videos",
    "default_warmup",
    "merge_unit",
    "plan_segments",
    "probe_unit",
    "segment_unit",
]

log = logging.getLogger(__name__)

#: Warm-up frames of a model without a ``history`` parameter.
DEFAULT_WARMUP = 200


def default_warmup(method: str, params: dict[str, Any] | None = None) -> int:
    """Frames to run before a segment: twice the model's ``history`` when it has one
    (the window its automatic learning rate averages over: after two of them the
    weight left to the segment's start is about e^-2), else :data:`DEFAULT_WARMUP`.

    On the synthetic ``mixed`` scene with ``history=100``, warm-ups of 100, 200 and
    400 frames gave 98.8 %, 99.56 % and 100 % of mask pixels equal to the
    sequential run's after the first warm-up.
    """
    from bgmix.background import make_subtractor

    sub = make_subtractor(method, **(params or {}))
    history = sub.get_params().get("history")
    return 2 * int(history) if isinstance(history, int) and history > 0 else DEFAULT_WARMUP


def plan_segments(begin: int, end: int, n_segments: int, warmup: int) -> list[tuple[int, int, int]]:
    """Cut frames ``[begin, end)`` into ``n_segments`` segments of equal cost.

    A segment's task decodes and models its warm-up and its own frames, so every task
    but the first has ``warmup`` frames more to run: the first segment is longer by
    ``warmup`` frames, and the others share the rest equally (when there are fewer
    frames than that needs, the segments are of equal length instead).

    Returns
    -------
    list of (warm_start, start, stop)
        The task of a segment decodes from ``warm_start = max(begin, start - warmup)``
        and writes frames ``start .. stop - 1``.

    Examples
    --------
    >>> plan_segments(0, 10, 2, 2)
    [(0, 0, 6), (4, 6, 10)]
    >>> plan_segments(0, 10, 3, 20)
    [(0, 0, 3), (0, 3, 6), (0, 6, 10)]
    """
    if end <= begin:
        raise ParameterError(f"no frame to cut into segments: frames [{begin}, {end})")
    n = max(1, min(int(n_segments), end - begin))
    rest = end - begin - warmup
    if n > 1 and rest >= n:
        bounds = [begin] + [begin + warmup + rest * i // n for i in range(1, n + 1)]
    else:
        bounds = [begin + (end - begin) * i // n for i in range(n + 1)]
    return [(max(begin, a - warmup), a, b) for a, b in itertools.pairwise(bounds)]


def probe_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Frame count, frame rate and kind of a source (the count of a container that
    does not announce it is found by reading its packets, without decoding)."""
    from bgmix.io import open_source

    with open_source(unit["src"], **unit.get("source_options", {})) as src:
        info = src.info
    count = info.frame_count
    if count is None and info.kind == "video":
        import av

        with av.open(str(unit["src"])) as container:
            stream = container.streams.video[0]
            count = sum(1 for p in container.demux(stream) if p.size > 0)
    return {"frame_count": count, "fps": info.fps, "kind": info.kind}


def foreground_fraction(mask: np.ndarray) -> float:
    """The per-frame score kept by segment tasks: the share of foreground (255) pixels."""
    return float(np.count_nonzero(mask == 255)) / mask.size


def segment_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Run one segment; publish its part folder ``unit["part"]`` atomically.

    The segment runs on the pipeline of :func:`bgmix.pipeline.run_subtractor` (the same
    stages and writers as a serial ``bgmix subtract``): the warm-up frames go to the
    model's ``fit`` (for the online methods, ``apply`` with the automatic rate, nothing
    written), then the segment's frames are classified and written.
    """
    from contextlib import ExitStack

    from bgmix._subtract_stages import mask_writer, side_by_side_writer
    from bgmix.background import make_subtractor
    from bgmix.io import open_sink, open_source
    from bgmix.io._png import write_png
    from bgmix.pipeline import RunSummary, default_background_every, mask_formats, run_subtractor

    part = Path(unit["part"])
    warm_start, start, stop = unit["warm_start"], unit["start"], unit["stop"]
    record = {"input": identity(unit["src"]), "task": unit["task"]}
    if not claim(part, record):
        return {"part": str(part), "skipped": True}
    params = worker_params(unit["method"], unit["params"], unit.get("threads"))
    sub = make_subtractor(unit["method"], **params)
    options = dict(unit.get("source_options", {}), start=warm_start, stop=stop)
    mask_video, mask_png = mask_formats(unit["masks"])
    scores: list[float] = []
    with atomic_directory(part, overwrite=True) as tmp:  # the manifest said: incomplete
        with open_source(unit["src"], **options) as source, ExitStack() as stack:
            info = source.info
            summary = RunSummary(method=sub.name, params=sub.json_params(), source=info.source)
            sinks = []
            if mask_video:
                sink = stack.enter_context(open_sink(tmp / "masks.mov", fps=unit["fps"]))
                sinks.append(mask_writer(sink))
            if mask_png:
                sink = stack.enter_context(open_sink(tmp / "masks", kind="folder"))
                sinks.append(mask_writer(sink))
            if unit["video"]:
                sink = stack.enter_context(
                    open_sink(tmp / "side_by_side.mp4", fps=unit["fps"], preset="ultrafast", crf=23)
                )
                sinks.append(side_by_side_writer(sink))
            run_subtractor(
                source.numbered(),
                sub,
                n_train=start - warm_start,
                on_mask=lambda number, frame, mask: scores.append(foreground_fraction(mask)),
                summary=summary,
                sinks=sinks,
                background_every=default_background_every(info.width, info.height)
                if unit["video"]
                else 0,
            )
        if len(scores) != stop - start:
            raise ParameterError(
                f"{unit['src']}: segment [{start}, {stop}) gave {len(scores)} frames "
                f"(corrupt frames skipped, or a shorter video than announced)"
            )
        seconds = summary.model_seconds
        np.save(tmp / "scores.npy", np.asarray(scores, np.float64))
        write_png(tmp / "background.png", sub.get_background_image())
        info_json = {"n_frames": len(scores), "model_seconds": seconds, "params": sub.json_params()}
        (tmp / "part.json").write_text(json.dumps(info_json, default=str), encoding="utf-8")
        outputs = ["scores.npy", "background.png", "part.json"]
        outputs += ["masks.mov"] * mask_video + ["masks"] * mask_png
        outputs += ["side_by_side.mp4"] * bool(unit["video"])
        write_manifest(tmp, record, outputs)
    return {"part": str(part), "skipped": False, "n_frames": len(scores), "seconds": seconds}


def merge_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Join the part folders of a segmented run into ``unit["out"]`` (atomically), then
    remove the parts."""
    out = Path(unit["out"])
    parts = [Path(p) for p in unit["parts"]]
    record = {"input": identity(unit["src"]), "task": unit["task"]}
    if is_complete(out, record):
        return {"out": str(out), "skipped": True}
    remove_stale(out)
    infos = [json.loads((p / "part.json").read_text(encoding="utf-8")) for p in parts]
    outputs = ["run.json"]
    from bgmix.pipeline import mask_formats

    mask_video, mask_png = mask_formats(unit["masks"])
    with atomic_directory(out, overwrite=True) as tmp:  # the manifest said: incomplete
        if mask_png:
            (tmp / "masks").mkdir()
            for p in parts:
                for f in sorted((p / "masks").iterdir()):
                    _link_or_copy(f, tmp / "masks" / f.name)
            outputs.append("masks")
        if mask_video:  # time stamps are frame numbers already: no shift
            concat_videos([p / "masks.mov" for p in parts], tmp / "masks.mov", shift=False)
            outputs.append("masks.mov")
        if unit["video"]:
            concat_videos([p / "side_by_side.mp4" for p in parts], tmp / "side_by_side.mp4")
            outputs.append("side_by_side.mp4")
        if unit["background"]:
            shutil.copyfile(parts[-1] / "background.png", tmp / "background.png")
            outputs.append("background.png")
        if unit.get("scores"):
            scores = np.concatenate([np.load(p / "scores.npy") for p in parts])
            np.save(tmp / "scores.npy", scores)
            outputs.append("scores.npy")
        names = {
            "masks": "masks",
            "mask_video": "masks.mov",
            "video": "side_by_side.mp4",
            "background": "background.png",
        }
        summary = {
            "method": unit["method_name"],
            "params": dict(infos[0]["params"], **_restored(unit)),
            "source": str(unit["src"]),
            "n_frames": sum(i["n_frames"] for i in infos),
            "n_trained": 0,
            "model_seconds": sum(i["model_seconds"] for i in infos),
            "outputs": {k: str(out / v) for k, v in names.items() if (tmp / v).exists()},
            "segments": [{"start": s, "stop": e, "warmup": s - w} for w, s, e in unit["segments"]],
        }
        summary["outputs"]["summary"] = str(out / "run.json")
        seconds = summary["model_seconds"]
        summary["fps"] = summary["n_frames"] / seconds if seconds > 0 else None
        (tmp / "run.json").write_text(json.dumps(summary, indent=2, default=str), "utf-8")
        write_manifest(tmp, record, outputs)
    for p in parts:
        shutil.rmtree(p, ignore_errors=True)
    parent = parts[0].parent
    if parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
    return {"out": str(out), "skipped": False, "n_frames": summary["n_frames"]}


def _restored(unit: dict[str, Any]) -> dict[str, Any]:
    """The user's ``n_jobs`` (workers run single-threaded kernels; the run's record
    keeps what the user asked for)."""
    return {"n_jobs": unit["params"]["n_jobs"]} if "n_jobs" in unit["params"] else {}


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def concat_videos(paths: list[Path], target: Path, *, shift: bool = True) -> None:
    """Concatenate video files of one encoding (same codec, size and rate, each starting
    with a key frame) into ``target`` (MP4, MOV or MKV, by its suffix) by copying packets: no
    re-encoding.

    With ``shift`` the time stamps of each file are shifted by the duration of the files
    before it; without, they are kept (the mask videos' time stamps are frame numbers).
    """
    import av

    fmt, opts = {
        ".mp4": ("mp4", {"movflags": "+faststart"}),
        ".mov": ("mov", {}),
        ".mkv": ("matroska", {}),
    }[target.suffix.lower()]
    with atomic_output(target, what="video") as tmp:
        with av.open(str(tmp), mode="w", format=fmt, options=opts) as out:
            stream = None
            offset = 0
            for path in paths:
                with av.open(str(path)) as src:
                    s_in = src.streams.video[0]
                    if stream is None:
                        stream = out.add_stream_from_template(s_in)
                    end = offset
                    for packet in src.demux(s_in):
                        if packet.dts is None:
                            continue  # the demuxer's final empty packet
                        duration = packet.duration or 0
                        if shift:
                            packet.pts = None if packet.pts is None else packet.pts + offset
                            packet.dts += offset
                        end = max(end, (packet.pts or packet.dts) + duration)
                        packet.stream = stream
                        out.mux(packet)
                    offset = end
