"""Regions of interest: the part of the frame where foreground may be found.

A region is one or more polygons, or a mask image; outside it every mask pixel is
background (0). Coordinates are pixels of the *source* frames (``x`` to the right,
``y`` down, ``0,0`` the top-left corner), so a region drawn on the video keeps
working when frames are read with ``scale`` (it is scaled with them).

Accepted forms (:func:`as_roi`):

* a polygon as text, ``"x0,y0 x1,y1 x2,y2 ..."`` (at least 3 points; two points are the
  opposite corners of a rectangle);
* a polygon as a sequence of ``(x, y)`` points;
* a text file with one such polygon per line (blank lines and ``#`` comments are
  ignored);
* a mask image (png, bmp, jpg, tif; non-zero = inside) or a 2-D array, of the
  source's size or of the processed frames' size;
* a list of any of these (their union).

Examples
--------
>>> m = as_roi("0,0 4,0 4,4 0,4", frame_size=(8, 6))
>>> m.shape, int(m.sum())
((6, 8), 25)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.exceptions import ParameterError

__all__ = ["apply_roi", "as_roi", "check_roi", "parse_polygon"]

_IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")


def parse_polygon(text: str, *, name: str = "roi") -> np.ndarray:
    """``"x0,y0 x1,y1 ..."`` -> ``(N, 2)`` float array of points.

    Raises
    ------
    ParameterError
        Text that is not a list of ``x,y`` pairs of numbers.
    """
    points = []
    for token in text.replace(";", " ").split():
        x, sep, y = token.partition(",")
        try:
            if not sep:
                raise ValueError
            points.append((float(x), float(y)))
        except ValueError:
            raise ParameterError(
                f"{name}: {token!r} in {text.strip()!r} is not a point 'x,y'; "
                "expected a polygon 'x0,y0 x1,y1 x2,y2 ...'"
            ) from None
    return np.array(points, np.float64).reshape(-1, 2)


def as_roi(
    roi: Any,
    *,
    frame_size: tuple[int, int],
    source_size: tuple[int, int] | None = None,
    name: str = "roi",
) -> np.ndarray | None:
    """The region ``roi`` as a boolean ``(H, W)`` mask of the processed frames.

    Parameters
    ----------
    roi : str, path, sequence, ndarray or None
        See the module documentation. None gives None (no region: the whole frame).
    frame_size : (width, height)
        Size of the frames the masks are computed on.
    source_size : (width, height), optional
        Size of the source frames the coordinates refer to (default ``frame_size``).
    name : str
        The option's name in messages.

    Raises
    ------
    ParameterError
        A polygon with fewer than 3 points (2 make a rectangle) or a point outside the
        frame, a mask image of another size, an empty region, a file that cannot be read.
    SourceNotFoundError
        A mask image that does not exist.
    """
    if roi is None:
        return None
    fw, fh = frame_size
    sw, sh = source_size or frame_size
    inside = np.zeros((fh, fw), np.uint8)
    polygons: list[np.ndarray] = []
    for kind, label, item in _items(roi, name):
        if kind == "mask":
            inside |= _mask_image(item, label, (fw, fh), (sw, sh))
            continue
        points = _polygon(item, label)
        x, y = points[:, 0], points[:, 1]
        outside = (x < 0) | (x > sw) | (y < 0) | (y > sh) | ~np.isfinite(points).all(axis=1)
        if outside.any():
            px, py = points[np.argmax(outside)]
            raise ParameterError(
                f"{label}: point {px:g},{py:g} lies outside the {sw}x{sh} frame "
                f"(x in 0..{sw}, y in 0..{sh})"
            )
        polygons.append(points * (fw / sw, fh / sh))
    if polygons:
        import cv2

        pts = [np.rint(p).astype(np.int32).reshape(-1, 1, 2) for p in polygons]
        cv2.fillPoly(inside, pts, 1)
    if not inside.any():
        raise ParameterError(f"{name}: the region covers no pixel of the {fw}x{fh} frames")
    return inside.astype(bool)


def check_roi(roi: Any, *, name: str = "roi") -> None:
    """Check the form of ``roi`` before any frame is read (its text, its files): the
    errors of :func:`as_roi` that do not depend on the frame size, raised early."""
    for kind, label, item in _items(roi, name) if roi is not None else []:
        if kind == "polygon":
            _polygon(item, label)


def _polygon(item: Any, label: str) -> np.ndarray:
    """A polygon's ``(N, 2)`` points, N >= 3 (two points: the rectangle they span)."""
    points = np.asarray(item, np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ParameterError(f"{label}: expected a polygon of (x, y) points; got {item!r}")
    if len(points) == 2:  # opposite corners of a rectangle
        (x0, y0), (x1, y1) = points
        points = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], np.float64)
    if len(points) < 3:
        raise ParameterError(
            f"{label}: a polygon needs at least 3 points (or the 2 corners of a "
            f"rectangle); got {len(points)}"
        )
    return points


