"""``bgmix background``: fit a model on a video or image folder and write its background image."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import click

from bgmix._cli._options import params_option, parse_params, source_options

log = logging.getLogger(__name__)


def parse_train(train: str | None) -> float | int | None:
    """``None``/``"all"`` -> None (every frame); ``"0.4"`` -> 0.4; ``"25"`` -> 25.

    Raises
    ------
    ParameterError
        Not a fraction in (0, 1), a count ≥ 1 or ``all``.
    """
    from bgmix.exceptions import ParameterError

    if train is None or train.strip().lower() == "all":
        return None
    text = train.strip().lower()
    bad = f"--train must be a fraction in (0, 1), a frame count >= 1 or 'all'; got {train!r}"
    try:
        value: float | int = float(text) if any(c in text for c in ".e") else int(text)
    except ValueError:
        raise ParameterError(bad) from None
    if isinstance(value, float):
        if not 0.0 < value < 1.0:
            raise ParameterError(bad)
        return value
    if value < 1:
        raise ParameterError(bad)
    return value


def estimate_background(
    src: Any,
    *,
    method: str = "em",
    params: dict[str, Any] | None = None,
    train: float | int | None = None,
    source_options: dict[str, Any] | None = None,
):
    """Fit ``method`` on ``src`` (all frames, the first fraction or the first N).

    Parameters
    ----------
    src : path, int or (T, H, W[, 3]) ndarray
        Anything :func:`bgmix.open_source` opens.
    method : str, default "em"
        A registered method; batch methods are fitted, online ones see every training
        frame once (their ``fit`` is a warm-up).
    params : dict, optional
        The method's parameters.
    train : float, int or None
        A fraction in (0, 1) of the frames, a frame count, or None for every frame.
        A fraction of a source of unknown length reads every frame once (spilled to a
        temporary file past the method's ``max_memory``) and fits on the first part.
    source_options : dict, optional
        Options of :func:`bgmix.open_source` (``grey``, ``scale``, ``start``, ...).

    Returns
    -------
    subtractor : BackgroundSubtractor
        The fitted model; ``subtractor.get_background_image()`` is the background.
    n_frames : int
        Number of training frames.

    Raises
    ------
    EmptySourceError
        The source has fewer frames than ``train`` asks for.
    """
    from bgmix.background import make_subtractor
    from bgmix.background._batch import collect_frames
    from bgmix.exceptions import EmptySourceError
    from bgmix.io import open_source

    sub = make_subtractor(method, **(params or {}))
    budget = int(float(getattr(sub, "max_memory", 1024.0)) * (1 << 20) / 2)
    with open_source(src, **(source_options or {})) as source:
        count = source.info.frame_count
        if isinstance(train, float) and count is None:
            # Unknown length: gather every frame once (spilled to disk when large).
            with collect_frames(source, max_bytes=budget, owner=f"{method}.fit") as stack:
                n = max(1, round(train * stack.n_frames))
                sub.fit(stack.head(n))
            return sub, n
        if isinstance(train, float):
            n = max(1, round(train * count))  # type: ignore[operator]
        else:
            n = train
        frames = source if n is None else itertools.islice(source, n)
        taken = 0

        def counted():
            nonlocal taken
            for frame in frames:
                taken += 1
                yield frame

        sub.fit(counted())
        if n is not None and taken < n:
            raise EmptySourceError(
                f"{source.info.source}: only {taken} frames, fewer than --train {n}"
            )
    return sub, taken


@click.command("background")
@click.argument("src")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Background image to write (.png, .jpg, .bmp or .tif).",
)
@click.option(
    "-m", "--method", default="em", show_default=True, help="Method name; see `bgmix methods`."
)
@params_option
@click.option(
    "--train",
    default=None,
    metavar="FRACTION|N|all",
    help="Fit on the first fraction (e.g. 0.4) or N frames; default: all frames.",
)
@click.option(
    "--save-model",
    "model_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also save the fitted model (NPZ) for `bgmix subtract`-style reuse.",
)
@source_options
def background(src, output, method, params, train, model_path, **source_opts) -> None:
    """Estimate the background image of SRC (video file, image folder or GIF) with METHOD
    (default: per-pixel EM) fitted on all of its frames or the first --train part, and write
    it to OUTPUT.
    """
    from PIL import Image

    from bgmix._atomic import atomic_output, check_output_parent
    from bgmix.exceptions import OutputError
    from bgmix.io import IMAGE_SUFFIXES

    out = Path(output)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(
            f"output {str(out)!r}: unknown image type {out.suffix!r}; "
            f"use one of {', '.join(IMAGE_SUFFIXES)}"
        )
    check_output_parent(out, what="background image")
    if model_path is not None:
        check_output_parent(model_path, what="model file")
    if Path(src).exists() and out.exists() and Path(src).resolve() == out.resolve():
        raise OutputError(f"output {str(out)!r} is the input; choose another file name")
    sub, n = estimate_background(
        int(src) if src.isdigit() else src,
        method=method,
        params=parse_params(params),
        train=parse_train(train),
        source_options={k: v for k, v in source_opts.items() if v is not None},
    )
    image = sub.get_background_image()
    with atomic_output(out, what="background image") as tmp:
        Image.fromarray(image).save(tmp, format=Image.registered_extensions()[out.suffix.lower()])
    if model_path is not None:
        sub.save(model_path)
    click.echo(
        f"{sub.name}: background of {image.shape[1]}x{image.shape[0]} from {n} frames -> {out}"
    )
