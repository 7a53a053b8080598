"""Jobs and the backends that run them.

A job is a module-level function and its keyword arguments: a pure function of
its inputs (its random streams come from seeds in its kwargs, derived by a
:class:`~simcore.runner.seeds.SeedTree` path), so the inline and process backends
give identical results in job order, whatever the scheduling.

Jobs that report fine-grained progress take a ``progress`` keyword (a callable
``progress(units)``); the runner passes one when ``Job.ticks`` is set, adding to one
bar for all workers.  A large read-only object shared by many jobs (a fitted model)
is passed once per worker as ``shared`` and given to each call as the first
positional argument.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from simcore.util.progress import Progress

BACKENDS = ("inline", "process")

_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class Job:
    """One unit of independent work.

    Attributes:
        key: a unique name (results.json keys, progress messages).
        fn: a module-level callable (picklable by reference for the process backend).
        kwargs: its keyword arguments (picklable).
        seed_path: the SeedTree path of the job's streams (recorded, not used here).
        work: relative size, for progress and for scheduling the largest first.
        ticks: pass a ``progress(units)`` callable to ``fn`` (units summed over jobs).
    """

    key: str
    fn: Callable[..., Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    seed_path: tuple[Any, ...] = ()
    work: float = 1.0
    ticks: bool = False


def _init_worker(shared: Any, counter: Any, threads: int | None) -> None:
    _WORKER["shared"] = shared
    _WORKER["counter"] = counter
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        try:  # torch, when the jobs use it, with few threads per worker
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass


def _tick(units: float) -> None:
    counter = _WORKER.get("counter")
    if counter is not None:
        with counter.get_lock():
            counter.value += float(units)


def _call(job: Job, shared: Any, has_shared: bool, tick: Callable[[float], None] | None) -> Any:
    kwargs = dict(job.kwargs)
    if job.ticks:
        kwargs["progress"] = tick if tick is not None else (lambda units: None)
    return job.fn(shared, **kwargs) if has_shared else job.fn(**kwargs)


def _run_in_worker(job: Job, has_shared: bool) -> Any:
    return _call(job, _WORKER.get("shared"), has_shared, _tick)


def _check(jobs: Sequence[Job], backend: str, workers: int | None) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers: expected None or an integer >= 1, got {workers!r}")
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("jobs: keys must be unique")


def run_jobs(
    jobs: Sequence[Job],
    backend: str = "inline",
    workers: int | None = None,
    progress: bool = True,
    desc: str = "jobs",
    unit: str = "units",
    shared: Any = None,
    has_shared: bool | None = None,
    threads_per_worker: int | None = 1,
    total: float | None = None,
) -> list[Any]:
    """Runs ``jobs`` and returns their results in job order.

    Args:
        jobs: the jobs (unique keys).
        backend: "inline" (this process, in order) or "process" (a spawn-context
            process pool; results identical to inline).
        workers: processes for the process backend (None: all cores, at most one per
            job); the inline backend ignores it.
        progress: one progress bar for all jobs.
        desc, unit: the bar's label and unit.
        shared: an object passed once to each worker and to every call as the first
            positional argument (``has_shared`` defaults to ``shared is not None``).
        threads_per_worker: torch/OpenMP threads in each worker process (None: leave).
        total: the bar's total (default: the sum of ``Job.work``); jobs with ``ticks``
            report their own units, the others add their ``work`` when done.
    """
    _check(jobs, backend, workers)
    has_shared = (shared is not None) if has_shared is None else has_shared
    bar = Progress(total if total is not None else sum(j.work for j in jobs), desc=desc, unit=unit,
                   enabled=progress)
    try:
        n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
        if backend == "inline" or n == 1 or not jobs:
            out = []
            for job in jobs:
                out.append(_call(job, shared, has_shared, bar.update))
                if not job.ticks:
                    bar.update(job.work)
            return out
        return _run_pool(jobs, n, shared, has_shared, threads_per_worker, bar)
    finally:
        bar.close()


def _run_pool(jobs: Sequence[Job], n: int, shared: Any, has_shared: bool,
              threads: int | None, bar: Progress) -> list[Any]:
    ctx = mp.get_context("spawn")
    counter = ctx.Value("d", 0.0)
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].work)  # largest first
    results: dict[int, Any] = {}
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                             initargs=(shared, counter, threads)) as ex:
        futs = {ex.submit(_run_in_worker, jobs[i], has_shared): i for i in order}
        pending, seen = set(futs), 0.0
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in done:
                i = futs[f]
                results[i] = f.result()
                if not jobs[i].ticks:
                    bar.update(jobs[i].work)
            now = counter.value
            if now > seen:
                bar.update(now - seen)
                seen = now
    return [results[i] for i in range(len(jobs))]
