"""The stages of a ``subtract`` run, each a plain function over an iterator of frames.

:func:`model_stage` (fit, then the raw masks), :func:`postprocess_stage` (the
subtractor's post-processing and the region of interest) and the sinks
:func:`mask_writer` and :func:`side_by_side_writer`. :func:`bgmix.pipeline.run_subtractor`
joins them with :func:`bgmix._stages.run_stages`; each also works alone on a list.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bgmix._stages import Sink
from bgmix.exceptions import EmptySourceError

if TYPE_CHECKING:
    from bgmix.background import BackgroundSubtractor
    from bgmix.pipeline import RunSummary

__all__ = [
    "VIDEO_WIDTH",
    "FrameResult",
    "calling",
    "counting",
    "mask_writer",
    "model_stage",
    "postprocess_stage",
    "side_by_side_writer",
]

#: Default largest width of the side-by-side video, in pixels.
VIDEO_WIDTH = 1920


@dataclass(slots=True)
class FrameResult:
    """One classified frame as it travels through the stages.

    ``background`` is the model's background image, refreshed every
    ``background_every`` frames (the same object in between), or None when no stage
    asked for it.
    """

    number: int
    frame: np.ndarray
    mask: np.ndarray
    background: np.ndarray | None = None


def model_stage(
    subtractor: BackgroundSubtractor,
    *,
    n_train: int = 0,
    summary: RunSummary,
    background_every: int = 0,
    progress: Any = None,
) -> Callable[[Iterator[tuple[int, np.ndarray]]], Iterator[FrameResult]]:
    """The model: fit on the first ``n_train`` frames, then classify the rest.

    Returns a stage over ``(number, frame)`` pairs that yields a :class:`FrameResult`
    holding the *raw* mask (:meth:`BackgroundSubtractor.apply_raw`; post-processing
    is :func:`postprocess_stage`). ``summary`` gets the counts and the model time;
    ``progress.update(1)`` is called for each training frame. With
    ``background_every = N > 0`` the background image is taken every N classified
    frames (from the first), in this thread since it reads the model's state.
    """

    def stage(frames: Iterator[tuple[int, np.ndarray]]) -> Iterator[FrameResult]:
        frames = iter(frames)
        if n_train:
            _train(frames, subtractor, n_train, summary, progress)
        background = None
        for number, frame in frames:
            t0 = time.perf_counter()
            mask = subtractor.apply_raw(frame)
            summary.model_seconds += time.perf_counter() - t0
            if background_every and summary.n_frames % background_every == 0:
                background = subtractor.get_background_image()
            summary.n_frames += 1
            yield FrameResult(number, frame, mask, background)
        if summary.n_frames == 0:
            raise EmptySourceError(f"{summary.source}: no frame to classify")

    return _named(stage, "model")


def _train(
    frames: Iterator[tuple[int, np.ndarray]],
    subtractor: BackgroundSubtractor,
    n_train: int,
    summary: RunSummary,
    progress: Any,
) -> None:
    taken = 0

    def training() -> Iterator[np.ndarray]:
        nonlocal taken
        for _, frame in itertools.islice(frames, n_train):
            taken += 1
            if progress is not None:
                progress.update(1)
            yield frame

    t0 = time.perf_counter()
    subtractor.fit(training())
    summary.model_seconds += time.perf_counter() - t0
    if taken < n_train:
        raise EmptySourceError(
            f"{summary.source}: only {taken} frames, fewer than the {n_train} training frames"
        )
    summary.n_trained = n_train


def postprocess_stage(
    subtractor: BackgroundSubtractor, roi: np.ndarray | None = None
) -> Callable[[Iterator[FrameResult]], Iterator[FrameResult]]:
    """Post-processing of the raw masks (the subtractor's ``postprocess``), then the
    region of interest (``roi``: boolean ``(H, W)``; outside it every pixel is 0)."""
    from bgmix._roi import apply_roi

    def stage(results: Iterator[FrameResult]) -> Iterator[FrameResult]:
        for r in results:
            r.mask = apply_roi(subtractor.postprocess_mask(r.mask), roi)
            yield r

    return _named(stage, "postprocess")


def mask_writer(sink: Any) -> Sink:
    """A sink writing each mask to ``sink`` (a :class:`FrameSink`) under its number."""

    def write(results: Iterator[FrameResult]) -> None:
        for r in results:
            sink.write(r.mask, number=r.number)

    return _named(write, f"write {getattr(sink, 'path', Path('masks')).name}")


def side_by_side_writer(sink: Any, *, width: int | None = VIDEO_WIDTH) -> Sink:
    """A sink composing input | mask | foreground | background (at most ``width``
    pixels wide, panels shrunk first) and writing it to ``sink``.

    Every frame is drawn into one reused image (:class:`bgmix.io._compose.SideBySide`),
    whose background panel is redrawn only when the model stage refreshed it.
    """
    from bgmix.io._compose import SideBySide, panel_size

    def write(results: Iterator[FrameResult]) -> None:
        canvas: SideBySide | None = None
        for r in results:
            if canvas is None:
                h, w = r.mask.shape
                n = 3 if r.background is None else 4
                canvas = SideBySide(panel_size(w, h, n, width), n, captions=True)
            sink.write(canvas.draw(r.frame, r.mask, r.background))

    return _named(write, "side-by-side")


def calling(on_mask: Callable[[int, np.ndarray, np.ndarray], None]) -> Sink:
    """A sink calling ``on_mask(number, frame, mask)`` for each frame, in order."""

    def call(results: Iterator[FrameResult]) -> None:
        for r in results:
            on_mask(r.number, r.frame, r.mask)

    return _named(call, "on_mask")


def counting(progress: Any) -> Sink:
    """A sink calling ``progress.update(1)`` for each frame."""

    def count(results: Iterator[FrameResult]) -> None:
        for _ in results:
            progress.update(1)

    return _named(count, "progress")


def _named(function: Any, name: str) -> Any:
    """``function`` with ``__name__`` set to ``name`` (how the run reports it)."""
    function.__name__ = name
    return function
