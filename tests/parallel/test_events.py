"""bgmix.parallel.events and ``bgmix events --scheduler`` on a real LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bgmix
import bgmix.parallel as bp
from bgmix.events import detect_events
from bgmix.events._outputs import write_outputs
from bgmix.exceptions import ParameterError
from bgmix.synthetic import generate
from tests._cli._run import run
from tests.parallel.conftest import leftovers

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

#: Events options of these tests: the busy-cell test off (its 30 s window is longer
#: than the videos), everything else the defaults.
OPTIONS = {"busy_window": 0}
PARAMS = {"history": 30}


def scene_video(path: Path, n: int = 600, seed: int = 1, rate: float = 1.0) -> Path:
    """A synthetic street (160x120, H.264, 25 frames/s) where objects come and go."""
    frames, _ = generate(
        "baseline", width=160, height=120, n_frames=n, seed=seed, object_rate=rate,
        speed_scale=2.0,
    ).to_arrays()  # fmt: skip
    with bgmix.open_sink(path, fps=25) as sink:
        for f in frames:
            sink.write(f)
    return path


def _serial(video: Path, folder: Path, method: str = "mog2", params=PARAMS, **options) -> dict:
    found = detect_events(video, method, params=params, **OPTIONS, **options)
    write_outputs(found, folder)
    return json.loads((folder / "events.json").read_text())


def _doc(folder: Path) -> dict:
    return json.loads((folder / "events.json").read_text())


def _spans(doc: dict) -> list[tuple]:
    return [(e["start_frame"], e["end_frame"], e["peak_frame"]) for e in doc["events"]]


def test_many_inputs_equal_the_serial_runs_and_rerun_skips(tmp_path: Path, client) -> None:
    videos = [scene_video(tmp_path / f"cam{i}.mp4", n=200, seed=i) for i in range(3)]
    out = tmp_path / "out"
    records = bp.events(videos, out, scheduler=client, params=PARAMS, **OPTIONS)
    assert [r["out"] for r in records] == [str(out / f"cam{i}") for i in range(3)]
    assert not any(r["skipped"] for r in records)
    for i, v in enumerate(videos):
        ref = _serial(v, tmp_path / f"serial{i}")
        assert _doc(out / f"cam{i}") == ref  # events, scores' source, parameters, clips
        assert records[i]["events"] == len(ref["events"]) and records[i]["frames"] == 200
        names = {p.name for p in (tmp_path / f"serial{i}").iterdir()}
        assert {p.name for p in (out / f"cam{i}").iterdir()} == names | {".bgmix-unit.json"}
        assert (out / f"cam{i}" / "scores.csv").read_text() == (
            tmp_path / f"serial{i}" / "scores.csv"
        ).read_text()
    assert sum(r["events"] for r in records) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert [s["folder"] for s in summary] == ["cam0", "cam1", "cam2"]
    assert leftovers(tmp_path) == []
    again = bp.events(videos, out, scheduler=client, params=PARAMS, **OPTIONS)
    assert all(r["skipped"] for r in again)
    assert [r["events"] for r in again] == [r["events"] for r in records]
    (out / "cam1" / "events.csv").unlink()
    third = bp.events(videos, out, scheduler=client, params=PARAMS, **OPTIONS)
    assert [r["skipped"] for r in third] == [True, False, True]
    assert (out / "cam1" / "events.csv").is_file()
    changed = bp.events(videos, out, scheduler=client, params=PARAMS, threshold=0.002, **OPTIONS)
    assert not any(r["skipped"] for r in changed)


def test_segments_give_the_serial_events_and_one_event_across_a_border(
    tmp_path: Path, client
) -> None:
    video = scene_video(tmp_path / "long.mp4")
    ref = _serial(video, tmp_path / "serial")
    rec = bp.events(
        video, tmp_path / "seg", scheduler=client, params=PARAMS, segments=4, warmup=150, **OPTIONS
    )
    assert rec[0]["skipped"] is False and rec[0]["frames"] == 600
    doc = _doc(tmp_path / "seg")
    assert doc["frames"] == 600 and doc["sources"] == ref["sources"]
    assert _spans(doc) == _spans(ref) and _spans(ref)
    borders = [a for _, a, _ in bp.plan_segments(0, 600, 4, 150)][1:]
    assert borders == [262, 375, 487]
    assert any(e["start_frame"] < b <= e["end_frame"] for e in doc["events"] for b in borders)
    for a, b in zip(doc["events"], ref["events"], strict=True):
        assert a["peak_score"] == pytest.approx(b["peak_score"], rel=0.02)
        assert (tmp_path / "seg" / a["clip"]).is_file() and (tmp_path / "seg" / a["thumbnail"])
    # the first segment is the serial run exactly; later ones after their warm-up
    ours = np.loadtxt(tmp_path / "seg" / "scores.csv", delimiter=",", skiprows=1)
    theirs = np.loadtxt(tmp_path / "serial" / "scores.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(ours[:150], theirs[:150])
    np.testing.assert_array_equal(ours[:, 0], np.arange(600))
    assert np.mean(np.abs(ours[:, 2] - theirs[:, 2]) < 1e-6) >= 0.95
    assert leftovers(tmp_path) == []
    # in this process: the same outputs; a rerun skips every segment
    bp.events(video, tmp_path / "here", params=PARAMS, segments=4, warmup=150, **OPTIONS)
    assert _doc(tmp_path / "here")["events"] == doc["events"]
    again = bp.events(
        video, tmp_path / "seg", scheduler=client, params=PARAMS, segments=4, warmup=150, **OPTIONS
    )
    assert again[0]["skipped"] is True and again[0]["events"] == len(doc["events"])


def test_frame_difference_segments_equal_the_serial_scores(tmp_path: Path, client) -> None:
    """A model that remembers one frame, after a warm-up longer than the scorer's memory:
    every score, and so every event, equals the serial run's."""
    video = scene_video(tmp_path / "v.mp4", n=300, rate=2.0)
    ref = _serial(video, tmp_path / "serial", "frame-difference", {}, start=20, stop=280)
    bp.events(
        video, tmp_path / "seg", scheduler=client, method="frame-difference",
        segments=3, warmup=60, start=20, stop=280, **OPTIONS,
    )  # fmt: skip
    assert _doc(tmp_path / "seg")["events"] == ref["events"] and ref["events"]
    assert (tmp_path / "seg" / "scores.csv").read_text() == (
        tmp_path / "serial" / "scores.csv"
    ).read_text()


