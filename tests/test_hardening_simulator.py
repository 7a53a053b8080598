"""Hardening of the search-session simulator: reset_to validation, window bound,
pickling / deepcopy with the full C++ state."""

from __future__ import annotations

import copy
import pickle
from dataclasses import replace

import numpy as np
import pytest

from simcore.domains.search.simulator import MAX_WINDOW, SearchSimulator


def _actions(sim, seed=0):
    return np.random.default_rng(seed).normal(size=(sim.num_sessions, sim.num_features))


def _snapshot(res):
    return {k: np.array(getattr(res, k)) for k in ("obs", "reward", "terminated", "truncated",
            "outcome", "item", "price", "page", "clicks", "b", "l", "c", "m", "expected_clicks")}


@pytest.mark.parametrize("field,value,exc,match", [
    ("segment", np.array([2**32 + 1, 0]), ValueError, r'users\["segment"\]: ids must lie'),
    ("query", np.array([1.9, 0.0]), TypeError, r'users\["query"\]: expected integers'),
    ("segment", np.array([0.0, 1.0]), TypeError, r'users\["segment"\]: expected integers'),
    ("query", np.array([-1, 0]), ValueError, r'users\["query"\]: ids must lie'),
    ("query", np.array([0, 1, 2]), ValueError, r'users\["query"\]: expected shape'),
    ("power", np.array([0.5, np.nan]), ValueError, r'users\["power"\]: must be finite'),
    ("power", np.array([0.5, 1.5]), ValueError, r'users\["power"\]: must lie in \[0, 1\]'),
    ("patience", np.array([0.0, np.inf]), ValueError, r'users\["patience"\]: must be finite'),
    ("prefs", np.zeros((2, 3)), ValueError, r'users\["prefs"\]: expected shape'),
    ("prefs", np.array([["a"] * 8] * 2), TypeError, r'users\["prefs"\]: expected real'),
])
def test_reset_to_validates(small_config, field, value, exc, match):
    sim = SearchSimulator(small_config, 2)
    users = sim.users()
    users[field] = value
    with pytest.raises(exc, match=match):
        sim.reset_to(users)


def test_reset_to_missing_key(small_config):
    sim = SearchSimulator(small_config, 2)
    users = sim.users()
    del users["segment"]
    with pytest.raises(ValueError, match=r'users\["segment"\]: missing'):
        sim.reset_to(users)
    with pytest.raises(TypeError, match="users: expected a mapping"):
        sim.reset_to([1, 2])


def test_reset_to_accepts_valid_and_pickled(small_config):
    sim = SearchSimulator(small_config, 3, seed=4)
    sim.reset()
    users = pickle.loads(pickle.dumps(sim.users()))
    users["query"] = users["query"].astype(np.uint8)  # any integer dtype in range
    obs = sim.reset_to(users).copy()
    other = SearchSimulator(small_config, 3, seed=4)
    other.reset()
    np.testing.assert_array_equal(obs, other.reset_to(other.users()))


@pytest.mark.parametrize("window", [0, MAX_WINDOW + 1, 10**7])
def test_window_bounded(small_config, window):
    cfg = replace(small_config, user=_user_with(small_config.user, window=window))
    with pytest.raises(ValueError, match="window"):
        SearchSimulator(cfg, 1)


def _user_with(user, **kw):
    """A copy of the user-model config with fields overridden, bypassing its own checks
    (the binding must hold the bound by itself)."""
    u = copy.copy(user)
    for k, v in kw.items():
        object.__setattr__(u, k, v)
    return u


def test_window_binding_bound():
    from simcore import _core

    um = _core.search.UserModel()
    um.window = 10**7
    sim = SearchSimulator()
    w = sim.world
    with pytest.raises(ValueError, match=r"window: must lie in \[1, 256\]"):
        _core.search.SessionBatch(w.features, w.prices, w.segment_cdf, w.segment_pref, um,
                                  10, 30, 0, 1)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_round_trip_continues_exactly(small_config, how):
    sim = SearchSimulator(small_config, 5, seed=11)
    sim.reset()
    for t in range(7):  # mid-episode, some slots ended and autoreset
        sim.step(_actions(sim, t))
    clone = pickle.loads(pickle.dumps(sim)) if how == "pickle" else copy.deepcopy(sim)
    assert clone is not sim and clone._sim is not sim._sim
    for t in range(12):
        a = _actions(sim, 100 + t)
        r1, r2 = _snapshot(sim.step(a)), _snapshot(clone.step(a))
        for k in r1:
            np.testing.assert_array_equal(r1[k], r2[k], err_msg=k)
        p1, p2 = sim.peek(a), clone.peek(a)
        np.testing.assert_array_equal(p1.b, p2.b)
    np.testing.assert_array_equal(sim.steps_taken(), clone.steps_taken())
    for k, v in sim.users().items():
        np.testing.assert_array_equal(v, clone.users()[k])


