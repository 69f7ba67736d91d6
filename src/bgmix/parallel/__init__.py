"""Scale-out on Dask: many inputs, one long video in time segments, evaluation grids.

``bgmix.parallel.events`` does the same for motion events.

Everything here also runs without Dask (``scheduler=None``: the units run in this
process one after the other); with ``scheduler="local:N"``, a scheduler address or a
``distributed.Client`` the units run on a cluster (optional extra:
``pip install 'bgmix[distributed]'``). Tasks receive paths and parameters and return
small records: workers read their inputs from storage they all see and publish their
outputs there by atomic rename, so no frame passes through the scheduler or the
client, a task killed with its worker runs again elsewhere without leaving a partial
file, and a rerun skips the units whose outputs are complete.

>>> from bgmix.parallel import parse_scheduler
>>> parse_scheduler("local:2")
('local', 2)
"""

from bgmix.parallel._api import evaluate, events, expand_grid, subtract
from bgmix.parallel._client import ExtraNotInstalledError, Runner, SchedulerError, parse_scheduler
from bgmix.parallel._segments import default_warmup, plan_segments

__all__ = [
    "ExtraNotInstalledError",
    "Runner",
    "SchedulerError",
    "default_warmup",
    "evaluate",
    "events",
    "expand_grid",
    "parse_scheduler",
    "plan_segments",
    "subtract",
]
