"""Run a subtractor over a whole source and write its outputs: the engine behind
``bgmix subtract`` and ``bgmix demo``.

A run is a pipeline of concurrent stages (:mod:`bgmix._stages`) joined by bounded
queues, so a two-hour recording runs in constant memory and every core is busy::

    decode ─> model ─> post-process + ROI ─┬─> mask writer (masks.mov and/or PNGs)
                                           ├─> side-by-side: compose + H.264 encode
                                           ├─> on_mask callback
                                           └─> progress

Each stage is a plain function over an iterator of frames (see :func:`model_stage`,
:func:`postprocess_stage` and the sinks below), testable alone. Threads: decoding in
the runner's source thread (PyAV's own frame threads inside), the model in one thread
driving its row bands on ``n_jobs`` threads (Numba kernels that release the GIL),
post-processing in one thread (OpenCV), each writer in one thread (zlib and x264
release the GIL; x264 adds its own threads). Frames keep their order; the first error
in any stage stops the run with that error; Ctrl-C and SIGTERM stop it cleanly. Every
output is written under a temporary name and appears only when complete, and the
temporaries that killed runs left in the output folder are removed.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory, remove_stale_temporaries
from bgmix._progress import progress_bar
from bgmix._stages import Sink, run_stages, terminate_as_interrupt
from bgmix._subtract_stages import (
    VIDEO_WIDTH,
    FrameResult,
    calling,
    counting,
    mask_writer,
    model_stage,
    postprocess_stage,
    side_by_side_writer,
)
from bgmix._typing import StrPath
from bgmix._validation import check_choice, check_int, train_frames
from bgmix.background import BackgroundSubtractor, make_subtractor
from bgmix.exceptions import ParameterError

__all__ = [
    "MASK_FORMATS",
    "VIDEO_WIDTH",
    "FrameResult",
    "RunSummary",
    "mask_formats",
    "model_stage",
    "postprocess_stage",
    "resolve_train",
    "run_subtractor",
    "subtract",
]

#: Values of ``subtract(masks=...)``: a lossless mask video, CDnet's PNG folder, both.
MASK_FORMATS = ("video", "png", "both")
#: Queue capacity between two stages (frames in flight per queue).
DEPTH = 4
#: Frames between two refreshes of the side-by-side's background panel (above 320x240).
BACKGROUND_EVERY = 100

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What a run did: frame counts, the time spent in the model and the whole time.

    ``cpu_seconds`` is the CPU time of the whole process during the run (every
    thread); ``thread_cpu_seconds`` that of each pipeline thread (``"decode"``,
    ``"model"`` — its calling thread only, not its band threads —, ``"postprocess"``,
    each writer), which shows where the work goes.
    """

    method: str
    params: dict[str, Any]
    source: str
    n_frames: int = 0
    n_trained: int = 0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    thread_cpu_seconds: dict[str, float] = field(default_factory=dict)
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


