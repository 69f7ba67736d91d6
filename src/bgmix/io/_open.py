"""``open_source`` (choose the backend for any input) and ``read_frames``."""

from __future__ import annotations

import numbers
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._typing import StrPath
from bgmix._validation import check_choice, check_int, check_real
from bgmix.exceptions import InputError, ParameterError, SourceNotFoundError, SourceOpenError
from bgmix.io._images import IMAGE_SUFFIXES
from bgmix.io._source import FrameSource, _Options

__all__ = ["DEFAULT_MAX_BYTES", "SOURCE_KINDS", "open_source", "read_frames"]

#: The backend of each ``open_source(kind=...)`` that opens a path: "module:callable",
#: imported only when used. Arrays and lists of frames are the ``"array"`` kind.
_PATH_BACKENDS = {
    "folder": "bgmix.io._folder:ImageFolderSource",
    "image": "bgmix.io._folder:ImageFileSource",
    "video": "bgmix.io._video:VideoFileSource",
    "gif": "bgmix.io._gif:GifSource",
    "camera": "bgmix.io._camera:CaptureSource",
    "npy": "bgmix.io._array:open_npy",
    "npz": "bgmix.io._array:NpzSource",
}

#: Values of ``open_source(kind=...)``.
SOURCE_KINDS = (*_PATH_BACKENDS, "array")

#: Default memory budget of :func:`read_frames` (4 GiB).
DEFAULT_MAX_BYTES = 4 * 1024**3


