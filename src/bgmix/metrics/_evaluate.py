"""Running background subtractors over CDnet-layout sequences and scoring them."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bgmix._progress import progress_bar
from bgmix._validation import parse_train, train_frames
from bgmix.exceptions import BgmixError, FrameFormatError, FrameSizeError, ParameterError
from bgmix.io._images import read_image
from bgmix.io._prefetch import prefetched
from bgmix.metrics._counts import ConfusionCounts
from bgmix.metrics._report import EvaluationReport, SequenceResult
from bgmix.metrics._sequence import Sequence, find_sequences, read_groundtruth, read_sequence

if TYPE_CHECKING:
    from bgmix._typing import StrPath
    from bgmix.background import BackgroundSubtractor

__all__ = ["evaluate", "evaluate_sequence"]

logger = logging.getLogger(__name__)

#: Frames decoded ahead of the methods by a reader thread (bounded: constant memory;
#: image decoding releases the GIL, so reading overlaps the methods' work).
_PREFETCH = 4

Train = float | int | str | None


def evaluate_sequence(
    seq: StrPath | Sequence,
    method: str | BackgroundSubtractor,
    params: Mapping[str, Any] | None = None,
    *,
    train: Train = None,
    progress: bool = False,
    source_options: Mapping[str, Any] | None = None,
    record: StrPath | None = None,
    overwrite: bool = False,
) -> SequenceResult:
    """Run one method over one sequence and score its masks with CDnet's metrics.

    Parameters
    ----------
    seq : path or Sequence
        A CDnet-layout folder (see :func:`read_sequence`) or a sequence already read.
    method : str or BackgroundSubtractor
        A registry name (``"opencv-mog2"``, ``"mog2"``...) or a configured
        subtractor instance, which is cloned (``type(m)(**m.get_params())``) so the
        instance itself is left untouched.
    params : dict, optional
        Parameters of the method (only with a method name).
    train : None, float, int or "all", default None
        ``None``: online. Every frame from the first is given to ``apply``.
        ``float`` in (0, 1]: ``fit`` gets the first fraction of the frames (rounded
        to the nearest frame, at least one) as one ``(T, H, W[, C])`` array, then
        every frame is classified with ``apply``. ``int`` N >= 1: the same with the
        first N frames (all of them if the sequence is shorter, with a logged
        warning). ``"all"``: ``fit`` on every frame (offline methods), then classify
        every frame. Note ``1`` is one frame and ``1.0`` all of them.
    progress : bool, default False
        Report progress on stderr (:func:`bgmix._progress.progress_bar`).
    source_options : dict, optional
        Frame selection and colour, as :func:`bgmix.open_source` takes them: ``start``,
        ``stop``, ``stride`` (0-based positions among the input frames; only the
        selected frames are given to the method and scored), ``grey``, ``scale`` (the
        ground truth and ROI are resized with the frames, nearest neighbour).
    record : path, optional
        Also record, while streaming, what the method did, for the HTML report
        (:func:`bgmix.viz.write_report`): see :func:`evaluate`.
    overwrite : bool, default False
        Replace an existing non-empty ``record`` folder as a whole.

    Returns
    -------
    SequenceResult
        Counts and metrics over the evaluated frames, the number of frames, and
        the time spent in the method (``fit`` + ``apply``; decoding excluded).

    Raises
    ------
    UnknownMethodError, ParameterError
        Unknown method, bad parameter, bad ``train``, or a batch method (one that
        must be fitted) evaluated online.
    GroundTruthError, InputError
        The sequence's files do not agree (see :func:`read_sequence`), or a frame
        cannot be read or has another size.

    Notes
    -----
    Frames are read in number order with :func:`bgmix.io.read_image` (grey files
    stay ``(H, W)``, colour files are RGB) and streamed: online evaluation holds
    a few frames at a time whatever the sequence length; training loads only the
    training frames. The scored frames (:attr:`Sequence.evaluated`) are the same in
    every mode, so methods are compared on equal terms: warm-up frames and
    training frames outside the temporal ROI are never scored, and a frame used
    for training is scored on the mask ``apply`` gives after training.

    Examples
    --------
    On a CDnet folder (for example ``dataset/baseline/highway``), or on a synthetic
    sequence written in the same layout:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from bgmix.synthetic import generate, write_sequence
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name) / "baseline"
    >>> _ = write_sequence(generate("baseline", n_frames=80, seed=0), folder)
    >>> result = evaluate_sequence(folder, "running-mean")
    >>> result.method, result.n_evaluated
    ('running-mean', 64)
    >>> 0.0 < result.f_measure <= 1.0
    True
    >>> tmp.cleanup()
    """
    if isinstance(method, list | tuple):
        raise ParameterError(
            "evaluate_sequence runs one method; use bgmix.metrics.evaluate for several"
        )
    sequence = seq if isinstance(seq, Sequence) else read_sequence(seq)
    specs = _resolve_methods([method], params)
    mode = parse_train(train)
    _check_batch_methods(specs, mode)
    options = _frame_options(source_options)
    sequence = _select(sequence, options)
    with (
        _recording(record, overwrite) as rec,
        progress_bar(sequence.n_frames, "evaluate", enabled=progress) as bar,
    ):
        result = _run_sequence(sequence, specs, mode, bar, options, rec.folder(sequence))[0]
    return rec.relocate([result])[0]


def evaluate(
    seq_dirs: StrPath | Sequence | Iterable[StrPath | Sequence],
    methods: str | BackgroundSubtractor | Iterable[str | BackgroundSubtractor],
    params: Mapping[str, Any] | None = None,
    *,
    train: Train = None,
    progress: bool = False,
    source_options: Mapping[str, Any] | None = None,
    record: StrPath | None = None,
    overwrite: bool = False,
    scheduler: Any = None,
) -> EvaluationReport:
    """Evaluate one or several methods on one or several sequences.

    Parameters
    ----------
    seq_dirs : path, Sequence, or iterable of them
        Sequence folders. A folder without ``input/`` expands to the sequence
        folders below it (:func:`find_sequences`), so a CDnet ``dataset/`` folder
        or a category folder can be given as is.
    methods : str, BackgroundSubtractor, or iterable of them
        Method names (or subtractor instances); each name at most once.
    params : dict, optional
        Either parameters shared by every method (``{"history": 300}``), or one
        dict per method, keyed by method name
        (``{"opencv-mog2": {"history": 300}, "opencv-knn": {}}``). The per-method
        form is recognised when every key is one of ``methods``; a method without
        an entry runs with its defaults. Mixing the two forms is an error.
    train : None, float, int or "all"
        Training mode, as in :func:`evaluate_sequence`, for every method.
    progress : bool, default False
        Report progress (frames) for the whole evaluation on stderr.
    source_options : dict, optional
        Frame selection and colour for every sequence, as in :func:`evaluate_sequence`.
    record : path, optional
        A folder (created; the output rule of ``overwrite`` applies, and nothing is
        left there if the evaluation fails) where, while streaming, each (sequence,
        method) gets ``CATEGORY/SEQUENCE/METHOD.mp4`` (H.264, input | mask coloured
        against the ground truth | background, panels at most 240 pixels high, see
        :func:`bgmix.viz.colour_mask`), ``METHOD.counts.npy`` (one row per scored
        frame: frame number, TP, FP, FN, TN, shadow FP, shadow), the final
        ``METHOD.background.png``, a ``METHOD.poster.jpg`` thumbnail, and
        ``truth.png`` with SBMnet's metrics when the sequence folder has the true
        ``background.png``. Each result's ``media`` lists those files.
    overwrite : bool, default False
        Replace an existing non-empty ``record`` folder as a whole.
    scheduler : distributed.Client or str, optional
        Run one task per (sequence, method) on a Dask cluster (an address, ``"local"``,
        ``"local:N"`` or a ``Client``; method names only): see
        :func:`bgmix.parallel.evaluate`, which also sweeps parameter grids. The
        F-measures are the same.

    Returns
    -------
    EvaluationReport
        Per (sequence, method) results, in sequence order; per-category and overall
        means per method; ``.table()`` and ``.to_json(path)``.

    Notes
    -----
    Everything is checked before the first frame is processed: every sequence is
    read (:func:`read_sequence`) and every method is built once with its
    parameters, so a typo fails immediately. Each sequence is then decoded once
    and every method classifies each frame in turn; each method's time is
    measured separately.
    """
    if scheduler is not None:
        if source_options or record is not None:
            raise ParameterError(
                "evaluate(scheduler=...) evaluates whole sequences: source_options and "
                "record apply to an evaluation in this process"
            )
        from bgmix.parallel import evaluate as run_tasks

        return run_tasks(
            seq_dirs, methods, params, train=train, scheduler=scheduler, progress=progress
        )
    options = _frame_options(source_options)
    sequences = [_select(s, options) for s in _gather_sequences(seq_dirs)]
    method_list = (
        [methods] if isinstance(methods, str) or _is_subtractor(methods) else list(methods)
    )
    if not method_list:
        raise ParameterError("methods: give at least one method name")
    specs = _resolve_methods(method_list, params)
    mode = parse_train(train)
    _check_batch_methods(specs, mode)
    results: list[SequenceResult] = []
    total = sum(s.n_frames for s in sequences)
    with (
        _recording(record, overwrite) as rec,
        progress_bar(total, "evaluate", enabled=progress) as bar,
    ):
        for sequence in sequences:
            results += _run_sequence(sequence, specs, mode, bar, options, rec.folder(sequence))
    return EvaluationReport(rec.relocate(results), methods=[s.name for s in specs])


# ---------------------------------------------------------------------- methods
@dataclass(frozen=True)
class _MethodSpec:
    name: str
    make: Callable[[], BackgroundSubtractor]


def _is_subtractor(obj: Any) -> bool:
    from bgmix.background import BackgroundSubtractor

    return isinstance(obj, BackgroundSubtractor)


def _resolve_methods(methods: list[Any], params: Mapping[str, Any] | None) -> list[_MethodSpec]:
    """Validate names and parameters by building every method once."""
    from bgmix.background import make_subtractor

    names: list[str] = []
    for m in methods:
        if _is_subtractor(m):
            names.append(m.name or type(m).__name__)
        elif isinstance(m, str):
            names.append(m)
        else:
            raise ParameterError(
                f"method must be a method name or a BackgroundSubtractor; got {type(m).__name__}"
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"methods: {', '.join(map(repr, dupes))} given more than once")
    per_method = _split_params(params, names)
    specs = []
    for m, name in zip(methods, names, strict=True):
        p = per_method[name]
        if _is_subtractor(m):
            if p:
                raise ParameterError(
                    f"params given for the subtractor instance {name!r}: set them on the instance"
                )
            cls, p = type(m), m.get_params()
            specs.append(_MethodSpec(name, lambda cls=cls, p=p: cls(**p)))
        else:
            make_subtractor(name, **p)  # raises UnknownMethodError / ParameterError now
            specs.append(_MethodSpec(name, lambda name=name, p=p: make_subtractor(name, **p)))
    return specs


def _split_params(params: Mapping[str, Any] | None, names: list[str]) -> dict[str, dict[str, Any]]:
    if params is None:
        return {n: {} for n in names}
    if not isinstance(params, Mapping):
        raise ParameterError(f"params must be a dict; got {type(params).__name__}")
    keys = set(params)
    by_method = keys & set(names)
    if keys and by_method == keys:
        out = {}
        for n in names:
            value = params.get(n, {})
            if not isinstance(value, Mapping):
                raise ParameterError(
                    f"params[{n!r}] must be a dict of that method's parameters; "
                    f"got {type(value).__name__}"
                )
            out[n] = dict(value)
        return out
    if by_method:
        raise ParameterError(
            f"params mixes per-method entries ({', '.join(sorted(by_method))}) with shared "
            f"parameters ({', '.join(sorted(keys - by_method))}); use either "
            "{method: {param: value}} for every entry or plain {param: value}"
        )
    return {n: dict(params) for n in names}


def _check_batch_methods(specs: list[_MethodSpec], mode: Train) -> None:
    if mode is not None:
        return
    for spec in specs:
        if spec.make().requires_fit:
            raise ParameterError(
                f"method {spec.name!r} must be fitted before it classifies frames: give train "
                "(a fraction such as 0.4, a number of frames, or 'all')"
            )


def _n_train(mode: Train, sequence: Sequence) -> int:
    n = sequence.n_frames
    if isinstance(mode, int) and mode > n:
        logger.warning(
            "sequence %r has %d frames, fewer than train=%d: training on all of them",
            sequence.name,
            n,
            mode,
        )
    return int(train_frames(mode, n, source=f"sequence {sequence.name!r}") or 0)


def _frame_options(source_options: Mapping[str, Any] | None) -> Any:
    from bgmix.io._source import _Options

    options = dict(source_options or {})
    for key in ("size", "on_error", "prefetch"):
        if key in options:
            raise ParameterError(
                f"source_options: {key!r} does not apply to an evaluation; "
                "use start, stop, stride, grey or scale"
            )
    return _Options.validate(**options)


def _select(sequence: Sequence, options: Any) -> Sequence:
    """The sequence restricted to the frames at the selected positions."""
    if options.start == 0 and options.stop is None and options.stride == 1:
        return sequence
    frames = [f for i, f in enumerate(sequence.input_frames) if options.wants(i)]
    kept = {n for n, _ in frames}
    evaluated = tuple(n for n in sequence.evaluated if n in kept)
    if not frames or not evaluated:
        raise ParameterError(
            f"sequence {sequence.name!r}: start={options.start}, stop={options.stop}, "
            f"stride={options.stride} select {len(frames)} of its {sequence.n_frames} frames "
            "and none that is scored"
        )
    return replace(sequence, input_frames=frames, evaluated=evaluated)


# ---------------------------------------------------------------------- running
def _gather_sequences(seq_dirs: Any) -> list[Sequence]:
    if isinstance(seq_dirs, str | Path | Sequence) or hasattr(seq_dirs, "__fspath__"):
        items = [seq_dirs]
    else:
        items = list(seq_dirs)
    if not items:
        raise ParameterError("seq_dirs: give at least one sequence folder")
    sequences: list[Sequence] = []
    seen: set[Path] = set()
    for item in items:
        found = (
            [item]
            if isinstance(item, Sequence)
            else [read_sequence(p) for p in find_sequences(item)]
        )
        for s in found:
            key = s.path.resolve()
            if key not in seen:
                seen.add(key)
                sequences.append(s)
    return sequences


class _Recording:
    """Where :func:`evaluate` records media: one folder per sequence inside a
    temporary folder that becomes ``record`` on success."""

    def __init__(self, tmp: Path | None, final: Path | None) -> None:
        self.tmp, self.final = tmp, final
        self.used: set[str] = set()

    def folder(self, sequence: Sequence) -> Path | None:
        if self.tmp is None:
            return None
        from bgmix.viz._record import slug

        key = f"{slug(sequence.category)}/{slug(sequence.name)}"
        base, k = key, 1
        while key in self.used:
            k += 1
            key = f"{base}-{k}"
        self.used.add(key)
        return self.tmp / key

    def relocate(self, results: list[SequenceResult]) -> list[SequenceResult]:
        """Point the results' media at the published folder."""
        if self.tmp is None or self.final is None:
            return results
        for r in results:
            if r.media:
                r.media = {
                    k: str(self.final / Path(v).relative_to(self.tmp)) for k, v in r.media.items()
                }
        return results


