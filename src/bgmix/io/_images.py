"""Single images: numbered listing of image folders and reading one image.

Frames and ground-truth masks are paired by the **last integer in the file name**
(``in000123.png``, ``frame_123.jpg``, ``gt0123.png`` and ``b00123.bmp`` are all frame
123), and folders are ordered by that number, never by name, so ``frame_10.jpg``
comes after ``frame_2.jpg``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from bgmix._typing import StrPath
from bgmix.exceptions import EmptySourceError, InputError, SourceNotFoundError, SourceOpenError

__all__ = ["IMAGE_SUFFIXES", "frame_number", "list_numbered_images", "read_image"]

#: File suffixes read as images (compared case-insensitively).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_LAST_INT = re.compile(r"(\d+)(?!.*\d)")


def frame_number(path: StrPath) -> int | None:
    """The last integer in a file name's stem, or None when it has none.

    Examples
    --------
    >>> frame_number("in000123.png"), frame_number("frame_10.jpg"), frame_number("bg.png")
    (123, 10, None)
    """
    m = _LAST_INT.search(Path(path).stem)
    return int(m.group(1)) if m else None


def list_numbered_images(folder: StrPath, *, what: str = "image folder") -> list[tuple[int, Path]]:
    """Images of ``folder`` as ``(number, path)`` pairs, ordered by number.

    Parameters
    ----------
    folder : path
        A folder of images named with a frame number.
    what : str
        How the folder is called in error messages.

    Raises
    ------
    SourceNotFoundError
        ``folder`` does not exist.
    EmptySourceError
        ``folder`` is empty or holds no image files.
    InputError
        An image has no number in its name, or two images share a number
        (``frame_1.jpg`` and ``frame_01.png``).
    """
    p = Path(folder)
    if not p.exists():
        raise SourceNotFoundError(f"{what} {str(p)!r} does not exist")
    if not p.is_dir():
        raise InputError(f"{what} {str(p)!r} is not a folder")
    entries = [e for e in p.iterdir() if e.is_file() and not e.name.startswith(".")]
    if not entries:
        raise EmptySourceError(f"{what} {str(p)!r} is empty")
    images = [e for e in entries if e.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        kinds = ", ".join(sorted({e.suffix.lower() or "(no suffix)" for e in entries})[:5])
        raise EmptySourceError(
            f"{what} {str(p)!r} holds no images (found {len(entries)} files of type {kinds}; "
            f"expected {', '.join(IMAGE_SUFFIXES)})"
        )
    numbered: dict[int, Path] = {}
    for img in images:
        n = frame_number(img)
        if n is None:
            hint = (
                f"; {str(p)!r} looks like a CDnet sequence: give its frames, {str(p / 'input')!r}"
                if (p / "input").is_dir()
                else ""
            )
            raise InputError(
                f"{what} {str(p)!r}: image {img.name!r} has no frame number in its name{hint}"
            )
        if n in numbered:
            raise InputError(
                f"{what} {str(p)!r}: images {numbered[n].name!r} and {img.name!r} "
                f"both have frame number {n}"
            )
        numbered[n] = img
    return sorted(numbered.items())


def read_image(path: StrPath, *, mode: str | None = "RGB") -> np.ndarray:
    """Read one image file into a NumPy array.

    Parameters
    ----------
    path : path
        png, jpg, bmp or tif file.
    mode : {"RGB", "L", None}, default "RGB"
        ``"RGB"`` gives ``(H, W, 3)`` uint8; ``"L"`` gives ``(H, W)`` uint8 grey.
        Palette images are converted through their palette, so a CDnet mask or
        ``ROI.bmp`` stored as palette indices reads as its grey values.
        ``None`` keeps the file's own values (16-bit label maps stay uint16;
        palette images are still resolved to grey or RGB).

    Raises
    ------
    SourceNotFoundError
        The file does not exist.
    SourceOpenError
        The file is not a readable image (corrupt, truncated, not an image).
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise SourceNotFoundError(f"image {str(p)!r} does not exist")
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                if mode is None and _is_grey(im):
                    im = im.convert("L")
            if mode is not None and im.mode != mode:
                im = im.convert(mode)
            elif mode is None and im.mode in ("RGBA", "LA", "CMYK", "YCbCr"):
                im = im.convert("RGB")
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SourceOpenError(f"image {str(p)!r} cannot be read: {exc}") from None
    if mode is None and arr.dtype == np.int32:
        arr = arr.astype(np.uint32) if arr.min() >= 0 else arr
    return np.ascontiguousarray(arr)


def _is_grey(im) -> bool:
    arr = np.asarray(im)
    return bool(
        arr.ndim == 3 and (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    )
