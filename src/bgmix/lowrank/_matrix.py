"""The frame matrix: a video as a (pixels x frames) matrix, one column per frame.

Layout
------
Frame ``t`` of size ``H x W`` with ``C`` channels becomes column ``t``; the pixel at
row ``y``, column ``x`` and channel ``c`` is row ``c * H * W + y * W + x``: the channel
planes are stacked (all the red values, then all the green, then all the blue), each
plane in row-major order. Intensities are on the 0–255 scale whatever the input dtype
(float frames in [0, 1] are multiplied by 255). The array is Fortran-ordered, so each
column (frame) is contiguous in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_output
from bgmix._typing import StrPath
from bgmix._validation import as_frame, check_frame_size, check_int, check_real
from bgmix.exceptions import (
    EmptySourceError,
    FrameFormatError,
    InputError,
    ParameterError,
)

__all__ = ["LUMA", "frame_matrix", "frames_from_matrix", "to_frame"]

logger = logging.getLogger(__name__)

#: ITU-R BT.601 luma weights (R, G, B) used for grey conversion.
LUMA = (0.299, 0.587, 0.114)

_CACHE_VERSION = 1


def _check_options(
    grey: Any, scale: Any, size: Any, start: Any, stop: Any, stride: Any, dtype: Any
) -> tuple[bool, float | None, tuple[int, int] | None, int, int | None, int, np.dtype]:
    if not isinstance(grey, (bool, np.bool_)):
        raise ParameterError(f"grey must be True or False; got {grey!r}")
    if scale is not None and size is not None:
        raise ParameterError(f"give scale or size, not both; got scale={scale!r}, size={size!r}")
    sc = None if scale is None else check_real("scale", scale, low=0.0, low_inclusive=False)
    sz = None
    if size is not None:
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise ParameterError(f"size must be (width, height); got {size!r}")
        sz = (check_int("size width", size[0], low=1), check_int("size height", size[1], low=1))
    st = check_int("start", start, low=0)
    sp = None if stop is None else check_int("stop", stop, low=st + 1)
    sd = check_int("stride", stride, low=1)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ParameterError(f"dtype must be float32 or float64; got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ParameterError(f"dtype must be float32 or float64; got {dt}")
    return bool(grey), sc, sz, st, sp, sd, dt


class _Converter:
    """Validates frames and turns each into one column (grey, resized, planar)."""

    def __init__(
        self, grey: bool, scale: float | None, size: tuple[int, int] | None, dtype: np.dtype
    ):
        self.grey, self.scale, self.size, self.dtype = grey, scale, size, dtype
        self.in_shape: tuple[int, int, int] | None = None
        self.out_shape: tuple[int, int, int] | None = None

    def __call__(self, frame: Any, index: int) -> np.ndarray:
        name = f"frame {index}"
        x = as_frame(frame, name=name)
        if self.in_shape is None:
            self.in_shape = x.shape
            h, w, c = x.shape
            if self.size is not None:
                w2, h2 = self.size
            elif self.scale is not None:
                w2, h2 = max(1, round(w * self.scale)), max(1, round(h * self.scale))
            else:
                w2, h2 = w, h
            self.out_shape = (h2, w2, 1 if self.grey else c)
        elif self.size is None and self.scale is None:
            check_frame_size(x, self.in_shape, name=name)
        elif x.shape[2] != self.in_shape[2]:
            check_frame_size(x, (*x.shape[:2], self.in_shape[2]), name=name)
        img = x.astype(np.float32)
        if self.grey and img.shape[2] == 3:
            r, g, b = LUMA
            img = (r * img[:, :, 0] + g * img[:, :, 1] + b * img[:, :, 2])[:, :, None]
        h2, w2, _ = self.out_shape  # type: ignore[misc]
        if img.shape[:2] != (h2, w2):
            import cv2

            shrink = h2 * w2 < img.shape[0] * img.shape[1]
            resized = cv2.resize(
                img, (w2, h2), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
            img = resized.reshape(h2, w2, img.shape[2])
        return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=self.dtype).reshape(-1)


def _array_frames(arr: np.ndarray) -> np.ndarray:
    if arr.ndim not in (3, 4):
        raise FrameFormatError(
            f"frames: expected an array (T, H, W) or (T, H, W, C), got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise EmptySourceError("frames: the array holds no frames (T = 0)")
    return arr


def _source_identity(src: Any) -> dict[str, Any]:
    if isinstance(src, np.ndarray):
        h = hashlib.sha1(np.ascontiguousarray(src).view(np.uint8).reshape(-1)).hexdigest()
        return {"array_sha1": h, "shape": list(src.shape), "dtype": str(src.dtype)}
    p = Path(src).resolve()
    st = p.stat()
    ident: dict[str, Any] = {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if p.is_dir():
        listing = sorted(
            (e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in p.iterdir() if e.is_file()
        )
        ident["listing_sha1"] = hashlib.sha1(json.dumps(listing).encode()).hexdigest()
    return ident


def _read_cache(cache: Path, key: dict[str, Any]) -> tuple[np.ndarray, tuple[int, ...]] | None:
    meta_path = Path(str(cache) + ".json")
    if not cache.is_file() or not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("key") != key:
            logger.info("frame matrix cache %s was built from another source or options", cache)
            return None
        M = np.load(cache, allow_pickle=False)
    except (OSError, ValueError) as exc:
        logger.warning("frame matrix cache %s is unreadable (%s): rebuilding it", cache, exc)
        return None
    if list(M.shape) != meta.get("shape") or str(M.dtype) != meta.get("dtype"):
        logger.warning("frame matrix cache %s does not match its record: rebuilding it", cache)
        return None
    logger.info("frame matrix %s read from cache %s", M.shape, cache)
    return M, tuple(meta["frame_shape"])


def _write_cache(
    cache: Path, key: dict[str, Any], M: np.ndarray, frame_shape: tuple[int, ...]
) -> None:
    meta_path = Path(str(cache) + ".json")
    meta_path.unlink(missing_ok=True)  # never leave a record describing another matrix
    with atomic_output(cache, what="frame matrix cache") as tmp:
        np.save(tmp, M)
    meta = {
        "key": key,
        "shape": list(M.shape),
        "dtype": str(M.dtype),
        "frame_shape": list(frame_shape),
    }
    with atomic_output(meta_path, what="frame matrix cache record") as tmp:
        tmp.write_text(json.dumps(meta, indent=1))


def frame_matrix(
    src: StrPath | np.ndarray | Iterable[np.ndarray],
    *,
    grey: bool = True,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    dtype: Any = np.float32,
    cache: StrPath | None = None,
    return_shape: bool = False,
    progress: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[int, int, int]]:
    """Build the (pixels x frames) matrix of a video, one column per frame.

    Parameters
    ----------
    src : path, ndarray or iterable of frames
        A video file, image folder or anything :func:`bgmix.io.open_source` opens; an
        array ``(T, H, W)`` or ``(T, H, W, C)`` (uint8, or float in [0, 1]); or any
        iterable of ``(H, W[, C])`` frames (a list, a generator, an open source).
    grey : bool, default True
        Convert RGB frames to grey with the BT.601 luma weights (:data:`LUMA`),
        without rounding. False keeps the frames' channels.
    scale : float, optional
        Resize every frame by this factor (``cv2.INTER_AREA`` when shrinking).
    size : (width, height), optional
        Resize every frame to this size (instead of ``scale``).
    start, stop, stride : int
        Keep the frames at 0-based positions ``range(start, stop, stride)``.
    dtype : float32 or float64, default float32
        dtype of the matrix.
    cache : path, optional
        A ``.npy`` file: when it exists and its record (``<cache>.json``) shows it was
        built from the same source (path, size and modification time of the file or
        of every file in the folder; the content hash of an array) with the same
        options, it is read instead of decoding the video; otherwise the matrix is
        built and written there (atomically, then the record). Not available for
        generic iterables, which cannot be identified without reading them.
    return_shape : bool, default False
        Also return the frame shape ``(H, W, C)`` of the columns.
    progress : bool, default False
        Report progress on stderr while frames are read.

    Returns
    -------
    M : (H * W * C, T) ndarray
        Fortran-ordered; column ``t`` is the ``t``-th kept frame, rows in the layout of
        this module (channel planes stacked), values on the 0–255 scale.
    frame_shape : (H, W, C) tuple
        Only with ``return_shape=True``.

    Raises
    ------
    SourceNotFoundError, SourceOpenError, EmptySourceError
        The source is missing, unreadable or yields no frame.
    FrameFormatError, FrameSizeError
        A frame has a bad dtype/shape/values, or changes size (without ``size`` or
        ``scale``) or channel count.
    ParameterError
        An option is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)  # T=2 grey 2x3
    >>> frame_matrix(frames).shape
    (6, 2)
    >>> frame_matrix(frames)[:, 1].tolist()
    [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    """
    opts = _check_options(grey, scale, size, start, stop, stride, dtype)
    grey_v, scale_v, size_v, start_v, stop_v, stride_v, dtype_v = opts
    is_path = isinstance(src, (str, os.PathLike))
    key: dict[str, Any] | None = None
    cache_path: Path | None = None
    if cache is not None:
        if not isinstance(cache, (str, os.PathLike)) or Path(cache).suffix != ".npy":
            raise ParameterError(f"cache must be a path ending in .npy; got {cache!r}")
        if not (is_path or isinstance(src, np.ndarray)):
            raise ParameterError(
                "cache needs a path or an array as source: a generic iterable of frames "
                "cannot be recognised again without reading it"
            )
        cache_path = Path(cache)
        if is_path and not Path(src).exists():
            from bgmix.exceptions import SourceNotFoundError

            raise SourceNotFoundError(f"source {str(src)!r} does not exist")
        key = {
            "version": _CACHE_VERSION,
            "source": _source_identity(src),
            "options": {
                "grey": grey_v,
                "scale": scale_v,
                "size": list(size_v) if size_v else None,
                "start": start_v,
                "stop": stop_v,
                "stride": stride_v,
                "dtype": str(dtype_v),
            },
        }
        hit = _read_cache(cache_path, key)
        if hit is not None:
            M, shape = hit
            return (M, shape) if return_shape else M  # type: ignore[return-value]

    conv = _Converter(grey_v, scale_v, size_v, dtype_v)
    if isinstance(src, np.ndarray):
        arr = _array_frames(src)
        positions = range(
            start_v, arr.shape[0] if stop_v is None else min(stop_v, arr.shape[0]), stride_v
        )
        if len(positions) == 0:
            raise EmptySourceError(
                f"frames: no frame in range({start_v}, {stop_v}, {stride_v}) "
                f"of {arr.shape[0]} frames"
            )
        first = conv(arr[positions[0]], positions[0])
        out = np.empty((len(positions), first.size), dtype_v)
        out[0] = first
        for row, t in enumerate(positions[1:], start=1):
            out[row] = conv(arr[t], t)
    else:
        rows = []
        if is_path:
            from bgmix._progress import progress_bar
            from bgmix.io import open_source

            with (
                open_source(src, start=start_v, stop=stop_v, stride=stride_v) as source,
                progress_bar(source.info.frame_count, "reading frames", enabled=progress) as bar,
            ):
                for i, frame in enumerate(source):
                    rows.append(conv(frame, start_v + i * stride_v))
                    bar.update(1)
        else:
            if not isinstance(src, Iterable):
                raise InputError(
                    "frames: expected a path, an array or an iterable of frames; "
                    f"got {type(src).__name__}"
                )
            for t, frame in enumerate(src):
                if stop_v is not None and t >= stop_v:
                    break
                if t >= start_v and (t - start_v) % stride_v == 0:
                    rows.append(conv(frame, t))
        if not rows:
            raise EmptySourceError(
                f"frames: no frame in range({start_v}, {stop_v}, {stride_v}) of the source"
            )
        out = np.stack(rows)
        del rows
    M = out.T  # (pixels, frames), Fortran-ordered
    shape = conv.out_shape
    assert shape is not None
    logger.debug("frame matrix %s (frames %s)", M.shape, shape)
    if cache_path is not None and key is not None:
        _write_cache(cache_path, key, M, shape)
    return (M, shape) if return_shape else M


def frames_from_matrix(M: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """The frames of a frame matrix (the inverse of :func:`frame_matrix`'s layout).

    Parameters
    ----------
    M : (H * W * C, T) ndarray
        Columns in the layout of :func:`frame_matrix`.
    frame_shape : (H, W) or (H, W, C)

    Returns
    -------
    (T, H, W) or (T, H, W, C) ndarray
        A view when possible, same dtype as ``M`` (grey frames drop the channel axis).
    """
    M = np.asarray(M)
    if len(frame_shape) not in (2, 3):
        raise ParameterError(f"frame_shape must be (H, W) or (H, W, C); got {frame_shape!r}")
    h, w = int(frame_shape[0]), int(frame_shape[1])
    c = int(frame_shape[2]) if len(frame_shape) == 3 else 1
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2 or M.shape[0] != h * w * c:
        raise InputError(
            f"frames_from_matrix: {M.shape[0] if M.ndim else 0} rows do not hold frames of shape "
            f"{tuple(frame_shape)} ({h * w * c} values each)"
        )
    frames = M.T.reshape(M.shape[1], c, h, w).transpose(0, 2, 3, 1)
    return frames[..., 0] if c == 1 else frames


def to_frame(column: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """One column as a displayable uint8 image ``(H, W)`` or ``(H, W, 3)`` (rounded, clipped)."""
    img = frames_from_matrix(np.asarray(column).reshape(-1), frame_shape)[0]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
