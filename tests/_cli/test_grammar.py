"""The command-line contract: one grammar for every command.

Every command is listed in ``COMMANDS`` (a new command fails
``test_every_command_is_covered`` until it is added) with small inputs, and the same
checks run over all of them:

- the same option objects: ``-o/--output``, ``--overwrite``, ``-q/--quiet``,
  ``--start --stop --stride --scale --grey/--colour`` wherever frames are read, one
  ``--train`` text, ``--debug`` after the command name;
- the output rule: missing parents are created; an existing output is refused without
  ``--overwrite`` (one line, exit 1, the old output untouched) and replaced as a whole
  with it (no old file left beside the new ones); a failing run leaves nothing, not
  even the parent folders it created;
- the progress rule: a report on stderr (a line, as the test's stderr is no
  terminal), nothing with ``-q``, never on stdout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from bgmix._cli import _COMMANDS, cli
from bgmix._cli import _options as opt
from tests._cli import _inputs
from tests._cli._run import one_error_line, run


@dataclass(frozen=True)
class Case:
    args: Callable[[Path], list[str]]  # a run that succeeds (inputs made under the path)
    fails: Callable[[Path], list[str]] | None = None  # a run that fails midway
    output: str | None = None  # "dir", or the suffix of a file output
    frames: bool = False  # reads frames: has the frame options
    progress: bool = False  # reports progress on stderr
    train: bool = False
    times: bool = False  # has --start/--stop as times (frames, seconds or timecodes) only


def _clip(d: Path, **kw) -> str:
    name = "bad" if kw else "clip"
    folder = d / name
    return str(folder if folder.exists() else _inputs.frames_folder(folder, **kw))


def _bad_dataset(d: Path) -> str:
    root = _inputs.dataset(d / "bad-dataset")
    frame = root / "shadow" / "b" / "input" / "in000005.png"
    Image.open(frame).resize((7, 5)).save(frame)
    return str(root)


def _photo(d: Path) -> str:
    _inputs.photo(d / "photo.png")
    return str(d / "photo.png")


def _subtract_run(d: Path) -> str:
    """A finished ``bgmix subtract`` run folder, as ``bgmix report`` reads it."""
    import bgmix

    run_dir = d / "run"
    if not run_dir.exists():
        bgmix.subtract(_clip(d), run_dir, method="running-mean")
    return str(run_dir)


def _foreign_json(d: Path) -> str:
    (d / "other.json").write_text('{"results": []}')
    return str(d / "other.json")


def _unreadable(d: Path) -> str:
    (d / "notes.png").write_text("not an image")
    return str(d / "notes.png")


SMALL_SCENE = ["--frames", "24", "--width", "32", "--height", "24"]


def _reader(method: str | None, output: str, *, train: bool = True) -> Case:
    """A command that reads the frames of a clip (or a dataset, for evaluate)."""
    if output == ".json":
        good, bad = (lambda d: str(_inputs.dataset(d / "dataset"))), _bad_dataset
    else:
        good, bad = _clip, (lambda d: _clip(d, bad_frame=9))
    extra = ["-m", method] if method else ["--components", "2"]
    return Case(
        args=lambda d: [good(d), *extra],
        fails=lambda d: [bad(d), *extra],
        output=output,
        frames=True,
        progress=True,
        train=train,
    )


def _scene(*args: str) -> Case:
    """A command that makes a synthetic scene; ``-p noise_sigma=-1`` makes it fail."""
    return Case(
        args=lambda d: [*args, *SMALL_SCENE],
        fails=lambda d: [*args, *SMALL_SCENE, "-p", "noise_sigma=-1"],
        output="dir",
        progress=True,
    )


COMMANDS: dict[str, Case] = {
    "subtract": _reader("running-mean", "dir"),
    "background": _reader("median", ".png"),
    "evaluate": _reader("running-mean", ".json"),
    "lowrank": _reader(None, "dir", train=False),
    "synth": _scene("baseline"),
    "demo": _scene("--scene", "baseline", "-m", "running-mean"),
    "segment": Case(
        args=lambda d: [_photo(d), "-k", "2", "--no-figure"],
        fails=lambda d: [_unreadable(d), "-k", "2"],
        output="dir",
    ),
    "methods": Case(args=lambda d: []),
    "events": Case(
        args=lambda d: [_clip(d), "--no-clips"],
        fails=lambda d: [_clip(d), "--roi", "0,0 500,0 500,500"],  # outside the frame
        output="dir",
        progress=True,
        times=True,
    ),
    "report": Case(
        args=lambda d: [_subtract_run(d)], fails=lambda d: [_foreign_json(d)], output="dir"
    ),
}
WRITERS = [n for n, c in COMMANDS.items() if c.output]
#: Commands that run on a Dask cluster (--scheduler), and those that cut a video in time
#: segments (--segments, --warmup).
ON_CLUSTER = {"subtract", "evaluate", "events"}
IN_SEGMENTS = {"subtract", "events"}
#: The last line of a progress report in a log (bgmix._progress).
PROGRESS_LINE = re.compile(r"^[\w .-]+: \d+(/\d+)? frames .*frames/s in \d+:\d\d:\d\d$", re.M)


def _command(name):
    return cli.get_command(None, name)


def _option(name: str, dest: str):
    return next((p for p in _command(name).params if p.name == dest), None)


def _out(tmp_path: Path, name: str, where: str = "a/b/out") -> Path:
    return tmp_path / (where + ("" if COMMANDS[name].output == "dir" else COMMANDS[name].output))


def test_every_command_is_covered():
    assert sorted(COMMANDS) == sorted(_COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_shared_options_are_the_same_everywhere(name):
    case = COMMANDS[name]
    assert _option(name, "debug") is not None
    expected = {
        "output": (["-o", "--output"], bool(case.output)),
        "overwrite": (["--overwrite"], bool(case.output)),
        "quiet": (["-q", "--quiet"], name != "methods"),
        "start": (["--start"], case.frames or case.times),
        "stop": (["--stop"], case.frames or case.times),
        "stride": (["--stride"], case.frames),
        "scale": (["--scale"], case.frames),
        "grey": (["--grey", "--gray"], case.frames),
        "train": (["--train"], case.train),
        "scheduler": (["--scheduler"], name in ON_CLUSTER),
        "segments": (["--segments"], name in IN_SEGMENTS),
        "warmup": (["--warmup"], name in IN_SEGMENTS),
    }
    for dest, (opts, present) in expected.items():
        option = _option(name, dest)
        assert (option is not None) == present, (name, dest)
        if present:
            assert option.opts == opts, (name, dest)
    if case.frames:
        assert _option(name, "grey").secondary_opts == ["--colour", "--color"]
    if case.train:  # one meaning; background only fits, so it does not classify after
        assert _option(name, "train").help.startswith(opt.TRAIN_HELP)
        same = _option(name, "train").help == _option("subtract", "train").help
        assert same == (name != "background")
    if name in ON_CLUSTER:
        assert _option(name, "scheduler").help == _option("subtract", "scheduler").help
    result = run(name, "--help")
    assert result.exit_code == 0 and "--debug" in result.output


@pytest.mark.parametrize("name", WRITERS)
def test_output_rule(name, tmp_path):
    case = COMMANDS[name]
    args = case.args(tmp_path)
    out = _out(tmp_path, name)
    result = run(name, *args, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert out.exists()  # missing parents were created
    if case.output == "dir":
        (out / "stray.txt").write_text("from an older run")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    if case.output != "dir":
        before = {Path("."): out.read_bytes()}

    again = run(name, *args, "-o", out, "-q")
    assert again.exit_code == 1
    assert "--overwrite" in one_error_line(again)
    after = (
        {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        if case.output == "dir"
        else {Path("."): out.read_bytes()}
    )
    assert after == before  # untouched

    replaced = run(name, *args, "-o", out, "-q", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    if case.output == "dir":
        assert not (out / "stray.txt").exists()  # replaced as a whole
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporaries


#: Bad options of a command, and what its one-line usage error must say.
USAGE_ERRORS = [
    ("subtract", ["--roi", "5,5"], "at least 3 points"),
    ("subtract", ["--roi", "0,0 500,0 0,5"], "outside the 48x36 frame"),
    ("subtract", ["--roi", "nonsense"], "neither a polygon"),
    ("subtract", ["--video-width", "wide"], "--video-width"),
    ("synth", ["-p", "noise_sigma=-3"], "noise_sigma"),
    ("synth", ["-p", "colour=red"], "colour"),
    ("synth", ["-p", "novalue"], "key=value"),
    ("synth", ["--width", "4"], "width"),
    ("synth", ["--seed", "-1"], "seed"),
]


@pytest.mark.parametrize(("name", "extra", "needle"), USAGE_ERRORS)
def test_bad_options_are_one_line_usage_errors(name, extra, needle, tmp_path):
    out = _out(tmp_path, name)
    result = run(name, *COMMANDS[name].args(tmp_path), "-o", out, "-q", *extra)
    assert result.exit_code == 2, result.output
    assert needle in one_error_line(result)
    assert not (tmp_path / "a").exists()  # no output, no parent folder


@pytest.mark.parametrize("name", WRITERS)
def test_a_failing_run_leaves_nothing(name, tmp_path):
    args = COMMANDS[name].fails(tmp_path)
    result = run(name, *args, "-o", tmp_path / "x" / "y" / "out", "-q")
    assert result.exit_code in (1, 2)
    one_error_line(result)
    assert not (tmp_path / "x").exists()  # no output, no empty parent folder


@pytest.mark.parametrize("name", WRITERS)
def test_debug_after_the_command_name_shows_the_traceback(name, tmp_path):
    args = COMMANDS[name].fails(tmp_path)
    result = run(name, *args, "-o", tmp_path / "out", "-q", "--debug")
    assert result.exit_code != 0 and not isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", [n for n, c in COMMANDS.items() if c.progress])
def test_progress_on_stderr_and_quiet_silences_it(name, tmp_path):
    args = COMMANDS[name].args(tmp_path)
    loud = run(name, *args, "-o", _out(tmp_path, name, "loud"))
    assert loud.exit_code == 0, loud.output
    assert PROGRESS_LINE.search(loud.stderr), loud.stderr
    assert not PROGRESS_LINE.search(loud.stdout)
    quiet = run(name, *args, "-o", _out(tmp_path, name, "quiet"), "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "", quiet.stderr


def _classified(name: str, out: Path) -> list:
    if name == "subtract":
        return sorted(p.name for p in (out / "masks").iterdir())
    return [(r["sequence"], r["n_evaluated"]) for r in json.loads(out.read_text())["results"]]


@pytest.mark.parametrize("name", ["subtract", "evaluate"])
def test_train_classifies_the_same_frames_in_every_mode(name, tmp_path):
    """``--train`` fits on the first part, then every frame is classified and scored."""
    args = [*COMMANDS[name].args(tmp_path)[:1], "-m", "median", "-q"]
    if name == "subtract":
        args += ["--mask-format", "png"]
    outputs = {}
    for train in (None, "2", "0.5", "all"):
        out = _out(tmp_path, name, f"t{train}")
        result = run(name, *args, *(["--train", train] if train else []), "-o", out)
        assert result.exit_code == 0, result.output
        outputs[train] = _classified(name, out)
    assert outputs[None] == outputs["2"] == outputs["0.5"] == outputs["all"]
    assert outputs[None]


@pytest.mark.parametrize("name", ["subtract", "evaluate"])
def test_a_batch_method_without_train_is_refused_everywhere(name, tmp_path):
    args = COMMANDS[name].args(tmp_path)[:1]
    result = run(name, *args, "-m", "kmeans", "-o", _out(tmp_path, name), "-q")
    assert result.exit_code == 2
    assert "must be fitted" in one_error_line(result)
