"""The persistent worker pool (cpp/simcore/common/worker_pool.hpp) behind the autoscaling,
lifecycle and search-session steps: results equal one thread's bit for bit whatever the thread count, also when one
object's pool is reused with changing counts and odd batch sizes, and a forked child
(its parent's workers absent) starts its own workers and goes on identically."""

from __future__ import annotations

import multiprocessing as mp
import sys

import numpy as np
import pytest

from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.simulator import AutoscalingSimulator


def _acts(B: int, steps: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.where(rng.random(B) < 0.3, rng.uniform(-0.5, 1.0, B), 0.0) for _ in range(steps)]


def _trace(sim: AutoscalingSimulator, acts: list[np.ndarray], threads: list[int] | None = None) -> np.ndarray:
    """Concatenated (obs, reward, vms) of every step, float64 (steps * B * 11,)."""
    out = []
    for k, a in enumerate(acts):
        if threads is not None:
            sim.threads = threads[k % len(threads)]
        r = sim.step(a)
        out.append(np.concatenate([r.obs.ravel().astype(np.float64), r.reward, r.vms.astype(np.float64)]))
    return np.concatenate(out)


@pytest.mark.parametrize("B", [1, 7, 255, 1025, 4099])
def test_pool_equals_one_thread_with_changing_counts(B: int) -> None:
    acts = _acts(B, 25)
    one = AutoscalingSimulator(AutoscalingConfig(horizon=12, num_threads=1), B, seed=3)
    one.reset()
    many = AutoscalingSimulator(AutoscalingConfig(horizon=12, num_threads=2), B, seed=3)
    many.reset()
    # horizon 12 puts NEXT_STEP autoresets (reset through the pool) inside the trace
    assert np.array_equal(_trace(one, acts), _trace(many, acts, threads=[2, 3, 5, 1, 8, 2]))


def _child(sim: AutoscalingSimulator, acts: list[np.ndarray], q: mp.Queue) -> None:
    q.put(_trace(sim, acts).tobytes())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_forked_child_starts_its_own_workers() -> None:
    B = 4096
    sim = AutoscalingSimulator(AutoscalingConfig(horizon=10**6, num_threads=2), B, seed=5)
    sim.reset()
    _trace(sim, _acts(B, 3, seed=1))  # the parent's pool has its worker now
    acts = _acts(B, 6, seed=2)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(sim, acts, q))
    p.start()
    try:
        child = q.get(timeout=120)  # a child waiting on the parent's workers would hang here
    finally:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    assert p.exitcode == 0
    assert child == _trace(sim, acts).tobytes()


@pytest.mark.parametrize("budget", [6.0, 1e6], ids=["budget-binds", "one-pass"])
def test_lifecycle_pool_equals_one_thread_with_changing_counts(budget: float) -> None:
    import dataclasses

    from simcore.domains.lifecycle.config import LifecycleConfig
    from simcore.domains.lifecycle.simulator import LifecycleSimulator

    B = 9000  # several chunks of the step's minimum chunk
    cfg = dataclasses.replace(LifecycleConfig(), horizon_days=3, budget_per_user=budget,
                              user_cap=max(30.0, budget))
    acts = np.random.default_rng(4).integers(0, 16, size=(7, B))  # 7 steps: autoresets inside
    traces = []
    for counts in ([1], [2, 3, 5, 2, 1, 8, 2]):
        sim = LifecycleSimulator(dataclasses.replace(cfg, num_threads=1), B, seed=9)
        sim.reset()
        out = []
        for k, a in enumerate(acts):
            sim.threads = counts[k % len(counts)]
            r = sim.step(a)
            out += [r.obs.astype(np.float64).ravel(), np.asarray(r.reward, np.float64)]
        traces.append(np.concatenate(out))
    assert np.array_equal(traces[0], traces[1])


@pytest.mark.parametrize("B", [5, 300, 1100])
def test_search_pool_equals_one_thread_with_changing_counts(B: int) -> None:
    from simcore.domains.search.simulator import SearchSimulator

    traces = []
    for counts in ([1], [2, 3, 5, 1, 8, 2]):
        sim = SearchSimulator(num_sessions=B, seed=4)
        sim.reset()
        rng = np.random.default_rng(6)
        out = []
        for k in range(30):  # sessions end and autoreset inside the trace
            sim.threads = counts[k % len(counts)]
            r = sim.step(rng.normal(size=(B, sim.num_features)).astype(np.float32))
            out += [r.obs.astype(np.float64).ravel(), r.reward, r.page.astype(np.float64).ravel()]
        traces.append(np.concatenate(out))
    assert np.array_equal(traces[0], traces[1])
