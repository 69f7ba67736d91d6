"""The machinery shared by the online mixtures: stop-and-stay hold, threads, memory."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.background import make_subtractor
from bgmix.synthetic import generate

ONLINE = ["mog", "mog2", "gmm-full"]
# Fast-learning settings, so that the test clip can be short.
FAST = {
    "mog": {"history": 20},
    "mog2": {"history": 20},
    "gmm-full": {"alpha": 0.05, "random_state": 0},
}


def parked_car(n_frames=120, stop=30, seed=0):
    """Noisy static background; a bright box slides in, stops at ``stop`` and stays."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 120, size=(24, 32, 3)).astype(float)
    frames = np.empty((n_frames, 24, 32, 3), np.uint8)
    for t in range(n_frames):
        img = bg + rng.normal(0, 2.0, size=bg.shape)
        x0 = min(t, stop) * 16 // stop - 8  # from x=-8 to x=8, then parked
        lo = max(x0, 0)
        img[8:16, lo : x0 + 10] = (230, 200, 40)
        frames[t] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    region = np.zeros((24, 32), bool)
    region[8:16, 8:18] = True
    return frames, region


def foreground_share(name, frames, region, **params):
    sub = make_subtractor(name, **FAST[name], postprocess=None, **params)
    return np.array([np.mean(sub.apply(f)[region] == 255) for f in frames])


@pytest.mark.parametrize("name", ONLINE)
def test_hold_keeps_the_parked_object_for_hold_frames(name):
    frames, region = parked_car()
    stop, hold = 30, 60
    plain = foreground_share(name, frames, region)
    held = foreground_share(name, frames, region, hold_frames=hold)
    # Without the hold, the fast-learning model absorbs the parked car well before
    # `hold` frames; with it, the car stays foreground for the whole hold time...
    assert plain[stop + hold // 2 :].max() < 0.5
    assert held[stop : stop + hold // 2].min() > 0.9
    # ... and is absorbed afterwards, at the model's own pace.
    assert held[-1] < 0.5


@pytest.mark.parametrize("name", ONLINE)
def test_hold_does_not_change_a_scene_without_stopped_objects(name):
    frames, _ = generate("baseline", width=48, height=32, n_frames=25, seed=3).to_arrays()
    region = np.ones(frames.shape[1:3], bool)
    plain = foreground_share(name, frames, region)
    held = foreground_share(name, frames, region, hold_frames=5)
    # Moving traffic is held only where it lingers: the masks stay close.
    assert np.abs(plain - held)[5:].mean() < 0.03


@pytest.mark.parametrize("name", ONLINE)
def test_hold_counters_reset_on_background(name):
    frames, region = parked_car(n_frames=50, stop=10)
    sub = make_subtractor(name, **FAST[name], hold_frames=1000, postprocess=None)
    for f in frames:
        sub.apply(f)
    counts = sub._hold
    assert counts[region].min() >= 35  # the parked car's pixels keep counting
    assert np.median(counts[~region]) == 0  # the background's pixels do not


def test_stopped_object_scene_is_held_much_longer():
    scene = generate("stopped-object", seed=0)
    frames, truth = scene.to_arrays()
    stop, duration = scene.options.stop_frame, scene.options.stop_duration
    region = np.all(truth[stop + 5 : stop + duration - 5] == 255, axis=0)
    assert region.sum() > 100
    sub_plain = make_subtractor("mog2", n_jobs=1)
    sub_held = make_subtractor("mog2", n_jobs=1, hold_frames=150)
    plain, held = [], []
    for f in frames[: stop + 120]:
        plain.append(np.mean(sub_plain.apply(f)[region] == 255))
        held.append(np.mean(sub_held.apply(f)[region] == 255))
    assert np.mean(plain[stop : stop + 120]) < 0.3
    assert np.min(held[stop : stop + 120]) > 0.9


# Python >= 3.12 warns that forking a multi-threaded process may deadlock: that is
# exactly the situation this test checks bgmix handles.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_row_threads_work_in_a_forked_child():
    import multiprocessing as mp

    frames, _ = generate("baseline", width=32, height=32, n_frames=3, seed=0).to_arrays()
    sub = make_subtractor("mog2", n_jobs=2)
    sub.apply(frames[0])  # the parent's pool exists now
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        masks = pool.apply_async(_child_masks, (frames,)).get(timeout=60)
    assert len(masks) == 3 and all(m.shape == (32, 32) for m in masks)


def _child_masks(frames):
    sub = make_subtractor("mog2", n_jobs=2)
    return [sub.apply(f) for f in frames]