@contextlib.contextmanager
def _recording(record: StrPath | None, overwrite: bool) -> Iterator[_Recording]:
    if record is None:
        yield _Recording(None, None)
        return
    from bgmix._atomic import atomic_directory

    final = Path(record).absolute()
    with atomic_directory(final, overwrite=overwrite, what="record folder") as tmp:
        yield _Recording(tmp.absolute(), final)


def _run_sequence(
    sequence: Sequence,
    specs: list[_MethodSpec],
    mode: Train,
    bar: Any,
    options: Any,
    record: Path | None = None,
) -> list[SequenceResult]:
    """Decode the sequence once; every method classifies every frame in turn; with
    ``record``, a :class:`~bgmix.viz._record.SequenceRecorder` writes media there."""
    models = [spec.make() for spec in specs]
    seconds = [0.0] * len(models)
    counts = [ConfusionCounts() for _ in models]
    reader = _FrameReader(sequence, options)
    roi = None if sequence.roi.all() else reader.mask(sequence.roi.astype(np.uint8)) > 0
    n_train = _n_train(mode, sequence)
    where = f"sequence {sequence.name!r}"
    if hasattr(bar, "set_description"):
        bar.set_description(sequence.name)
    if n_train:
        data = np.stack([reader.frame(p) for _, p in sequence.input_frames[:n_train]])
        logger.debug("%s: training on %s (%.1f MB)", where, data.shape, data.nbytes / 1e6)
        for i, model in enumerate(models):
            t0 = time.perf_counter()
            try:
                model.fit(data)
            except BgmixError as exc:
                raise _with_context(exc, f"{where}, method {specs[i].name!r}, fit") from exc
            seconds[i] += time.perf_counter() - t0
        del data
    recorder = None
    if record is not None:
        from bgmix.viz._record import SequenceRecorder

        recorder = SequenceRecorder(sequence, [s.name for s in specs], record)
    with contextlib.ExitStack() as stack:
        if recorder is not None:
            stack.callback(recorder.abort)
        stream = prefetched(reader.stream(), _PREFETCH, name="bgmix-evaluate-reader")
        for number, name, frame, gt in stream:
            masks, frame_counts = [], []
            for i, model in enumerate(models):
                try:
                    t0 = time.perf_counter()
                    mask = model.apply(frame)
                    seconds[i] += time.perf_counter() - t0
                    fc = None if gt is None else ConfusionCounts().update(mask, gt, roi)
                except BgmixError as exc:
                    context = f"{where}, method {specs[i].name!r}, frame {name}"
                    raise _with_context(exc, context) from exc
                if fc is not None:
                    counts[i] += fc
                masks.append(mask)
                frame_counts.append(fc)
            if recorder is not None:
                recorder.frame(number, frame, masks, models, gt, frame_counts)
            bar.update(1)
        media = recorder.close(models) if recorder is not None else [{}] * len(models)
        stack.pop_all()
    results = []
    for spec, model, c, s, m in zip(specs, models, counts, seconds, media, strict=True):
        result = SequenceResult(
            sequence=sequence.name,
            category=sequence.category,
            method=spec.name,
            params=model.json_params(),
            counts=c,
            n_frames=sequence.n_frames,
            n_evaluated=sequence.n_evaluated,
            seconds=s,
            train=mode,
            n_train=n_train,
            path=str(sequence.path),
            media=m.get("media"),
            background_metrics=m.get("background_metrics"),
        )
        logger.info(
            "%s, %s: F=%.4f over %d frames, %.0f frames/s",
            where,
            spec.name,
            result.f_measure,
            sequence.n_evaluated,
            result.fps,
        )
        results.append(result)
    return results


