"""What the Ray backend of the runner costs against the process backend (and the
inline one) on this machine, for small and large jobs, measured in the same run.

Run: python -m pytest bench/test_runner_backends.py --benchmark-only
(needs ``pip install "simcore[ray]"``).  Two workers on each backend.  Ray is started
once, outside the timings (a cluster is already running when one submits to it); its
start-up is measured apart as ``ray-init``.  The process backend starts its pool (spawn:
one interpreter + simcore import per worker) inside each call, as ``run_jobs`` does.

Cases (group = case, impl = backend; ratio = backend / ray, so > 1 means Ray is faster):
* ``tiny-64``: 64 jobs of microseconds each: pure per-job overhead;
* ``sessions-4x``: 4 jobs of 1,024 search sessions x 400 batched steps (about a second
  each): the overhead relative to real work.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import pytest

from simcore.runner import Job, SeedTree, run_jobs

sys.path.insert(0, os.path.dirname(__file__))
import backend_jobs  # noqa: E402  (module-level job functions)

ray = pytest.importorskip("ray")

CASES = {
    "tiny-64": lambda root: [Job(key=f"t/{k}", fn=backend_jobs.tiny, kwargs={"seed": root.seed("job", k)})
                             for k in range(64)],
    "sessions-4x": lambda root: [Job(key=f"s/{k}", fn=backend_jobs.sessions,
                                     kwargs={"seed": root.seed("job", k), "num_sessions": 1024, "steps": 400})
                                 for k in range(4)],
}


@pytest.fixture(scope="module")
def bench_ray():
    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp = tempfile.mkdtemp(prefix="scbench-")
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}})
    started = time.perf_counter() - t0
    yield started
    ray.shutdown()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("backend", ["ray", "process", "inline"])
def test_backend(benchmark, bench_ray, case, backend):
    jobs = CASES[case](SeedTree(0))
    want = run_jobs(jobs, backend="inline", progress=False) if backend != "inline" else None
    benchmark.group = case
    benchmark.extra_info["impl"] = "simcore" if backend == "ray" else backend
    benchmark.extra_info["ray_init_s"] = bench_ray
    got = benchmark.pedantic(lambda: run_jobs(jobs, backend=backend, workers=2, progress=False),
                             rounds=3, iterations=1, warmup_rounds=1)
    if want is not None:
        assert got == want  # identical results on every backend
