"""Segmentation of real BSDS500 photos scored against their human segmentations."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.io import read_image
from bgmix.segment import probabilistic_rand_index, segment_image, variation_of_information

IMAGES = ["100075", "12003"]


@pytest.fixture
def bsds(shared_data):
    folder = shared_data / "images" / "bsds500_train"
    if not (folder / "images").is_dir():
        pytest.skip(f"BSDS500 not found in {folder}")
    return folder


@pytest.mark.realdata
@pytest.mark.parametrize("image_id", IMAGES)
@pytest.mark.parametrize("method", ["gmm", "kmeans"])
def test_bsds_segmentation_beats_a_single_region(bsds, image_id, method):
    img = read_image(bsds / "images" / f"{image_id}.jpg")
    truths = [
        read_image(p, mode=None) for p in sorted(bsds.glob(f"groundtruth_png/{image_id}_*.png"))
    ]
    assert len(truths) >= 4 and all(t.shape == img.shape[:2] for t in truths)
    res = segment_image(
        img,
        5,
        method=method,
        color_space="lab",
        spatial_weight=1.0,
        max_samples=20_000,
        random_state=0,
    )
    pri = probabilistic_rand_index(res.labels, truths)
    voi = variation_of_information(res.labels, truths)
    single = np.zeros(img.shape[:2], np.int32)
    assert 0.0 < pri <= 1.0 and voi > 0.0
    # better than (or for VoI, not much worse than) putting the whole photo in one region
    assert pri > probabilistic_rand_index(single, truths)
    assert np.unique(res.labels).size == 5
