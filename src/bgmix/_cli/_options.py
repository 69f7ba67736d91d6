"""Options shared by several commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bgmix.exceptions import ParameterError

__all__ = [
    "frame_options",
    "method_option",
    "output_option",
    "overwrite_option",
    "params_option",
    "parse_params",
    "quiet_option",
    "scheduler_option",
    "source_options",
    "train_option",
]


def _parse_value(text: str) -> Any:
    """Parse one option value.

    ``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, ``none`` -> None, ``[1,2]`` -> [1, 2],
    anything else -> the text itself.
    """
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_params(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Turn ``("history=300", "postprocess.median=5")`` into keyword arguments.

    A dotted key builds a nested dict: ``postprocess.median=5`` gives
    ``{"postprocess": {"median": 5}}``.

    Examples
    --------
    >>> parse_params(["history=300", "detect_shadows=false", "postprocess.median=5"])
    {'history': 300, 'detect_shadows': False, 'postprocess': {'median': 5}}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"-p/--param expects key=value; got {item!r}")
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ParameterError(
                    f"-p {item!r}: {part!r} is given both as a value and as a group"
                )
            node = child
        node[leaf] = _parse_value(value)
    return out


params_option = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A method parameter, e.g. -p history=300 -p postprocess.median=5 (repeatable).",
)

method_option = click.option(
    "-m", "--method", default="mog2", show_default=True, help="Method name; see `bgmix methods`."
)


def output_option(*, file: bool = False, required: bool = True, default: Any = None, help: str):
    """``-o/--output``: the one output option of every command (a folder, or a file with
    ``file=True``); missing parent folders are created by the library's output rule."""
    return click.option(
        "-o",
        "--output",
        "output",
        required=required and default is None,
        default=default,
        show_default=default is not None,
        type=click.Path(file_okay=file, dir_okay=not file, path_type=Path),
        help=help,
    )


overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an existing output as a whole (it is removed only once the new one "
    "is complete); without it an existing non-empty output is an error.",
)

quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress report (default: a bar on a terminal, a line every few seconds in a log).",
)

train_option = click.option(
    "--train",
    default=None,
    metavar="FRACTION|N|all",
    help="Fit on the first FRACTION (e.g. 0.4) or N frames before classifying; 'all' fits "
    "on every frame. Frames used for fitting are classified too.",
)


def frame_options(func=None, *, grey_default: bool = False):
    """Frame selection and colour options of every command that reads frames:
    ``--start --stop --stride --scale --grey/--colour``. The command receives them as
    keyword arguments; :func:`open_source` takes them as they are (None = default)."""

    def decorate(f):
        opts = [
            click.option(
                "--grey/--colour",
                "--gray/--color",
                "grey",
                default=grey_default,
                show_default=True,
                help="Read frames as grey (luma) or in colour.",
            ),
            click.option("--scale", type=float, default=None, help="Resize frames by this factor."),
            click.option("--start", type=int, default=None, help="First frame (0-based)."),
            click.option(
                "--stop", type=int, default=None, help="Stop before this frame (0-based)."
            ),
            click.option("--stride", type=int, default=None, help="Take every n-th frame."),
        ]
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate(func) if func is not None else decorate


def source_options(func):
    """Options of :func:`bgmix.open_source` shared by the commands that read frames."""
    opts = [
        click.option("--grey", is_flag=True, default=None, help="Convert frames to grey."),
        click.option("--scale", type=float, default=None, help="Resize frames by this factor."),
        click.option("--start", type=int, default=None, help="First frame (0-based position)."),
        click.option("--stop", type=int, default=None, help="Stop before this frame position."),
        click.option("--stride", type=int, default=None, help="Take every n-th frame."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS|local|local:N",
    help="Run on a Dask cluster: a scheduler address (tcp://host:8786), 'local' (one "
    "worker process per CPU) or 'local:N' (N worker processes). Workers read the inputs "
    "and write the outputs themselves: every machine must see the same paths. Needs "
    "pip install 'bgmix[distributed]'.",
)
