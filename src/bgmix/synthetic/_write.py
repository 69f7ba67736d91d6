"""Write a synthetic scene to disk in the CDnet 2014 layout."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bgmix._atomic import atomic_directory
from bgmix._cdnet import GT_BACKGROUND, GT_FOREGROUND, GT_OUTSIDE_ROI, GT_SHADOW, GT_UNKNOWN
from bgmix._typing import StrPath
from bgmix._validation import check_choice
from bgmix.exceptions import OutputError, ParameterError
from bgmix.synthetic._scene import (
    SyntheticScene,
)

__all__ = ["write_sequence"]

logger = logging.getLogger(__name__)

_FORMATS = {
    "png": ("PNG", {"compress_level": 1}),
    "jpg": ("JPEG", {"quality": 95}),
    "bmp": ("BMP", {}),
}


def write_sequence(
    scene: SyntheticScene,
    out_dir: StrPath,
    *,
    overwrite: bool = False,
    image_format: str = "png",
    progress: Callable[[int], object] | None = None,
) -> Path:
    """Write every frame and its ground truth in the CDnet layout.

    The folder is written under a temporary name beside ``out_dir`` and renamed when
    complete: if anything fails midway, nothing appears at ``out_dir`` (and an existing
    folder there is left as it was).

    Parameters
    ----------
    scene : SyntheticScene
        From :func:`generate`.
    out_dir : path
        The sequence folder to create (missing parent folders are created).
    overwrite : bool, default False
        Replace ``out_dir`` if it exists and is not empty (it is removed only once the
        new folder is complete).
    image_format : {"png", "jpg", "bmp"}, default "png"
        Format of the input frames (CDnet itself uses jpg). Ground truth is always PNG.
    progress : callable, optional
        Called after each frame with the number of frames written so far.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ParameterError
        ``scene`` is not a :class:`SyntheticScene`, or ``image_format`` is unknown.
    OutputError
        ``out_dir`` exists and is not empty (without ``overwrite``) or is a file, or a
        file cannot be written.

    Notes
    -----
    Layout written::

        out_dir/
          input/in000001.<fmt> ...      frames, RGB; in000001 is frame index 0
          groundtruth/gt000001.png ...  (H, W) 'L' PNG: 0, 50, 85, 170, 255
          temporalROI.txt               "first last", 1-based inclusive (CDnet)
          ROI.bmp                       'L' BMP: 255 inside the ROI, 0 outside
          background.png                the reference background (scene.background)
          scene.json                    kind, size, seed, options, bgmix version

    Unlike CDnet, the ground truth of the warm-up frames holds the true labels (CDnet
    sets them to 85); evaluations skip those frames through ``temporalROI.txt``.
    """
    from PIL import Image

    from bgmix._version import __version__

    if not isinstance(scene, SyntheticScene):
        raise ParameterError(
            f"scene must be a SyntheticScene (from bgmix.synthetic.generate); got"
            f" {type(scene).__name__}"
        )
    check_choice("image_format", image_format, tuple(_FORMATS))
    pil_format, save_opts = _FORMATS[image_format]
    first, last = scene.temporal_roi
    meta = {
        "format": "bgmix-synthetic-sequence",
        "bgmix_version": __version__,
        **scene.parameters,
        "temporal_roi": [first + 1, last + 1],
        "first_frame_number": 1,
        "image_format": image_format,
        "labels": {
            "background": GT_BACKGROUND,
            "shadow": GT_SHADOW,
            "outside_roi": GT_OUTSIDE_ROI,
            "unknown": GT_UNKNOWN,
            "foreground": GT_FOREGROUND,
        },
    }
    with atomic_directory(out_dir, overwrite=overwrite, what="sequence folder") as tmp:
        current = tmp
        try:
            (tmp / "input").mkdir()
            (tmp / "groundtruth").mkdir()
            current = tmp / "temporalROI.txt"
            current.write_text(f"{first + 1} {last + 1}\n", encoding="ascii")
            current = tmp / "ROI.bmp"
            Image.fromarray(np.where(scene.roi, 255, 0).astype(np.uint8), mode="L").save(
                current, format="BMP"
            )
            current = tmp / "background.png"
            Image.fromarray(np.asarray(scene.background)).save(current, format="PNG")
            current = tmp / "scene.json"
            current.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            for rec in scene:
                n = rec.number
                current = tmp / "input" / f"in{n:06d}.{image_format}"
                Image.fromarray(rec.image).save(current, format=pil_format, **save_opts)
                current = tmp / "groundtruth" / f"gt{n:06d}.png"
                Image.fromarray(rec.groundtruth).save(current, format="PNG", compress_level=1)
                if progress is not None:
                    progress(n)
        except OSError as exc:
            name = current.relative_to(tmp) if current != tmp else "."
            raise OutputError(
                f"sequence folder {str(out_dir)!r}: cannot write {str(name)!r}: {exc}"
            ) from exc
    logger.info("wrote %d frames of %s to %s", scene.n_frames, scene.kind, out_dir)
    return Path(out_dir)
