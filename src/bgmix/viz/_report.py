"""The HTML report: one self-contained folder whose ``index.html`` opens from the file
system with no network request (scripts, styles, charts, pictures and videos beside it).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix.metrics._report import EvaluationReport, SequenceResult
from bgmix.viz._inputs import EventsRun, SubtractRun, load_inputs
from bgmix.viz._record import MASK_COLOURS, save_thumbnail, slug

__all__ = ["average_ranking", "evaluate_report", "write_report"]

logger = logging.getLogger(__name__)

#: Columns of the results tables: (key, heading, digits, higher is better).
COLUMNS = (
    ("f_measure", "F-measure", 3, True),
    ("recall", "Recall", 3, True),
    ("precision", "Precision", 3, True),
    ("pwc", "PWC", 2, False),
    ("fps", "frames/s", 0, True),
)

#: CDnet's seven metrics and whether higher is better, for the average ranking.
_RANKED = (
    ("recall", True),
    ("specificity", True),
    ("fpr", False),
    ("fnr", False),
    ("pwc", False),
    ("precision", True),
    ("f_measure", True),
)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _ranks(values: list[float | None], higher: bool) -> list[float]:
    """Rank 1 = best, ties share the mean rank, undefined values rank last."""
    key = [(-v if higher else v) if v is not None else math.inf for v in values]
    order = sorted(range(len(key)), key=lambda i: key[i])
    ranks = [0.0] * len(key)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and key[order[j + 1]] == key[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def average_ranking(report: EvaluationReport) -> dict[str, float]:
    """CDnet's average ranking across categories of each method.

    In each category, the methods are ranked (1 = best, ties share the mean rank) on
    each of CDnet's seven metrics of the category means (recall, specificity, FPR,
    FNR, PWC, precision, F-measure); a method's rank in the category is the mean of
    its seven ranks, and its average ranking the mean over categories. Lower is
    better.
    """
    methods = report.methods
    per_method: dict[str, list[float]] = {m: [] for m in methods}
    cats = {m: report.category_metrics(m) for m in methods}
    for cat in report.categories:
        present = [m for m in methods if cat in cats[m]]
        sums = dict.fromkeys(present, 0.0)
        for metric, higher in _RANKED:
            values = [_finite(cats[m][cat][metric]) for m in present]
            for m, r in zip(present, _ranks(values, higher), strict=True):
                sums[m] += r
        for m in present:
            per_method[m].append(sums[m] / len(_RANKED))
    return {m: float(np.mean(v)) if v else math.nan for m, v in per_method.items()}


# ---------------------------------------------------------------------- files
def _place(src: Path, out: Path, rel: Path) -> str:
    """Hard-link (or copy) ``src`` to ``out / rel``; return ``rel`` as a page URL."""
    dest = out / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
    return rel.as_posix()


def _thumb(src: Path, out: Path, rel: Path, width: int) -> str:
    """A JPEG thumbnail of the picture ``src`` at ``out / rel``; returns its URL."""
    from bgmix.io import read_image

    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    save_thumbnail(read_image(src, mode=None), out / rel, width)
    return rel.as_posix()


def _video_poster(video: Path, out: Path, rel: Path) -> str | None:
    """A thumbnail of a frame about one second into ``video`` (or its last frame)."""
    from bgmix.io import open_source

    frame = None
    with open_source(video, stop=25) as source:
        for frame in source:  # noqa: B007 - keep the last one read
            pass
    if frame is None:
        return None
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    save_thumbnail(frame, out / rel, 640)
    return rel.as_posix()


# ---------------------------------------------------------------------- data
def _row(r: SequenceResult) -> dict[str, Any]:
    m = r.metrics
    values = {k: _finite(m[k]) for k, *_ in COLUMNS if k != "fps"}
    values["fps"] = _finite(r.fps)
    return {"sequence": r.sequence, "category": r.category, "method": r.method, **values}


def _mark_best(rows: list[dict[str, Any]], groups: Iterable[list[dict[str, Any]]]) -> None:
    for group in groups:
        for key, _, _, higher in COLUMNS:
            values = [row[key] for row in group if row[key] is not None]
            if len(values) < 2:
                continue
            best = max(values) if higher else min(values)
            for row in group:
                row.setdefault("best", {})[key] = row[key] == best


def _evaluation_data(report: EvaluationReport, out: Path) -> dict[str, Any]:
    from bgmix.viz._charts import per_frame_chart, speed_chart

    ranking = average_ranking(report)
    summary = []
    for method in report.methods:
        mean = report.sequence_mean(method)
        row = {k: _finite(mean[k]) for k, *_ in COLUMNS if k != "fps"}
        row.update(
            method=method,
            fps=_finite(report.throughput(method)),
            overall_f=_finite(report.overall(method)["f_measure"]),
            ranking=_finite(ranking[method]),
            n=len(report.for_method(method)),
        )
        summary.append(row)
    _mark_best(summary, [summary])
    for row in summary:  # lower ranking is better; higher CDnet overall F is better
        for key, higher in (("overall_f", True), ("ranking", False)):
            values = [r[key] for r in summary if r[key] is not None]
            if len(values) > 1:
                best = max(values) if higher else min(values)
                row.setdefault("best", {})[key] = row[key] == best
    rows = [_row(r) for r in report.results]
    by_seq: dict[tuple[str, str, str], list[int]] = {}
    for i, r in enumerate(report.results):
        by_seq.setdefault((str(r.path or ""), r.category, r.sequence), []).append(i)
    _mark_best(rows, [[rows[i] for i in idx] for idx in by_seq.values()])

    charts = Path("charts")
    (out / charts).mkdir(exist_ok=True)
    front = speed_chart(
        [s["method"] for s in summary],
        [math.nan if s["fps"] is None else s["fps"] for s in summary],
        [math.nan if s["overall_f"] is None else s["overall_f"] for s in summary],
        out / charts / "speed.svg",
    )
    for i, s in enumerate(summary):
        s["pareto"] = i in front

    sequences = []
    used: set[str] = set()
    for (_, category, name), idx in by_seq.items():
        sid = slug(f"{category}-{name}")
        while sid in used:
            sid += "_"
        used.add(sid)
        results = [report.results[i] for i in idx]
        sequences.append(_sequence_data(sid, category, name, results, rows, idx, out))
        recorded = [r for r in results if r.media and "counts" in r.media]
        if recorded:
            chart = charts / f"frames-{sid}.svg"
            per_frame_chart(
                [r.method for r in recorded],
                [np.load(r.media["counts"]) for r in recorded],
                f"{category} / {name}: F-measure per frame",
                out / chart,
            )
            sequences[-1]["frames_chart"] = chart.as_posix()
    return {
        "methods": list(report.methods),
        "summary": summary,
        "rows": rows,
        "sequences": sequences,
        "n_categories": len(report.categories),
    }


def _sequence_data(
    sid: str,
    category: str,
    name: str,
    results: list[SequenceResult],
    rows: list[dict[str, Any]],
    idx: list[int],
    out: Path,
) -> dict[str, Any]:
    media_dir = Path("media") / sid
    entries = []
    truth = None
    for r, i in zip(results, idx, strict=True):
        entry: dict[str, Any] = {
            "index": i,
            "method": r.method,
            "f_measure": rows[i]["f_measure"],
        }
        media = r.media or {}
        base = slug(r.method)
        if "video" in media:
            entry["video"] = _place(Path(media["video"]), out, media_dir / f"{base}.mp4")
        if "poster" in media:
            entry["poster"] = _place(Path(media["poster"]), out, media_dir / f"{base}.poster.jpg")
        if "background" in media:
            rel = media_dir / f"{base}.background.jpg"
            entry["background"] = _thumb(Path(media["background"]), out, rel, 320)
        if "counts" in media:
            entry["counts"] = _place(Path(media["counts"]), out, media_dir / f"{base}.counts.npy")
        if "truth" in media:
            if truth is None:
                truth = _thumb(Path(media["truth"]), out, media_dir / "truth.jpg", 320)
            entry["truth"] = truth
        if r.background_metrics:
            entry["background_metrics"] = {k: _finite(v) for k, v in r.background_metrics.items()}
        entries.append(entry)
    return {
        "id": sid,
        "category": category,
        "name": name,
        "entries": entries,
        "truth": truth,
        "has_video": any("video" in e for e in entries),
    }


def _flat(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in params.items():
        if isinstance(v, Mapping) and v:
            out += _flat(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", json.dumps(v, default=str)))
    return out


def _common(kind: str, i: int, path: Path, info: Mapping[str, Any]) -> dict[str, Any]:
    """What every run section shows: its name, method, source and parameters."""
    return {
        "id": f"{kind}-{i:02d}",
        "name": path.name,
        "method": str(info.get("method", "")),
        "source": str(info.get("source", "")),
        "params": _flat(info.get("params") or {}),
    }


def _run_data(i: int, run: SubtractRun, out: Path) -> dict[str, Any]:
    folder = Path("runs") / f"{i:02d}-{slug(run.path.name)}"
    data = _common("run", i, run.path, run.info)
    data["facts"] = [
        (k, _fmt_value(v))
        for k, v in run.info.items()
        if k not in ("params", "outputs", "method") and not isinstance(v, dict | list)
    ]
    if run.video is not None:
        data["video"] = _place(run.video, out, folder / "side_by_side.mp4")
        data["poster"] = _video_poster(run.video, out, folder / "poster.jpg")
    if run.background is not None:
        data["background"] = _place(run.background, out, folder / "background.png")
    return data


def _events_data(i: int, run: EventsRun, out: Path) -> dict[str, Any]:
    folder = Path("events") / f"{i:02d}-{slug(run.path.name)}"
    data = _common("events", i, run.path, run.info)
    data["events"] = []
    if run.timeline is not None:
        data["timeline"] = _place(run.timeline, out, folder / "timeline.png")
    for k, event in enumerate(run.events):
        thumb = event["thumbnail_path"]
        item = {
            "index": event.get("index", k),
            "start": _finite(event.get("start_time")),
            "end": _finite(event.get("end_time")),
            "peak": _finite(event.get("peak_score")),
            "thumbnail": _place(thumb, out, folder / "thumbnails" / thumb.name),
        }
        if "clip_path" in event:
            clip = event["clip_path"]
            item["clip"] = _place(clip, out, folder / "clips" / clip.name)
        data["events"].append(item)
    return data


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


# ---------------------------------------------------------------------- page
def _fmt(value: Any, digits: int) -> str:
    """A table cell: ``value`` to ``digits`` decimals, ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _render(context: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bgmix.viz", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    env.filters["value"] = lambda v: "" if v is None else repr(float(v))
    return env.get_template("index.html.j2").render(**context)


def _copy_assets(out: Path) -> None:
    assets = out / "assets"
    assets.mkdir()
    for name in ("report.css", "report.js"):
        (assets / name).write_bytes(
            resources.files("bgmix.viz").joinpath("static", name).read_bytes()
        )


def _build(
    out: Path,
    report: EvaluationReport | None,
    runs: list[SubtractRun],
    events: list[EventsRun],
    title: str,
) -> EvaluationReport | None:
    """Write the report into the folder ``out``; return the results as published
    (media pointing at the copies in ``out``), or None without an evaluation."""
    from bgmix import __version__

    evaluation = _evaluation_data(report, out) if report is not None else None
    run_data = [_run_data(i, r, out) for i, r in enumerate(runs, 1)]
    event_data = [_events_data(i, e, out) for i, e in enumerate(events, 1)]
    context = {
        "title": title,
        "version": __version__,
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "columns": COLUMNS,
        "evaluation": evaluation,
        "runs": run_data,
        "events": event_data,
        "legend": [(k, "rgb({},{},{})".format(*c)) for k, c in MASK_COLOURS.items()],
    }
    _copy_assets(out)
    (out / "index.html").write_text(_render(context), encoding="utf-8")
    if report is not None:
        published = _published(report, evaluation, out)
        published.to_json(out / "results.json")
        return published
    return None


def _published(report: EvaluationReport, evaluation: dict[str, Any], out: Path) -> EvaluationReport:
    """The results with their media pointing at the report's copies (the video, the
    poster, the counts, and JPEG thumbnails of the backgrounds), so that the report's
    ``results.json`` makes the same report again."""
    media: dict[int, dict[str, str]] = {}
    for seq in evaluation["sequences"]:
        for e in seq["entries"]:
            keys = ("video", "poster", "counts", "background", "truth")
            placed = {k: str(out / e[k]) for k in keys if e.get(k)}
            media[e["index"]] = placed
    results = [
        dataclasses.replace(r, media=media.get(i) or None) for i, r in enumerate(report.results)
    ]
    return EvaluationReport(results, methods=list(report.methods))


def write_report(
    inputs: StrPath | EvaluationReport | Iterable[StrPath | EvaluationReport],
    out_dir: StrPath,
    *,
    overwrite: bool = False,
    title: str = "bgmix report",
) -> Path:
    """Write the HTML report of evaluation results and runs to a new folder.

    Parameters
    ----------
    inputs : path, EvaluationReport, or a list of them
        Evaluation results (the JSON of ``bgmix evaluate -o FILE.json``, or an
        :class:`~bgmix.metrics.EvaluationReport`; several are merged), ``bgmix
        subtract`` output folders and ``bgmix events`` output folders. Results with
        media recorded by ``evaluate(record=...)`` get videos, per-frame plots and
        backgrounds; results without them get the tables and the chart, and the page
        says their videos were not recorded.
    out_dir : path
        The report folder: ``index.html`` with ``assets/`` (CSS, JavaScript),
        ``charts/`` (SVG), ``media/``, ``runs/``, ``events/`` and ``results.json``.
        Media files are hard-linked when they are on the same file system, else copied.
    overwrite : bool, default False
        Replace an existing non-empty ``out_dir`` as a whole (only once the new one is
        complete); without it that is an error.
    title : str
        Title of the page.

    Returns
    -------
    Path
        ``out_dir / "index.html"``.

    Raises
    ------
    SourceNotFoundError, InputError
        See :func:`~bgmix.viz._inputs.load_inputs`; raised before anything is written.
    OutputError
        ``out_dir`` exists and is not empty (without ``overwrite``), or is a file.
    """
    from bgmix._atomic import atomic_directory

    if isinstance(inputs, str | os.PathLike | EvaluationReport):
        inputs = [inputs]
    report, runs, events = load_inputs(list(inputs))
    t0 = time.perf_counter()
    with atomic_directory(out_dir, overwrite=overwrite, what="report folder") as tmp:
        _build(Path(tmp).absolute(), report, runs, events, title)
    logger.info("wrote the report %s in %.1f s", out_dir, time.perf_counter() - t0)
    return Path(out_dir) / "index.html"


def evaluate_report(
    seq_dirs: Any,
    methods: Any,
    params: Mapping[str, Any] | None = None,
    *,
    out_dir: StrPath,
    overwrite: bool = False,
    train: Any = None,
    progress: bool = False,
    source_options: Mapping[str, Any] | None = None,
    title: str = "bgmix evaluation",
) -> EvaluationReport:
    """Evaluate (:func:`bgmix.metrics.evaluate`) and write the HTML report of the run in
    one pass: the media are recorded while the methods stream, inside the report folder.

    Returns the :class:`~bgmix.metrics.EvaluationReport`, whose media paths point into
    ``out_dir/media``. The report folder follows the output rule of
    :func:`write_report`; nothing is left there if the evaluation fails.
    """
    from bgmix._atomic import atomic_directory
    from bgmix.metrics import evaluate

    final = Path(out_dir).absolute()
    with atomic_directory(final, overwrite=overwrite, what="report folder") as tmp:
        tmp = Path(tmp).absolute()
        record = tmp / ".record"
        report = evaluate(
            seq_dirs,
            methods,
            params,
            train=train,
            progress=progress,
            source_options=source_options,
            record=record,
        )
        published = _build(tmp, report, [], [], title)
        shutil.rmtree(record)
    assert published is not None
    for r in published.results:  # point at the published folder
        if r.media:
            r.media = {k: str(final / Path(v).relative_to(tmp)) for k, v in r.media.items()}
    return published
