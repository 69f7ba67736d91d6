"""``bgmix synth``: write a synthetic sequence with exact ground truth (CDnet layout)."""

from __future__ import annotations

from pathlib import Path

import click

from bgmix._cli import _options as opt
from bgmix.synthetic._options import OPTION_DOCS

_EPILOG = "\b\nScene options (-p KEY=VALUE, combine freely):\n" + "\n".join(
    f"  {name:<18} {doc}" for name, doc in OPTION_DOCS.items()
)


@click.command("synth", epilog=_EPILOG)
@click.argument("kind", required=False)
@opt.output_option(required=False, help="Sequence folder to write (missing parents are created).")
@opt.scene_options(
    frames="300; stopped-object and mixed 400", width="160; mixed 320", height="120; mixed 240"
)
@opt.choice_option(
    "--format",
    "image_format",
    choices=["png", "jpg", "bmp"],
    default="png",
    help="Format of the input frames.",
)
@opt.param_option(
    help="A scene option (listed below), e.g. -p shadows=true -p object_rate=6 (repeatable)."
)
@click.option("--list", "list_kinds", is_flag=True, help="List the scene kinds and exit.")
@opt.overwrite_option
@opt.quiet_option
def synth(
    kind: str | None,
    output: Path | None,
    width: int | None,
    height: int | None,
    n_frames: int | None,
    seed: int,
    image_format: str,
    params: tuple[str, ...],
    overwrite: bool,
    list_kinds: bool,
    quiet: bool,
) -> None:
    """Write a synthetic scene of KIND with exact ground truth to OUTPUT.

    The folder gets the CDnet layout: input/in000001.png..., groundtruth/gt000001.png...
    (0 background, 50 shadow, 85 outside ROI, 170 unknown, 255 foreground),
    temporalROI.txt, ROI.bmp, background.png and scene.json. Same KIND, size, options
    and seed give the same bytes. `bgmix synth --list` shows the kinds.

    \b
    Examples:
      bgmix synth baseline -o data/baseline
      bgmix synth shadows -o data/shadows --frames 600 --seed 3 -p object_rate=6
    """
    from bgmix.synthetic import SCENARIOS, generate, write_sequence

    if list_kinds:
        width_ = max(len(k) for k in SCENARIOS)
        for name, doc in SCENARIOS.items():
            click.echo(f"{name:<{width_}}  {doc}")
        return
    if kind is None:
        raise click.UsageError(
            f"missing the scene KIND (one of: {', '.join(SCENARIOS)}); see `bgmix synth --list`"
        )
    if output is None:
        raise click.UsageError("missing the output folder: -o/--output DIR")
    from bgmix._atomic import check_overwrite
    from bgmix._progress import progress_bar

    check_overwrite(output, overwrite=overwrite, folder=True, what="output folder")
    options = opt.parse_params(params)
    scene = generate(kind, width=width, height=height, n_frames=n_frames, seed=seed, **options)
    with progress_bar(scene.n_frames, f"synth {kind}", enabled=not quiet) as bar:
        write_sequence(
            scene,
            output,
            overwrite=overwrite,
            image_format=image_format,
            progress=lambda n: bar.update(n - bar.n),
        )
    if not quiet:
        first, last = scene.temporal_roi
        click.echo(
            f"wrote {scene.n_frames} frames of {kind} ({scene.width}x{scene.height}, seed"
            f" {scene.seed}) to {output}; temporal ROI {first + 1}-{last + 1}"
        )
