"""Reading a sequence in CDnet layout: frames, ground truth, ROI and temporal ROI.

A sequence is a folder::

    highway/
        input/          in000001.jpg ...   (any numbered image names)
        groundtruth/    gt000001.png ...   (paired with frames by the last integer)
        ROI.bmp         optional: non-zero = evaluated pixel
        temporalROI.txt optional: "first last" evaluated frame numbers, inclusive

and CDnet's dataset is ``dataset/<category>/<sequence>/``, so a sequence's category
defaults to the name of its parent folder.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bgmix._typing import StrPath
from bgmix.exceptions import (
    EmptySourceError,
    GroundTruthError,
    InputError,
    SourceNotFoundError,
    SourceOpenError,
)
from bgmix.io._images import list_numbered_images, read_image

__all__ = ["Sequence", "find_sequences", "read_groundtruth", "read_sequence"]

logger = logging.getLogger(__name__)

_MAX_LISTED = 5


@dataclass(frozen=True, eq=False)
class Sequence:
    """A sequence with ground truth in CDnet layout, as read by :func:`read_sequence`.

    Attributes
    ----------
    path : Path
        The sequence folder.
    name : str
        The folder's name.
    category : str
        CDnet category (by default the parent folder's name).
    input_frames : list of (int, Path)
        Every input frame, ordered by frame number.
    groundtruth : dict of int to Path
        Ground-truth mask of each annotated frame number.
    roi : (H, W) bool ndarray
        Spatial region of interest (True = evaluated).
    temporal_roi : (int, int)
        First and last evaluated frame number, inclusive.
    evaluated : tuple of int
        Frame numbers that are scored: input frames inside the temporal ROI that
        have a ground-truth mask.
    """

    path: Path
    name: str
    category: str
    input_frames: list[tuple[int, Path]]
    groundtruth: dict[int, Path]
    roi: np.ndarray
    temporal_roi: tuple[int, int]
    evaluated: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """Frame size ``(H, W)``."""
        return (int(self.roi.shape[0]), int(self.roi.shape[1]))

    @property
    def n_frames(self) -> int:
        """Number of input frames (all of them are given to a method)."""
        return len(self.input_frames)

    @property
    def n_evaluated(self) -> int:
        """Number of scored frames."""
        return len(self.evaluated)

    def __repr__(self) -> str:
        h, w = self.shape
        first, last = self.temporal_roi
        return (
            f"Sequence({self.category}/{self.name}: {self.n_frames} frames {w}x{h}, "
            f"{self.n_evaluated} evaluated in [{first}, {last}], "
            f"ROI {100.0 * float(self.roi.mean()):.0f}% of pixels)"
        )


def read_sequence(path: StrPath, *, category: str | None = None) -> Sequence:
    """Read a CDnet-layout sequence folder and check that its parts agree.

    Only file headers are read here (frame sizes); pixels are read when the
    sequence is evaluated.

    Parameters
    ----------
    path : path
        Folder holding ``input/`` and ``groundtruth/`` (see the module docstring).
    category : str, optional
        Category name; default: the name of the parent folder.

    Returns
    -------
    Sequence

    Raises
    ------
    SourceNotFoundError
        ``path`` does not exist.
    GroundTruthError
        No ``input/`` or ``groundtruth/`` folder; a ground-truth mask or ``ROI.bmp``
        whose size differs from the frames; a malformed ``temporalROI.txt``;
        ground-truth numbers that match no input frame; an input frame inside the
        temporal ROI without ground truth (in a densely annotated sequence); an
        empty evaluated set.
    EmptySourceError, InputError, SourceOpenError
        ``input/`` holds no images, or images that cannot be read or numbered.

    Notes
    -----
    Rules, in order:

    1. Frames and masks are paired by the last integer in their file names
       (``in000123.png`` and ``gt000123.png``; ``b00247.bmp`` and
       ``hand_segmented_00247.BMP``).
    2. ``ROI.bmp`` is read through its palette (CDnet's are palette images whose
       raw indices are all 0); non-zero pixels are evaluated. Without it, every
       pixel is.
    3. ``temporalROI.txt`` holds "first last". A range running past the first or
       last frame is clamped to the frames with a logged warning (SBI's HighwayI
       says "0 440" for frames 0..439). Without the file (or with an empty one) the
       temporal ROI is the range of the ground-truth numbers.
    4. The annotation is *dense* when more than half of the gaps between
       consecutive ground-truth numbers inside the temporal ROI are 1 (CDnet, SBI,
       UCSD); then every input frame inside the temporal ROI must have a mask.
       Otherwise it is *sparse* (Wallflower: one mask, frame 247) and the frames
       without a mask are simply not scored.
    5. The evaluated frames are the input frames inside the temporal ROI that have
       a ground-truth mask.
    """
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"sequence folder {str(p)!r} does not exist")
    if not p.is_dir():
        raise InputError(f"sequence {str(p)!r} is not a folder")
    where = f"sequence {str(p)!r}"
    for sub in ("input", "groundtruth"):
        if not (p / sub).is_dir():
            raise GroundTruthError(
                f"{where} has no {sub}/ folder (CDnet layout: input/, groundtruth/, "
                "optional ROI.bmp and temporalROI.txt)"
            )
    if category is None:
        category = Path(os.path.abspath(p)).parent.name or p.resolve().name
    elif not isinstance(category, str) or not category:
        raise InputError(f"{where}: category must be a non-empty string; got {category!r}")

    frames = list_numbered_images(p / "input", what="input folder")
    try:
        gt_list = list_numbered_images(p / "groundtruth", what="ground-truth folder")
    except (EmptySourceError, SourceNotFoundError) as exc:
        raise GroundTruthError(f"{where}: {exc}") from None
    except InputError as exc:
        raise GroundTruthError(str(exc)) from None
    groundtruth = dict(gt_list)
    numbers = [n for n, _ in frames]
    width, height = _image_size(frames[0][1])

    # Masks must describe existing frames, at the frames' size.
    orphans = sorted(set(groundtruth) - set(numbers))
    if orphans:
        raise GroundTruthError(
            f"{where}: {len(orphans)} ground-truth mask(s) match no input frame "
            f"(numbers {_listing(orphans)}; the input frames are numbered "
            f"{numbers[0]}..{numbers[-1]})"
        )
    for _, gt_path in gt_list:
        size = _image_size(gt_path)
        if size != (width, height):
            raise GroundTruthError(
                f"{where}: ground truth {gt_path.name!r} is {size[0]}x{size[1]} but the "
                f"frames are {width}x{height}"
            )

    roi = _read_roi(p, where, (height, width))
    first, last = _read_temporal_roi(p, where, numbers, groundtruth)

    inside = [n for n in numbers if first <= n <= last]
    annotated = [n for n in inside if n in groundtruth]
    missing = [n for n in inside if n not in groundtruth]
    if missing and _is_dense(annotated):
        raise GroundTruthError(
            f"{where}: {len(missing)} frame(s) inside the temporal ROI [{first}, {last}] "
            f"have no ground truth (numbers {_listing(missing)}) although the other frames do"
        )
    if not annotated:
        raise GroundTruthError(
            f"{where}: no frame is evaluated: none of the input frames inside the temporal "
            f"ROI [{first}, {last}] has a ground-truth mask"
        )
    return Sequence(
        path=p,
        name=Path(os.path.abspath(p)).name or p.resolve().name,
        category=category,
        input_frames=frames,
        groundtruth=groundtruth,
        roi=roi,
        temporal_roi=(first, last),
        evaluated=tuple(annotated),
    )


def find_sequences(path: StrPath, *, max_depth: int = 3) -> list[Path]:
    """Sequence folders at or below ``path``.

    ``path`` itself when it holds an ``input/`` folder; otherwise every folder
    below it (down to ``max_depth`` levels, as in CDnet's ``dataset/category/video``)
    that holds one, ordered by path.

    Raises
    ------
    SourceNotFoundError
        ``path`` does not exist.
    EmptySourceError
        No sequence folder is found.
    """
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"sequence folder {str(p)!r} does not exist")
    if not p.is_dir():
        raise InputError(f"sequence {str(p)!r} is not a folder")
    if (p / "input").is_dir():
        return [p]
    found: list[Path] = []
    level = [p]
    for _ in range(max_depth):
        below = sorted(c for d in level for c in d.iterdir() if c.is_dir() and c.name[0] != ".")
        found += [c for c in below if (c / "input").is_dir()]
        level = [c for c in below if not (c / "input").is_dir()]
    if not found:
        raise EmptySourceError(
            f"{str(p)!r} is not a sequence folder (no input/ inside) and holds none "
            f"within {max_depth} levels"
        )
    return sorted(found)


def read_groundtruth(path: StrPath) -> np.ndarray:
    """Read one ground-truth mask as ``(H, W)`` uint8 grey values.

    Palette images (CDnet) are resolved through their palette; colour files whose
    three channels are equal (Wallflower's ``hand_segmented_*.BMP``) give that
    channel; other colour files are converted to grey with ITU-R BT.601 weights.
    See :func:`bgmix.metrics.groundtruth_labels` for what the values mean.
    """
    return read_image(path, mode="L")


# ---------------------------------------------------------------------- helpers
def _image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the file header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SourceOpenError(f"image {str(path)!r} cannot be read: {exc}") from None


def _read_roi(folder: Path, where: str, shape: tuple[int, int]) -> np.ndarray:
    roi_path = folder / "ROI.bmp"
    if not roi_path.is_file():
        return np.ones(shape, bool)
    grey = read_image(roi_path, mode="L")
    if grey.shape != shape:
        raise GroundTruthError(
            f"{where}: ROI.bmp is {grey.shape[1]}x{grey.shape[0]} but the frames are "
            f"{shape[1]}x{shape[0]}"
        )
    roi = grey > 0
    if not roi.any():
        raise GroundTruthError(f"{where}: ROI.bmp is all black, so no pixel would be evaluated")
    return roi


def _read_temporal_roi(
    folder: Path, where: str, numbers: list[int], groundtruth: dict[int, Path]
) -> tuple[int, int]:
    troi_path = folder / "temporalROI.txt"
    text = troi_path.read_text(errors="replace").strip() if troi_path.is_file() else ""
    if not text:
        if troi_path.is_file():
            logger.warning("%s: temporalROI.txt is empty; using the ground-truth range", where)
        annotated = sorted(groundtruth)
        return annotated[0], annotated[-1]
    parts = text.split()
    try:
        first, last = (int(v) for v in parts)
    except ValueError:
        raise GroundTruthError(
            f"{where}: temporalROI.txt must hold two frame numbers 'first last'; got {text[:60]!r}"
        ) from None
    if first > last:
        raise GroundTruthError(
            f"{where}: temporalROI.txt starts after it ends (first {first} > last {last})"
        )
    lo, hi = numbers[0], numbers[-1]
    if first < lo or last > hi:
        clamped = (max(first, lo), min(last, hi))
        if clamped[0] > clamped[1]:
            raise GroundTruthError(
                f"{where}: temporal ROI [{first}, {last}] lies outside the input frames {lo}..{hi}"
            )
        logger.warning(
            "%s: temporal ROI [%d, %d] runs past the input frames %d..%d; clamped to [%d, %d]",
            where,
            first,
            last,
            lo,
            hi,
            *clamped,
        )
        first, last = clamped
    return first, last


def _is_dense(annotated: list[int]) -> bool:
    """More than half of the gaps between consecutive annotated numbers are 1."""
    if len(annotated) < 2:
        return False
    gaps = np.diff(np.asarray(annotated))
    return int(np.count_nonzero(gaps == 1)) * 2 > gaps.size


def _listing(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_MAX_LISTED])
    return shown + (", ..." if len(numbers) > _MAX_LISTED else "")
