"""bgmix's grey PNGs: read back exactly by Pillow and OpenCV, runs for masks."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from bgmix.io._png import grey_png


def _idat(png: bytes) -> bytes:
    pos, data = 8, b""
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IDAT":
            data += body
        pos += 12 + n
    return data


def _mask() -> np.ndarray:
    y, x = np.mgrid[:120, :161]
    mask = np.where((x - 80) ** 2 + (y - 60) ** 2 < 900, 255, 0).astype(np.uint8)
    mask[10:20, 10:40] = 127
    return mask


def _photo() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (50, 70)).astype(np.uint8)


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("image", [_mask(), _photo(), np.zeros((1, 1), np.uint8)])
def test_pillow_and_opencv_read_it_back_exactly(image: np.ndarray, level: int) -> None:
    png = grey_png(image, level)
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "L"
        np.testing.assert_array_equal(np.asarray(im), image)
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(decoded, image)


def test_masks_are_coded_as_runs_at_level_1_and_photographs_by_zlib() -> None:
    mask, photo = _mask(), _photo()
    scan = np.zeros((mask.shape[0], mask.shape[1] + 1), np.uint8)
    scan[:, 1:] = mask
    runs = _idat(grey_png(mask, 1))
    assert runs != zlib.compress(scan.tobytes(), 1)  # not zlib's own coding
    assert zlib.decompress(runs) == scan.tobytes()
    assert len(runs) < scan.size / 20
    scan = np.zeros((photo.shape[0], photo.shape[1] + 1), np.uint8)
    scan[:, 1:] = photo
    assert _idat(grey_png(photo, 1)) == zlib.compress(scan.tobytes(), 1)
    assert _idat(grey_png(mask, 9)) == zlib.compress(np.pad(mask, ((0, 0), (1, 0))).tobytes(), 9)


@pytest.mark.parametrize("shape", [(40, 60), (40, 60, 3), (1, 1, 3)])
def test_write_png_writes_grey_and_rgb_images_exactly(tmp_path, shape) -> None:
    from bgmix.io._png import write_png

    image = np.random.default_rng(5).integers(0, 256, shape).astype(np.uint8)
    write_png(tmp_path / "a.png", image)
    with Image.open(tmp_path / "a.png") as im:
        assert im.mode == ("L" if len(shape) == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(im), image)
