"""The shared batch machinery: frame collection, spilling to disk, blocks of rows, memory."""

from __future__ import annotations

import tempfile
import tracemalloc

import numpy as np
import pytest

from bgmix.background import make_subtractor
from bgmix.background._batch import FrameStack, collect_frames, row_blocks
from bgmix.exceptions import (
    EmptySourceError,
    FrameFormatError,
    FrameSizeError,
    InputError,
    ParameterError,
)
from tests.conftest import moving_square

BATCH = ["em", "kmeans", "median", "mean"]
STATE = {
    "em": ("weights_", "means_", "covariances_", "n_iter_", "converged_", "lower_bound_"),
    "kmeans": ("centers_", "weights_", "n_iter_"),
    "median": ("_median",),
    "mean": ("_mean", "_count"),
}
SMALL = {"em": {"n_components": 2}, "kmeans": {"n_clusters": 2}}


def _frames_gen(frames):
    for f in frames:
        yield f.copy()


# ---------------------------------------------------------------------- collect_frames
def test_uint8_array_is_used_in_place():
    frames, _ = moving_square(n_frames=5)
    with collect_frames(frames, max_bytes=1) as stack:
        assert stack.shape == (5, 24, 32, 3) and stack.dtype == np.uint8
        assert not stack.spilled and stack.in_memory_array
        assert np.shares_memory(stack.block(0, 24), frames)


def test_grey_array_gets_one_channel():
    frames, _ = moving_square(n_frames=4, channels=1)
    with collect_frames(frames, max_bytes=1 << 20) as stack:
        assert stack.shape == (4, 24, 32, 1)
        np.testing.assert_array_equal(stack.block(3, 7)[..., 0], frames[:, 3:7])


def test_iterable_is_kept_in_memory_below_the_budget():
    frames, _ = moving_square(n_frames=6)
    with collect_frames(_frames_gen(frames), max_bytes=1 << 20) as stack:
        assert not stack.spilled and stack.shape == (6, 24, 32, 3)
        np.testing.assert_array_equal(stack.block(5, 9), frames[:, 5:9])


def test_iterable_spills_to_a_temporary_file_that_is_removed(tmp_path):
    frames, _ = moving_square(n_frames=9)
    stack = collect_frames(_frames_gen(frames), max_bytes=3 * frames[0].nbytes, spill_dir=tmp_path)
    with stack:
        assert stack.spilled
        assert len(list(tmp_path.iterdir())) == 1
        np.testing.assert_array_equal(stack.block(0, 24), frames)
        np.testing.assert_array_equal(stack.head(4).block(2, 5), frames[:4, 2:5])
    assert list(tmp_path.iterdir()) == []


def test_spill_file_is_removed_when_a_frame_is_bad(tmp_path):
    frames, _ = moving_square(n_frames=6)
    bad = [*list(frames[:5]), frames[5][:-1]]
    with pytest.raises(FrameSizeError, match="frame 5"):
        collect_frames(iter(bad), max_bytes=frames[0].nbytes, spill_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_float_frames_are_validated_and_scaled():
    frames, _ = moving_square(n_frames=4)
    with collect_frames(frames.astype(np.float32) / 255.0, max_bytes=1 << 20) as stack:
        assert stack.dtype == np.float32
        np.testing.assert_allclose(stack.block(0, 24), frames, atol=1e-3)
    bad = frames.astype(np.float32) / 255.0
    bad[2, 0, 0, 0] = np.nan
    with pytest.raises(FrameFormatError, match=r"frame 2.*NaN"):
        collect_frames(bad, max_bytes=1 << 20)


def test_mixed_dtypes_follow_the_first_frame():
    frames, _ = moving_square(n_frames=3)
    mixed = [frames[0], frames[1].astype(np.float32) / 255.0, frames[2]]
    with collect_frames(mixed, max_bytes=1 << 20) as stack:
        assert stack.dtype == np.uint8
        np.testing.assert_array_equal(stack.block(0, 24), frames)


@pytest.mark.parametrize(
    ("frames", "error", "match"),
    [
        (np.zeros((0, 4, 4, 3), np.uint8), EmptySourceError, "no frames"),
        (iter([]), EmptySourceError, "no frames"),
        (np.zeros((2, 2, 4, 4, 3), np.uint8), FrameFormatError, "shape"),
        (np.zeros((3, 4, 4, 3), np.int16), FrameFormatError, "frame 0: dtype"),
        (np.zeros((3, 4, 4, 4), np.uint8), FrameFormatError, "channels"),
        ([np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8)], FrameSizeError, "frame 1"),
        ([np.zeros((4, 4), np.uint8)] * 2 + ["x"], FrameFormatError, "frame 2"),
        ("video.mp4", InputError, "open_source"),
        (42, FrameFormatError, "int"),
    ],
)
def test_bad_training_frames_raise_specific_errors(frames, error, match):
    with pytest.raises(error, match=match):
        collect_frames(frames, max_bytes=1 << 20)


def test_row_blocks_cover_every_row_once():
    assert list(row_blocks(7, 3)) == [(0, 3), (3, 6), (6, 7)]
    assert list(row_blocks(4, 10)) == [(0, 4)]


