"""show_video: an inline H.264 player for notebooks."""

from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

import av
import numpy as np

from bgmix.io import open_sink, open_source, show_video
from tests.io.conftest import smooth_clip, write_video

CLIP = smooth_clip(7, 32, 48)


def _decode(data: bytes) -> tuple[int, str, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        n = sum(1 for _ in container.decode(stream))
        return n, stream.codec_context.name, float(stream.average_rate)


def _payload(html: str) -> bytes:
    m = re.search(r'src="data:video/mp4;base64,([A-Za-z0-9+/=]+)"', html)
    assert m, html[:200]
    return base64.b64decode(m.group(1))


def test_frames_become_an_h264_video_tag() -> None:
    video = show_video(CLIP, fps=12, width=320)
    html = video._repr_html_()
    assert html.startswith("<video controls") and 'width="320"' in html
    data = _payload(html)
    assert data == video.data
    assert _decode(data) == (7, "h264", 12.0)
    assert "IPython" not in sys.modules


def test_masks_and_generators_and_max_frames() -> None:
    masks = (f[..., 0] > 100 for f in CLIP)  # bool masks from a generator
    assert _decode(show_video(masks, fps=5, max_frames=4).data)[0] == 4


def test_h264_mp4_is_embedded_as_is(tmp_path: Path) -> None:
    with open_sink(tmp_path / "a.mp4", fps=10) as sink:
        for f in CLIP:
            sink.write(f)
    video = show_video(tmp_path / "a.mp4")
    assert video.data == (tmp_path / "a.mp4").read_bytes()


def test_other_videos_and_sources_are_transcoded(tmp_path: Path) -> None:
    path = write_video(tmp_path / "a.mkv", CLIP, codec="ffv1", pix_fmt="bgr0", fps=8)
    assert _decode(show_video(path).data) == (7, "h264", 8.0)  # the source's fps
    with open_source(CLIP) as src:
        assert _decode(show_video(src).data) == (7, "h264", 25.0)  # default fps


def test_save(tmp_path: Path) -> None:
    video = show_video(CLIP[:2], fps=4)
    path = video.save(tmp_path / "clip.mp4")
    assert path.read_bytes() == video.data
    assert "bytes of H.264" in repr(video)


def test_float_frames(tmp_path: Path) -> None:
    assert _decode(show_video(np.asarray(CLIP, np.float64) / 255, fps=3).data)[0] == 7
