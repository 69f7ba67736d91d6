"""write_sequence(): CDnet layout, read back, atomic on failure."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bgmix
from bgmix.exceptions import OutputError, ParameterError
from bgmix.io import list_numbered_images, read_image
from bgmix.synthetic import SyntheticScene, generate, write_sequence


@pytest.fixture
def scene() -> SyntheticScene:
    return generate("shadows", width=40, height=30, n_frames=12, seed=9, warmup=3, roi=2)


def test_layout_and_contents_read_back(tmp_path, scene):
    calls = []
    out = write_sequence(scene, tmp_path / "seq", progress=calls.append)
    assert out == tmp_path / "seq"
    assert calls == list(range(1, 13))
    assert sorted(p.name for p in out.iterdir()) == [
        "ROI.bmp",
        "background.png",
        "groundtruth",
        "input",
        "scene.json",
        "temporalROI.txt",
    ]
    inputs = list_numbered_images(out / "input")
    truths = list_numbered_images(out / "groundtruth")
    assert [n for n, _ in inputs] == list(range(1, 13)) == [n for n, _ in truths]
    assert inputs[0][1].name == "in000001.png" and truths[-1][1].name == "gt000012.png"
    frames, gt = scene.to_arrays()
    for (n, path), (_, gpath) in zip(inputs, truths, strict=True):
        np.testing.assert_array_equal(read_image(path), frames[n - 1])
        np.testing.assert_array_equal(read_image(gpath, mode="L"), gt[n - 1])
        np.testing.assert_array_equal(read_image(gpath, mode=None), gt[n - 1])  # plain 'L' PNG
    assert (out / "temporalROI.txt").read_text() == "4 12\n"  # 1-based, inclusive
    roi = read_image(out / "ROI.bmp", mode=None)
    assert roi.dtype == np.uint8 and roi.shape == (30, 40)
    np.testing.assert_array_equal(roi, np.where(scene.roi, 255, 0))
    from PIL import Image

    with Image.open(out / "ROI.bmp") as im:
        assert im.mode == "L" and im.format == "BMP"
    np.testing.assert_array_equal(read_image(out / "background.png"), scene.background)
    meta = json.loads((out / "scene.json").read_text())
    assert meta["kind"] == "shadows" and meta["seed"] == 9 and meta["n_frames"] == 12
    assert meta["width"] == 40 and meta["height"] == 30
    assert meta["bgmix_version"] == bgmix.__version__
    assert meta["temporal_roi"] == [4, 12] and meta["first_frame_number"] == 1
    assert meta["options"]["shadows"] is True and meta["options"]["roi"] == 2
    assert meta["labels"] == {
        "background": 0,
        "shadow": 50,
        "outside_roi": 85,
        "unknown": 170,
        "foreground": 255,
    }


def test_scene_json_regenerates_the_same_frames(tmp_path, scene):
    out = write_sequence(scene, tmp_path / "seq")
    meta = json.loads((out / "scene.json").read_text())
    opts = meta["options"] | {"shadow_strength": tuple(meta["options"]["shadow_strength"])}
    again = generate(
        meta["kind"],
        width=meta["width"],
        height=meta["height"],
        n_frames=meta["n_frames"],
        seed=meta["seed"],
        **opts,
    )
    np.testing.assert_array_equal(again.frame(7).image, read_image(out / "input" / "in000008.png"))


@pytest.mark.parametrize("fmt", ["jpg", "bmp"])
def test_other_input_formats(tmp_path, fmt):
    scene = generate("baseline", width=32, height=24, n_frames=3)
    out = write_sequence(scene, tmp_path / "seq", image_format=fmt)
    files = sorted(p.name for p in (out / "input").iterdir())
    assert files == [f"in00000{i}.{fmt}" for i in (1, 2, 3)]
    got = read_image(out / "input" / f"in000002.{fmt}").astype(int)
    want = scene.frame(1).image.astype(int)
    if fmt == "bmp":
        np.testing.assert_array_equal(got, want)
    else:
        assert np.abs(got - want).mean() < 4  # quality 95
    assert sorted(p.suffix for p in (out / "groundtruth").iterdir()) == [".png"] * 3


def test_refuses_a_non_empty_folder_unless_overwrite(tmp_path, scene):
    target = tmp_path / "seq"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        write_sequence(scene, target)
    assert (target / "keep.txt").read_text() == "mine"
    write_sequence(scene, target, overwrite=True)
    assert not (target / "keep.txt").exists() and (target / "scene.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["seq"]  # no temporary leftovers


def test_an_empty_existing_folder_is_fine(tmp_path, scene):
    (tmp_path / "seq").mkdir()
    write_sequence(scene, tmp_path / "seq")
    assert (tmp_path / "seq" / "input" / "in000012.png").exists()


class _Exploding(SyntheticScene):
    """A scene whose 6th frame fails to render."""

    def _render(self, t):
        if t == 5:
            raise RuntimeError("boom at frame 5")
        return super()._render(t)


def test_failure_midway_leaves_nothing_at_the_target(tmp_path, scene):
    bad = _Exploding("baseline", width=40, height=30, n_frames=12, seed=0, options=scene.options)
    with pytest.raises(RuntimeError, match="boom"):
        write_sequence(bad, tmp_path / "seq")
    assert list(tmp_path.iterdir()) == []
    # an existing folder is kept as it was, even with overwrite
    (tmp_path / "seq").mkdir()
    (tmp_path / "seq" / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        write_sequence(bad, tmp_path / "seq", overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["seq"]
    assert (tmp_path / "seq" / "old.txt").read_text() == "old"


def test_write_errors_are_output_errors_naming_the_file(tmp_path, scene, monkeypatch):
    from PIL import Image

    real_save = Image.Image.save

    def failing_save(self, fp, *args, **kwargs):
        if "gt000003" in str(fp):
            raise OSError(28, "No space left on device")
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OutputError, match=r"gt000003\.png.*No space left"):
        write_sequence(scene, tmp_path / "seq")
    assert list(tmp_path.iterdir()) == []


def test_missing_parents_are_created(tmp_path, scene):
    write_sequence(scene, tmp_path / "data" / "seq")
    assert (tmp_path / "data" / "seq" / "scene.json").is_file()


def test_bad_arguments(tmp_path, scene):
    with pytest.raises(ParameterError, match="image_format"):
        write_sequence(scene, tmp_path / "a", image_format="gif")
    with pytest.raises(ParameterError, match="SyntheticScene"):
        write_sequence(np.zeros((3, 4, 4, 3), np.uint8), tmp_path / "b")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        write_sequence(scene, tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