# ---------------------------------------------------------------------- models
@pytest.mark.parametrize("name", BATCH)
def test_block_and_spill_paths_give_the_same_model_as_the_in_memory_path(
    name, tmp_path, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    frames, _ = moving_square(n_frames=10, height=17, width=13, seed=4)
    ref = make_subtractor(name, **SMALL.get(name, {})).fit(frames)
    rows = make_subtractor(name, block_rows=4, **SMALL.get(name, {})).fit(frames)
    tiny = frames[0].nbytes * 3 / (1 << 20)  # RAM budget: 1.5 frames, blocks of ~2 rows
    spilled = make_subtractor(name, max_memory=tiny, **SMALL.get(name, {})).fit(_frames_gen(frames))
    for other in (rows, spilled):
        for attr in STATE[name]:
            np.testing.assert_array_equal(getattr(other, attr), getattr(ref, attr), err_msg=attr)
        np.testing.assert_array_equal(
            other.apply(frames[3], learning_rate=0), ref.apply(frames[3], learning_rate=0)
        )
    assert list(tmp_path.iterdir()) == []  # the spilled frames were removed


@pytest.mark.parametrize("name", ["em", "median"])
def test_peak_extra_memory_of_a_spilled_fit_is_bounded(name):
    h, w, t = 60, 80, 48
    frame_bytes = h * w * 3
    total = t * frame_bytes  # 691 kB of frames
    budget = total / 8  # max_memory: 1/8 of the frames

    def frames():
        rng = np.random.default_rng(0)
        base = rng.integers(0, 200, size=(h, w, 3), dtype=np.uint8)
        for i in range(t):
            f = base.copy()
            f[10:20, i : i + 10] = 250
            yield f

    sub = make_subtractor(name, max_memory=budget / (1 << 20), **SMALL.get(name, {}))
    sub.fit(np.stack(list(frames())))  # compile the kernels outside the measurement
    tracemalloc.start()
    try:
        sub.fit(frames())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    model = sum(np.asarray(getattr(sub, a)).nbytes for a in STATE[name])
    # the documented bound: max_memory + the model, plus a few frames in flight
    assert peak <= budget + model + 4 * frame_bytes + 64 * 1024, (peak, budget, model)
    assert peak < total  # far below holding the frames


def test_em_needs_two_frames_and_median_one():
    frames, _ = moving_square(n_frames=1)
    with pytest.raises(InputError, match="at least 2 training frames, got 1"):
        make_subtractor("em").fit(frames)
    with pytest.raises(InputError, match="at least 2"):
        make_subtractor("kmeans").fit(frames)
    bg = make_subtractor("median").fit(frames).get_background_image()
    np.testing.assert_array_equal(bg, frames[0])


@pytest.mark.parametrize("name", BATCH)
def test_a_failed_fit_leaves_the_previous_model(name):
    frames, _ = moving_square(n_frames=6)
    sub = make_subtractor(name, **SMALL.get(name, {})).fit(frames)
    before = sub.get_background_image().copy()
    bad = [*list(frames[:3]), frames[0][:, :-1]]
    with pytest.raises(FrameSizeError, match="frame 3"):
        sub.fit(bad)
    np.testing.assert_array_equal(sub.get_background_image(), before)
    assert sub.apply(frames[0]).shape == frames.shape[1:3]


@pytest.mark.parametrize("name", BATCH)
def test_refit_on_another_size_replaces_the_model(name):
    frames, _ = moving_square(n_frames=6)
    small, _ = moving_square(n_frames=6, height=10, width=12, channels=1)
    sub = make_subtractor(name, **SMALL.get(name, {})).fit(frames)
    sub.apply(frames[0])
    sub.fit(small)
    assert sub.frame_shape == (10, 12, 1) and sub.n_frames == 0
    assert sub.get_background_image().shape == (10, 12)


@pytest.mark.parametrize("name", BATCH)
def test_thread_count_does_not_change_the_model(name):
    frames, _ = moving_square(n_frames=8, seed=2)
    one = make_subtractor(name, n_jobs=1, **SMALL.get(name, {})).fit(frames)
    many = make_subtractor(name, n_jobs=-1, **SMALL.get(name, {})).fit(frames)
    for attr in STATE[name]:
        np.testing.assert_array_equal(getattr(one, attr), getattr(many, attr))


@pytest.mark.parametrize("name", BATCH)
@pytest.mark.parametrize(
    ("param", "value"),
    [("max_memory", 0), ("block_rows", 0), ("n_jobs", 0), ("n_jobs", 1.5), ("block_rows", 1.5)],
)
def test_memory_and_thread_parameters_are_validated(name, param, value):
    with pytest.raises(ParameterError, match=param):
        make_subtractor(name, **{param: value})


@pytest.mark.parametrize("name", BATCH)
def test_n_jobs_follows_the_one_rule(name):
    from bgmix._threads import resolve_n_jobs

    for n_jobs in (None, -1, -2, 1, 2):
        sub = make_subtractor(name, n_jobs=n_jobs)
        assert sub._n_threads == resolve_n_jobs(n_jobs)


@pytest.mark.parametrize("name", ["em", "kmeans"])
def test_generator_random_state_is_saved_as_none_and_the_fit_survives(name, tmp_path):
    frames, _ = moving_square(n_frames=8)
    rng = np.random.default_rng(3)
    sub = make_subtractor(name, init="random", random_state=rng).fit(frames)
    sub.save(tmp_path / "m.npz")
    assert sub.random_state is rng
    from bgmix.background import load_subtractor

    loaded = load_subtractor(tmp_path / "m.npz")
    assert loaded.random_state is None
    np.testing.assert_array_equal(loaded.get_background_image(), sub.get_background_image())
    for frame in frames:
        np.testing.assert_array_equal(loaded.apply(frame), sub.apply(frame))


def test_frame_stack_head_shares_the_parent_storage(tmp_path):
    frames, _ = moving_square(n_frames=5)
    stack = collect_frames(_frames_gen(frames), max_bytes=frames[0].nbytes, spill_dir=tmp_path)
    head = stack.head(2)
    assert isinstance(head, FrameStack) and head.shape[0] == 2
    head.close()
    assert len(list(tmp_path.iterdir())) == 1  # only the parent removes the file
    stack.close()
    assert list(tmp_path.iterdir()) == []
