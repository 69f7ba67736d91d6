"""Scoring detected motion events against the true ones (issue 11's benchmark).

Importable (:func:`match_events`, :func:`score_video`, :func:`totals`) and a command::

    .venv/bin/python benchmarks/events_score.py VIDEO events.json [--pre F --post F]

``VIDEO`` is a video of the manifest (its name such as ``light_0``, or its path), or a
JSON file holding one manifest entry; ``events.json`` is what ``bgmix events`` writes
(any file with ``"events": [{"start_frame", "end_frame"}, ...]``).

The rule, identical for every tool:

1. **Ranges.** A true event is the inclusive frame range of the activity, without
   padding. A predicted event is the inclusive range the tool reports
   (``start_frame``..``end_frame``), its pre/post padding included: both tools pad,
   and a detector is judged on the events it hands to the user.
2. **Matching.** A prediction and a true event may be paired when their ranges share
   at least one frame. The pairing is one-to-one and of maximum cardinality; among
   the maximum pairings, the one with the largest sum of temporal IoU
   (Hungarian algorithm on weight ``K + IoU`` for overlapping pairs, ``K`` larger than
   any sum of IoUs). So one prediction spanning two true events counts one TP and one
   FN; one true event split into two predictions counts one TP and one FP.
3. **Counts.** TP = pairs, FP = unpaired predictions, FN = unpaired true events.
   Precision = TP / (TP + FP), recall = TP / (TP + FN), F = their harmonic mean
   (precision is 1 without predictions, recall 1 without true events). Families and
   pools add the counts of their videos first (micro-average).
4. **Timing errors** over the pairs, in frames: signed and absolute start and end
   errors of the reported (padded) range (``raw``), and of the *core*, the reported
   range minus the tool's configured padding (``start + pre``, ``end - post``; the
   tool's own numbers, passed by the caller), which is what compares with the
   activity. Mean temporal IoU of the pairs (raw range) too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["match_events", "prf", "score_video", "totals"]


def _overlap(a: Sequence[int], b: Sequence[int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)


def _iou(a: Sequence[int], b: Sequence[int]) -> float:
    inter = _overlap(a, b)
    union = (a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter
    return inter / union if union > 0 else 0.0


def match_events(
    truth: Sequence[Sequence[int]], pred: Sequence[Sequence[int]]
) -> list[tuple[int, int]]:
    """One-to-one pairs ``(i_truth, j_pred)`` of overlapping ranges (inclusive frames):
    maximum cardinality, then maximum total IoU.

    >>> match_events([[10, 20], [40, 50]], [[5, 60]])    # one prediction spans two
    [(0, 0)]
    >>> match_events([[10, 50]], [[8, 20], [30, 55]])    # a true event split in two
    [(0, 1)]
    >>> match_events([[10, 20], [21, 30]], [[15, 25], [29, 40]])  # cardinality first
    [(0, 0), (1, 1)]
    >>> match_events([[10, 20]], [[21, 30]])              # touching is not overlapping
    []
    """
    if not len(truth) or not len(pred):
        return []
    from scipy.optimize import linear_sum_assignment

    big = float(min(len(truth), len(pred)) + 1)
    w = np.zeros((len(truth), len(pred)))
    for i, t in enumerate(truth):
        for j, p in enumerate(pred):
            if _overlap(t, p) > 0:
                w[i, j] = big + _iou(t, p)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return sorted((int(i), int(j)) for i, j in zip(rows, cols, strict=True) if w[i, j] > 0)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F (precision 1 with no prediction, recall 1 with no truth).

    >>> [round(x, 3) for x in prf(3, 1, 2)]
    [0.75, 0.6, 0.667]
    >>> prf(0, 0, 0)
    (1.0, 1.0, 1.0)
    """
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def predicted_ranges(events_json: dict[str, Any]) -> list[list[int]]:
    """``[start_frame, end_frame]`` of every event of an ``events.json`` document."""
    return [[int(e["start_frame"]), int(e["end_frame"])] for e in events_json["events"]]


