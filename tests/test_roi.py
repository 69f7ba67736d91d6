"""Regions of interest (``bgmix._roi``, shared by ``subtract`` and ``events``): parsing
and rasterising to the analysed frame size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bgmix._roi import as_roi, check_roi
from bgmix.exceptions import ParameterError, SourceNotFoundError


def test_rectangle_from_two_points_covers_its_pixels():
    mask = as_roi("10,20 30,40", frame_size=(100, 80))
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 30, 20, 40)


def test_polygon_scaled_to_the_analysed_size():
    # left half of 400x200, analysed at 100x50
    mask = as_roi("0,0 200,0 200,200 0,200", frame_size=(100, 50), source_size=(400, 200))
    assert mask.shape == (50, 100)
    assert mask[:, :49].all() and not mask[:, 52:].any()


def test_several_polygons_are_a_union():
    mask = as_roi(["0,0 10,0 10,10", "50,50 60,50 60,60 50,60"], frame_size=(64, 64))
    assert mask[2, 8] and mask[55, 55] and not mask[30, 30]


def test_file_of_polygons_and_mask_image(tmp_path):
    f = tmp_path / "roi.txt"
    f.write_text("# the door\n0,0 10,0 10,10 0,10\n\n20,20 30,30\n")
    mask = as_roi(str(f), frame_size=(64, 64))
    assert mask[5, 5] and mask[25, 25] and not mask[15, 15]  # both polygons, nothing else
    img = np.zeros((40, 60), np.uint8)
    img[5:15, 10:30] = 255
    Image.fromarray(img).save(tmp_path / "roi.png")
    mask = as_roi(str(tmp_path / "roi.png"), frame_size=(30, 20), source_size=(60, 40))
    assert mask.sum() == 5 * 10 and mask[3, 6]


@pytest.mark.parametrize(
    ("spec", "match"),
    [("1,2 3", "not a point"), ("1,2", "at least 3"), ("a,b c,d e,f", "not a point")],
)
def test_malformed_polygons(spec, match):
    with pytest.raises(ParameterError, match=match):
        check_roi(spec)


def test_region_outside_the_frame_is_an_error():
    with pytest.raises(ParameterError, match=r"outside the 64x48 frame"):
        as_roi("0,0 100,0 100,10", frame_size=(64, 48))


def test_mask_of_another_size_and_empty_region():
    with pytest.raises(ParameterError, match="roi mask is 10x10"):
        as_roi(np.ones((10, 10), bool), frame_size=(20, 20))
    with pytest.raises(ParameterError, match="no pixel"):
        as_roi(np.zeros((20, 20), bool), frame_size=(20, 20))


def test_missing_file():
    with pytest.raises(SourceNotFoundError):
        check_roi("nope/roi.png")
