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

from bgmix._atomic import atomic_output
from bgmix._typing import StrPath
from bgmix._validation import parse_train
from bgmix.background import BackgroundSubtractor, make_subtractor
from bgmix.exceptions import EmptySourceError, OutputError, ParameterError

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
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        """Frames classified per second of model time (decoding and writing excluded)."""
        return self.n_frames / self.model_seconds if self.model_seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fps"] = self.fps
        return d


def resolve_train(
    train: float | int | str | None, frame_count: int | None, *, source: str = "source"
) -> int | None:
    """Number of frames to fit on before classifying the rest.

    ``train`` is validated by :func:`bgmix._validation.parse_train`: None -> 0 (online,
    nothing fitted); a fraction in (0, 1) -> that share of the frames (the length must be
    known); an int -> that many frames; ``"all"`` -> None, meaning fit on every frame and
    then classify every frame (offline methods). At least one frame must remain to
    classify.

    Examples
    --------
    >>> resolve_train(0.4, 100), resolve_train(25, 100)
    (40, 25)
    >>> resolve_train(None, None), resolve_train("all", 9)
    (0, None)
    """
    mode = parse_train(train)
    if mode is None:
        return 0
    if mode == "all":
        return None
    if isinstance(mode, float):
        if frame_count is None:
            raise ParameterError(
                f"train={mode} is a fraction, but the length of {source} is unknown; "
                "give a frame count"
            )
        n = max(1, round(mode * frame_count))
    else:
        n = mode
    if frame_count is not None and n >= frame_count:
        raise ParameterError(
            f"train={train} ({n} frames) leaves nothing to classify in {source} "
            f"({frame_count} frames); "
            "use train='all' to fit on every frame and then classify them all"
        )
    return n


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
    train: float | int | None = None,
    masks: bool = True,
    video: bool = True,
    background: bool = True,
    fps: float | None = None,
    progress: bool = False,
    source_options: dict[str, Any] | None = None,
    on_mask: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    scheduler: Any = None,
) -> RunSummary:
    """Separate foreground from background in ``src`` and write the results to ``out_dir``.

    Parameters
    ----------
    src : path, int, URL or (T, H, W[, 3]) ndarray
        Anything :func:`bgmix.open_source` opens.
    out_dir : path
        Output folder (created if missing). Written: ``masks/bin000123.png`` (one mask per
        classified frame, named by the frame number), ``side_by_side.mp4`` (input | mask |
        foreground | background), ``background.png`` (the final background image) and
        ``run.json`` (method, parameters, frame counts, model frames/s).
    method : str or BackgroundSubtractor, default "mog2"
        A registered method name (with ``params``) or a ready subtractor.
    train : float, int or "all", optional
        Fit on the first fraction (0–1) or count of frames, then classify the rest;
        ``"all"`` fits on every frame, then classifies every frame (offline methods such
        as ``svd``). Methods that need fitting default to ``"all"``.
    masks, video, background : bool
        Which outputs to write.
    fps : float, optional
        Frame rate of the MP4; default the source's, else 25.
    progress : bool
        Show a progress bar on stderr.
    source_options : dict, optional
        Options of :func:`bgmix.open_source` (``grey``, ``scale``, ``start``, ...).
    on_mask : callable(number, frame, mask), optional
        Also called for every classified frame.
    scheduler : distributed.Client, str, optional
        Run on a Dask cluster (an address, ``"local"``, ``"local:N"`` or a ``Client``):
        a video of an online method is cut into time segments run as tasks (see
        :func:`bgmix.parallel.subtract`, which also takes many inputs). Not with a
        subtractor instance or ``on_mask``.

    Returns
    -------
    RunSummary

    Raises
    ------
    OutputError
        ``out_dir`` is an input of the run or cannot be created.
    """
    if scheduler is not None:
        return _on_cluster(src, out_dir, scheduler, method, params, train, on_mask, locals())
    sub = make_subtractor(method, **(params or {})) if isinstance(method, str) else method
    from bgmix.io import check_output_path, open_sink, open_source, side_by_side

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {str(out)!r} exists and is not a folder")
    if not out.parent.is_dir():
        raise OutputError(
            f"output folder {str(out)!r}: the folder {str(out.parent)!r} does not exist"
        )
    protect = [src] if isinstance(src, str | os.PathLike) else []
    for name in ("masks", "side_by_side.mp4", "background.png", "run.json"):
        check_output_path(out / name, protect=protect, folder=name == "masks")
    options = dict(source_options or {})
    options.setdefault("prefetch", 8)

    with open_source(src, **options) as source:
        info = source.info
        n_train = resolve_train(train, info.frame_count, source=str(info.source))
        if n_train == 0 and sub.requires_fit:
            log.info(
                "%s needs fitting and no training part was given: fitting on all frames", sub.name
            )
            n_train = None
        summary = RunSummary(method=sub.name, params=sub.json_params(), source=str(info.source))
        if n_train is None:
            _fit_on_everything(src, options, sub, summary)
            n_train = 0
        total = None if info.frame_count is None else info.frame_count
        out.mkdir(exist_ok=True)
        with ExitStack() as stack:
            mask_sink = (
                stack.enter_context(open_sink(out / "masks", kind="folder", protect=protect))
                if masks
                else None
            )
            video_sink = (
                stack.enter_context(
                    open_sink(
                        out / "side_by_side.mp4", fps=fps or info.fps or 25.0, protect=protect
                    )
                )
                if video
                else None
            )
            bar = _progress_bar(total, f"{sub.name}", enabled=progress)
            stack.callback(bar.close)

            def write(number: int, frame: np.ndarray, mask: np.ndarray) -> None:
                if mask_sink is not None:
                    mask_sink.write(mask, number=number)
                if video_sink is not None:
                    video_sink.write(side_by_side(frame, mask, sub.get_background_image()))
                if on_mask is not None:
                    on_mask(number, frame, mask)

            run_subtractor(
                source.numbered(),
                sub,
                n_train=n_train,
                on_mask=write,
                summary=summary,
                progress=bar,
            )
        if masks:
            summary.outputs["masks"] = str(out / "masks")
        if video:
            summary.outputs["video"] = str(out / "side_by_side.mp4")
    if background:
        from PIL import Image

        with atomic_output(out / "background.png", what="background image") as tmp:
            Image.fromarray(sub.get_background_image()).save(tmp, format="PNG")
        summary.outputs["background"] = str(out / "background.png")
    with atomic_output(out / "run.json", what="run summary") as tmp:
        tmp.write_text(json.dumps(summary.to_dict(), indent=2, default=str))
    summary.outputs["summary"] = str(out / "run.json")
    log.info("%s: %d frames at %.1f frames/s", sub.name, summary.n_frames, summary.fps)
    return summary