# ---- the engine ----------------------------------------------------------------------
def run_subtractor(
    frames: Iterable[tuple[int, np.ndarray]],
    subtractor: BackgroundSubtractor,
    *,
    n_train: int = 0,
    on_mask: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    summary: RunSummary,
    progress: Any = None,
    roi: np.ndarray | None = None,
    sinks: Sequence[Sink] = (),
    background_every: int = 0,
    depth: int = DEPTH,
) -> RunSummary:
    """Fit on the first ``n_train`` frames (if any), then classify the rest, with
    decoding, the model, post-processing and every consumer running concurrently.

    Parameters
    ----------
    frames : iterable of (number, frame)
        For example ``source.numbered()``; iterated (and closed) by a thread of its own.
    subtractor : BackgroundSubtractor
    n_train : int
        Frames given to ``subtractor.fit`` before classification starts; they get no mask.
    on_mask : callable(number, frame, mask), optional
        Called for every classified frame, in order, from a worker thread, with the
        final (post-processed, ROI-applied) mask.
    summary : RunSummary
        Updated in place with counts, model time and wall time, and returned.
    progress : progress report, optional
        ``update(1)`` is called per frame (from one worker thread).
    roi : (H, W) bool ndarray, optional
        Region of interest; see :func:`bgmix._roi.as_roi`.
    sinks : sequence of callables over an iterator of :class:`FrameResult`
        More consumers (writers), each in its own thread.
    background_every : int
        Take the background image every N classified frames (0: never), for sinks
        that show it.
    depth : int
        Capacity of each queue between two stages.

    Notes
    -----
    The masks are exactly those of ``subtractor.apply(frame)`` called frame after
    frame (the model sees the frames in order, in one thread); only the work around it
    runs in parallel. Memory is constant: at most ``depth`` frames wait per queue.
    """
    t0 = time.perf_counter()
    consumers = list(sinks)
    if on_mask is not None:
        consumers.append(calling(on_mask))
    if progress is not None:
        consumers.append(counting(progress))
    stages = [
        model_stage(
            subtractor,
            n_train=n_train,
            summary=summary,
            background_every=background_every,
            progress=progress,
        )
    ]
    if roi is not None or _postprocess_active(subtractor):
        stages.append(postprocess_stage(subtractor, roi))
    cpu0 = time.process_time()
    per_thread: dict[str, float] = {}
    try:
        run_stages(
            frames, stages, consumers, depth=depth, name="bgmix-subtract", cpu_seconds=per_thread
        )
    finally:
        summary.wall_seconds += time.perf_counter() - t0
        summary.cpu_seconds += time.process_time() - cpu0
        names = ["decode"] + [f.__name__ for f in (*stages, *consumers)]
        labels = ["source"] + [f"stage-{i + 1}" for i in range(len(stages))]
        labels += [f"sink-{j + 1}" for j in range(len(consumers))]
        for label, name in zip(labels, names, strict=True):
            if label in per_thread:
                summary.thread_cpu_seconds[name] = round(per_thread[label], 3)
    return summary


def _postprocess_active(subtractor: BackgroundSubtractor) -> bool:
    post = getattr(subtractor, "_postprocessor", None)
    return post is None or bool(getattr(post, "active", True))


def default_background_every(width: int, height: int) -> int:
    """How often the side-by-side's background panel is refreshed: every frame up to
    320x240, else every :data:`BACKGROUND_EVERY` = 100 frames (4 s of video at 25
    frames/s).

    Taking a ``mog2`` background image costs about 0.3 of a frame's classification
    (3.2 against 10.6 ms at 1080p, 0.5 against 1.8 ms at 480p, 2 threads), in the
    model's thread, which every other stage waits for; refreshed every 100 frames it
    adds 0.3% to the model's time, and a background learned over ``history`` = 500
    frames barely changes in between.

    Examples
    --------
    >>> default_background_every(320, 240), default_background_every(1920, 1080)
    (1, 100)
    """
    return 1 if width * height <= 320 * 240 else BACKGROUND_EVERY


