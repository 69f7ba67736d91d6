"""``bgmix subtract``."""

from __future__ import annotations

import click

from bgmix._cli import _options as opt


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
@click.option(
    "--masks/--no-masks", default=True, show_default=True, help="Write masks/bin000123.png."
)
@click.option("--video/--no-video", default=True, show_default=True, help="Write side_by_side.mp4.")
@click.option(
    "--fps", type=float, default=None, help="Frame rate of the MP4 (default: the source's)."
)
@opt.frame_options
@opt.overwrite_option
@opt.quiet_option
def subtract(src, output, method, params, model, quiet, **kw):
    """Separate foreground from background in SRC (video file, image folder, GIF, camera
    index or stream URL) with METHOD, writing under OUTPUT: masks/ (one mask per frame),
    side_by_side.mp4 (input | mask | foreground | background), background.png and run.json.

    The last line gives the wall-clock frames/s of the whole run (decoding, model and
    writing) and, separately, the model's own frames/s.
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
        progress=not quiet,
        source_options=opt.source_kwargs(kw),
        **kw,
    )
    click.echo(summary.closing_line(output))
