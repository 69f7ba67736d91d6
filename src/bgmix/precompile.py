"""Compile bgmix's Numba kernels ahead of the first run: ``python -m bgmix.precompile``.

Every kernel is compiled with ``cache=True``: the machine code is kept next to the
module and reused by later processes. Without this step the first process after an
install pays the compilation, 10-20 s per method, before its first frame. This module
pays it once: it writes a tiny synthetic sequence (grey and colour frames) to a
temporary folder and runs every command that computes (subtract, background, segment,
lowrank, events, evaluate) on it in this process, with every registered
method that has Numba kernels, both colour modes, and every covariance type of the
segmentation models, so that each kernel is compiled for the argument types the
commands give it. OpenCV's methods have nothing to compile and are skipped.

Run it once after ``pip install`` (``make`` does it); it takes a few minutes and
prints one line per step. A step that fails stops it with a one-line error (exit
status 1).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from bgmix.exceptions import BgmixError

__all__ = ["main", "precompile", "precompile_steps"]

#: Training option of the methods that must be fitted before they classify.
_TRAINED_FAMILIES = ("batch", "lowrank")
_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _run(argv: list[str]) -> None:
    """Run one ``bgmix`` command line quietly in this process.

    The command reports its own errors (one line on stderr); a non-zero exit status
    then raises :class:`click.ClickException` naming the command line.
    """
    from bgmix._cli import cli

    with contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(args=[*argv, "-q"], prog_name="bgmix", standalone_mode=False)
    if status:
        raise click.ClickException(f"'bgmix {' '.join(argv)}' failed (exit status {status})")


def precompile_steps(workdir: Path) -> Iterator[tuple[str, list[str]]]:
    """``(label, argv)`` pairs: ``bgmix`` command lines on tiny inputs in ``workdir``.

    The first writes the synthetic sequence (24 frames of 48x32) the others read.
    """
    from bgmix.background._registry import available_methods, method_info

    seq = workdir / "seq"
    frames = str(seq / "input")
    size = ["--frames", "24", "--width", "48", "--height", "32"]
    yield "synthetic sequence", ["synth", "baseline", "-o", str(seq), *size]
    for name in available_methods():
        family = method_info(name).family
        if family == "opencv":
            continue
        train = ["--train", "all"] if family in _TRAINED_FAMILIES else []
        for colour in ("--colour", "--grey"):
            out = str(workdir / f"subtract-{name}{colour}")
            yield (
                f"subtract -m {name} {colour}",
                ["subtract", frames, "-o", out, "-m", name, colour, *train],
            )
    for colour in ("--colour", "--grey"):
        out = str(workdir / f"background{colour}.png")
        yield f"background {colour}", ["background", frames, "-o", out, colour]
    image = str(seq / "input" / "in000001.png")
    for method, covariances in (("gmm", _COVARIANCE_TYPES), ("kmeans", ("full",))):
        for cov in covariances:
            for spatial in ("0", "1"):  # 3 features (colour), 5 (colour and position)
                out = str(workdir / f"segment-{method}-{cov}-{spatial}")
                options = ["-k", "3", "-m", method, "--covariance-type", cov, "--no-figure"]
                yield (
                    f"segment -m {method} --covariance-type {cov} --spatial-weight {spatial}",
                    ["segment", image, "-o", out, *options, "--spatial-weight", spatial],
                )
    for method in ("svd", "rpca"):
        out = str(workdir / f"lowrank-{method}")
        yield f"lowrank -m {method}", ["lowrank", frames, "-o", out, "-m", method, "--rank", "1"]
    video = str(workdir / "subtract-mog2--colour" / "side_by_side.mp4")
    yield "events", ["events", video, "-o", str(workdir / "events"), "--no-clips"]
    yield "evaluate", ["evaluate", str(seq), "-m", "mog2"]


def precompile(*, echo: Callable[[str], None] = print) -> float:
    """Run every step of :func:`precompile_steps` in a temporary folder.

    Parameters
    ----------
    echo : callable
        Receives one line per step (its label and seconds).

    Returns
    -------
    float
        Total seconds.
    """
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bgmix-precompile-") as tmp:
        for label, argv in precompile_steps(Path(tmp)):
            t0 = time.perf_counter()
            _run(argv)
            echo(f"{label}: {time.perf_counter() - t0:.1f} s")
    return time.perf_counter() - t_start


def main() -> None:
    """Entry point of ``python -m bgmix.precompile``: one line per step, exit 1 on error."""
    try:
        total = precompile()
    except (BgmixError, click.ClickException) as exc:
        print(f"bgmix precompile: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"bgmix kernels compiled and cached in {total:.0f} s")


if __name__ == "__main__":
    main()
