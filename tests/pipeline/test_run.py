"""The pipelined run: masks bit-identical to the plain loop, outputs, options, and stops
(an error in a stage, SIGTERM, a killed run's temporaries)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import bgmix
from bgmix.exceptions import ParameterError
from bgmix.io import open_source
from bgmix.pipeline import (
    FrameResult,
    RunSummary,
    model_stage,
    postprocess_stage,
    subtract,
)
from tests.conftest import ROOT, data_root, moving_square


def _loop_masks(src, method: str, params: dict, **options) -> dict[int, np.ndarray]:
    sub = bgmix.make_subtractor(method, **params)
    with open_source(src, **options) as frames:
        return {n: sub.apply(f) for n, f in frames.numbered()}


def _video_masks(path: Path) -> list[np.ndarray]:
    with open_source(path) as src:
        return list(src)


def _leftovers(out: Path) -> list[str]:
    """The temporaries of runs into ``out``: they are built beside it, whole."""
    folder = out.parent
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def clip() -> np.ndarray:
    return moving_square(n_frames=40, height=48, width=64)[0]


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("mog2", {"n_jobs": 2}),
        ("mog2", {"n_jobs": 1, "postprocess": {"median": 3, "open": 1, "min_area": 4}}),
        ("mog", {}),
        ("running-mean", {}),
    ],
)
def test_masks_are_bit_identical_to_the_plain_loop(clip, tmp_path, method, params):
    expected = _loop_masks(clip, method, params)
    subtract(clip, tmp_path / "o", method=method, params=params, masks="both")
    got = _video_masks(tmp_path / "o" / "masks.mov")
    assert len(got) == len(expected)
    for (number, want), mask in zip(expected.items(), got, strict=True):
        np.testing.assert_array_equal(mask, want)
        png = np.asarray(Image.open(tmp_path / "o" / "masks" / f"bin{number:06d}.png"))
        np.testing.assert_array_equal(png, want)


@pytest.mark.realdata
def test_masks_on_real_video_are_bit_identical(tmp_path):
    video = data_root() / "videos" / "vtest.avi"
    if not video.exists():
        pytest.skip(f"shared video {video} not found (set BGMIX_DATA)")
    options = {"stop": 60, "scale": 0.5}
    expected = _loop_masks(video, "mog2", {}, **options)
    subtract(video, tmp_path / "o", source_options=options, video=False)
    got = _video_masks(tmp_path / "o" / "masks.mov")
    assert len(got) == 60
    for want, mask in zip(expected.values(), got, strict=True):
        np.testing.assert_array_equal(mask, want)


def test_stages_work_alone_on_lists(clip):
    sub = bgmix.make_subtractor("mog2", n_jobs=1, postprocess={"median": 3})
    summary = RunSummary(method="mog2", params={}, source="clip")
    raw = list(model_stage(sub, summary=summary, background_every=10)(enumerate(clip[:12])))
    assert [r.number for r in raw] == list(range(12)) and summary.n_frames == 12
    assert raw[0].background is not None and raw[0].background is raw[9].background
    assert raw[10].background is not raw[9].background
    inside = np.zeros(clip.shape[1:3], bool)
    inside[:, :20] = True
    post = list(postprocess_stage(sub, inside)(iter(raw)))
    ref = bgmix.make_subtractor("mog2", n_jobs=1, postprocess={"median": 3})
    for r, frame in zip(post, clip[:12], strict=True):
        want = ref.apply(frame)
        want[:, 20:] = 0
        np.testing.assert_array_equal(r.mask, want)
        assert isinstance(r, FrameResult)


def test_mask_video_timestamps_follow_stride(clip, tmp_path):
    subtract(clip, tmp_path / "o", method="mog2", source_options={"stride": 3}, video=False)
    import av

    with av.open(str(tmp_path / "o" / "masks.mov")) as c:
        times = [float(f.time) for f in c.decode(video=0)]
    assert times == pytest.approx([n / 25 for n in range(0, 40, 3)])


def test_side_by_side_is_at_most_video_width_and_full_size_on_request(tmp_path):
    frames = moving_square(n_frames=6, height=120, width=640)[0]
    subtract(frames, tmp_path / "a", method="running-mean", masks=False)
    subtract(frames, tmp_path / "b", method="running-mean", masks=False, video_width=None)
    subtract(frames, tmp_path / "c", method="running-mean", masks=False, video_width=800)
    widths = []
    for name in "abc":
        with open_source(tmp_path / name / "side_by_side.mp4") as v:
            widths.append(v.info.width)
    assert widths == [1920, 2560, 800]


def test_downscale_runs_end_to_end(tmp_path):
    frames = moving_square(n_frames=8, height=96, width=128)[0]
    subtract(frames, tmp_path / "o", method="mog2", source_options={"scale": 0.5})
    assert _video_masks(tmp_path / "o" / "masks.mov")[0].shape == (48, 64)
    with open_source(tmp_path / "o" / "side_by_side.mp4") as v:
        frame = next(iter(v))
    assert frame.shape[1] == 4 * 64


def test_roi_polygons_in_source_pixels_are_scaled(tmp_path):
    frames = moving_square(n_frames=10, height=96, width=128)[0]
    roi = ["0,0 64,0 64,96 0,96"]  # the left half, in source pixels
    subtract(frames, tmp_path / "o", method="frame-difference", roi=roi, video=False,
             source_options={"scale": 0.5})  # fmt: skip
    masks = _video_masks(tmp_path / "o" / "masks.mov")
    assert any(m[:, :32].any() for m in masks) and not any(m[:, 34:].any() for m in masks)


def test_roi_from_file_and_mask_image(tmp_path):
    frames = moving_square(n_frames=10, height=48, width=64)[0]
    (tmp_path / "roi.txt").write_text("# the left part\n0,0 20,0 20,48 0,48\n\n")
    img = np.zeros((48, 64), np.uint8)
    img[:, :20] = 255
    Image.fromarray(img).save(tmp_path / "roi.png")
    results = []
    for roi in (tmp_path / "roi.txt", str(tmp_path / "roi.png"), img > 0):
        out = tmp_path / f"o{len(results)}"
        subtract(frames, out, method="frame-difference", roi=roi, video=False)
        results.append(np.stack(_video_masks(out / "masks.mov")))
    assert not results[1][:, :, 21:].any() and results[1].any()
    np.testing.assert_array_equal(results[1], results[2])
    assert not results[0][:, :, 22:].any()


@pytest.mark.parametrize(
    ("roi", "match"),
    [
        ("0,0", "at least 3 points"),
        ([(0, 0), (10, 0), (10, 100)], "outside the 64x48 frame"),
        ("0,0 10,x 5,5", "not a point"),
        (np.ones((10, 10), bool), "is 10x10; the frames are 64x48"),
        ("missing.txt", "neither a polygon"),
        (np.zeros((48, 64), bool), "covers no pixel"),
        (42, "expected polygons"),
    ],
)
def test_roi_errors_name_the_option(tmp_path, roi, match):
    frames = moving_square(n_frames=3, height=48, width=64)[0]
    with pytest.raises(ParameterError, match=match):
        subtract(frames, tmp_path / "o", method="running-mean", roi=roi)
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_an_error_in_a_consumer_stops_the_run_and_leaves_nothing(clip, tmp_path):
    def boom(number, frame, mask):
        if number == 7:
            raise RuntimeError("consumer failed")

    out = tmp_path / "o"
    with pytest.raises(RuntimeError, match="consumer failed"):
        subtract(clip, out, method="mog2", masks="both", on_mask=boom)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary


def test_bad_masks_and_video_width(clip, tmp_path):
    with pytest.raises(ParameterError, match="masks"):
        subtract(clip, tmp_path / "o", masks="gif")
    with pytest.raises(ParameterError, match="video_width"):
        subtract(clip, tmp_path / "o", video_width=10)


def test_summary_has_wall_clock_rate(clip, tmp_path):
    s = subtract(clip, tmp_path / "o", method="running-mean", video=False, masks=False)
    assert s.wall_seconds > 0 and s.fps == pytest.approx(40 / s.wall_seconds)


# ---- killed runs ------------------------------------------------------------------------
_LONG_RUN = textwrap.dedent(
    """
    import sys, numpy as np, bgmix
    frames = np.random.default_rng(0).integers(0, 255, (4000, 96, 128, 3), dtype=np.uint8)
    def slow(n, f, m):
        import time
        if n == 5:
            print("running", flush=True)
        time.sleep(0.01)
    bgmix.subtract(frames, sys.argv[1], method="running-mean", masks="both", on_mask=slow)
    """
)


def _start(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-c", _LONG_RUN, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "running", proc.stderr.read() if proc.stderr else ""
    time.sleep(0.3)
    return proc


def test_sigterm_stops_cleanly_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "o"
    proc = _start(out)
    assert any(".partial" in name for name in _leftovers(out))  # it is writing
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err and "SIGTERM" in err
    assert not out.exists() and _leftovers(out) == []


def test_temporaries_of_a_killed_run_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "o"
    proc = _start(out)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    stale = _leftovers(out)
    assert any(".partial" in name for name in stale)
    live = _start(out)  # a live run writing beside the same folder keeps its temporaries
    try:
        ours = set(_leftovers(out)) - set(stale)
        subtract(moving_square(n_frames=4)[0], out, method="running-mean", video=False,
                 masks="png")  # fmt: skip
        assert (out / "masks").is_dir()
        left = set(_leftovers(out))
        assert not left & set(stale)  # the dead run's are gone
        assert ours <= left  # the live run's are untouched
    finally:
        live.send_signal(signal.SIGTERM)
        live.communicate(timeout=60)


def test_cli_on_sigterm_exits_non_zero_with_one_line_and_no_partial_file(tmp_path):
    frames = np.random.default_rng(1).integers(0, 255, (3000, 96, 128, 3), dtype=np.uint8)
    np.save(tmp_path / "clip.npy", frames)
    out = tmp_path / "o"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "bgmix", "subtract", str(tmp_path / "clip.npy"), "-o", str(out)]
    proc = subprocess.Popen(
        [*cmd, "-m", "running-mean", "-q", "--mask-format", "both"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    end = time.monotonic() + 60
    while time.monotonic() < end and not _leftovers(out):
        time.sleep(0.05)
    assert _leftovers(out), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["bgmix: interrupted"]
    assert not out.exists() and _leftovers(out) == []