def open_source(
    src: StrPath | int | np.ndarray | Sequence[np.ndarray] | FrameSource,
    *,
    grey: bool = False,
    size: tuple[int, int] | None = None,
    scale: float | None = None,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    on_error: str = "skip",
    prefetch: int = 0,
    kind: str | None = None,
    timeout: float = 10.0,
) -> FrameSource:
    """Open frames from a folder, video, GIF, image, camera, stream or array.

    Parameters
    ----------
    src : path, int, str, ndarray or sequence of ndarrays
        * a folder of images (png, jpg, jpeg, bmp, tif), ordered by the **last
          integer in the file name** (``frame_10.jpg`` after ``frame_2.jpg``);
        * a video file (mp4, avi, mov, mkv, webm, ... decoded by PyAV/FFmpeg);
        * an animated GIF; a single still image (one frame);
        * a ``.npy`` file (memory-mapped) or an ``.npz`` archive (as written by
          :func:`open_sink`);
        * a camera index (``0``, or the string ``"0"`` when no such file exists), a
          device path (``/dev/video0``) or a stream URL (``rtsp://``, ``http(s)://``,
          ``udp://``...) read through OpenCV;
        * an array ``(T, H, W)`` or ``(T, H, W, C)`` (uint8, or float in [0, 1]), or a
          sequence of ``(H, W[, C])`` frames, read one frame at a time;
        * an open :class:`FrameSource`, returned as it is (no other option allowed).
    grey : bool, default False
        Yield ``(H, W)`` grey frames (ITU-R BT.601 luma).
    size : (width, height), optional
        Resize every frame to this size. Frames of a source whose size changes
        mid-stream are then all resized, instead of raising ``FrameSizeError``.
    scale : float, optional
        Resize by this factor (from the first frame's size). Shrinking uses
        ``cv2.INTER_AREA``, enlarging ``cv2.INTER_LINEAR``.
    start, stop, stride : int
        Keep the frames at 0-based positions ``range(start, stop, stride)`` of the
        source (positions in the file list for image folders, not file numbers).
    on_error : {"skip", "raise"}, default "skip"
        A frame that cannot be decoded (damaged image in a folder, corrupt packet in
        a video) is skipped with a logged warning and counted in
        ``source.skipped``, or raises :class:`~bgmix.exceptions.CorruptFrameError`.
    prefetch : int, default 0
        Decode up to this many frames ahead in a background thread (0: no thread).
    kind : str, optional
        Force the backend (one of ``SOURCE_KINDS``) instead of choosing it from
        the input, e.g. ``kind="video"`` for a video file with an unusual suffix.
    timeout : float, default 10
        Seconds a stream may take to connect and to deliver each frame.

    Returns
    -------
    FrameSource
        A context manager and iterable of uint8 frames ``(H, W, 3)`` RGB, or
        ``(H, W)`` when ``grey=True`` or the source is itself grey (an image folder
        of grey images, a grey video, a 3-D array: no colour is invented). ``info``
        is a :class:`VideoInfo`; ``numbered()`` yields ``(frame_number, frame)``.

    Raises
    ------
    SourceNotFoundError
        The path does not exist.
    EmptySourceError
        An empty folder, a folder without images, a video without frames, or a
        selection (``start``) that keeps no frame.
    SourceOpenError
        A file that cannot be opened or has no decodable frame, an unknown file type,
        a camera or stream that cannot be opened.
    FrameFormatError
        An array of the wrong dtype, shape or channel count.
    ParameterError
        An invalid option.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.zeros((5, 48, 64, 3), np.uint8)
    >>> with open_source(frames, grey=True, stride=2) as src:
    ...     print(src.info.frame_count, [f.shape for f in src])
    3 [(48, 64), (48, 64), (48, 64)]
    """
    options = _Options.validate(
        grey=grey,
        size=size,
        scale=scale,
        start=start,
        stop=stop,
        stride=stride,
        on_error=on_error,
        prefetch=prefetch,
    )
    timeout = check_real("timeout", timeout, low=0.0, low_inclusive=False)
    if kind is not None:
        check_choice("kind", kind, SOURCE_KINDS)
    if isinstance(src, FrameSource):
        if options != _Options() or kind is not None:
            raise ParameterError(
                "open_source(source) of an already open FrameSource accepts no other option"
            )
        return src
    if isinstance(src, np.ndarray) or (
        isinstance(src, list | tuple) and all(isinstance(f, np.ndarray) for f in src)
    ):
        from bgmix.io._array import ArraySource

        _expect_kind(kind, "array", src)
        return ArraySource(src, options)
    if isinstance(src, bool) or not isinstance(src, numbers.Integral | str | os.PathLike):
        raise ParameterError(
            "src must be a path, a camera index, a URL or an array of frames; "
            f"got {type(src).__name__}"
        )
    if isinstance(src, numbers.Integral):
        index = check_int("camera index", src, low=0)
        return _camera(index, options, kind, timeout)
    text = os.fspath(src)
    if not isinstance(text, str):
        raise ParameterError(f"src must be a text path; got {text!r}")
    from bgmix.io._camera import is_stream_url

    if is_stream_url(text):
        return _camera(text, options, kind, timeout)
    path = Path(text)
    if not path.exists():
        if text.strip().isdigit() and kind in (None, "camera"):
            return _camera(int(text), options, kind, timeout)
        raise SourceNotFoundError(f"source {text!r} does not exist")
    return _open_path(path, options, kind, timeout)


def _camera(target: int | str, options: _Options, kind: str | None, timeout: float) -> FrameSource:
    from bgmix.io._camera import CaptureSource

    _expect_kind(kind, "camera", target)
    return CaptureSource(target, options, timeout=timeout)


def _expect_kind(kind: str | None, actual: str, src: Any) -> None:
    if kind is not None and kind != actual:
        what = type(src).__name__ if not isinstance(src, str | int) else repr(src)
        raise ParameterError(f"kind={kind!r} does not apply to {what} (a {actual} source)")


def _open_path(path: Path, options: _Options, kind: str | None, timeout: float) -> FrameSource:
    import importlib

    if kind is None:
        kind = _guess_kind(path)
    if kind not in _PATH_BACKENDS:
        raise ParameterError(f"kind={kind!r} does not apply to a path")
    if path.is_dir() != (kind == "folder"):
        what = "is a folder" if path.is_dir() else "is not a folder"
        raise InputError(f"kind={kind!r} but {str(path)!r} {what}")
    module, _, name = _PATH_BACKENDS[kind].partition(":")
    backend = getattr(importlib.import_module(module), name)
    if kind == "camera":
        return backend(str(path), options, timeout=timeout)
    return backend(path, options)