def apply_roi(mask: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
    """``mask`` with every pixel outside ``inside`` set to 0 (background); a new array."""
    if inside is None:
        return mask
    return np.where(inside, mask, np.uint8(0)).astype(mask.dtype, copy=False)


def _is_mask(value: Any) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 2
        and (value.dtype == np.bool_ or value.shape[1] != 2)
    )


def _items(roi: Any, name: str) -> list[tuple[str, str, Any]]:
    """Flatten ``roi`` into ``(kind, label, value)``: ``("mask", label, 2-D array)`` or
    ``("polygon", label, points)``."""
    if _is_mask(roi):
        return [("mask", f"{name} mask", roi)]
    if isinstance(roi, str | os.PathLike):
        return _from_text_or_path(roi, name)
    if isinstance(roi, Sequence | np.ndarray) and len(roi) > 0:
        if _is_point(roi[0]):
            return [("polygon", name, roi)]  # one polygon given as points
        out: list[tuple[str, str, Any]] = []
        for i, item in enumerate(roi):
            out.extend((k, f"{label} [{i}]", v) for k, label, v in _items(item, name))
        return out
    raise ParameterError(
        f"{name}: expected polygons ('x0,y0 x1,y1 x2,y2 ...' or lists of (x, y) points), "
        f"a text file of polygons or a mask image; got {roi!r}"
    )


def _is_point(value: Any) -> bool:
    if isinstance(value, str | bytes):
        return False
    try:
        return len(value) == 2 and all(np.isscalar(v) and not isinstance(v, str) for v in value)
    except TypeError:
        return False


def _from_text_or_path(roi: str | os.PathLike, name: str) -> list[tuple[str, str, Any]]:
    text = os.fspath(roi)
    path = Path(text)
    looks_like_points = "," in text and not path.suffix
    if not looks_like_points and path.suffix.lower() in _IMAGE_SUFFIXES:
        from bgmix.exceptions import InputError, SourceNotFoundError
        from bgmix.io import read_image

        if not path.is_file():
            raise SourceNotFoundError(f"{name} mask image {text!r} does not exist")
        try:
            return [("mask", f"{name} mask {text!r}", read_image(path, mode="L") > 0)]
        except InputError as exc:
            raise ParameterError(f"{name}: {exc}") from None
    if not looks_like_points and path.is_file():
        polygons = []
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                label = f"{name} file {text!r} line {lineno}"
                polygons.append(("polygon", label, parse_polygon(line, name=label)))
        if not polygons:
            raise ParameterError(f"{name}: the file {text!r} holds no polygon")
        return polygons
    if not looks_like_points:
        raise ParameterError(
            f"{name}: {text!r} is neither a polygon 'x0,y0 x1,y1 x2,y2 ...' nor an existing "
            "file of polygons or mask image"
        )
    return [("polygon", f"{name} {text.strip()!r}", parse_polygon(text, name=name))]


def _mask_image(
    image: np.ndarray, label: str, frame_size: tuple[int, int], source_size: tuple[int, int]
) -> np.ndarray:
    h, w = image.shape
    if (w, h) == frame_size:
        return (image != 0).astype(np.uint8)
    if (w, h) != source_size:
        sizes = f"{source_size[0]}x{source_size[1]}"
        if frame_size != source_size:
            sizes += f" (or the scaled {frame_size[0]}x{frame_size[1]})"
        raise ParameterError(f"{label} is {w}x{h}; the frames are {sizes}")
    import cv2

    small = cv2.resize((image != 0).astype(np.uint8), frame_size, interpolation=cv2.INTER_NEAREST)
    return small
