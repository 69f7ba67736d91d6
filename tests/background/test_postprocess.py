"""Post-processing: the steps against OpenCV applied in one piece, and row bands."""

import numpy as np
import pytest

import bgmix
from bgmix.background._postprocess import PostProcess


def _mask(shape, seed=0):
    rng = np.random.default_rng(seed)
    m = (rng.random(shape) < 0.3).astype(np.uint8) * 255
    m[rng.random(shape) < 0.05] = 127
    return m


@pytest.mark.parametrize("shape", [(480, 640), (300, 400), (37, 53), (700, 20)])
@pytest.mark.parametrize(
    "pp",
    [
        PostProcess(median=5),
        PostProcess(median=3, open=2, close=1),
        PostProcess(close=3),
        PostProcess(median=5, fill_holes=True),
        PostProcess(open=1, min_area=9),
    ],
)
@pytest.mark.parametrize("n_jobs", [2, 3, 5, -1])
def test_bands_give_the_one_piece_result_bit_for_bit(shape, pp, n_jobs):
    m = _mask(shape)
    assert np.array_equal(pp.apply(m, n_jobs=n_jobs), pp.apply(m, n_jobs=1))


def test_one_piece_is_opencv_median():
    import cv2

    m = _mask((480, 640), seed=3)
    assert np.array_equal(PostProcess(median=5).apply(m, n_jobs=2), cv2.medianBlur(m, 5))


def test_reach_is_the_sum_of_the_radii_and_none_for_global_steps():
    assert PostProcess(median=5).reach == 2
    assert PostProcess(median=3, open=2, close=1).reach == 1 + 4 + 2
    assert PostProcess(median=5, fill_holes=True).reach is None
    assert PostProcess(min_area=4).reach is None


def test_apply_of_a_subtractor_equals_postprocess_mask_of_apply_raw():
    frames, _ = bgmix.synthetic.generate(
        "baseline", width=320, height=240, n_frames=6, seed=1
    ).to_arrays()
    a = bgmix.make_subtractor("mog2", n_jobs=2)
    b = bgmix.make_subtractor("mog2", n_jobs=2)
    for f in frames:
        assert np.array_equal(a.apply(f), b.postprocess_mask(b.apply_raw(f)))