def _guess_kind(path: Path) -> str:
    from bgmix.io._video import VIDEO_SUFFIXES

    if path.is_dir():
        return "folder"
    if stat.S_ISCHR(path.stat().st_mode):
        return "camera"  # a capture device such as /dev/video0
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in (".npy", ".npz"):
        return suffix[1:]
    shown = repr(suffix) if suffix else "(no suffix)"
    raise SourceOpenError(
        f"source {str(path)!r}: unknown file type {shown}; expected a video "
        f"({', '.join(VIDEO_SUFFIXES[:6])}, ...), an image ({', '.join(IMAGE_SUFFIXES)}), "
        "a .gif, .npy or .npz file, or an image folder (pass kind='video' to decode it "
        "with FFmpeg anyway)"
    )


def read_frames(
    src: StrPath | int | np.ndarray | Sequence[np.ndarray] | FrameSource,
    *,
    max_frames: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **options: Any,
) -> np.ndarray:
    """Read a whole source into one array, for batch methods.

    Parameters
    ----------
    src
        Anything :func:`open_source` accepts. An open :class:`FrameSource` is read
        and left open; a source opened here is closed.
    max_frames : int, optional
        Read at most this many frames (after ``start``/``stride``).
    max_bytes : int, default 4 GiB
        Memory budget of the result; reading more raises before it is allocated.
    **options
        The keyword options of :func:`open_source` (``grey``, ``size``, ``scale``,
        ``start``, ``stop``, ``stride``, ``on_error``, ``prefetch``, ``kind``...).

    Returns
    -------
    (T, H, W) or (T, H, W, 3) uint8 ndarray

    Raises
    ------
    InputError
        The frames would need more than ``max_bytes`` of memory; the message gives
        the size and the options that reduce it.
    """
    if max_frames is not None:
        max_frames = check_int("max_frames", max_frames, low=1)
    max_bytes = check_int("max_bytes", max_bytes, low=1)
    owned = not isinstance(src, FrameSource)
    source = open_source(src, **options)
    try:
        info = source.info
        frame_bytes = int(np.prod(info.shape))
        expected = info.frame_count
        if max_frames is not None:
            expected = max_frames if expected is None else min(expected, max_frames)
        if expected is not None:
            _check_budget(source, expected, frame_bytes, max_bytes, exact=True)
        budget_frames = max_bytes // frame_bytes
        chunks: list[np.ndarray] = []
        out = np.empty((expected, *info.shape), np.uint8) if expected else None
        n = 0
        for frame in source:
            if out is not None and n < len(out):
                out[n] = frame
            else:
                if n + 1 > budget_frames:
                    _check_budget(source, n + 1, frame_bytes, max_bytes, exact=False)
                chunks.append(frame)
            n += 1
            if max_frames is not None and n >= max_frames:
                break  # before decoding one more frame
        if out is None:
            return np.stack(chunks) if chunks else np.empty((0, *info.shape), np.uint8)
        if n < len(out):
            return out[:n].copy() if n < len(out) // 2 else out[:n]
        return np.concatenate([out, np.stack(chunks)]) if chunks else out
    finally:
        if owned:
            source.close()


def _check_budget(
    source: FrameSource, n: int, frame_bytes: int, max_bytes: int, *, exact: bool
) -> None:
    need = n * frame_bytes
    if need <= max_bytes:
        return
    i = source.info
    count = f"{n} frames" if exact else f"more than {n - 1} frames"
    raise InputError(
        f"source {source.name!r}: {count} of {i.width}x{i.height}x{i.channels} need "
        f"{_human(need)}{'' if exact else ' or more'}, more than max_bytes={_human(max_bytes)}; "
        "read fewer frames (max_frames=, stop=, stride=), smaller ones (scale=, size=, "
        "grey=True), or raise max_bytes"
    )


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError  # pragma: no cover
