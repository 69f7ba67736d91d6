"""``bgmix background``: fit a model on a folder of frames and write the background image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bgmix.background import load_subtractor, make_subtractor
from tests._cli._run import run
from tests.conftest import moving_square


@pytest.fixture
def clip(tmp_path):
    """A folder of 10 numbered PNG frames and the frames themselves."""
    frames, _ = moving_square(n_frames=10, seed=1)
    folder = tmp_path / "input"
    folder.mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"in{i + 1:06d}.png")
    return folder, frames


@pytest.mark.parametrize(
    ("method", "train", "n_fit", "params"),
    [
        ("em", None, 10, ["-p", "n_components=2"]),
        ("median", "0.4", 4, []),
        ("kmeans", "6", 6, ["-p", "n_clusters=2"]),
        ("mean", "all", 10, []),
        ("running-mean", "3", 3, ["-p", "alpha=0.5"]),
    ],
)
def test_writes_the_background_of_the_fitted_model(clip, tmp_path, method, train, n_fit, params):
    folder, frames = clip
    out = tmp_path / "bg.png"
    args = ["background", folder, "-o", out, "-m", method, *params]
    if train is not None:
        args += ["--train", train]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert f"from {n_fit} frames" in result.output
    kwargs = dict(p.split("=") for p in params[1::2])
    kwargs = {k: (float(v) if "." in v else int(v)) for k, v in kwargs.items()}
    expected = make_subtractor(method, **kwargs).fit(frames[:n_fit]).get_background_image()
    with Image.open(out) as im:
        np.testing.assert_array_equal(np.asarray(im), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg.png", "input"]  # no temporary left


def test_default_method_is_em_and_the_model_can_be_saved(clip, tmp_path):
    folder, frames = clip
    result = run(
        "background", folder, "-o", tmp_path / "bg.jpg", "--save-model", tmp_path / "em.npz"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("em:")
    model = load_subtractor(tmp_path / "em.npz")
    assert model.name == "em"
    ref = make_subtractor("em").fit(frames)
    np.testing.assert_array_equal(model.get_background_image(), ref.get_background_image())
    with Image.open(tmp_path / "bg.jpg") as im:
        assert im.format == "JPEG"


def test_grey_option_gives_a_grey_background(clip, tmp_path):
    folder, _ = clip
    result = run("background", folder, "-o", tmp_path / "bg.png", "-m", "median", "--grey")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "bg.png") as im:
        assert np.asarray(im).ndim == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "{tmp}/bg.xyz"], 1, "unknown image type"),
        (["-o", "{tmp}/old.png"], 1, "exists; pass overwrite=True (--overwrite)"),
        (["-o", "{tmp}/bg.png", "--train", "1.5"], 2, "train"),
        (["-o", "{tmp}/bg.png", "--train", "zero"], 2, "train"),
        (["-o", "{tmp}/bg.png", "-p", "n_components=0"], 2, "n_components"),
        (["-o", "{tmp}/bg.png", "-m", "nope"], 2, "unknown method"),
        (["-o", "{tmp}/bg.png", "--train", "1"], 1, "at least 2 training frames"),
    ],
)
def test_errors_are_one_line_with_exit_codes(clip, tmp_path, args, code, message):
    folder, _ = clip
    (tmp_path / "old.png").write_bytes(b"old")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run("background", folder, *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "bg.png").exists()


def test_missing_source_is_an_input_error(tmp_path):
    result = run("background", tmp_path / "nothing", "-o", tmp_path / "bg.png")
    assert result.exit_code == 1
    assert "bgmix: error:" in result.output


@pytest.mark.parametrize(
    ("train", "n"), [(None, 10), ("all", 10), ("0.4", 4), ("3", 3), ("99", 10)]
)
def test_train_has_the_shared_meaning(clip, tmp_path, train, n):
    folder, _ = clip
    args = ["background", folder, "-m", "median", "-o", tmp_path / "bg.png", "-q"]
    result = run(*args, *(["--train", train] if train else []))
    assert result.exit_code == 0, result.output
    assert f"from {n} frames" in result.output


@pytest.mark.parametrize("text", ["0", "-3", "abc", "0.0"])
def test_bad_train_is_a_usage_error(clip, tmp_path, text):
    folder, _ = clip
    result = run("background", folder, "-o", tmp_path / "bg.png", "--train", text)
    assert result.exit_code == 2 and "train" in result.output
