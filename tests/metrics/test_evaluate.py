"""evaluate_sequence / evaluate / EvaluationReport on tiny sequences written in tmp_path."""

from __future__ import annotations

import json
import math
import threading
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from bgmix import make_subtractor
from bgmix._validation import as_frame
from bgmix.background import BackgroundSubtractor
from bgmix.exceptions import (
    FrameFormatError,
    FrameSizeError,
    InputError,
    OutputError,
    ParameterError,
    SourceNotFoundError,
    SourceOpenError,
    UnknownMethodError,
)
from bgmix.metrics import (
    ConfusionCounts,
    EvaluationReport,
    SequenceResult,
    evaluate,
    evaluate_sequence,
    mean_metrics,
    read_sequence,
)
from tests.metrics._cdnet import square_sequence, write_sequence

LOG: list[tuple[str, Any]] = []


class Bright(BackgroundSubtractor):
    """Foreground where the brightest channel exceeds ``level``; logs every call."""

    name = "test-bright"

    def __init__(self, *, level: float = 150, postprocess: Any = None) -> None:
        self.level = level
        super().__init__(postprocess=postprocess)

    def _initialize(self, frame: np.ndarray) -> None:
        self._bg = frame.astype(np.float32)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        LOG.append(("apply", int(frame.sum())))
        return np.where(frame.max(axis=2) > self.level, 255, 0).astype(np.uint8)

    def _background(self) -> np.ndarray:
        return self._bg


def failing_bright(method_name: str, at: int, message: str) -> Bright:
    """A :class:`Bright` named ``method_name`` whose apply raises
    ``FrameFormatError(message)`` once it has seen ``at`` frames."""

    class Failing(Bright):
        name = method_name

        def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
            if self.n_frames == at:
                raise FrameFormatError(message)
            return super()._apply(frame, learning_rate)

    return Failing()


class BatchBright(Bright):
    """A batch method: must be fitted; logs the shape of the training array."""

    name = "test-batch-bright"
    requires_fit: ClassVar[bool] = True

    def fit(self, frames):
        frames = np.asarray(frames)
        LOG.append(("fit", frames.shape))
        first = as_frame(frames[0])
        self._initialize(first)
        self._frame_shape = first.shape
        return self


@pytest.fixture(autouse=True)
def clear_log():
    LOG.clear()
    yield
    LOG.clear()


def checksums(frames):
    return [("apply", int(f.sum())) for f in frames]


# ---------------------------------------------------------------------- one sequence
def test_online_scores_only_evaluated_frames_inside_the_roi(tmp_path):
    folder, frames, gt = square_sequence(tmp_path / "cat" / "sq", n_frames=8)
    roi = np.ones(gt.shape[1:], bool)
    roi[:, :3] = False
    # Frames 1-2 lie outside the temporal ROI: wrong masks there must not count.
    for n in (1, 2):
        Image.fromarray(np.full(gt.shape[1:], 255, np.uint8)).save(
            folder / "groundtruth" / f"gt{n:06d}.png"
        )
    from tests.metrics._cdnet import write_roi

    write_roi(folder / "ROI.bmp", roi)
    (folder / "temporalROI.txt").write_text("3 8")

    result = evaluate_sequence(folder, Bright())
    assert LOG == checksums(frames)  # every frame, from the first, in order
    positives = int((gt[2:] == 255)[:, roi].sum())
    evaluated_pixels = 6 * int(roi.sum())
    assert result.counts == ConfusionCounts(tp=positives, tn=evaluated_pixels - positives)
    assert result.f_measure == 1.0 and result.metrics["pwc"] == 0.0
    assert (result.sequence, result.category, result.method) == ("sq", "cat", "test-bright")
    assert result.params == {"level": 150, "postprocess": None}
    assert result.n_frames == 8 and result.n_evaluated == 6 and result.n_train == 0
    assert result.train is None
    assert result.seconds > 0 and result.fps == pytest.approx(8 / result.seconds)
    assert result.path == str(folder)


@pytest.mark.parametrize("method", ["running-mean", "frame-difference"])
def test_matches_a_plain_loop_over_the_protocol(tmp_path, method):
    folder, frames, gt = square_sequence(
        tmp_path / "c" / "s", n_frames=10, channels=1, temporal_roi="4 10"
    )
    result = evaluate_sequence(folder, method, {"threshold": 20})
    sub = make_subtractor(method, threshold=20)
    expected = ConfusionCounts()
    for number, (frame, truth) in enumerate(zip(frames, gt, strict=True), start=1):
        mask = sub.apply(frame)
        if number >= 4:
            expected.update(mask, truth)
    assert result.counts == expected
    assert result.params["threshold"] == 20
    assert 0 < result.f_measure < 1


