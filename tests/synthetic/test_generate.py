"""generate(): API, shapes, determinism, random access, validation."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

import bgmix
from bgmix.exceptions import ParameterError
from bgmix.synthetic import (
    OPTION_DOCS,
    SCENARIOS,
    FrameRecord,
    SceneOptions,
    SyntheticScene,
    generate,
)

KINDS = list(SCENARIOS)
LABELS = {0, 50, 85, 170, 255}


def test_scenarios_lists_every_kind_with_a_description():
    assert KINDS == [
        "baseline",
        "dynamic",
        "illumination-gradual",
        "illumination-sudden",
        "shadows",
        "jitter",
        "stopped-object",
        "noise",
        "mixed",
    ]
    assert all(isinstance(v, str) and 10 < len(v) < 90 for v in SCENARIOS.values())
    assert bgmix.synthetic.generate is generate  # reachable lazily from the package


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_documented_shapes_dtypes_and_labels(kind):
    scene = generate(kind, width=48, height=36, n_frames=6, seed=3)
    assert isinstance(scene, SyntheticScene)
    assert (scene.kind, scene.width, scene.height, scene.n_frames) == (kind, 48, 36, 6)
    assert len(scene) == 6 and scene.shape == (36, 48, 3)
    frames, truth = scene.to_arrays()
    assert frames.shape == (6, 36, 48, 3) and frames.dtype == np.uint8
    assert truth.shape == (6, 36, 48) and truth.dtype == np.uint8
    assert set(np.unique(truth)) <= LABELS
    rec = scene.frame(2)
    assert isinstance(rec, FrameRecord) and rec.index == 2 and rec.number == 3
    assert rec.image.shape == (36, 48, 3) and rec.background.shape == (36, 48, 3)
    assert rec.background.dtype == np.uint8 and rec.groundtruth.dtype == np.uint8
    bg = scene.background
    assert bg.shape == (36, 48, 3) and bg.dtype == np.uint8 and not bg.flags.writeable
    assert scene.roi.shape == (36, 48) and scene.roi.dtype == bool and scene.roi.all()
    first, last = scene.temporal_roi
    assert 0 <= first <= last == 5


def test_default_sizes_per_kind():
    assert (generate("baseline").width, generate("baseline").height) == (160, 120)
    assert generate("baseline").n_frames == 300
    mixed = generate("mixed")
    assert (mixed.width, mixed.height, mixed.n_frames) == (320, 240, 400)
    assert generate("stopped-object").n_frames == 400


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_identical_bytes(kind):
    a = generate(kind, width=40, height=30, n_frames=5, seed=11).to_arrays()
    b = generate(kind, width=40, height=30, n_frames=5, seed=11).to_arrays()
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()


@pytest.mark.parametrize("kind", ["baseline", "noise", "dynamic"])
def test_different_seeds_give_different_scenes(kind):
    a = generate(kind, width=40, height=30, n_frames=3, seed=1).frame(2)
    b = generate(kind, width=40, height=30, n_frames=3, seed=2).frame(2)
    assert not np.array_equal(a.image, b.image)
    assert not np.array_equal(a.background, b.background)


def test_generator_seed_is_reproducible_through_the_recorded_int():
    s1 = generate("baseline", n_frames=4, seed=np.random.default_rng(123))
    s2 = generate("baseline", n_frames=4, seed=np.random.default_rng(123))
    assert s1.seed == s2.seed and isinstance(s1.seed, int)
    again = generate("baseline", n_frames=4, seed=s1.seed)
    np.testing.assert_array_equal(s1.frame(3).image, again.frame(3).image)


@pytest.mark.parametrize("kind", ["mixed", "jitter", "stopped-object"])
def test_random_access_equals_iteration(kind):
    scene = generate(kind, width=64, height=48, n_frames=40, seed=5)
    records = list(scene)
    assert [r.index for r in records] == list(range(40))
    fresh = generate(kind, width=64, height=48, n_frames=40, seed=5)
    for t in (39, 0, 17, 17, 33):  # out of order, repeated, on a fresh scene
        rec = fresh.frame(t)
        np.testing.assert_array_equal(rec.image, records[t].image)
        np.testing.assert_array_equal(rec.groundtruth, records[t].groundtruth)
        np.testing.assert_array_equal(rec.background, records[t].background)
    np.testing.assert_array_equal(fresh.frame(-1).image, records[-1].image)
    np.testing.assert_array_equal(fresh[5].image, records[5].image)
    frames, truth = fresh.to_arrays(10, 13)
    assert frames.shape[0] == 3
    np.testing.assert_array_equal(frames[1], records[11].image)
    np.testing.assert_array_equal(truth[2], records[12].groundtruth)


def test_long_scene_costs_constant_memory_and_any_frame_is_reachable():
    scene = generate("baseline", n_frames=100_000, seed=4)

    def peak(t):
        tracemalloc.start()
        rec = scene.frame(t)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return rec, top

    scene.frame(60)  # warm caches
    _, early = peak(60)
    late_rec, late = peak(99_990)
    assert late < 2 * early + 200_000
    assert late_rec.index == 99_990 and set(np.unique(late_rec.groundtruth)) <= LABELS
    # objects are still coming late in the scene
    objects = sum((scene.frame(t).groundtruth == 255).any() for t in range(99_000, 99_999, 50))
    assert objects >= 10


@pytest.mark.parametrize("kind", KINDS)
def test_odd_small_sizes_work(kind):
    scene = generate(kind, width=33, height=17, n_frames=8, seed=0)
    frames, truth = scene.to_arrays()
    assert frames.shape == (8, 17, 33, 3) and truth.shape == (8, 17, 33)
    assert set(np.unique(truth)) <= LABELS
    assert scene.dynamic_region.shape == (17, 33)


def test_frame_index_errors():
    scene = generate("baseline", n_frames=5)
    for bad in (5, -6, 100):
        with pytest.raises(ParameterError, match=r"frame index t must be in \[-5, 4\]"):
            scene.frame(bad)
        with pytest.raises(IndexError):
            scene[bad]
    for bad in (1.0, "2", None, True):
        with pytest.raises(ParameterError, match="frame index t must be an integer"):
            scene.frame(bad)


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(ParameterError) as info:
        generate("rain")
    msg = str(info.value)
    assert "'rain'" in msg and all(k in msg for k in KINDS)
    with pytest.raises(ParameterError, match="unknown scene kind"):
        generate(None)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"width": 7}, "width"),
        ({"width": 9000}, "width"),
        ({"height": 2.5}, "height"),
        ({"n_frames": 0}, "n_frames"),
        ({"seed": -1}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"noise_sigma": -1}, "noise_sigma"),
        ({"noise_sigma": float("nan")}, "noise_sigma"),
        ({"salt_pepper": 0.7}, "salt_pepper"),
        ({"object_rate": -0.1}, "object_rate"),
        ({"people_fraction": 1.5}, "people_fraction"),
        ({"speed_scale": 0}, "speed_scale"),
        ({"shadows": 1}, "shadows"),
        ({"water": "yes"}, "water"),
        ({"shadow_strength": 0.5}, "shadow_strength"),
        ({"shadow_strength": (0.8, 0.4)}, "shadow_strength"),
        ({"shadow_strength": (0.0, 0.5)}, r"shadow_strength\[0\]"),
        ({"illumination": "flicker"}, "illumination"),
        ({"gain_end": 0}, "gain_end"),
        ({"switch_frame": 10}, "switch_frame"),  # only with illumination='sudden'
        ({"illumination": "sudden", "switch_frame": 0}, "switch_frame"),
        ({"illumination": "sudden", "switch_frame": 20}, "switch_frame"),
        ({"jitter": 20}, "jitter"),
        ({"stop_frame": 20}, "stop_frame"),
        ({"stop_duration": 5}, "stop_duration"),
        ({"stop_frame": 3, "stop_duration": 0}, "stop_duration"),
        ({"warmup": 20}, "warmup"),
        ({"roi": 10}, "roi"),
        ({"roi": np.ones((5, 5), bool)}, "roi"),
        ({"roi": np.zeros((12, 16), bool)}, "roi"),
        ({"roi": "all"}, "roi"),
        ({"colour": 3}, "colour"),
    ],
)
def test_bad_parameters_raise_parameter_error_naming_them(kwargs, name):
    base = {"width": 16, "height": 12, "n_frames": 20}
    with pytest.raises(ParameterError, match=name):
        generate("baseline", **{**base, **kwargs})


def test_unknown_option_message_lists_valid_options():
    with pytest.raises(ParameterError) as info:
        generate("baseline", nosie_sigma=3)
    assert "'nosie_sigma'" in str(info.value) and "noise_sigma" in str(info.value)
    assert set(OPTION_DOCS) == {f for f in SceneOptions.__dataclass_fields__}


def test_parameter_error_is_a_value_error():
    with pytest.raises(ValueError):
        generate("baseline", jitter=-1)


def test_options_combine_and_are_recorded():
    scene = generate("baseline", n_frames=10, shadows=True, jitter=1.5, roi=2, warmup=3)
    o = scene.options
    assert o.shadows and o.jitter == 1.5 and o.warmup == 3 and o.roi == 2
    assert scene.temporal_roi == (3, 9)
    params = scene.parameters
    json.dumps(params)  # JSON-compatible
    assert params["kind"] == "baseline" and params["options"]["jitter"] == 1.5
    assert params["seed"] == 0 and params["n_frames"] == 10
    assert "SyntheticScene(kind='baseline'" in repr(scene)


def test_stopped_object_without_a_stop_drops_the_duration():
    scene = generate("stopped-object", n_frames=20, stop_frame=None)
    assert scene.options.stop_frame is None and scene.options.stop_duration is None


def test_roi_border_and_mask_give_85_outside():
    scene = generate("baseline", width=40, height=30, n_frames=3, roi=3)
    gt = scene.frame(2).groundtruth
    assert (gt[:3] == 85).all() and (gt[:, -3:] == 85).all()
    assert not (gt[3:-3, 3:-3] == 85).any()
    mask = np.zeros((30, 40), bool)
    mask[5:20, 10:30] = True
    scene = generate("baseline", width=40, height=30, n_frames=3, roi=mask)
    assert np.array_equal(scene.roi, mask) and not scene.roi.flags.writeable
    assert np.array_equal(scene.frame(1).groundtruth == 85, ~mask)
    assert scene.parameters["options"]["roi"] == "custom"


def test_default_warmup_and_temporal_roi():
    assert generate("baseline").temporal_roi == (60, 299)
    assert generate("baseline", n_frames=100).temporal_roi == (20, 99)
    assert generate("baseline", n_frames=1).temporal_roi == (0, 0)


def test_scenes_pickle_for_parallel_workers():
    import pickle

    scene = generate("mixed", width=64, height=48, n_frames=30, seed=6)
    want = scene.frame(20)
    clone = pickle.loads(pickle.dumps(scene))
    np.testing.assert_array_equal(clone.frame(20).image, want.image)
    np.testing.assert_array_equal(clone.frame(20).groundtruth, want.groundtruth)
