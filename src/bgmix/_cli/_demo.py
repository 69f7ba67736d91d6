"""``bgmix demo``: the whole product on the built-in synthetic scene, no data needed."""

from __future__ import annotations

import json
import os

import click

from bgmix._cli import _options as opt


@click.command("demo")
@opt.output_option(default="out/demo", help="Output folder (missing parents are created).")
@opt.method_option
@opt.params_option
@click.option(
    "--scene",
    default="mixed",
    show_default=True,
    help="Synthetic scenario (see `bgmix synth --list`).",
)
@opt.scene_options(frames=300, width=320, height=240)
@opt.overwrite_option
@opt.quiet_option
def demo(output, method, params, scene, n_frames, width, height, seed, overwrite, quiet) -> None:
    """Generate a synthetic scene with exact ground truth, run METHOD on it, and write under
    OUTPUT: the scene in CDnet layout (scene/), the masks (masks/), a side-by-side MP4
    (side_by_side.mp4: input | mask | foreground | background), the background image, and
    metrics.json (CDnet F-measure etc. against the ground truth, SBMnet metrics of the
    background against the true background).
    """
    from bgmix._atomic import atomic_directory
    from bgmix.io import read_image
    from bgmix.metrics import background_metrics, evaluate_sequence
    from bgmix.pipeline import subtract
    from bgmix.synthetic import generate, write_sequence

    kwargs = opt.parse_params(params)
    synthetic = generate(scene, width=width, height=height, n_frames=n_frames, seed=seed)
    with atomic_directory(output, overwrite=overwrite) as tmp:
        write_sequence(synthetic, tmp / "scene")
        run = subtract(
            tmp / "scene" / "input",
            tmp / "run",
            method=method,
            params=kwargs,
            masks="png",
            progress=not quiet,
        )
        for entry in os.listdir(tmp / "run"):  # the run's outputs sit beside scene/
            os.replace(tmp / "run" / entry, tmp / entry)
        (tmp / "run").rmdir()
        result = evaluate_sequence(tmp / "scene", method, params=kwargs)
        bg = background_metrics(read_image(tmp / "background.png"), synthetic.background)
        report = {
            "scene": {
                "kind": scene,
                "width": width,
                "height": height,
                "frames": n_frames,
                "seed": seed,
            },
            "method": run.method,
            "params": run.params,
            "cdnet": result.metrics,
            "sbmnet_background": bg,
            "frames_per_second": run.fps,
            "model_frames_per_second": run.model_fps,
            "outputs": {k: str(output / os.path.basename(v)) for k, v in run.outputs.items()},
        }
        (tmp / "metrics.json").write_text(json.dumps(report, indent=2, default=str))
    m = result.metrics
    click.echo(
        f"{run.method} on synthetic '{scene}' ({width}x{height}, {n_frames} frames): "
        f"F={m['f_measure']:.3f} recall={m['recall']:.3f} precision={m['precision']:.3f} "
        f"PWC={m['pwc']:.2f}; background PSNR={bg['psnr']:.1f} dB"
    )
    click.echo(run.closing_line(output))
