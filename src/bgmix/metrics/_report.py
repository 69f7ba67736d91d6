"""Evaluation results: one :class:`SequenceResult` per (sequence, method), gathered in
an :class:`EvaluationReport` that averages them the way CDnet does and writes JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bgmix._atomic import atomic_output
from bgmix._typing import StrPath
from bgmix.exceptions import InputError, ParameterError, SourceNotFoundError
from bgmix.metrics._counts import METRIC_NAMES, ConfusionCounts, mean_metrics

__all__ = ["EvaluationReport", "SequenceResult"]

_FORMAT = "bgmix-evaluation"
#: 1: results and summaries; 2: adds each result's recorded ``media`` and
#: ``background_metrics`` (files of version 1 are read as they are).
_FORMAT_VERSION = 2


@dataclass
class SequenceResult:
    """The score of one method on one sequence.

    Attributes
    ----------
    sequence, category : str
        The sequence's name and CDnet category.
    method : str
        Registry name of the method.
    params : dict
        Every parameter of the method as it ran (defaults included), JSON-ready.
    counts : ConfusionCounts
        Pixel counts summed over the evaluated frames.
    n_frames : int
        Frames classified by the method (every input frame, from the first).
    n_evaluated : int
        Frames scored against ground truth.
    seconds : float
        Time spent inside the method (``fit`` and ``apply``); reading and decoding
        images is not included.
    train : None, float, int or "all"
        Training mode, as given to :func:`~bgmix.metrics.evaluate_sequence`.
    n_train : int
        Frames given to ``fit`` before classification (0 when online).
    path : str or None
        The sequence folder.
    media : dict of str to str, or None
        Files recorded by ``evaluate(record=...)``: ``video``, ``poster``, ``counts``,
        ``background`` and, when the true background is known, ``truth``.
    background_metrics : dict or None
        SBMnet's metrics of the final background image against the true background
        (:func:`~bgmix.metrics.background_metrics`), when both were recorded.
    """

    sequence: str
    category: str
    method: str
    params: dict[str, Any]
    counts: ConfusionCounts
    n_frames: int
    n_evaluated: int
    seconds: float
    train: float | int | str | None = None
    n_train: int = 0
    path: str | None = None
    media: dict[str, str] | None = None
    background_metrics: dict[str, float] | None = None

    @property
    def metrics(self) -> dict[str, float]:
        """CDnet metrics from the summed counts (keys of :data:`METRIC_NAMES`)."""
        return self.counts.metrics()

    @property
    def f_measure(self) -> float:
        """Shortcut for ``metrics["f_measure"]``."""
        return self.counts.f_measure

    @property
    def fps(self) -> float:
        """Method throughput: classified frames per second of method time."""
        return self.n_frames / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self, relative_to: StrPath | None = None) -> dict[str, Any]:
        """JSON-ready dict (NaN metrics become None); media paths inside the folder
        ``relative_to`` are written relative to it."""
        out = {
            "sequence": self.sequence,
            "category": self.category,
            "method": self.method,
            "params": self.params,
            "train": self.train,
            "n_train": self.n_train,
            "n_frames": self.n_frames,
            "n_evaluated": self.n_evaluated,
            "seconds": self.seconds,
            "fps": _finite_or_none(self.fps),
            "counts": self.counts.to_dict(),
            "metrics": {k: _finite_or_none(v) for k, v in self.metrics.items()},
            "path": self.path,
        }
        if self.media is not None:
            out["media"] = {k: _relative(v, relative_to) for k, v in self.media.items()}
        if self.background_metrics is not None:
            out["background_metrics"] = _clean(self.background_metrics)
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], relative_to: StrPath | None = None
    ) -> SequenceResult:
        """Inverse of :meth:`to_dict`; metrics are recomputed from the counts, relative
        media paths are taken from ``relative_to``."""
        try:
            media = data.get("media")
            bg = data.get("background_metrics")
            return cls(
                sequence=str(data["sequence"]),
                category=str(data["category"]),
                method=str(data["method"]),
                params=dict(data.get("params") or {}),
                counts=ConfusionCounts.from_dict(data["counts"]),
                n_frames=int(data["n_frames"]),
                n_evaluated=int(data["n_evaluated"]),
                seconds=float(data["seconds"]),
                train=data.get("train"),
                n_train=int(data.get("n_train", 0)),
                path=data.get("path"),
                media=None
                if media is None
                else {k: _absolute(str(v), relative_to) for k, v in media.items()},
                background_metrics=None
                if bg is None
                else {k: math.nan if v is None else float(v) for k, v in bg.items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"not a bgmix sequence result ({type(exc).__name__}: {exc})") from None


@dataclass
class EvaluationReport:
    """Results of several methods on several sequences, with CDnet averaging.

    Attributes
    ----------
    results : list of SequenceResult
        One per (sequence, method), in the order they ran.
    methods : list of str
        Method names in the order given (default: order of first appearance).

    Notes
    -----
    Three summaries per method:

    * :meth:`category_metrics`: for each category, the mean over its sequences of
      each metric (CDnet's category score);
    * :meth:`overall`: the mean over categories of the category scores (CDnet's
      overall score, so that a category with many sequences does not dominate);
    * :meth:`sequence_mean`: the plain mean over all sequences.

    Means skip undefined (NaN) values; see :func:`~bgmix.metrics.mean_metrics`.
    With a single category, :meth:`overall` equals :meth:`sequence_mean`.
    """

    results: list[SequenceResult]
    methods: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.results = list(self.results)
        seen = list(dict.fromkeys(self.methods))
        for r in self.results:
            if r.method not in seen:
                seen.append(r.method)
        self.methods = seen

    # ------------------------------------------------------------------ summaries
    def for_method(self, method: str) -> list[SequenceResult]:
        """Results of one method, in run order."""
        if method not in self.methods:
            raise ParameterError(
                f"the report has no method {method!r}; it has {', '.join(self.methods) or 'none'}"
            )
        return [r for r in self.results if r.method == method]

    @property
    def categories(self) -> list[str]:
        """Category names in order of first appearance."""
        return list(dict.fromkeys(r.category for r in self.results))

    def category_metrics(self, method: str) -> dict[str, dict[str, float]]:
        """``{category: {metric: mean over the category's sequences}}``."""
        rows = self.for_method(method)
        out: dict[str, dict[str, float]] = {}
        for cat in dict.fromkeys(r.category for r in rows):
            out[cat] = mean_metrics(r.metrics for r in rows if r.category == cat)
        return out

    def overall(self, method: str) -> dict[str, float]:
        """CDnet's overall score: the mean over categories of :meth:`category_metrics`."""
        return mean_metrics(self.category_metrics(method).values())

    def sequence_mean(self, method: str) -> dict[str, float]:
        """Mean of each metric over every sequence (categories ignored)."""
        return mean_metrics(r.metrics for r in self.for_method(method))

    def throughput(self, method: str) -> float:
        """Frames per second over all sequences: total frames / total method seconds."""
        rows = self.for_method(method)
        seconds = math.fsum(r.seconds for r in rows)
        return sum(r.n_frames for r in rows) / seconds if seconds > 0 else math.nan

    # ------------------------------------------------------------------ text
    def table(self) -> str:
        """A plain-text table: one line per (sequence, method), then the means.

        Columns: sequence, category, method, F-measure, recall, precision, PWC and
        frames/s (method time only). Below: per method, the mean over sequences
        (frames/s = total frames / total seconds), and when there is more than one
        category, each category's mean and CDnet's overall score (mean over
        categories).
        """
        head = ("sequence", "category", "method", "F", "Recall", "Precision", "PWC", "frames/s")
        rows: list[tuple[str, ...]] = [head]
        for r in self.results:
            m = r.metrics
            rows.append((r.sequence, r.category, r.method, *_cells(m), _fmt(r.fps, 0)))
        summary: list[tuple[str, ...]] = []
        many = len(self.categories) > 1
        for method in self.methods:
            n = len(self.for_method(method))
            summary.append(
                (
                    f"mean of {n} sequence{'s' if n != 1 else ''}",
                    "",
                    method,
                    *_cells(self.sequence_mean(method)),
                    _fmt(self.throughput(method), 0),
                )
            )
            if many:
                for cat, m in self.category_metrics(method).items():
                    summary.append(("category mean", cat, method, *_cells(m), ""))
                k = len(self.category_metrics(method))
                summary.append(
                    (
                        f"CDnet overall ({k} categories)",
                        "",
                        method,
                        *_cells(self.overall(method)),
                        "",
                    )
                )
        widths = [max(len(row[i]) for row in rows + summary) for i in range(len(head))]

        def line(row: tuple[str, ...]) -> str:
            left = [row[i].ljust(widths[i]) for i in range(3)]
            right = [row[i].rjust(widths[i]) for i in range(3, len(head))]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(line(head))
        out = [line(head), rule, *(line(r) for r in rows[1:])]
        if summary:
            out += [rule, *(line(r) for r in summary)]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    # ------------------------------------------------------------------ JSON
    def to_dict(self, relative_to: StrPath | None = None) -> dict[str, Any]:
        """JSON-ready dict: every result, and per method the category, overall and
        sequence means. NaN (undefined) values become None; media paths inside the
        folder ``relative_to`` are written relative to it."""
        from bgmix._version import __version__

        summary = {}
        for method in self.methods:
            summary[method] = {
                "n_sequences": len(self.for_method(method)),
                "sequence_mean": _clean(self.sequence_mean(method)),
                "categories": {c: _clean(m) for c, m in self.category_metrics(method).items()},
                "overall": _clean(self.overall(method)),
                "fps": _finite_or_none(self.throughput(method)),
            }
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "bgmix_version": __version__,
            "metrics": list(METRIC_NAMES),
            "methods": list(self.methods),
            "results": [r.to_dict(relative_to) for r in self.results],
            "summary": summary,
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], relative_to: StrPath | None = None
    ) -> EvaluationReport:
        """Rebuild a report from :meth:`to_dict` output (summaries are recomputed).

        Raises
        ------
        InputError
            ``data`` is not a bgmix evaluation report (another tool's file, or one
            written by a newer bgmix in a format this one does not read).
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise InputError(
                'not a bgmix evaluation report (no "format": "bgmix-evaluation"); '
                "write one with `bgmix evaluate ... -o FILE.json`"
            )
        version = data.get("format_version", 0)
        if not isinstance(version, int) or version > _FORMAT_VERSION:
            raise InputError(
                f"evaluation report format version {version!r} (bgmix "
                f"{data.get('bgmix_version', '?')}) is not one this bgmix reads "
                f"(up to {_FORMAT_VERSION}); use that bgmix version or newer"
            )
        results = data.get("results")
        if not isinstance(results, list):
            raise InputError("evaluation report: 'results' is not a list")
        results = [SequenceResult.from_dict(r, relative_to) for r in results]
        return cls(results, methods=list(data.get("methods", [])))

    def to_json(self, path: StrPath, *, overwrite: bool = False) -> None:
        """Write :meth:`to_dict` as JSON (strict: no NaN) atomically to ``path``
        (missing parents are created; an existing file needs ``overwrite=True``); media
        paths are written relative to the file's folder."""
        from pathlib import Path

        folder = Path(path).absolute().parent
        text = json.dumps(self.to_dict(relative_to=folder), indent=2, allow_nan=False)
        with atomic_output(path, overwrite=overwrite, what="JSON report") as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, path: StrPath) -> EvaluationReport:
        """Read a report written by :meth:`to_json`."""
        from pathlib import Path

        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(f"JSON report {str(p)!r} does not exist")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"JSON report {str(p)!r} is not valid JSON: {exc}") from None
        try:
            return cls.from_dict(data, relative_to=p.absolute().parent)
        except InputError as exc:
            raise InputError(f"JSON report {str(p)!r}: {exc}") from None


def _relative(path: str, folder: StrPath | None) -> str:
    """``path`` relative to ``folder`` when it lies inside it (POSIX separators)."""
    from pathlib import Path

    if folder is None:
        return path
    try:
        return Path(path).absolute().relative_to(Path(folder).absolute()).as_posix()
    except ValueError:
        return path


def _absolute(path: str, folder: StrPath | None) -> str:
    from pathlib import Path

    p = Path(path)
    return str(p if p.is_absolute() or folder is None else Path(folder) / p)


def _finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _clean(metrics: Mapping[str, float]) -> dict[str, float | None]:
    return {k: _finite_or_none(v) for k, v in metrics.items()}


def _fmt(value: float, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _cells(m: Mapping[str, float]) -> tuple[str, str, str, str]:
    return (
        _fmt(m["f_measure"], 3),
        _fmt(m["recall"], 3),
        _fmt(m["precision"], 3),
        _fmt(m["pwc"], 2),
    )
