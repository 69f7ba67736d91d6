"""Building the report: its files, its numbers, bad input and the output rule (the
browser tests are in test_report_browser.py)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from bgmix._cli import cli
from bgmix.exceptions import InputError, OutputError, SourceNotFoundError
from bgmix.metrics import ConfusionCounts, EvaluationReport, SequenceResult
from bgmix.viz import write_report
from bgmix.viz._charts import frame_f_measure, pareto_front
from bgmix.viz._report import average_ranking


def test_report_folder_is_self_contained(full_report):
    html = (full_report / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert refs
    for ref in refs:
        assert "://" not in ref and not ref.startswith("//"), ref
        if not ref.startswith("data:"):
            assert (full_report / ref).is_file(), ref
    assert 'preload="none"' in html
    assert '<script src="assets/report.js">' in html
    # the report's results.json rebuilds the same report elsewhere
    again = write_report(full_report / "results.json", full_report.parent / "again")
    assert again.read_text().count("<video") == html.count("<video") - 1  # no subtract run


def test_results_without_media_give_tables_and_say_so(report_inputs, tmp_path):
    data = json.loads(report_inputs["json"].read_text())
    for r in data["results"]:
        r.pop("media")
    (tmp_path / "plain.json").write_text(json.dumps(data))
    index = write_report(tmp_path / "plain.json", tmp_path / "out")
    html = index.read_text()
    assert "<video" not in html and "Videos were not recorded" in html
    assert html.count('data-key="f_measure"') == 4 + 2
    assert not (tmp_path / "out" / "media").exists()


def test_missing_video_is_a_clear_error_and_writes_nothing(report_inputs, tmp_path):
    copy = tmp_path / "evaluated"
    shutil.copytree(report_inputs["evaluated"], copy)
    video = next((copy / "media").rglob("*.mp4"))
    video.unlink()
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"video of .* is missing") as info:
        write_report(copy / "results.json", out)
    assert str(video) in str(info.value)
    assert not out.exists()
    assert os.listdir(tmp_path) == ["evaluated"]


def test_missing_event_clip_is_an_error(report_inputs, tmp_path):
    events = tmp_path / "events"
    shutil.copytree(report_inputs["events"], events)
    (events / "clips" / "event_001.mp4").unlink()
    with pytest.raises(InputError, match=r"clip .*event_001\.mp4.* is missing"):
        write_report(events, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: p / "nope.json", SourceNotFoundError, "does not exist"),
        (lambda p: _write(p / "x.json", "{not json"), InputError, "not valid JSON"),
        (lambda p: _write(p / "x.json", '{"a": 1}'), InputError, "not a bgmix evaluation"),
        (lambda p: _mkdir(p / "empty"), InputError, "without run.json"),
        (lambda p: _write(p / "r" / "run.json", "[]"), InputError, "not a bgmix subtract"),
        (lambda p: _write(p / "e" / "events.json", "{}"), InputError, "not a bgmix events"),
    ],
)
def test_bad_inputs(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        write_report(make(tmp_path), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _mkdir(path):
    path.mkdir()
    return path


def test_same_result_twice_is_refused(report_inputs, tmp_path):
    with pytest.raises(InputError, match="more than one result"):
        write_report([report_inputs["json"], report_inputs["json"]], tmp_path / "out")


def test_existing_output_needs_overwrite_and_is_replaced_whole(report_inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(OutputError, match="not empty"):
        write_report(report_inputs["json"], out)
    assert os.listdir(out) == ["old.txt"]
    write_report(report_inputs["json"], out, overwrite=True)
    assert not (out / "old.txt").exists() and (out / "index.html").is_file()


def test_failure_while_writing_leaves_nothing(report_inputs, tmp_path, monkeypatch):
    import bgmix.viz._report as mod

    def boom(context):
        raise InputError("boom")

    monkeypatch.setattr(mod, "_render", boom)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="boom"):
        write_report(report_inputs["json"], out)
    assert os.listdir(tmp_path) == []


def test_pareto_front():
    assert pareto_front([(1, 0.9), (10, 0.5), (5, 0.4), (20, 0.2)]) == [0, 1, 3]
    assert pareto_front([(1, 0.5), (2, 0.6)]) == [1]
    assert pareto_front([(1, 0.5), (math.nan, 0.9), (1, 0.5)]) == [0, 2]


def test_frame_f_measure_and_binning():
    rows = np.array([[1, 2, 1, 1, 10, 0, 0], [2, 0, 0, 0, 14, 0, 0], [3, 0, 2, 2, 10, 0, 0]])
    frames, f = frame_f_measure(rows)
    assert frames.tolist() == [1, 2, 3]
    assert f[0] == pytest.approx(ConfusionCounts(2, 1, 1, 10).f_measure)
    assert math.isnan(f[1]) and f[2] == 0.0
    many = np.tile(rows[0], (1000, 1))
    many[:, 0] = np.arange(1000)
    frames, f = frame_f_measure(many, max_points=10)
    assert len(frames) == 10 and frames[1] == 100
    assert np.allclose(f, 2 * 2 / (2 * 2 + 1 + 1))


def _result(seq, cat, method, tp, fp, fn, tn=100):
    return SequenceResult(seq, cat, method, {}, ConfusionCounts(tp, fp, fn, tn), 10, 10, 1.0)


def test_average_ranking_is_cdnets():
    # category x: a beats b on every metric; category y: b beats a on every metric but
    # one tie on specificity/FPR (same fp and tn)
    results = [
        _result("s1", "x", "a", 9, 1, 1),
        _result("s1", "x", "b", 5, 5, 5),
        _result("s2", "y", "a", 5, 5, 5),
        _result("s2", "y", "b", 9, 5, 1),
    ]
    ranking = average_ranking(EvaluationReport(results))
    # x: a ranks 1 on all 7 -> 1; b -> 2. y: recall, fnr, pwc, precision, f: b 1, a 2;
    # specificity and fpr tie: 1.5 each.  a: (5*2 + 2*1.5)/7, b: (5*1 + 2*1.5)/7
    assert ranking["a"] == pytest.approx((1 + 13 / 7) / 2)
    assert ranking["b"] == pytest.approx((2 + 8 / 7) / 2)


def test_cli_report_and_errors(report_inputs, tmp_path):
    out = tmp_path / "cli"
    res = CliRunner().invoke(cli, ["report", str(report_inputs["json"]), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "index.html").is_file()
    res = CliRunner().invoke(cli, ["report", str(report_inputs["json"]), "-o", str(out)])
    assert res.exit_code == 1
    assert res.output.startswith("bgmix: error:") and "not empty" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(
        cli, ["report", str(report_inputs["json"]), "-o", str(out), "--overwrite"]
    )
    assert res.exit_code == 0, res.output
    bad = _write(tmp_path / "other.json", '{"format": "bgmix-evaluation", "format_version": 7}')
    res = CliRunner().invoke(cli, ["report", str(bad), "-o", str(tmp_path / "x")])
    assert res.exit_code == 1 and "version 7" in res.output
    assert not (tmp_path / "x").exists()


def test_cli_evaluate_report(report_inputs, tmp_path):
    out = tmp_path / "rep"
    scores = tmp_path / "scores.json"
    seqs = [str(p) for p in report_inputs["sequences"]]
    res = CliRunner().invoke(
        cli,
        ["evaluate", *seqs, "-m", "running-mean", "--report", str(out), "-o", str(scores),
         "-q"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "running-mean" in res.stdout
    assert (out / "index.html").is_file() and not (out / ".record").exists()
    back = EvaluationReport.from_json(scores)
    assert all(os.path.isfile(r.media["video"]) for r in back.results)
    assert all(str(r.media["video"]).startswith(str(out.absolute())) for r in back.results)
    assert (
        back.results[0].counts == EvaluationReport.from_json(out / "results.json").results[0].counts
    )


@pytest.mark.slow
def test_page_stays_small_at_50_sequences_by_10_methods(report_inputs, tmp_path):
    """500 (sequence, method) results, each with a recorded video: the page is built
    from hard links and thumbnails, and index.html stays well under 2 MB."""
    source = EvaluationReport.from_json(report_inputs["json"])
    rng = np.random.default_rng(0)
    results = []
    for s in range(50):
        for m in range(10):
            template = source.results[(s + m) % len(source.results)]
            tp, fp, fn = (int(x) for x in rng.integers(1, 1000, 3))
            results.append(
                SequenceResult(
                    f"seq{s:02d}", f"cat{s % 5}", f"method{m}", {},
                    ConfusionCounts(tp, fp, fn, 100_000), 90, 74, float(rng.uniform(0.1, 2)),
                    path=f"/data/seq{s:02d}", media=template.media,
                    background_metrics=template.background_metrics,
                )
            )  # fmt: skip
    out = tmp_path / "big"
    index = write_report(EvaluationReport(results), out)
    html = index.read_text()
    assert index.stat().st_size < 2_000_000
    assert html.count("<video") == html.count('preload="none"') == 500
    assert html.count('data-key="f_measure"') == 500 + 10
    video = out / "media" / "cat0-seq00" / "method0.mp4"
    assert video.stat().st_ino == os.stat(source.results[0].media["video"]).st_ino
