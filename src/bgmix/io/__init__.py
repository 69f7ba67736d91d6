"""Frame sources and sinks.

``open_source`` reads image folders, video files, GIFs, cameras/streams and arrays;
``open_sink`` writes MP4 (H.264), GIF, PNG folders and NPZ; ``side_by_side``
composes comparison frames.
"""

from bgmix.io._images import IMAGE_SUFFIXES, frame_number, list_numbered_images, read_image

__all__ = ["IMAGE_SUFFIXES", "frame_number", "list_numbered_images", "read_image"]