def subtract(
    src: Any,
    out_dir: StrPath,
    *,
    method: str | BackgroundSubtractor = "mog2",
    params: dict[str, Any] | None = None,
    model: StrPath | None = None,
    train: float | int | str | None = None,
    masks: bool | str = True,
    video: bool = True,
    background: bool = True,
    fps: float | None = None,
    progress: bool = False,
    source_options: dict[str, Any] | None = None,
    on_mask: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    roi: Any = None,
    video_width: int | None = VIDEO_WIDTH,
    video_preset: str = "ultrafast",
    background_every: int | None = None,
    overwrite: bool = False,
    scheduler: Any = None,
) -> RunSummary:
    """Separate foreground from background in ``src`` and write the results to ``out_dir``.

    Decoding, the model, post-processing and every writer run concurrently (see the
    module documentation); the masks are bit for bit those of ``sub.apply(frame)``
    called frame after frame.

    Parameters
    ----------
    src : path, int, URL or (T, H, W[, 3]) ndarray
        Anything :func:`bgmix.open_source` opens.
    out_dir : path
        Output folder, written as a whole (:func:`bgmix._atomic.atomic_directory`):
        missing parents are created; an existing non-empty folder is an error unless
        ``overwrite``, and is then replaced only once the new one is complete; the
        temporaries that killed runs left beside it are removed. Written: ``masks.mov`` and/or
        ``masks/bin000123.png`` (see ``masks``), ``side_by_side.mp4`` (input | mask |
        foreground | background), ``background.png`` (the final background image) and
        ``run.json`` (method, parameters, frame counts, model and wall-clock frames/s).
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
    masks : bool or {"video", "png", "both"}, default True
        ``"video"`` (what True means): one lossless video ``masks.mov`` (one grey PNG
        image a frame, 0/127/255, frame timestamps = source frame numbers / fps; about
        3 CPU ms and 25 KiB a 1080p frame; read it back exactly with
        :func:`bgmix.open_source`, or extract the PNGs with ``ffmpeg -i masks.mov -c
        copy m%06d.png``). ``"png"``:
        one PNG per frame in ``masks/`` named ``bin000123.png`` by frame number
        (CDnet's layout, what ``bgmix evaluate`` compares); ``"both"``; False: none.
    video : bool, default True
        Write ``side_by_side.mp4``.
    background : bool, default True
        Write ``background.png``.
    fps : float, optional
        Frame rate of the videos; default the source's, else 25.
    progress : bool
        Report progress (frames/s and time left) on stderr.
    source_options : dict, optional
        Options of :func:`bgmix.open_source` (``grey``, ``scale`` — the downscale
        factor, e.g. 0.5 —, ``start``, ``stop``, ``stride`` — frame skip —, ...).
    on_mask : callable(number, frame, mask), optional
        Also called for every classified frame, in order, from a worker thread.
    roi : polygons, file, mask image or array, optional
        Region of interest: outside it every mask pixel is background. Polygons as
        ``"x0,y0 x1,y1 x2,y2 ..."`` text or lists of ``(x, y)`` points in source pixels
        (scaled with ``scale``), a text file with one polygon per line, or a mask image
        (non-zero inside); a list of these is their union. See :mod:`bgmix._roi`.
    video_width : int or None, default 1920
        Largest width of the side-by-side video; its four panels are shrunk to fit
        (never enlarged). None keeps the full size (4 x the frame width).
    video_preset : str, default "ultrafast"
        x264 preset of the side-by-side video (``"veryfast"`` makes files about half
        the size for twice the encoding time).
    background_every : int, optional
        Refresh the side-by-side's background panel every N frames; default every
        frame up to 320x240, else every 100 frames (see
        :func:`default_background_every`).
    overwrite : bool, default False
        Replace an existing non-empty ``out_dir`` as a whole.
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
        ``out_dir`` is an input of the run, is not empty (without ``overwrite``) or
        cannot be created.
    ParameterError
        A bad option (``masks``, ``roi``, ``video_width``...), named in the message;
        both ``model`` and ``method``/``params``; a method that must be fitted without
        ``train``; training on a live camera or stream (it cannot be read twice).
    KeyboardInterrupt
        Ctrl-C or SIGTERM: the run stops and no partial output is left.
    """
    if scheduler is not None:
        return _on_cluster(src, out_dir, scheduler, method, params, train, on_mask, locals())
    with terminate_as_interrupt():
        return _subtract(
            src, out_dir, method=method, params=params, model=model, train=train, masks=masks,
            video=video, background=background, fps=fps, progress=progress,
            source_options=source_options, on_mask=on_mask, roi=roi,
            video_width=video_width, video_preset=video_preset,
            background_every=background_every, overwrite=overwrite,
        )  # fmt: skip


def mask_formats(masks: Any) -> tuple[bool, bool]:
    """``masks`` -> (write the video, write the PNG folder)."""
    if masks is True:
        masks = "video"
    if masks is False or masks is None:
        return False, False
    choice = check_choice("masks", masks, (*MASK_FORMATS, True, False))
    return choice in ("video", "both"), choice in ("png", "both")


