"""`bgmix events` end to end, in-process."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from bgmix._cli import cli
from tests.events.scenes import count_frames, scene, write_mp4


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("cams")
    write_mp4(np.concatenate([scene(cross=None), scene(cross=(0, 40))]), d / "cam1.mp4", gop=25)
    write_mp4(scene(cross=None, seed=3), d / "cam2.mp4", gop=25)
    write_mp4(scene(n=10, cross=None)[:, :96, :128], d / "small.mp4")
    return d


def invoke(*args):
    return CliRunner().invoke(cli, ["events", *map(str, args)])


def test_one_video_writes_every_output(videos, tmp_path):
    out = tmp_path / "out"
    r = invoke(videos / "cam1.mp4", "-o", out, "-q", "--pre", "10", "--post", "0.4s")
    assert r.exit_code == 0, r.output
    assert "1 events" in r.output
    doc = json.loads((out / "events.json").read_text())
    (e,) = doc["events"]
    assert e["motion_start"] - e["start_frame"] == 10 and e["end_frame"] - e["motion_end"] == 10
    assert doc["params"]["pre"] == "10" and doc["params"]["post"] == "0.4s"
    assert count_frames(out / e["clip"]) >= e["end_frame"] - e["start_frame"] + 1
    assert (out / e["thumbnail"]).is_file() and (out / "timeline.png").is_file()
    assert (out / "scores.csv").is_file() and (out / "events.csv").is_file()


def test_options_reach_the_detector(videos, tmp_path):
    out = tmp_path / "out"
    r = invoke(videos / "cam1.mp4", "-o", out, "-q", "--threshold", "0.5", "--no-clips",
               "--no-thumbnails", "-m", "opencv-mog2", "-p", "history=100")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "events.json").read_text())
    assert doc["events"] == [] and doc["method"] == "opencv-mog2"
    assert doc["params"]["threshold"] == 0.5 and doc["params"]["model"]["history"] == 100
    assert not (out / "clips").exists()


def test_folder_of_videos_file_by_file(videos, tmp_path):
    out = tmp_path / "out"
    r = invoke(videos / "cam*.mp4", "-o", out, "-q", "--no-clips")
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert [s["events"] for s in summary] == [1, 0]
    assert (out / "cam1" / "events.json").is_file() and (out / "cam2" / "events.json").is_file()


def test_several_files_as_one_timeline(videos, tmp_path):
    out = tmp_path / "out"
    r = invoke(videos / "cam2.mp4", videos / "cam1.mp4", "--timeline", "-o", out, "-q",
               "--pre", "0", "--post", "0")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "events.json").read_text())
    assert doc["frames"] == 450 and len(doc["source"]) == 2
    (e,) = doc["events"]
    assert 300 <= e["motion_start"] <= 303
    rows = list(csv.DictReader((out / "events.csv").read_text().splitlines()))
    assert rows[0]["start_time"] == "00:00:%06.3f" % (e["start_frame"] / 25)
    assert (out / e["clip"]).is_file()


def test_timeline_of_different_sizes_is_a_clear_error(videos, tmp_path):
    r = invoke(videos / "cam2.mp4", videos / "small.mp4", "--timeline", "-o", tmp_path / "o")
    assert r.exit_code == 1
    assert "bgmix: error:" in r.output and "128x96" in r.output
    assert not (tmp_path / "o").exists()


def test_roi_outside_the_frame_is_a_clear_error(videos, tmp_path):
    r = invoke(videos / "cam2.mp4", "-o", tmp_path / "o", "--roi", "0,0 400,0 400,50")
    assert r.exit_code == 2 and "outside the 160x120 frame" in r.output


def test_truncated_file_keeps_events_and_exits_non_zero(tmp_path):
    import bgmix

    full = tmp_path / "full.mp4"
    with bgmix.open_sink(full, fps=25) as sink:
        for f in np.concatenate([scene(cross=(30, 60)), scene(cross=None)]):
            sink.write(f)
    data = full.read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out"
    r = invoke(broken, "-o", out, "-q", "--no-clips")
    assert r.exit_code == 1
    assert "stopped at frame" in r.output
    doc = json.loads((out / "events.json").read_text())
    assert len(doc["events"]) == 1 and doc["stopped_at"] == doc["frames"]


def test_existing_output_is_refused_without_overwrite(videos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = invoke(videos / "cam2.mp4", "-o", out, "-q")
    assert r.exit_code == 1 and "overwrite" in r.output
    assert (out / "keep.txt").exists()
    r = invoke(videos / "cam2.mp4", "-o", out, "-q", "--overwrite")
    assert r.exit_code == 0 and not (out / "keep.txt").exists()


def test_missing_input_and_bad_time(videos, tmp_path):
    r = invoke(tmp_path / "nope*.mp4", "-o", tmp_path / "o")
    assert r.exit_code == 1 and "matches no file" in r.output
    r = invoke(videos / "cam2.mp4", "-o", tmp_path / "o", "--pre", "soon")
    assert r.exit_code == 2 and "pre must be frames" in r.output
    assert not (tmp_path / "o").exists()
