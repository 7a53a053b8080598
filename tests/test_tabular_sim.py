"""Tabular solvers against the C++ simulator: model extraction, the exact page-history
tree DP, and evaluation of tabular policies (tiny worlds; fast)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.tabular import StateSpace, extract_model, paths, solve
from simcore.domains.search.tabular.estimate import ModelEstimator
from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths, sequence_rewards, simulate_policies
from simcore.domains.search.tabular.tree import (
    all_sequences,
    brute_force_sequences,
    build_tree,
    solve_tree,
    tree_user_values,
)
from simcore.domains.search.world import default_action_set
from simcore.util.seeds import SeedTree


@pytest.fixture
def tiny() -> SessionConfig:
    return SessionConfig(world=WorldConfig(n_queries=4, n_items=60), max_steps=4)


def _acts() -> np.ndarray:
    return default_action_set(8)


def test_sequence_rewards_match_a_direct_expectation_run(tiny):
    users = draw_users(tiny, 7, seed=3)
    seqs = np.array([[0, 1, 2, 3], [4, 4, 4, 4], [1, 0, 1, 0]])
    rew = sequence_rewards(tiny, _acts(), users, seqs, chunk=5)  # chunking must not matter
    assert rew.shape == (7, 3, 4)
    assert np.array_equal(rew, sequence_rewards(tiny, _acts(), users, seqs))
    sim = SearchSimulator(tiny, 1, seed=0)
    for u in range(7):
        for k in range(3):
            sim.reset_to({key: v[u : u + 1] for key, v in users.items()})
            surv = 1.0
            for t in range(4):
                r = sim.step(_acts()[seqs[k, t]][None, :], sample=False)
                assert rew[u, k, t] == pytest.approx(surv * r.b[0] * r.m[0], rel=1e-12)
                assert r.reward[0] == pytest.approx(r.b[0] * r.m[0], rel=1e-12)
                surv *= r.c[0]


def test_tree_dp_equals_brute_force_and_proposition_2(tiny):
    short = SessionConfig(world=tiny.world, max_steps=3)
    users = draw_users(short, 12, seed=5)
    tree = build_tree(short, _acts(), users)
    assert tree.rewards.shape == (12, 125, 3)
    for gamma in (0.0, 0.5, 0.9, 1.0):
        sol = solve_tree(tree, gamma)
        best, seqs = brute_force_sequences(tree, gamma)
        assert sol.v_h0 == pytest.approx(best, rel=1e-12)
        gmv, v = tree_user_values(tree, seqs, gamma)
        assert v.mean() == pytest.approx(best, rel=1e-12)
        # Proposition 2 on the real simulator: V_gamma(h0) <= E[GMV], equality at gamma = 1
        if gamma == 1.0:
            assert sol.v_h0 == pytest.approx(sol.gmv, rel=1e-12)
        else:
            assert sol.v_h0 < sol.gmv
            assert np.all(sol.user_v <= sol.user_gmv + 1e-12)
    # gamma = 1 maximises the panel's GMV among all per-segment sequences
    g1 = solve_tree(tree, 1.0).gmv
    for gamma in (0.0, 0.5):
        assert solve_tree(tree, gamma).gmv <= g1 + 1e-12
    with pytest.raises(ValueError, match="horizon"):
        all_sequences(5, 9)


def test_extracted_model_first_page_is_the_exact_segment_average(tiny):
    n = 64
    model = extract_model(tiny, _acts(), memory=2, n_sessions=n, seed=9, batch_size=n)
    sim_seed = model.info["rounds"][0]["seeds"]["simulator"]["seed"]
    assert sim_seed == SeedTree(9).seed("round", 0, "simulator")  # the round's named stream
    users = draw_users(tiny, n, seed=sim_seed)  # the same users the extraction drew
    sim = SearchSimulator(tiny, n, seed=0)
    for a in range(5):
        sim.reset_to(users)
        pe = sim.peek(np.repeat(_acts()[a : a + 1], n, axis=0))
        for g in range(tiny.world.n_segments):
            sel = users["segment"] == g
            if not sel.any():
                continue
            s0 = model.space.initial[g]
            assert model.b[s0, a] == pytest.approx(pe.b[sel].mean(), rel=1e-9)
            assert model.l[s0, a] == pytest.approx(pe.l[sel].mean(), rel=1e-9)
            assert model.m[s0, a] == pytest.approx((pe.b * pe.m)[sel].sum() / pe.b[sel].sum(), rel=1e-9)
    assert np.allclose(model.b + model.l + model.c, 1.0)
    assert model.info["sessions"] == n


def test_extraction_deterministic_and_refinement(tiny):
    a = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=4, refine_rounds=1, refine_sessions=100)
    b = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=4, refine_rounds=1, refine_sessions=100)
    c = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=5, refine_rounds=1, refine_sessions=100)
    assert np.array_equal(a.b, b.b) and np.array_equal(a.m, b.m)
    assert not np.array_equal(a.b, c.b)
    assert len(a.info["rounds"]) == 2 and a.info["sessions"] == 300
    # a SeedTree: the same path gives the same model, another path another one
    t = SeedTree(4).child("model")
    d = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=t, refine_rounds=1, refine_sessions=100)
    e = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=t, refine_rounds=1, refine_sessions=100)
    f = extract_model(tiny, _acts(), memory=1, n_sessions=200, seed=SeedTree(4).child("other"), refine_rounds=1,
                      refine_sessions=100)
    assert np.array_equal(d.b, e.b) and np.array_equal(d.m, e.m)
    assert not np.array_equal(d.b, f.b)
    seeds = [r["seeds"][k]["seed"] for r in d.info["rounds"] for k in ("simulator", "behaviour")]
    assert len(set(seeds)) == 4  # every round's streams are distinct
    assert d.info["rounds"][1]["seeds"]["behaviour"]["path"] == ["model", "round", 1, "behaviour"]
    assert set(np.unique(a.level)) <= {0, 1}


def test_extraction_rejects_bad_input(tiny):
    with pytest.raises(ValueError, match="actions"):
        extract_model(tiny, np.zeros((0, 8), np.float32), n_sessions=10)
    with pytest.raises(ValueError, match="memory"):
        extract_model(tiny, _acts(), memory=-1, n_sessions=10)
    with pytest.raises(ValueError, match="min_ess"):
        extract_model(tiny, _acts(), n_sessions=10, min_ess=0.5)
    with pytest.raises(ValueError, match="actions"):
        extract_model(tiny, _acts()[:, :3], n_sessions=10)
    with pytest.raises(ValueError, match="model"):
        ModelEstimator(tiny, _acts()).model()


def test_exact_transfer_agrees_with_monte_carlo(tiny):
    # A deterministic tabular policy evaluated exactly on a user panel (expectation mode)
    # and by sampled sessions on fresh users estimate the same population GMV.
    model = extract_model(tiny, _acts(), memory=1, n_sessions=400, seed=1)
    pol = solve(model, 1.0).policy
    panel = draw_users(tiny, 3000, seed=2)
    exact = evaluate_paths(tiny, _acts(), panel, [paths(model, pol)], (1.0, 0.5))
    assert exact.shape == (1, 2, 3000)
    assert np.all(exact[0, 1] <= exact[0, 0] + 1e-12)
    mc = simulate_policies(tiny, _acts(), model.space, [pol], 20_000, seed=3)[0]
    se = np.sqrt(exact[0, 0].var() / 3000 + mc.var() / mc.size)
    assert abs(mc.mean() - exact[0, 0].mean()) < 4 * se
    # deterministic, and the seed matters
    again = simulate_policies(tiny, _acts(), model.space, [pol], 20_000, seed=3)[0]
    assert np.array_equal(mc, again)
    assert not np.array_equal(mc, simulate_policies(tiny, _acts(), model.space, [pol], 20_000, seed=4)[0])
    assert np.array_equal(mc, simulate_policies(tiny, _acts(), model.space, [pol], 20_000, seed=SeedTree(3))[0])


def test_simulate_policies_stochastic_and_checks(tiny):
    sp = StateSpace(tiny.horizon, 5, 1, tiny.world.n_segments)
    uniform = np.full((sp.n_states, 5), 0.2)
    pols = [uniform, np.zeros(sp.n_states, np.int64)]
    out = simulate_policies(tiny, _acts(), sp, pols, 500, seed=1, lanes=50)
    assert out.shape == (2, 500) and np.all(out >= 0)
    # named streams: the same path reproduces, another path differs
    t = SeedTree(1).child("transfer", "mc", 500)
    x = simulate_policies(tiny, _acts(), sp, pols, 500, seed=t, lanes=50)
    assert np.array_equal(x, simulate_policies(tiny, _acts(), sp, pols, 500, seed=t, lanes=50))
    assert not np.array_equal(x, simulate_policies(tiny, _acts(), sp, pols, 500, seed=SeedTree(1).child("x"), lanes=50))
    with pytest.raises(ValueError, match="policies"):
        simulate_policies(tiny, _acts(), sp, [np.zeros(3, np.int64)], 10, seed=1)
    with pytest.raises(ValueError, match="space"):
        simulate_policies(tiny, _acts(), StateSpace(9, 5, 1, 4), [uniform], 10, seed=1)
