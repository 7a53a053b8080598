"""Feature-subset evaluation (simcore.domains.feature_cost.subset_eval) against the NumPy
reference (NumPy scoring + the foundation's discordant_pairs per query), side by side.

Run: python -m pytest bench/test_feature_cost.py --benchmark-only
The target case is Q=256 queries x N=1000 items x n=16 features (all pairs).
"""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.feature_cost import kernels as K
from simcore.domains.feature_cost import reference as R

Q, N, n = 256, 1000, 16


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    X = rng.random((Q, N, n), dtype=np.float32)
    w = rng.normal(size=n).astype(np.float32)
    mask = rng.random((Q, n)) < 0.5
    cost = rng.random(n)
    fill = K.feature_mean(X)
    return X, w, mask, cost, fill


def _check(ours: K.SubsetEvalResult, ref: dict) -> None:
    np.testing.assert_array_equal(ours.loss, ref["loss"])
    np.testing.assert_array_equal(ours.cost, ref["cost"])


@pytest.mark.parametrize("top_k", [None, 10], ids=["all-pairs", "top10"])
def test_subset_eval_simcore(benchmark, case, top_k):
    X, w, mask, cost, fill = case
    benchmark.group = f"subset_eval Q{Q} N{N} n{n} {'all pairs' if top_k is None else 'top-10'}"
    benchmark.extra_info.update(impl="simcore", items=Q)
    res = benchmark(K.subset_eval, X, mask, cost, w, fill=fill, top_k=top_k)
    assert res.loss.shape == (Q,)


@pytest.mark.parametrize("top_k", [None, 10], ids=["all-pairs", "top10"])
def test_subset_eval_simcore_1thread(benchmark, case, top_k):
    X, w, mask, cost, fill = case
    benchmark.group = f"subset_eval Q{Q} N{N} n{n} {'all pairs' if top_k is None else 'top-10'} (1 thread)"
    benchmark.extra_info.update(impl="simcore", items=Q)
    benchmark(K.subset_eval, X, mask, cost, w, fill=fill, top_k=top_k, threads=1)


@pytest.mark.parametrize("top_k", [None, 10], ids=["all-pairs", "top10"])
def test_subset_eval_numpy(benchmark, case, top_k):
    X, w, mask, cost, fill = case
    benchmark.group = f"subset_eval Q{Q} N{N} n{n} {'all pairs' if top_k is None else 'top-10'}"
    benchmark.extra_info.update(impl="numpy", items=Q)
    ref = benchmark.pedantic(R.subset_eval, args=(X, mask, cost), kwargs=dict(w=w, fill=fill, top_k=top_k),
                             rounds=3, iterations=1)
    _check(K.subset_eval(X, mask, cost, w, fill=fill, top_k=top_k), ref)


def test_subset_eval_default_fill_simcore(benchmark, case):
    """With the default fill (the feature mean of X, one extra pass over X)."""
    X, w, mask, cost, _ = case
    benchmark.group = f"subset_eval Q{Q} N{N} n{n} all pairs, default fill"
    benchmark.extra_info.update(impl="simcore", items=Q)
    benchmark(K.subset_eval, X, mask, cost, w)


def test_subset_eval_default_fill_numpy(benchmark, case):
    X, w, mask, cost, _ = case
    benchmark.group = f"subset_eval Q{Q} N{N} n{n} all pairs, default fill"
    benchmark.extra_info.update(impl="numpy", items=Q)
    benchmark.pedantic(R.subset_eval, args=(X, mask, cost), kwargs=dict(w=w), rounds=2, iterations=1)


@pytest.fixture(scope="module")
def mlp_case():
    rng = np.random.default_rng(1)
    Qm = 32
    X = rng.random((Qm, N, n), dtype=np.float32)
    mask = rng.random((Qm, n)) < 0.5
    return X, mask, rng.random(n), K.MLPRanker.random(n, (32,), seed=2)


def test_subset_eval_mlp_simcore(benchmark, mlp_case):
    X, mask, cost, mlp = mlp_case
    benchmark.group = f"subset_eval MLP n{n}-32-1, Q32 N{N}"
    benchmark.extra_info.update(impl="simcore", items=X.shape[0])
    benchmark(K.subset_eval, X, mask, cost, mlp)


def test_subset_eval_mlp_numpy(benchmark, mlp_case):
    X, mask, cost, mlp = mlp_case
    benchmark.group = f"subset_eval MLP n{n}-32-1, Q32 N{N}"
    benchmark.extra_info.update(impl="numpy", items=X.shape[0])
    ref = benchmark.pedantic(R.subset_eval, args=(X, mask, cost), kwargs=dict(layers=mlp.layers), rounds=2,
                             iterations=1)
    _check(K.subset_eval(X, mask, cost, mlp, fill=ref["fill"]), ref)


@pytest.fixture(scope="module")
def exhaustive_case():
    """All 2**12 subsets of 4 queries of 200 items (the exhaustive baseline's calls)."""
    from simcore.domains.feature_cost.baselines import all_masks

    rng = np.random.default_rng(3)
    X = rng.random((4, 200, 12), dtype=np.float32)
    masks = all_masks(12)
    qi = np.repeat(np.arange(4), masks.shape[0])
    return X, np.tile(masks, (4, 1)), qi, rng.normal(size=12).astype(np.float32), np.ones(12)


def test_exhaustive_rows_simcore(benchmark, exhaustive_case):
    X, mask, qi, w, cost = exhaustive_case
    benchmark.group = "subset_eval 4 x 4096 subsets, N200 n12"
    benchmark.extra_info.update(impl="simcore", items=mask.shape[0])
    benchmark(K.subset_eval, X, mask, cost, w, query_index=qi, fill=np.full(12, 0.5, np.float32))


def test_exhaustive_rows_numpy(benchmark, exhaustive_case):
    X, mask, qi, w, cost = exhaustive_case
    benchmark.group = "subset_eval 4 x 4096 subsets, N200 n12"
    benchmark.extra_info.update(impl="numpy", items=1024)
    # the reference on the first 1024 rows (its time per row is what is compared)
    benchmark.pedantic(R.subset_eval, args=(X, mask[:1024], cost),
                       kwargs=dict(w=w, query_index=qi[:1024], fill=np.full(12, 0.5, np.float32)),
                       rounds=2, iterations=1)
