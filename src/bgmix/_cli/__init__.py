"""The ``bgmix`` command line: a thin layer that parses arguments and calls the library.

Each command lives in its own module and is imported only when it runs, so
``bgmix --help`` stays fast. Errors from bgmix (bad input, bad parameters) print one
line, ``bgmix: error: ...``, and exit with 1 (bad input) or 2 (bad usage or
parameter); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from bgmix import __version__
from bgmix._allocator import tune_allocator

__all__ = ["cli", "main"]

# command name -> ("module:function", one-line help). Modules are under bgmix._cli.
_COMMANDS: dict[str, tuple[str, str]] = {
    "methods": ("_methods:methods", "List the background subtraction methods."),
    "subtract": (
        "_subtract:subtract",
        "Separate foreground from background in a video or image folder.",
    ),
    "background": (
        "_background:background",
        "Fit a model (default: per-pixel EM) and write the background image.",
    ),
    "events": (
        "_events:events",
        "Find motion events in videos: events.json/csv, clips, thumbnails, a timeline.",
    ),
    "evaluate": (
        "_evaluate:evaluate",
        "Score methods on sequences with ground truth (CDnet metrics).",
    ),
    "synth": ("_synth:synth", "Write a synthetic sequence with exact ground truth (CDnet layout)."),
    "demo": ("_demo:demo", "Run the default method on the built-in synthetic scene."),
    "lowrank": ("_lowrank:lowrank", "SVD / Robust PCA background of a video, with plots."),
    "report": ("_report:report", "Write an HTML report of evaluation results and runs."),
    "segment": (
        "_segment:segment",
        "Segment an image with a Gaussian mixture or k-means, and sample it.",
    ),
}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is used, and
    turns bgmix errors into one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        target, _ = _COMMANDS[name]
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(f"bgmix._cli.{module}"), attr)
        if not any(p.name == "debug" for p in command.params):
            command.params.append(_debug_option())
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(n, _COMMANDS[n][1]) for n in sorted(_COMMANDS)])

    def invoke(self, ctx: click.Context) -> Any:
        from bgmix.exceptions import BgmixError

        try:
            return super().invoke(ctx)
        except BgmixError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"bgmix: error: {_one_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("bgmix: interrupted", err=True)
            ctx.exit(130)


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["debug"] = True


def _debug_option() -> click.Option:
    """``--debug`` after the command name too (``bgmix subtract ... --debug``)."""
    return click.Option(
        ["--debug"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show tracebacks instead of one-line errors.",
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bgmix")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """bgmix: background subtraction and Gaussian-mixture segmentation."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


#: Thresholds of Python's cyclic garbage collector in the ``bgmix`` process (Python's
#: defaults are 700, 10, 10).
GC_THRESHOLDS = (10_000, 50, 100)


def main(argv: list[str] | None = None, prog_name: str = "bgmix") -> None:
    """Entry point of the ``bgmix`` script and of ``python -m bgmix``.

    A command imports NumPy, OpenCV, PyAV, Numba and, through Numba, SciPy: some
    130,000 objects that the cyclic garbage collector tracks and that live as long
    as the process. With Python's default thresholds the collector walks them again
    and again while they are created, and once more at exit, for nothing: a
    ``subtract`` run leaves a constant 31 objects of cyclic garbage however many
    frames it reads (checked with the collector off). So the process collects less often
    (:data:`GC_THRESHOLDS`) and freezes its objects before it exits (their memory
    goes back with the process). Measured on 25 frames of 640x480: 0.96 s a run
    with the defaults, 0.74 s with this. It also keeps freed memory for reuse
    instead of handing it back to the system after every frame
    (:func:`bgmix._allocator.tune_allocator`). The library itself changes neither
    the collector nor the allocator of a process it does not own: only this entry
    point does (and the worker processes of a local Dask cluster bgmix makes).
    """
    gc.set_threshold(*GC_THRESHOLDS)
    tune_allocator()
    try:
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name=prog_name)
    finally:
        gc.freeze()