@pytest.mark.parametrize(
    ("train", "n_train"),
    [(0.5, 4), (0.3, 2), (0.01, 1), (1.0, 8), (1, 1), (3, 3), ("all", 8), ("ALL", 8)],
)
def test_training_modes(tmp_path, train, n_train):
    folder, frames, _ = square_sequence(tmp_path / "c" / "s", n_frames=8)
    online = evaluate_sequence(folder, Bright())
    LOG.clear()
    result = evaluate_sequence(folder, BatchBright(), train=train)
    assert LOG[0] == ("fit", (n_train, *frames.shape[1:]))
    assert LOG[1:] == checksums(frames)  # then every frame is classified
    assert result.n_train == n_train
    assert result.train == ("all" if isinstance(train, str) else train)
    assert result.n_frames == 8
    # The scored frames are the same in every mode.
    assert result.counts == online.counts


def test_online_method_with_training_sees_the_warm_up_then_every_frame(tmp_path):
    folder, frames, _ = square_sequence(tmp_path / "c" / "s", n_frames=6)
    evaluate_sequence(folder, Bright(), train=2)
    assert LOG == checksums(frames[:2]) + checksums(frames)


def test_train_longer_than_the_sequence_is_clamped(tmp_path, caplog):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=5)
    with caplog.at_level("WARNING", logger="bgmix.metrics"):
        result = evaluate_sequence(folder, BatchBright(), train=100)
    assert result.n_train == 5
    assert "fewer than train=100" in caplog.text


@pytest.mark.parametrize("train", [0, 0.0, -1, 1.5, True, "some", [0.5], math.nan])
def test_bad_train_values(tmp_path, train):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=3)
    with pytest.raises(ParameterError, match="train"):
        evaluate_sequence(folder, "running-mean", train=train)


def test_batch_method_needs_train(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=3)
    with pytest.raises(ParameterError, match="must be fitted"):
        evaluate_sequence(folder, BatchBright())
    assert LOG == []  # checked before any frame is processed


def test_instance_is_cloned_not_used(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=3)
    sub = Bright(level=120)
    result = evaluate_sequence(folder, sub)
    assert sub.n_frames == 0
    assert result.params["level"] == 120


def test_parameter_errors(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=3)
    with pytest.raises(UnknownMethodError, match="no-such"):
        evaluate_sequence(folder, "no-such-method")
    with pytest.raises(ParameterError, match="tresh"):
        evaluate_sequence(folder, "running-mean", {"tresh": 3})
    with pytest.raises(ParameterError, match="alpha"):
        evaluate_sequence(folder, "running-mean", {"alpha": 2.0})
    with pytest.raises(ParameterError, match="instance"):
        evaluate_sequence(folder, Bright(), {"level": 3})
    with pytest.raises(ParameterError, match="one method"):
        evaluate_sequence(folder, ["running-mean"])
    with pytest.raises(ParameterError, match="method name or a BackgroundSubtractor"):
        evaluate_sequence(folder, 3)
    with pytest.raises(ParameterError, match="more than once"):
        evaluate(folder, ["running-mean", "running-mean"])
    with pytest.raises(ParameterError, match="mixes per-method"):
        evaluate(folder, ["running-mean", "frame-difference"], {"running-mean": {}, "threshold": 3})
    with pytest.raises(ParameterError, match=r"params\['running-mean'\] must be a dict"):
        evaluate(folder, ["running-mean", "frame-difference"], {"running-mean": 3})
    with pytest.raises(ParameterError, match="at least one method"):
        evaluate(folder, [])
    with pytest.raises(ParameterError, match="at least one sequence"):
        evaluate([], "running-mean")


def test_frame_problems_name_the_file_sequence_and_method(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=6)
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(folder / "input" / "in000004.png")
    with pytest.raises(FrameSizeError, match=r"in000004\.png.* is 5x5 but .* 20x16") as info:
        evaluate_sequence(folder, "running-mean")
    assert "method" not in str(info.value)  # a reading problem, whatever the method

    folder, _, _ = square_sequence(tmp_path / "c" / "t", n_frames=6)
    Image.fromarray(np.zeros((16, 20), np.uint8)).save(folder / "input" / "in000003.png")
    with pytest.raises(FrameFormatError, match=r"in000003\.png.* is grey but the earlier"):
        evaluate_sequence(folder, "running-mean", train=4)

    folder, _, _ = square_sequence(tmp_path / "c" / "u", n_frames=6)
    (folder / "input" / "in000005.png").write_bytes(b"not a png")
    with pytest.raises(SourceOpenError, match=r"in000005\.png"):
        evaluate_sequence(folder, "running-mean")


