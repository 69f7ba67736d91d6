"""`bgmix subtract` and `bgmix demo` end to end, in-process."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from bgmix._cli import cli
from bgmix.io import open_source
from tests.conftest import moving_square


@pytest.fixture
def clip_folder(tmp_path):
    frames, _ = moving_square(n_frames=8)
    folder = tmp_path / "clip"
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"frame_{i}.png")
    return folder


def test_subtract_writes_outputs_and_one_summary_line(clip_folder, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["subtract", str(clip_folder), "-m", "running-mean", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "8 frames classified" in result.output and "frames/s" in result.output
    with open_source(out / "masks.mov") as masks:
        assert masks.info.channels == 1 and len(list(masks)) == 8
    assert (out / "side_by_side.mp4").is_file()
    assert not (out / "masks").exists()


def test_subtract_png_masks_video_width_and_roi(clip_folder, tmp_path):
    out = tmp_path / "out"
    args = ["subtract", str(clip_folder), "-m", "frame-difference", "-o", str(out), "-q"]
    args += ["--mask-format", "png", "--video-width", "64", "--roi", "0,0 15,0 15,23 0,23"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    masks = sorted((out / "masks").iterdir())
    assert len(masks) == 8 and not (out / "masks.mov").exists()
    for p in masks:
        assert not np.asarray(Image.open(p))[:, 16:].any()  # outside the region
    with open_source(out / "side_by_side.mp4") as video:
        assert video.info.width <= 64


def test_subtract_train_and_params(clip_folder, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "subtract",
            str(clip_folder),
            "-m",
            "running-mean",
            "-p",
            "alpha=0.2",
            "--train",
            "0.5",
            "-o",
            str(out),
            "-q",
            "--no-video",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "8 frames classified (fitted on the first 4)" in result.output
    run = json.loads((out / "run.json").read_text())
    assert run["params"]["alpha"] == 0.2 and run["n_frames"] == 8 and run["n_trained"] == 4
    assert not (out / "side_by_side.mp4").exists()


def _missing(p):
    return p / "missing"


def _empty_folder(p):
    (p / "empty").mkdir()
    return p / "empty"


def _folder_without_images(p):
    (p / "notes").mkdir()
    (p / "notes" / "a.txt").write_text("x")
    return p / "notes"


def _corrupt_video(p):
    (p / "bad.mp4").write_bytes(b"\x00" * 4096)
    return p / "bad.mp4"


@pytest.mark.parametrize(
    ("make_src", "code", "needle"),
    [
        (_missing, 1, "does not exist"),
        (_empty_folder, 1, "empty"),
        (_folder_without_images, 1, "no images"),
        (_corrupt_video, 1, "bad.mp4"),
    ],
)
def test_subtract_bad_input_is_one_line_with_exit_code(tmp_path, make_src, code, needle):
    src = make_src(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["subtract", str(src), "-m", "running-mean", "-o", str(out), "-q"]
    )
    assert result.exit_code == code
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bgmix: error:") and needle in lines[0]
    assert not out.exists()


def test_frames_changing_size_midway_fail_cleanly(clip_folder, tmp_path):
    Image.fromarray(moving_square(n_frames=1, height=20, width=30)[0][0]).save(
        clip_folder / "frame_5.png"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["subtract", str(clip_folder), "-m", "running-mean", "-o", str(out), "-q"]
    )
    assert result.exit_code == 1
    assert "frame_5.png" in result.output or "frame 5" in result.output
    assert not (out / "masks").exists()


def test_demo_writes_video_masks_and_metrics(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli,
        [
            "demo",
            "-o",
            str(out),
            "-m",
            "running-mean",
            "--frames",
            "100",
            "--width",
            "96",
            "--height",
            "72",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 < metrics["cdnet"]["f_measure"] <= 1.0
    assert metrics["scene"]["frames"] == 100
    assert len(list((out / "masks").iterdir())) == 100
    with av.open(str(out / "side_by_side.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 100
    assert (out / "scene" / "groundtruth").is_dir()


def test_subtract_on_a_cdnet_sequence_folder_hints_at_input(tmp_path):
    from bgmix.synthetic import generate, write_sequence

    seq = write_sequence(generate("baseline", n_frames=5, width=16, height=12), tmp_path / "seq")
    result = CliRunner().invoke(cli, ["subtract", str(seq), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1 and "input" in result.output and "CDnet" in result.output


def test_subtract_from_a_saved_background_model(clip_folder, tmp_path):
    model = tmp_path / "model.npz"
    args = ["background", str(clip_folder), "-m", "median", "-o", str(tmp_path / "bg.png")]
    result = CliRunner().invoke(cli, [*args, "--save-model", str(model), "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli, ["subtract", str(clip_folder), "--model", str(model), "-o", str(tmp_path / "o"), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("median: 8 frames classified")
    result = CliRunner().invoke(
        cli, ["subtract", str(clip_folder), "--model", str(model), "-m", "mog", "-o", "x"]
    )
    assert result.exit_code == 2 and "--model" in result.output
