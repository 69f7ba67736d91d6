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
@click.argument("src")
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
    help="video: one lossless FFV1 file masks.mkv (about 12 KiB per 1080p frame, read it "
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
def subtract(src, output, method, params, model, masks, mask_format, video_width, roi, quiet, **kw):
    """Separate foreground from background in SRC (video file, image folder, GIF, camera
    index or stream URL) with METHOD, writing under OUTPUT the masks (masks.mkv), a
    side-by-side MP4, the background image and run.json.

    Decoding, the model and each output run concurrently. For long footage: --scale 0.5
    (downscale factor: 4x fewer pixels), --stride N (every N-th frame), --roi (only this
    region), --no-video. The last line gives the wall-clock frames/s of the whole run
    (decoding, model and writing) and, separately, the model's own frames/s.
    """
    from bgmix.exceptions import ParameterError
    from bgmix.pipeline import subtract as run

    if model is not None and (params or method != "mog2"):
        raise ParameterError("--model brings its own method and parameters; drop -m/-p")
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
