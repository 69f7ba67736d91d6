"""events.json / events.csv / scores.csv, clips (copy and re-encode), thumbnails, timeline."""

from __future__ import annotations

import csv
import json
import re

import pytest
from PIL import Image

from bgmix.events import detect_events
from bgmix.events._outputs import write_outputs
from bgmix.exceptions import OutputError
from tests.events.scenes import FPS, scene, write_mp4

KEYS = {"index", "start_frame", "end_frame", "start_time", "end_time", "peak_score",
        "peak_frame", "bbox", "clip"}  # fmt: skip
TIMECODE = re.compile(r"^\d{2,}:\d{2}:\d{2}\.\d{3}$")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """300 frames, motion in 150..189, a key frame every 25 frames, no B-frames."""
    import numpy as np

    frames = np.concatenate([scene(cross=None), scene(cross=(0, 40), seed=0)])
    return write_mp4(frames, tmp_path_factory.mktemp("v") / "cam.mp4", gop=25)


@pytest.fixture(scope="module")
def events(video):
    found = detect_events(video, pre=10, post=10)
    assert len(found) == 1
    return found


def test_json_csv_and_scores(events, tmp_path):
    out = write_outputs(events, tmp_path / "out", clips=False, thumbnails=False)
    doc = json.loads((out / "events.json").read_text())
    assert {"source", "fps", "frames", "method", "params", "events"} <= set(doc)
    assert doc["fps"] == FPS and doc["frames"] == 300 and doc["method"] == "mog2"
    (e,) = doc["events"]
    assert KEYS <= set(e) and e["clip"] is None
    assert e["end_frame"] - e["start_frame"] == e["motion_end"] - e["motion_start"] + 20
    assert len(e["bbox"]) == 4
    rows = list(csv.DictReader((out / "events.csv").read_text().splitlines()))
    assert len(rows) == 1
    assert TIMECODE.match(rows[0]["start_time"]) and TIMECODE.match(rows[0]["end_time"])
    assert rows[0]["start_time"] == "00:00:0%.3f" % (e["start_frame"] / FPS)
    scores = list(csv.reader((out / "scores.csv").read_text().splitlines()))
    assert scores[0] == ["frame", "time", "score"] and len(scores) == 301
    assert float(scores[101][1]) == pytest.approx(100 / FPS)
    with Image.open(out / "timeline.png") as im:
        assert im.size[0] >= 800


def test_stream_copy_clip_from_the_key_frame_before(events, tmp_path):
    out = write_outputs(events, tmp_path / "out", clip_mode="auto", max_lead="2s")
    e = json.loads((out / "events.json").read_text())["events"][0]
    assert e["clip_mode"] == "copy"
    assert e["clip_first_frame"] % 25 == 0 and e["clip_first_frame"] <= e["start_frame"]
    assert e["start_frame"] - e["clip_first_frame"] < 25
    assert e["clip_last_frame"] == e["end_frame"]
    from tests.events.scenes import count_frames

    n = count_frames(out / e["clip"])
    assert n == e["clip_last_frame"] - e["clip_first_frame"] + 1
    with Image.open(out / e["thumbnail"]) as thumb:
        assert thumb.size == (160, 120) and thumb.format == "JPEG"


def test_sparse_key_frames_are_re_encoded_exactly(tmp_path):
    """One key frame only (frame 0), the event ~140 frames later and shorter than that:
    copying would add more than the event itself, so the clip is re-encoded."""
    import numpy as np

    frames = np.concatenate([scene(cross=None), scene(cross=(0, 40), seed=0)])
    video = write_mp4(frames, tmp_path / "sparse.mp4", gop=300)
    found = detect_events(video, pre=10, post=10)
    out = write_outputs(found, tmp_path / "out", max_lead=2, thumbnails=False)
    e = json.loads((out / "events.json").read_text())["events"][0]
    from tests.events.scenes import count_frames

    assert e["start_frame"] > e["end_frame"] - e["start_frame"] + 1
    assert e["clip_mode"] == "encode"
    assert (e["clip_first_frame"], e["clip_last_frame"]) == (e["start_frame"], e["end_frame"])
    assert count_frames(out / e["clip"]) == e["end_frame"] - e["start_frame"] + 1


def test_forced_encode_and_copy_modes(events, tmp_path):
    enc = write_outputs(events, tmp_path / "enc", clip_mode="encode", thumbnails=False)
    cp = write_outputs(events, tmp_path / "cp", clip_mode="copy", thumbnails=False)
    modes = [
        json.loads((d / "events.json").read_text())["events"][0]["clip_mode"] for d in (enc, cp)
    ]
    assert modes == ["encode", "copy"]


def test_b_frames_copy_decodes_and_covers_the_event(tmp_path):
    import numpy as np

    frames = np.concatenate([scene(cross=None), scene(cross=(0, 40), seed=0)])
    video = write_mp4(frames, tmp_path / "b.mp4", gop=30, bframes=3)
    found = detect_events(video, pre=10, post=10)
    out = write_outputs(found, tmp_path / "out", max_lead="3s", thumbnails=False)
    e = json.loads((out / "events.json").read_text())["events"][0]
    from tests.events.scenes import count_frames

    assert e["clip_mode"] == "copy"
    assert e["clip_first_frame"] <= e["start_frame"] and e["clip_last_frame"] >= e["end_frame"]
    assert count_frames(out / e["clip"]) >= e["end_frame"] - e["clip_first_frame"] + 1


def test_existing_output_needs_overwrite_and_is_replaced_whole(events, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        write_outputs(events, out, clips=False)
    assert (out / "old.txt").exists()
    write_outputs(events, out, clips=False, overwrite=True)
    assert not (out / "old.txt").exists() and (out / "events.json").exists()


def test_image_folder_clip_is_encoded(tmp_path):
    frames = scene(cross=(20, 50), n=80)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"in{i:06d}.png")
    found = detect_events(folder, fps=FPS, pre=5, post=5)
    out = write_outputs(found, tmp_path / "out")
    e = json.loads((out / "events.json").read_text())["events"][0]
    from tests.events.scenes import count_frames

    assert e["clip_mode"] == "encode"
    assert count_frames(out / e["clip"]) == e["end_frame"] - e["start_frame"] + 1
    assert (out / e["thumbnail"]).is_file()


@pytest.mark.parametrize("n", [8000, 8001, 12345])  # 8000: bins of 2 with no shorter last bin
def test_timeline_of_a_long_run_keeps_every_spike(n, tmp_path):
    import numpy as np

    from bgmix.events import EventList
    from bgmix.events._outputs import _TIMELINE_POINTS, _bin_maxima, write_timeline

    scores = np.zeros(n, np.float32)
    scores[[1, n // 2, n - 1]] = [0.3, 0.5, 0.7]
    frames = np.arange(n, dtype=np.int64)
    k = -(-n // _TIMELINE_POINTS)
    t, s = _bin_maxima(frames / 25.0, scores.astype(np.float64), k)
    assert len(s) == -(-n // k) <= _TIMELINE_POINTS
    assert sorted(s[s > 0].tolist()) == pytest.approx([0.3, 0.5, 0.7])
    assert t[0] == 0.0 and t[-1] <= (n - 1) / 25.0
    events = EventList([], fps=25.0, scores=scores, score_frames=frames, params={"threshold": 0.1})
    write_timeline(events, tmp_path / "timeline.png")
    with Image.open(tmp_path / "timeline.png") as im:
        assert im.size[0] > 500
