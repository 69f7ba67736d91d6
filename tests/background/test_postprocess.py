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


def test_reach_is_the_sum_of_the_radii_of_the_local_steps():
    assert PostProcess(median=5).reach == 2
    assert PostProcess(median=3, open=2, close=1).reach == 1 + 4 + 2
    assert PostProcess(median=5, fill_holes=True).reach == 2
    assert PostProcess(min_area=4).reach == 0


def _holes_oracle(mask):
    """Slow hole filling: a breadth-first walk (4-neighbours) from every border pixel
    that is not foreground; the non-foreground pixels it does not reach become 255."""
    from collections import deque

    h, w = mask.shape
    seen = np.zeros((h, w), bool)
    todo = deque(
        (y, x)
        for y in range(h)
        for x in range(w)
        if (y in (0, h - 1) or x in (0, w - 1)) and mask[y, x] != 255
    )
    for y, x in todo:
        seen[y, x] = True
    while todo:
        y, x = todo.popleft()
        for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < h and 0 <= xx < w and not seen[yy, xx] and mask[yy, xx] != 255:
                seen[yy, xx] = True
                todo.append((yy, xx))
    out = mask.copy()
    out[(mask != 255) & ~seen] = 255
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (12, 17), (40, 33)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hole_filling_matches_a_breadth_first_oracle(shape, seed):
    import cv2

    m = _mask(shape, seed)
    m[m == 0] = np.where(np.random.default_rng(seed).random((m == 0).sum()) < 0.3, 0, 255)
    if min(shape) > 4:  # larger blobs with real holes
        m = cv2.resize(m[::3, ::3], shape[::-1], interpolation=cv2.INTER_NEAREST)
    got = PostProcess(fill_holes=True).apply(m)
    want = _holes_oracle(m)
    assert np.array_equal(got, want)
    assert set(np.unique(got)) <= {0, 127, 255}


def test_apply_of_a_subtractor_equals_postprocess_mask_of_apply_raw():
    frames, _ = bgmix.synthetic.generate(
        "baseline", width=320, height=240, n_frames=6, seed=1
    ).to_arrays()
    a = bgmix.make_subtractor("mog2", n_jobs=2)
    b = bgmix.make_subtractor("mog2", n_jobs=2)
    for f in frames:
        assert np.array_equal(a.apply(f), b.postprocess_mask(b.apply_raw(f)))
