"""Inline video for Jupyter notebooks, without importing IPython."""

from __future__ import annotations

import base64
import html
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix._validation import check_int, check_real

__all__ = ["InlineVideo", "show_video"]

logger = logging.getLogger(__name__)

#: Above this size an inline video makes notebooks slow; a warning is logged.
_LARGE = 20 * 1024**2


class InlineVideo:
    """An H.264 MP4 held in memory that Jupyter shows as a ``<video>`` player.

    Attributes
    ----------
    data : bytes
        The MP4 file.
    width : int or None
        Display width in CSS pixels (None: the video's own width).
    """

    def __init__(self, data: bytes, *, width: int | None = None) -> None:
        self.data = data
        self.width = width

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        size = f' width="{int(self.width)}"' if self.width else ""
        return (
            f"<video controls loop autoplay muted playsinline{size}>"
            f'<source src="data:video/mp4;base64,{encoded}" type="video/mp4">'
            f"{html.escape('Your browser cannot play this H.264 video.')}</video>"
        )

    def save(self, path: StrPath) -> Path:
        """Write the MP4 to ``path`` (atomically) and return the path."""
        from bgmix._atomic import atomic_output

        with atomic_output(path) as tmp:
            tmp.write_bytes(self.data)
        return Path(path)

    def __repr__(self) -> str:
        return f"<InlineVideo {len(self.data)} bytes of H.264 MP4>"


def show_video(
    frames: Any,
    fps: float | None = None,
    *,
    width: int | None = None,
    max_frames: int | None = None,
) -> InlineVideo:
    """Make an inline notebook video from frames or a video file.

    Parameters
    ----------
    frames : path, ndarray, FrameSource or iterable of frames
        An H.264 ``.mp4`` file is embedded as it is; any other path is read with
        :func:`open_source` and encoded. An array ``(T, H, W[, 3])``, a
        :class:`FrameSource` or an iterable of ``(H, W[, 3])`` frames (uint8, bool
        masks, or float in [0, 1]) is encoded to H.264.
    fps : float, optional
        Frame rate of the encoded video; default: the source's rate, else 25.
    width : int, optional
        Display width in the notebook (CSS pixels).
    max_frames : int, optional
        Encode at most this many frames.

    Returns
    -------
    InlineVideo
        Shown as a ``<video>`` player by Jupyter (``_repr_html_``); ``.data`` holds
        the MP4 bytes and ``.save(path)`` writes them.

    Examples
    --------
    >>> import numpy as np
    >>> video = show_video(np.zeros((3, 32, 32), np.uint8), fps=10)
    >>> video._repr_html_().startswith("<video")
    True
    """
    if width is not None:
        width = check_int("width", width, low=1)
    if max_frames is not None:
        max_frames = check_int("max_frames", max_frames, low=1)
    if fps is not None:
        fps = check_real("fps", fps, low=0.0, low_inclusive=False, high=1000.0)
    if isinstance(frames, str | os.PathLike) and max_frames is None and _is_browser_mp4(frames):
        data = Path(frames).read_bytes()
    else:
        data = _encode(frames, fps, max_frames)
    if len(data) > _LARGE:
        logger.warning(
            "inline video of %.1f MiB will make the notebook large and slow; "
            "consider fewer frames (max_frames=) or a smaller size",
            len(data) / 1024**2,
        )
    return InlineVideo(data, width=width)


def _is_browser_mp4(path: StrPath) -> bool:
    """Whether ``path`` is an MP4 whose video browsers play (H.264, yuv420p)."""
    p = Path(path)
    if p.suffix.lower() not in (".mp4", ".m4v") or not p.is_file():
        return False
    import av

    try:
        with av.open(str(p)) as container:
            streams = container.streams.video
            if not streams or streams[0].codec_context is None:
                return False
            cc = streams[0].codec_context
            return cc.name == "h264" and cc.pix_fmt == "yuv420p"
    except (av.FFmpegError, OSError):
        return False


def _encode(frames: Any, fps: float | None, max_frames: int | None) -> bytes:
    from bgmix.io._open import open_source
    from bgmix.io._sink import open_sink
    from bgmix.io._source import FrameSource

    owned = None
    if isinstance(frames, str | os.PathLike | np.ndarray | FrameSource):
        owned = None if isinstance(frames, FrameSource) else open_source(frames)
        source = owned or frames
        if fps is None:
            fps = source.info.fps
        iterable: Iterable[Any] = source
    else:
        iterable = frames
    try:
        with tempfile.TemporaryDirectory(prefix="bgmix-video-") as tmp:
            target = Path(tmp) / "video.mp4"
            with open_sink(target, fps=fps or 25.0, preset="veryfast", crf=20) as sink:
                for i, frame in enumerate(iterable):
                    if max_frames is not None and i >= max_frames:
                        break
                    sink.write(frame)
            return target.read_bytes()
    finally:
        if owned is not None:
            owned.close()
