"""Session-steps per second of the learned search env (Virtual Taobao, issue 12) at
B = 1024 on CPU, against the true C++ simulator and its NumPy twin in the same run.

Run: python -m pytest bench/test_learned_env.py --benchmark-only
Issue 12's target: >= 100x VirtualTaobao's single-session speed.  ``virtualtaobao``
steps VirtualTaobao's own ``VirtualTB`` env (one session, random actions in [-1, 1]^27,
reset when done; torch on one intra-op thread as ours) in the same run when
``SIMCORE_VTB_PATH`` names the directories that hold its ``virtualTB`` package and the
old ``gym`` it imports (os.pathsep-separated; BENCHMARKS.md shows the two commands that
make them), and is skipped otherwise.  ``simcore`` steps ``LearnedSearchVectorEnv``
(default world N = 1000, m = 8, K = 10; behaviour model of the default shape, seeded
weights; one top-K kernel call (``kernels.topk_indexed`` over the shared catalogue) and
one torch forward per batch step; torch on one intra-op thread, the kernel on 2);
``true-cpp`` steps the true ``SearchSimulator`` (2 threads); ``numpy`` the true
simulator's NumPy twin.  Each round of the batched cases is 20 batch steps under the LTR
ranking, ``items`` = 20 * 1024 session-steps; a round of ``virtualtaobao`` is 2000 steps of
its one session, ``items`` = 2000.  Steps per second = ``items`` / the round's time (the
tables report times per round).  On a loaded machine compare the ratios within one run, or
use bench/learned_env_cpu.py (CPU-seconds; VirtualTaobao too with ``SIMCORE_VTB_PATH``)
and bench/learned_env_callgrind.py (instructions).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.search import SearchSimulator, SessionConfig  # noqa: E402
from simcore.domains.search.reference import ReferenceSessionBatch  # noqa: E402
from simcore.domains.search.world import default_action_set  # noqa: E402
from simcore.domains.virtual_taobao.env import LearnedSearchVectorEnv  # noqa: E402

B, STEPS = 1024, 20
LTR = np.tile(default_action_set(8)[0], (B, 1))


@pytest.mark.parametrize("impl", ["simcore", "true-cpp", "numpy"])
def test_learned_env_steps(benchmark, impl):
    cfg = SessionConfig(num_threads=2)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    if impl == "simcore":
        env = LearnedSearchVectorEnv(B, cfg)
        env.reset(seed=0)
        step = env.step
    elif impl == "true-cpp":
        sim = SearchSimulator(cfg, B, 0)
        sim.reset()
        step = sim.step
    else:
        ref = ReferenceSessionBatch(cfg, B, 0)
        ref.reset()
        step = ref.step

    def run():
        for _ in range(STEPS):
            step(LTR)

    benchmark.group = "learned search env (B=1024, 20 steps)"
    benchmark.extra_info.update(impl=impl, items=B * STEPS)
    try:
        benchmark.pedantic(run, rounds=5 if impl != "numpy" else 2, iterations=1, warmup_rounds=1)
    finally:
        torch.set_num_threads(before)


VTB_STEPS = 2000


def _virtual_taobao():
    """VirtualTaobao's env from SIMCORE_VTB_PATH, or skip."""
    path = os.environ.get("SIMCORE_VTB_PATH")
    if not path:
        pytest.skip("VirtualTaobao not installed: set SIMCORE_VTB_PATH (see BENCHMARKS.md)")
    for p in reversed(path.split(os.pathsep)):
        if p not in sys.path:
            sys.path.insert(0, p)
    mod = pytest.importorskip("virtualTB.envs.virtualTB")
    return mod.VirtualTB()


def test_virtual_taobao_steps(benchmark):
    """VirtualTaobao's single-session speed, the issue's reference, in this run."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    env = _virtual_taobao()
    env.seed(0)
    env.reset()
    acts = np.random.default_rng(0).uniform(-1, 1, size=(VTB_STEPS, 27)).astype(np.float32)

    def run():
        for a in acts:
            if env.step(a)[2]:
                env.reset()

    benchmark.group = "learned search env (B=1024, 20 steps)"
    benchmark.extra_info.update(impl="virtualtaobao", items=VTB_STEPS)
    try:
        benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    finally:
        torch.set_num_threads(before)
