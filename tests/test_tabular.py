"""Tabular SSMDP: state space, exact DP vs brute force, policy evaluation, Monte Carlo,
and the vectorised learners (on synthetic models; fast)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.tabular import (
    StateSpace,
    TabularSSMDP,
    brute_force,
    evaluate,
    paths,
    solve,
)
from simcore.domains.search.tabular.dp import expected_gmv_forward
from simcore.domains.search.tabular.learners import LearnerConfig, learn
from simcore.domains.search.tabular.montecarlo import simulate_model
from simcore.domains.search.tabular.rng import run_keys, seed_tree, tree_key, uniform
from simcore.util.seeds import SeedTree


def _model(T=3, A=2, L=1, G=2, seed=0) -> TabularSSMDP:
    return TabularSSMDP.random(StateSpace(T, A, L, G), np.random.default_rng(seed))


# ------------------------------------------------------------------------------ state space


@pytest.mark.parametrize("T,A,L,G", [(1, 1, 0, 1), (4, 3, 2, 2), (5, 2, 4, 3), (6, 5, 0, 4), (3, 2, 7, 1)])
def test_state_space_indexing(T, A, L, G):
    sp = StateSpace(T, A, L, G)
    s = np.arange(sp.n_states)
    assert np.array_equal(sp.index(sp.state_t, sp.state_g, sp.state_h), s)
    assert sp.n_states == G * sum(A ** min(t, L) for t in range(T))
    # next_state agrees with next_hist, keeps the segment, advances the page
    inner = sp.state_t < T - 1
    for a in range(A):
        nxt = sp.next_state[inner, a]
        assert np.all(sp.state_t[nxt] == sp.state_t[inner] + 1)
        assert np.all(sp.state_g[nxt] == sp.state_g[inner])
        assert np.array_equal(sp.state_h[nxt], sp.next_hist(sp.state_t[inner], sp.state_h[inner], a))
    assert np.all(sp.next_state[~inner] == -1)
    # the remembered actions are the last min(t, L) actions taken
    rng = np.random.default_rng(0)
    for g in range(G):
        acts = rng.integers(0, A, T)
        st = int(sp.initial[g])
        for t in range(T):
            assert sp.history(st) == tuple(acts[max(0, t - L) : t]) if L else sp.history(st) == ()
            if t < T - 1:
                st = int(sp.next_state[st, acts[t]])


def test_state_space_project():
    sp = StateSpace(5, 3, 3, 2)
    for lev in range(4):
        coarse = StateSpace(5, 3, lev, 2)
        p = sp.project(lev)
        assert p.max() < coarse.n_states
        for s in range(0, sp.n_states, 7):
            hist = sp.history(s)
            assert coarse.history(int(p[s])) == (hist[len(hist) - min(len(hist), lev) :] if lev else ())


def test_state_space_rejects_bad_arguments():
    with pytest.raises(ValueError, match="memory"):
        StateSpace(5, 3, -1, 1)
    with pytest.raises(ValueError, match="empty"):
        StateSpace(5, 0, 1, 1)
    with pytest.raises(ValueError, match="horizon"):
        StateSpace(0, 3, 1, 1)
    with pytest.raises(ValueError, match="states"):
        StateSpace(30, 5, 30, 4)
    with pytest.raises(TypeError, match="memory"):
        StateSpace(5, 3, 1.5, 1)


def test_model_validation():
    sp = StateSpace(2, 2, 1, 1)
    S = sp.n_states
    ok = dict(b=np.full((S, 2), 0.1), l=np.full((S, 2), 0.2), c=np.full((S, 2), 0.7), m=np.full((S, 2), 5.0))
    TabularSSMDP(sp, **ok, segment_probs=np.ones(1))
    with pytest.raises(ValueError, match="sum to 1"):
        TabularSSMDP(sp, **{**ok, "c": np.full((S, 2), 0.6)}, segment_probs=np.ones(1))
    with pytest.raises(ValueError, match="shape"):
        TabularSSMDP(sp, **{**ok, "m": np.ones((S, 3))}, segment_probs=np.ones(1))
    with pytest.raises(ValueError, match="NaN"):
        TabularSSMDP(sp, **{**ok, "m": np.full((S, 2), np.nan)}, segment_probs=np.ones(1))
    with pytest.raises(ValueError, match="non-negative"):
        TabularSSMDP(sp, **{**ok, "m": np.full((S, 2), -1.0)}, segment_probs=np.ones(1))
    with pytest.raises(ValueError, match="segment_probs"):
        TabularSSMDP(sp, **ok, segment_probs=np.array([0.5]))


# ------------------------------------------------------------------------------ DP


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_dp_equals_brute_force_over_all_policies(seed, gamma):
    # T=3, A=2, L=1, G=2: 14 states, 2^14 deterministic policies enumerated.
    model = _model(seed=seed)
    sol = solve(model, gamma)
    best, pol = brute_force(model, gamma)
    assert sol.v_h0 == pytest.approx(best, rel=1e-12)
    assert evaluate(model, pol, gamma) == pytest.approx(best, rel=1e-12)
    assert evaluate(model, sol.policy, gamma) == pytest.approx(sol.v_h0, rel=1e-12)


def test_dp_full_history_equals_brute_force_with_memory_beyond_horizon():
    model = _model(T=3, A=2, L=5, G=2, seed=3)  # L > T: states are full histories
    for gamma in (0.0, 1.0):
        assert solve(model, gamma).v_h0 == pytest.approx(brute_force(model, gamma)[0], rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_proposition_2_exact(seed):
    model = _model(T=5, A=3, L=2, G=2, seed=seed)
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=(4, model.n_states))  # 4 stochastic policies
    gmv = expected_gmv_forward(model, probs)
    assert np.allclose(evaluate(model, probs, 1.0), gmv, rtol=1e-12)
    for gamma in (0.0, 0.1, 0.5, 0.9):
        v = evaluate(model, probs, gamma)
        assert np.all(v < gmv)
    for gamma in (0.0, 0.5, 1.0):
        sol = solve(model, gamma)
        assert np.all(sol.v_h0 >= evaluate(model, probs, gamma) - 1e-12)  # DP is optimal
        fwd = expected_gmv_forward(model, sol.policy)
        assert sol.gmv == pytest.approx(fwd, rel=1e-12)
        assert (sol.v_h0 == pytest.approx(fwd, rel=1e-12)) if gamma == 1.0 else sol.v_h0 < fwd


def test_paths_follow_the_policy():
    model = _model(T=4, A=3, L=2, G=2, seed=1)
    sol = solve(model, 1.0)
    p = paths(model, sol.policy)
    sp = model.space
    for g in range(2):
        s = int(sp.initial[g])
        value, reach = 0.0, 1.0
        for t in range(4):
            a = p[g, t]
            assert a == sol.policy[s]
            value += reach * model.b[s, a] * model.m[s, a]
            reach *= model.c[s, a]
            if t < 3:
                s = int(sp.next_state[s, a])
        assert value == pytest.approx(sol.V[sp.initial[g]], rel=1e-12)


def test_evaluate_rejects_bad_policies():
    model = _model()
    with pytest.raises(ValueError, match="policy"):
        evaluate(model, np.zeros(3, dtype=np.int64), 1.0)
    with pytest.raises(ValueError, match="policy"):
        evaluate(model, np.full(model.n_states, 7), 1.0)
    with pytest.raises(ValueError, match="probabilities"):
        evaluate(model, np.full((model.n_states, 2), 0.7), 1.0)
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError, match="gamma"):
            solve(model, bad)


# ------------------------------------------------------------------------------ Monte Carlo


def test_monte_carlo_matches_exact_values():
    model = _model(T=4, A=3, L=2, G=2, seed=5)
    det = solve(model, 1.0).policy
    sto = np.random.default_rng(0).dirichlet(np.ones(3), size=model.n_states)
    mc = simulate_model(model, [det, sto], 40_000, seed=1)
    for i, pol in enumerate((det, sto)):
        for gamma in (0.5, 1.0):
            x = mc.returns(gamma)[i]
            half = 4.0 * x.std() / np.sqrt(x.size)  # ~4 sigma: a loose but real check
            assert abs(x.mean() - evaluate(model, pol, gamma)) < half
    again = simulate_model(model, [det, sto], 40_000, seed=1)
    assert np.array_equal(mc.gmv, again.gmv)
    assert not np.array_equal(mc.gmv, simulate_model(model, [det, sto], 40_000, seed=2).gmv)
    # named streams: an int n is SeedTree(n); the same path reproduces, another differs
    assert np.array_equal(mc.gmv, simulate_model(model, [det, sto], 40_000, seed=SeedTree(1)).gmv)
    t = SeedTree(1).child("evaluate", "dp", "1.0")
    x = simulate_model(model, [det], 1_000, seed=t).gmv
    assert np.array_equal(x, simulate_model(model, [det], 1_000, seed=t).gmv)
    assert not np.array_equal(x, simulate_model(model, [det], 1_000, seed=SeedTree(1).child("evaluate", "dp", "0.0")).gmv)


# ------------------------------------------------------------------------------ learners


def test_counter_rng_is_deterministic_and_uniform():
    k = np.full(100_000, run_keys(1, 2, 3), dtype=np.uint64)
    sess = np.arange(100_000)
    u = uniform(k, sess, 3, 1)
    assert np.array_equal(u, uniform(k, sess, 3, 1))
    assert not np.array_equal(u, uniform(k, sess, 4, 1))
    assert not np.array_equal(u, uniform(k, sess, 3, 2))
    assert run_keys(1, 2, 3) != run_keys(1, 2, 4)
    # keys from named paths: same (root, path) same key, any other root or path another
    t = SeedTree(5)
    assert tree_key(t, "learn", "q_learning", "run", 0) == tree_key(SeedTree(5), "learn", "q_learning", "run", 0)
    assert tree_key(t, "learn", "q_learning", "run", 0) != tree_key(t, "learn", "q_learning", "run", 1)
    assert tree_key(t, "learn", "q_learning", "run", 0) != tree_key(SeedTree(6), "learn", "q_learning", "run", 0)
    assert isinstance(tree_key(t, "x"), np.uint64) and seed_tree(5).root == 5 and seed_tree(t) is t
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
    assert abs(np.mean(u < 0.1) - 0.1) < 0.005


@pytest.mark.parametrize("algorithm", ["q_learning", "actor_critic"])
def test_learners_approach_dp_on_a_tiny_instance(algorithm):
    model = _model(T=3, A=2, L=2, G=1, seed=7)
    keys = np.array([run_keys(11, r) for r in range(4)], dtype=np.uint64)
    cfg = LearnerConfig(sessions=30_000, lanes=20, checkpoints=4, curve_points=10)
    for gamma in (0.0, 1.0):
        dp = solve(model, gamma)
        res = learn(algorithm, model, gamma, keys, cfg)
        got = evaluate(model, res.final_policy, gamma)  # exact V_gamma of each run's final policy
        assert got.shape == (4,)
        assert np.all(got <= dp.v_h0 + 1e-9)
        assert np.mean(got) > 0.97 * dp.v_h0, (gamma, got, dp.v_h0)
        # learning made progress: the last checkpoint is at least as good as the first
        assert res.ckpt_v_exact[:, -1].mean() >= res.ckpt_v_exact[:, 0].mean() - 1e-9
        # the learner's own value estimate is close to the truth
        assert abs(np.mean(res.v_h0) - dp.v_h0) < 0.1 * dp.v_h0
        assert res.curve_gmv.shape == (4, 10) and res.ckpt_gmv.shape == (4, 4)


@pytest.mark.parametrize("algorithm", ["q_learning", "actor_critic"])
def test_learners_deterministic_and_runs_independent(algorithm):
    model = _model(T=4, A=3, L=2, G=2, seed=2)
    keys = np.array([run_keys(3, r) for r in range(3)], dtype=np.uint64)
    cfg = LearnerConfig(sessions=3_000, lanes=16, checkpoints=3, curve_points=5)
    a = learn(algorithm, model, 0.9, keys, cfg)
    b = learn(algorithm, model, 0.9, keys, cfg)
    solo = learn(algorithm, model, 0.9, keys[1:2], cfg)
    for field in ("curve_gmv", "ckpt_v_h0", "ckpt_gmv", "v_h0", "greedy"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
        # a run's results depend only on its own key, not on the other runs in the batch
        assert np.array_equal(getattr(a, field)[1], getattr(solo, field)[0]), field
    assert not np.array_equal(a.curve_gmv[0], a.curve_gmv[1])  # different keys, different runs


def test_learner_config_and_arguments_rejected():
    model = _model()
    with pytest.raises(ValueError, match="algorithm"):
        learn("sarsa", model, 0.5, np.array([1], dtype=np.uint64))
    with pytest.raises(ValueError, match="gamma"):
        learn("q_learning", model, 1.5, np.array([1], dtype=np.uint64))
    with pytest.raises(ValueError, match="keys"):
        learn("q_learning", model, 0.5, np.array([], dtype=np.uint64))
    with pytest.raises(ValueError, match="step_exponent"):
        LearnerConfig(step_exponent=0.3)
    with pytest.raises(ValueError, match="lanes"):
        LearnerConfig(lanes=0)
    with pytest.raises(ValueError, match="epsilon_end"):
        LearnerConfig(epsilon_end=2.0)
