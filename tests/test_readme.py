"""Every command-line example of README.md runs as written in an empty folder.

The README's code blocks are parsed; every line that starts with ``bgmix`` is run
in-process, in order, in a fresh folder that holds only small synthetic stand-ins for
the example inputs (``video.mp4``, ``frames/``, ``photo.jpg``, camera recordings and
``../shared/data/sequences``). The examples of a cluster of several machines name a
scheduler (``tcp://sched:8786``) and shared storage (``/nfs/``) that a test machine
does not have: they run against a local cluster and a local folder instead. A README
example that breaks fails this test, and so does an option named in the README's prose
that its command does not have.
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
    _inputs.dataset(work / "dataset")
    camera = _inputs.video(work / "camera.mp4", height=720, width=960)
    for name in ("recordings/a.mp4", "recordings/b.mp4", "cam_1.mp4", "cam_2.mp4",
                 "night.mp4", "cams/a.mp4", "cams/b.mp4", "nfs/cams/a.mp4"):  # fmt: skip
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(camera.read_bytes() if "cam" in name else
                                  (work / "video.mp4").read_bytes())  # fmt: skip
    return work


def _here(args: list[str]) -> list[str]:
    """A command as the shell would run it here: globs expanded (the quoted ones too:
    ``bgmix events`` expands its own), and a cluster example on this machine (a local
    cluster, a local shared folder)."""
    import glob

    out = []
    for a in args:
        a = "local:1" if a.startswith("tcp://") else a.replace("/nfs/", "nfs/")
        out += (sorted(glob.glob(a)) or [a]) if any(c in a for c in "*?") else [a]
    return out


def test_the_readme_has_command_examples():
    names = {args[1] for args in readme_commands()}
    assert {"subtract", "evaluate", "synth", "demo", "background", "segment", "lowrank"} <= names


@pytest.mark.slow
def test_every_readme_example_runs_as_written_in_an_empty_folder(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    for args in map(_here, readme_commands()):
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
