"""read_sequence / find_sequences on tiny CDnet folders written in tmp_path."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from bgmix.exceptions import (
    EmptySourceError,
    GroundTruthError,
    InputError,
    SourceNotFoundError,
)
from bgmix.metrics import find_sequences, read_groundtruth, read_sequence
from tests.metrics._cdnet import square_sequence, write_palette_mask, write_sequence

H, W = 6, 8


def frames(n, channels=3, value=60):
    shape = (n, H, W, channels) if channels == 3 else (n, H, W)
    return np.full(shape, value, np.uint8)


def masks(n, value=0):
    return np.full((n, H, W), value, np.uint8)


def test_reads_a_complete_cdnet_sequence(tmp_path):
    roi = np.zeros((H, W), bool)
    roi[1:5, 2:7] = True
    gt = masks(6)
    gt[:, 0, 0] = [0, 50, 85, 170, 255, 0]
    folder = write_sequence(
        tmp_path / "baseline" / "highway", frames(6), gt, roi=roi, temporal_roi="2 5\n"
    )
    seq = read_sequence(folder)
    assert seq.name == "highway"
    assert seq.category == "baseline"
    assert seq.path == folder
    assert [n for n, _ in seq.input_frames] == [1, 2, 3, 4, 5, 6]
    assert sorted(seq.groundtruth) == [1, 2, 3, 4, 5, 6]
    assert seq.temporal_roi == (2, 5)
    assert seq.evaluated == (2, 3, 4, 5)
    assert seq.shape == (H, W)
    assert seq.n_frames == 6 and seq.n_evaluated == 4
    # ROI.bmp is a palette image whose evaluated pixels have raw index 0.
    assert seq.roi.dtype == bool
    np.testing.assert_array_equal(seq.roi, roi)
    assert "highway" in repr(seq) and "4 evaluated" in repr(seq)
    # Masks are read through their palette.
    np.testing.assert_array_equal(read_groundtruth(seq.groundtruth[5])[0, :2], [255, 0])
    assert read_sequence(folder, category="mine").category == "mine"


def test_defaults_without_roi_files(tmp_path):
    gt = {3: masks(1)[0], 4: masks(1)[0], 5: masks(1)[0]}
    folder = write_sequence(tmp_path / "cat" / "seq", frames(7), gt)
    seq = read_sequence(folder)
    assert seq.roi.all() and seq.roi.shape == (H, W)
    assert seq.temporal_roi == (3, 5)
    assert seq.evaluated == (3, 4, 5)


def test_frames_are_paired_by_last_integer_not_by_name(tmp_path):
    folder = tmp_path / "c" / "ucsd"
    write_sequence(folder, frames(12), masks(12), input_name="frame_{}.jpg", gt_name="gt{:04d}.png")
    seq = read_sequence(folder)
    assert [p.name for _, p in seq.input_frames][:3] == [
        "frame_1.jpg",
        "frame_2.jpg",
        "frame_3.jpg",
    ]
    assert seq.input_frames[9] == (10, folder / "input" / "frame_10.jpg")
    assert seq.groundtruth[10].name == "gt0010.png"


def test_sparse_groundtruth_like_wallflower(tmp_path):
    folder = tmp_path / "wallflower" / "WavingTrees"
    write_sequence(
        folder,
        frames(12),
        {9: masks(1, 255)[0]},
        first=0,
        input_name="b{:05d}.bmp",
        gt_name="hand_segmented_{:05d}.BMP",
        palette_gt=False,
    )
    seq = read_sequence(folder)
    assert seq.evaluated == (9,)
    assert seq.temporal_roi == (9, 9)


def test_sparse_groundtruth_inside_a_temporal_roi(tmp_path):
    gt = {n: masks(1)[0] for n in (2, 5, 8)}
    folder = write_sequence(tmp_path / "c" / "s", frames(10), gt, temporal_roi="1 10")
    assert read_sequence(folder).evaluated == (2, 5, 8)


def test_rgb_grey_hand_segmented_mask(tmp_path):
    values = np.array([[0, 5, 51, 190], [246, 250, 255, 0]], np.uint8)
    path = tmp_path / "hand_segmented_00247.BMP"
    Image.fromarray(np.dstack([values] * 3)).save(path)
    np.testing.assert_array_equal(read_groundtruth(path), values)


def test_temporal_roi_past_the_last_frame_is_clamped_with_a_warning(tmp_path, caplog):
    folder = write_sequence(
        tmp_path / "sbi" / "HighwayI", frames(5), masks(5), first=0, temporal_roi="0 5"
    )
    with caplog.at_level(logging.WARNING, logger="bgmix.metrics"):
        seq = read_sequence(folder)
    assert seq.temporal_roi == (0, 4)
    assert seq.evaluated == (0, 1, 2, 3, 4)
    assert "clamped to [0, 4]" in caplog.text


def test_temporal_roi_before_the_first_frame_is_clamped(tmp_path, caplog):
    folder = write_sequence(tmp_path / "c" / "s", frames(5), masks(5), first=1, temporal_roi="0 3")
    with caplog.at_level(logging.WARNING, logger="bgmix.metrics"):
        assert read_sequence(folder).temporal_roi == (1, 3)
    assert "clamped" in caplog.text


def test_empty_temporal_roi_file_falls_back_to_groundtruth_range(tmp_path, caplog):
    folder = write_sequence(tmp_path / "c" / "s", frames(4), masks(4), temporal_roi="  \n")
    with caplog.at_level(logging.WARNING, logger="bgmix.metrics"):
        assert read_sequence(folder).temporal_roi == (1, 4)
    assert "empty" in caplog.text


def _write(tmp_path, **kwargs):
    defaults = {"frames": frames(5), "groundtruth": masks(5)}
    defaults.update(kwargs)
    return write_sequence(
        tmp_path / "cat" / "seq", defaults.pop("frames"), defaults.pop("groundtruth"), **defaults
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d: (d / "input").rename(d / "inputs"), "no input/ folder"),
        (lambda d: (d / "groundtruth").rename(d / "gt"), "no groundtruth/ folder"),
        (
            lambda d: [p.unlink() for p in (d / "groundtruth").iterdir()],
            "ground-truth folder .* is empty",
        ),
        (
            lambda d: write_palette_mask(d / "groundtruth" / "gt000003.png", np.zeros((H, W + 1))),
            "gt000003.png.* is 9x6 but the frames are 8x6",
        ),
        (
            lambda d: Image.fromarray(np.full((H + 1, W), 255, np.uint8)).save(d / "ROI.bmp"),
            "ROI.bmp is 8x7 but the frames are 8x6",
        ),
        (
            lambda d: Image.fromarray(np.zeros((H, W), np.uint8)).save(d / "ROI.bmp"),
            "ROI.bmp is all black",
        ),
        (
            lambda d: write_palette_mask(d / "groundtruth" / "gt000009.png", np.zeros((H, W))),
            r"1 ground-truth mask\(s\) match no input frame \(numbers 9",
        ),
        (
            lambda d: (d / "groundtruth" / "gt000003.png").unlink(),
            r"1 frame\(s\) inside the temporal ROI \[1, 5\] have no ground truth \(numbers 3\)",
        ),
        (lambda d: (d / "temporalROI.txt").write_text("abc"), "two frame numbers"),
        (lambda d: (d / "temporalROI.txt").write_text("1 2 3"), "two frame numbers"),
        (lambda d: (d / "temporalROI.txt").write_text("4 2"), "starts after it ends"),
        (lambda d: (d / "temporalROI.txt").write_text("20 30"), "lies outside the input frames"),
        (
            lambda d: [(d / "groundtruth" / f"gt00000{n}.png").unlink() for n in (1, 2, 3)],
            r"no frame is evaluated.*\[1, 3\]",
        ),
    ],
)
def test_mismatches_raise_groundtruth_error(tmp_path, build, message):
    folder = _write(tmp_path)
    build(folder)
    if "no frame is evaluated" in message:
        (folder / "temporalROI.txt").write_text("1 3")
    elif message.startswith("1 frame"):
        (folder / "temporalROI.txt").write_text("1 5")
    with pytest.raises(GroundTruthError, match=message) as info:
        read_sequence(folder)
    assert str(folder) in str(info.value) or "gt000003.png" in str(info.value)


def test_missing_groundtruth_in_dense_set_without_temporal_roi(tmp_path):
    folder = _write(tmp_path, frames=frames(8), groundtruth=masks(8))
    (folder / "groundtruth" / "gt000004.png").unlink()
    with pytest.raises(GroundTruthError, match=r"numbers 4\)"):
        read_sequence(folder)


def test_duplicate_groundtruth_numbers(tmp_path):
    folder = _write(tmp_path)
    write_palette_mask(folder / "groundtruth" / "gt3.png", masks(1)[0])
    with pytest.raises(GroundTruthError, match="both have frame number 3"):
        read_sequence(folder)


def test_missing_or_wrong_paths(tmp_path):
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        read_sequence(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        read_sequence(tmp_path / "file.txt")
    folder = _write(tmp_path)
    for p in (folder / "input").iterdir():
        p.unlink()
    with pytest.raises(EmptySourceError, match="input folder"):
        read_sequence(folder)
    with pytest.raises(InputError, match="category"):
        read_sequence(_write(tmp_path / "other"), category="")


def test_find_sequences_expands_dataset_folders(tmp_path):
    a, _, _ = square_sequence(tmp_path / "dataset" / "baseline" / "highway", n_frames=2)
    b, _, _ = square_sequence(tmp_path / "dataset" / "baseline" / "office", n_frames=2)
    c, _, _ = square_sequence(tmp_path / "dataset" / "shadow" / "cubicle", n_frames=2)
    (tmp_path / "dataset" / "notes").mkdir()
    assert find_sequences(tmp_path / "dataset") == [a, b, c]
    assert find_sequences(tmp_path / "dataset" / "shadow") == [c]
    assert find_sequences(a) == [a]
    with pytest.raises(EmptySourceError, match="holds none"):
        find_sequences(tmp_path / "dataset" / "notes")
    with pytest.raises(SourceNotFoundError):
        find_sequences(tmp_path / "missing")


@pytest.mark.realdata
def test_every_shared_sequence_reads(shared_data, caplog):
    expected = {
        "cdnet_baseline_highway": ((470, 1700), 1231),
        "wallflower_WavingTrees": ((247, 247), 1),
        "sbi2015_HighwayI": ((0, 439), 440),
        "sbi2015_Board": ((1, 227), 227),
        "ucsd_boats": ((1, 31), 31),
    }
    with caplog.at_level(logging.WARNING, logger="bgmix.metrics"):
        seqs = {p.name: read_sequence(p) for p in find_sequences(shared_data / "sequences")}
    assert len(seqs) >= 18
    for name, (troi, n_eval) in expected.items():
        assert seqs[name].temporal_roi == troi
        assert seqs[name].n_evaluated == n_eval
    assert seqs["cdnet_baseline_highway"].roi.all()  # palette ROI with raw indices 0
    assert "sbi2015_HighwayI" in caplog.text and "clamped" in caplog.text
