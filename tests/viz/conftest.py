"""Fixtures of the report tests: a small synthetic evaluation recorded into a report,
a ``bgmix subtract`` run and a fabricated ``bgmix events`` run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

METHODS = ["opencv-mog2", "running-mean"]


def write_sequences(root: Path) -> list[Path]:
    """Two short synthetic sequences in CDnet layout (with the true background)."""
    from bgmix.synthetic import generate, write_sequence

    out = []
    for kind in ("baseline", "shadows"):
        folder = root / "synthetic" / kind
        folder.parent.mkdir(parents=True, exist_ok=True)
        write_sequence(generate(kind, width=96, height=72, n_frames=90, seed=0), folder)
        out.append(folder)
    return out


def fabricate_events(folder: Path, n: int = 3) -> Path:
    """A ``bgmix events`` output folder in its documented layout: events.json,
    timeline.png, ``thumbnails/event_NNN.jpg`` and ``clips/event_NNN.mp4``."""
    from PIL import Image

    import bgmix

    (folder / "thumbnails").mkdir(parents=True)
    (folder / "clips").mkdir()
    Image.fromarray(np.full((60, 400, 3), 200, np.uint8)).save(folder / "timeline.png")
    events = []
    for i in range(n):
        thumb = np.zeros((48, 64, 3), np.uint8)
        thumb[10:30, 5 + 10 * i : 25 + 10 * i] = 255
        Image.fromarray(thumb).save(folder / "thumbnails" / f"event_{i:03d}.jpg")
        with bgmix.open_sink(folder / "clips" / f"event_{i:03d}.mp4", fps=25) as sink:
            for t in range(10):
                frame = np.zeros((48, 64, 3), np.uint8)
                frame[:, 3 * t : 3 * t + 8] = 200
                sink.write(frame)
        events.append(
            {
                "index": i,
                "start_frame": 50 * i,
                "end_frame": 50 * i + 30,
                "start_time": 2.0 * i,
                "end_time": 2.0 * i + 1.2,
                "peak_score": 0.1 * (i + 1),
                "peak_frame": 50 * i + 10,
                "bbox": [5, 10, 20, 20],
                "clip": f"clips/event_{i:03d}.mp4",
            }
        )
    info = {
        "source": "street.mp4",
        "fps": 25.0,
        "frames": 200,
        "method": "mog2",
        "params": {"min_event_len": 10},
        "events": events,
    }
    (folder / "events.json").write_text(json.dumps(info), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def report_inputs(tmp_path_factory):
    """A recorded evaluation (2 sequences x 2 methods), its JSON, a subtract run and an
    events run."""
    import bgmix
    from bgmix.viz import evaluate_report

    root = tmp_path_factory.mktemp("report-inputs")
    seqs = write_sequences(root)
    evaluation = evaluate_report(seqs, METHODS, out_dir=root / "evaluated")
    evaluation.to_json(root / "results.json")
    run = root / "run"
    bgmix.subtract(seqs[0] / "input", run, method="running-mean")
    events = fabricate_events(root / "events")
    return {
        "root": root,
        "sequences": seqs,
        "json": root / "results.json",
        "evaluated": root / "evaluated",
        "run": run,
        "events": events,
    }


@pytest.fixture(scope="session")
def full_report(report_inputs, tmp_path_factory):
    """A report of everything: the evaluation, the subtract run and the events run."""
    from bgmix.viz import write_report

    out = tmp_path_factory.mktemp("report") / "report"
    write_report(
        [report_inputs["json"], report_inputs["run"], report_inputs["events"]],
        out,
        title="bgmix synthetic report",
    )
    return out
