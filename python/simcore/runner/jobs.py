"""Jobs and the backends that run them.

A job is a module-level function and its keyword arguments: a pure function of
its inputs (its random streams come from seeds in its kwargs, derived by a
:class:`~simcore.util.seeds.SeedTree` path), so the inline, process and Ray backends
give identical results in job order, whatever the scheduling.  With a ``store``
directory each result is written atomically as its job finishes, and ``resume``
skips the jobs already stored (:mod:`simcore.runner.store`).

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

from simcore.runner.calls import call_job, limit_threads
from simcore.runner.context import BACKENDS, current
from simcore.runner.store import MISSING, ResultStore
from simcore.util.progress import Progress

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
    limit_threads(threads)


def _tick(units: float) -> None:
    counter = _WORKER.get("counter")
    if counter is not None:
        with counter.get_lock():
            counter.value += float(units)


def _run_in_worker(job: Job, has_shared: bool) -> Any:
    return call_job(job, _WORKER.get("shared"), has_shared, _tick)


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
    store: str | os.PathLike[str] | None = None,
    resume: bool = False,
    address: str | None = None,
) -> list[Any]:
    """Runs ``jobs`` and returns their results in job order.

    Args:
        jobs: the jobs (unique keys).
        backend: "inline" (this process, in order), "process" (a spawn-context
            process pool) or "ray" (Ray tasks, :mod:`simcore.runner.ray_backend`);
            results are identical on all three.
        workers: processes for the process backend, CPUs of a local Ray (None: all
            cores, at most one per job); the inline backend ignores it.
        progress: one progress bar for all jobs.
        desc, unit: the bar's label and unit.
        shared: an object passed once to each worker and to every call as the first
            positional argument (``has_shared`` defaults to ``shared is not None``).
        threads_per_worker: torch/OpenMP threads in each worker process (None: leave).
        total: the bar's total (default: the sum of ``Job.work``); jobs with ``ticks``
            report their own units, the others add their ``work`` when done.
        store: a directory where each job's result is written atomically as it
            finishes (:class:`~simcore.runner.store.ResultStore`).
        resume: reuse the results already in ``store`` for the same jobs (same
            function and keyword arguments) instead of running them again.
        address: the Ray cluster to connect to (None: start a local Ray unless one is
            running); only for ``backend="ray"``.

    Inside :func:`simcore.runner.context.execution` its backend replaces ``backend``
    and its store and resume apply to calls given no ``store``.
    """
    ctx = current()
    backend = ctx.backend or backend
    address = address or ctx.address
    if store is None and ctx.store is not None:
        store, resume = ctx.call_store(desc), resume or ctx.resume
    _check(jobs, backend, workers)
    if resume and store is None:
        raise ValueError("resume: needs a store directory")
    has_shared = (shared is not None) if has_shared is None else has_shared
    saver = ResultStore(store) if store is not None else None
    results = _stored(jobs, saver) if resume and saver is not None else {}
    todo = [i for i in range(len(jobs)) if i not in results]
    work = [jobs[i] for i in todo]
    bar = Progress(total if total is not None else sum(j.work for j in jobs), desc=desc, unit=unit,
                   enabled=progress)
    bar.update(sum(jobs[i].work for i in results) if total is None else 0.0)

    def done(k: int, result: Any) -> None:  # k indexes ``work``
        results[todo[k]] = result
        if saver is not None:
            saver.save(work[k], result)

    try:
        n = max(1, min(workers or os.cpu_count() or 1, len(work)))
        if backend == "ray" and work:
            from simcore.runner.ray_backend import run_ray

            run_ray(work, n, shared, has_shared, threads_per_worker, bar.update, done, address)
        elif backend == "inline" or n == 1 or not work:
            for k, job in enumerate(work):
                done(k, call_job(job, shared, has_shared, bar.update))
                if not job.ticks:
                    bar.update(job.work)
        else:
            _run_pool(work, n, shared, has_shared, threads_per_worker, bar, done)
        return [results[i] for i in range(len(jobs))]
    finally:
        bar.close()


def _stored(jobs: Sequence[Job], saver: ResultStore) -> dict[int, Any]:
    """index -> stored result, for the jobs whose result ``saver`` holds."""
    out: dict[int, Any] = {}
    for i, job in enumerate(jobs):
        r = saver.load(job)
        if r is not MISSING:
            out[i] = r
    return out


def _run_pool(jobs: Sequence[Job], n: int, shared: Any, has_shared: bool,
              threads: int | None, bar: Progress, done: Callable[[int, Any], None]) -> None:
    ctx = mp.get_context("spawn")
    counter = ctx.Value("d", 0.0)
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].work)  # largest first
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                             initargs=(shared, counter, threads)) as ex:
        futs = {ex.submit(_run_in_worker, jobs[i], has_shared): i for i in order}
        pending, seen = set(futs), 0.0
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in finished:
                i = futs[f]
                done(i, f.result())
                if not jobs[i].ticks:
                    bar.update(jobs[i].work)
            now = counter.value
            if now > seen:
                bar.update(now - seen)
                seen = now
