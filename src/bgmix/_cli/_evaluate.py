"""``bgmix evaluate``: score methods on sequences with ground truth (CDnet metrics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bgmix._cli import _options as opt
from bgmix._validation import parse_train
from bgmix.exceptions import ParameterError


def split_method_params(items: tuple[str, ...], methods: list[str]) -> dict[str, dict[str, Any]]:
    """``-p`` items -> one parameter dict per method.

    ``key=value`` applies to every method; ``method:key=value`` only to ``method``,
    and wins over a shared value of the same key. Dotted keys nest
    (``postprocess.median=5``) and nested groups merge.
    """
    shared: list[str] = []
    targeted: dict[str, list[str]] = {m: [] for m in methods}
    for item in items:
        key, sep, _ = item.partition("=")
        method, colon, _ = key.partition(":")
        if not sep or not colon:
            shared.append(item)
            continue
        method = method.strip()
        if method not in targeted:
            raise ParameterError(
                f"-p {item!r} targets method {method!r}, which is not evaluated; "
                f"the methods given with -m are: {', '.join(methods)}"
            )
        targeted[method].append(item.split(":", 1)[1])
    common = opt.parse_params(shared)
    return {m: _merge(common, opt.parse_params(targeted[m])) for m in methods}


def split_grid(items: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, list[Any]]]:
    """Separate ``-p KEY=V1,V2`` grid items (a comma outside brackets and quotes) from
    plain ones.

    Returns
    -------
    plain : tuple of str
        The items with one value.
    grid : dict
        ``"[method:]key"`` -> list of parsed values.

    Examples
    --------
    >>> split_grid(("history=200,500", "mog2:postprocess.median=3,5", "x=[1,2]"))
    (('x=[1,2]',), {'history': [200, 500], 'mog2:postprocess.median': [3, 5]})
    """
    plain: list[str] = []
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        parts = _top_level_split(value) if sep else [value]
        if len(parts) < 2:
            plain.append(item)
            continue
        values = [opt.parse_params([f"v={v}"])["v"] for v in parts]
        grid[key.strip()] = values
    return tuple(plain), grid


def _top_level_split(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def grid_per_method(grid: dict[str, list[Any]], methods: list[str]) -> dict[str, dict[str, Any]]:
    """``split_grid``'s ``"[method:]key"`` axes -> ``{method: {key: values}}``."""
    out: dict[str, dict[str, Any]] = {m: {} for m in methods}
    for key, values in grid.items():
        method, colon, name = key.partition(":")
        if not colon:
            for m in methods:
                out[m][key] = values
        elif method.strip() not in out:
            raise ParameterError(
                f"-p {key}=...: method {method.strip()!r} is not evaluated; "
                f"the methods given with -m are: {', '.join(methods)}"
            )
        else:
            out[method.strip()][name.strip()] = values
    return out


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@click.command("evaluate")
@click.argument(
    "seq_dirs", nargs=-1, required=True, metavar="SEQ_DIR...", type=click.Path(path_type=Path)
)
@click.option(
    "-m",
    "--method",
    "methods",
    multiple=True,
    default=("mog2",),
    show_default=True,
    help="Method to evaluate (repeatable); see `bgmix methods`.",
)
@opt.param_option(
    metavar="[METHOD:]KEY=VALUE[,VALUE...]",
    help="A method parameter (repeatable). KEY=VALUE applies to every method; "
    "METHOD:KEY=VALUE to that method only (and overrides a shared value). "
    "Dotted keys nest: -p postprocess.median=5. Several values (-p history=200,500) "
    "sweep a grid: every combination is evaluated, labelled mog2[history=200].",
)
@opt.train_option
@opt.output_option(
    file=True,
    required=False,
    help="Also write every result and the means to this JSON file (missing parents are created).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also write the HTML report to this folder (must not exist or be empty): videos "
    "of every method coloured against the ground truth are recorded while evaluating.",
)
@click.option(
    "--category",
    default=None,
    metavar="NAME",
    help="Category of every sequence given (default: each sequence's parent folder, "
    "as in CDnet's dataset/CATEGORY/SEQUENCE layout; a symlink's own parent).",
)
@opt.frame_options
@opt.overwrite_option
@opt.quiet_option
@opt.scheduler_option
def evaluate(
    seq_dirs: tuple[Path, ...],
    methods: tuple[str, ...],
    params: tuple[str, ...],
    train: str | None,
    output: Path | None,
    report_dir: Path | None,
    category: str | None,
    overwrite: bool,
    quiet: bool,
    scheduler: str | None,
    **frames: Any,
) -> None:
    """Score methods on sequences with ground truth, with CDnet 2014's metrics.

    Each SEQ_DIR is a sequence in CDnet layout (input/, groundtruth/, optional
    ROI.bmp and temporalROI.txt), or a folder of such sequences (searched up to
    three levels down), e.g. a CDnet dataset/ folder. Every selected frame is given
    to each method; masks are scored on the frames inside the temporal ROI that have
    ground truth (labels: 0 and 50 negative, 255 positive, 85 and 170 ignored;
    other grey values are thresholded at 128).

    Prints one line per sequence and method (F-measure, recall, precision, PWC,
    frames/s of method time), then each method's mean over sequences and, when
    the sequences span several categories, CDnet's overall score (mean of the
    category means).

    \b
    Examples:
      bgmix evaluate dataset/baseline/highway -m opencv-mog2
      bgmix evaluate dataset -m opencv-mog2 -m opencv-knn -p detect_shadows=false \\
          -p opencv-knn:dist2_threshold=300 -o scores.json
      bgmix evaluate seqs -m em --train 0.4
    """
    from bgmix._atomic import check_overwrite
    from bgmix.metrics import evaluate as run_evaluation
    from bgmix.metrics import find_sequences, read_sequence

    method_list = list(dict.fromkeys(methods))
    params, grid = split_grid(params)
    per_method = split_method_params(params, method_list)
    train_mode = parse_train(train)
    if output is not None:
        check_overwrite(output, overwrite=overwrite, folder=False, what="JSON report")
    source_options = opt.source_kwargs(frames)
    if grid or scheduler is not None:
        if any(k != "grey" or v for k, v in source_options.items()) or report_dir is not None:
            raise ParameterError(
                "--scheduler and -p grids (KEY=V1,V2) evaluate whole sequences: drop the "
                "frame options and --report, or run them without a cluster"
            )
        from bgmix.parallel import evaluate as run_units

        report = run_units(
            list(seq_dirs),
            method_list,
            per_method,
            grid=grid_per_method(grid, method_list),
            train=train_mode,
            category=category,
            scheduler=scheduler,
            progress=not quiet,
        )
        _finish(report, output, overwrite=overwrite, quiet=quiet)
        return
    if category is not None:
        sequences: list[Any] = [
            read_sequence(p, category=category) for d in seq_dirs for p in find_sequences(d)
        ]
    else:
        sequences = list(seq_dirs)
    options = dict(train=train_mode, progress=not quiet, source_options=source_options)
    if report_dir is not None:
        from bgmix.viz import evaluate_report

        report = evaluate_report(
            sequences, method_list, per_method, out_dir=report_dir, overwrite=overwrite, **options
        )
        if not quiet:
            click.echo(f"bgmix: wrote {report_dir / 'index.html'}", err=True)
    else:
        report = run_evaluation(sequences, method_list, per_method, **options)
    _finish(report, output, overwrite=overwrite, quiet=quiet)


def _finish(report: Any, output: Path | None, *, overwrite: bool, quiet: bool) -> None:
    click.echo(report.table())
    if output is not None:
        report.to_json(output, overwrite=overwrite)
        if not quiet:
            click.echo(f"bgmix: wrote {output}", err=True)
