"""`bgmix evaluate` in-process with CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bgmix._cli._evaluate import parse_train, split_method_params
from bgmix.exceptions import ParameterError
from tests._cli._run import run
from tests.metrics._cdnet import square_sequence


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "dataset"
    square_sequence(root / "baseline" / "a", n_frames=6, seed=1)
    square_sequence(root / "baseline" / "b", n_frames=5, seed=2, channels=1)
    square_sequence(root / "night" / "c", n_frames=6, seed=3)
    return root


def test_prints_table_and_writes_json(dataset, tmp_path):
    out = tmp_path / "scores.json"
    res = run(
        "evaluate", dataset, "-m", "running-mean", "-m", "frame-difference",
        "-p", "threshold=12", "-p", "running-mean:alpha=0.2", "-o", out, "-q",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["sequence", "category", "method"]
    body = [line.split() for line in lines if line.startswith(("a ", "b ", "c "))]
    assert [(r[0], r[1], r[2]) for r in body] == [
        ("a", "baseline", "running-mean"),
        ("a", "baseline", "frame-difference"),
        ("b", "baseline", "running-mean"),
        ("b", "baseline", "frame-difference"),
        ("c", "night", "running-mean"),
        ("c", "night", "frame-difference"),
    ]
    assert "CDnet overall (2 categories)" in res.stdout
    assert res.stderr == ""  # -q: no progress, no note
    data = json.loads(out.read_text())
    assert data["methods"] == ["running-mean", "frame-difference"]
    params = {(r["sequence"], r["method"]): r["params"] for r in data["results"]}
    # The shared value reaches both methods; the targeted one only its method.
    assert params["a", "running-mean"]["threshold"] == 12
    assert params["a", "frame-difference"]["threshold"] == 12
    assert params["a", "running-mean"]["alpha"] == 0.2
    assert "alpha" not in params["a", "frame-difference"]
    # The table's F column is the JSON's F-measure.
    f_a = next(r for r in data["results"] if r["sequence"] == "a")["metrics"]["f_measure"]
    assert body[0][3] == f"{f_a:.3f}"


def test_single_sequence_category_and_progress(dataset):
    res = run(
        "evaluate", dataset / "baseline" / "a", dataset / "night",
        "-m", "running-mean", "--category", "mine",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.stdout.splitlines() if line.startswith(("a ", "c "))]
    assert [r[1] for r in rows] == ["mine", "mine"]
    assert "CDnet overall" not in res.stdout
    assert "frames" in res.stderr  # the progress report on stderr (a log here)


def test_training_option(dataset):
    res = run("evaluate", dataset / "night", "-m", "running-mean", "--train", "0.5")
    assert res.exit_code == 0, res.output
    res = run("evaluate", dataset / "night", "-m", "running-mean", "--train", "all")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "no-such-method"], "unknown method 'no-such-method'"),
        (["-m", "running-mean", "-p", "alpha=7"], "alpha"),
        (["-m", "running-mean", "-p", "nokey"], "key=value"),
        (["-m", "running-mean", "-p", "opencv-knn:history=3"], "targets method 'opencv-knn'"),
        (["-m", "running-mean", "--train", "half"], "train must be a fraction"),
        (["-m", "running-mean", "--train", "1.5"], "train must be"),
        (["-m", "running-mean", "--train", "0"], "train must be"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(dataset, args, message):
    res = run("evaluate", dataset / "night", *args)
    assert res.exit_code == 2
    assert res.stderr.startswith("bgmix: error:")
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert res.stdout == ""


def test_bad_input_exits_1_with_one_line(dataset, tmp_path):
    res = run("evaluate", tmp_path / "missing", "-m", "running-mean")
    assert res.exit_code == 1
    assert "does not exist" in res.stderr and len(res.stderr.strip().splitlines()) == 1

    seq = dataset / "night" / "c"
    (seq / "groundtruth" / "gt000003.png").unlink()
    res = run("evaluate", seq, "-m", "running-mean")
    assert res.exit_code == 1
    assert "have no ground truth (numbers 3)" in res.stderr

    out = tmp_path / "no" / "x.json"
    res = run("evaluate", dataset / "baseline", "-m", "running-mean", "-o", out, "-q")
    assert res.exit_code == 0 and out.is_file()  # missing parents are created
    res = run("evaluate", dataset / "baseline", "-m", "running-mean", "-o", out, "-q")
    assert res.exit_code == 1 and "--overwrite" in res.stderr
    res = run("evaluate", dataset / "baseline", "-m", "running-mean", "-o", tmp_path)
    assert res.exit_code != 0


def test_missing_sequence_argument_is_a_usage_error():
    res = run("evaluate", "-m", "running-mean")
    assert res.exit_code == 2


def test_help_documents_parameter_targeting():
    res = run("evaluate", "--help")
    assert res.exit_code == 0
    assert "METHOD:KEY=VALUE" in res.stdout
    assert "FRACTION|N|all" in res.stdout


def test_parse_train():
    assert parse_train(None) is None
    assert parse_train("all") == "all" and parse_train(" ALL ") == "all"
    assert parse_train("1") == 1 and isinstance(parse_train("1"), int)
    assert parse_train("1.0") == 1.0 and isinstance(parse_train("1.0"), float)
    assert parse_train("0.4") == 0.4
    with pytest.raises(ParameterError):
        parse_train("x")


def test_split_method_params_merges_nested_groups():
    per = split_method_params(
        (
            "postprocess.median=5",
            "history=100",
            "b:postprocess.open=3",
            "b:history=7",
            "a:var=1",
            "url=http://x:80",
        ),
        ["a", "b"],
    )
    assert per["a"] == {
        "postprocess": {"median": 5},
        "history": 100,
        "var": 1,
        "url": "http://x:80",
    }
    assert per["b"] == {
        "postprocess": {"median": 5, "open": 3},
        "history": 7,
        "url": "http://x:80",
    }
    with pytest.raises(ParameterError, match="not evaluated"):
        split_method_params(("c:x=1",), ["a"])


@pytest.mark.realdata
def test_evaluate_shared_sequence(shared_data):
    res = run("evaluate", shared_data / "sequences" / "wallflower_WavingTrees", "-m", "opencv-mog2")
    assert res.exit_code == 0, res.output
    row = next(line for line in res.stdout.splitlines() if line.startswith("wallflower"))
    assert 0.0 < float(row.split()[3]) <= 1.0
    assert np.isfinite(float(row.split()[-1]))


def test_frame_options_select_the_scored_frames(dataset):
    res = run("evaluate", dataset / "night", "-m", "running-mean", "-q", "--start", "1", "--grey")
    assert res.exit_code == 0, res.output
