"""The command-line shell: version, help, methods, parameter parsing, error lines."""

from __future__ import annotations

import os
import sys

import pytest
from click.testing import CliRunner

import bgmix
from bgmix._allocator import on_glibc
from bgmix._cli import cli
from bgmix._cli._options import parse_params
from bgmix.exceptions import ParameterError


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert bgmix.__version__ in result.output


def test_help_lists_every_command(runner):
    from bgmix._cli import _COMMANDS

    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in _COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(__import__("bgmix._cli", fromlist=["_COMMANDS"])._COMMANDS))
def test_every_command_has_help(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_methods_lists_registry(runner):
    result = runner.invoke(cli, ["methods"])
    assert result.exit_code == 0
    for name in bgmix.available_methods():
        assert name in result.output


def test_methods_family_filter_and_params(runner):
    result = runner.invoke(cli, ["methods", "--family", "opencv", "--params"])
    assert result.exit_code == 0
    assert "opencv-mog2" in result.output and "var_threshold=16.0" in result.output
    assert "running-mean" not in result.output


def test_methods_unknown_family_is_a_usage_error(runner):
    result = runner.invoke(cli, ["methods", "--family", "nope"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("bgmix: error: family")


def test_unknown_command_exits_2(runner):
    result = runner.invoke(cli, ["no-such-command"])
    assert result.exit_code == 2


def test_unknown_method_is_one_line_exit_2(runner, tmp_path):
    result = runner.invoke(
        cli, ["subtract", str(tmp_path), "-m", "opencv-mgo2", "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bgmix: error: unknown method 'opencv-mgo2'")
    assert "Traceback" not in result.output


def test_bad_parameter_value_is_one_line_exit_2(runner, tmp_path):
    result = runner.invoke(
        cli,
        [
            "subtract",
            str(tmp_path),
            "-m",
            "running-mean",
            "-p",
            "alpha=7",
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "alpha" in result.output


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        (["history=300"], {"history": 300}),
        (["alpha=0.5", "detect_shadows=false"], {"alpha": 0.5, "detect_shadows": False}),
        (["name=abc", "x=none"], {"name": "abc", "x": None}),
        (
            ["postprocess.median=5", "postprocess.fill_holes=true"],
            {"postprocess": {"median": 5, "fill_holes": True}},
        ),
        (["size=[3, 4]"], {"size": [3, 4]}),
    ],
)
def test_parse_params(items, expected):
    assert parse_params(items) == expected


@pytest.mark.parametrize("items", [["novalue"], ["=3"], ["a=1", "a.b=2"]])
def test_parse_params_rejects_malformed(items):
    with pytest.raises(ParameterError):
        parse_params(items)


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_works_before_or_after_the_command_name(runner, where, tmp_path):
    from bgmix.exceptions import SourceNotFoundError

    args = ["subtract", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "out")]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    result = runner.invoke(cli, args)
    assert isinstance(result.exception, SourceNotFoundError)  # the traceback, not one line


def test_without_debug_an_error_is_one_line(runner, tmp_path):
    result = runner.invoke(cli, ["subtract", str(tmp_path / "missing.mp4"), "-o", "x"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "does not exist" in result.output


def test_the_script_collects_less_and_freezes_its_objects_before_exiting():
    # In a child process: main() changes the collector of the process it runs in.
    import subprocess

    code = (
        "import gc, sys\n"
        "from bgmix._cli import GC_THRESHOLDS, main\n"
        "try:\n"
        "    main(['methods'])\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "same = gc.get_threshold() == GC_THRESHOLDS\n"
        "sys.stderr.write(f'{status} {same} {gc.get_freeze_count()}')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, thresholds, frozen = done.stderr.split()
    assert status == "0" and "mog2" in done.stdout
    assert thresholds == "True"
    assert int(frozen) > 10_000


def test_the_library_leaves_the_collector_alone():
    import gc

    before = gc.get_threshold()
    assert CliRunner().invoke(cli, ["methods"]).exit_code == 0
    assert gc.get_threshold() == before


_FREED_MEMORY = (
    "import os, sys\n"
    "import numpy as np\n"
    "from bgmix._allocator import tune_allocator\n"
    "from bgmix._cli import main\n"
    "applied = {}\n"
    "if sys.argv[1] == 'main':\n"
    "    try:\n"
    "        main(['methods'])\n"
    "    except SystemExit:\n"
    "        pass\n"
    "elif sys.argv[1] == 'tune':\n"
    "    applied = tune_allocator()\n"
    "page = os.sysconf('SC_PAGE_SIZE')\n"
    "def rss():\n"
    "    with open('/proc/self/statm') as f:\n"
    "        return int(f.read().split()[1]) * page\n"
    "blocks = [np.ones(1 << 20, np.uint8) for _ in range(48)]\n"
    "held = rss()\n"
    "del blocks\n"
    "sys.stderr.write(f'{(held - rss()) >> 20} {sorted(applied)}')\n"
)


def _freed_mib(mode: str) -> tuple[int, str]:
    import subprocess

    # Without allocator settings in the environment (a Dask nanny of another test may
    # have exported MALLOC_TRIM_THRESHOLD_ into this process).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    done = subprocess.run(
        [sys.executable, "-c", _FREED_MEMORY, mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    freed, applied = done.stderr.split(" ", 1)
    return int(freed), applied


@pytest.mark.skipif(not on_glibc(), reason="the allocator settings are glibc's (Linux)")
def test_the_script_keeps_freed_memory_for_the_next_frames():
    # 48 arrays of 1 MiB, freed: glibc's defaults hand them back to the system at once
    # (the control), the script's settings keep them for reuse.
    assert _freed_mib("none")[0] >= 40
    freed, applied = _freed_mib("tune")
    assert freed <= 4
    assert applied == "['M_MMAP_THRESHOLD', 'M_TOP_PAD', 'M_TRIM_THRESHOLD']"
    assert _freed_mib("main")[0] <= 4


@pytest.mark.skipif(not on_glibc(), reason="the allocator settings are glibc's (Linux)")
def test_allocator_settings_the_user_chose_are_kept():
    import subprocess

    code = "from bgmix._allocator import tune_allocator; print(sorted(tune_allocator()))"
    env = {**os.environ, "MALLOC_TOP_PAD_": "0", "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "['M_MMAP_THRESHOLD']"
