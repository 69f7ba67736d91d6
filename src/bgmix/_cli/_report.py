"""``bgmix report``: the HTML report of evaluation results and runs."""

from __future__ import annotations

from pathlib import Path

import click

from bgmix._cli._options import output_option, overwrite_option, quiet_option


@click.command("report")
@click.argument(
    "inputs",
    nargs=-1,
    required=True,
    metavar="RESULTS.json|RUN_DIR...",
    type=click.Path(path_type=Path),
)
@output_option(help="Report folder to write (index.html and everything it shows).")
@overwrite_option
@quiet_option
@click.option("--title", default="bgmix report", show_default=True, help="Title of the page.")
def report(
    inputs: tuple[Path, ...], output: Path, overwrite: bool, quiet: bool, title: str
) -> None:
    """Write an HTML report that opens from the file system, with no network request.

    Each input is the JSON of `bgmix evaluate -o FILE.json` (several are merged), a
    `bgmix subtract` output folder (run.json, side_by_side.mp4, background.png) or a
    `bgmix events` output folder (events.json, timeline.png, thumbnails, clips).

    The report holds the method x sequence table (sortable, best values marked, the
    means and CDnet's average ranking), accuracy against speed with the Pareto front,
    and per sequence each method's video coloured against the ground truth (true
    positive white, false positive red, false negative blue, shadow grey) with one
    control that plays them in step, the F-measure per frame and the backgrounds.
    Videos, per-frame plots and backgrounds need results recorded with
    `bgmix evaluate ... --report DIR` (whose DIR/results.json can be given here);
    results without them get the tables and the chart, and the page says so.

    \b
    Examples:
      bgmix evaluate seqs -m mog2 -m opencv-mog2 --report out/report
      bgmix report out/report/results.json out/run -o out/report2
    """
    from bgmix.viz import write_report

    index = write_report(list(inputs), output, overwrite=overwrite, title=title)
    if not quiet:
        click.echo(f"bgmix: wrote {index}", err=True)
