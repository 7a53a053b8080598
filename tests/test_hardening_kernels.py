"""Hardening of the ranking and feature-cost kernels: former crashes run in a
subprocess (must exit cleanly), silent wrong answers and unnamed errors in-process."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from simcore import kernels
from simcore.domains.feature_cost import kernels as K
from simcore.domains.feature_cost import reference as fref
from simcore.kernels import reference


def _run_clean(code: str) -> str:
    """Runs code in a fresh interpreter; it must exit 0 (no segfault / abort)."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"rc={r.returncode}\nstdout={r.stdout}\nstderr={r.stderr}"
    return r.stdout


def test_scores_empty_axes_rejected_subprocess():
    out = _run_clean("""
        import numpy as np
        from simcore import kernels
        for shape in [(5, 0), (0, 3), (0, 0)]:
            try:
                kernels.scores(np.ones(shape, np.float32), np.ones(shape[1]))
            except ValueError as e:
                assert str(e).startswith("X:"), e
                print("ok")
    """)
    assert out.split() == ["ok"] * 3


def test_scores_binding_rejects_m0():
    from simcore import _core

    with pytest.raises(ValueError, match="X: .*m = 0"):
        _core.ranking.scores(np.ones((5, 0), np.float32), np.ones(0, np.float32))


def test_topk_batch_huge_threads_subprocess():
    _run_clean("""
        import numpy as np
        from simcore import kernels
        from simcore.kernels import reference
        rng = np.random.default_rng(0)
        X = rng.random((64, 20, 3), dtype=np.float32)
        W = rng.normal(size=(64, 3)).astype(np.float32)
        got = kernels.topk_batch(X, W, 5, threads=100000)
        np.testing.assert_array_equal(got, reference.topk_batch(X, W, 5))
        got = kernels.topk_batch(X, W, 5, threads=2**31 - 1)
        np.testing.assert_array_equal(got, reference.topk_batch(X, W, 5))
    """)


def test_topk_batch_huge_k_small_allocation():
    X = np.random.default_rng(1).random((2, 10, 3), dtype=np.float32)
    W = np.ones((2, 3), np.float32)
    out = kernels.topk_batch(X, W, 2**40)
    assert out.shape == (2, 10)
    np.testing.assert_array_equal(out, reference.topk_batch(X, W, 10))
    assert kernels.topk(X[0], W[0], 2**62).shape == (10,)


@pytest.mark.parametrize("k", [2**63, 2**64 + 3, 10**30])
def test_huge_k_clamped_to_n(k):
    X = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(kernels.topk(X, np.ones(2), k), [3, 2, 1, 0])
    np.testing.assert_array_equal(kernels.topk_batch(X[None], np.ones((1, 2)), k), [[3, 2, 1, 0]])
    with pytest.raises(TypeError, match="k: expected an integer"):
        kernels.topk(X, np.ones(2), float(k))


@pytest.mark.parametrize("threads", [2**31, 2**63, -5, 0])
def test_huge_threads_named(threads):
    X = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"threads: must be None or an integer in \[1, "):
        kernels.topk(X, np.ones(2), 1, threads=threads)


def test_pair_count_no_overflow():
    N = 2**32
    assert K.pair_count(N) == N * (N - 1) // 2
    assert K.pair_count(N, 3) == 3 + 3 * (N - 3)
    with pytest.raises(OverflowError, match="N"):
        K.pair_count(2**33)
    with pytest.raises(ValueError, match="N"):
        K.pair_count(2**64)
    assert K.pair_count(5, 2**70) == 10  # top_k >= N: all pairs
    assert K.pair_count(0) == 0 and K.pair_count(1) == 0


def test_kl_tiny_temperature_never_nan_as_zero():
    rng = np.random.default_rng(3)
    X = rng.random((2, 6, 3), dtype=np.float32) * 10
    mask = np.array([[True, False, True], [False, True, True]])
    w = np.ones(3, np.float32)
    T = 1e-308
    with np.errstate(all="ignore"):
        ref = fref.subset_eval(X, mask, np.ones(3), w, kl_temperature=T)
    with pytest.raises(ValueError, match="kl_temperature"):
        K.subset_eval(X, mask, np.ones(3), w, kl_temperature=T)
    assert not np.all(np.isfinite(ref["kl"]))  # the twin cannot give a number either
    # A small but workable temperature still matches the twin.
    res = K.subset_eval(X, mask, np.ones(3), w, kl_temperature=1e-3)
    ref = fref.subset_eval(X, mask, np.ones(3), w, kl_temperature=1e-3)
    np.testing.assert_allclose(res.kl, ref["kl"], rtol=1e-9, atol=1e-12)


