"""``bgmix background``: fit a model on a video or image folder and write its background image."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import click

from bgmix._cli import _options as opt


def estimate_background(
    src: Any,
    *,
    method: str = "em",
    params: dict[str, Any] | None = None,
    train: float | int | str | None = "all",
    source_options: dict[str, Any] | None = None,
    progress: bool = False,
):
    """Fit ``method`` on the first ``train`` frames of ``src`` (see
    :func:`bgmix._validation.train_frames`; default every frame).

    A fraction of a source of unknown length reads every frame once (spilled to a
    temporary file past the method's ``max_memory``) and fits on the first part.

    Returns
    -------
    subtractor : BackgroundSubtractor
        The fitted model; ``subtractor.get_background_image()`` is the background.
    n_frames : int
        Number of training frames.
    """
    from bgmix._progress import progress_bar
    from bgmix._validation import parse_train, train_frames
    from bgmix.background import make_subtractor
    from bgmix.background._batch import collect_frames
    from bgmix.exceptions import EmptySourceError
    from bgmix.io import open_source

    sub = make_subtractor(method, **(params or {}))
    mode = "all" if train is None else parse_train(train)
    budget = int(float(getattr(sub, "max_memory", 1024.0)) * (1 << 20) / 2)
    with open_source(src, **(source_options or {})) as source:
        count = source.info.frame_count
        if isinstance(mode, float) and count is None:
            with collect_frames(source, max_bytes=budget, owner=f"{method}.fit") as stack:
                n = max(1, round(mode * stack.n_frames))
                sub.fit(stack.head(n))
            return sub, n
        n = train_frames(mode, count, source=str(source.info.source))
        taken = 0
        with progress_bar(n, f"{sub.name} fit", enabled=progress) as bar:

            def counted():
                nonlocal taken
                for frame in itertools.islice(source, n):
                    taken += 1
                    bar.update(1)
                    yield frame

            sub.fit(counted())
        if taken == 0:
            raise EmptySourceError(f"{source.info.source}: no frame to fit on")
    return sub, taken


@click.command("background")
@click.argument("src")
@opt.output_option(file=True, help="Background image to write (.png, .jpg, .bmp or .tif).")
@opt.method_option(default="em")
@opt.params_option
@opt.train_option(fit_only=True)
@click.option(
    "--save-model",
    "model_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the fitted model (NPZ); `bgmix subtract --model FILE` starts from it.",
)
@opt.frame_options
@opt.overwrite_option
@opt.quiet_option
def background(src, output, method, params, train, model_path, overwrite, quiet, **frames) -> None:
    """Estimate the background image of SRC (video file, image folder or GIF) with METHOD
    (default: per-pixel EM), fitted on --train frames (default: all), and write it to
    OUTPUT.
    """
    from PIL import Image

    from bgmix._atomic import atomic_output, check_overwrite
    from bgmix.exceptions import OutputError
    from bgmix.io import IMAGE_SUFFIXES

    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(
            f"output {str(output)!r}: unknown image type {output.suffix!r}; "
            f"use one of {', '.join(IMAGE_SUFFIXES)}"
        )
    if Path(src).exists() and output.exists() and Path(src).resolve() == output.resolve():
        raise OutputError(f"output {str(output)!r} is the input; choose another file name")
    for path in (output, model_path):
        if path is not None:
            check_overwrite(path, overwrite=overwrite, folder=False)
    sub, n = estimate_background(
        opt.source_arg(src),
        method=method,
        params=opt.parse_params(params),
        train=train or "all",
        source_options=opt.source_kwargs(frames),
        progress=not quiet,
    )
    image = sub.get_background_image()
    with atomic_output(output, overwrite=overwrite, what="background image") as tmp:
        Image.fromarray(image).save(
            tmp, format=Image.registered_extensions()[output.suffix.lower()]
        )
    if model_path is not None:
        sub.save(model_path)
    click.echo(
        f"{sub.name}: background of {image.shape[1]}x{image.shape[0]} from {n} frames -> {output}"
    )
