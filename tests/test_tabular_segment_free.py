"""The article's segment-free tabular state (t, last L actions): state indexing, the
pooled model estimate, transfer of segment-free policies to the simulator and the
segment-free tree DP (tiny worlds; fast)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.tabular import StateSpace, paths, solve
from simcore.domains.search.tabular.estimate import ModelEstimator, extract_models
from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths, simulate_policies
from simcore.domains.search.tabular.tree import brute_force_sequences, build_tree, segment_free, solve_tree
from simcore.domains.search.world import default_action_set


@pytest.fixture
def tiny() -> SessionConfig:
    return SessionConfig(world=WorldConfig(n_queries=4, n_items=60), max_steps=4)


def _acts() -> np.ndarray:
    return default_action_set(8)


@pytest.mark.parametrize("T,A,L,G", [(4, 3, 2, 2), (5, 2, 4, 3), (3, 5, 0, 4)])
def test_segment_free_space_forgets_only_the_segment(T, A, L, G):
    sp = StateSpace(T, A, L, G)
    free = sp.segment_free()
    assert (free.horizon, free.n_actions, free.memory, free.n_segments) == (T, A, L, 1)
    assert free.n_states * G == sp.n_states
    idx = sp.drop_segment()
    assert np.array_equal(free.state_t[idx], sp.state_t)
    assert np.array_equal(free.state_h[idx], sp.state_h)
    assert np.all(free.state_g == 0)
    # each segment-free state is hit by exactly one state of every segment
    assert np.array_equal(np.bincount(idx, minlength=free.n_states), np.full(free.n_states, G))
    # transitions commute with forgetting the segment
    inner = sp.next_state >= 0
    assert np.array_equal(idx[sp.next_state[inner]], free.next_state[idx][inner])


def test_pooled_model_is_the_survival_weighted_average_over_segments(tiny):
    est = ModelEstimator(tiny, _acts(), memory=1, batch_size=300)
    est.collect(300, seed=2)
    seg, free = est.model(segments=True), est.model(segments=False)
    assert free.space.n_segments == 1 and np.array_equal(free.segment_probs, [1.0])
    assert free.info["segments"] is False and seg.info["segments"] is True
    # page 0: the only state of the free model pools every user, weight 1 each
    W = est.W[seg.space.initial]
    b0 = (seg.b[seg.space.initial] * W[:, None]).sum(0) / W.sum()
    assert free.b[free.space.initial[0]] == pytest.approx(b0, rel=1e-9)
    assert np.allclose(free.b + free.l + free.c, 1.0)
    assert free.visits.sum() == seg.visits.sum()


def test_extract_models_shares_users_and_refines_along_both_states(tiny):
    ms = extract_models(tiny, _acts(), memory=1, n_sessions=200, seed=4, refine_rounds=1, refine_sessions=100,
                        refine_gammas=(0.0, 1.0), states=("history", "segment"))
    assert set(ms) == {"history", "segment"}
    assert ms["history"].space.n_segments == 1 and ms["segment"].space.n_segments == tiny.world.n_segments
    r = ms["history"].info["rounds"]
    assert r == ms["segment"].info["rounds"] and r[1]["behaviour"].startswith("4 policies")  # 2 states x 2 gammas
    again = extract_models(tiny, _acts(), memory=1, n_sessions=200, seed=4, refine_rounds=1, refine_sessions=100,
                           refine_gammas=(0.0, 1.0), states=("history",))
    assert again["history"].b.shape == ms["history"].b.shape
    with pytest.raises(ValueError, match="states"):
        extract_models(tiny, _acts(), n_sessions=10, states=("user",))
    with pytest.raises(ValueError, match="states"):
        extract_models(tiny, _acts(), n_sessions=10, states=())


def test_segment_free_policies_transfer(tiny):
    ms = extract_models(tiny, _acts(), memory=1, n_sessions=300, seed=1, states=("history", "segment"))
    free, seg = ms["history"], ms["segment"]
    pol = solve(free, 1.0).policy
    p = paths(free, pol)
    assert p.shape == (1, tiny.horizon)
    users = draw_users(tiny, 200, seed=2)
    one = evaluate_paths(tiny, _acts(), users, [p])
    rep = evaluate_paths(tiny, _acts(), users, [np.repeat(p, tiny.world.n_segments, axis=0)])
    assert np.array_equal(one, rep)  # a (1, T) path is the same sequence for every segment
    # the same policy written on the segment space acts identically in simulation
    mc_free = simulate_policies(tiny, _acts(), free.space, [pol], 400, seed=3)
    mc_seg = simulate_policies(tiny, _acts(), seg.space, [pol[seg.space.drop_segment()]], 400, seed=3)
    assert np.array_equal(mc_free, mc_seg)


def test_segment_free_tree_is_never_better_in_sample(tiny):
    short = SessionConfig(world=tiny.world, max_steps=3)
    tree = build_tree(short, _acts(), draw_users(short, 15, seed=5))
    free = segment_free(tree)
    assert free.n_segments == 1 and np.all(free.segments == 0)
    for gamma in (0.0, 1.0):
        a, b = solve_tree(free, gamma), solve_tree(tree, gamma)
        assert a.sequences.shape == (1, 3)
        assert a.v_h0 <= b.v_h0 + 1e-12  # observing the segment can only help on the panel
        best, seqs = brute_force_sequences(free, gamma)  # the best single sequence for all users
        assert a.v_h0 == pytest.approx(best, rel=1e-12) and seqs.shape == (1, 3)
