"""Image segmentation and sampling with Gaussian mixtures or k-means.

:func:`segment_image` clusters the pixels of an image by colour (in RGB, CIE Lab or
HSV), optionally with their position, into ``K`` regions and returns the label map,
a palette image (each pixel painted with its region's mean colour) and the
per-component weight, mean and covariance. :func:`sample_image` generates an image
from the fitted mixture. :func:`write_segmentation` writes the
palette, labels, sample, figure and components to a folder.
:func:`probabilistic_rand_index` and
:func:`variation_of_information` score a segmentation against human ones (BSDS500).

Examples
--------
>>> import numpy as np
>>> from bgmix.segment import segment_image, sample_image
>>> img = np.zeros((16, 16, 3), np.uint8); img[:, 8:] = 255
>>> res = segment_image(img, 2, random_state=0)
>>> res.labels.shape, res.palette_image.shape, sample_image(res, random_state=0).shape
((16, 16), (16, 16, 3), (16, 16, 3))
"""

from bgmix.segment._color import COLOR_SPACES
from bgmix.segment._figure import save_segmentation_figure
from bgmix.segment._quality import (
    contingency_table,
    probabilistic_rand_index,
    rand_index,
    variation_of_information,
)
from bgmix.segment._segment import SegmentationResult, image_features, sample_image, segment_image
from bgmix.segment._write import SEGMENTATION_FILES, write_segmentation

__all__ = [
    "COLOR_SPACES",
    "SEGMENTATION_FILES",
    "SegmentationResult",
    "contingency_table",
    "image_features",
    "probabilistic_rand_index",
    "rand_index",
    "sample_image",
    "save_segmentation_figure",
    "segment_image",
    "variation_of_information",
    "write_segmentation",
]
