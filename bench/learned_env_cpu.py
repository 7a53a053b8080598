"""Session-steps per CPU-second of the learned search env (issue 12) against the true C++
simulator, interleaved in one process: a speed measure that is far less sensitive to
machine load than wall-clock time (other processes take cores, not CPU-seconds).

Usage: python bench/learned_env_cpu.py [--rounds 7] [--steps 20] [--vtb-steps 2000]

Everything runs on one thread (torch intra-op, the top-K kernel, the true simulator),
B = 1024, default world, the LTR ranking, an untrained seeded behaviour model, as in
bench/test_learned_env.py.  Each round times ``steps`` batch steps of the learned env
and then of the true simulator by ``time.process_time``; it prints the medians (and
range) over rounds after one warm-up round, and the ratio of the medians.  On a quiet
core CPU-seconds equal wall seconds; under load they still include the cache and
memory-bandwidth contention of other processes, so the ratio is the stabler figure.

With ``SIMCORE_VTB_PATH`` set (as for bench/test_learned_env.py: the directories of
VirtualTaobao's ``virtualTB`` package and the old ``gym`` it imports, BENCHMARKS.md),
each round also times ``vtb-steps`` steps of VirtualTaobao's own single-session
``VirtualTB`` env (random actions in [-1, 1]^27, reset when done, torch on one thread)
and prints the learned env's session-steps per CPU-second over VirtualTaobao's steps
per CPU-second (issue 12's ">= 100x VirtualTaobao's single-session speed").
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--vtb-steps", type=int, default=2000)
    a = p.parse_args()
    import torch

    torch.set_num_threads(1)
    from simcore.domains.search import SearchSimulator, SessionConfig
    from simcore.domains.search.world import default_action_set
    from simcore.domains.virtual_taobao.env import LearnedSearchVectorEnv

    B = 1024
    ltr = np.tile(default_action_set(8)[0], (B, 1))
    cfg = SessionConfig(num_threads=1)
    env = LearnedSearchVectorEnv(B, cfg)
    env.reset(seed=0)
    sim = SearchSimulator(cfg, B, 0)
    sim.reset()
    res: dict[str, list[float]] = {"learned": [], "true": []}
    vtb = _virtual_taobao()
    if vtb is not None:
        res["vtb"] = []
        vtb_acts = np.random.default_rng(0).uniform(-1, 1, size=(a.vtb_steps, 27)).astype(np.float32)
    for r in range(a.rounds + 1):
        for name, step in (("learned", env.step), ("true", sim.step)):
            t0 = time.process_time()
            for _ in range(a.steps):
                step(ltr)
            dt = time.process_time() - t0
            if r:
                res[name].append(B * a.steps / dt)
        if vtb is not None:
            t0 = time.process_time()
            for act in vtb_acts:
                if vtb.step(act)[2]:
                    vtb.reset()
            if r:
                res["vtb"].append(a.vtb_steps / (time.process_time() - t0))
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for k, v in res.items():
        print(f"{k:8s} session-steps per CPU-second: median {np.median(v):9.0f}  (min {min(v):.0f}, max {max(v):.0f})")
    print(f"true / learned (medians): {np.median(res['true']) / np.median(res['learned']):.2f}")
    if vtb is not None:
        print(f"learned / VirtualTaobao (medians): {np.median(res['learned']) / np.median(res['vtb']):.1f}")


def _virtual_taobao():  # type: ignore[no-untyped-def]
    """VirtualTaobao's VirtualTB env (seeded 0, reset) from SIMCORE_VTB_PATH, or None."""
    path = os.environ.get("SIMCORE_VTB_PATH")
    if not path:
        return None
    for d in reversed(path.split(os.pathsep)):
        if d not in sys.path:
            sys.path.insert(0, d)
    from virtualTB.envs.virtualTB import VirtualTB

    env = VirtualTB()
    env.seed(0)
    env.reset()
    return env


if __name__ == "__main__":
    main()