class _FrameReader:
    """Reads a sequence's frames (and masks of evaluated frames) with checks."""

    def __init__(self, sequence: Sequence, options: Any) -> None:
        from bgmix.io._source import _Shaper

        self.sequence = sequence
        self.ndim: int | None = None
        h, w = sequence.shape
        self.shaper = _Shaper(np.zeros((h, w), np.uint8), options)
        self.grey = options.grey

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """A ground-truth label image or ROI at the frames' output size (nearest)."""
        w, h = self.shaper.out_wh
        if mask.shape[:2] == (h, w):
            return mask
        import cv2

        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)

    def frame(self, path: Path) -> np.ndarray:
        img = read_image(path, mode=None)
        h, w = self.sequence.shape
        if img.dtype != np.uint8:
            raise FrameFormatError(
                f"input frame {str(path)!r}: expected an 8-bit image, got dtype {img.dtype}"
            )
        if img.shape[:2] != (h, w):
            raise FrameSizeError(
                f"input frame {str(path)!r} is {img.shape[1]}x{img.shape[0]} but the "
                f"sequence's frames are {w}x{h}"
            )
        if self.ndim is None:
            self.ndim = img.ndim
        elif img.ndim != self.ndim:
            kinds = {2: "grey", 3: "colour"}
            raise FrameFormatError(
                f"input frame {str(path)!r} is {kinds[img.ndim]} but the earlier frames "
                f"are {kinds[self.ndim]}"
            )
        return self._shape(img)

    def _shape(self, img: np.ndarray) -> np.ndarray:
        w, h = self.shaper.out_wh
        if not self.grey and img.shape[:2] == (h, w):
            return img
        import cv2

        if self.grey and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        if img.shape[:2] != (h, w):
            shrink = w <= img.shape[1]
            img = cv2.resize(
                img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        return img

    def stream(self) -> Iterator[tuple[int, str, np.ndarray, np.ndarray | None]]:
        evaluated = set(self.sequence.evaluated)
        for number, path in self.sequence.input_frames:
            gt = None
            if number in evaluated:
                gt = self.mask(read_groundtruth(self.sequence.groundtruth[number]))
            yield number, path.name, self.frame(path), gt


def _with_context(exc: BgmixError, context: str) -> BgmixError:
    """The same kind of error with ``context`` (sequence, method, frame) in front."""
    try:
        return type(exc)(f"{context}: {exc}")
    except TypeError:  # a subclass with another constructor: keep the original
        return exc
