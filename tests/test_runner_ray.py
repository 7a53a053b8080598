"""The Ray backend of the runner: same results as inline, progress, retried workers."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from tests.runner_jobs import dies_once, draw, draw_shared

from simcore.runner import Job, SeedTree, run_jobs

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {"env_vars": {"SIMCORE_TEST_IN_RAY": "1", "PYTHONPATH": os.pathsep.join(sys.path)}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=env,
             _temp_dir=str(tmp_path_factory.mktemp("ray")))
    yield
    ray.shutdown()


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
