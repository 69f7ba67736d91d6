"""The ground truth is exact, and each kind has the property it is documented to have."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgmix.synthetic import SCENARIOS, generate
from bgmix.synthetic._objects import _geometry, render_actor
from bgmix.synthetic._shapes import union

KINDS = list(SCENARIOS)


def _clean(kind, **kw):
    """The scene without sensor noise, so that frames can be compared exactly."""
    opts = {
        "width": 96,
        "height": 72,
        "n_frames": 80,
        "seed": 2,
        "noise_sigma": 0.0,
        "salt_pepper": 0.0,
        "object_rate": 8.0,
    } | kw
    return generate(kind, **opts)


# ---------------------------------------------------------------- exactness
@pytest.mark.parametrize("kind", KINDS)
def test_pixels_labelled_background_show_the_true_background_exactly(kind):
    scene = _clean(kind)
    n255 = changed255 = 0
    for t in range(0, scene.n_frames, 7):
        rec = scene.frame(t)
        gt, img, bg = rec.groundtruth, rec.image.astype(int), rec.background.astype(int)
        zero = gt == 0
        assert np.array_equal(img[zero], bg[zero]), f"frame {t}: a GT-0 pixel differs"
        fg = gt == 255
        n255 += fg.sum()
        changed255 += (np.abs(img - bg).max(axis=2)[fg] > 0).sum()
        shadow = gt == 50
        assert (img[shadow] <= bg[shadow]).all(), "shadows only darken"
    assert n255 > 0, "the test scene must contain objects"
    assert changed255 / n255 > 0.97  # object pixels differ from the background


def _supersampled_cover(actor, t, scale_of, r0, c0, h, w, n=8):
    """Fraction of each pixel's area inside the actor's union of shapes (n x n samples)."""
    _, _, _, parts, _ = _geometry(actor, t, scale_of)
    offs = (np.arange(n) + 0.5) / n - 0.5
    y = (np.arange(r0, r0 + h)[:, None] + offs[None, :]).reshape(-1, 1).astype(np.float32)
    x = (np.arange(c0, c0 + w)[:, None] + offs[None, :]).reshape(1, -1).astype(np.float32)
    inside = union(*(p.sdf(y, x) for p in parts if p.outline)) < 0
    return inside.reshape(h, n, w, n).mean(axis=(1, 3))


@pytest.mark.parametrize("kind", ["car", "van", "person", "boat"])
def test_object_coverage_matches_the_drawn_geometry(kind):
    scene = _clean("mixed", object_rate=10.0, n_frames=400, width=128, height=96)
    found = None
    for t in range(40, 400, 5):
        for actor in scene._traffic.active(t):
            if actor.kind != kind:
                continue
            sp = render_actor(actor, float(t), scene._layout.depth_scale, 96, 128)
            if sp is not None and sp.c0 > 0 and sp.c0 + sp.cover.shape[1] < 128:
                found = (actor, t, sp)  # wholly inside the frame
                break
        if found:
            break
    assert found, f"no {kind} in the test scene"
    actor, t, sp = found
    ss = _supersampled_cover(
        actor, float(t), scene._layout.depth_scale, sp.r0, sp.c0, *sp.cover.shape
    )
    full, none, band = sp.cover >= 1, sp.cover <= 0, (sp.cover > 0) & (sp.cover < 1)
    assert full.any() and band.any()
    assert ss[full].min() > 0.8  # GT 255: (almost) entirely inside the shape
    assert ss[none].max() < 0.2  # GT 0: (almost) entirely outside
    assert np.abs(ss[band] - sp.cover[band]).mean() < 0.15  # AA ramp follows the area


def _frame_area(scene, t, n=5):
    """Fraction of each pixel's area covered by some object at frame ``t`` (n x n samples),
    from the objects' shapes alone (independent of the renderer's coverage)."""
    oy, ox = scene._offset(t)
    offs = (np.arange(n) + 0.5) / n - 0.5
    h, w = scene.height, scene.width
    y = (np.arange(h)[:, None] + offs).reshape(-1, 1).astype(np.float32) - np.float32(oy)
    x = (np.arange(w)[:, None] + offs).reshape(1, -1).astype(np.float32) - np.float32(ox)
    inside = np.zeros((h * n, w * n), bool)
    for actor in scene._traffic.active(t):
        _, _, _, parts, _ = _geometry(actor, float(t), scene._layout.depth_scale)
        inside |= union(*(p.sdf(y, x) for p in parts if p.outline)) < 0
    return inside.reshape(h, n, w, n).mean(axis=(1, 3))


@pytest.mark.parametrize("kind", ["mixed", "jitter", "stopped-object"])
def test_labels_255_170_0_follow_the_area_objects_cover(kind):
    scene = _clean(kind, n_frames=300)
    counts = {255: 0, 170: 0}
    for t in range(60, 300, 40):
        gt = scene.frame(t).groundtruth
        area = _frame_area(scene, t)
        fg, band, neg = gt == 255, gt == 170, (gt == 0) | (gt == 50)
        counts[255] += fg.sum()
        counts[170] += band.sum()
        assert area[fg].min(initial=1) >= 0.75, f"frame {t}: a 255 pixel is mostly uncovered"
        assert area[neg].max(initial=0) <= 0.25, f"frame {t}: a 0/50 pixel is mostly covered"
        if band.any():
            partly = (area[band] > 0) & (area[band] < 1)
            # (a rim pixel whose covered sliver falls between the samples reads 0 or 1)
            assert partly.mean() > 0.7, f"frame {t}: 170 is not the partly covered rim"
    assert counts[255] > 200 and counts[170] > 50


def test_unknown_band_is_about_one_pixel_wide():
    # Vehicles only: a pedestrian's limbs can be narrower than a pixel, and then the
    # whole limb is partly covered (170) by definition.
    scene = _clean("baseline", people_fraction=0.0)
    for t in range(10, 80, 10):
        gt = scene.frame(t).groundtruth
        band = gt == 170
        if not band.any():
            continue
        inner = gt == 255
        outer = (gt == 0) | (gt == 50)
        near_in = np.zeros_like(band)
        near_out = np.zeros_like(band)
        padded_in = np.pad(inner, 1)
        padded_out = np.pad(outer, 1, constant_values=True)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                near_in |= padded_in[1 + dy : 1 + dy + gt.shape[0], 1 + dx : 1 + dx + gt.shape[1]]
                near_out |= padded_out[1 + dy : 1 + dy + gt.shape[0], 1 + dx : 1 + dx + gt.shape[1]]
        # every band pixel touches the outside or the object itself: no thick band
        assert (near_in | near_out)[band].all()
        assert band.sum() < inner.sum() + 200  # a thin rim, not a second object


def test_shadows_are_labelled_50_darken_by_0_4_to_0_8_and_keep_chromaticity():
    scene = _clean("shadows", n_frames=120)
    ratios, chroma_err, n50 = [], [], 0
    for t in range(20, 120, 5):
        rec = scene.frame(t)
        shadow = rec.groundtruth == 50
        n50 += shadow.sum()
        bg = rec.background.astype(float)[shadow]
        img = rec.image.astype(float)[shadow]
        ok = bg.min(axis=1) > 40
        r = img[ok] / bg[ok]
        ratios.append(r.mean(axis=1))
        chroma_err.append(np.abs(r - r.mean(axis=1, keepdims=True)).max(axis=1))
    ratios = np.concatenate(ratios)
    chroma_err = np.concatenate(chroma_err)
    assert n50 > 100
    assert ratios.min() > 0.38  # never darker than 0.4 of the brightness (+ rounding)
    assert np.quantile(ratios, 0.2) < 0.8  # umbra reaches the documented darkness
    assert ratios.max() <= 1.0
    assert np.quantile(chroma_err, 0.95) < 0.05  # same chromaticity: one factor for R, G, B
    # without the shadows option, no 50 at all
    assert not any((r.groundtruth == 50).any() for r in _clean("baseline", n_frames=40))


def test_dynamic_region_moves_but_is_background():
    scene = _clean("dynamic", object_rate=0.0, n_frames=40)
    region = scene.dynamic_region
    assert 0.1 < region.mean() < 0.6
    bgs = np.stack([scene.frame(t).background for t in range(0, 40, 2)]).astype(float)
    motion = bgs.std(axis=0).max(axis=2)
    assert np.median(motion[region]) > 3.0  # water and leaves keep moving
    assert motion[~region].max() == 0.0  # nothing else does
    for t in range(0, 40, 5):
        assert (scene.frame(t).groundtruth == 0).all()  # no object: all background


def test_dynamic_region_has_foreground_only_where_an_object_is():
    scene = _clean("dynamic", n_frames=300, object_rate=10.0)
    region = scene.dynamic_region
    seen = 0
    for t in range(0, 300, 6):
        rec = scene.frame(t)
        fg = (rec.groundtruth == 255) & region
        if fg.any():  # a boat or a passer-by: the frame really differs there
            seen += 1
            diff = np.abs(rec.image.astype(int) - rec.background.astype(int)).max(axis=2)
            assert (diff[fg] > 0).mean() > 0.95
    assert seen > 0


def _same_traffic_gt(kind, **kw):
    a = _clean(kind, **kw).to_arrays()[1]
    b = _clean("baseline").to_arrays()[1]
    return a, b


@pytest.mark.parametrize("kind", ["illumination-gradual", "illumination-sudden", "noise"])
def test_light_and_noise_do_not_change_the_ground_truth(kind):
    a, b = _same_traffic_gt(kind)
    np.testing.assert_array_equal(a, b)


def test_noise_kind_has_the_documented_noise_level():
    scene = generate("noise", width=96, height=72, n_frames=5, salt_pepper=0.0)
    rec = scene.frame(4)
    bg = rec.background.astype(float)
    keep = (rec.groundtruth == 0)[..., None] & (bg > 60) & (bg < 195)
    resid = (rec.image.astype(float) - bg)[keep]
    assert resid.std() == pytest.approx(15.0, rel=0.08)
    assert abs(resid.mean()) < 1.0
    sp = generate("noise", width=96, height=72, n_frames=5, noise_sigma=0.0).frame(3)
    extreme = ((sp.image == 0) | (sp.image == 255)).all(axis=2)
    assert 0.002 < extreme.mean() < 0.012  # 0.5 % salt and pepper (+ true black/white)


def test_sudden_illumination_steps_at_the_documented_frame():
    scene = _clean("illumination-sudden", n_frames=60)
    assert scene.options.switch_frame == 30
    means = np.array([scene.frame(t).background.mean() for t in range(60)])
    steps = np.abs(np.diff(means)) / means[:-1]
    assert steps.argmax() == 29  # between frames 29 and 30
    assert means[30] / means[29] == pytest.approx(0.55 * 0.96, rel=0.06)
    assert np.delete(steps, 29).max() < 1e-3
    moved = _clean("illumination-sudden", n_frames=60, switch_frame=12, gain_end=1.6)
    m = [moved.frame(t).background.mean() for t in (11, 12)]
    assert m[1] > 1.3 * m[0]


def test_gradual_illumination_ramps_smoothly_to_gain_end():
    scene = _clean("illumination-gradual", n_frames=60)
    base = _clean("baseline", n_frames=60)
    np.testing.assert_array_equal(scene.frame(0).background, base.frame(0).background)
    means = np.array([scene.frame(t).background.mean() for t in range(60)])
    assert (np.diff(means) <= 0.01).all()  # monotone dimming
    assert np.abs(np.diff(means)).max() / means[0] < 0.03  # no step
    assert means[-1] / means[0] == pytest.approx(0.5 * 0.93, rel=0.08)
    end = scene.background.astype(float)
    np.testing.assert_allclose(end.mean(), means[-1], rtol=0.02)  # reference = final light
    r, g, b = (
        (
            scene.frame(59).background.astype(float)
            / np.maximum(base.frame(59).background.astype(float), 1)
        )[..., :3]
        .reshape(-1, 3)
        .mean(axis=0)
    )
    assert r > g > b  # the light warms as it dims


def test_jitter_moves_the_background_and_the_objects_but_labels_only_objects():
    scene = _clean("jitter", n_frames=60)
    still = _clean("baseline", n_frames=60)
    diffs = [
        np.abs(scene.frame(t).background.astype(int) - scene.frame(t + 1).background).mean()
        for t in range(0, 59, 3)
    ]
    assert min(diffs) > 0.3  # the view shakes every frame
    assert all(
        np.array_equal(still.frame(t).background, still.frame(0).background) for t in (10, 30)
    )
    n_jit = sum((scene.frame(t).groundtruth == 255).sum() for t in range(0, 60, 3))
    n_still = sum((still.frame(t).groundtruth == 255).sum() for t in range(0, 60, 3))
    assert n_jit == pytest.approx(n_still, rel=0.1)  # same objects, displaced, nothing more
    # the shake stays within the amplitude: a shifted static row matches within 2 px
    ref = scene.background.astype(float).mean(axis=2)
    for t in (5, 25, 45):
        cur = scene.frame(t).background.astype(float).mean(axis=2)
        errs = {
            (dy, dx): np.abs(
                cur[3:-3, 3:-3]
                - ref[3 - dy : ref.shape[0] - 3 - dy, 3 - dx : ref.shape[1] - 3 - dx]
            ).mean()
            for dy in range(-3, 4)
            for dx in range(-3, 4)
        }
        dy, dx = min(errs, key=errs.get)
        assert abs(dy) <= 2 and abs(dx) <= 2


def test_stopped_object_is_255_all_the_time_it_is_parked():
    assert _clean("stopped-object", n_frames=200).options.stop_frame == 50  # n // 4
    assert _clean("stopped-object", n_frames=200).options.stop_duration == 100  # n // 2
    scene = _clean("stopped-object", n_frames=600, stop_frame=50, stop_duration=100)
    base = _clean("baseline", n_frames=600)
    s, d = 50, 100
    car = (scene.frame(s + 1).groundtruth == 255) & (base.frame(s + 1).groundtruth == 0)
    assert car.sum() > 50
    ref = scene.frame(s).image
    identical = 0
    for t in range(s, s + d + 1, 4):
        rec = scene.frame(t)
        assert (rec.groundtruth[car] == 255).all(), f"frame {t}"
        others = base.frame(t).groundtruth > 0
        identical += np.array_equal(rec.image[car & ~others], ref[car & ~others])
    assert identical >= 0.9 * len(range(s, s + d + 1, 4))  # it does not move while parked
    # it has left by the end: the ground truth there is the baseline's again
    np.testing.assert_array_equal(
        scene.frame(599).groundtruth[car], base.frame(599).groundtruth[car]
    )


def test_stopped_object_can_stay_until_the_end():
    scene = _clean("stopped-object", n_frames=120, stop_frame=30, stop_duration=None)
    base = _clean("baseline", n_frames=120)
    car = (scene.frame(31).groundtruth == 255) & (base.frame(31).groundtruth == 0)
    assert car.sum() > 50
    assert (scene.frame(119).groundtruth[car] == 255).all()


def test_reference_background_is_the_scene_without_objects_at_rest():
    scene = _clean("baseline", n_frames=20)
    np.testing.assert_array_equal(scene.background, scene.frame(19).background)
    dyn = _clean("dynamic", n_frames=20)
    ref = dyn.background
    assert np.array_equal(ref[~dyn.dynamic_region], dyn.frame(7).background[~dyn.dynamic_region])
    assert not np.array_equal(ref[dyn.dynamic_region], dyn.frame(7).background[dyn.dynamic_region])


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(KINDS),
    width=st.integers(8, 70),
    height=st.integers(8, 50),
    seed=st.integers(0, 2**32),
    t=st.integers(0, 199),
)
def test_invariants_hold_for_any_size_seed_and_frame(kind, width, height, seed, t):
    scene = generate(
        kind,
        width=width,
        height=height,
        n_frames=200,
        seed=seed,
        noise_sigma=0.0,
        salt_pepper=0.0,
        object_rate=20.0,
    )
    rec = scene.frame(t)
    assert rec.image.shape == (height, width, 3) and rec.groundtruth.shape == (height, width)
    assert set(np.unique(rec.groundtruth)) <= {0, 50, 85, 170, 255}
    zero = rec.groundtruth == 0
    assert np.array_equal(rec.image[zero], rec.background[zero])
    if kind not in ("shadows", "mixed"):
        assert not (rec.groundtruth == 50).any()
