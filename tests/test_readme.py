"""Every command-line example of README.md runs as written in an empty folder.

The README's code blocks are parsed; every line that starts with ``bgmix`` is run
in-process, in order, in a fresh folder that holds only small synthetic stand-ins for
the example inputs (``video.mp4``, ``frames/``, ``photo.jpg`` and
``../shared/data/sequences``). A README example that breaks fails this test, and so
does an option named in the README's prose that its command does not have.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from bgmix._cli import cli
from tests._cli import _inputs

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    """The ``bgmix ...`` lines of the README's code blocks, split as a shell would."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line, comments=True) for line in lines if line.startswith("bgmix ")]


def prose_commands() -> list[list[str]]:
    """``bgmix ...`` spans quoted inline in the README's text."""
    spans = re.findall(r"`(bgmix [^`]+)`", README.read_text())
    return [span.split() for span in spans if not span.split()[1].isupper()]  # COMMAND


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    work = root / "work"
    work.mkdir()
    _inputs.video(work / "video.mp4")
    _inputs.frames_folder(work / "frames")
    _inputs.photo(work / "photo.jpg")
    _inputs.dataset(root / "shared" / "data" / "sequences")
    return work


def test_the_readme_has_command_examples():
    names = {args[1] for args in readme_commands()}
    assert {"subtract", "evaluate", "synth", "demo", "background", "segment", "lowrank"} <= names


@pytest.mark.slow
def test_every_readme_example_runs_as_written_in_an_empty_folder(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    for args in readme_commands():
        result = CliRunner().invoke(cli, [*args[1:], "-q"] if args[1] != "methods" else args[1:])
        assert result.exit_code == 0, f"{shlex.join(args)}:\n{result.output}"
        assert "Traceback" not in result.output


@pytest.mark.parametrize("args", prose_commands(), ids=lambda a: " ".join(a))
def test_options_named_in_the_readme_exist(args):
    command = cli.get_command(None, args[1])
    assert command is not None, f"no command {args[1]!r}"
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    known |= {"--help", "-h"}
    for word in args[2:]:
        option = word.strip("[]").split("=")[0]
        if option.startswith("-") and not option[1:].isdigit():
            assert option in known, f"README: `{' '.join(args)}`: {args[1]} has no {option}"
