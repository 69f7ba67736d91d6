"""``bgmix.parallel.subtract`` and ``bgmix.parallel.evaluate``: the runs of
:mod:`bgmix.pipeline` and :mod:`bgmix.metrics` cut into units and run by a
:class:`~bgmix.parallel.Runner`."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix._validation import check_int, parse_train
from bgmix.exceptions import ParameterError
from bgmix.parallel._client import Runner
from bgmix.parallel._event_units import (
    event_merge_unit,
    event_segment_unit,
    events_unit,
    events_warmup,
    report,
)
from bgmix.parallel._manifest import identity, is_complete
from bgmix.parallel._segments import (
    default_warmup,
    merge_unit,
    plan_segments,
    probe_unit,
    segment_unit,
)
from bgmix.parallel._units import evaluate_unit, subtract_unit

__all__ = ["evaluate", "events", "expand_grid", "subtract"]


def _sources(inputs: Any) -> list[str]:
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if not items:
        raise ParameterError("inputs: give at least one video file or image folder")
    bad = [i for i in items if not isinstance(i, str | os.PathLike)]
    if bad:
        raise ParameterError(
            f"inputs must be paths (workers read them themselves); got {type(bad[0]).__name__}"
        )
    return [os.fspath(i) for i in items]


def subtract(
    inputs: StrPath | Iterable[StrPath],
    output: StrPath,
    *,
    scheduler: Any = None,
    method: str = "mog2",
    params: Mapping[str, Any] | None = None,
    train: float | int | str | None = None,
    segments: int | str | None = None,
    warmup: int | None = None,
    masks: bool = True,
    video: bool = True,
    background: bool = True,
    fps: float | None = None,
    source_options: Mapping[str, Any] | None = None,
    progress: bool = False,
    runner: Runner | None = None,
) -> list[dict[str, Any]]:
    """:func:`bgmix.subtract` over many inputs, or over one long video in segments.

    Parameters
    ----------
    inputs : path or iterable of paths
        Video files or image folders, on storage every worker can read.
    output : path
        With one input: its output folder (as :func:`bgmix.subtract`). With several:
        a folder that receives one output folder per input, named after the input
        (``OUTPUT/cam07`` for ``cam07.mp4``).
    scheduler : None, distributed.Client or str
        Where to run (see :class:`Runner`): ``None`` in this process, ``"local"``,
        ``"local:N"``, a scheduler address, or a ``Client``.
    method, params, train, masks, video, background, fps, source_options
        As in :func:`bgmix.subtract`. ``source_options`` may hold ``grey``, ``scale``,
        ``size``, ``start`` and ``stop`` (and ``stride`` without segments).
    segments : int or "auto", optional
        Cut each video into this many time segments, run as separate tasks (online
        methods only). ``"auto"``: one per worker thread, no segment shorter than
        four warm-ups. None: one task per input.
    warmup : int, optional
        Frames run through the model before each segment without output (default:
        the method's ``history``, else 200).
    progress : bool
        Report finished units.
    runner : Runner, optional
        An open runner to reuse (then ``scheduler`` is ignored).

    Returns
    -------
    list of dict
        One small record per input: ``out``, ``skipped`` (its outputs were already
        complete: same input and parameters), ``n_frames``.

    Notes
    -----
    Outputs are published whole: an input's output folder appears complete or not at
    all, also when a worker is killed mid-task (the task runs again elsewhere) or the
    run is interrupted. Running the same call again skips the inputs (and segments)
    whose outputs are complete.
    """
    sources = _sources(inputs)
    out = Path(output)
    params = dict(params or {})
    options = dict(source_options or {})
    train = parse_train(train)
    if len(sources) == 1:
        targets = [out]
    else:
        names = [Path(s).stem if Path(s).suffix else Path(s).name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ParameterError(
                f"inputs {', '.join(dupes)} would share an output folder; give inputs "
                "with distinct names"
            )
        targets = [out / n for n in names]  # OUTPUT is made by the tasks
    if segments is not None and segments != "auto":
        segments = check_int("segments", segments, low=1)
    common = {
        "method": method,
        "params": params,
        "train": train,
        "masks": masks,
        "video": video,
        "background": background,
        "fps": fps,
        "source_options": options,
    }
    with Runner(scheduler, progress=progress) if runner is None else _Borrowed(runner) as run:
        if segments is None:
            units = [
                dict(common, src=s, out=str(t), make_parent=len(sources) > 1)
                | {"task": _task("subtract", common)}
                for s, t in zip(sources, targets, strict=True)
            ]
            return run.map(subtract_unit, units, desc="inputs")
        return [
            _segmented(run, s, t, common, segments, warmup)
            for s, t in zip(sources, targets, strict=True)
        ]


def _task(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": kind, **{k: v for k, v in record.items() if k != "threads"}}


def _segmented(
    run: Runner, src: str, out: Path, common: dict[str, Any], segments: Any, warmup: int | None
) -> dict[str, Any]:
    from bgmix.background import make_subtractor

    method, params = common["method"], common["params"]
    _check_online(method, params, common["train"])
    options = dict(common["source_options"])
    if options.pop("stride", 1) not in (None, 1):
        raise ParameterError("stride cannot be combined with time segments")
    begin = options.pop("start", None) or 0
    stop = options.pop("stop", None)
    warm = default_warmup(method, params) if warmup is None else check_int("warmup", warmup, low=0)
    info = _probe(run, src, options)
    n = info["frame_count"]
    end = n if stop is None else min(stop, n)
    plan = plan_segments(begin, end, _n_segments(run, segments, end - begin, warm), warm)
    fps = common["fps"] or info["fps"] or 25.0
    base = dict(common, src=src, fps=fps, source_options=options)
    parts_dir = out.parent / f".{out.name}.bgmix-parts"  # made by the tasks
    units = []
    for i, (w, a, b) in enumerate(plan):
        task = _task("segment", dict(base, warm_start=w, start=a, stop=b))
        part = str(parts_dir / f"seg{i:05d}")
        units.append(dict(base, part=part, warm_start=w, start=a, stop=b, task=task))
    run.map(segment_unit, units, desc=f"segments of {Path(src).name}")
    merge = dict(
        base,
        out=str(out),
        parts=[u["part"] for u in units],
        segments=plan,
        method_name=make_subtractor(method, **params).name,
        task=_task("merge", dict(base, segments=plan)),
    )
    (record,) = run.map(merge_unit, [merge], desc="merge")
    return record


def _check_online(method: str, params: Mapping[str, Any], train: Any) -> None:
    from bgmix.background import make_subtractor

    if train is not None or make_subtractor(method, **params).requires_fit:
        raise ParameterError(
            f"method {method!r} with train={train!r}: time segments need an online "
            "method (one that learns as it goes, without a training part)"
        )


def _n_segments(run: Runner, segments: int | str, n_frames: int, warm: int) -> int:
    """``segments``, or for ``"auto"`` one per worker thread (the segments are of equal
    cost, see :func:`plan_segments`, so more would only add warm-ups), none shorter
    than four warm-ups."""
    if segments != "auto":
        return int(segments)
    threads = 1 if run.client is None else sum(run.client.nthreads().values())
    return max(1, min(threads, n_frames // max(1, 4 * warm)))


def _probe(run: Runner, src: str, options: Mapping[str, Any]) -> dict[str, Any]:
    (info,) = run.map(probe_unit, [{"src": src, "source_options": dict(options)}], desc="probe")
    if info["frame_count"] is None:
        raise ParameterError(f"{src!r}: the number of frames is unknown; it cannot be cut")
    return info


# ---------------------------------------------------------------------------- events
def events(
    inputs: StrPath | Iterable[StrPath],
    output: StrPath,
    *,
    scheduler: Any = None,
    method: str = "mog2",
    params: Mapping[str, Any] | None = None,
    timeline: bool = False,
    segments: int | str | None = None,
    warmup: int | None = None,
    clips: bool = True,
    thumbnails: bool = True,
    clip_mode: str = "auto",
    progress: bool = False,
    runner: Runner | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """:func:`bgmix.events.detect_events` and its outputs over many inputs, or over one
    long video in time segments.

    Parameters
    ----------
    inputs : path or iterable of paths
        Video files or image folders, on storage every worker can read.
    output : path
        With one input (or ``timeline``): its events folder, as ``bgmix events``
        writes it. With several: one subfolder per input (named after it, as ``bgmix
        events`` names them) and ``summary.json``.
    scheduler : None, distributed.Client or str
        Where to run (see :class:`Runner`).
    method, params
        The background model and its parameters.
    timeline : bool
        Several inputs read as one timeline, in one task.
    segments : int or "auto", optional
        Cut each video into this many time segments, scored as separate tasks (online
        methods only); ``"auto"``: one per worker thread, none shorter than four
        warm-ups. None: one task per input.
    warmup : int, optional
        Frames scored before each segment without output (default
        :func:`~bgmix.parallel._event_units.events_warmup`: the longer of twice the
        model's ``history`` and the busy-cell window).
    clips, thumbnails, clip_mode
        As in :func:`bgmix.events._outputs.write_into`.
    progress : bool
        Report finished units.
    runner : Runner, optional
        An open runner to reuse (then ``scheduler`` is ignored).
    **options
        The options of :func:`bgmix.events.detect_events` (``threshold``, ``pre``,
        ``post``, ``roi``, ``start``, ``stop``, ...).

    Returns
    -------
    list of dict
        One record per input (or timeline): ``source``, ``out``, ``skipped`` (complete
        already: same input and parameters), ``events``, ``frames``, ``error``.

    Notes
    -----
    In segments, the merge task runs one :class:`~bgmix.events.EventDetector` over the
    per-frame scores and boxes the segment tasks saved, in frame order: an event across
    a segment border is one event, and the events equal the serial run's wherever the
    warmed-up model's masks equal the sequential model's (the first segment always).
    """
    from bgmix._atomic import atomic_output
    from bgmix._validation import check_choice
    from bgmix.events._outputs import folder_names
    from bgmix.events._run import _Settings

    sources = _sources(inputs)
    out = Path(output)
    options = dict(options, params=dict(params or {}))
    _Settings(method, options)  # a bad option fails here, before any task
    check_choice("clip_mode", clip_mode, ("auto", "copy", "encode"))
    media = {"clips": clips, "thumbnails": thumbnails, "clip_mode": clip_mode}
    groups = [sources] if timeline or len(sources) == 1 else [[s] for s in sources]
    if segments is not None:
        if segments != "auto":
            segments = check_int("segments", segments, low=1)
        if len(groups[0]) > 1:
            raise ParameterError("time segments cut one video, not a timeline of several")
        _check_online(method, options["params"], None)
    names = folder_names([g[0] for g in groups]) if len(groups) > 1 else [""]
    targets = [out / n if n else out for n in names]
    task = {"kind": "events", "method": method, "options": options, "media": media}
    with Runner(scheduler, progress=progress) if runner is None else _Borrowed(runner) as run:
        if segments is None:
            units = [
                {
                    "src": g if len(g) > 1 else g[0],
                    "out": str(t),
                    "method": method,
                    "options": options,
                    "media": media,
                    "tolerate": len(groups) > 1,
                    "task": task,
                }
                for g, t in zip(groups, targets, strict=True)
            ]
            records = run.map(events_unit, units, desc="inputs")
        else:
            records = [
                _events_segmented(run, g[0], t, task, segments, warmup)
                for g, t in zip(groups, targets, strict=True)
            ]
    if len(groups) > 1:
        summary = [
            {"source": r["source"], "error": r["error"]}
            if r["out"] is None
            else {
                "source": r["source"],
                "folder": n,
                "events": r["events"],
                "frames": r["frames"],
                "error": r["error"],
            }
            for r, n in zip(records, names, strict=True)
        ]
        with atomic_output(out / "summary.json", what="events summary") as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return records


def _events_segmented(
    run: Runner, src: str, out: Path, task: dict[str, Any], segments: Any, warmup: int | None
) -> dict[str, Any]:
    from bgmix.events._run import _Settings
    from bgmix.events._times import to_frames

    method, options = task["method"], dict(task["options"])
    start, stop = options.pop("start", None), options.pop("stop", None)
    info = _probe(run, src, {})
    hint = options.get("fps") or info["fps"]
    begin = 0 if start is None else to_frames(start, hint, name="start")
    end = info["frame_count"]
    if stop is not None:
        end = min(end, to_frames(stop, hint, name="stop"))
    if warmup is None:
        window = _Settings(method, options).values["busy_window"]
        busy = to_frames(window, hint or 25.0, name="busy_window")
        warm = events_warmup(method, options["params"], busy)
    else:
        warm = check_int("warmup", warmup, low=0)
    plan = plan_segments(begin, end, _n_segments(run, segments, end - begin, warm), warm)
    task = dict(task, options=options, begin=begin, end=end, segments=plan)
    if is_complete(out, {"input": identity(src), "task": task}):
        return report(out, skipped=True)  # no segment runs again
    parts_dir = out.parent / f".{out.name}.bgmix-parts"  # made by the tasks
    units = []
    for i, (w, a, b) in enumerate(plan):
        seg = {"kind": "event-segment", "method": method, "options": options}
        units.append(
            {
                "src": src,
                "part": str(parts_dir / f"seg{i:05d}"),
                "method": method,
                "options": options,
                "warm_start": w,
                "start": a,
                "stop": b,
                "task": dict(seg, warm_start=w, start=a, stop=b),
            }
        )
    run.map(event_segment_unit, units, desc=f"segments of {Path(src).name}")
    merge = {
        "src": src,
        "out": str(out),
        "parts": [u["part"] for u in units],
        "method": method,
        "options": options,
        "media": task["media"],
        "task": task,
    }
    (record,) = run.map(event_merge_unit, [merge], desc="merge")
    return record


# ------------------------------------------------------------------------ evaluation
def expand_grid(
    methods: list[str],
    params: Mapping[str, Any] | None = None,
    grid: Mapping[str, Any] | None = None,
) -> list[tuple[str, str, dict[str, Any]]]:
    """Methods × parameter values -> ``(label, method, params)`` points.

    ``params`` and ``grid`` are either shared by every method or keyed by method name
    (as in :func:`bgmix.metrics.evaluate`); ``grid`` maps a parameter (dotted keys
    reach nested ones: ``postprocess.median``) to a list of values. A method with grid
    values is labelled ``mog2[history=200]``; one without keeps its name.

    Examples
    --------
    >>> [p[0] for p in expand_grid(["mog2", "mog"], grid={"mog2": {"history": [200, 500]}})]
    ['mog2[history=200]', 'mog2[history=500]', 'mog']
    """
    from bgmix.metrics._evaluate import _split_params

    base = _split_params(params, methods)
    axes = _split_params(grid, methods)
    points = []
    for m in methods:
        keys = list(axes[m])
        for key in keys:
            values = axes[m][key]
            if isinstance(values, str) or not isinstance(values, Iterable) or not list(values):
                raise ParameterError(
                    f"grid[{key!r}] must be a non-empty list of values; got {values!r}"
                )
        if not keys:
            points.append((m, m, dict(base[m])))
            continue
        for combo in itertools.product(*(list(axes[m][k]) for k in keys)):
            p = dict(base[m])
            for key, value in zip(keys, combo, strict=True):
                _set_dotted(p, key, value)
            label = ",".join(f"{k}={_text(v)}" for k, v in zip(keys, combo, strict=True))
            points.append((f"{m}[{label}]", m, p))
    return points


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = target
    for part in parents:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[leaf] = value


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    return str(value)


def evaluate(
    seq_dirs: StrPath | Iterable[StrPath],
    methods: str | Iterable[str],
    params: Mapping[str, Any] | None = None,
    *,
    grid: Mapping[str, Any] | None = None,
    train: float | int | str | None = None,
    category: str | None = None,
    scheduler: Any = None,
    cache: StrPath | None = None,
    progress: bool = False,
    runner: Runner | None = None,
) -> Any:
    """:func:`bgmix.metrics.evaluate` over methods × sequences × parameter values, one
    task per (sequence, method, parameter set).

    Parameters
    ----------
    seq_dirs, methods, params, train
        As in :func:`bgmix.metrics.evaluate` (method names only).
    grid : dict, optional
        Parameter values to sweep, ``{"history": [200, 500]}`` (or per method,
        ``{"mog2": {"history": [200, 500]}}``): every combination is a point of the
        grid, reported as a method labelled ``mog2[history=200]``.
    category : str, optional
        Category of every sequence (default: each sequence's parent folder).
    scheduler : None, distributed.Client or str
        Where to run (see :class:`Runner`); None runs the units here, one by one.
    cache : path, optional
        A folder keeping each finished unit's result (keyed by the sequence's identity
        and the parameters), so that a rerun skips the units already done.
    progress : bool
        Report finished units.
    runner : Runner, optional
        An open runner to reuse.

    Returns
    -------
    EvaluationReport
        Results in the order the serial evaluation gives them (sequences, then
        methods); the F-measures equal the serial run's exactly.

    Notes
    -----
    A task scores several points of the grid on one sequence, decoding it once (as
    the serial evaluation does), as long as that leaves two tasks per worker thread
    and no task larger than half a thread's share of the work.
    """
    from bgmix.metrics import EvaluationReport, SequenceResult, read_sequence
    from bgmix.metrics._evaluate import (
        _check_batch_methods,
        _gather_sequences,
        _resolve_methods,
    )

    if category is not None:
        from bgmix.metrics import find_sequences

        dirs = [seq_dirs] if isinstance(seq_dirs, str | os.PathLike) else list(seq_dirs)
        seqs = [read_sequence(p, category=category) for d in dirs for p in find_sequences(d)]
        sequences = _gather_sequences(seqs)
    else:
        sequences = _gather_sequences(seq_dirs)
    names = [methods] if isinstance(methods, str) else list(methods)
    if not names or not all(isinstance(m, str) for m in names):
        raise ParameterError("methods: give one or more method names")
    points = expand_grid(names, params, grid)
    mode = parse_train(train)
    for _label, method, p in points:  # every point built once: a typo fails here
        _check_batch_methods(_resolve_methods([method], p), mode)
    if cache is not None:
        Path(cache).mkdir(parents=True, exist_ok=True)
    records = [{"label": lb, "method": m, "params": p} for lb, m, p in points]
    with Runner(scheduler, progress=progress) if runner is None else _Borrowed(runner) as run:
        per_point = [s.n_frames * int(np.prod(s.shape)) for s in sequences]
        sizes = _points_per_task(len(points), per_point, run)
        units, cost = [], []  # frames x pixels x points: the longest units start first
        for s, c, size in zip(sequences, per_point, sizes, strict=True):
            for i in range(0, len(records), size):
                chunk = records[i : i + size]
                units.append(
                    {
                        "seq": str(s.path),
                        "category": s.category,
                        "points": chunk,
                        "train": mode,
                        "cache": None if cache is None else str(cache),
                        "task": {"kind": "evaluate", "train": mode, "category": s.category},
                    }
                )
                cost.append(c * len(chunk))
        done = run.map(evaluate_unit, units, desc="sequences", cost=cost)
        rows = [r for rows in done for r in rows]
    results = [SequenceResult.from_dict(r) for r in rows]
    for r, row in zip(results, rows, strict=True):
        r.path = row.get("path")
    return EvaluationReport(results, methods=[label for label, _, _ in points])


def _points_per_task(n_points: int, per_point: list[int], run: Runner) -> list[int]:
    """Grid points per task for each sequence, whose cost per point is ``per_point``.

    A task decodes its sequence once for all its points, so it takes as many as keep
    two tasks per worker thread (all of them when running in this process), but no
    more than keep it within half a thread's share of the whole work: one long
    sequence scored for several methods would otherwise be one task that the other
    workers wait for at the end.
    """
    if run.client is None:
        return [n_points] * len(per_point)
    threads = max(1, sum(run.client.nthreads().values()))
    size = max(1, min(n_points, -(-n_points * len(per_point) // (2 * threads))))
    share = n_points * sum(per_point) / (2 * threads)
    return [max(1, min(size, int(share // max(c, 1)))) for c in per_point]


class _Borrowed:
    """A runner opened by the caller: entered and left without closing it."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def __enter__(self) -> Runner:
        return self.runner

    def __exit__(self, *exc: Any) -> None:
        pass
