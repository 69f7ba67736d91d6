"""Recording what an evaluation saw, while it streams: per (sequence, method) a small
H.264 video of input | mask coloured against the ground truth | background, the
per-frame confusion counts, the final background image and a poster frame.

:func:`bgmix.metrics.evaluate` calls this when given ``record=DIR``; the HTML report
(:func:`bgmix.viz.write_report`) shows what it wrote. Memory stays constant: one
composed frame per method at a time.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.metrics._counts import (
    _IGNORED,
    _LABELS,
    _NEGATIVE,
    _POSITIVE,
    ConfusionCounts,
)
from bgmix.metrics._counts import (
    _SHADOW as _SHADOW_LABEL,
)

__all__ = ["MASK_COLOURS", "SequenceRecorder", "colour_mask", "slug"]

logger = logging.getLogger(__name__)

#: Colours of :func:`colour_mask` (RGB), also the legend of the report.
MASK_COLOURS: dict[str, tuple[int, int, int]] = {
    "true positive": (255, 255, 255),
    "false positive": (230, 40, 40),
    "false negative": (40, 110, 255),
    "shadow": (128, 128, 128),
    "foreground, not scored": (200, 180, 60),
}

#: Panels of the recorded videos are scaled down to at most this height (pixels).
PANEL_HEIGHT = 240
#: The background panel is refreshed every this many frames (it changes slowly, and
#: ``get_background_image`` costs a pass over the model).
BACKGROUND_EVERY = 10
#: Frame rate of the recorded videos (CDnet sequences carry none).
VIDEO_FPS = 25.0
#: Width of poster and background thumbnails (pixels).
THUMB_WIDTH = 480


def _palette() -> np.ndarray:
    """RGB of each code ``4 * label + mask``: label 0 negative, 1 shadow (negative),
    2 positive, 3 not scored (CDnet's ``_LABELS``); mask 0 background, 1 shadow, 2
    foreground."""
    tp, fp, fn, shadow, unscored = (np.array(c, np.uint8) for c in MASK_COLOURS.values())
    pal = np.zeros((16, 3), np.uint8)
    for label in (_NEGATIVE, _SHADOW_LABEL, _IGNORED):
        pal[4 * label + 1] = shadow
        pal[4 * label + 2] = unscored if label == _IGNORED else fp
    pal[4 * _POSITIVE + 0] = fn
    pal[4 * _POSITIVE + 1] = fn  # a shadow where the truth is foreground is missed
    pal[4 * _POSITIVE + 2] = tp
    return pal


_PALETTE = _palette()
_MASK_CODE = np.zeros(256, np.uint8)
_MASK_CODE[127] = 1
_MASK_CODE[255] = 2
_GT_CODE = (4 * _LABELS).astype(np.uint8)


def slug(text: str) -> str:
    """A file-name-safe version of ``text``.

    >>> slug("opencv-mog2"), slug("a b/c")
    ('opencv-mog2', 'a_b_c')
    """
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return out or "x"


def colour_mask(
    mask: np.ndarray, groundtruth: np.ndarray | None, roi: np.ndarray | None = None
) -> np.ndarray:
    """Colour a mask against its ground truth.

    Parameters
    ----------
    mask : (H, W) uint8 ndarray
        0 background, 127 shadow, 255 foreground.
    groundtruth : (H, W) uint8 ndarray or None
        CDnet labels; None for a frame that is not scored (every foreground pixel is
        then "not scored").
    roi : (H, W) bool ndarray, optional
        Scored pixels.

    Returns
    -------
    (H, W, 3) uint8 ndarray
        True positives white, false positives red, false negatives blue, shadow
        (mask 127) grey, foreground where the pixel is not scored (outside the ROI,
        ground truth 85 or 170, or a frame without ground truth) dark yellow, the
        rest black (:data:`MASK_COLOURS`).

    Examples
    --------
    >>> m = np.array([[255, 255, 0, 127]], np.uint8)
    >>> g = np.array([[255, 0, 255, 0]], np.uint8)
    >>> colour_mask(m, g)[0, :, 0].tolist()
    [255, 230, 40, 128]
    """
    return _PALETTE[_codes(mask, groundtruth, roi)]


def _codes(mask: np.ndarray, groundtruth: np.ndarray | None, roi: np.ndarray | None) -> np.ndarray:
    """(H, W) uint8 index into ``_PALETTE``."""
    code = _MASK_CODE[mask]
    if groundtruth is None:
        code += 4 * _IGNORED
        return code
    code += _GT_CODE[groundtruth]
    if roi is not None:
        code[~roi] = 4 * _IGNORED + _MASK_CODE[mask[~roi]]
    return code


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image


def _resize(image: np.ndarray, size: tuple[int, int], *, nearest: bool = False) -> np.ndarray:
    import cv2

    if image.shape[1::-1] == size:
        return image
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(image, size, interpolation=interp)


def save_thumbnail(image: np.ndarray, path: Path, width: int = THUMB_WIDTH) -> None:
    """Save ``image`` as a JPEG at most ``width`` pixels wide."""
    from PIL import Image

    h, w = image.shape[:2]
    if w > width:
        image = _resize(image, (width, max(1, round(h * width / w))))
    Image.fromarray(_rgb(image)).save(path, format="JPEG", quality=70)


class SequenceRecorder:
    """Writes the media of every method on one sequence into ``folder``.

    Parameters
    ----------
    sequence : Sequence
        The sequence being evaluated.
    methods : list of str
        Method names, in the order of the models given to :meth:`frame`.
    folder : Path
        Created; one set of files per method (``<method>.mp4``, ``.counts.npy``,
        ``.background.png``, ``.poster.jpg``) and ``truth.png`` when the sequence has
        a true background (``background.png`` in its folder, as synthetic sequences).
    panel_height : int
        Panels are scaled down to at most this height.
    """

    def __init__(
        self, sequence: Any, methods: list[str], folder: Path, *, panel_height: int = PANEL_HEIGHT
    ) -> None:
        from bgmix.io import open_sink

        self.sequence = sequence
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.names = [slug(m) for m in methods]
        h, w = sequence.shape
        scale = min(1.0, panel_height / h)
        self.size = (max(2, round(w * scale)), max(2, round(h * scale)))
        self.roi = None if sequence.roi.all() else sequence.roi
        self.poster_at = sequence.n_frames // 2
        self.n = 0
        self.counts: list[list[tuple[int, ...]]] = [[] for _ in methods]
        self.backgrounds: list[np.ndarray | None] = [None] * len(methods)
        self.sinks = []
        try:
            for name in self.names:
                sink = open_sink(folder / f"{name}.mp4", fps=VIDEO_FPS, crf=30, preset="ultrafast")
                self.sinks.append(sink)
        except BaseException:
            self.abort()
            raise

    def frame(
        self,
        number: int,
        frame: np.ndarray,
        masks: list[np.ndarray],
        models: list[Any],
        groundtruth: np.ndarray | None,
        counts: list[ConfusionCounts | None],
    ) -> None:
        """Record one frame: ``masks[i]`` and ``counts[i]`` (None when not scored) of
        ``models[i]``."""
        small = _resize(_rgb(frame), self.size)
        for i, (mask, model) in enumerate(zip(masks, models, strict=True)):
            if self.backgrounds[i] is None or self.n % BACKGROUND_EVERY == 0:
                self.backgrounds[i] = _resize(_rgb(model.get_background_image()), self.size)
            codes = _resize(_codes(mask, groundtruth, self.roi), self.size, nearest=True)
            coloured = _PALETTE[codes]
            composed = np.concatenate([small, coloured, self.backgrounds[i]], axis=1)
            self.sinks[i].write(composed)
            if self.n == self.poster_at:
                save_thumbnail(composed, self.folder / f"{self.names[i]}.poster.jpg")
            c = counts[i]
            if c is not None:
                self.counts[i].append((number, c.tp, c.fp, c.fn, c.tn, c.shadow_fp, c.shadow))
        self.n += 1

    def close(self, models: list[Any]) -> list[dict[str, Any]]:
        """Finish the videos, write counts and backgrounds; return per method the media
        paths (``video``, ``poster``, ``counts``, ``background``, ``truth``) and, when the
        true background is known, SBMnet's metrics (``background_metrics``)."""
        from bgmix.io._png import write_png
        from bgmix.metrics._background import background_metrics

        for sink in self.sinks:
            sink.close()
        truth_src = Path(self.sequence.path) / "background.png"
        truth = None
        if truth_src.is_file():
            from bgmix.io import read_image

            truth = read_image(truth_src, mode=None)
            if truth.shape[:2] != self.sequence.shape:
                logger.warning("%s: size differs from the frames; ignored", truth_src)
                truth = None
            else:
                shutil.copyfile(truth_src, self.folder / "truth.png")
        out = []
        for name, model, rows in zip(self.names, models, self.counts, strict=True):
            bg = model.get_background_image()
            write_png(self.folder / f"{name}.background.png", bg)
            arr = np.asarray(rows, np.int32).reshape(-1, 7)
            np.save(self.folder / f"{name}.counts.npy", arr)
            media = {
                "video": str(self.folder / f"{name}.mp4"),
                "poster": str(self.folder / f"{name}.poster.jpg"),
                "counts": str(self.folder / f"{name}.counts.npy"),
                "background": str(self.folder / f"{name}.background.png"),
            }
            entry: dict[str, Any] = {"media": media, "background_metrics": None}
            if truth is not None:
                media["truth"] = str(self.folder / "truth.png")
                est = _rgb(bg) if truth.ndim == 3 else bg
                if est.shape == truth.shape:
                    entry["background_metrics"] = background_metrics(est, truth)
            out.append(entry)
        return out

    def abort(self) -> None:
        """Discard the partial videos."""
        for sink in self.sinks:
            sink.abort()
