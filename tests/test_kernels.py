"""C++ ranking kernels against their NumPy references (random and adversarial inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simcore import kernels
from simcore.kernels import reference

# Values from a small grid produce many exact ties.
_tie_values = st.sampled_from([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0])


@st.composite
def ranking_case(draw, max_n: int = 60, max_m: int = 10):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    ties = draw(st.booleans())
    elems = _tie_values if ties else st.floats(-10, 10, width=32)
    X = draw(hnp.arrays(np.float32, (n, m), elements=elems))
    w = draw(hnp.arrays(np.float32, (m,), elements=_tie_values if ties else st.floats(-3, 3, width=32)))
    k = draw(st.integers(1, n + 5))
    ex = draw(st.one_of(st.none(), hnp.arrays(np.bool_, (n,))))
    return X, w, k, ex


@settings(max_examples=300, deadline=None)
@given(ranking_case())
def test_topk_matches_reference(case):
    X, w, k, ex = case
    got = kernels.topk(X, w, k, ex)
    want = reference.topk(X, w, k, ex)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(ranking_case(max_n=30), st.integers(1, 6), st.integers(1, 3))
def test_topk_batch_matches_reference(case, B, threads):
    X0, w0, k, _ = case
    rng = np.random.default_rng(B)
    X = np.stack([rng.permutation(X0) for _ in range(B)])
    W = np.stack([np.roll(w0, i) for i in range(B)])
    ex = rng.random((B, X.shape[1])) < 0.3
    got = kernels.topk_batch(X, W, k, ex, threads=threads)
    # The output has min(k, N) columns (the twin pads to k: compare its first N).
    np.testing.assert_array_equal(got, reference.topk_batch(X, W, k, ex)[:, : X.shape[1]])


@pytest.mark.parametrize("m", [1, 3, 8, 16, 70])
@pytest.mark.parametrize("k", [1, 10, 127, 128, 129, 500])
def test_topk_sizes_and_paths(rng, m, k):
    # covers the buffered path (k <= 128), the select path, the m == 8 SIMD path and m > 64
    X = rng.normal(size=(3001, m)).astype(np.float32)
    X[::7] = X[3]  # duplicated rows: exact ties
    w = rng.normal(size=m).astype(np.float32)
    ex = rng.random(3001) < 0.2
    np.testing.assert_array_equal(kernels.topk(X, w, k, ex), reference.topk(X, w, k, ex))
    np.testing.assert_array_equal(kernels.topk(X, w, k), reference.topk(X, w, k))


def test_scores_bit_identical(rng):
    X = rng.normal(size=(1023, 8)).astype(np.float32)
    w = rng.normal(size=8).astype(np.float32)
    assert np.array_equal(kernels.scores(X, w), reference.scores(X, w))


def test_topk_edge_cases():
    X = np.array([[1.0], [3.0], [3.0], [2.0]], np.float32)
    w = np.array([1.0], np.float32)
    np.testing.assert_array_equal(kernels.topk(X, w, 2), [1, 2])  # tie: lower index first
    np.testing.assert_array_equal(kernels.topk(X, w, 10), [1, 2, 3, 0])  # k > N
    np.testing.assert_array_equal(kernels.topk(X, w, 3, np.array([0, 1, 0, 0], bool)), [2, 3, 0])
    assert kernels.topk(X, w, 3, np.ones(4, bool)).size == 0  # all excluded
    np.testing.assert_array_equal(kernels.topk(X[:1], w, 1), [0])  # one item
    np.testing.assert_array_equal(kernels.topk(np.zeros((5, 2), np.float32), [0, 0], 3), [0, 1, 2])
    out = kernels.topk_batch(X[None], w[None], 6, np.array([[1, 0, 0, 1]], bool))
    np.testing.assert_array_equal(out, [[1, 2, -1, -1]])  # (B, min(k, N)), -1 padded


@pytest.mark.parametrize("m", [8, 5])
def test_topk_large_n_any_thread_count(rng, m):
    X = rng.random((200_003, m), dtype=np.float32)
    X[150_000:150_020] = X[7]  # ties across the threads' chunks
    w = rng.normal(size=m).astype(np.float32)
    ex = rng.random(200_003) < 0.1
    for k in (1, 10, 128, 300):
        want = reference.topk(X, w, k, ex)
        for threads in (1, 2, 3, 5):
            np.testing.assert_array_equal(kernels.topk(X, w, k, ex, threads=threads), want)
    Xt = np.repeat(X[:1], 100_000, axis=0)  # all tied: lowest indices win
    for threads in (1, 2, 4):
        np.testing.assert_array_equal(kernels.topk(Xt, w, 7, threads=threads), np.arange(7))


def test_topk_noncontiguous_input_is_accepted(rng):
    X = rng.normal(size=(50, 16)).astype(np.float32)[:, ::2]
    w = rng.normal(size=8)
    np.testing.assert_array_equal(kernels.topk(X, w, 5), reference.topk(X, w, 5))


@st.composite
def column_case(draw):
    """Catalogues for the simulator's column-major kernel: sizes around its 16-row blocks
    and 1024-row chunks, ties, float32 near-ties (values one ulp apart, which float32
    pre-scores cannot order but float64 scores can), tiny and huge magnitudes."""
    n = draw(st.one_of(st.integers(1, 70), st.integers(1000, 1100), st.integers(2040, 2100)))
    m = draw(st.sampled_from([1, 2, 3, 8, 8, 8, 13]))
    kind = draw(st.sampled_from(["uniform", "ties", "ulps", "tiny", "huge", "mixed"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "ties":
        X = rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0], size=(n, m))
    elif kind == "ulps":
        X = 1.0 + rng.integers(0, 4, size=(n, m)) * 2.0**-23
    elif kind == "tiny":
        X = rng.random((n, m)) * 1e-38
    elif kind == "huge":
        X = rng.random((n, m)) * draw(st.sampled_from([1e10, 1e29, 1e31, 1e36]))
    elif kind == "mixed":
        X = rng.normal(size=(n, m)) * 10.0 ** rng.integers(-3, 4, size=(n, m))
    else:
        X = rng.random((n, m))
    X = X.astype(np.float32)
    w = rng.normal(size=m).astype(np.float32)
    if draw(st.booleans()):
        w = rng.choice([-1.0, 0.0, 0.5, 1.0], size=m).astype(np.float32)
    k = draw(st.one_of(st.integers(1, 12), st.integers(13, 128)))
    p_ex = draw(st.sampled_from([0.0, 0.3, 0.97, 1.0]))
    ex = rng.random(n) < p_ex if p_ex > 0 else None
    return X, w, k, ex


@settings(max_examples=400, deadline=None)
@given(column_case(), st.booleans())
def test_kernels_match_reference_on_adversarial_catalogues(case, absmax):
    """Row-major topk (first-chunk selection, then float32 streaming past 1024 rows) and
    the simulator's column-major kernel, with and without float32 pre-scores."""
    from simcore import _core

    X, w, k, ex = case
    want = reference.topk(X, w, k, ex)
    got = _core.ranking._topk_columns(np.ascontiguousarray(X.T), w, k, ex, absmax)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(kernels.topk(X, w, k, ex, threads=1), want)