def test_method_errors_get_the_sequence_and_frame(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=3)
    with pytest.raises(
        FrameFormatError, match=r"sequence 's', method 'test-broken', frame in000002\.png: boom"
    ):
        evaluate_sequence(folder, failing_bright("test-broken", 1, "boom"))

    class BrokenFit(BatchBright):
        name = "test-broken-fit"

        def fit(self, frames):
            raise InputError("cannot learn")

    with pytest.raises(InputError, match=r"sequence 's', method 'test-broken-fit', fit: cannot"):
        evaluate_sequence(folder, BrokenFit(), train=2)


# ---------------------------------------------------------------------- several
@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "dataset"
    square_sequence(root / "baseline" / "a", n_frames=6, seed=1)
    square_sequence(root / "baseline" / "b", n_frames=5, seed=2, channels=1)
    square_sequence(root / "shadow" / "c", n_frames=7, seed=3, height=12, width=14)
    return root


def test_evaluate_many_sequences_and_methods(dataset, capsys):
    report = evaluate(
        dataset,
        ["running-mean", "frame-difference"],
        {"running-mean": {"threshold": 15}},
        progress=True,
    )
    assert "frame" in capsys.readouterr().err  # the progress bar went to stderr
    assert report.methods == ["running-mean", "frame-difference"]
    assert [(r.sequence, r.method) for r in report.results] == [
        ("a", "running-mean"),
        ("a", "frame-difference"),
        ("b", "running-mean"),
        ("b", "frame-difference"),
        ("c", "running-mean"),
        ("c", "frame-difference"),
    ]
    assert report.categories == ["baseline", "shadow"]
    assert report.for_method("running-mean")[0].params["threshold"] == 15
    assert report.for_method("frame-difference")[0].params["threshold"] == 25.0
    # Each method's result equals a one-method run (shared decoding changes nothing).
    single = evaluate_sequence(dataset / "baseline" / "b", "frame-difference")
    assert report.results[3].counts == single.counts


def test_cdnet_averaging_rules(dataset):
    report = evaluate(dataset, "running-mean")
    rows = {r.sequence: r.metrics for r in report.results}
    for name in ("recall", "precision", "f_measure", "pwc"):
        baseline = (rows["a"][name] + rows["b"][name]) / 2
        cats = report.category_metrics("running-mean")
        assert cats["baseline"][name] == pytest.approx(baseline)
        assert cats["shadow"][name] == pytest.approx(rows["c"][name])
        assert report.overall("running-mean")[name] == pytest.approx(
            (baseline + rows["c"][name]) / 2
        )
        assert report.sequence_mean("running-mean")[name] == pytest.approx(
            (rows["a"][name] + rows["b"][name] + rows["c"][name]) / 3
        )
    assert report.overall("running-mean") == mean_metrics(
        report.category_metrics("running-mean").values()
    )
    total = sum(r.n_frames for r in report.results)
    assert report.throughput("running-mean") == pytest.approx(
        total / sum(r.seconds for r in report.results)
    )
    table = report.table()
    assert table.splitlines()[0].split() == [
        "sequence",
        "category",
        "method",
        "F",
        "Recall",
        "Precision",
        "PWC",
        "frames/s",
    ]
    assert "mean of 3 sequences" in table
    assert "CDnet overall (2 categories)" in table
    assert f"{report.overall('running-mean')['f_measure']:.3f}" in table
    assert str(report) == table


def test_single_category_has_no_overall_line(dataset):
    report = evaluate(dataset / "baseline", "running-mean")
    assert report.overall("running-mean") == pytest.approx(
        report.sequence_mean("running-mean"), nan_ok=True
    )
    assert "CDnet overall" not in report.table()
    with pytest.raises(ParameterError, match="no method 'mog9'"):
        report.for_method("mog9")


def test_sequences_given_twice_run_once_and_objects_are_accepted(dataset):
    seq = read_sequence(dataset / "baseline" / "a", category="custom")
    report = evaluate([seq, dataset / "baseline" / "a", dataset / "baseline" / "b"], "running-mean")
    assert [(r.sequence, r.category) for r in report.results] == [
        ("a", "custom"),
        ("b", "baseline"),
    ]


