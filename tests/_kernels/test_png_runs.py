"""The run coder of grey PNG data against zlib, the oracle: ``zlib.decompress`` must
give back the filtered scanlines exactly and accept the stream's Adler-32."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from bgmix._kernels.png_runs import deflate_runs, max_deflate_size


def scanlines(image: np.ndarray) -> bytes:
    """PNG's filtered scanlines with no filter: a 0 byte before each row."""
    h, w = image.shape
    out = np.zeros((h, w + 1), np.uint8)
    out[:, 1:] = image
    return out.tobytes()


def code(image: np.ndarray, limit: int | None = None) -> tuple[int, bytes]:
    out = np.full(max_deflate_size(*image.shape), 0xAB, np.uint8)
    n = deflate_runs(image, out, out.shape[0] if limit is None else limit)
    return n, out[: max(n, 0)].tobytes()


def _cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    runs = np.zeros((3, 700), np.uint8)
    runs[0, 100:358] = 255  # 258: one full copy after the literal
    runs[1, :259] = 9  # run lengths around the longest copy (258)
    runs[1, 259:519] = 10
    runs[1, 519:680] = 0  # ... then joins the next row's filter byte and zeros
    runs[2, 600:] = 255
    lengths = [1, 2, 3, 4, 5, 257, 258, 259, 260, 261, 262, 515, 516, 517, 518, 519, 520]
    every_length = np.concatenate(
        [np.full(n, 50 + i % 2, np.uint8) for i, n in enumerate(lengths)]
    )[None, :]
    masks = np.where(rng.random((40, 97)) < 0.1, 255, 0).astype(np.uint8)
    masks[rng.random(masks.shape) < 0.05] = 127
    return {
        "one pixel 0": np.zeros((1, 1), np.uint8),
        "one pixel 255": np.full((1, 1), 255, np.uint8),
        "one column": (np.arange(37) % 3 * 100).astype(np.uint8)[:, None],
        "blank": np.zeros((64, 1921), np.uint8),
        "white": np.full((9, 2000), 255, np.uint8),
        "runs around 258": runs,
        "run lengths around copies": every_length,
        "every value": np.repeat(np.arange(256, dtype=np.uint8), 5)[None, :],
        "noise": rng.integers(0, 256, (31, 47)).astype(np.uint8),
        "mask": masks,
        "stripes": np.tile(np.repeat(np.array([0, 255], np.uint8), 3), (5, 40)),
    }


@pytest.mark.parametrize("name", sorted(_cases()))
def test_stream_decodes_to_the_scanlines(name: str) -> None:
    image = _cases()[name]
    n, stream = code(image)
    assert 0 < n <= max_deflate_size(*image.shape)
    assert stream[:2] == b"\x78\x01"
    assert zlib.decompress(stream) == scanlines(image)  # checks the Adler-32 too


def test_a_view_with_strided_rows_is_coded_as_its_pixels() -> None:
    big = np.zeros((20, 50), np.uint8)
    big[5:15, 10:30] = 255
    view = big[2:18:2, 5:45]
    _, stream = code(view)
    assert zlib.decompress(stream) == scanlines(np.ascontiguousarray(view))


def test_runs_are_small_and_noise_is_given_up():
    blank = np.zeros((1080, 1920), np.uint8)
    n, _ = code(blank)
    assert n < 14_000  # 13 bits per 258 bytes
    noise = np.random.default_rng(1).integers(0, 256, (100, 100)).astype(np.uint8)
    raw = 100 * 101
    assert code(noise, limit=raw // 4)[0] == -1
    n, stream = code(noise)  # no limit: still a valid stream, 9 bits a byte at most
    assert raw < n <= max_deflate_size(100, 100)
    assert zlib.decompress(stream) == scanlines(noise)