def score_video(
    truth: Sequence[Sequence[int]],
    pred: Sequence[Sequence[int]],
    *,
    pre: int = 0,
    post: int = 0,
) -> dict[str, Any]:
    """Counts, P/R/F and timing errors of one video (see the module docstring).

    Parameters
    ----------
    truth, pred : sequences of [start, end]
        Inclusive frame ranges: the true activity and the reported (padded) events.
    pre, post : int
        The tool's configured padding in frames, removed from a reported range to
        get its core (``[start + pre, end - post]``, kept non-empty).

    Returns
    -------
    dict
        ``tp, fp, fn, precision, recall, f``; the per-pair lists ``start_err_raw``,
        ``end_err_raw``, ``start_err_core``, ``end_err_core`` (signed frames,
        predicted minus true) and ``iou``; ``pairs``.

    >>> s = score_video([[100, 150]], [[70, 190]], pre=30, post=40)
    >>> s["tp"], s["start_err_raw"], s["start_err_core"], s["end_err_core"]
    (1, [-30], [0], [0])
    """
    pairs = match_events(truth, pred)
    tp = len(pairs)
    p, r, f = prf(tp, len(pred) - tp, len(truth) - tp)
    out: dict[str, Any] = {
        "tp": tp,
        "fp": len(pred) - tp,
        "fn": len(truth) - tp,
        "precision": p,
        "recall": r,
        "f": f,
        "pairs": [list(x) for x in pairs],
        "start_err_raw": [],
        "end_err_raw": [],
        "start_err_core": [],
        "end_err_core": [],
        "iou": [],
    }
    for i, j in pairs:
        (ts, te), (ps, pe) = truth[i], pred[j]
        cs = min(ps + pre, pe)
        ce = max(pe - post, cs)
        out["start_err_raw"].append(int(ps - ts))
        out["end_err_raw"].append(int(pe - te))
        out["start_err_core"].append(int(cs - ts))
        out["end_err_core"].append(int(ce - te))
        out["iou"].append(round(_iou(truth[i], pred[j]), 4))
    return out


def totals(scores: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Pool per-video scores: summed counts, micro P/R/F, mean errors over all pairs.

    >>> a = score_video([[10, 20]], [[5, 25]], pre=5, post=5)
    >>> b = score_video([[10, 20]], [[40, 50]])
    >>> t = totals([a, b])
    >>> t["tp"], t["fp"], t["fn"], round(t["f"], 3), t["mae_start_core"]
    (1, 1, 1, 0.5, 0.0)
    """
    scores = list(scores)
    tp = sum(s["tp"] for s in scores)
    fp = sum(s["fp"] for s in scores)
    fn = sum(s["fn"] for s in scores)
    p, r, f = prf(tp, fp, fn)
    out: dict[str, Any] = {"videos": len(scores), "tp": tp, "fp": fp, "fn": fn}
    out |= {"precision": p, "recall": r, "f": f}
    for key in ("start_err_raw", "end_err_raw", "start_err_core", "end_err_core"):
        errs = np.array([e for s in scores for e in s[key]], float)
        name = key.replace("_err", "")
        out[f"mae_{name}"] = float(np.abs(errs).mean()) if errs.size else None
        out[f"bias_{name}"] = float(errs.mean()) if errs.size else None
    ious = [x for s in scores for x in s["iou"]]
    out["mean_iou"] = float(np.mean(ious)) if ious else None
    return out


# --------------------------------------------------------------------------- command
def _entry(arg: str, manifest: Path | None) -> dict[str, Any]:
    p = Path(arg)
    if p.suffix == ".json" and p.exists():
        doc = json.loads(p.read_text())
        if "events" in doc and "frames" in doc:
            return doc
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from events_data import load_manifest

    for v in load_manifest(manifest)["videos"]:
        if arg in (v["name"], v["path"]) or (
            p.exists() and Path(v["path"]).resolve() == p.resolve()
        ):
            return v
    raise SystemExit(f"error: {arg!r} is neither a manifest entry file nor a video of the manifest")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Score an events.json against a test video's truth.")
    ap.add_argument("video", help="manifest video name or path, or a JSON file of one entry")
    ap.add_argument("events", type=Path, help="events.json written by the detector")
    ap.add_argument("--manifest", type=Path, default=None)
    ap.add_argument("--pre", type=int, default=0, help="the detector's pre-padding, frames")
    ap.add_argument("--post", type=int, default=0, help="the detector's post-padding, frames")
    args = ap.parse_args(argv)
    entry = _entry(args.video, args.manifest)
    pred = predicted_ranges(json.loads(args.events.read_text()))
    s = score_video(entry["events"], pred, pre=args.pre, post=args.post)
    s = totals([s]) | {"pairs": s["pairs"], "truth": entry["events"], "pred": pred}
    print(json.dumps(s, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
