"""Running the command line in-process in tests (click's ``CliRunner``)."""

from __future__ import annotations

from click.testing import CliRunner, Result

from bgmix._cli import cli


def run(*args: object) -> Result:
    """``bgmix ARGS...`` in-process; paths and numbers are turned into text."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error_line(result: Result) -> str:
    """The one line a failed command writes on stderr (``bgmix: error: ...``)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("bgmix: error: "), result.output
    return lines[0]
