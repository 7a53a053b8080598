"""The C++ feature-subset evaluation kernel against its NumPy reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore import kernels
from simcore.domains.feature_cost import kernels as K
from simcore.domains.feature_cost import reference as R
from simcore.kernels import reference as foundation


def _inputs(seed: int, Q: int, N: int, n: int, levels: int = 0, p_eval: float = 0.5):
    """Random X (optionally quantised to `levels` values to create ties), w, mask, cost."""
    rng = np.random.default_rng(seed)
    X = rng.random((Q, N, n), dtype=np.float32)
    if levels:
        X = (np.floor(X * levels) / levels).astype(np.float32)
    w = rng.normal(size=n).astype(np.float32)
    mask = rng.random((Q, n)) < p_eval
    cost = rng.random(n) * 3
    return X, w, mask, cost


def _check_equal(res: K.SubsetEvalResult, ref: dict) -> None:
    np.testing.assert_array_equal(res.loss, ref["loss"])
    np.testing.assert_array_equal(res.cost, ref["cost"])
    np.testing.assert_array_equal(res.fill, ref["fill"])
    if res.scores is not None:
        np.testing.assert_array_equal(res.scores, ref["scores"])
        np.testing.assert_array_equal(res.full_scores, ref["full_scores"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    Q=st.integers(1, 5),
    N=st.integers(1, 130),
    n=st.integers(1, 13),
    levels=st.sampled_from([0, 0, 3, 20]),
    top_k=st.one_of(st.none(), st.integers(1, 140)),
    mlp=st.booleans(),
)
def test_matches_reference(seed, Q, N, n, levels, top_k, mlp):
    X, w, mask, cost = _inputs(seed, Q, N, n, levels)
    ranker = K.MLPRanker.random(n, (7, 3), seed=seed) if mlp else w
    res = K.subset_eval(X, mask, cost, ranker, top_k=top_k, return_scores=True)
    ref = R.subset_eval(
        X, mask, cost, w=None if mlp else w, layers=ranker.layers if mlp else None, top_k=top_k
    )
    _check_equal(res, ref)
    assert res.pairs == R.pair_count(N, top_k)
    # the scalar path and one thread give the same answer
    scalar = K.subset_eval(X, mask, cost, ranker, top_k=top_k, threads=1, simd=False, return_scores=True)
    _check_equal(scalar, ref)


@pytest.mark.parametrize("top_k", [None, 1, 5, 48, 49, 60, 199, 200, 500])
@pytest.mark.parametrize("levels", [0, 4])
def test_top_k_both_algorithms(top_k, levels):
    """k <= 48 counts pairs directly, larger k as D(all) - D(outside the top-k)."""
    X, w, mask, cost = _inputs(7, 6, 200, 9, levels)
    res = K.subset_eval(X, mask, cost, w, top_k=top_k, return_scores=True)
    _check_equal(res, R.subset_eval(X, mask, cost, w=w, top_k=top_k))


def test_all_pairs_loss_is_discordant_pairs_of_positions():
    X, w, mask, cost = _inputs(3, 8, 300, 12, levels=6)
    res = K.subset_eval(X, mask, cost, w, return_scores=True)
    for r in range(8):
        pf, ps = R.positions(res.full_scores[r]), R.positions(res.scores[r])
        assert res.loss[r] == kernels.discordant_pairs(pf, ps)
    # and the O(n^2) foundation reference on a few rows
    for r in range(2):
        pf, ps = R.positions(res.full_scores[r]), R.positions(res.scores[r])
        assert res.loss[r] == foundation.discordant_pairs(pf, ps)


def test_without_ties_loss_is_discordant_pairs_of_scores():
    X, w, mask, cost = _inputs(13, 4, 500, 12)
    res = K.subset_eval(X, mask, cost, w, return_scores=True)
    for r in range(4):
        assert res.loss[r] == kernels.discordant_pairs(res.full_scores[r], res.scores[r])


def test_top_k_loss_definition_brute_force():
    """Top-k loss = pairs {i, j}, i or j among the full top-k, that the two rankings
    (score descending, ties by lower index) order differently."""
    X, w, mask, cost = _inputs(11, 3, 40, 6, levels=3)
    for k in (1, 3, 10, 39, 40):
        res = K.subset_eval(X, mask, cost, w, top_k=k, return_scores=True)
        for r in range(3):
            f, s = res.full_scores[r], res.scores[r]
            top = set(kernels.topk(X[r], w, k).tolist())  # the foundation's top-k, same ties
            want = 0
            for i in range(40):
                for j in range(i + 1, 40):
                    i_first_f = f[i] > f[j] or (f[i] == f[j])  # i < j wins ties
                    i_first_s = s[i] > s[j] or (s[i] == s[j])
                    if (i in top or j in top) and i_first_f != i_first_s:
                        want += 1
            assert res.loss[r] == want


def test_full_scores_match_foundation_scores():
    X, w, mask, cost = _inputs(5, 3, 77, 8)
    res = K.subset_eval(X, mask, cost, w, return_scores=True)
    for q in range(3):
        np.testing.assert_array_equal(res.full_scores[q], kernels.scores(X[q], w))


def test_linear_subset_ranking_equals_masked_weights():
    """For a linear ranker the subset ranking is the ranking under w * mask (a constant
    shift): no pair is ranked in opposite orders."""
    X, w, mask, cost = _inputs(9, 10, 400, 12)
    res = K.subset_eval(X, mask, cost, w, return_scores=True)
    for r in range(10):
        masked = kernels.scores(X[r], w * mask[r])
        assert kernels.discordant_pairs(masked, res.scores[r]) == 0


def test_special_masks():
    X, w, _, cost = _inputs(2, 4, 100, 7)
    full = K.subset_eval(X, np.ones((4, 7), bool), cost, w)
    assert np.all(full.loss == 0)
    np.testing.assert_allclose(full.cost, np.full(4, 100 * cost.sum()), rtol=1e-12)
    # Nothing evaluated: constant scores, so the subset ranking is the index order.
    none = K.subset_eval(X, np.zeros((4, 7), bool), cost, w, return_scores=True)
    assert np.all(none.cost == 0)
    for q in range(4):
        assert np.all(none.scores[q] == none.scores[q, 0])
        assert none.loss[q] == kernels.discordant_pairs(R.positions(none.full_scores[q]), np.arange(100.0))
    assert 0.3 < none.loss_fraction.mean() < 0.7


def test_query_index_and_shared_full_ranking():
    X, w, _, cost = _inputs(4, 3, 90, 6)
    rng = np.random.default_rng(0)
    qi = np.array([0, 0, 0, 2, 2, 1, 0, 1, 1, 2], dtype=np.int64)
    mask = rng.random((qi.size, 6)) < 0.5
    for k in (None, 7, 60):
        res = K.subset_eval(X, mask, cost, w, query_index=qi, top_k=k, return_scores=True)
        _check_equal(res, R.subset_eval(X, mask, cost, w=w, top_k=k, query_index=qi))
        # row by row gives the same
        for r in range(qi.size):
            one = K.subset_eval(X[qi[r] : qi[r] + 1], mask[r : r + 1], cost, w, top_k=k, fill=res.fill)
            assert one.loss[0] == res.loss[r]


def test_cost_shapes():
    X, w, mask, _ = _inputs(8, 3, 20, 5)
    rng = np.random.default_rng(1)
    for c in (rng.random(5), rng.random((20, 5)), rng.random((3, 20, 5))):
        res = K.subset_eval(X, mask, c, w)
        _check_equal(res, R.subset_eval(X, mask, c, w=w) | {"scores": None})
        per_item = np.broadcast_to(c, (3, 20, 5)).sum(axis=1)
        np.testing.assert_allclose(res.cost, (per_item * mask).sum(axis=1), rtol=1e-12)


def test_fill_default_and_explicit():
    X, w, mask, cost = _inputs(6, 5, 64, 4)
    res = K.subset_eval(X, mask, cost, w)
    np.testing.assert_array_equal(res.fill, R.feature_mean(X))
    # the definition, written as loops: items in order per query, then queries in order
    total = np.zeros(4)
    for q in range(5):
        acc = np.zeros(4)
        for i in range(64):
            acc = acc + X[q, i].astype(np.float64)
        total = total + acc
    np.testing.assert_array_equal(res.fill, (total / (5 * 64)).astype(np.float32))
    np.testing.assert_array_equal(K.feature_mean(X), R.feature_mean(X))
    np.testing.assert_allclose(res.fill, X.mean(axis=(0, 1)), rtol=1e-6)
    fill = np.full(4, 0.25, np.float32)
    res2 = K.subset_eval(X, mask, cost, w, fill=fill, return_scores=True)
    _check_equal(res2, R.subset_eval(X, mask, cost, w=w, fill=fill))


def test_threads_do_not_change_results():
    X, w, mask, cost = _inputs(12, 37, 150, 10)
    for k in (None, 5, 80):
        base = K.subset_eval(X, mask, cost, w, top_k=k, threads=1)
        for t in (2, 3, 8):
            other = K.subset_eval(X, mask, cost, w, top_k=k, threads=t)
            np.testing.assert_array_equal(base.loss, other.loss)
            np.testing.assert_array_equal(base.cost, other.cost)
    np.testing.assert_array_equal(K.feature_mean(X, threads=1), K.feature_mean(X, threads=3))


def test_tiny_sizes():
    X, w, mask, cost = _inputs(1, 2, 1, 3)
    res = K.subset_eval(X, mask, cost, w)
    assert res.pairs == 0 and np.all(res.loss == 0)
    assert K.pair_count(10, 3) == 3 + 21 and K.pair_count(10) == 45 and K.pair_count(10, 10) == 45


def test_loss_fraction():
    X, w, mask, cost = _inputs(2, 3, 50, 6)
    res = K.subset_eval(X, mask, cost, w, top_k=5)
    np.testing.assert_allclose(res.loss_fraction, res.loss / (10 + 5 * 45))


# ------------------------------------------------------------------------ bad input


def _ok():
    return _inputs(0, 2, 10, 3)


@pytest.mark.parametrize(
    "change, exc, match",
    [
        (lambda a: a.update(X=a["X"].astype(np.float64)), TypeError, "X: expected dtype float32"),
        (lambda a: a.update(X=a["X"][0]), ValueError, "X: expected a 3-d"),
        (lambda a: a.update(X=np.zeros((0, 10, 3), np.float32), mask=np.zeros((0, 3), bool)), ValueError, "Q = 0"),
        (lambda a: a.update(X=np.zeros((2, 0, 3), np.float32)), ValueError, "N = 0"),
        (lambda a: a.update(mask=a["mask"].astype(int)), TypeError, "mask: expected a numpy bool"),
        (lambda a: a.update(mask=np.zeros((0, 3), bool)), ValueError, "empty query set"),
        (lambda a: a.update(mask=np.zeros((3, 3), bool)), ValueError, "mask: has 3 rows"),
        (lambda a: a.update(mask=np.zeros((2, 4), bool)), ValueError, "mask: expected shape"),
        (lambda a: a.update(cost=-a["cost"]), ValueError, "cost: must be non-negative"),
        (lambda a: a.update(cost=np.array([1.0, np.nan, 1.0])), ValueError, "cost: contains NaN"),
        (lambda a: a.update(cost=np.ones(4)), ValueError, "cost: expected shape"),
        (lambda a: a.update(w=np.array([1.0, np.inf, 0.0])), ValueError, "w: contains NaN"),
        (lambda a: a.update(w=np.ones(4)), ValueError, "w: expected shape"),
        (lambda a: a.update(top_k=0), ValueError, "top_k: must be positive"),
        (lambda a: a.update(top_k=-3), ValueError, "top_k: must be positive"),
        (lambda a: a.update(top_k=2.5), TypeError, "top_k"),
        (lambda a: a.update(fill=np.array([0.5, np.nan, 0.5])), ValueError, "fill: contains NaN"),
        (lambda a: a.update(fill=np.zeros(2)), ValueError, "fill: expected shape"),
        (lambda a: a.update(threads=0), ValueError, "threads"),
        (lambda a: a.update(query_index=np.array([0, 5])), ValueError, "query_index: entries"),
        (lambda a: a.update(query_index=np.array([0.0, 1.0])), TypeError, "query_index"),
        (lambda a: a.update(query_index=np.array([0, 1, 1])), ValueError, "query_index: expected shape"),
    ],
)
def test_bad_input(change, exc, match):
    X, w, mask, cost = _ok()
    args = {"X": X, "w": w, "mask": mask, "cost": cost, "top_k": None, "fill": None, "threads": None,
            "query_index": None}
    change(args)
    with pytest.raises(exc, match=match):
        K.subset_eval(args["X"], args["mask"], args["cost"], args["w"], top_k=args["top_k"],
                      fill=args["fill"], threads=args["threads"], query_index=args["query_index"])


def test_non_finite_features_rejected():
    X, w, mask, cost = _ok()
    X[1, 4, 2] = np.nan
    with pytest.raises(ValueError, match="X: contains NaN or inf .* query 1"):
        K.subset_eval(X, mask, cost, w, fill=np.full(3, 0.5, np.float32))
    X[1, 4, 2] = np.inf
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        K.subset_eval(X, mask, cost, K.MLPRanker.random(3, (4,)), fill=np.full(3, 0.5, np.float32))


def test_bad_mlp_layers():
    X, w, mask, cost = _ok()
    W1 = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="last layer must have one output"):
        K.subset_eval(X, mask, cost, [(W1, np.zeros(4, np.float32))])
    with pytest.raises(ValueError, match=r"layers\[1\].W: wrong shape"):
        K.subset_eval(X, mask, cost, [(W1, np.zeros(4, np.float32)), (np.ones((5, 1), np.float32), np.zeros(1, np.float32))])
    with pytest.raises(ValueError, match=r"layers\[0\].b"):
        K.subset_eval(X, mask, cost, [(W1, np.zeros(3, np.float32)), (np.ones((4, 1), np.float32), np.zeros(1, np.float32))])
    with pytest.raises(ValueError, match=r"layers\[0\].W: contains NaN"):
        K.subset_eval(X, mask, cost, [(W1 * np.nan, np.zeros(4, np.float32)), (np.ones((4, 1), np.float32), np.zeros(1, np.float32))])


def test_releases_gil():
    rng = np.random.default_rng(0)
    X = rng.random((48, 20_000, 8), dtype=np.float32)
    w = rng.normal(size=8).astype(np.float32)
    mask = rng.random((48, 8)) < 0.5
    started, finished = threading.Event(), threading.Event()

    def worker():
        started.set()
        K.subset_eval(X, mask, np.ones(8), w, threads=1)
        finished.set()

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    count = 0
    while not finished.is_set():
        count += 1
    t.join()
    assert count > 1000  # one long C++ call: the loop only advances if the GIL is free


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    N=st.integers(1, 300),
    n=st.integers(1, 13),
    T=st.sampled_from([0.05, 0.3, 1.0, 7.0]),
    mlp=st.booleans(),
)
def test_kl_loss_matches_reference(seed, N, n, T, mlp):
    X, w, mask, cost = _inputs(seed, 4, N, n, 0)
    ranker = K.MLPRanker.random(n, (5,), seed=seed) if mlp else w
    res = K.subset_eval(X, mask, cost, ranker, kl_temperature=T, threads=2)
    ref = R.subset_eval(X, mask, cost, w=None if mlp else w, layers=ranker.layers if mlp else None,
                        kl_temperature=T)
    np.testing.assert_allclose(res.kl, ref["kl"], rtol=1e-9, atol=1e-12)
    assert (res.kl >= 0).all()
    np.testing.assert_array_equal(res.loss, ref["loss"])  # the pairwise loss is unchanged


def test_kl_loss_properties():
    X, w, _, cost = _inputs(3, 5, 400, 8, 0)
    full = np.ones((5, 8), bool)
    res = K.subset_eval(X, full, cost, w, kl_temperature=0.5)
    assert np.all(res.kl == 0.0)  # every feature evaluated: the same distribution
    assert K.subset_eval(X, full, cost, w).kl is None  # only when asked for
    # dropping more of the features moves the distributions further apart (on average)
    drop1 = full.copy()
    drop1[:, 0] = False
    dropmost = np.zeros((5, 8), bool)
    dropmost[:, 0] = True
    kl1 = K.subset_eval(X, drop1, cost, w, kl_temperature=0.5).kl
    klm = K.subset_eval(X, dropmost, cost, w, kl_temperature=0.5).kl
    assert (kl1 > 0).all() and klm.mean() > kl1.mean()
    # skipping a feature whose weight is 0 leaves the scores, hence the KL, at 0
    w1 = np.zeros(8, np.float32)
    w1[3] = 1.0
    off = full.copy()
    off[:, 5] = False  # a feature with weight 0: scores unchanged
    assert np.all(K.subset_eval(X, off, cost, w1, kl_temperature=1.0).kl < 1e-12)
    # thread counts agree bit for bit
    a = K.subset_eval(X, dropmost, cost, w, kl_temperature=0.5, threads=1).kl
    b = K.subset_eval(X, dropmost, cost, w, kl_temperature=0.5, threads=3).kl
    assert np.array_equal(a, b)


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), float("inf"), True, "1"])
def test_kl_temperature_rejected(T):
    X, w, mask, cost = _inputs(1, 2, 10, 3, 0)
    with pytest.raises(ValueError, match="kl_temperature"):
        K.subset_eval(X, mask, cost, w, kl_temperature=T)
