"""Writers of tiny CDnet-layout sequences for the metrics and CLI tests.

Masks and ROI are written the way CDnet ships them: palette images whose raw
indices differ from the grey values they stand for, so a reader that ignores the
palette gets wrong values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

# Palette index -> grey value, deliberately not the identity.
_GT_VALUES = (255, 0, 170, 50, 85)


def write_palette_mask(path: Path, values: np.ndarray) -> None:
    """Write a (H, W) uint8 array of CDnet grey values as a palette image."""
    values = np.asarray(values, np.uint8)
    extra = [int(v) for v in np.unique(values) if int(v) not in _GT_VALUES]
    levels = list(_GT_VALUES) + extra
    lut = np.zeros(256, np.uint8)
    for index, value in enumerate(levels):
        lut[value] = index
    im = Image.fromarray(lut[values], mode="P")
    palette = []
    for value in levels:
        palette += [value, value, value]
    im.putpalette(palette + [0] * (768 - len(palette)))
    im.save(path)


def write_roi(path: Path, roi: np.ndarray) -> None:
    """ROI.bmp as CDnet stores it: raw index 0 is the evaluated (white) area."""
    idx = np.where(np.asarray(roi, bool), 0, 1).astype(np.uint8)
    im = Image.fromarray(idx, mode="P")
    im.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    im.save(path)


def write_sequence(
    folder: Path,
    frames: np.ndarray,
    groundtruth: Mapping[int, np.ndarray] | np.ndarray,
    *,
    first: int = 1,
    roi: np.ndarray | None = None,
    temporal_roi: str | None = None,
    input_name: str = "in{:06d}.png",
    gt_name: str = "gt{:06d}.png",
    palette_gt: bool = True,
) -> Path:
    """Write ``frames`` (T, H, W[, 3]) numbered from ``first`` and their masks.

    ``groundtruth`` is either a (T, H, W) array (one mask per frame) or a mapping
    frame number -> (H, W) mask (sparse annotation).
    """
    folder = Path(folder)
    (folder / "input").mkdir(parents=True)
    (folder / "groundtruth").mkdir()
    for t, frame in enumerate(frames):
        Image.fromarray(np.asarray(frame, np.uint8)).save(
            folder / "input" / input_name.format(t + first)
        )
    if not isinstance(groundtruth, Mapping):
        groundtruth = {t + first: g for t, g in enumerate(groundtruth)}
    for number, mask in groundtruth.items():
        path = folder / "groundtruth" / gt_name.format(number)
        if palette_gt:
            write_palette_mask(path, mask)
        else:
            Image.fromarray(np.asarray(mask, np.uint8)).save(path)
    if roi is not None:
        write_roi(folder / "ROI.bmp", roi)
    if temporal_roi is not None:
        (folder / "temporalROI.txt").write_text(temporal_roi)
    return folder


def square_sequence(
    folder: Path,
    *,
    n_frames: int = 8,
    height: int = 16,
    width: int = 20,
    channels: int = 3,
    seed: int = 0,
    **kwargs,
) -> tuple[Path, np.ndarray, np.ndarray]:
    """A moving bright square on a dark noisy background, with exact 0/255 ground truth.

    Returns the folder, the frames and the ground truth (T, H, W) uint8.
    """
    from tests.conftest import moving_square

    frames, truth = moving_square(n_frames, height, width, channels=channels, seed=seed)
    gt = np.where(truth, 255, 0).astype(np.uint8)
    return write_sequence(folder, frames, gt, **kwargs), frames, gt
