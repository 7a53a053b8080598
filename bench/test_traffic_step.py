"""Session-steps per second of the tiered-traffic step against the plain search step
(issue 11 asks >= 80 %) and against its NumPy twin, measured in the same run.

Run: python -m pytest bench/test_traffic_step.py --benchmark-only
Default worlds: N = 1000 candidates, m = 8 base features, m_t = 3 tiers (so 11 ranking
columns), K = 10, 64 queries; sampled outcomes, autoresets included.  In each group
``simcore`` is the traffic step under the envs' actions (random tier weights every step
on pi_basic's base weights: pages by the per-tier-class merge); ``traffic-general`` the
traffic step under random weights on every column (the general top-k over 11 columns);
``search-m8`` the plain search step on the same base catalogue with random weights on
its 8 columns (the search bench's case) and ``search-m11`` the search step over the same
11 columns.  The summary's "ratio" of a row is its time per session-step over the
traffic step's, i.e. traffic throughput / that row's throughput.
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.reference import ReferenceTrafficBatch
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.domains.traffic.world import make_traffic_world


def _traffic_actions(base: np.ndarray, B: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = np.broadcast_to(base, (steps, B, base.size)).copy()
    a[..., 8:] = rng.normal(0, 0.2, size=(steps, B, base.size - 8))
    return a.astype(np.float32)


def _search_actions(m: int, B: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    ltr = np.zeros(m, np.float32)
    ltr[1:4] = (0.3, 0.3, 0.4)
    a = np.broadcast_to(ltr, (steps, B, m)).copy()
    a[..., 8:] = rng.normal(0, 0.2, size=(steps, B, m - 8))
    if m == 8:  # the search bench's random weights on every column
        a += rng.normal(0, 0.2, size=a.shape)
    return a.astype(np.float32)


def _search_sim(m: int, B: int) -> SearchSimulator:
    cfg = TrafficConfig(session=SessionConfig(num_threads=min(2, B)))
    if m == 8:
        return SearchSimulator(cfg.session, B, seed=0)
    w = make_traffic_world(cfg)  # the traffic catalogue's 11 columns as plain search features
    from simcore.domains.search.world import World

    world = World(features=w.features, prices=w.prices, segment_probs=w.segment_probs,
                  segment_pref=w.segment_pref)
    return SearchSimulator(SessionConfig(world=WorldConfig(n_features=m), num_threads=min(2, B)), B, 0, world)


@pytest.mark.parametrize("B", [64, 1024])
@pytest.mark.parametrize("impl", ["simcore", "traffic-general", "search-m8", "search-m11", "numpy"])
def test_traffic_vs_search_step(benchmark, B, impl):
    steps = max(4, 4096 // B) if impl != "numpy" else max(2, 256 // B)
    cfg = TrafficConfig(session=SessionConfig(num_threads=min(2, B)))
    if impl in ("simcore", "numpy"):
        sim = TrafficSimulator(cfg, B, seed=0) if impl == "simcore" else ReferenceTrafficBatch(cfg, B, seed=0)
        acts = _traffic_actions(np.array(cfg.basic_vector(), np.float32), B, steps)
    elif impl == "traffic-general":
        sim = TrafficSimulator(cfg, B, seed=0)
        acts = _search_actions(11, B, steps)
        acts[..., :8] += np.random.default_rng(1).normal(0, 0.2, size=acts[..., :8].shape).astype(np.float32)
    else:
        m = 8 if impl == "search-m8" else 11
        sim = _search_sim(m, B)
        acts = _search_actions(m, B, steps)
    sim.reset()

    def run():
        for a in acts:
            sim.step(a)

    benchmark.group = f"traffic step B={B}" + (" (num_threads=2)" if B > 1 else "")
    benchmark.extra_info.update(impl=impl, items=B * steps)
    benchmark(run)


def cpu_time_ratios(B: int, rounds: int = 10) -> dict[str, float]:
    """Session-steps per CPU second of every case but the NumPy twin, one thread each,
    the cases interleaved round by round and the best round kept: on a shared machine
    CPU time and the minimum are steadier than wall-clock medians.  Returns case ->
    session-steps per CPU second."""
    import time

    steps = max(8, 8192 // B)
    cfg = TrafficConfig(session=SessionConfig(num_threads=1))
    base = np.array(cfg.basic_vector(), np.float32)
    general = _search_actions(11, B, steps)
    general[..., :8] += np.random.default_rng(1).normal(0, 0.2, size=general[..., :8].shape).astype(np.float32)
    cases = {"simcore": (TrafficSimulator(cfg, B, seed=0), _traffic_actions(base, B, steps)),
             "traffic-general": (TrafficSimulator(cfg, B, seed=0), general),
             "search-m8": (_search_sim(8, B), _search_actions(8, B, steps)),
             "search-m11": (_search_sim(11, B), _search_actions(11, B, steps))}
    for sim, _ in cases.values():
        sim.threads = 1
        sim.reset()
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(rounds):
        for k, (sim, acts) in cases.items():
            t = time.process_time()
            for a in acts:
                sim.step(a)
            best[k] = min(best[k], (time.process_time() - t) / (B * steps))
    return {k: 1.0 / v for k, v in best.items()}


if __name__ == "__main__":  # python bench/test_traffic_step.py [B ...]: the CPU-time table
    import sys

    for B in [int(x) for x in sys.argv[1:]] or [64, 1024]:
        r = cpu_time_ratios(B)
        for k, v in r.items():
            print(f"B={B:5d} {k:16s} {v / 1e3:8.1f}k session-steps / CPU s, {v / r['search-m8']:.3f} of search-m8")
