"""Plots and the HTML report.

:func:`write_report` turns evaluation results (``bgmix evaluate -o FILE.json``, with media
recorded by ``evaluate(record=...)``) and run folders of ``bgmix subtract`` and
``bgmix events`` into a self-contained folder whose ``index.html`` opens from the file
system: sortable tables, an accuracy-against-speed chart, synchronised videos of each
method coloured against the ground truth, per-frame F-measure plots and backgrounds.
"""

from bgmix.viz._record import MASK_COLOURS, colour_mask
from bgmix.viz._report import evaluate_report, write_report

__all__ = ["MASK_COLOURS", "colour_mask", "evaluate_report", "write_report"]
