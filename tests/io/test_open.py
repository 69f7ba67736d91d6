"""open_source dispatch and options; read_frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bgmix.exceptions import InputError, ParameterError, SourceOpenError
from bgmix.io import FrameSource, open_source, read_frames
from tests._imports import modules_loaded_by
from tests.io.conftest import smooth_clip, write_images, write_video

CLIP = smooth_clip(6, 16, 24)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"grey": "yes"}, "grey"),
        ({"size": (10,)}, "size"),
        ({"size": (0, 10)}, "size"),
        ({"size": (10.5, 10)}, "size"),
        ({"size": (8, 8), "scale": 0.5}, "not both"),
        ({"scale": 0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"start": -1}, "start"),
        ({"start": 3, "stop": 3}, "greater than start"),
        ({"stride": 0}, "stride"),
        ({"on_error": "ignore"}, "on_error"),
        ({"prefetch": -2}, "prefetch"),
        ({"prefetch": 1.5}, "prefetch"),
        ({"kind": "tape"}, "kind"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_options_are_parameter_errors(options: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        open_source(CLIP, **options)


def test_bad_src_types() -> None:
    with pytest.raises(ParameterError, match="src must be"):
        open_source(3.5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="src must be"):
        open_source(True)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="camera index"):
        open_source(-1)
    with pytest.raises(ParameterError, match="kind='video' does not apply"):
        open_source(CLIP, kind="video")


def test_open_source_of_a_source_returns_it() -> None:
    with open_source(CLIP) as src:
        assert open_source(src) is src
        with pytest.raises(ParameterError, match="no other option"):
            open_source(src, grey=True)


def test_unknown_suffix_names_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SourceOpenError, match=r"unknown file type '\.txt'"):
        open_source(tmp_path / "notes.txt")
    (tmp_path / "README").write_text("hello")
    with pytest.raises(SourceOpenError, match="no suffix"):
        open_source(tmp_path / "README")


def test_kind_mismatch_with_a_folder(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", CLIP)
    with pytest.raises(InputError, match="is a folder"):
        open_source(folder, kind="video")
    with pytest.raises(InputError, match="not a folder"):
        open_source(write_video(tmp_path / "a.mp4", CLIP), kind="folder")


def test_read_frames_stacks_and_limits(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mkv", CLIP, codec="ffv1", pix_fmt="bgr0")  # count unknown
    np.testing.assert_array_equal(read_frames(path), CLIP)
    np.testing.assert_array_equal(read_frames(path, max_frames=4), CLIP[:4])
    assert read_frames(path, grey=True, stride=2).shape == (3, 16, 24)
    np.testing.assert_array_equal(read_frames(CLIP, start=1, max_frames=2), CLIP[1:3])


def test_read_frames_budget_known_count(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "seq", CLIP)
    need = 6 * 16 * 24 * 3
    assert read_frames(folder, max_bytes=need).shape == (6, 16, 24, 3)
    with pytest.raises(InputError, match=r"6 frames of 24x16x3 need 6\.8 KiB.*max_bytes"):
        read_frames(folder, max_bytes=need - 1)


def test_read_frames_budget_unknown_count(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mkv", CLIP, codec="ffv1", pix_fmt="bgr0")
    with pytest.raises(InputError, match=r"more than 2 frames.*max_bytes"):
        read_frames(path, max_bytes=3 * 16 * 24 * 3 - 1)


def test_read_frames_leaves_a_given_source_open() -> None:
    with open_source(CLIP) as src:
        assert read_frames(src).shape == (6, 16, 24, 3)
        assert not src.closed
    assert src.closed


def test_read_frames_with_an_inexact_container_count(tmp_path: Path, monkeypatch) -> None:
    from bgmix.io import _source

    real = _source._Options.selected
    monkeypatch.setattr(
        _source._Options, "selected", lambda self, n: None if n is None else real(self, n) + 3
    )
    folder = write_images(tmp_path / "seq", CLIP)
    np.testing.assert_array_equal(read_frames(folder), CLIP)  # announced 9, got 6
    monkeypatch.setattr(_source._Options, "selected", lambda self, n: None if n is None else 2)
    np.testing.assert_array_equal(read_frames(folder), CLIP)  # announced 2, got 6


def test_importing_bgmix_io_stays_light() -> None:
    assert modules_loaded_by("bgmix.io", ("cv2", "av", "PIL", "numba", "matplotlib")) == []


def test_public_names() -> None:
    import bgmix
    import bgmix.io as io

    for name in ("open_source", "open_sink", "VideoInfo", "side_by_side"):
        assert getattr(bgmix, name) is getattr(io, name)
    with open_source(CLIP) as src:
        assert isinstance(src, FrameSource)