def _subtract(src: Any, out_dir: StrPath, **kw: Any) -> RunSummary:
    t_start = time.perf_counter()
    sub = _make_model(kw["method"], kw["params"], kw["model"])
    from bgmix._roi import as_roi
    from bgmix.io import check_output_path, open_sink, open_source

    mask_video, mask_png = mask_formats(kw["masks"])
    video = bool(kw["video"])
    width = kw["video_width"]
    if width is not None:
        width = check_int("video_width", width, low=64)
    every = kw["background_every"]
    if every is not None:
        every = check_int("background_every", every, low=1)
    out = Path(out_dir)
    protect = [src] if isinstance(src, str | os.PathLike) else []
    check_output_path(out, protect=protect, overwrite=kw["overwrite"], folder=True)
    for stale in remove_stale_temporaries(out.absolute().parent):
        log.info("removed %s, left behind by a run that was killed", stale)
    options = dict(kw["source_options"] or {})
    options.setdefault("prefetch", 0)  # the pipeline's source thread decodes ahead

    with (
        open_source(src, **options) as source,
        atomic_directory(out, overwrite=kw["overwrite"]) as tmp,
    ):
        info = source.info
        inside = as_roi(kw["roi"], frame_size=(info.width, info.height),
                        source_size=_native_size(source))  # fmt: skip
        n_train = resolve_train(kw["train"], info.frame_count, source=str(info.source))
        if n_train == 0 and sub.requires_fit and sub.frame_shape is None:
            raise ParameterError(
                f"method {sub.name!r} must be fitted before it classifies frames: give "
                "train (a fraction such as 0.4, a number of frames, or 'all'), or a "
                "saved model"
            )
        summary = RunSummary(method=sub.name, params=sub.json_params(), source=str(info.source))
        if n_train != 0:
            _fit_first(src, options, sub, summary, n_train, progress=kw["progress"])
        rate = kw["fps"] or info.fps or 25.0
        with ExitStack() as stack:
            sinks: list[Sink] = []
            if mask_video:
                sink = stack.enter_context(open_sink(tmp / "masks.mov", fps=rate, protect=protect))
                sinks.append(mask_writer(sink))
            if mask_png:
                sink = stack.enter_context(open_sink(tmp / "masks", kind="folder", protect=protect))
                sinks.append(mask_writer(sink))
            if video:
                sink = stack.enter_context(
                    open_sink(tmp / "side_by_side.mp4", fps=rate, protect=protect,
                              preset=kw["video_preset"], crf=23)
                )  # fmt: skip
                sinks.append(side_by_side_writer(sink, width=width))
            if video and every is None:
                every = default_background_every(info.width, info.height)
            bar = stack.enter_context(
                progress_bar(info.frame_count, sub.name, enabled=kw["progress"])
            )
            run_subtractor(
                source.numbered(),
                sub,
                on_mask=kw["on_mask"],
                summary=summary,
                progress=bar,
                roi=inside,
                sinks=sinks,
                background_every=every if video else 0,
            )
        if mask_png:
            summary.outputs["masks"] = str(out / "masks")
        if mask_video:
            summary.outputs["mask_video"] = str(out / "masks.mov")
        if video:
            summary.outputs["video"] = str(out / "side_by_side.mp4")
        if kw["background"]:
            from bgmix.io._png import write_png

            write_png(tmp / "background.png", sub.get_background_image())
            summary.outputs["background"] = str(out / "background.png")
        summary.outputs["summary"] = str(out / "run.json")
        summary.wall_seconds = time.perf_counter() - t_start
        (tmp / "run.json").write_text(json.dumps(summary.to_dict(), indent=2, default=str))
    log.info(
        "%s: %d frames at %.1f frames/s (model %.1f frames/s)",
        sub.name,
        summary.n_frames,
        summary.fps,
        summary.model_fps,
    )
    return summary


def _native_size(source: Any) -> tuple[int, int]:
    """Size (width, height) of the source's frames before ``scale``/``size``."""
    shaper = getattr(source, "_shaper", None)
    if shaper is None:
        return source.info.width, source.info.height
    h, w = shaper.native_hw
    return int(w), int(h)


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
    if options["model"] is not None or options["roi"] is not None:
        raise ParameterError("subtract(scheduler=...) takes neither model nor roi")
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
