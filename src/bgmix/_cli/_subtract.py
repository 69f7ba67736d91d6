"""``bgmix subtract``."""

from __future__ import annotations

import click

from bgmix._cli._options import (
    method_option,
    params_option,
    parse_params,
    scheduler_option,
    source_options,
)


@click.command("subtract")
@click.argument("srcs", nargs=-1, required=True, metavar="SRC...")
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
@scheduler_option
@click.option(
    "--segments",
    default=None,
    metavar="N|auto",
    help="Cut a video into N time segments run as separate tasks, each after a warm-up "
    "(default with --scheduler and one input of an online method: auto, two per worker).",
)
@click.option(
    "--warmup",
    type=int,
    default=None,
    help="Frames run through the model before each segment (default: twice its history).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def subtract(
    srcs, out_dir, method, params, train, masks, video, fps, quiet, scheduler, segments, warmup,
    **source_opts,
) -> None:  # fmt: skip
    """Separate foreground from background in SRC (video file, image folder, GIF, camera index
    or stream URL) with METHOD, writing masks, a side-by-side MP4, the background image and
    run.json under OUT. Several SRCs (or --scheduler) run as tasks, one output folder per
    input under OUT; a long video can be cut into time segments (--segments).
    """
    options = {k: v for k, v in source_opts.items() if v is not None}
    if len(srcs) > 1 or scheduler is not None or segments is not None:
        _parallel(srcs, out_dir, method, params, train, masks, video, fps, quiet, scheduler,
                  segments, warmup, options)  # fmt: skip
        return
    from bgmix.pipeline import subtract as run

    (src,) = srcs
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
        source_options=options,
    )
    trained = f" after fitting on {summary.n_trained}" if summary.n_trained else ""
    click.echo(
        f"{summary.method}: {summary.n_frames} frames classified{trained} "
        f"at {summary.fps:.0f} frames/s -> {out_dir}"
    )


def _parallel(
    srcs, out_dir, method, params, train, masks, video, fps, quiet, scheduler, segments, warmup,
    options,
) -> None:  # fmt: skip
    """Many inputs, or one video in time segments, through :mod:`bgmix.parallel`."""
    from bgmix.background import make_subtractor
    from bgmix.parallel import subtract as run

    params = parse_params(params)
    if segments is None and len(srcs) == 1 and scheduler is not None and train is None:
        online = not make_subtractor(method, **params).requires_fit
        segments = "auto" if online else None
    elif segments is not None and segments != "auto":
        segments = int(segments) if segments.isdigit() else segments
    records = run(
        list(srcs),
        out_dir,
        scheduler=scheduler,
        method=method,
        params=params,
        train=train,
        segments=segments,
        warmup=warmup,
        masks=masks,
        video=video,
        fps=fps,
        source_options=options,
        progress=not quiet,
    )
    for r in records:
        done = "complete already, skipped" if r["skipped"] else f"{r['n_frames']} frames"
        click.echo(f"{method}: {done} -> {r['out']}")
