"""The recording hook of the evaluation: coloured masks, videos, per-frame counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bgmix.exceptions import InputError, OutputError
from bgmix.metrics import ConfusionCounts, EvaluationReport, evaluate
from bgmix.viz import MASK_COLOURS, colour_mask
from tests.metrics._cdnet import square_sequence

WHITE, RED, BLUE, GREY, YELLOW = (list(c) for c in MASK_COLOURS.values())


def test_colour_mask_against_every_label():
    mask = np.array([[255, 255, 0, 127, 255, 255, 0, 255]], np.uint8)
    gt = np.array([[255, 0, 255, 0, 170, 85, 0, 50]], np.uint8)
    out = colour_mask(mask, gt)
    assert out.shape == (1, 8, 3) and out.dtype == np.uint8
    assert out[0].tolist() == [WHITE, RED, BLUE, GREY, YELLOW, YELLOW, [0, 0, 0], RED]


def test_colour_mask_roi_and_unscored_frames():
    mask = np.array([[255, 0]], np.uint8)
    gt = np.array([[0, 255]], np.uint8)
    roi = np.array([[False, True]])
    assert colour_mask(mask, gt, roi)[0].tolist() == [YELLOW, BLUE]
    assert colour_mask(mask, None)[0].tolist() == [YELLOW, [0, 0, 0]]


@pytest.fixture
def sequences(tmp_path):
    root = tmp_path / "data"
    square_sequence(root / "cat" / "a", n_frames=8, seed=1)
    square_sequence(root / "cat" / "b", n_frames=7, seed=2, channels=1)
    return root


def test_record_writes_media_whose_counts_add_up(sequences, tmp_path):
    import bgmix

    rec = tmp_path / "rec"
    report = evaluate(sequences, ["running-mean", "frame-difference"], record=rec)
    assert len(report.results) == 4
    for r in report.results:
        assert set(r.media) == {"video", "poster", "counts", "background"}
        assert all(str(p).startswith(str(rec.absolute())) for p in r.media.values())
        counts = np.load(r.media["counts"])
        assert counts.shape == (r.n_evaluated, 7)
        total = ConfusionCounts(*(int(x) for x in counts[:, 1:].sum(axis=0)))
        assert total == r.counts  # the per-frame counts are the result's, frame by frame
        with bgmix.open_source(r.media["video"]) as video:
            frames = list(video)
        assert len(frames) == r.n_frames
        assert frames[0].shape == (16, 60, 3)  # input | mask | background, 20x16 each
    # without recording, the same scores
    plain = evaluate(sequences, ["running-mean", "frame-difference"])
    assert [r.counts for r in plain.results] == [r.counts for r in report.results]
    assert sorted(p.name for p in (rec / "cat").iterdir()) == ["a", "b"]


def test_record_folder_follows_the_output_rule(sequences, tmp_path):
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "keep.txt").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        evaluate(sequences, "running-mean", record=rec)
    assert sorted(p.name for p in rec.iterdir()) == ["keep.txt"]
    evaluate(sequences, "running-mean", record=rec, overwrite=True)
    assert not (rec / "keep.txt").exists() and (rec / "cat" / "a").is_dir()


def test_failed_evaluation_leaves_no_record(sequences, tmp_path):
    (sequences / "cat" / "b" / "input" / "in000003.png").write_bytes(b"not an image")
    rec = tmp_path / "rec"
    with pytest.raises(InputError):
        evaluate(sequences, "running-mean", record=rec)
    assert not rec.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".rec")] == []


def test_true_background_gives_sbmnet_metrics(tmp_path):
    from bgmix.synthetic import generate, write_sequence

    seq = write_sequence(generate("baseline", width=48, height=36, n_frames=30), tmp_path / "s")
    report = evaluate(seq, "running-mean", record=tmp_path / "rec")
    r = report.results[0]
    assert "truth" in r.media
    assert set(r.background_metrics) >= {"age", "peps", "pceps", "psnr", "ms_ssim"}
    assert 0 <= r.background_metrics["age"] < 50


def test_json_keeps_media_relative_and_reads_old_files(sequences, tmp_path):
    rec = tmp_path / "rec"
    report = evaluate(sequences, "running-mean", record=rec)
    report.to_json(rec / "results.json")
    data = json.loads((rec / "results.json").read_text())
    assert data["format_version"] == 2
    assert data["results"][0]["media"]["video"] == "cat/a/running-mean.mp4"
    moved = tmp_path / "moved"
    rec.rename(moved)
    back = EvaluationReport.from_json(moved / "results.json")
    assert back.results[0].media["video"] == str(moved / "cat" / "a" / "running-mean.mp4")
    # a version-1 file (no media) still reads
    data["format_version"] = 1
    for r in data["results"]:
        del r["media"]
    (tmp_path / "v1.json").write_text(json.dumps(data))
    old = EvaluationReport.from_json(tmp_path / "v1.json")
    assert old.results[0].media is None
    assert old.results[0].counts == report.results[0].counts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"format": "something-else", "results": []}, "not a bgmix evaluation report"),
        ({"format": "bgmix-evaluation", "format_version": 99, "results": []}, "version 99"),
        ({"format": "bgmix-evaluation", "format_version": 2, "results": {}}, "not a list"),
        ([1, 2], "not a bgmix evaluation report"),
    ],
)
def test_results_of_another_tool_or_version_are_refused(tmp_path, content, message):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(content))
    with pytest.raises(InputError, match=message) as info:
        EvaluationReport.from_json(path)
    assert str(path) in str(info.value)
