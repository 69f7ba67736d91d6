"""``bgmix subtract``."""

from __future__ import annotations

import click

from bgmix._cli._options import method_option, params_option, parse_params, source_options


@click.command("subtract")
@click.argument("src")
@click.option(
    "-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@method_option
@params_option
@click.option(
    "--train",
    default=None,
    metavar="FRACTION|N|all",
    help="Fit on the first fraction (e.g. 0.4) or N frames, then classify the rest; "
    "'all' fits on every frame, then classifies every frame.",
)
@click.option(
    "--masks/--no-masks", default=True, show_default=True, help="Write masks/bin000123.png."
)
@click.option("--video/--no-video", default=True, show_default=True, help="Write side_by_side.mp4.")
@click.option(
    "--fps", type=float, default=None, help="Frame rate of the MP4 (default: the source's)."
)
@source_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def subtract(src, out_dir, method, params, train, masks, video, fps, quiet, **source_opts) -> None:
    """Separate foreground from background in SRC (video file, image folder, GIF, camera index
    or stream URL) with METHOD, writing masks, a side-by-side MP4, the background image and
    run.json under OUT.
    """
    from bgmix.pipeline import subtract as run

    summary = run(
        int(src) if src.isdigit() else src,
        out_dir,
        method=method,
        params=parse_params(params),
        train=train,
        masks=masks,
        video=video,
        fps=fps,
        progress=not quiet,
        source_options={k: v for k, v in source_opts.items() if v is not None},
    )
    trained = f" after fitting on {summary.n_trained}" if summary.n_trained else ""
    click.echo(
        f"{summary.method}: {summary.n_frames} frames classified{trained} "
        f"at {summary.fps:.0f} frames/s -> {out_dir}"
    )
