"""bgmix.parallel on a real LocalCluster of worker processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import bgmix
import bgmix.parallel as bp
from bgmix.metrics import evaluate as serial_evaluate
from tests.parallel.conftest import leftovers, read_masks, write_scene, write_video

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _frames(path: Path) -> np.ndarray:
    return bgmix.read_frames(path)


def test_many_inputs_match_serial_runs_and_rerun_skips(tmp_path: Path, client) -> None:
    videos = [write_video(tmp_path / f"cam{i}.mp4", n=80, seed=i) for i in range(3)]
    out = tmp_path / "out"
    records = bp.subtract(videos, out, scheduler=client, params={"history": 40})
    assert [r["out"] for r in records] == [str(out / f"cam{i}") for i in range(3)]
    assert not any(r["skipped"] for r in records)
    for i, v in enumerate(videos):
        bgmix.subtract(v, tmp_path / f"serial{i}", params={"history": 40}, video=False)
        names, masks = read_masks(out / f"cam{i}" / "masks")
        ref_names, ref = read_masks(tmp_path / f"serial{i}" / "masks")
        assert names == ref_names
        np.testing.assert_array_equal(masks, ref)
        run = json.loads((out / f"cam{i}" / "run.json").read_text())
        assert run["n_frames"] == 80 and run["params"]["n_jobs"] is None
        assert run["outputs"]["video"] == str(out / f"cam{i}" / "side_by_side.mp4")
    assert leftovers(tmp_path) == []
    again = bp.subtract(videos, out, scheduler=client, params={"history": 40})
    assert all(r["skipped"] for r in again)
    (out / "cam1" / "side_by_side.mp4").unlink()
    third = bp.subtract(videos, out, scheduler=client, params={"history": 40})
    assert [r["skipped"] for r in third] == [True, False, True]
    assert (out / "cam1" / "side_by_side.mp4").is_file()
    changed = bp.subtract(videos[:1] + videos[2:], out, scheduler=client, params={"history": 41})
    assert not any(r["skipped"] for r in changed)


def test_segments_of_a_long_video_match_the_sequential_run(tmp_path: Path, client) -> None:
    video = write_video(tmp_path / "long.mp4", n=400)
    params = {"history": 30}
    bgmix.subtract(video, tmp_path / "serial", params=params)
    rec = bp.subtract(video, tmp_path / "seg", scheduler=client, params=params, segments=4)
    assert rec == [{"out": str(tmp_path / "seg"), "skipped": False, "n_frames": 400}]
    names, masks = read_masks(tmp_path / "seg" / "masks")
    ref_names, ref = read_masks(tmp_path / "serial" / "masks")
    assert names == ref_names
    warm = bp.default_warmup("mog2", params)
    assert warm == 60
    np.testing.assert_array_equal(masks[:100], ref[:100])  # the first segment is exact
    assert np.mean(masks[warm:] == ref[warm:]) >= 0.995
    video_frames = _frames(tmp_path / "seg" / "side_by_side.mp4")
    assert len(video_frames) == 400
    assert video_frames.shape[1:] == _frames(tmp_path / "serial" / "side_by_side.mp4").shape[1:]
    run = json.loads((tmp_path / "seg" / "run.json").read_text())
    assert run["n_frames"] == 400 and [s["start"] for s in run["segments"]] == [0, 145, 230, 315]
    assert leftovers(tmp_path) == []
    # the same run in this process gives the same outputs, bit for bit
    bp.subtract(video, tmp_path / "here", params=params, segments=4, video=False)
    np.testing.assert_array_equal(read_masks(tmp_path / "here" / "masks")[1], masks)
    assert bp.subtract(video, tmp_path / "seg", scheduler=client, params=params, segments=4)[0][
        "skipped"
    ]


def test_evaluation_grid_equals_serial_evaluate(tmp_path: Path, client) -> None:
    seqs = [
        write_scene(tmp_path / "data" / "cat" / "base", "baseline"),
        write_scene(tmp_path / "data" / "cat" / "shadows", "shadows", seed=1),
    ]
    grid = {"mog2": {"history": [20, 50]}}
    report = bp.evaluate(tmp_path / "data", ["mog2", "running-mean"], grid=grid, scheduler=client)
    assert report.methods == ["mog2[history=20]", "mog2[history=50]", "running-mean"]
    here = bp.evaluate(tmp_path / "data", ["mog2", "running-mean"], grid=grid)
    for h in (20, 50):
        serial = serial_evaluate(seqs, "mog2", {"history": h})
        got = report.for_method(f"mog2[history={h}]")
        assert [r.f_measure for r in got] == [r.f_measure for r in serial.results]
        assert [r.counts.to_dict() for r in got] == [r.counts.to_dict() for r in serial.results]
    serial = serial_evaluate(seqs, ["running-mean"])
    assert [r.f_measure for r in report.for_method("running-mean")] == [
        r.f_measure for r in serial.results
    ]

    def strip(d):
        for r in d["results"]:
            r.pop("seconds"), r.pop("fps")
        for m in d["summary"].values():
            m.pop("fps")
        return d

    assert strip(report.to_dict()) == strip(here.to_dict())
    plain = bp.evaluate(seqs, ["mog2", "running-mean"], scheduler=client)
    serial = serial_evaluate(seqs, ["mog2", "running-mean"])
    assert strip(plain.to_dict()) == strip(serial.to_dict())


def test_evaluation_cache_skips_finished_units(tmp_path: Path, client) -> None:
    seq = write_scene(tmp_path / "cat" / "shadows", "shadows", seed=1)
    cache = tmp_path / "cache"
    first = bp.evaluate(seq, "mog2", scheduler=client, cache=cache)
    files = sorted(cache.iterdir())
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = bp.evaluate(seq, "mog2", scheduler=client, cache=cache)
    assert files[0].stat().st_mtime_ns == stamp
    assert again.to_dict()["results"] == first.to_dict()["results"]
    assert 0 < first.results[0].f_measure <= 1
    bp.evaluate(seq, "mog2", {"history": 33}, scheduler=client, cache=cache)
    assert len(list(cache.iterdir())) == 2


def _writing(root: Path) -> bool:
    """Whether a temporary output (``*.partial*``) exists under ``root``."""
    try:
        return any(".partial" in p.name for p in root.rglob("*"))
    except OSError:  # a folder renamed or removed during the scan
        return False


def _kill_when_writing(client, root: Path, killed: list[int]) -> None:
    """Wait until a task is writing (a temporary output exists), then SIGKILL the
    worker process running it."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy and _writing(root):
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(pids[busy[0]])
            return
        time.sleep(0.02)


