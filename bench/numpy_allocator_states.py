"""NumPy's top-k idiom at N = 1e6 in its two allocator states, next to simcore.topk.

Run in a fresh process: python bench/numpy_allocator_states.py

glibc serves blocks above its mmap threshold (128 KiB at start) with fresh pages, so the
idiom's ~16 MB of temporaries page-fault on every call until some block of up to 32 MiB
has been freed, which raises the threshold.  bench/conftest.py puts every benchmark run
in the second (fast) state; this script shows both.  It also times simcore before and
right after the NumPy calls: on the 2-core VM of BENCHMARKS.md simcore's two-thread topk
measured 1.0-1.2 ms before and 2.1-2.3 ms right after them in four runs of this script
(unexplained: its single-thread time and the streaming-read probe did not change, and a
`perf stat` run of the same sequence showed no difference).
"""

from __future__ import annotations

import time

import numpy as np

from simcore import kernels


def numpy_topk(X: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    s = X @ w
    idx = np.argpartition(-s, k - 1)[:k]
    return idx[np.argsort(-s[idx], kind="stable")]


def median_ms(fn, repeats: int = 40) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((1_000_000, 8), dtype=np.float32)
    w = rng.normal(size=8).astype(np.float32)
    ours = median_ms(lambda: kernels.topk(X, w, 10))
    fresh = median_ms(lambda: numpy_topk(X, w, 10))
    block = np.ones(30_000_000 // 8)
    del block
    settled = median_ms(lambda: numpy_topk(X, w, 10))
    ours_after = median_ms(lambda: kernels.topk(X, w, 10))
    print(f"simcore.domains.search.simulator.topk, before any NumPy call : {ours:6.2f} ms")
    print(f"NumPy idiom, fresh pages per call        : {fresh:6.2f} ms  ({fresh / ours:.1f}x simcore)")
    print(f"NumPy idiom, after a 30 MB free          : {settled:6.2f} ms  ({settled / ours:.1f}x simcore)")
    print(f"simcore.domains.search.simulator.topk, right after NumPy     : {ours_after:6.2f} ms")

if __name__ == "__main__":
    main()
