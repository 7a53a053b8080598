"""How a worker calls one job (shared by the process and Ray backends).

``job`` is a :class:`~simcore.runner.jobs.Job` (duck-typed here: ``fn``, ``kwargs``,
``ticks``), so this module imports nothing of the runner.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def limit_threads(threads: int | None) -> None:
    """OpenMP and torch threads of a worker process (None: leave them).

    Sets ``OMP_NUM_THREADS`` (which torch reads when it is first imported) and, if
    torch is already imported, ``torch.set_num_threads``; torch is not imported here
    (its import costs seconds per worker, for jobs that may never use it).
    """
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads)


def call_job(job: Any, shared: Any, has_shared: bool, tick: Callable[[float], None] | None) -> Any:
    kwargs = dict(job.kwargs)
    if job.ticks:
        kwargs["progress"] = tick if tick is not None else (lambda units: None)
    return job.fn(shared, **kwargs) if has_shared else job.fn(**kwargs)