def test_json_round_trip(tmp_path, dataset):
    # A sequence with no foreground at all gives undefined (NaN) recall and F.
    write_sequence(
        dataset / "empty" / "e", np.full((3, 6, 6), 40, np.uint8), np.zeros((3, 6, 6), np.uint8)
    )
    report = evaluate(dataset, ["running-mean", Bright(level=100)], train=2)
    path = tmp_path / "out" / "scores.json"
    path.parent.mkdir()
    report.to_json(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["scores.json"]  # no temp leftovers

    def reject(value):
        raise AssertionError(f"non-standard JSON constant {value}")

    data = json.loads(path.read_text(), parse_constant=reject)
    empty = next(r for r in data["results"] if r["sequence"] == "e")
    assert empty["metrics"]["recall"] is None and empty["metrics"]["f_measure"] is None
    assert data["summary"]["test-bright"]["overall"]["f_measure"] == pytest.approx(
        report.overall("test-bright")["f_measure"]
    )
    assert set(data["summary"]["running-mean"]["categories"]) == {"baseline", "shadow", "empty"}

    back = EvaluationReport.from_json(path)
    assert back.methods == report.methods
    assert [r.counts for r in back.results] == [r.counts for r in report.results]
    assert back.table() == report.table()
    for a, b in zip(back.results, report.results, strict=True):
        assert a.to_dict() == b.to_dict()
        assert a.train == 2 and a.n_train == 2
    nan_result = next(r for r in back.results if r.sequence == "e")
    assert math.isnan(nan_result.metrics["recall"])


def test_json_errors(tmp_path, dataset):
    report = evaluate(dataset / "shadow", "running-mean")
    report.to_json(tmp_path / "missing" / "x.json")  # parents are created
    with pytest.raises(OutputError, match="overwrite"):
        report.to_json(tmp_path / "missing" / "x.json")
    report.to_json(tmp_path / "missing" / "x.json", overwrite=True)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        EvaluationReport.from_json(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match="not a bgmix evaluation report"):
        EvaluationReport.from_json(tmp_path / "other.json")
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        EvaluationReport.from_json(tmp_path / "nope.json")
    with pytest.raises(InputError, match="not a bgmix sequence result"):
        SequenceResult.from_dict({"sequence": "x"})


# ---------------------------------------------------------------------- reader thread
def test_reader_thread_stops_when_a_method_fails_mid_sequence(tmp_path):
    folder, _, _ = square_sequence(tmp_path / "c" / "s", n_frames=40)
    before = threading.active_count()
    with pytest.raises(FrameFormatError, match="stop here"):
        evaluate_sequence(folder, failing_bright("test-fails", 3, "stop here"))
    assert threading.active_count() == before
    assert len(LOG) == 3


# ---------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_cdnet_highway_mog2_f_measure(shared_data):
    result = evaluate_sequence(shared_data / "sequences" / "cdnet_baseline_highway", "opencv-mog2")
    # An independent computation of the CDnet protocol gives 0.7084.
    assert result.f_measure == pytest.approx(0.708, abs=0.005)
    assert result.n_evaluated == 1231 and result.n_frames == 1700
    assert result.counts.shadow > 0  # the highway ground truth has hard shadows (50)


@pytest.mark.realdata
def test_wallflower_sparse_groundtruth(shared_data):
    result = evaluate_sequence(shared_data / "sequences" / "wallflower_WavingTrees", "running-mean")
    assert result.n_evaluated == 1 and result.n_frames == 287
    assert result.counts.total == 160 * 120
    assert 0 < result.f_measure <= 1


def test_frame_selection_grey_and_scale(tmp_path, dataset):
    seq = dataset / "baseline" / "a"
    full = evaluate_sequence(seq, "running-mean")
    part = evaluate_sequence(seq, "running-mean", source_options={"start": 2, "stride": 2})
    assert part.n_frames == len(range(2, full.n_frames, 2))
    assert part.n_evaluated < full.n_evaluated
    grey = evaluate_sequence(seq, "running-mean", source_options={"grey": True, "scale": 0.5})
    assert grey.n_evaluated == full.n_evaluated and 0.0 <= grey.f_measure <= 1.0
    with pytest.raises(ParameterError, match="none that is scored"):
        evaluate_sequence(seq, "running-mean", source_options={"start": 50})
    with pytest.raises(ParameterError, match="prefetch"):
        evaluate_sequence(seq, "running-mean", source_options={"prefetch": 2})


def test_category_of_a_symlinked_sequence_is_its_link_parent(tmp_path, dataset):
    (tmp_path / "mine" / "night").mkdir(parents=True)
    link = tmp_path / "mine" / "night" / "cam1"
    link.symlink_to(dataset / "shadow" / "c", target_is_directory=True)
    result = evaluate(tmp_path / "mine", "running-mean").results[0]
    assert (result.category, result.sequence) == ("night", "cam1")
