"""MP4 (H.264), lossless MOV (PNG) and MKV (FFV1), and GIF sinks, encoded frame by
frame with PyAV."""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

import numpy as np

from bgmix._validation import check_bool, check_choice, check_int
from bgmix.exceptions import ParameterError
from bgmix.io._sink import FrameSink

__all__ = ["X264_PRESETS", "GifSink", "MkvSink", "MovSink", "Mp4Sink"]

logger = logging.getLogger(__name__)

X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
    "veryslow", "placebo",
)  # fmt: skip

# AVColorSpace / primaries / transfer SMPTE 170M (BT.601 525) and AVCOL_RANGE_MPEG.
_SMPTE170M = 6
_RANGE_MPEG = 1

# Full-range grey to limited-range luma: 16 + g * 219 / 255.
_FULL_TO_LIMITED = np.rint(16 + np.arange(256) * (219.0 / 255.0)).astype(np.uint8)


def _pad_even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    pad = ((0, h % 2), (0, w % 2)) + (((0, 0),) if frame.ndim == 3 else ())
    return np.pad(frame, pad, mode="edge")


class _PyAVSink(FrameSink):
    """A file written by a PyAV container, opened at the first frame (``_start``)."""

    _container: Any = None
    _stream: Any = None

    def _finish(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def _discard(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class Mp4Sink(_PyAVSink):
    """H.264 MP4 for browsers (libx264, yuv420p, BT.601, ``+faststart``).

    Odd widths or heights are padded to even by repeating the last column/row.
    """

    kind = "mp4"

    def _configure(self, *, crf: int = 18, preset: str = "veryfast", threads: int = 0) -> None:
        self._crf = check_int("crf", crf, low=0, high=51)
        self._preset = check_choice("preset", preset, X264_PRESETS)
        self._threads = check_int("threads", threads, low=0, high=64)

    def _start(self, height: int, width: int) -> None:
        import av

        container = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        self._container = container
        stream = container.add_stream("libx264", rate=self.fps)
        stream.width = width + width % 2
        stream.height = height + height % 2
        stream.pix_fmt = "yuv420p"
        options = {"crf": str(self._crf), "preset": self._preset}
        if self._threads:
            options["threads"] = str(self._threads)
        stream.options = options
        cc = stream.codec_context
        cc.colorspace = _SMPTE170M
        cc.color_primaries = _SMPTE170M
        cc.color_trc = _SMPTE170M
        cc.color_range = _RANGE_MPEG
        self._stream = stream

    def _write(self, frame: np.ndarray, number: int | None) -> None:
        import av
        import cv2

        if self._stream is None:
            self._start(*frame.shape[:2])
        frame = _pad_even(frame)
        h, w = frame.shape[:2]
        if frame.ndim == 3:
            i420 = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
        else:
            i420 = np.full((h * 3 // 2, w), 128, np.uint8)
            i420[:h] = cv2.LUT(frame, _FULL_TO_LIMITED)
        vf = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        vf.pts = self.frames_written
        vf.colorspace = _SMPTE170M
        vf.color_range = _RANGE_MPEG
        for packet in self._stream.encode(vf):
            self._container.mux(packet)


class GifSink(_PyAVSink):
    """Animated GIF that loops forever, one 256-colour palette per frame.

    Grey first frames make a grey GIF (exact). An RGB frame with at most 256 colours
    keeps them exactly; others are quantised to 256 colours by Pillow's fast octree,
    without dithering unless ``dither=True``.
    """

    kind = "gif"

    def _configure(self, *, dither: bool = False) -> None:
        self._dither = check_bool("dither", dither)
        self._last_pts = -1

    def _opened(self) -> None:
        if self.fps > 50:
            logger.warning(
                "%s: GIF delays are in 1/100 s and browsers slow down delays under 2/100 s; "
                "%.4g fps will not play at full speed",
                self.path,
                float(self.fps),
            )

    def _start(self, height: int, width: int, grey: bool) -> None:
        import av

        container = av.open(str(self._tmp), mode="w", format="gif", options={"loop": "0"})
        self._container = container
        stream = container.add_stream("gif", rate=self.fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "gray" if grey else "pal8"
        stream.codec_context.time_base = Fraction(1, 100)
        self._stream = stream

    def _write(self, frame: np.ndarray, number: int | None) -> None:
        import av

        if self._stream is None:
            self._start(frame.shape[0], frame.shape[1], frame.ndim == 2)
        if frame.ndim == 2:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="gray")
        else:
            vf = av.VideoFrame.from_ndarray(self._quantise(frame), format="pal8")
        pts = max(round(self.frames_written * 100 / self.fps), self._last_pts + 1)
        self._last_pts = pts
        vf.pts = pts
        vf.time_base = Fraction(1, 100)
        for packet in self._stream.encode(vf):
            self._container.mux(packet)

    def _quantise(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from PIL import Image

        image = Image.fromarray(frame)
        colours = image.getcolors(256)  # None when the frame has more than 256 colours
        if colours is not None:  # exact: the frame's own colours are the palette
            flat = [c for _, rgb in colours for c in rgb]
            palette = Image.new("P", (1, 1))
            palette.putpalette(flat + [0] * (768 - len(flat)))
            q = image.quantize(palette=palette, dither=Image.Dither.NONE)
        else:
            dither = Image.Dither.FLOYDSTEINBERG if self._dither else Image.Dither.NONE
            q = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=dither)
        index = np.asarray(q)
        rgb = np.asarray(q.getpalette() or [], np.uint8).reshape(-1, 3)[:256]
        argb = np.zeros((256, 4), np.uint8)
        argb[:, 0] = 255
        argb[: len(rgb), 1:] = rgb
        return np.ascontiguousarray(index), argb


class _LosslessSink(_PyAVSink):
    """A lossless video whose timestamps are the frame numbers: grey first frames give
    a grey stream, RGB ones an RGB stream, and :func:`bgmix.open_source` reads either
    back bit for bit, as ``(H, W)`` grey or ``(H, W, 3)`` RGB frames.

    The ``number`` given to :meth:`write` becomes the frame's timestamp
    (``number / fps`` seconds), so the masks of a run with ``start``/``stride`` line up
    in time with the source video; numbers must increase. Subclasses name the
    container, the codec and the RGB pixel format, and give the codec's options.
    """

    _last_pts = -1
    _format = ""
    _codec = ""
    _rgb_pix_fmt = ""

    def _codec_options(self) -> dict[str, str]:
        raise NotImplementedError

    def _open_stream(self, height: int, width: int, grey: bool) -> Any:
        import av

        self._container = av.open(str(self._tmp), mode="w", format=self._format)
        stream = self._container.add_stream(self._codec, rate=self.fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "gray" if grey else self._rgb_pix_fmt
        stream.options = self._codec_options()
        return stream

    def _rgb_frame(self, frame: np.ndarray) -> Any:
        import av

        return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")

    def _write(self, frame: np.ndarray, number: int | None) -> None:
        if self._stream is None:
            self._stream = self._open_stream(frame.shape[0], frame.shape[1], frame.ndim == 2)
            self._stream.codec_context.time_base = 1 / self.fps
        pts = self._last_pts + 1 if number is None else number
        if pts <= self._last_pts:
            raise ParameterError(
                f"frame numbers written to {str(self.path)!r} must increase; got {number} "
                f"after {self._last_pts}"
            )
        self._last_pts = pts
        for packet in self._packets(frame, pts):
            self._container.mux(packet)

    def _packets(self, frame: np.ndarray, pts: int) -> Any:
        """The stream's packets for ``frame`` at ``pts``: here, the codec's."""
        import av

        if frame.ndim == 2:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="gray")
        else:
            vf = self._rgb_frame(frame)
        vf.pts = pts
        vf.time_base = 1 / self.fps
        return self._stream.encode(vf)


class MovSink(_LosslessSink):
    """Lossless QuickTime video of PNG images, one per frame: the mask video.

    Each frame is a PNG image without row filter in a MOV file: a grey first frame
    gives a ``gray`` stream, an RGB one ``rgb24``. Grey images are bgmix's own PNGs
    (:func:`bgmix.io._png.grey_png`: at ``compress_level`` 1, the default, a mask is
    coded as runs), RGB ones FFmpeg's (zlib at ``compress_level``). FFmpeg, VLC and
    mpv play it; ``ffmpeg -i masks.mov -c copy m%06d.png`` extracts the PNG files
    without re-encoding; every frame is a key frame, so seeking is exact.

    Measured on ``mog2``'s masks of a 1080p video (3 % foreground), one thread: 0.4
    ms and 28 KiB a mask as runs, 3.4 ms and 25 KiB with FFmpeg's PNG encoder at
    level 1, 8.6 ms and 12 KiB with FFV1 (:class:`MkvSink`), 4.5 ms and 25 KiB with
    lossless H.264 (``libx264``, ``qp=0``, ``ultrafast``). zlib levels 1-3 differ by
    under 10 % in size; levels 4 and up cost twice level 1's CPU for about half the
    size.
    """

    kind = "mov"
    _format, _codec, _rgb_pix_fmt = "mov", "png", "rgb24"

    def _configure(self, *, compress_level: int = 1) -> None:
        self._level = check_int("compress_level", compress_level, low=0, high=9)

    def _codec_options(self) -> dict[str, str]:
        return {"pred": "none", "compression_level": str(self._level), "threads": "1"}

    def _packets(self, frame: np.ndarray, pts: int) -> Any:
        if frame.ndim == 3:
            return super()._packets(frame, pts)
        import av

        from bgmix.io._png import grey_png

        packet = av.Packet(grey_png(frame, self._level))
        packet.stream = self._stream
        packet.time_base = 1 / self.fps
        packet.pts = packet.dts = pts
        packet.is_keyframe = True
        return (packet,)


class MkvSink(_LosslessSink):
    """Lossless Matroska video (FFV1): every frame is stored exactly.

    A grey first frame gives a ``gray`` stream (a 1080p mask takes about 12 KiB and
    9 CPU ms), an RGB one a ``bgr0`` stream; FFmpeg, VLC and mpv play it. Smaller
    than :class:`MovSink` on smooth masks, 2.5x slower to write.

    FFV1 (version 3, Golomb-Rice coder, small context model, 4 slices) was measured
    against its other settings (range coder: 25% slower and 65% larger; large
    context model, 1 to 24 slices, GOP 1 or 300: within the noise of 9-10 CPU ms per
    1080p mask).
    """

    kind = "mkv"
    _format, _codec, _rgb_pix_fmt = "matroska", "ffv1", "bgr0"

    def _configure(self, *, threads: int = 1) -> None:
        self._threads = check_int("threads", threads, low=1, high=64)

    def _codec_options(self) -> dict[str, str]:
        # FFV1 version 3 with 4 slices: faster (slices are coded independently) and
        # with per-slice CRCs.
        return {"level": "3", "slices": "4", "threads": str(self._threads)}

    def _rgb_frame(self, frame: np.ndarray) -> Any:
        return super()._rgb_frame(frame).reformat(format="bgr0")  # a byte shuffle: exact
