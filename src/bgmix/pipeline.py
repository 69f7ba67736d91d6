"""Run a subtractor over a whole source and write its outputs: the engine behind
``bgmix subtract`` and ``bgmix demo``.

The loop streams: one frame is decoded (in a background thread, a few frames ahead),
classified and written at a time, so a two-hour recording runs in constant memory.
Every output is written under a temporary name and appears only when complete.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory
from bgmix._progress import progress_bar
from bgmix._typing import StrPath
from bgmix._validation import train_frames
from bgmix.background import BackgroundSubtractor, make_subtractor
from bgmix.exceptions import EmptySourceError, ParameterError

__all__ = ["RunSummary", "resolve_train", "run_subtractor", "subtract"]

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What a run did: frame counts and the time spent in the model."""

    method: str
    params: dict[str, Any]
    source: str
    n_frames: int = 0
    n_trained: int = 0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        """Frames classified per second of wall-clock time (decoding, fitting, model and
        writing included): what the user waited for."""
        return self.n_frames / self.wall_seconds if self.wall_seconds > 0 else math.nan

    @property
    def model_fps(self) -> float:
        """Frames classified per second of model time (``fit`` + ``apply`` only)."""
        return self.n_frames / self.model_seconds if self.model_seconds > 0 else math.nan

    def closing_line(self, output: Any) -> str:
        """The last line of ``bgmix subtract``: counts, wall-clock and model frames/s."""
        trained = f" (fitted on the first {self.n_trained})" if self.n_trained else ""
        return (
            f"{self.method}: {self.n_frames} frames classified{trained} in "
            f"{self.wall_seconds:.1f} s, {self.fps:.1f} frames/s "
            f"(model alone {self.model_fps:.0f} frames/s) -> {output}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fps"] = self.fps
        d["model_fps"] = self.model_fps
        return d


def resolve_train(
    train: float | int | str | None, frame_count: int | None, *, source: str = "source"
) -> int | None:
    """Number of first frames to fit on before every frame is classified.

    The one meaning of ``train`` (:func:`bgmix._validation.train_frames`): None -> 0
    (online, nothing fitted); a fraction in (0, 1] -> that share of the frames (the
    length must be known); an int -> that many frames (at most all of them);
    ``"all"`` -> every frame (None when the length is unknown). The training frames
    are classified too, after fitting, as :func:`bgmix.evaluate` does.

    Examples
    --------
    >>> resolve_train(0.4, 100), resolve_train(25, 100), resolve_train(250, 100)
    (40, 25, 100)
    >>> resolve_train(None, None), resolve_train("all", 9), resolve_train("all", None)
    (0, 9, None)
    """
    return train_frames(train, frame_count, source=source)


def run_subtractor(
    frames: Iterator[tuple[int, np.ndarray]],
    subtractor: BackgroundSubtractor,
    *,
    n_train: int = 0,
    on_mask: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    summary: RunSummary,
    progress: Any = None,
) -> RunSummary:
    """Fit on the first ``n_train`` frames (if any), then classify the rest.

    Parameters
    ----------
    frames : iterator of (number, frame)
        For example ``source.numbered()``.
    subtractor : BackgroundSubtractor
    n_train : int
        Frames given to ``subtractor.fit`` before classification starts; they get no mask.
    on_mask : callable(number, frame, mask), optional
        Called for every classified frame (writers, metrics).
    summary : RunSummary
        Updated in place with counts and model time, and returned.
    progress : tqdm-like, optional
        ``update(1)`` is called per frame.
    """
    if n_train:
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
    for number, frame in frames:
        t0 = time.perf_counter()
        mask = subtractor.apply(frame)
        summary.model_seconds += time.perf_counter() - t0
        summary.n_frames += 1
        if on_mask is not None:
            on_mask(number, frame, mask)
        if progress is not None:
            progress.update(1)
    if summary.n_frames == 0:
        raise EmptySourceError(f"{summary.source}: no frame to classify")
    return summary