def test_bad_arguments_fail_before_any_task(tmp_path: Path) -> None:
    video = scene_video(tmp_path / "v.mp4", n=20)
    with pytest.raises(ParameterError, match="treshold"):
        bp.events(video, tmp_path / "o", treshold=0.1)
    with pytest.raises(ParameterError, match="online method"):
        bp.events(video, tmp_path / "o", method="svd", segments=2)
    with pytest.raises(ParameterError, match="timeline"):
        bp.events([video, video], tmp_path / "o", timeline=True, segments=2)
    assert not (tmp_path / "o").exists()


def test_default_warmup_covers_the_model_and_the_busy_cells() -> None:
    from bgmix.parallel._event_units import events_warmup

    assert events_warmup("mog2", {}, 750) == 1500
    assert events_warmup("mog2", {"history": 900}, 750) == 1800


def test_cli_scheduler_many_inputs_and_segments(tmp_path: Path, cluster) -> None:
    videos = [scene_video(tmp_path / f"v{i}.mp4", n=150, seed=i, rate=3.0) for i in range(2)]
    common = ("-p", "history=30", "--post", "10", "--no-clips", "--no-thumbnails")
    address = cluster.scheduler_address
    result = run("events", *videos, "-o", tmp_path / "out", *common, "--scheduler", address)
    assert result.exit_code == 0, result.output
    serial = run("events", *videos, "-o", tmp_path / "serial", *common, "-q")
    assert serial.exit_code == 0, serial.output
    for name in ("v0", "v1"):
        a = json.loads((tmp_path / "out" / name / "events.json").read_text())
        b = json.loads((tmp_path / "serial" / name / "events.json").read_text())
        assert a["events"] == b["events"] and a["params"] == b["params"]
        assert a["events"]
    assert result.stdout.split()[:3] == serial.stdout.split()[:3]  # "N events ->"
    again = run("events", *videos, "-o", tmp_path / "out", *common, "--scheduler", address)
    assert again.exit_code == 0 and again.stderr.count("skipped") == 2, again.output
    seg = run("events", videos[0], "-o", tmp_path / "seg", *common, "--scheduler", address,
              "--segments", "2", "--warmup", "40", "-q")  # fmt: skip
    assert seg.exit_code == 0, seg.output
    assert json.loads((tmp_path / "seg" / "events.json").read_text())["frames"] == 150
    assert leftovers(tmp_path) == []
