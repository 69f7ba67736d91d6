"""``bgmix lowrank``: SVD / Robust PCA background of a video and the pictures that explain it."""

from __future__ import annotations

import click

from bgmix._cli import _options as opt


def _parse_size(text: str | None) -> tuple[int, int] | None:
    from bgmix.exceptions import ParameterError

    if text is None:
        return None
    w, sep, h = text.lower().partition("x")
    try:
        size = (int(w), int(h))
    except ValueError:
        size = None
    if not sep or size is None or min(size) < 1:
        raise ParameterError(f"--size must be WIDTHxHEIGHT, e.g. 160x120; got {text!r}")
    return size


@click.command("lowrank")
@click.argument("src")
@opt.output_option(help="Output folder (missing parents are created).")
@opt.method_option(
    choices=["svd", "rpca"],
    default="svd",
    help="Background: rank-k SVD or Robust PCA (L + S).",
)
@click.option(
    "--rank",
    type=int,
    default=1,
    show_default=True,
    help="Rank of the SVD background (-m svd; Robust PCA finds its own rank). The "
    "two-backgrounds figure compares rank 1 with max(2, RANK).",
)
@opt.frame_options(grey_default=True)
@click.option("--size", default=None, metavar="WxH", help="Resize frames to WIDTHxHEIGHT.")
@click.option(
    "--second",
    default=None,
    help="Second scene of the two-backgrounds figure (default: SRC mirrored).",
)
@click.option(
    "--threshold",
    type=float,
    default=30.0,
    show_default=True,
    help="Foreground where the residual exceeds this (0-255).",
)
@click.option(
    "--components",
    "n_components",
    type=int,
    default=6,
    show_default=True,
    help="Components shown as images.",
)
@click.option("--fps", type=float, default=None, help="Frame rate of the output video.")
@click.option(
    "--cache",
    default=None,
    type=click.Path(dir_okay=False),
    help="Cache the frame matrix in this .npy file (reused when the source and options match).",
)
@opt.seed_option
@opt.param_option(
    help="A Robust PCA option (with -m rpca), e.g. -p tol=1e-6 -p max_iter=200 (repeatable)."
)
@opt.overwrite_option
@opt.quiet_option
def lowrank(src, output, method, size, seed, params, quiet, **kw):
    """Split SRC (video file, image folder, GIF) into a low-rank background and a
    foreground, and write to OUTPUT the singular-value spectrum, the first components
    as images, the compression/error table and plot, the background and a side-by-side
    video, and the two-backgrounds comparison (rank 1 against rank k).

    -p sets Robust PCA options with -m rpca: lam, tol, max_iter, rho, svd.
    """
    from bgmix.lowrank import lowrank_report

    rpca_options = opt.parse_params(params) if method == "rpca" else None
    if params and method != "rpca":
        from bgmix.exceptions import ParameterError

        raise ParameterError("-p options are Robust PCA options; use them with -m rpca")
    summary = lowrank_report(
        src,
        output,
        method=method,
        size=_parse_size(size),
        rpca_options=rpca_options,
        random_state=seed,
        progress=not quiet,
        **opt.source_kwargs(kw),
        **kw,
    )
    d, t = summary["matrix_shape"]
    bg = summary["background"]
    found = f"background rank {bg['rank']}"
    if method == "rpca":
        found = (
            f"Robust PCA found a background of rank {bg['rank']} in {bg['n_iter']} iterations"
            f" ({'converged' if bg['converged'] else 'NOT converged'})"
        )
    click.echo(
        f"{method}: {t} frames x {d} pixel values, {found}, "
        f"{100 * summary['foreground_fraction']:.1f}% foreground -> {output}"
    )
