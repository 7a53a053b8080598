"""Session-steps per CPU-second of the learned search env (issue 12) against the true C++
simulator, interleaved in one process: a speed measure that is far less sensitive to
machine load than wall-clock time (other processes take cores, not CPU-seconds).

Usage: python bench/learned_env_cpu.py [--rounds 7] [--steps 20]

Everything runs on one thread (torch intra-op, the top-K kernel, the true simulator),
B = 1024, default world, the LTR ranking, an untrained seeded behaviour model, as in
bench/test_learned_env.py.  Each round times ``steps`` batch steps of the learned env
and then of the true simulator by ``time.process_time``; it prints the medians (and
range) over rounds after one warm-up round, and the ratio of the medians.  On a quiet
core CPU-seconds equal wall seconds; under load they still include the cache and
memory-bandwidth contention of other processes, so the ratio is the stabler figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=20)
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
    for r in range(a.rounds + 1):
        for name, step in (("learned", env.step), ("true", sim.step)):
            t0 = time.process_time()
            for _ in range(a.steps):
                step(ltr)
            dt = time.process_time() - t0
            if r:
                res[name].append(B * a.steps / dt)
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for k, v in res.items():
        print(f"{k:8s} session-steps per CPU-second: median {np.median(v):9.0f}  (min {min(v):.0f}, max {max(v):.0f})")
    print(f"true / learned (medians): {np.median(res['true']) / np.median(res['learned']):.2f}")


if __name__ == "__main__":
    main()
