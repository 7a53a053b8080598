"""The one runner: independent jobs with named seeds, run inline, on a process pool or
on Ray with the same results; results stored per job for ``resume``.

* :mod:`~simcore.util.seeds` - :class:`SeedTree` (re-exported here): every random stream of an
  experiment is named by a path (``("learn", "q_learning", 0.9, "run", 3)``), never by
  a literal offset;
* :mod:`~simcore.runner.jobs` - :class:`Job` and :func:`run_jobs`;
* :mod:`~simcore.runner.store` - per-job results written atomically (resume);
* :mod:`~simcore.runner.ray_backend` - the Ray backend (optional extra ``simcore[ray]``).
"""

from simcore.runner.jobs import Job, run_jobs
from simcore.util.seeds import SeedTree

__all__ = ["Job", "run_jobs", "SeedTree"]
