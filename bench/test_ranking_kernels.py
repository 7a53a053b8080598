"""topk, topk_batch and discordant_pairs against NumPy / SciPy, measured side by side.

Run: python -m pytest bench/test_ranking_kernels.py --benchmark-only
"""

from __future__ import annotations

import contextlib
import ctypes

import numpy as np
import pytest

from simcore import _core, core

K = 10


def numpy_topk(X: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """The idiomatic NumPy top-k: X @ w, argpartition, sort of the k."""
    s = X @ w
    idx = np.argpartition(-s, k - 1)[:k]
    return idx[np.argsort(-s[idx], kind="stable")]


@pytest.fixture(scope="module", params=[10_000, 100_000, 1_000_000], ids=["1e4", "1e5", "1e6"])
def items(request):
    rng = np.random.default_rng(1)
    n = request.param
    return rng.random((n, 8), dtype=np.float32), rng.normal(size=8).astype(np.float32)


@contextlib.contextmanager
def _fresh_pages():
    """glibc's allocator as a fresh process has it: blocks from 128 KiB up are mapped
    anew on every allocation (so NumPy's temporaries page-fault on each call), instead
    of the settled state bench/conftest.py starts from.  Restores the settled state."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt
    except (OSError, AttributeError):
        pytest.skip("needs glibc")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024)
    try:
        yield
    finally:  # what freeing a 30 MB block sets: threshold 30 MB, trim at twice that
        libc.mallopt(M_MMAP_THRESHOLD, 30_000_000)
        libc.mallopt(M_TRIM_THRESHOLD, 60_000_000)


@pytest.mark.parametrize("impl", ["simcore", "numpy", "numpy-fresh-pages", "stream"])
def test_topk(benchmark, items, impl):
    X, w = items
    n = X.shape[0]
    benchmark.group = f"topk N={n:.0e} m=8 k=10"
    benchmark.extra_info.update(impl=impl, items=n)
    if impl == "simcore":
        out = benchmark(core.topk, X, w, K)
        np.testing.assert_array_equal(out, numpy_topk(X, w, K))
    elif impl == "numpy":
        benchmark(numpy_topk, X, w, K)
    elif impl == "numpy-fresh-pages":
        # the same idiom as a fresh process runs it (the state the anchor of
        # ~55 M items/s was measured in; see bench/numpy_allocator_states.py)
        with _fresh_pages():
            benchmark(numpy_topk, X, w, K)
    else:
        # memory-bandwidth bound: one streaming read of the same bytes with the threads
        # simcore.domains.search.simulator.topk uses (all cores; topk splits from 262,144 rows on)
        threads = 0 if n >= 262_144 else 1
        total = benchmark(_core.common._stream_sum, X, threads)
        assert np.isclose(total, X.sum(dtype=np.float64), rtol=1e-3)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(2)
    return rng.random((256, 1000, 8), dtype=np.float32), rng.normal(size=(256, 8)).astype(np.float32)


def numpy_topk_batch(X: np.ndarray, W: np.ndarray, k: int) -> np.ndarray:
    s = np.einsum("bnm,bm->bn", X, W)
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(s, idx, axis=1)
    return np.take_along_axis(idx, np.argsort(-top, axis=1, kind="stable"), axis=1)


@pytest.mark.parametrize("impl", ["simcore", "numpy"])
def test_topk_batch(benchmark, batch, impl):
    X, W = batch
    benchmark.group = "topk_batch B=256 N=1000 m=8 k=10"
    benchmark.extra_info.update(impl=impl, items=X.shape[0] * X.shape[1])
    if impl == "simcore":
        out = benchmark(core.topk_batch, X, W, K)
        np.testing.assert_array_equal(out, numpy_topk_batch(X, W, K))
    else:
        benchmark(numpy_topk_batch, X, W, K)


@pytest.mark.parametrize("n", [1_000, 10_000, 100_000], ids=["1e3", "1e4", "1e5"])
@pytest.mark.parametrize("impl", ["simcore", "scipy"])
def test_discordant_pairs(benchmark, n, impl):
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=n), rng.normal(size=n)
    benchmark.group = f"discordant_pairs n={n:.0e}"
    benchmark.extra_info.update(impl=impl, items=n)
    if impl == "simcore":
        d = benchmark(core.discordant_pairs, a, b)
        tau = scipy_stats.kendalltau(a, b).statistic
        pairs = n * (n - 1) / 2
        assert np.isclose(tau, (pairs - 2 * d) / pairs)
    else:
        benchmark(scipy_stats.kendalltau, a, b)
