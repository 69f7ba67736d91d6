"""Units of work: pure, idempotent functions of a small dict (paths and parameters)
that return a small dict. They run on a Dask worker or in this process alike.

Each unit reads its input from a path and publishes its output by atomic rename
(:mod:`bgmix._atomic`), with a manifest (:mod:`bgmix.parallel._manifest`), so that a
unit run twice (a worker killed mid-task, a rerun of the command) does no harm and a
finished unit is not run again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bgmix._atomic import atomic_directory, atomic_output
from bgmix.parallel._manifest import (
    identity,
    is_complete,
    remove_stale,
    unit_key,
    write_manifest,
)

__all__ = ["evaluate_unit", "subtract_unit", "worker_params"]


def worker_params(method: str, params: dict[str, Any], threads: int | None) -> dict[str, Any]:
    """The method's parameters as a worker runs them: with ``threads`` set (one per
    worker process on a cluster, so that the workers do not oversubscribe the CPUs),
    the kernels' ``n_jobs`` becomes ``threads`` unless the user set it, and OpenCV runs
    single-threaded."""
    if threads is None:
        return dict(params)
    from bgmix.background import make_subtractor

    out = dict(params)
    if "n_jobs" in make_subtractor(method, **params).get_params() and "n_jobs" not in params:
        out["n_jobs"] = threads
    if method.startswith("opencv"):
        import cv2

        cv2.setNumThreads(threads)
    return out


def _user_params(recorded: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``recorded`` with ``n_jobs`` as the user gave it (None: the default)."""
    out = dict(recorded)
    if "n_jobs" in out:
        out["n_jobs"] = given.get("n_jobs")
    return out


def subtract_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """``bgmix.subtract`` of one input into its own output folder, published whole.

    The folder appears complete (masks, video, background, ``run.json`` and the
    manifest) or not at all; a folder already holding the same unit is left as is.
    """
    from bgmix.pipeline import subtract

    out = Path(unit["out"])
    record = {"input": identity(unit["src"]), "task": unit["task"]}
    if is_complete(out, record):
        return {"out": str(out), "skipped": True}
    remove_stale(out)
    if unit.get("make_parent"):
        out.parent.mkdir(parents=True, exist_ok=True)
    params = worker_params(unit["method"], unit["params"], unit.get("threads"))
    with atomic_directory(out, overwrite=True) as tmp:  # the manifest said: incomplete
        summary = subtract(
            unit["src"],
            tmp,
            method=unit["method"],
            params=params,
            train=unit.get("train"),
            masks=unit["masks"],
            video=unit["video"],
            background=unit["background"],
            fps=unit.get("fps"),
            source_options=unit.get("source_options"),
        )
        run = tmp / "run.json"
        data = json.loads(run.read_text(encoding="utf-8"))
        data["params"] = _user_params(data["params"], unit["params"])
        data["outputs"] = {k: str(out / Path(v).name) for k, v in data["outputs"].items()}
        run.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        names = [Path(v).name for v in data["outputs"].values()]
        write_manifest(tmp, record, names)
    return {
        "out": str(out),
        "skipped": False,
        "n_frames": summary.n_frames,
        "seconds": summary.model_seconds,
    }


def evaluate_unit(unit: dict[str, Any]) -> list[dict[str, Any]]:
    """Score some (method, parameters) points on one sequence, decoding it once; returns
    one :meth:`SequenceResult.to_dict` per point, with ``method`` set to its label.

    With ``unit["cache"]`` (a folder), each point's result is also stored there under a
    key of the sequence's identity and the parameters, and stored results are returned
    without running again.
    """
    from bgmix._progress import progress_bar
    from bgmix.metrics import read_sequence
    from bgmix.metrics._evaluate import _frame_options, _MethodSpec, _run_sequence

    points = unit["points"]
    targets: list[Path | None] = [None] * len(points)
    done: list[dict[str, Any] | None] = [None] * len(points)
    if unit.get("cache") is not None:
        seq_id = identity(unit["seq"])
        for i, p in enumerate(points):
            key = unit_key({"input": seq_id, "task": dict(unit["task"], **p)})
            targets[i] = Path(unit["cache"]) / f"{key}.json"
            try:
                done[i] = json.loads(targets[i].read_text(encoding="utf-8"))
            except (OSError, ValueError):
                remove_stale(targets[i])
    todo = [i for i, d in enumerate(done) if d is None]
    if todo:
        from bgmix.background import make_subtractor

        sequence = read_sequence(unit["seq"], category=unit.get("category"))
        specs = []
        for i in todo:
            p = points[i]
            kw = worker_params(p["method"], p["params"], unit.get("threads"))
            specs.append(
                _MethodSpec(p["label"], lambda m=p["method"], kw=kw: make_subtractor(m, **kw))
            )
        with progress_bar(None, "evaluate", enabled=False) as bar:
            results = _run_sequence(sequence, specs, unit.get("train"), bar, _frame_options(None))
        for i, result in zip(todo, results, strict=True):
            data = result.to_dict()
            data["params"] = _user_params(data["params"], points[i]["params"])
            done[i] = data
            if targets[i] is not None:
                with atomic_output(targets[i], what="cached evaluation result") as tmp:
                    tmp.write_text(json.dumps(data), encoding="utf-8")
    return [d for d in done if d is not None]
