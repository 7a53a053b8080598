"""One simulator used from several Python threads: serialised by the binding's
per-object lock (no heap corruption); results consistent with sequential use."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_two_threads_step_one_simulator_subprocess():
    code = textwrap.dedent("""
        import threading
        import numpy as np
        from simcore.domains.search.config import SessionConfig, WorldConfig
        from simcore.domains.search.simulator import SearchSimulator

        cfg = SessionConfig(world=WorldConfig(n_queries=6, n_items=55), max_steps=8)
        B, steps = 300, 200
        sim = SearchSimulator(cfg, B, seed=5)
        seq = SearchSimulator(cfg, B, seed=5)
        a = np.random.default_rng(0).normal(size=(B, sim.num_features))
        sim.reset(); seq.reset()
        errors = []

        def worker():
            try:
                for _ in range(steps):
                    sim.step(a)
                    sim.peek(a)
                    sim.users()
            except Exception as e:  # a clean error would be acceptable, but report it
                errors.append(repr(e))

        ts = [threading.Thread(target=worker) for _ in range(2)]
        for t in ts: t.start()
        for t in ts: t.join()
        assert not errors, errors
        for _ in range(2 * steps):
            seq.step(a)
        # Same actions every step: the serialised order cannot matter.
        np.testing.assert_array_equal(sim.steps_taken(), seq.steps_taken())
        r1, r2 = sim.step(a), seq.step(a)
        for k in ("obs", "reward", "page", "clicks", "b"):
            np.testing.assert_array_equal(getattr(r1, k), getattr(r2, k))
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_threads_share_kernels_subprocess():
    code = textwrap.dedent("""
        import threading
        import numpy as np
        from simcore import kernels
        from simcore.kernels import reference
        rng = np.random.default_rng(0)
        X = rng.random((32, 200, 4), dtype=np.float32)
        W = rng.normal(size=(32, 4)).astype(np.float32)
        want = reference.topk_batch(X, W, 7)
        bad = []
        def worker():
            for _ in range(30):
                if not np.array_equal(kernels.topk_batch(X, W, 7, threads=2), want):
                    bad.append(1)
        ts = [threading.Thread(target=worker) for _ in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        assert not bad
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
