"""Options shared by several commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bgmix.exceptions import ParameterError

__all__ = [
    "auto_segments",
    "choice_option",
    "frame_options",
    "method_option",
    "output_option",
    "overwrite_option",
    "param_option",
    "params_option",
    "parse_params",
    "parse_segments",
    "quiet_option",
    "scene_options",
    "scheduler_option",
    "seed_option",
    "segments_option",
    "source_arg",
    "source_kwargs",
    "train_option",
    "warmup_option",
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


def param_option(*, help: str, metavar: str = "KEY=VALUE"):
    """``-p/--param KEY=VALUE`` (repeatable), parsed by :func:`parse_params`."""
    return click.option("-p", "--param", "params", multiple=True, metavar=metavar, help=help)


params_option = param_option(
    help="A method parameter, e.g. -p history=300 -p postprocess.median=5 (repeatable)."
)

seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")


def choice_option(*names: str, choices: Any, default: Any, help: str):
    """An option taking one of ``choices``, its default shown in the help."""
    return click.option(
        *names, type=click.Choice(list(choices)), default=default, show_default=True, help=help
    )


def method_option(
    func=None,
    *,
    default: str = "mog2",
    choices: Any = None,
    help: str = "Method name; see `bgmix methods`.",
):
    """``-m/--method NAME``, the one method option: a registered subtractor
    (``@method_option`` or ``@method_option(default="em")``), or with ``choices`` one
    of a command's own models (``@method_option(choices=["gmm", "kmeans"], ...)``)."""
    decorate = click.option(
        "-m",
        "--method",
        type=None if choices is None else click.Choice(list(choices)),
        default=default,
        show_default=True,
        help=help,
    )
    return decorate(func) if func is not None else decorate


def output_option(*, file: bool = False, required: bool = True, default: Any = None, help: str):
    """``-o/--output``: the one output option of every command (a folder, or a file with
    ``file=True``, shown as FILE). Missing parent folders are created, and an existing
    output refused without ``--overwrite``, by the library's output rule
    (:mod:`bgmix._atomic`)."""
    return click.option(
        "-o",
        "--output",
        "output",
        required=required and default is None,
        metavar="FILE" if file else "DIR",
        default=default,
        show_default=default is not None,
        type=click.Path(path_type=Path),  # kinds are checked by the library's output rule
        help=help,
    )


overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an existing output as a whole (the old one is removed only once the "
    "new one is complete); without it an existing output (a file, or a folder that is "
    "not empty) is an error.",
)

quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress report (default: a bar on a terminal, a line every few seconds in a log).",
)

#: The one meaning of --train: which first frames the model is fitted on.
TRAIN_HELP = "Fit on the first FRACTION (e.g. 0.4), N frames or 'all' frames"


def train_option(func=None, *, fit_only: bool = False):
    """``--train FRACTION|N|all``; ``@train_option`` for the commands that classify
    frames, ``@train_option(fit_only=True)`` for ``background`` (it only fits)."""
    if fit_only:
        rest = " (default: all)."
    else:
        rest = (
            ", then classify every frame (the training frames too: the classified frames "
            "are the same in every mode). Default: online; methods that must be fitted "
            "(em, kmeans, svd, rpca) need it."
        )
    decorate = click.option(
        "--train", default=None, metavar="FRACTION|N|all", help=TRAIN_HELP + rest
    )
    return decorate(func) if func is not None else decorate


def scene_options(*, frames: Any, width: Any, height: Any):
    """``--frames --width --height --seed`` of a synthetic scene. An int is a default;
    a text describes the default chosen by the scene kind (the option is then None)."""

    def option(name: str, dest: str, value: Any, what: str):
        if isinstance(value, str):
            return click.option(
                name, dest, type=int, default=None, help=f"{what[:-1]} [default: {value}]."
            )
        return click.option(name, dest, type=int, default=value, show_default=True, help=what)

    opts = [
        option("--frames", "n_frames", frames, "Number of frames."),
        option("--width", "width", width, "Frame width."),
        option("--height", "height", height, "Frame height."),
        seed_option,
    ]

    def decorate(f):
        for o in reversed(opts):
            f = o(f)
        return f

    return decorate


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


def source_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """Take the :func:`frame_options` out of a command's keyword arguments ``options``
    (they are removed from it) as :func:`bgmix.open_source` keyword arguments; options
    left at None are not passed."""
    taken = {k: options.pop(k, None) for k in ("grey", "scale", "start", "stop", "stride")}
    return {k: v for k, v in taken.items() if v is not None}


def source_arg(src: str) -> str | int:
    """A SRC argument: a digit string is a camera index, anything else a path or URL."""
    return int(src) if src.isdigit() else src


scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS|local|local:N",
    help="Run on a Dask cluster: a scheduler address (tcp://host:8786), 'local' (one "
    "worker process per CPU) or 'local:N' (N worker processes). Workers read the inputs "
    "and write the outputs themselves: every machine must see the same paths. Needs "
    "pip install 'bgmix[distributed]'.",
)

segments_option = click.option(
    "--segments",
    default=None,
    metavar="N|auto",
    help="Cut a video into N time segments run as separate tasks, each after a warm-up "
    "(default with --scheduler and one input of an online method: auto, one per worker).",
)

warmup_option = click.option(
    "--warmup",
    type=int,
    default=None,
    help="Frames run through the model before each segment (default: twice its history; "
    "for events also at least twice the busy-cell window).",
)


def parse_segments(text: str | None) -> int | str | None:
    """A ``--segments`` value: a count (checked by the runner), ``auto`` or None."""
    return int(text) if text is not None and text.isdigit() else text


def auto_segments(method: str, params: dict[str, Any]) -> str | None:
    """The default ``--segments`` of one input on a cluster: ``auto`` for an online
    method, None (one task) for a method that needs training."""
    from bgmix.background import make_subtractor

    return None if make_subtractor(method, **params).requires_fit else "auto"
