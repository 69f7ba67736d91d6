"""`bgmix.pipeline.subtract`: the streaming engine behind `bgmix subtract` and `bgmix demo`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bgmix.exceptions import EmptySourceError, FrameFormatError, OutputError, ParameterError
from bgmix.io import open_source
from bgmix.pipeline import resolve_train, subtract
from tests.conftest import moving_square


@pytest.fixture
def clip_folder(tmp_path):
    frames, _ = moving_square(n_frames=10)
    folder = tmp_path / "input"
    folder.mkdir()
    for i, f in enumerate(frames, start=5):  # numbering starts at 5, like a cut sequence
        Image.fromarray(f).save(folder / f"in{i:06d}.png")
    return folder


def test_writes_masks_video_background_and_summary(clip_folder, tmp_path):
    out = tmp_path / "out"
    summary = subtract(clip_folder, out, method="running-mean", masks="both")
    masks = sorted(p.name for p in (out / "masks").iterdir())
    assert masks == [f"bin{i:06d}.png" for i in range(5, 15)]
    with open_source(out / "masks.mov") as video:
        for number, mask in zip(range(5, 15), video, strict=True):
            png = np.asarray(Image.open(out / "masks" / f"bin{number:06d}.png"))
            np.testing.assert_array_equal(mask, png)
    assert summary.n_frames == 10 and summary.n_trained == 0
    with open_source(out / "side_by_side.mp4") as video:
        decoded = list(video)
    assert len(decoded) == 10
    assert decoded[0].shape[1] > 3 * 32  # input | mask | foreground | background
    bg = np.asarray(Image.open(out / "background.png"))
    assert bg.shape == (24, 32, 3)
    run = json.loads((out / "run.json").read_text())
    assert run["method"] == "running-mean" and run["n_frames"] == 10 and run["fps"] > 0


def test_masks_match_running_the_subtractor_by_hand(clip_folder, tmp_path):
    import bgmix

    subtract(
        clip_folder,
        tmp_path / "out",
        method="frame-difference",
        params={"threshold": 30},
        video=False,
        masks="png",
    )
    sub = bgmix.make_subtractor("frame-difference", threshold=30)
    with open_source(clip_folder) as src:
        for number, frame in src.numbered():
            expected = sub.apply(frame)
            got = np.asarray(Image.open(tmp_path / "out" / "masks" / f"bin{number:06d}.png"))
            np.testing.assert_array_equal(got, expected)


def test_train_fraction_fits_then_classifies_every_frame(clip_folder, tmp_path):
    seen = []
    summary = subtract(
        clip_folder,
        tmp_path / "out",
        method="running-mean",
        train=0.4,
        video=False,
        masks="png",
        on_mask=lambda n, f, m: seen.append(n),
    )
    assert summary.n_trained == 4 and summary.n_frames == 10
    assert seen == list(range(5, 15))  # the training frames are classified too
    assert len(list((tmp_path / "out" / "masks").iterdir())) == 10


def test_the_written_frames_are_the_same_in_every_train_mode(clip_folder, tmp_path):
    names = {}
    for train in (None, 3, 0.5, "all"):
        out = tmp_path / f"out-{train}"
        subtract(clip_folder, out, method="running-mean", train=train, video=False, masks="png")
        names[train] = sorted(p.name for p in (out / "masks").iterdir())
    assert len({tuple(v) for v in names.values()}) == 1 and len(names[None]) == 10


def test_a_batch_method_without_train_is_refused_before_writing(clip_folder, tmp_path):
    with pytest.raises(ParameterError, match=r"must be fitted.*train"):
        subtract(clip_folder, tmp_path / "out", method="kmeans")
    assert not (tmp_path / "out").exists()


def test_model_file_starts_from_a_saved_model(clip_folder, tmp_path):
    import bgmix

    sub = bgmix.make_subtractor("kmeans", n_clusters=2)
    with open_source(clip_folder) as src:
        sub.fit(list(src))
    sub.save(tmp_path / "model.npz")
    summary = subtract(clip_folder, tmp_path / "out", model=tmp_path / "model.npz", video=False)
    assert summary.method == "kmeans" and summary.n_trained == 0 and summary.n_frames == 10
    expected = np.asarray(Image.open(tmp_path / "out" / "background.png"))
    np.testing.assert_array_equal(expected, sub.get_background_image())
    with pytest.raises(ParameterError, match="either model or method"):
        subtract(clip_folder, tmp_path / "o2", model=tmp_path / "model.npz", method="mog")


def test_existing_output_is_refused_or_replaced_as_a_whole(clip_folder, tmp_path):
    out = tmp_path / "out"
    subtract(clip_folder, out, method="running-mean")
    with pytest.raises(OutputError, match="overwrite"):
        subtract(clip_folder, out, method="running-mean", video=False)
    assert (out / "side_by_side.mp4").exists()  # untouched
    subtract(clip_folder, out, method="running-mean", video=False, overwrite=True)
    assert not (out / "side_by_side.mp4").exists()  # no old file beside the new ones
    assert sorted(p.name for p in out.iterdir()) == ["background.png", "masks.mov", "run.json"]


def test_summary_reports_wall_clock_and_model_speed(clip_folder, tmp_path):
    summary = subtract(clip_folder, tmp_path / "out", method="running-mean")
    assert summary.wall_seconds >= summary.model_seconds > 0
    assert summary.fps == pytest.approx(10 / summary.wall_seconds)
    assert summary.model_fps >= summary.fps
    line = summary.closing_line("out")
    assert f"{summary.fps:.1f} frames/s" in line and "model alone" in line


def test_train_all_fits_on_everything_then_classifies_everything(clip_folder, tmp_path):
    summary = subtract(
        clip_folder, tmp_path / "out", method="running-mean", train="all", video=False
    )
    assert summary.n_trained == 10 and summary.n_frames == 10


def test_a_bad_frame_midway_leaves_no_output(tmp_path):
    frames, _ = moving_square(n_frames=8)
    bad = frames.astype(np.float32) / 255.0
    bad[5, 0, 0, 0] = np.nan
    out = tmp_path / "out"
    with pytest.raises(FrameFormatError):
        subtract(bad, out, method="running-mean")
    assert not out.exists()  # no empty folder either
    assert not list(tmp_path.iterdir())  # temporary files are gone too


def test_refuses_to_write_into_the_input(clip_folder):
    with pytest.raises(OutputError):
        subtract(clip_folder, clip_folder, method="running-mean")


def test_missing_output_parents_are_created(clip_folder, tmp_path):
    subtract(clip_folder, tmp_path / "no" / "such" / "dir", method="running-mean", video=False)
    assert (tmp_path / "no" / "such" / "dir" / "run.json").is_file()


def test_created_parents_are_removed_on_failure(tmp_path):
    bad = np.full((3, 8, 8, 3), np.nan, np.float32)
    with pytest.raises(FrameFormatError):
        subtract(bad, tmp_path / "a" / "b", method="running-mean")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("train", "count", "expected"),
    [
        (None, 10, 0),
        (0.4, 10, 4),
        (0.01, 10, 1),
        (3, 10, 3),
        ("3", None, 3),
        ("0.5", 8, 4),
        ("all", 5, 5),
        ("all", None, None),
        (30, 10, 10),
        (1.0, 10, 10),
    ],
)
def test_resolve_train(train, count, expected):
    assert resolve_train(train, count) == expected


@pytest.mark.parametrize(
    ("train", "count", "match"),
    [
        (1.5, 10, r"train must be a float in the range \(0.0, 1.0\]"),
        (0.5, None, "unknown"),
        (0, 10, r"train must be an int in the range \[1"),
        ("abc", 10, "fraction"),
        (True, 10, "fraction"),
        (float("nan"), 10, "train must be a float in the range"),
    ],
)
def test_resolve_train_rejects(train, count, match):
    with pytest.raises(ParameterError, match=match):
        resolve_train(train, count)


def test_empty_array_source_is_rejected(tmp_path):
    with pytest.raises((EmptySourceError, FrameFormatError)):
        subtract(np.zeros((0, 8, 8, 3), np.uint8), tmp_path / "out", method="running-mean")