def test_round_trip_fresh_and_after_reseed(small_config):
    sim = SearchSimulator(small_config, 2, seed=3)
    clone = pickle.loads(pickle.dumps(sim))  # never reset: both autoreset on first step
    a = _actions(sim)
    np.testing.assert_array_equal(sim.step(a).obs, clone.step(a).obs)
    sim.seed(99)
    clone = copy.deepcopy(sim)
    np.testing.assert_array_equal(sim.reset(), clone.reset())


def test_set_state_rejects_corrupt_state(small_config):
    sim = SearchSimulator(small_config, 2)
    sim.reset()
    st = sim._sim.get_state()
    before = sim._sim.get_state()
    for key, bad in [("items", lambda a: a + 10**6), ("head", lambda a: a + 100),
                     ("query", lambda a: a[:1]), ("rng", lambda a: a.astype(np.float64))]:
        s2 = dict(st)
        s2[key] = bad(st[key])
        with pytest.raises((ValueError, TypeError), match=rf"state\['{key}'\]"):
            sim._sim.set_state(s2)
    after = sim._sim.get_state()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


@pytest.mark.parametrize("bad, exc, match", [
    ([1, 2], ValueError, r"seeds: expected one seed per session \(3\)"),
    ([1, 2, -1], ValueError, r"seeds\[2\]"),
    ([1, 2, 2**64], ValueError, r"seeds\[2\]"),
    ([1, None, 3], TypeError, r"seeds\[1\]"),
    ([1, 2.0, 3], TypeError, r"seeds\[1\]"),
    ([True, 2, 3], TypeError, r"seeds\[0\]"),
    (np.array([1.0, 2.0, 3.0]), TypeError, "seeds"),
    (np.array([[1, 2, 3]]), ValueError, r"seeds: expected shape \(3,\)"),
    (7, TypeError, "seeds"),
])
def test_seed_slots_validates(small_config, bad, exc, match):
    sim = SearchSimulator(small_config, 3)
    with pytest.raises(exc, match=match):
        sim.seed_slots(bad)
    sim.seed_slots(np.array([0, 2**64 - 1, 5], dtype=np.uint64))
    sim.seed_slots((1, 2, 3))


def test_round_trip_with_slot_seeds(small_config):
    sim = SearchSimulator(small_config, 4)
    sim.seed_slots([8, 8, 1, 2**64 - 1])
    sim.reset()
    for t in range(9):
        sim.step(_actions(sim, t))
    st = sim._sim.get_state()
    np.testing.assert_array_equal(st["slot_seed"], np.array([8, 8, 1, 2**64 - 1], np.uint64))
    np.testing.assert_array_equal(st["slot_stream"], np.zeros(4, np.uint64))
    clone = pickle.loads(pickle.dumps(sim))
    for t in range(30):  # through more autoresets: new episodes keyed by the slot seeds
        a = _actions(sim, 200 + t)
        r1, r2 = _snapshot(sim.step(a)), _snapshot(clone.step(a))
        for k in r1:
            np.testing.assert_array_equal(r1[k], r2[k], err_msg=k)


def test_state_without_slot_seeds_defaults_to_batch_seed(small_config):
    sim = SearchSimulator(small_config, 3, seed=21)
    sim.reset()
    st = sim._sim.get_state()
    np.testing.assert_array_equal(st["slot_stream"], np.arange(3, dtype=np.uint64))
    old = {k: v for k, v in st.items() if k not in ("slot_seed", "slot_stream")}
    clone = SearchSimulator(small_config, 3)
    clone.seed_slots([1, 2, 3])
    clone._sim.set_state(old)  # a pre-per-slot state dict: streams (seed, j, e)
    for k, v in clone._sim.get_state().items():
        np.testing.assert_array_equal(v, st[k], err_msg=k)
    half = dict(old, slot_seed=st["slot_seed"])
    with pytest.raises(ValueError, match="slot_stream"):
        clone._sim.set_state(half)
    with pytest.raises(ValueError, match=r"state\['slot_seed'\]"):
        clone._sim.set_state(dict(st, slot_seed=st["slot_seed"][:2]))
