"""``bgmix synth``, in-process with CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from bgmix._cli import cli
from bgmix.io import list_numbered_images, read_image
from bgmix.synthetic import SCENARIOS, generate
from tests._cli._run import one_error_line


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _synth(runner, kind, out, *options):
    """``bgmix synth KIND -o OUT OPTIONS...`` through ``runner``."""
    return runner.invoke(cli, ["synth", kind, "-o", str(out), *options])


def test_list_prints_every_kind(runner):
    result = runner.invoke(cli, ["synth", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == list(SCENARIOS)
    assert all(SCENARIOS[ln.split()[0]] in ln for ln in lines)


def test_writes_a_sequence_identical_to_the_library(runner, tmp_path):
    out = tmp_path / "seq"
    options = "--width 48 --height 36 --frames 9 --seed 4 -p object_rate=10 -p warmup=2"
    result = _synth(runner, "shadows", out, *options.split())
    assert result.exit_code == 0, result.output
    assert "wrote 9 frames of shadows (48x36, seed 4)" in result.stdout
    assert "temporal ROI 3-9" in result.stdout
    scene = generate("shadows", width=48, height=36, n_frames=9, seed=4, object_rate=10, warmup=2)
    frames, truth = scene.to_arrays()
    inputs = list_numbered_images(out / "input")
    assert [n for n, _ in inputs] == list(range(1, 10))
    for n, path in inputs:
        np.testing.assert_array_equal(read_image(path), frames[n - 1])
    np.testing.assert_array_equal(
        read_image(out / "groundtruth" / "gt000009.png", mode="L"), truth[8]
    )
    meta = json.loads((out / "scene.json").read_text())
    assert meta["kind"] == "shadows" and meta["options"]["object_rate"] == 10
    assert (out / "temporalROI.txt").read_text() == "3 9\n"


def test_format_and_quiet(runner, tmp_path):
    out = tmp_path / "seq"
    options = "--frames 2 --width 24 --height 16 --format jpg -q"
    result = _synth(runner, "noise", out, *options.split())
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    assert sorted(p.name for p in (out / "input").iterdir()) == ["in000001.jpg", "in000002.jpg"]


def test_bad_kind_is_a_one_line_error_with_exit_2(runner, tmp_path):
    result = _synth(runner, "rain", tmp_path / "x")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "'rain'" in line and "baseline" in line and "mixed" in line
    assert not (tmp_path / "x").exists()


def test_existing_non_empty_output_needs_overwrite(runner, tmp_path):
    out = tmp_path / "seq"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    args = ["synth", "baseline", "-o", str(out), "--frames", "3", "--width", "24", "--height", "16"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert str(out) in line and "--overwrite" in line
    assert (out / "mine.txt").read_text() == "keep"
    result = runner.invoke(cli, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (out / "mine.txt").exists() and (out / "input" / "in000003.png").exists()


def test_missing_kind_or_output_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(cli, ["synth", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "KIND" in result.stderr
    result = runner.invoke(cli, ["synth", "baseline"])
    assert result.exit_code == 2 and "--output" in result.stderr


def test_missing_parent_folders_are_created(runner, tmp_path):
    result = _synth(runner, "baseline", tmp_path / "no" / "seq", "--frames", "2", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "no" / "seq" / "scene.json").is_file()


def test_help_lists_the_scene_options(runner):
    result = runner.invoke(cli, ["synth", "--help"])
    assert result.exit_code == 0
    for name in ("noise_sigma", "shadows", "jitter", "stop_frame", "roi"):
        assert name in result.stdout


def test_progress_goes_to_stderr(runner, tmp_path):
    args = ["synth", "baseline", "-o", str(tmp_path / "s"), "--frames", "3", "--width", "24"]
    result = runner.invoke(cli, [*args, "--height", "16"])
    assert result.exit_code == 0, result.output
    assert "synth baseline: 3/3 frames" in result.stderr  # a log line (no terminal here)
    assert "synth baseline" not in result.stdout
