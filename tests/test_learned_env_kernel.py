"""The shared-catalogue top-k kernel of the learned search simulator (issue 12):
``kernels.topk_indexed`` against its NumPy twin and against ``topk_batch`` on the
gathered copy, thread independence, and bad input naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simcore import kernels
from simcore.kernels import reference

_tie_values = st.sampled_from([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0])


@st.composite
def catalogue_case(draw):
    Q, n, m, B = draw(st.integers(1, 4)), draw(st.integers(1, 40)), draw(st.integers(1, 10)), draw(st.integers(1, 7))
    ties = draw(st.booleans())
    elems = _tie_values if ties else st.floats(-10, 10, width=32)
    X = draw(hnp.arrays(np.float32, (Q, n, m), elements=elems))
    rows = draw(hnp.arrays(np.int64, (B,), elements=st.integers(0, Q - 1)))
    W = draw(hnp.arrays(np.float32, (B, m), elements=_tie_values if ties else st.floats(-3, 3, width=32)))
    k = draw(st.integers(1, n + 5))
    ex = draw(st.one_of(st.none(), hnp.arrays(np.bool_, (B, n))))
    return X, rows, W, k, ex


@settings(max_examples=200, deadline=None)
@given(catalogue_case(), st.integers(1, 3))
def test_topk_indexed_matches_twin_and_gathered_batch(case, threads):
    X, rows, W, k, ex = case
    got = kernels.topk_indexed(X, rows, W, k, ex, threads=threads)
    n = X.shape[1]
    assert got.dtype == np.int64 and got.shape == (rows.size, min(k, n))
    np.testing.assert_array_equal(got, reference.topk_indexed(X, rows, W, k, ex)[:, :n])
    np.testing.assert_array_equal(got, kernels.topk_batch(np.ascontiguousarray(X[rows]), W, k, ex, threads=1))


@pytest.mark.parametrize("m", [3, 8])
def test_topk_indexed_default_world_shape(rng, m):
    # the learned simulator's shape: 64 catalogues of 1000 items, B = 300, k = 10; the m = 8 SIMD path
    X = rng.normal(size=(64, 1000, m)).astype(np.float32)
    X[:, ::9] = X[:, 4:5]  # exact ties inside each catalogue
    rows = rng.integers(0, 64, 300)
    W = rng.normal(size=(300, m)).astype(np.float32)
    ex = rng.random((300, 1000)) < 0.3
    want = reference.topk_indexed(X, rows, W, 10, ex)
    for threads in (1, 2, 5):
        np.testing.assert_array_equal(kernels.topk_indexed(X, rows, W, 10, ex, threads=threads), want)


def test_topk_indexed_pads_when_items_run_out():
    X = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    ex = np.array([[True, False, True], [False, False, False]])
    got = kernels.topk_indexed(X, np.array([1, 0]), np.ones((2, 2)), 5, ex)
    np.testing.assert_array_equal(got, [[1, -1, -1], [2, 1, 0]])


@pytest.mark.parametrize("args, exc, match", [
    ((np.ones((2, 3, 2), np.float64), [0], np.ones((1, 2)), 1), TypeError, "X"),
    ((np.ones((3, 2), np.float32), [0], np.ones((1, 2)), 1), ValueError, "X"),
    ((np.ones((0, 3, 2), np.float32), [0], np.ones((1, 2)), 1), ValueError, "X"),
    ((np.ones((2, 3, 2), np.float32), [2], np.ones((1, 2)), 1), ValueError, "rows"),
    ((np.ones((2, 3, 2), np.float32), [-1], np.ones((1, 2)), 1), ValueError, "rows"),
    ((np.ones((2, 3, 2), np.float32), [0.0], np.ones((1, 2)), 1), TypeError, "rows"),
    ((np.ones((2, 3, 2), np.float32), np.zeros((1, 1), np.int64), np.ones((1, 2)), 1), ValueError, "rows"),
    ((np.ones((2, 3, 2), np.float32), np.zeros(0, np.int64), np.ones((0, 2)), 1), ValueError, "rows"),
    ((np.ones((2, 3, 2), np.float32), [0, 1], np.ones((1, 2)), 1), ValueError, "W"),
    ((np.ones((2, 3, 2), np.float32), [0], np.full((1, 2), np.nan), 1), ValueError, "W"),
    ((np.ones((2, 3, 2), np.float32), [0], np.ones((1, 2)), 0), ValueError, "k"),
])
def test_topk_indexed_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        kernels.topk_indexed(*args)


def test_topk_indexed_bad_mask_and_nonfinite_catalogue():
    X = np.ones((2, 3, 2), np.float32)
    with pytest.raises(TypeError, match="exclude"):
        kernels.topk_indexed(X, [0], np.ones((1, 2)), 1, np.zeros((1, 3), np.int8))
    with pytest.raises(ValueError, match="exclude"):
        kernels.topk_indexed(X, [0], np.ones((1, 2)), 1, np.zeros((1, 4), bool))
    X[1, 2, 0] = np.nan
    kernels.topk_indexed(X, [0], np.ones((1, 2)), 1)  # the NaN is in a catalogue no row ranks
    with pytest.raises(ValueError, match="X"):
        kernels.topk_indexed(X, [1], np.ones((1, 2)), 1)


def test_topk_indexed_binding_checks_rows_itself():
    # the C++ entry point rejects out-of-range ids too (it must never read outside X)
    from simcore import _core
    X = np.ones((2, 3, 2), np.float32)
    with pytest.raises(ValueError, match="rows"):
        _core.ranking.topk_indexed(X, np.array([0, 2], np.int64), np.ones((2, 2), np.float32), 1, None, 1)
