"""What the per-pixel clustering models ``em`` and ``kmeans`` do alike.

Both fit clusters to every pixel's training samples, starting from ``init`` (the
means of brightness-quantile groups, or frames drawn with the fit's seed), and both
keep updating the clusters after the fit at ``online_rate`` when :meth:`apply` is
given the automatic learning rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix.background._batch import BatchSubtractor, as_seed

__all__ = ["INITS", "PixelClusterSubtractor"]

#: The values of ``init``.
INITS = ("quantile", "random")


class PixelClusterSubtractor(BatchSubtractor):
    """Base of the batch models that cluster each pixel's samples (``em``, ``kmeans``).

    Parameters
    ----------
    online_rate : float, default 0.0
        Learning rate used after the fit when :meth:`apply` is called with the
        automatic rate (-1): 0 keeps the fitted model frozen; a rate in (0, 1) keeps
        learning online. An explicit ``learning_rate`` overrides it.
    random_state : int, Generator or None, default None
        Seed of ``init="random"``: one seed is drawn per fit, and the per-pixel draws
        hash it with the pixel index, so an int reproduces the fit.
    max_memory, block_rows, n_jobs, postprocess
        See :class:`~bgmix.background._batch.BatchSubtractor`.

    Notes
    -----
    Subclasses declare ``init`` (one of :data:`INITS`), ``online_rate`` and
    ``random_state`` among their parameters (in their own order), allocate their
    model in ``_allocate_model(H, W, C)``, and run their kernels in ``_fit_block``
    (with ``self._init_code`` and ``self._seed``) and in
    ``_update(frame, alpha, mask)``.
    """

    init: str
    online_rate: float
    random_state: Any

    def _fit_allocate(self, shape: tuple[int, int, int, int]) -> dict[str, Any]:
        _, H, W, C = shape
        self._seed = as_seed(self.random_state) if self.init == "random" else 0
        return self._allocate_model(H, W, C)

    def _allocate_model(self, H: int, W: int, C: int) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    @property
    def _init_code(self) -> int:
        """``init`` as the kernels take it (:mod:`bgmix._kernels.batch_em`)."""
        from bgmix._kernels import batch_em

        return batch_em.INIT_RANDOM if self.init == "random" else batch_em.INIT_QUANTILE

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        alpha = float(self.online_rate) if learning_rate < 0 else float(learning_rate)
        mask = np.empty(frame.shape[:2], np.uint8)
        self._update(frame, alpha, mask)
        return mask

    def _update(self, frame: np.ndarray, alpha: float, mask: np.ndarray) -> None:
        """Classify ``frame`` into ``mask`` and update the clusters at rate ``alpha``."""
        raise NotImplementedError  # pragma: no cover - every subclass defines it
