"""``bgmix subtract``."""

from __future__ import annotations

import click

from bgmix._cli import _options as opt


def _video_width(text: str) -> int | None:
    from bgmix.exceptions import ParameterError

    if text.strip().lower() in ("full", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise ParameterError(
            f"--video-width expects a number of pixels or 'full'; got {text!r}"
        ) from None


def _on_off(name: str, help: str):
    """``--NAME/--no-NAME``, on by default."""
    return click.option(f"--{name}/--no-{name}", default=True, show_default=True, help=help)


@click.command("subtract")
@click.argument("srcs", nargs=-1, required=True, metavar="SRC...")
@opt.output_option(help="Output folder (missing parents are created).")
@opt.method_option
@opt.params_option
@click.option(
    "--model",
    default=None,
    type=click.Path(dir_okay=False),
    help="Start from a saved model (bgmix background --save-model, or "
    "BackgroundSubtractor.save) instead of -m/-p; a saved batch model needs no --train.",
)
@opt.train_option
@_on_off("masks", "Write the masks (0 background, 127 shadow, 255 foreground).")
@click.option(
    "--mask-format",
    type=click.Choice(["video", "png", "both"]),
    default="video",
    show_default=True,
    help="video: one lossless file masks.mov of PNG images (about 25 KiB per 1080p frame, read it "
    "back exactly with bgmix.open_source); png: masks/bin000123.png per frame (CDnet layout, "
    "for short clips and evaluation); both.",
)
@_on_off("video", "Write side_by_side.mp4 (input | mask | foreground | background).")
@click.option(
    "--video-width",
    default="1920",
    show_default=True,
    metavar="PIXELS|full",
    help="Largest width of side_by_side.mp4 (its panels are shrunk to fit); 'full' keeps "
    "full-size panels.",
)
@click.option(
    "--roi",
    multiple=True,
    metavar="POLYGON|FILE",
    help="Region of interest, outside which nothing is foreground: a polygon "
    "'x0,y0 x1,y1 x2,y2 ...' in source pixels (repeatable: the union), a text file with one "
    "polygon per line, or a mask image (non-zero inside).",
)
@click.option(
    "--fps", type=float, default=None, help="Frame rate of the videos (default: the source's)."
)
@opt.frame_options
@opt.overwrite_option
@opt.quiet_option
@opt.scheduler_option
@opt.segments_option
@opt.warmup_option
def subtract(
    srcs, output, method, params, model, masks, mask_format, video_width, roi, quiet,
    scheduler, segments, warmup, **kw,
):  # fmt: skip
    """Separate foreground from background in SRC (video file, image folder, GIF, camera
    index or stream URL) with METHOD, writing under OUTPUT the masks (masks.mov), a
    side-by-side MP4, the background image and run.json.

    Several SRCs (or --scheduler) run as tasks on a Dask cluster, one output folder per
    input under OUTPUT; a long video can be cut into time segments (--segments).

    Decoding, the model and each output run concurrently. For long footage: --scale 0.5
    (downscale factor: 4x fewer pixels), --stride N (every N-th frame), --roi (only this
    region), --no-video. The last line gives the wall-clock frames/s of the whole run
    (decoding, model and writing) and, separately, the model's own frames/s.
    """
    from bgmix.exceptions import ParameterError
    from bgmix.pipeline import subtract as run

    if model is not None and (params or method != "mog2"):
        raise ParameterError("--model brings its own method and parameters; drop -m/-p")
    if len(srcs) > 1 or scheduler is not None or segments is not None:
        if model is not None or roi or mask_format != "video" or video_width != "1920":
            raise ParameterError(
                "--model, --roi, --mask-format and --video-width apply to one input run "
                "in this process; drop them with several inputs or --scheduler"
            )
        _parallel(srcs, output, method, params, masks, quiet, scheduler, segments, warmup, kw)
        return
    (src,) = srcs
    summary = run(
        opt.source_arg(src),
        output,
        method=method,
        params=opt.parse_params(params),
        model=model,
        masks=mask_format if masks else False,
        roi=list(roi) or None,
        video_width=_video_width(video_width),
        progress=not quiet,
        source_options=opt.source_kwargs(kw),
        **kw,
    )
    click.echo(summary.closing_line(output))


def _parallel(srcs, output, method, params, masks, quiet, scheduler, segments, warmup, kw):
    """Many inputs, or one video in time segments, through :mod:`bgmix.parallel`."""
    from bgmix.parallel import subtract as run

    params = opt.parse_params(params)
    options = opt.source_kwargs(kw)
    train = kw.pop("train")
    if segments is None and len(srcs) == 1 and scheduler is not None and train is None:
        segments = opt.auto_segments(method, params)
    else:
        segments = opt.parse_segments(segments)
    records = run(
        list(srcs),
        output,
        scheduler=scheduler,
        method=method,
        params=params,
        train=train,
        segments=segments,
        warmup=warmup,
        masks=masks,
        video=kw["video"],
        fps=kw["fps"],
        source_options=options,
        progress=not quiet,
    )
    for r in records:
        done = "complete already, skipped" if r["skipped"] else f"{r['n_frames']} frames"
        click.echo(f"{method}: {done} -> {r['out']}")
