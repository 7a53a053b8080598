"""The C++ loops release the GIL: Python code keeps running while they work."""

from __future__ import annotations

import threading

import numpy as np

from simcore import kernels
from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import SearchSimulator


def _python_progress_during(fn) -> int:
    """Iterations a Python loop completes while fn() runs in another thread."""
    started, finished = threading.Event(), threading.Event()
    count = 0

    def worker():
        started.set()
        fn()
        finished.set()

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    while not finished.is_set():
        count += 1
    t.join()
    return count


def test_topk_batch_releases_gil():
    rng = np.random.default_rng(0)
    X = rng.random((16, 50_000, 8), dtype=np.float32)
    W = rng.random((16, 8), dtype=np.float32)

    def work():
        for _ in range(5):
            kernels.topk_batch(X, W, 10, threads=1)

    # With the GIL held the loop above could not advance while topk_batch runs.
    assert _python_progress_during(work) > 1000


def test_simulator_step_releases_gil():
    sim = SearchSimulator(SessionConfig(num_threads=1), 2048, seed=0)
    sim.reset()
    A = np.ones((2048, 8), np.float32)

    def work():
        for _ in range(20):
            sim.step(A)

    assert _python_progress_during(work) > 1000