@pytest.mark.parametrize("row", [3, 1500, 4099])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_topk_non_finite_anywhere_is_reported(rng, row, bad):
    # rows past the first 1024 are tested in float32 first; a non-finite value must still
    # be found there, also in an excluded row
    X = rng.random((4100, 8), dtype=np.float32)
    X[row, 5] = bad
    ex = np.zeros(4100, bool)
    ex[row] = True
    for exclude in (None, ex):
        with pytest.raises(ValueError, match="NaN or inf"):
            kernels.topk(X, rng.normal(size=8).astype(np.float32), 10, exclude, threads=1)


def test_topk_float32_overflow_is_exact(rng):
    # products overflow float32 (inf - inf = NaN in the float32 test) but not float64
    X = (rng.random((5000, 8)) * 3e38).astype(np.float32)
    X[4000:4010, 0] = 3.4e38
    w = np.array([1e30, -1e30, 5.0, 1.0, 0.0, -2.0, 3e30, 1.0], np.float32)
    for k in (1, 10, 50):
        np.testing.assert_array_equal(kernels.topk(X, w, k, threads=1), reference.topk(X, w, k))


def test_simulator_column_kernel_edge_cases():
    from simcore import _core

    X = np.array([[1.0], [3.0], [3.0], [2.0]], np.float32)
    w = np.array([1.0], np.float32)
    Xc = np.ascontiguousarray(X.T)
    np.testing.assert_array_equal(_core.ranking._topk_columns(Xc, w, 2), [1, 2])  # tie: lower index
    np.testing.assert_array_equal(_core.ranking._topk_columns(Xc, w, 10), [1, 2, 3, 0])  # k > N
    assert _core.ranking._topk_columns(Xc, w, 3, np.ones(4, bool)).size == 0  # all excluded
    np.testing.assert_array_equal(_core.ranking._topk_columns(Xc[:, :1], w, 1), [0])  # one item
    tied = np.ones((8, 5000), np.float32)  # all tied over several chunks: lowest indices
    np.testing.assert_array_equal(_core.ranking._topk_columns(tied, np.ones(8, np.float32), 10), np.arange(10))
    with pytest.raises(ValueError, match="k"):
        _core.ranking._topk_columns(Xc, w, 0)
    with pytest.raises(ValueError, match="Xc"):
        _core.ranking._topk_columns(Xc * np.float32("nan"), w, 1)


