"""``--scheduler`` and grid parameters on the command line (CliRunner, in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bgmix._cli._evaluate import grid_per_method, split_grid
from bgmix.exceptions import ParameterError
from tests._cli._run import run
from tests.parallel.conftest import leftovers, read_masks, write_scene, write_video


def test_split_grid_and_per_method_axes() -> None:
    plain, grid = split_grid(("history=200,500", "mog2:var_threshold=9,16", "a=[1,2]", "b=x"))
    assert plain == ("a=[1,2]", "b=x")
    assert grid == {"history": [200, 500], "mog2:var_threshold": [9, 16]}
    axes = grid_per_method(grid, ["mog2", "mog"])
    assert axes == {
        "mog2": {"history": [200, 500], "var_threshold": [9, 16]},
        "mog": {"history": [200, 500]},
    }
    with pytest.raises(ParameterError, match="'knn' is not evaluated"):
        grid_per_method({"knn:k": [1, 2]}, ["mog2"])


def test_subtract_with_local_cluster_then_rerun_skips(tmp_path: Path) -> None:
    videos = [write_video(tmp_path / f"v{i}.mp4", n=40, seed=i) for i in range(2)]
    out = tmp_path / "out"
    result = run("subtract", *videos, "-o", out, "--scheduler", "local:2", "-p", "history=20", "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["v0", "v1"]
    serial = run("subtract", videos[1], "-o", tmp_path / "serial", "-p", "history=20", "-q")
    assert serial.exit_code == 0, serial.output
    np.testing.assert_array_equal(
        read_masks(out / "v1" / "masks")[1], read_masks(tmp_path / "serial" / "masks")[1]
    )
    again = run("subtract", *videos, "-o", out, "-p", "history=20", "-q")  # in-process
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped") == 2
    assert leftovers(tmp_path) == []


def test_evaluate_grid_on_a_cluster_equals_the_serial_grid(tmp_path: Path, cluster) -> None:
    write_scene(tmp_path / "data" / "cat" / "a", "shadows", seed=1)
    write_scene(tmp_path / "data" / "cat" / "b", "baseline", seed=2)
    args = ("evaluate", tmp_path / "data", "-m", "mog2", "-m", "mean", "--train", "10")
    args += ("-p", "mog2:history=20,50")
    here = run(*args, "-o", tmp_path / "here.json")
    there = run(*args, "-o", tmp_path / "there.json", "--scheduler", cluster.scheduler_address)
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    a = json.loads((tmp_path / "here.json").read_text())
    b = json.loads((tmp_path / "there.json").read_text())
    assert a["methods"] == b["methods"] == ["mog2[history=20]", "mog2[history=50]", "mean"]
    f = [(r["sequence"], r["method"], r["metrics"]["f_measure"]) for r in a["results"]]
    assert f == [(r["sequence"], r["method"], r["metrics"]["f_measure"]) for r in b["results"]]
    assert len(f) == 6


@pytest.mark.parametrize("command", ["subtract", "events"])
def test_unreachable_scheduler_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    video = write_video(tmp_path / "a.mp4", n=10)
    result = run(command, video, "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0]
    assert lines[0].startswith("bgmix: error: cannot reach the Dask scheduler")
    assert not (tmp_path / "o").exists()


def test_bad_scheduler_spec_is_a_usage_error(tmp_path: Path) -> None:
    video = write_video(tmp_path / "a.mp4", n=10)
    result = run("subtract", video, "-o", tmp_path / "o", "--scheduler", "local:0")
    assert result.exit_code == 2 and "local:0" in result.output
