"""Frame I/O on the shared real data (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.io import list_numbered_images, open_source, read_frames

pytestmark = pytest.mark.realdata


def test_vtest_avi_matches_opencv(shared_data: Path) -> None:
    path = shared_data / "videos" / "vtest.avi"
    with open_source(path, stop=40) as src:
        assert (src.info.width, src.info.height, src.info.fps) == (768, 576, 10.0)
        assert src.info.frame_count == 40
        ours = list(src)
    cap = cv2.VideoCapture(str(path))
    try:
        for i, frame in enumerate(ours):
            ok, bgr = cap.read()
            assert ok
            theirs = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            diff = np.abs(frame.astype(int) - theirs)
            assert diff.mean() < 1.5, (i, diff.mean())  # chroma upsampling differs slightly
    finally:
        cap.release()


def test_vtest_frame_count_is_the_decoded_count(shared_data: Path) -> None:
    path = shared_data / "videos" / "vtest.avi"
    with open_source(path, grey=True, scale=0.25) as src:
        n = sum(1 for _ in src)
        assert n == src.info.frame_count == 795
        assert src.info.shape == (144, 192)


def test_cdnet_input_folder_numbering(shared_data: Path) -> None:
    folder = shared_data / "sequences" / "cdnet_baseline_highway" / "input"
    with open_source(folder, start=469, stop=472) as src:
        numbers = [n for n, _ in src.numbered()]
        assert src.info.shape == (240, 320, 3)
    assert numbers == [470, 471, 472]  # files start at in000001.jpg


def test_cdnet_groundtruth_palette_masks(shared_data: Path) -> None:
    folder = shared_data / "sequences" / "cdnet_baseline_highway" / "groundtruth"
    masks = read_frames(folder, start=900, max_frames=5)
    assert masks.ndim == 3  # grey, through the palette
    assert set(np.unique(masks)) <= {0, 50, 85, 170, 255}


def test_ucsd_grey_folder_in_numeric_order(shared_data: Path) -> None:
    folder = shared_data / "sequences" / "ucsd_birds" / "input"
    with open_source(folder) as src:
        numbers = [n for n, _ in src.numbered()]
        assert src.info.channels == 1
    assert numbers == sorted(numbers) and numbers[:3] == [1, 2, 3]
    assert len(numbers) == len(list_numbered_images(folder))


def test_wallflower_bmp_folder(shared_data: Path) -> None:
    frames = read_frames(shared_data / "sequences" / "wallflower_WavingTrees" / "input", stride=50)
    assert frames.shape == (6, 120, 160, 3)


def test_avi_with_a_wrong_header_count(shared_data: Path, caplog) -> None:
    # tree.avi's header announces 444 frames; its index and its stream hold 68
    with open_source(shared_data / "videos" / "tree.avi") as src:
        assert src.info.frame_count == 68
        assert sum(1 for _ in src) == 68
    assert not [r for r in caplog.records if "announces" in r.getMessage()]