def test_topk_batch_thread_count_invariant(rng):
    X = rng.normal(size=(97, 300, 8)).astype(np.float32)
    W = rng.normal(size=(97, 8)).astype(np.float32)
    ex = rng.random((97, 300)) < 0.5
    outs = [kernels.topk_batch(X, W, 10, ex, threads=t) for t in (1, 2, 3, 8)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 80).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, -3.0])),
            hnp.arrays(np.float64, (n,), elements=st.floats(-5, 5)),
        )
    )
)
def test_discordant_pairs_matches_reference(ab):
    a, b = ab
    assert kernels.discordant_pairs(a, b) == reference.discordant_pairs(a, b)
    assert kernels.discordant_pairs(b, a) == reference.discordant_pairs(a, b)


def test_discordant_pairs_known_values(rng):
    n = 2000
    a = rng.normal(size=n)
    assert kernels.discordant_pairs(a, a) == 0
    assert kernels.discordant_pairs(a, -a) == n * (n - 1) // 2
    assert kernels.discordant_pairs([1, 1, 1], [3, 2, 1]) == 0  # ties in a are not discordant
    assert kernels.discordant_pairs([1], [2]) == 0
    b = rng.integers(0, 20, size=n)  # integer input, many ties
    assert kernels.discordant_pairs(a, b) == reference.discordant_pairs(a, b)


def test_discordant_pairs_agrees_with_scipy_kendall(rng):
    scipy_stats = pytest.importorskip("scipy.stats")
    a, b = rng.normal(size=500), rng.normal(size=500)
    n = 500
    d = kernels.discordant_pairs(a, b)
    tau = scipy_stats.kendalltau(a, b).statistic  # no ties: tau = (C - D) / (n(n-1)/2)
    assert np.isclose(tau, (n * (n - 1) / 2 - 2 * d) / (n * (n - 1) / 2))


@pytest.mark.parametrize("n", [4095, 4096, 50_000])
def test_discordant_pairs_radix_path(rng, n):
    # large inputs use the radix sort: signed zeros, negative values, heavy ties
    a = rng.integers(-50, 50, size=n).astype(np.float64)
    a[::17] = -0.0
    a[1::17] = 0.0
    b = rng.normal(size=n) * 1e-300
    b[::5] = -b[::5]
    b[::11] = 0.0
    got = kernels.discordant_pairs(a, b)
    # reference by blocks would be slow at 50k: compare with an O(n log n) SciPy identity
    if n <= 4096:
        assert got == reference.discordant_pairs(a, b)
    else:
        sub = slice(0, 3000)
        assert kernels.discordant_pairs(a[sub], b[sub]) == reference.discordant_pairs(a[sub], b[sub])
        order = np.lexsort((b, a))
        bs = b[order]
        # count strict inversions of bs with a simple O(n log n) NumPy merge-free method
        ranks = np.searchsorted(np.unique(bs), bs)
        inv = 0
        tree = np.zeros(ranks.max() + 2, dtype=np.int64)
        for i, r in enumerate(ranks[::-1]):  # Fenwick: count smaller already seen
            j = r
            s = 0
            while j > 0:
                s += tree[j]
                j -= j & -j
            inv += s
            j = r + 1
            while j < tree.size:
                tree[j] += 1
                j += j & -j
        assert got == inv


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (4097, 8), (100_003, 8)])
@pytest.mark.parametrize("threads", [1, 2, 0])
def test_stream_sum_probe(rng, shape, threads):
    from simcore import _core

    X = rng.random(shape, dtype=np.float32)
    assert np.isclose(_core.common._stream_sum(X, threads), X.sum(dtype=np.float64), rtol=1e-5)
