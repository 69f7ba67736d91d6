"""gmm-full: determinism, background rules, covariances, learning rates, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.background import load_subtractor, make_subtractor
from bgmix.background._gmm_full import GMMFull
from bgmix.exceptions import NotFittedError
from bgmix.synthetic import generate


def _clip(n_frames=30, seed=0, kind="baseline"):
    frames, truth = generate(kind, width=48, height=32, n_frames=n_frames, seed=seed).to_arrays()
    return frames, truth


def test_same_seed_gives_identical_models_and_other_seeds_differ():
    frames, _ = _clip()
    a, b = GMMFull(random_state=7), GMMFull(random_state=7)
    c = GMMFull(random_state=np.random.default_rng(8))
    for f in frames:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
        c.apply(f)
    np.testing.assert_array_equal(a._weight, b._weight)
    assert not np.array_equal(a._weight, c._weight)
    a.reset()
    a.apply(frames[0])
    d = GMMFull(random_state=7)
    d.apply(frames[0])
    np.testing.assert_array_equal(a._weight, d._weight)  # reset re-draws from the seed


def test_initial_weights_are_a_dirichlet_draw_per_pixel():
    frame = np.zeros((20, 30, 3), np.uint8)
    sub = GMMFull(random_state=0, n_components=4, postprocess=None)
    sub.apply(frame, learning_rate=0.0)
    w = sub._weight
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-6)
    assert w.min() > 0 and abs(float(w.mean()) - 0.25) < 0.02
    assert len(np.unique(w[0])) == w[0].size  # drawn independently per pixel


def test_generator_random_state_is_saved_and_resumed_exactly(tmp_path):
    frames, _ = _clip(n_frames=20, seed=1)
    a = GMMFull(random_state=np.random.default_rng(3), n_jobs=2)
    for f in frames[:10]:
        a.apply(f)
    a.save(tmp_path / "g.npz")
    assert isinstance(a.random_state, np.random.Generator)
    b = load_subtractor(tmp_path / "g.npz")
    assert b.random_state is None
    for f in frames[10:]:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
    # learning_rate=1 re-draws the weights from the saved generator state: still equal
    np.testing.assert_array_equal(a.apply(frames[0], learning_rate=1), b.apply(frames[0], 1))
    np.testing.assert_array_equal(a._weight, b._weight)


def test_ranked_rule_keeps_a_uniform_object_that_any_rule_absorbs():
    bg = np.full((16, 16, 3), 90, np.uint8)
    ranked = GMMFull(background_rule="ranked", random_state=0, postprocess=None)
    anyrule = GMMFull(background_rule="any", random_state=0, postprocess=None)
    for _ in range(20):
        ranked.apply(bg)
        anyrule.apply(bg)
    obj = bg.copy()
    obj[4:12, 4:12] = (200, 40, 40)
    for _ in range(3):
        m_ranked, m_any = ranked.apply(obj), anyrule.apply(obj)
    # With "any", the re-initialised component explains the object from the next frame.
    assert (m_ranked[4:12, 4:12] == 255).all()
    assert (m_any[4:12, 4:12] == 0).all()


def test_covariances_are_symmetric_positive_definite_and_track_correlation():
    rng = np.random.default_rng(0)
    # Pixels whose R and G vary together (correlated noise), B independent.
    t = rng.normal(0, 12, size=(300, 6, 6, 1))
    frames = np.concatenate([120 + t, 100 + t, 80 + rng.normal(0, 3, size=(300, 6, 6, 1))], -1)
    frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    sub = GMMFull(random_state=0, alpha=0.02, postprocess=None)
    for f in frames:
        sub.apply(f)
    cov = sub.covariances()
    assert cov.shape == (3, 6, 6, 3, 3)
    np.testing.assert_array_equal(cov, np.swapaxes(cov, -1, -2))
    assert np.linalg.eigvalsh(cov.astype(np.float64)).min() >= 0.97 * sub.var_min
    heavy = np.take_along_axis(cov, sub._weight.argmax(0)[None, ..., None, None], 0)[0]
    corr = heavy[..., 0, 1] / np.sqrt(heavy[..., 0, 0] * heavy[..., 1, 1])
    assert corr.mean() > 0.8  # the R-G correlation is learned
    assert np.abs(heavy[..., 0, 2]).mean() < 0.2 * heavy[..., 0, 0].mean()


def test_grey_covariances_are_one_by_one():
    sub = GMMFull(random_state=0)
    with pytest.raises(NotFittedError):
        sub.covariances()
    sub.apply(np.full((5, 7), 10, np.uint8))
    assert sub.covariances().shape == (3, 5, 7, 1, 1)
    assert sub.bytes_per_pixel == 4 * 3 * (1 + 1 + 1) + 2


def test_learning_rate_zero_freezes_and_one_restarts():
    frames, _ = _clip(n_frames=12)
    sub = GMMFull(random_state=0)
    for f in frames[:10]:
        sub.apply(f)
    state = [a.copy() for a in (sub._weight, sub._mean, sub._cov)]
    sub.apply(frames[11] // 2, learning_rate=0)
    for a, b in zip(state, (sub._weight, sub._mean, sub._cov), strict=True):
        np.testing.assert_array_equal(a, b)
    sub.apply(frames[11], learning_rate=1)
    np.testing.assert_array_equal(sub.get_background_image(), frames[11])


def test_threads_and_state_size():
    # 256x160: large enough to be split into two bands of rows.
    frames, _ = generate("dynamic", width=256, height=160, n_frames=12, seed=0).to_arrays()
    one, two = GMMFull(random_state=2, n_jobs=1), GMMFull(random_state=2, n_jobs=2)
    for f in frames:
        np.testing.assert_array_equal(one.apply(f), two.apply(f))
    assert one.bytes_per_pixel == 4 * 3 * (1 + 3 + 6) + 2
    assert one.state_nbytes == frames.shape[1] * frames.shape[2] * (4 * 3 * 10 + 2)


def test_defaults_and_changing_n_components():
    sub = make_subtractor("gmm-full")
    assert (sub.n_components, sub.alpha, sub.match_threshold) == (3, 0.005, 3.0)
    assert sub.background_rule == "ranked" and sub.postprocess.median == 5
    frames, _ = _clip(n_frames=4)
    sub.apply(frames[0])
    sub.set_params(n_components=5)
    sub.apply(frames[1])
    assert sub._weight.shape[0] == 5
