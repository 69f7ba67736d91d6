"""``bgmix lowrank`` in-process."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from bgmix._cli import cli
from bgmix.lowrank import REPORT_FILES
from tests.conftest import moving_square


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("seq")
    frames, _ = moving_square(n_frames=12, height=24, width=32, seed=2)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(root / f"in{i + 1:06d}.png")
    return root


def _run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_writes_every_picture(folder, tmp_path):
    out = tmp_path / "out"
    result = _run("lowrank", folder, "-o", out, "--rank", 2, "-q")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == sorted(REPORT_FILES)
    assert result.output.startswith("svd: 12 frames x 768 pixel values, background rank 2")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"]["grey"] is True
    assert summary["fps"] == 25.0


def test_rpca_with_options_colour_size_and_cache(folder, tmp_path):
    out = tmp_path / "out"
    cache = tmp_path / "m.npy"
    args = [
        "lowrank",
        folder,
        "-m",
        "rpca",
        "--rank",
        1,
        "-o",
        out,
        "--colour",
        "--size",
        "16x12",
        "--stride",
        2,
        "-p",
        "tol=1e-6",
        "-p",
        "max_iter=200",
        "--cache",
        cache,
        "--fps",
        10,
        "-q",
    ]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert "rpca: 6 frames x 576 pixel values" in result.output and "converged" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frame_shape"] == [12, 16, 3]
    assert summary["background"]["converged"] is True
    assert summary["background"]["final_error"] < 1e-6
    assert summary["fps"] == 10
    assert cache.is_file() and (tmp_path / "m.npy.json").is_file()
    again = _run(*args)  # an existing output folder is refused without --overwrite
    assert again.exit_code == 1 and "--overwrite" in again.output
    again = _run(*args, "--overwrite")  # from the cache, same result
    assert again.exit_code == 0 and again.output == result.output
    assert "Robust PCA found a background of rank" in result.output


def test_second_scene(folder, tmp_path):
    result = _run("lowrank", folder, "-o", tmp_path / "o", "--second", folder, "-q")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["two_backgrounds"]["second_scene"] == str(folder)


@pytest.mark.parametrize(
    ("args", "code", "match"),
    [
        (["--size", "16by12"], 2, "--size"),
        (["--rank", "0"], 2, "rank"),
        (["-p", "tol=1e-6"], 2, "-m rpca"),
        (["-m", "rpca", "-p", "nonsense=1"], 2, "nonsense"),
        (["--stride", "0"], 2, "stride"),
        (["--cache", "m.txt"], 2, "npy"),
    ],
)
def test_bad_options_give_one_line_errors(folder, tmp_path, args, code, match):
    result = _run("lowrank", folder, "-o", tmp_path / "o", "-q", *args)
    assert result.exit_code == code, result.output
    assert result.output.startswith("bgmix: error:") and match in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_missing_source_and_output_over_input(folder, tmp_path):
    result = _run("lowrank", tmp_path / "missing", "-o", tmp_path / "o")
    assert result.exit_code == 1 and "does not exist" in result.output
    result = _run("lowrank", folder, "-o", folder)
    assert result.exit_code == 1 and "input" in result.output
    assert len(list(folder.iterdir())) == 12


def test_unknown_method_is_a_usage_error(folder, tmp_path):
    result = _run("lowrank", folder, "-o", tmp_path / "o", "-m", "pca")
    assert result.exit_code == 2 and "pca" in result.output


def test_lowrank_is_listed_in_help():
    result = _run("--help")
    assert "lowrank" in result.output
    assert np.all([w in _run("lowrank", "--help").output for w in ("--rank", "--second")])
