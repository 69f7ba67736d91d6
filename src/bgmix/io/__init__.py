"""Frame sources and sinks.

``open_source`` reads image folders, video files, GIFs, still images, cameras and
streams, ``.npy``/``.npz`` files and arrays, all behind one :class:`FrameSource`
protocol; ``read_frames`` stacks a whole source into one array; ``open_sink`` writes
MP4 (H.264), GIF, image folders and NPZ archives atomically; ``side_by_side``
composes comparison frames and ``show_video`` plays frames inline in a notebook.

Importing this package is cheap: OpenCV, PyAV and Pillow load when first used.
"""

from bgmix.io._compose import side_by_side
from bgmix.io._images import IMAGE_SUFFIXES, frame_number, list_numbered_images, read_image
from bgmix.io._notebook import InlineVideo, show_video
from bgmix.io._open import SOURCE_KINDS, open_source, read_frames
from bgmix.io._sink import SINK_KINDS, FrameSink, check_output_path, open_sink
from bgmix.io._source import FrameSource, VideoInfo

__all__ = [
    "IMAGE_SUFFIXES",
    "SINK_KINDS",
    "SOURCE_KINDS",
    "FrameSink",
    "FrameSource",
    "InlineVideo",
    "VideoInfo",
    "check_output_path",
    "frame_number",
    "list_numbered_images",
    "open_sink",
    "open_source",
    "read_frames",
    "read_image",
    "show_video",
    "side_by_side",
]