def subtract(
    src: Any,
    out_dir: StrPath,
    *,
    method: str | BackgroundSubtractor = "mog2",
    params: dict[str, Any] | None = None,
    model: StrPath | None = None,
    train: float | int | str | None = None,
    masks: bool = True,
    video: bool = True,
    background: bool = True,
    fps: float | None = None,
    progress: bool = False,
    overwrite: bool = False,
    source_options: dict[str, Any] | None = None,
    on_mask: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> RunSummary:
    """Separate foreground from background in ``src`` and write the results to ``out_dir``.

    Parameters
    ----------
    src : path, int, URL or (T, H, W[, 3]) ndarray
        Anything :func:`bgmix.open_source` opens.
    out_dir : path
        Output folder, written as a whole (:func:`bgmix._atomic.atomic_directory`):
        missing parents are created; an existing non-empty folder is an error unless
        ``overwrite``, and is then replaced only once the new one is complete. Written:
        ``masks/bin000123.png`` (one mask per frame, named by the frame number),
        ``side_by_side.mp4`` (input | mask | foreground | background),
        ``background.png`` (the final background image) and ``run.json`` (method,
        parameters, frame counts, wall-clock and model frames/s).
    method : str or BackgroundSubtractor, default "mog2"
        A registered method name (with ``params``) or a ready subtractor.
    model : path, optional
        Start from a model saved by :meth:`BackgroundSubtractor.save` (for example
        ``bgmix background --save-model``) instead of ``method``/``params``; a saved
        batch model is already fitted and needs no ``train``.
    train : float, int or "all", optional
        Fit on the first fraction (0–1], the first N frames or ``"all"`` frames, then
        classify every frame, the training frames included: the classified frames are
        the same in every mode (as :func:`bgmix.evaluate`). None: online. A method that
        must be fitted (``em``, ``svd``, ...) refuses None unless ``model`` is fitted.
    masks, video, background : bool
        Which outputs to write.
    fps : float, optional
        Frame rate of the MP4; default the source's, else 25.
    progress : bool
        Report progress on stderr (:func:`bgmix._progress.progress_bar`).
    overwrite : bool, default False
        Replace an existing non-empty ``out_dir`` as a whole.
    source_options : dict, optional
        Options of :func:`bgmix.open_source` (``grey``, ``scale``, ``start``, ...).
    on_mask : callable(number, frame, mask), optional
        Also called for every classified frame.

    Returns
    -------
    RunSummary

    Raises
    ------
    OutputError
        ``out_dir`` is an input of the run, is not empty (without ``overwrite``) or
        cannot be created.
    ParameterError
        Both ``model`` and ``method``/``params``; a method that must be fitted without
        ``train``; training on a live camera or stream (it cannot be read twice).
    """
    start = time.perf_counter()
    sub = _make_model(method, params, model)
    from bgmix.io import check_output_path, open_sink, open_source, side_by_side

    out = Path(out_dir)
    protect = [src] if isinstance(src, str | os.PathLike) else []
    check_output_path(out, protect=protect, overwrite=overwrite, folder=True)
    options = dict(source_options or {})
    options.setdefault("prefetch", 8)

    with open_source(src, **options) as source, atomic_directory(out, overwrite=overwrite) as tmp:
        info = source.info
        n_train = resolve_train(train, info.frame_count, source=str(info.source))
        if n_train == 0 and sub.requires_fit and sub._frame_shape is None:
            raise ParameterError(
                f"method {sub.name!r} must be fitted before it classifies frames: give "
                "train (a fraction such as 0.4, a number of frames, or 'all'), or a "
                "saved model"
            )
        summary = RunSummary(method=sub.name, params=sub.json_params(), source=str(info.source))
        if n_train != 0:
            _fit_first(src, options, sub, summary, n_train, progress=progress)
        with ExitStack() as stack:
            mask_sink = (
                stack.enter_context(open_sink(tmp / "masks", kind="folder", protect=protect))
                if masks
                else None
            )
            video_sink = (
                stack.enter_context(
                    open_sink(
                        tmp / "side_by_side.mp4", fps=fps or info.fps or 25.0, protect=protect
                    )
                )
                if video
                else None
            )
            bar = stack.enter_context(progress_bar(info.frame_count, sub.name, enabled=progress))

            def write(number: int, frame: np.ndarray, mask: np.ndarray) -> None:
                if mask_sink is not None:
                    mask_sink.write(mask, number=number)
                if video_sink is not None:
                    video_sink.write(side_by_side(frame, mask, sub.get_background_image()))
                if on_mask is not None:
                    on_mask(number, frame, mask)

            run_subtractor(source.numbered(), sub, on_mask=write, summary=summary, progress=bar)
        if masks:
            summary.outputs["masks"] = str(out / "masks")
        if video:
            summary.outputs["video"] = str(out / "side_by_side.mp4")
        if background:
            from PIL import Image

            Image.fromarray(sub.get_background_image()).save(tmp / "background.png")
            summary.outputs["background"] = str(out / "background.png")
        summary.outputs["summary"] = str(out / "run.json")
        summary.wall_seconds = time.perf_counter() - start
        (tmp / "run.json").write_text(json.dumps(summary.to_dict(), indent=2, default=str))
    log.info("%s: %d frames at %.1f frames/s", sub.name, summary.n_frames, summary.fps)
    return summary


def _make_model(
    method: str | BackgroundSubtractor, params: dict[str, Any] | None, model: StrPath | None
) -> BackgroundSubtractor:
    if model is None:
        return make_subtractor(method, **(params or {})) if isinstance(method, str) else method
    if params or not (isinstance(method, str) and method == "mog2"):
        raise ParameterError(
            "model: a saved model brings its own method and parameters; "
            "give either model or method/params"
        )
    from bgmix.background import load_subtractor

    return load_subtractor(model)


def _fit_first(
    src: Any,
    options: dict[str, Any],
    sub: BackgroundSubtractor,
    summary: RunSummary,
    n_train: int | None,
    *,
    progress: bool,
) -> None:
    """A first pass fits on the first ``n_train`` frames (None: all); the caller's pass
    then classifies every frame."""
    from bgmix.io import open_source

    if isinstance(src, int) or (isinstance(src, str) and "://" in src):
        raise ParameterError(
            f"train reads {src!r} twice (fit, then classify every frame); "
            "a live camera or stream cannot be read twice: run without train "
            "(online) or fit a model first (bgmix background --save-model) and pass it"
        )
    with (
        open_source(src, **options) as first_pass,
        progress_bar(n_train, f"{sub.name} fit", enabled=progress) as bar,
    ):
        taken = 0

        def training() -> Iterator[np.ndarray]:
            nonlocal taken
            for frame in itertools.islice(first_pass, n_train):
                taken += 1
                bar.update(1)
                yield frame

        t0 = time.perf_counter()
        sub.fit(training())
        summary.model_seconds += time.perf_counter() - t0
        summary.n_trained = taken
