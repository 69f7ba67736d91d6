"""``bgmix segment`` run in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bgmix.io import read_image
from bgmix.segment import segment_image
from tests._cli import _inputs
from tests._cli._run import run


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    return path, _inputs.photo(path, height=24, width=36)


def test_writes_every_output(photo, tmp_path):
    path, img = photo
    out = tmp_path / "out"
    result = run("segment", path, "-k", 3, "-m", "gmm", "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "photo_components.json",
        "photo_figure.png",
        "photo_labels.png",
        "photo_palette.png",
        "photo_sample.png",
    ]
    expected = segment_image(img, 3, random_state=1, max_samples=200_000)
    labels = read_image(out / "photo_labels.png", mode=None)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, expected.labels)
    np.testing.assert_array_equal(read_image(out / "photo_palette.png"), expected.palette_image)
    sample = read_image(out / "photo_sample.png")
    assert sample.shape == img.shape
    info = json.loads((out / "photo_components.json").read_text())
    assert info["n_components"] == 3 and info["method"] == "gmm"
    assert info["feature_names"] == ["R", "G", "B"]
    np.testing.assert_allclose([c["weight"] for c in info["components"]], expected.weights)
    assert info["components"][0]["color_rgb"] == expected.colors[0].tolist()
    assert "fit_kmeans" in info["seconds"]
    assert result.output.split() == [
        str(out / n)
        for n in [
            "photo_palette.png",
            "photo_labels.png",
            "photo_sample.png",
            "photo_figure.png",
            "photo_components.json",
        ]
    ]


def test_kmeans_lab_spatial_without_figure(photo, tmp_path):
    path, _ = photo
    result = run(
        "segment",
        path,
        "-k",
        2,
        "-m",
        "kmeans",
        "-o",
        tmp_path / "o",
        "--color-space",
        "lab",
        "--spatial-weight",
        "0.5",
        "--no-figure",
        "--max-samples",
        "0",
        "--threads",
        "1",
    )
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "o" / "photo_components.json").read_text())
    assert info["feature_names"] == ["L*", "a*", "b*", "row", "col"]
    assert not (tmp_path / "o" / "photo_figure.png").exists()


def test_label_map_is_uint16_beyond_255_components(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)  # 400 distinct colours
    path = tmp_path / "noise.png"
    Image.fromarray(img).save(path)
    out = tmp_path / "o"
    result = run("segment", path, "-k", 300, "-m", "kmeans", "--no-figure", "-o", out)
    assert result.exit_code == 0, result.output
    labels = read_image(out / "noise_labels.png", mode=None)
    assert labels.dtype == np.uint16 and labels.max() >= 256
    assert read_image(out / "noise_palette.png").shape == (20, 20, 3)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.png"], 1, "does not exist"),
        (["{photo}", "-k", "0"], 2, "n_components"),
        (["{photo}", "--spatial-weight", "-1"], 2, "spatial_weight"),
        (["{photo}", "--max-samples", "-5"], 2, "--max-samples"),
        (["{photo}", "-o", "{photo}"], 1, "not a folder"),
        (["{text}"], 1, "cannot be read"),
    ],
)
def test_errors_are_one_line_and_write_nothing(photo, tmp_path, args, code, message):
    path, _ = photo
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(photo=path, tmp=tmp_path, text=text) for a in args]
    if "-o" not in args:
        args += ["-o", str(out)]
    result = run("segment", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert sum(1 for line in result.output.splitlines() if line.strip()) == 1
    assert list(out.iterdir()) == []


def test_unknown_colour_space_is_a_usage_error(photo):
    result = run("segment", photo[0], "--color-space", "cmyk")
    assert result.exit_code == 2


def test_refuses_to_overwrite_the_input(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, 4:] = 200
    path = tmp_path / "x_palette.png"
    Image.fromarray(img).save(path)
    before = path.read_bytes()
    result = run("segment", tmp_path / "x.png", "-o", tmp_path)
    assert result.exit_code == 1  # x.png does not exist
    # an input whose stem makes an output name collide with itself
    path2 = tmp_path / "y.png"
    Image.fromarray(img).save(path2)
    for extra in ([], ["--overwrite"]):
        result = run("segment", path2, "-k", 2, "-o", tmp_path, *extra)
        assert result.exit_code == 1 and "holds the input image" in result.output
    assert path.read_bytes() == before


def test_an_existing_folder_is_refused_or_replaced_as_a_whole(photo, tmp_path):
    path, _ = photo
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    result = run("segment", path, "-k", 2, "-o", out, "--no-figure", "-q")
    assert (
        result.exit_code == 1 and "--overwrite" in result.output and result.output.count("\n") == 1
    )
    assert (out / "old.txt").exists()
    result = run("segment", path, "-k", 2, "-o", out, "--no-figure", "-q", "--overwrite")
    assert result.exit_code == 0 and result.output.split()[0].endswith("photo_palette.png")
    assert not (out / "old.txt").exists() and (out / "photo_labels.png").exists()


def test_write_segmentation_from_python(photo, tmp_path):
    from bgmix.segment import sample_image, write_segmentation

    _, img = photo
    res = segment_image(img, 2, random_state=0)
    paths = write_segmentation(tmp_path / "a" / "b", img, res, sample=sample_image(res), name="p")
    assert [p.name for p in paths] == [
        "p_palette.png",
        "p_labels.png",
        "p_sample.png",
        "p_components.json",
    ]
    assert all(p.is_file() for p in paths)


def test_grey_image(tmp_path):
    img = np.zeros((16, 20), np.uint8)
    img[:, 10:] = 200
    path = tmp_path / "grey.png"
    Image.fromarray(img).save(path)
    result = run("segment", path, "-k", 2, "-o", tmp_path / "g")
    assert result.exit_code == 0, result.output
    palette = read_image(tmp_path / "g" / "grey_palette.png", mode=None)
    np.testing.assert_array_equal(palette, img)
    assert read_image(tmp_path / "g" / "grey_sample.png", mode=None).shape == img.shape
