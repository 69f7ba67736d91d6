"""Independent random streams derived from the scene seed.

Every random decision of the generator draws from a stream keyed by
``(seed, component[, index...])``, so components do not disturb each other (adding
noise to a scene leaves its background and traffic unchanged) and any frame can be
rendered on its own: frame ``t`` uses the streams keyed by ``t`` and nothing else.
"""

from __future__ import annotations

import numpy as np

__all__ = ["root_seed", "stream"]

# Component keys (part of the scene's identity: changing one changes every scene).
SKY, BUILDINGS, GROUND, WATER, TREE, LANES, TRAFFIC, SCRIPTED, NOISE, JITTER, LIGHT = range(11)


def stream(root: int, *keys: int) -> np.random.Generator:
    """A generator seeded by ``SeedSequence([root, *keys, len(keys) + 1])``.

    All keys are non-negative ints. The trailing length makes key tuples of different
    lengths distinct: ``SeedSequence`` pads short entropy with zeros, so without it
    ``(root, a)`` and ``(root, a, 0)`` would give the same stream.
    """
    return np.random.default_rng([int(root), *(int(k) for k in keys), len(keys) + 1])


def root_seed(seed: object) -> int:
    """The integer root seed of a scene from ``seed`` (a non-negative int or a Generator).

    A ``Generator`` is consumed once (one draw), so the same generator state gives the
    same scene and the scene records the integer that reproduces it.
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    return int(seed)  # validated by the caller
