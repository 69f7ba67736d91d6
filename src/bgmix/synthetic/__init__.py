"""Synthetic video scenes with exact ground truth, for tests, benchmarks and the demo.

A deterministic generator of street scenes (textured buildings, sidewalk, road, cars,
vans and pedestrians with anti-aliased edges) in which one classic difficulty of
background subtraction is turned up per scenario: moving background (water, leaves),
gradual and sudden illumination changes, cast shadows, camera jitter, an object that
stops for a long time, strong sensor noise. Ground truth uses the CDnet 2014 labels.

>>> from bgmix.synthetic import SCENARIOS, generate
>>> scene = generate("baseline", n_frames=30, seed=0)
>>> frames, truth = scene.to_arrays()
>>> frames.shape, truth.shape, scene.temporal_roi
((30, 120, 160, 3), (30, 120, 160), (6, 29))

``write_sequence(scene, folder)`` writes it in the CDnet layout
(``input/``, ``groundtruth/``, ``temporalROI.txt``, ``ROI.bmp``).
"""

from bgmix._cdnet import GT_BACKGROUND, GT_FOREGROUND, GT_OUTSIDE_ROI, GT_SHADOW, GT_UNKNOWN
from bgmix.synthetic._options import OPTION_DOCS, SceneOptions
from bgmix.synthetic._scenarios import SCENARIOS, generate
from bgmix.synthetic._scene import (
    FrameRecord,
    SyntheticScene,
)
from bgmix.synthetic._write import write_sequence

__all__ = [
    "GT_BACKGROUND",
    "GT_FOREGROUND",
    "GT_OUTSIDE_ROI",
    "GT_SHADOW",
    "GT_UNKNOWN",
    "OPTION_DOCS",
    "SCENARIOS",
    "FrameRecord",
    "SceneOptions",
    "SyntheticScene",
    "generate",
    "write_sequence",
]
