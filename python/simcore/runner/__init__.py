"""The one runner: independent jobs with named seeds, run inline or on a process pool
with the same results (a Ray backend arrives in its own issue).

* :mod:`~simcore.util.seeds` - :class:`SeedTree` (re-exported here): every random stream of an
  experiment is named by a path (``("learn", "q_learning", 0.9, "run", 3)``), never by
  a literal offset;
* :mod:`~simcore.runner.jobs` - :class:`Job` and :func:`run_jobs`.
"""

from simcore.runner.jobs import Job, run_jobs
from simcore.util.seeds import SeedTree

__all__ = ["Job", "run_jobs", "SeedTree"]