def _fit_on_everything(
    src: Any, options: dict[str, Any], sub: BackgroundSubtractor, summary: RunSummary
) -> None:
    """Offline mode: a first pass fits on every frame; the caller's pass classifies them."""
    from bgmix.io import open_source

    if isinstance(src, int) or (isinstance(src, str) and "://" in src):
        raise ParameterError(
            f"train='all' reads {src!r} twice (fit, then classify); "
            "a live camera or stream cannot be "
            "read twice: give a training frame count instead"
        )
    with open_source(src, **options) as first_pass:
        t0 = time.perf_counter()
        sub.fit(first_pass)
        summary.model_seconds += time.perf_counter() - t0
        summary.n_trained = first_pass.info.frame_count or 0


def _progress_bar(total: int | None, desc: str, *, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="frame", disable=not enabled, leave=False, dynamic_ncols=True
    )


def _on_cluster(
    src: Any,
    out_dir: StrPath,
    scheduler: Any,
    method: Any,
    params: dict[str, Any] | None,
    train: Any,
    on_mask: Any,
    options: dict[str, Any],
) -> RunSummary:
    """``subtract(..., scheduler=...)``: the run as tasks of :mod:`bgmix.parallel`."""
    if not isinstance(method, str) or on_mask is not None:
        raise ParameterError(
            "subtract(scheduler=...) takes a method name and no on_mask: tasks run in "
            "other processes"
        )
    from bgmix.parallel import subtract as run

    sub = make_subtractor(method, **(params or {}))
    online = train is None and not sub.requires_fit
    run(
        src,
        out_dir,
        scheduler=scheduler,
        method=method,
        params=params,
        train=train,
        segments="auto" if online else None,
        **{k: options[k] for k in ("masks", "video", "background", "fps", "progress")},
        source_options=options["source_options"],
    )
    data = json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    fields = ("method", "params", "source", "n_frames", "n_trained", "model_seconds", "outputs")
    return RunSummary(**{k: data[k] for k in fields})
