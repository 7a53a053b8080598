"""Fuzz of every binding entry point through the Python faces: random and adversarial
shapes, dtypes and values.  Each call either equals the NumPy twin or raises
TypeError / ValueError / OverflowError whose message names the argument."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore import kernels
from simcore.domains.feature_cost import kernels as K
from simcore.domains.feature_cost import reference as fref
from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.kernels import reference

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
ERRORS = (TypeError, ValueError, OverflowError)

_specials = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e38, -1e-45, 3.0])
_dtypes = st.sampled_from([np.float32, np.float32, np.float32, np.float64, np.int32, np.bool_,
                           np.float16, ">f4"])
_ints = st.one_of(st.integers(-3, 40), st.sampled_from([2**31, 2**63, 2**64 + 1, -2**63, 10**30]),
                  st.sampled_from([None, 2.5, "3", True]))


def _misalign(a: np.ndarray) -> np.ndarray:
    buf = np.zeros(a.nbytes + 1, np.uint8)
    v = np.frombuffer(buf.data, a.dtype, count=a.size, offset=1).reshape(a.shape)
    v[...] = a
    return v


@st.composite
def arrays(draw, ndim: int, max_side: int = 6):
    shape = tuple(draw(st.integers(0, max_side)) for _ in range(ndim))
    if draw(st.integers(0, 5)) == 0:  # wrong rank now and then
        shape = shape + (2,) if draw(st.booleans()) else shape[:-1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.normal(size=shape) * 3
    if a.size and draw(st.integers(0, 3)) == 0:
        a.flat[draw(st.integers(0, a.size - 1))] = draw(_specials)
    with np.errstate(all="ignore"):
        a = a.astype(draw(_dtypes))
    form = draw(st.sampled_from(["plain", "plain", "pickled", "misaligned", "strided", "list"]))
    if form == "pickled":
        a = pickle.loads(pickle.dumps(a))
    elif form == "misaligned" and a.size:
        a = _misalign(a)
    elif form == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=0)[::2]
    elif form == "list":
        return a.tolist()
    return a


def _named(e: Exception, *names: str) -> None:
    msg = str(e)
    assert any(n in msg for n in names), f"{type(e).__name__} names none of {names}: {msg}"


def _as_ref(a, dtype):
    return np.asarray(a, dtype=dtype)


@FUZZ
@given(arrays(2), arrays(1), _ints, st.one_of(st.none(), arrays(1)), _ints)
def test_fuzz_topk_and_scores(X, w, k, ex, threads):
    try:
        got = kernels.topk(X, w, k, ex, threads=threads)
    except ERRORS as e:
        _named(e, "X", "w", "k", "exclude", "threads")
    else:
        Xr, wr = np.asarray(X), _as_ref(w, np.float32)
        np.testing.assert_array_equal(got, reference.topk(Xr, wr, min(k, len(Xr)), ex))
    try:
        s = kernels.scores(X, w)
    except ERRORS as e:
        _named(e, "X", "w")
    else:
        np.testing.assert_array_equal(s, reference.scores(np.asarray(X), _as_ref(w, np.float32)))


@FUZZ
@given(arrays(3), arrays(2), _ints, st.one_of(st.none(), arrays(2)), _ints)
def test_fuzz_topk_batch(X, W, k, ex, threads):
    try:
        got = kernels.topk_batch(X, W, k, ex, threads=threads)
    except ERRORS as e:
        _named(e, "X", "W", "k", "exclude", "threads")
    else:
        Xr = np.asarray(X)
        want = reference.topk_batch(Xr, _as_ref(W, np.float32), min(k, Xr.shape[1]), ex)
        np.testing.assert_array_equal(got, want)


@FUZZ
@given(arrays(1, 30), arrays(1, 30))
def test_fuzz_discordant_pairs(a, b):
    try:
        got = kernels.discordant_pairs(a, b)
    except ERRORS as e:
        _named(e, "a", "b")
    else:
        x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
        d = np.sign(x[:, None] - x[None]) * np.sign(y[:, None] - y[None])
        assert got == int((d < 0).sum() // 2)


@FUZZ
@given(arrays(3, 5), arrays(2, 5), arrays(1, 5), st.one_of(st.none(), _ints), _ints,
       st.one_of(st.none(), st.sampled_from([1e-300, 0.5, -1.0, np.nan, 2.0])))
def test_fuzz_subset_eval(X, mask, w, top_k, threads, T):
    try:
        Q, N, n = np.shape(X)
        cost = np.ones(n)
        mask = np.asarray(mask) > 0 if np.ndim(mask) == 2 else mask
    except (ValueError, TypeError):
        cost = np.ones(1)
    try:
        res = K.subset_eval(X, mask, cost, w, top_k=top_k, threads=threads, kl_temperature=T)
    except ERRORS as e:
        _named(e, "X", "mask", "cost", "w", "ranker", "top_k", "threads", "kl_temperature",
               "query_index", "layers")
    else:
        kk = None if top_k is None else min(top_k, np.shape(X)[1])
        ref = fref.subset_eval(np.asarray(X), mask, cost, _as_ref(w, np.float32), top_k=kk,
                               kl_temperature=T)
        np.testing.assert_array_equal(res.loss, ref["loss"])
        np.testing.assert_array_equal(res.cost, ref["cost"])
        if T is not None:
            np.testing.assert_allclose(res.kl, ref["kl"], rtol=1e-9, atol=1e-12)
    try:
        fm = K.feature_mean(X, threads=threads)
    except ERRORS as e:
        _named(e, "X", "threads")
    else:
        Xr = np.asarray(X, np.float64)
        np.testing.assert_allclose(fm, Xr.reshape(-1, Xr.shape[2]).mean(0).astype(np.float32),
                                   rtol=1e-6, atol=1e-6)


@FUZZ
@given(_ints, st.one_of(st.none(), _ints), arrays(1, 4), st.integers(1, 5))
def test_fuzz_pair_count_and_cost_totals(N, k, cost, Qn):
    try:
        got = K.pair_count(N, k)
    except ERRORS as e:
        _named(e, "N", "top_k")
    else:
        kk = 0 if k is None or k >= N else k
        assert got == (N * (N - 1) // 2 if kk == 0 else kk * (kk - 1) // 2 + kk * (N - kk))
    try:
        tot = K.cost_totals(cost, Qn, 3, np.size(cost))
    except ERRORS as e:
        _named(e, "cost")
    else:
        np.testing.assert_array_equal(tot, (np.asarray(cost, np.float64) * 3)[None])


_CFG = SessionConfig(world=WorldConfig(n_queries=3, n_items=23, n_features=4), max_steps=5)
_SIM_WORLD = SearchSimulator(_CFG, 1).world


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 4), _ints, arrays(2, 5), st.sampled_from(["query", "segment", "power",
       "patience", "prefs", None]), arrays(1, 5), st.booleans())
def test_fuzz_simulator(B, seed, actions, field, value, sample):
    from simcore.domains.search.reference import ReferenceSessionBatch

    try:
        sim = SearchSimulator(_CFG, B, seed=seed, world=_SIM_WORLD)
    except ERRORS as e:
        _named(e, "seed", "num_sessions")
        return
    ref = ReferenceSessionBatch(_CFG, B, seed=seed, world=_SIM_WORLD)
    np.testing.assert_array_equal(sim.reset(), ref.reset())
    users = sim.users()
    if field is not None:
        users[field] = value
    try:
        obs = sim.reset_to(users)
    except ERRORS as e:
        _named(e, f'users["{field}"]')
    else:
        shapes = {k: v.shape for k, v in sim.users().items()}
        full = {k: np.broadcast_to(np.asarray(v), shapes[k]) for k, v in users.items()}
        np.testing.assert_array_equal(obs, ref.reset_to(full))
    try:
        r = sim.step(actions, sample=sample)
    except ERRORS as e:
        _named(e, "actions")
        return
    rr = ref.step(np.asarray(actions, dtype=np.float32), sample=sample)
    np.testing.assert_array_equal(r.page, rr["page"])
    np.testing.assert_allclose(r.reward, rr["reward"], rtol=1e-12)
    p = sim.peek(actions)
    assert p.page.shape == r.page.shape
