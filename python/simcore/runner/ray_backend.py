"""The Ray backend of :func:`simcore.runner.run_jobs`: each job is a Ray task.

Results are identical to the inline and process backends (a job is a pure function of
its keyword arguments, whose seeds are named paths), returned in job order whatever
the scheduling.  The shared object is put into the object store once.  Progress of
``ticks`` jobs goes through a small counter actor that the driver polls, so one bar
covers all workers.  A task whose worker process dies is retried by Ray
(``max_retries``); a task that raises is not (the error is the job's).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

#: what to install for ``backend="ray"``
RAY_HINT = 'backend "ray" needs Ray: pip install "simcore[ray]"  (pins ray 2.60.0)'
#: retries of a task whose worker died
MAX_RETRIES = 3


def import_ray() -> Any:
    """``ray``, or ImportError with the one-line install hint."""
    try:
        import ray
    except ImportError as e:
        raise ImportError(RAY_HINT) from e
    return ray


def _ensure_ray(ray: Any, address: str | None, workers: int) -> bool:
    """Starts (or connects to) Ray if needed; True when this call started it."""
    if ray.is_initialized():
        return False
    if address:  # the cluster's own authentication settings apply (RAY_AUTH_MODE, RAY_AUTH_TOKEN)
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    else:  # a private local Ray for this run: no token unless the caller set RAY_AUTH_MODE
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=workers, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    return True


def _remote_fns(ray: Any) -> tuple[Any, Any]:
    @ray.remote(num_cpus=0)
    class Counter:  # pragma: no cover - runs in a Ray worker
        def __init__(self) -> None:
            self.value = 0.0

        def add(self, units: float) -> None:
            self.value += float(units)

        def get(self) -> float:
            return self.value

    @ray.remote(max_retries=MAX_RETRIES)
    def call(job: Any, shared: Any, has_shared: bool, counter: Any, threads: int | None) -> Any:  # pragma: no cover
        from simcore.runner.calls import call_job, limit_threads

        limit_threads(threads)
        tick = (lambda units: counter.add.remote(units)) if counter is not None and job.ticks else None
        return call_job(job, shared, has_shared, tick)

    return Counter, call


def run_ray(jobs: Sequence[Any], workers: int, shared: Any, has_shared: bool, threads: int | None,
            update: Callable[[float], None], done: Callable[[int, Any], None],
            address: str | None = None) -> dict[int, Any]:
    """Runs ``jobs`` as Ray tasks; calls ``done(i, result)`` as each finishes and
    ``update(units)`` for progress; returns index -> result.

    The progress counter actor is started only when some job ticks; finished tasks are
    collected in batches (every ``ray.wait`` returns all that are ready within 0.2 s).
    """
    ray = import_ray()
    started = _ensure_ray(ray, address, workers)
    try:
        Counter, call = _remote_fns(ray)
        counter = Counter.remote() if any(j.ticks for j in jobs) else None
        shared_ref = ray.put(shared)
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i].work)  # largest first
        refs = {call.remote(jobs[i], shared_ref, has_shared, counter, threads): i for i in order}
        results: dict[int, Any] = {}
        pending, seen = list(refs), 0.0
        while pending:
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0.2)
            for r, value in zip(ready, ray.get(ready)):
                i = refs[r]
                results[i] = value
                done(i, value)
                if not jobs[i].ticks:
                    update(jobs[i].work)
            now = float(ray.get(counter.get.remote())) if counter is not None else 0.0
            if now > seen:
                update(now - seen)
                seen = now
        return results
    finally:
        if started:
            ray.shutdown()