def test_a_worker_killed_mid_task_loses_nothing(tmp_path: Path, client) -> None:
    video = write_video(tmp_path / "long.mp4", n=600)
    params = {"history": 30}
    bp.subtract(video, tmp_path / "clean", params=params, segments=4)
    out = tmp_path / "run"
    out.mkdir()
    killed: list[int] = []
    killer = threading.Thread(target=_kill_when_writing, args=(client, out, killed))
    killer.start()
    bp.subtract(video, out / "seg", scheduler=client, params=params, segments=4)
    killer.join()
    assert killed, "no worker was killed: the test did not exercise a failure"
    assert killed[0] not in client.run(os.getpid).values()
    names, masks = read_masks(out / "seg" / "masks")
    ref_names, ref = read_masks(tmp_path / "clean" / "masks")
    assert names == ref_names
    np.testing.assert_array_equal(masks, ref)
    np.testing.assert_array_equal(
        _frames(out / "seg" / "side_by_side.mp4"), _frames(tmp_path / "clean" / "side_by_side.mp4")
    )
    assert (out / "seg" / "background.png").read_bytes() == (
        tmp_path / "clean" / "background.png"
    ).read_bytes()
    assert leftovers(tmp_path) == []


def test_unreachable_scheduler_is_one_error_naming_the_address(tmp_path: Path) -> None:
    video = write_video(tmp_path / "a.mp4", n=10)
    t0 = time.monotonic()
    with pytest.raises(bp.SchedulerError, match=r"tcp://127\.0\.0\.1:9"):
        bp.subtract(video, tmp_path / "o", scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "o").exists()


def test_interrupt_leaves_nothing_half_written(tmp_path: Path, monkeypatch) -> None:
    video = write_video(tmp_path / "a.mp4", n=120)
    calls = []

    def interrupt(mask):
        calls.append(1)
        if len(calls) == 50:
            raise KeyboardInterrupt
        return 0.0

    monkeypatch.setattr("bgmix.parallel._segments.foreground_fraction", interrupt)
    with pytest.raises(KeyboardInterrupt):
        bp.subtract(video, tmp_path / "o", params={"history": 10}, segments=2)
    assert not (tmp_path / "o").exists()
    assert [p for p in leftovers(tmp_path) if "partial" in p] == []
    shutil.rmtree(tmp_path / ".o.bgmix-parts", ignore_errors=True)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_on_a_local_cluster_leaves_nothing_half_written(tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", n=600)
    out = tmp_path / "run"
    out.mkdir()

    def interrupt_when_writing() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if _writing(out):
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends
                return
            time.sleep(0.02)

    threading.Thread(target=interrupt_when_writing, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        bp.subtract(video, out / "seg", scheduler="local:2", params={"history": 30}, segments=2)
    assert not (out / "seg").exists()
    assert [p for p in leftovers(tmp_path) if "partial" in p] == []


def test_public_subtract_and_evaluate_take_a_scheduler(tmp_path: Path, client) -> None:
    video = write_video(tmp_path / "a.mp4", n=120)
    summary = bgmix.subtract(video, tmp_path / "o", params={"history": 20}, scheduler=client)
    assert summary.n_frames == 120 and summary.method == "mog2"
    assert summary.outputs["mask_video"] == str(tmp_path / "o" / "masks.mov")
    assert len(read_masks(tmp_path / "o" / "masks")[0]) == 120
    seq = write_scene(tmp_path / "cat" / "s", "shadows", seed=1)
    there = bgmix.evaluate(seq, ["mog2", "running-mean"], scheduler=client)
    here = bgmix.evaluate(seq, ["mog2", "running-mean"])
    assert [r.counts.to_dict() for r in there.results] == [r.counts.to_dict() for r in here.results]
    with pytest.raises(bgmix.exceptions.ParameterError, match="method name"):
        bgmix.subtract(
            video, tmp_path / "p", method=bgmix.make_subtractor("mog2"), scheduler=client
        )
