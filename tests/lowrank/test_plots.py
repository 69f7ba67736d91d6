"""The lesson's figures and the report that writes all of them."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from bgmix.exceptions import InputError, OutputError, ParameterError
from bgmix.lowrank import (
    REPORT_FILES,
    compression_table,
    frame_matrix,
    lowrank_report,
    plot_components,
    plot_compression,
    plot_singular_values,
    plot_two_backgrounds,
    two_backgrounds,
)
from tests.conftest import moving_square


def _png_size(path):
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


@pytest.fixture(scope="module")
def clip():
    frames, truth = moving_square(n_frames=16, height=24, width=32, seed=1)
    return frames, truth


def test_singular_value_plot(tmp_path):
    s = np.array([100.0, 10.0, 5.0, 1.0])
    fig = plot_singular_values(s, mark=1, path=tmp_path / "s.png")
    assert len(fig.axes) == 2
    ys = fig.axes[1].lines[0].get_ydata()
    np.testing.assert_allclose(ys, 100 * np.cumsum(s**2) / np.sum(s**2))
    assert _png_size(tmp_path / "s.png")[0] > 100
    fig = plot_singular_values(s, total_energy=2 * float(np.sum(s**2)))
    assert fig.axes[1].lines[0].get_ydata()[-1] == pytest.approx(50.0)
    with pytest.raises(InputError):
        plot_singular_values(np.array([[1.0]]))


def test_components_plot_shows_n_images(tmp_path, clip):
    frames, _ = clip
    M, shape = frame_matrix(frames, grey=False, return_shape=True)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    fig = plot_components(U, shape, s=s, n=4, path=tmp_path / "c.png")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 4
    assert "energy" in images[0].get_title()
    assert _png_size(tmp_path / "c.png")[0] > 100
    grey = frame_matrix(frames)
    Ug = np.linalg.svd(grey, full_matrices=False)[0]
    assert len([ax for ax in plot_components(Ug, (24, 32), n=50).axes if ax.images]) == 16
    with pytest.raises(InputError):
        plot_components(U[:, 0], shape)


def test_compression_plot(tmp_path):
    rows = compression_table(np.array([9.0, 3.0, 1.0]), (100, 30), [1, 2, 3])
    fig = plot_compression(rows, path=tmp_path / "k.png")
    np.testing.assert_allclose(
        fig.axes[0].lines[0].get_ydata(), [100 * r.relative_error for r in rows]
    )
    assert _png_size(tmp_path / "k.png")[0] > 100
    with pytest.raises(InputError):
        plot_compression([])


def _two_scenes():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 255, (12, 16))
    b = rng.uniform(0, 255, (12, 16))
    A = np.stack([a + rng.normal(0, 2, a.shape) for _ in range(20)]).reshape(20, -1).T
    B = np.stack([b + rng.normal(0, 2, b.shape) for _ in range(15)]).reshape(15, -1).T
    return A, B


def test_two_backgrounds_rank_two_separates_what_rank_one_blends(tmp_path):
    A, B = _two_scenes()
    res = two_backgrounds(A, B, (12, 16), ranks=(1, 2))
    assert res.n_first == 20 and res.samples.shape == (2, 192)
    e1, e2 = res.errors["rank 1"], res.errors["rank 2"]
    assert min(e1) > 10 * max(e2)
    assert max(e2) < 3.0  # about the noise level
    fig = plot_two_backgrounds(res, path=tmp_path / "two.png")
    assert len([ax for ax in fig.axes if ax.images]) == 6
    assert _png_size(tmp_path / "two.png")[0] > 100


def test_two_backgrounds_with_rpca():
    A, B = _two_scenes()
    res = two_backgrounds(A, B, (12, 16), ranks=(1,), rpca_options={})
    assert set(res.errors) == {"rank 1", "rpca"}
    assert max(res.errors["rpca"]) < min(res.errors["rank 1"])


def test_two_backgrounds_rejects_mismatched_scenes():
    A, B = _two_scenes()
    with pytest.raises(InputError, match="same frame size"):
        two_backgrounds(A, B[:-1], (12, 16))
    with pytest.raises(ParameterError):
        two_backgrounds(A, B, (12, 16), ranks=())


@pytest.mark.parametrize("method", ["svd", "rpca"])
def test_report_writes_every_file(tmp_path, clip, method):
    frames, truth = clip
    out = tmp_path / "out"
    summary = lowrank_report(frames, out, method=method, rank=1, grey=False, n_singular_values=8)
    assert sorted(os.listdir(out)) == sorted(REPORT_FILES)
    saved = json.loads((out / "summary.json").read_text())
    assert saved["matrix_shape"] == [24 * 32 * 3, 16] == summary["matrix_shape"]
    assert saved["background"]["method"] == method
    assert len(saved["singular_values"]) == 8
    assert [r["rank"] for r in saved["compression"]] == [1, 2, 3, 5]
    errs = saved["two_backgrounds"]["mean_abs_error_vs_scene_median"]
    assert set(errs) == ({"rank 1", "rank 2", "rpca"} if method == "rpca" else {"rank 1", "rank 2"})
    # the square covers 36 of 768 pixels per frame; a rank-1 SVD of only 16 frames
    # keeps a ghost of its path (false positives), Robust PCA does not
    upper = 2 * truth.mean() if method == "rpca" else 0.3
    assert 0.5 * truth.mean() < saved["foreground_fraction"] < upper
    lines = (out / "compression.csv").read_text().splitlines()
    assert lines[0].startswith("rank,") and len(lines) == 5
    import av

    with av.open(str(out / "lowrank.mp4")) as container:
        stream = container.streams.video[0]
        first = next(container.decode(stream))
        assert first.width == 4 * 32
        assert sum(1 for _ in container.decode(stream)) + 1 == 16


def test_report_second_scene_and_options(tmp_path, clip):
    frames, _ = clip
    other = np.ascontiguousarray(frames[:, ::-1, :, :])
    summary = lowrank_report(
        frames, tmp_path / "o", second=other, rank=3, stride=2, ranks=[1, 2], fps=5
    )
    assert summary["matrix_shape"] == [24 * 32, 8]
    assert summary["fps"] == 5
    assert summary["two_backgrounds"]["frames"] == [8, 8]
    assert set(summary["two_backgrounds"]["mean_abs_error_vs_scene_median"]) == {"rank 1", "rank 3"}
    assert [r["rank"] for r in summary["compression"]] == [1, 2]


def test_report_is_atomic_and_protects_inputs(tmp_path, clip, monkeypatch):
    frames, _ = clip
    import bgmix.lowrank._plots as plots

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "plot_two_backgrounds", boom)
    with pytest.raises(RuntimeError):
        lowrank_report(frames, tmp_path / "out")
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    folder = tmp_path / "seq"
    folder.mkdir()
    from PIL import Image

    for i, f in enumerate(frames[:4]):
        Image.fromarray(f).save(folder / f"in{i:06d}.png")
    with pytest.raises(OutputError, match="input"):
        lowrank_report(folder, folder)
    with pytest.raises(OutputError, match="input"):
        lowrank_report(folder, tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"method": "pca"}, ParameterError),
        ({"rank": 0}, ParameterError),
        ({"rank": 100}, ParameterError),
        ({"threshold": 300}, ParameterError),
        ({"rpca_options": [1]}, ParameterError),
        ({"method": "rpca", "rpca_options": {"tol": 2}}, ParameterError),
        ({"fps": 0}, ParameterError),
    ],
)
def test_report_rejects_bad_options(tmp_path, clip, kwargs, exc):
    frames, _ = clip
    with pytest.raises(exc):
        lowrank_report(frames[:6], tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()
