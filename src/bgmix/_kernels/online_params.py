"""The scalars of one frame of each online mixture kernel, as named tuples.

Numba receives each tuple as one argument and reads its fields by name, and the
subtractors build them by name: no kernel argument is passed or read back by
position. This module imports no Numba, so the subtractors can build the tuples when
they validate their parameters.

Every tuple holds, besides its method's own scalars (float32 unless said):

alpha
    The learning rate of this frame (0 freezes the model).
hold_frames : int
    The stop-and-stay hold (0: off; see :func:`bgmix._kernels.online_common.hold_update`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["GMMFullParams", "MOG2Params", "MOGParams"]


class MOG2Params(NamedTuple):
    """The scalars of one ``mog2`` frame (all IN; ``alpha``, ``hold_frames``: module notes).

    Attributes
    ----------
    prune : ``-alpha * c_T``: a component whose weight falls below ``-prune`` is dropped.
    tb, tbr, tg : ``var_threshold`` (background match), ``background_ratio``,
        ``var_threshold_gen`` (update match), as squared Mahalanobis distances.
    var_init, var_min, var_max : variance of a new component and the variance bounds.
    detect_shadows : bool, run the shadow test on non-background pixels.
    tau : shadow threshold (a shadow is at least this bright relative to the model).
    shadow_value : uint8, mask value of shadow pixels.
    """

    alpha: np.float32
    prune: np.float32
    tb: np.float32
    tbr: np.float32
    tg: np.float32
    var_init: np.float32
    var_min: np.float32
    var_max: np.float32
    detect_shadows: bool
    tau: np.float32
    shadow_value: np.uint8
    hold_frames: int


class MOGParams(NamedTuple):
    """The scalars of one ``mog`` frame (all IN; ``alpha``, ``hold_frames``: module notes).

    Attributes
    ----------
    lam2 : squared match threshold (in standard deviations).
    var_init : variance of a replaced component.
    var_min : floor of every variance.
    w_init : weight of a replaced component.
    tbr : the first components whose weights sum to this are background.
    """

    alpha: np.float32
    lam2: np.float32
    var_init: np.float32
    var_min: np.float32
    w_init: np.float32
    tbr: np.float32
    hold_frames: int


class GMMFullParams(NamedTuple):
    """The scalars of one ``gmm-full`` frame (all IN; ``alpha``, ``hold_frames``: module
    notes).

    Attributes
    ----------
    lam2 : squared match threshold on the Mahalanobis distance.
    var_init : variance of a re-initialised component.
    var_min : every eigenvalue of every covariance stays above this.
    rule : int, ``RULE_ANY`` (0) or ``RULE_RANKED`` (1) of
        :mod:`bgmix._kernels.online_gmm_full`.
    tbr : ranked rule: the first components whose weights exceed this are background.
    """

    alpha: np.float32
    lam2: np.float32
    var_init: np.float32
    var_min: np.float32
    rule: int
    tbr: np.float32
    hold_frames: int