def _misaligned(a: np.ndarray) -> np.ndarray:
    buf = np.zeros(a.nbytes + 1, np.uint8)
    v = np.frombuffer(buf.data, a.dtype, count=a.size, offset=1).reshape(a.shape)
    v[...] = a
    assert not v.flags.aligned
    return v


def test_misaligned_inputs_subprocess():
    _run_clean("""
        import numpy as np
        from simcore import kernels, _core
        from simcore.kernels import reference
        from simcore.domains.feature_cost import kernels as K
        def mis(a):
            buf = np.zeros(a.nbytes + 1, np.uint8)
            v = np.frombuffer(buf.data, a.dtype, count=a.size, offset=1).reshape(a.shape)
            v[...] = a
            assert not v.flags.aligned
            return v
        rng = np.random.default_rng(0)
        X = rng.random((50, 4), dtype=np.float32); w = rng.normal(size=4).astype(np.float32)
        np.testing.assert_array_equal(kernels.scores(mis(X), mis(w)), reference.scores(X, w))
        np.testing.assert_array_equal(kernels.topk(mis(X), w, 5), reference.topk(X, w, 5))
        np.testing.assert_array_equal(_core.ranking.scores(mis(X), mis(w)), reference.scores(X, w))
        np.testing.assert_array_equal(_core.ranking.topk(mis(X), mis(w), 5, None, 1),
                                      reference.topk(X, w, 5))
        X3 = rng.random((3, 7, 4), dtype=np.float32)
        np.testing.assert_array_equal(K.feature_mean(mis(X3)), K.feature_mean(X3))
    """)


def test_pickled_arrays_accepted_everywhere():
    from simcore import _core

    rp = lambda a: pickle.loads(pickle.dumps(a))  # noqa: E731
    rng = np.random.default_rng(0)
    X = rng.random((30, 4), dtype=np.float32)
    w = rng.normal(size=4).astype(np.float32)
    ex = rng.random(30) < 0.2
    np.testing.assert_array_equal(_core.ranking.topk(rp(X), rp(w), 3, rp(ex), 1),
                                  reference.topk(X, w, 3, ex))
    np.testing.assert_array_equal(_core.ranking.scores(rp(X), rp(w)), reference.scores(X, w))
    np.testing.assert_array_equal(
        _core.ranking.topk_batch(rp(X[None]), rp(w[None]), 3, rp(ex[None]), 1),
        reference.topk_batch(X[None], w[None], 3, ex[None]))
    a, b = rng.normal(size=20), rng.normal(size=20)
    assert _core.ranking.discordant_pairs(rp(a), rp(b)) == kernels.discordant_pairs(a, b)
    X3 = rng.random((3, 7, 4), dtype=np.float32)
    mask = rng.random((3, 4)) < 0.5
    res = K.subset_eval(rp(X3), rp(mask), rp(np.ones(4)), rp(w), return_scores=True)
    ref = fref.subset_eval(X3, mask, np.ones(4), w)
    np.testing.assert_array_equal(res.loss, ref["loss"])
    np.testing.assert_array_equal(K.feature_mean(rp(X3)), K.feature_mean(X3))


def test_mlp_nan_hidden_unit_is_not_silently_zeroed():
    # A huge MLP overflows to inf - inf = NaN inside; ReLU must not turn that into 0.
    n = 2
    big = np.float32(3e38)
    W1 = np.array([[big, -big], [big, -big]], np.float32)
    layers = [(W1, np.zeros(2, np.float32))]
    for _ in range(12):
        layers.append((np.array([[big, big], [-big, -big]], np.float32), np.zeros(2, np.float32)))
    layers.append((np.ones((2, 1), np.float32), np.zeros(1, np.float32)))
    X = np.full((1, 4, n), 1.0, np.float32)
    X[0, :, 0] = [1, 2, 3, 4]
    try:
        res = K.subset_eval(X, np.ones((1, n), bool), np.ones(n), layers, return_scores=True)
    except ValueError as e:
        assert "X:" in str(e) or "scores" in str(e)
    else:
        assert np.all(np.isfinite(res.full_scores))
