"""Regions of interest: polygons (``"x0,y0 x1,y1 x2,y2 ..."``), files of polygons, or
mask images, rasterised to a boolean mask of the analysed frame size.

Coordinates are full-resolution pixels of the input. Two points give a rectangle
(opposite corners). A region with a vertex outside the frame is an error, so that a
region drawn for another camera or resolution is not silently clipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.exceptions import InputError, ParameterError

__all__ = ["Region", "parse_region", "rasterise_region"]

_POINT = re.compile(r"^\s*(-?\d+(?:\.\d*)?)\s*,\s*(-?\d+(?:\.\d*)?)\s*$")
_IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".pgm")

#: A parsed region: a list of polygons ``(N, 2)`` float arrays, or an ``(H, W)`` bool mask.
Region = list[np.ndarray] | np.ndarray


def _parse_polygon(text: str, origin: str) -> np.ndarray:
    points = []
    for token in text.replace(";", " ").split():
        m = _POINT.match(token)
        if not m:
            raise ParameterError(
                f"{origin}: {token!r} is not a point x,y (a region is 'x0,y0 x1,y1 x2,y2 ...')"
            )
        points.append((float(m.group(1)), float(m.group(2))))
    if len(points) == 2:
        (x0, y0), (x1, y1) = points
        points = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if len(points) < 3:
        raise ParameterError(
            f"{origin}: a region needs 2 corners of a rectangle or at least 3 polygon "
            f"points; got {len(points)}"
        )
    return np.asarray(points, np.float64)


def parse_region(spec: Any) -> Region | None:
    """Read a region of interest.

    Parameters
    ----------
    spec : None, str, path, sequence or ndarray
        * ``"x0,y0 x1,y1 x2,y2 ..."``: one polygon (two points: a rectangle);
        * a sequence of such strings, or of ``(N, 2)`` point arrays: several polygons
          (their union);
        * a text file with one polygon per line (``#`` starts a comment);
        * an image file (png, bmp, jpg, tif): non-zero pixels are the region;
        * an ``(H, W)`` bool or uint8 array: non-zero is the region.

    Returns
    -------
    list of (N, 2) float arrays, (H, W) bool array, or None (whole frame)

    Raises
    ------
    ParameterError
        A malformed polygon. ``SourceNotFoundError``/``InputError``: an unreadable file.

    Examples
    --------
    >>> [p.tolist() for p in parse_region("0,0 10,0 10,5")]
    [[[0.0, 0.0], [10.0, 0.0], [10.0, 5.0]]]
    """
    if spec is None:
        return None
    if isinstance(spec, np.ndarray) and spec.ndim == 2 and spec.shape[1] != 2:
        return spec.astype(bool)
    if isinstance(spec, np.ndarray):
        return [_check_points(spec, "roi")]
    if isinstance(spec, str | Path) and _looks_like_file(spec):
        return _read_file(Path(spec))
    if isinstance(spec, str):
        return [_parse_polygon(spec, f"roi {spec!r}")]
    if isinstance(spec, Sequence):
        polygons: list[np.ndarray] = []
        for item in spec:
            region = parse_region(item)
            if isinstance(region, np.ndarray):
                if len(spec) > 1:
                    raise ParameterError("roi: a mask image cannot be combined with polygons")
                return region
            polygons.extend(region or [])
        return polygons or None
    raise ParameterError(f"roi must be polygons, a file or a mask; got {type(spec).__name__}")


def _check_points(points: np.ndarray, origin: str) -> np.ndarray:
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3 or not np.isfinite(p).all():
        raise ParameterError(f"{origin}: a polygon is an (N, 2) array of N >= 3 finite points")
    return p


def _looks_like_file(spec: str | Path) -> bool:
    text = str(spec)
    if isinstance(spec, Path) or Path(text).suffix.lower() in (*_IMAGE_SUFFIXES, ".txt"):
        return True
    return "," not in text and Path(text).exists()


def _read_file(path: Path) -> Region:
    from bgmix.exceptions import SourceNotFoundError

    if not path.is_file():
        raise SourceNotFoundError(f"roi file {str(path)!r} does not exist")
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                return np.asarray(im.convert("L")) > 0
        except (OSError, UnidentifiedImageError) as exc:
            raise InputError(f"roi image {str(path)!r} cannot be read: {exc}") from None
    polygons = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            polygons.append(_parse_polygon(line, f"roi file {str(path)!r} line {n}"))
    if not polygons:
        raise InputError(f"roi file {str(path)!r} holds no polygon")
    return polygons


def rasterise_region(
    region: Region | None, full_size: tuple[int, int], size: tuple[int, int]
) -> np.ndarray | None:
    """The region as an ``(h, w)`` bool mask of the analysed frames.

    Parameters
    ----------
    region : polygons, mask or None
        From :func:`parse_region`, in full-resolution pixels.
    full_size : (W, H)
        Full-resolution frame size (the coordinates' frame).
    size : (w, h)
        Size of the analysed (possibly downscaled) frames.

    Raises
    ------
    ParameterError
        A vertex outside the frame, a mask image of another size, or an empty region.
    """
    if region is None:
        return None
    import cv2

    fw, fh = full_size
    w, h = size
    if isinstance(region, np.ndarray):
        if region.shape != (fh, fw):
            raise ParameterError(
                f"roi mask is {region.shape[1]}x{region.shape[0]} but the frames are {fw}x{fh}"
            )
        small = cv2.resize(region.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        mask = small > 0
    else:
        mask8 = np.zeros((h, w), np.uint8)
        for poly in region:
            bad = (poly[:, 0] < 0) | (poly[:, 0] > fw) | (poly[:, 1] < 0) | (poly[:, 1] > fh)
            if bad.any():
                x, y = poly[np.argmax(bad)]
                raise ParameterError(
                    f"roi point ({x:g}, {y:g}) lies outside the {fw}x{fh} frame "
                    f"(x in [0, {fw}], y in [0, {fh}])"
                )
            pts = np.round(poly * (w / fw, h / fh) * 16).astype(np.int32)
            cv2.fillPoly(mask8, [pts], 1, lineType=cv2.LINE_8, shift=4)
        mask = mask8 > 0
    if not mask.any():
        raise ParameterError("roi covers no pixel of the frame")
    return mask
