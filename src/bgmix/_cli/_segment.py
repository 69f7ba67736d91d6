"""``bgmix segment``: segment an image with a Gaussian mixture or k-means, and sample it."""

from __future__ import annotations

import time
from pathlib import Path

import click

from bgmix._cli import _options as opt


@click.command("segment")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "--n-components",
    default=10,
    show_default=True,
    type=int,
    help="Number of regions (mixture components / clusters).",
)
@opt.method_option(
    choices=["gmm", "kmeans"], default="gmm", help="Model for the palette, labels and sample."
)
@opt.output_option(help="Output folder (missing parents are created).")
@opt.choice_option(
    "--color-space", choices=["rgb", "lab", "hsv"], default="rgb", help="Colour features."
)
@click.option(
    "--spatial-weight",
    type=float,
    default=0.0,
    show_default=True,
    help="Weight of the pixel position (0: colour only; 1: crossing the image "
    "costs as much as the whole lightness range).",
)
@opt.choice_option(
    "--covariance-type",
    choices=["full", "tied", "diag", "spherical"],
    default="full",
    help="GMM covariance type.",
)
@click.option(
    "--max-samples",
    type=int,
    default=200_000,
    show_default=True,
    help="Fit on at most this many random pixels (0: all), label every pixel.",
)
@click.option("--n-init", type=int, default=1, show_default=True, help="Restarts.")
@opt.seed_option
@click.option("--threads", type=int, default=None, help="Threads (default: all).")
@click.option("--no-figure", is_flag=True, help="Do not write the comparison figure.")
@opt.overwrite_option
@opt.quiet_option
def segment(
    image: Path,
    n_components: int,
    method: str,
    output: Path,
    color_space: str,
    spatial_weight: float,
    covariance_type: str,
    max_samples: int,
    n_init: int,
    seed: int,
    threads: int | None,
    no_figure: bool,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Segment IMAGE into K regions and write, into the output folder:

    \b
      <name>_palette.png     every pixel in its region's mean colour
      <name>_labels.png      the label map (uint8, or uint16 when K > 255)
      <name>_sample.png      an image sampled from the fitted mixture
      <name>_figure.png      original | GMM | k-means | sample, with component weights
      <name>_components.json weight, mean and covariance of every component

    The figure fits both models; -m chooses the one behind the other files.
    """
    from bgmix._atomic import check_overwrite
    from bgmix.exceptions import OutputError, ParameterError
    from bgmix.io import read_image
    from bgmix.segment import sample_image, segment_image, write_segmentation

    if max_samples < 0:
        raise ParameterError(f"--max-samples must be >= 0 (0: all pixels); got {max_samples}")
    if image.exists() and output.exists() and output.resolve() in image.resolve().parents:
        raise OutputError(f"output folder {str(output)!r} holds the input image {str(image)!r}")
    check_overwrite(output, overwrite=overwrite, folder=True, what="output folder")

    pixels = read_image(image, mode=None)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[..., :3]
    if pixels.dtype != "uint8":
        pixels = read_image(image, mode="RGB")
    options = dict(
        n_components=n_components,
        color_space=color_space,
        spatial_weight=spatial_weight,
        covariance_type=covariance_type,
        max_samples=max_samples or None,
        n_init=n_init,
        random_state=seed,
        n_jobs=threads,
    )
    timings: dict[str, float] = {}
    results = {}
    methods = [method] if no_figure else [method, "kmeans" if method == "gmm" else "gmm"]
    for name in methods:
        t0 = time.perf_counter()
        results[name] = segment_image(pixels, method=name, **options)
        timings[f"fit_{name}"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    sample = sample_image(results[method], random_state=seed)
    timings["sample"] = round(time.perf_counter() - t0, 3)
    written = write_segmentation(
        output,
        pixels,
        results[method],
        sample=sample,
        compare=None if no_figure else results[methods[-1]],
        name=image.stem,
        timings=timings,
        overwrite=overwrite,
    )
    for path in written:  # the result, on stdout (there is no progress report to silence)
        click.echo(str(path))
