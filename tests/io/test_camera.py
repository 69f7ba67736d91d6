"""Cameras and streams through OpenCV: failing fast, colour order, one pass."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bgmix.exceptions import SourceOpenError, UnsupportedOperationError
from bgmix.io import open_source
from bgmix.io._camera import CaptureSource, is_stream_url
from tests.io.conftest import smooth_clip, write_video


def test_missing_camera_index_fails_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(SourceOpenError, match="camera 99"):
        open_source(99)
    assert time.perf_counter() - t0 < 3


@pytest.mark.skipif(Path("/dev/video0").exists(), reason="this machine has a camera 0")
def test_digit_string_means_a_camera_when_no_such_file() -> None:
    with pytest.raises(SourceOpenError, match="camera 0"):
        open_source("0")


@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:1/none", "http://127.0.0.1:1/clip.mp4"])
def test_unreachable_stream_fails_fast(url: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(SourceOpenError, match="cannot be opened"):
        open_source(url, timeout=2)
    assert time.perf_counter() - t0 < 5


def test_silent_udp_stream_times_out() -> None:
    t0 = time.perf_counter()
    with pytest.raises(SourceOpenError):
        open_source("udp://127.0.0.1:45999", timeout=0.5)
    assert time.perf_counter() - t0 < 5


def test_http_stream_is_rgb_and_read_once(http_server) -> None:
    url, root = http_server
    clip = smooth_clip(6, 32, 48)
    write_video(root / "clip.mp4", clip, fps=15, stream_options={"crf": "10"})
    with open_source(f"{url}/clip.mp4", start=1) as src:
        assert isinstance(src, CaptureSource) and src.info.kind == "camera"
        assert src.info.fps == pytest.approx(15)
        pairs = list(src.numbered())
        with pytest.raises(UnsupportedOperationError, match="only once"):
            list(src)
    assert [n for n, _ in pairs] == [1, 2, 3, 4, 5]
    square = pairs[0][1][6:10, 6:10].reshape(-1, 3).mean(axis=0)  # the red square: R high, B low
    assert square[0] > 200 and square[2] < 80
    assert np.abs(pairs[0][1].astype(int) - clip[1]).mean() < 3


def test_stream_grey_and_stop(http_server) -> None:
    url, root = http_server
    write_video(root / "clip.mp4", smooth_clip(6, 32, 48), fps=15)
    with open_source(f"{url}/clip.mp4", grey=True, stop=3) as src:
        frames = list(src)
    assert [f.shape for f in frames] == [(32, 48)] * 3


def test_url_detection() -> None:
    assert (
        is_stream_url("rtsp://cam/1")
        and is_stream_url("HTTP://x")
        and is_stream_url("udp://@:5000")
    )
    assert not is_stream_url("/tmp/video.mp4") and not is_stream_url("C:\\video.mp4")
    assert not is_stream_url("file:///tmp/x.mp4")
