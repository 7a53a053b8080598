"""The Ray backend of the runner: same results as inline, progress, retried workers."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.runner_jobs import dies_once, draw, draw_shared, waits_to_be_killed

from simcore.runner import Job, SeedTree, run_jobs

ray = pytest.importorskip("ray")


def _draw_jobs() -> list[Job]:
    root = SeedTree(7)
    return [Job(key=f"d/{k}", fn=draw, kwargs={"seed": root.seed("job", k), "n": 5}, work=1 + k % 3)
            for k in range(6)]


def test_ray_equals_inline_in_job_order(local_ray):
    a = run_jobs(_draw_jobs(), backend="inline", progress=False)
    b = run_jobs(_draw_jobs(), backend="ray", workers=2, progress=False)
    assert len(a) == len(b) == 6
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[1])  # different seeds, different streams


def test_ray_shared_object_and_ticks(local_ray):
    shared = np.arange(4.0)
    jobs = [Job(key=f"s/{k}", fn=draw_shared, kwargs={"seed": k}, ticks=True) for k in range(4)]
    a = run_jobs(jobs, backend="inline", shared=shared, progress=False)
    b = run_jobs(jobs, backend="ray", workers=2, shared=shared, progress=True, total=8.0)
    assert a == b


def test_ray_retries_a_killed_worker_with_identical_results(local_ray, tmp_path):
    jobs = [Job(key=f"k/{k}", fn=dies_once, kwargs={"seed": k, "marker": str(tmp_path / f"m{k}")})
            for k in range(3)]
    got = run_jobs(jobs, backend="ray", workers=2, progress=False, store=tmp_path / "store")
    assert all((tmp_path / f"m{k}").exists() for k in range(3))  # every job's first worker died
    want = run_jobs(jobs, backend="inline", progress=False)  # outside Ray: no deaths
    assert got == want
    again = run_jobs(jobs, backend="ray", progress=False, store=tmp_path / "store", resume=True)
    assert again == want


def _kill_when_started(pid_file: Path, timeout: float = 120.0) -> None:
    """Waits for the victim's pid, marks it killed, SIGKILLs it (from this thread)."""
    deadline = time.monotonic() + timeout
    while not pid_file.exists():
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    Path(str(pid_file) + ".killed").write_text("killed")
    os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_task_killed_from_outside_is_retried_with_identical_complete_results(local_ray, tmp_path):
    pid_file = tmp_path / "victim.pid"
    root = SeedTree(11)
    jobs = [Job(key=f"v/{k}", fn=waits_to_be_killed,
                kwargs={"seed": root.seed("job", k), "pid_file": str(pid_file), "victim": k == 1})
            for k in range(4)]
    killer = threading.Thread(target=_kill_when_started, args=(pid_file,), daemon=True)
    killer.start()
    got = run_jobs(jobs, backend="ray", workers=2, progress=False, store=tmp_path / "store")
    killer.join(timeout=5)
    victim, retry = int(pid_file.read_text()), int(Path(str(pid_file) + ".retry").read_text())
    assert victim != retry  # the retry ran in another worker process
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # the killed worker is gone
    assert got == run_jobs(jobs, backend="inline", progress=False)  # identical and complete
    assert len(list((tmp_path / "store").glob("*.pkl"))) == len(jobs)  # every result stored
