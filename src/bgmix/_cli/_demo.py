"""``bgmix demo``: the whole product on the built-in synthetic scene, no data needed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bgmix._cli._options import method_option, params_option, parse_params


@click.command("demo")
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="out/demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output folder.",
)
@method_option
@params_option
@click.option(
    "--scene",
    default="mixed",
    show_default=True,
    help="Synthetic scenario (see `bgmix synth --list`).",
)
@click.option("--frames", type=int, default=300, show_default=True, help="Length of the scene.")
@click.option("--width", type=int, default=320, show_default=True)
@click.option("--height", type=int, default=240, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def demo(out_dir, method, params, scene, frames, width, height, seed, quiet) -> None:
    """Generate a synthetic scene with exact ground truth, run METHOD on it, and write under
    OUT: the scene in CDnet layout (scene/), the masks (masks/), a side-by-side MP4
    (side_by_side.mp4: input | mask | foreground | background), the background image, and
    metrics.json (CDnet F-measure etc. against the ground truth, SBMnet metrics of the
    background against the true background).
    """
    from bgmix._atomic import atomic_output
    from bgmix.io import read_image
    from bgmix.metrics import background_metrics, evaluate_sequence
    from bgmix.pipeline import subtract
    from bgmix.synthetic import generate, write_sequence

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kwargs = parse_params(params)
    synthetic = generate(scene, width=width, height=height, n_frames=frames, seed=seed)
    scene_dir = out / "scene"
    write_sequence(synthetic, scene_dir, overwrite=True)
    run = subtract(
        scene_dir / "input", out, method=method, params=kwargs, masks="png", progress=not quiet
    )
    result = evaluate_sequence(scene_dir, method, params=kwargs)
    estimate = read_image(out / "background.png")
    bg = background_metrics(estimate, synthetic.background)
    report = {
        "scene": {"kind": scene, "width": width, "height": height, "frames": frames, "seed": seed},
        "method": run.method,
        "params": run.params,
        "cdnet": result.metrics,
        "sbmnet_background": bg,
        "frames_per_second": run.fps,
        "outputs": run.outputs,
    }
    with atomic_output(out / "metrics.json", what="metrics file") as tmp:
        tmp.write_text(json.dumps(report, indent=2, default=str))
    m = result.metrics
    click.echo(
        f"{run.method} on synthetic '{scene}' ({width}x{height}, {frames} frames): "
        f"F={m['f_measure']:.3f} recall={m['recall']:.3f} precision={m['precision']:.3f} "
        f"PWC={m['pwc']:.2f}; background PSNR={bg['psnr']:.1f} dB; {run.fps:.0f} frames/s"
    )
    click.echo(f"wrote {out / 'side_by_side.mp4'}, {out / 'masks'}, {out / 'metrics.json'}")
