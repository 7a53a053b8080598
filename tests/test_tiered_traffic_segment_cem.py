"""The per-segment CEM learner of the tiered-traffic reproduction (segment_cem.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simcore.algos.cem_bounds import CEMBounds, CEMBoundsConfig
from simcore.domains.search.spec import segment_of
from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.experiments.tiered_traffic.evaluate import session_returns
from simcore.experiments.tiered_traffic.segment_cem import (
    CEMSegmentPolicy,
    segment_cem_evaluator,
    segment_session_returns,
)
from simcore.util.seeds import SeedTree


def _sim(n: int = 64) -> TrafficSimulator:
    return TrafficSimulator(TrafficConfig(), num_sessions=n, seed=0)


def test_equal_rows_are_the_uniform_sessions():
    sim = _sim()
    G = int(np.asarray(sim.world.segment_pref).shape[0])
    w = np.array([0.1, -0.05, 0.02])
    x, seg = segment_session_returns(sim, np.tile(w, (G, 1)), seed=5, expected=True)
    np.testing.assert_array_equal(x, session_returns(sim, w, seed=5, expected=True))
    assert seg.shape == x.shape and set(np.unique(seg)) <= set(range(G))


def test_a_segment_row_moves_only_its_segment_score():
    sim = _sim()
    G = int(np.asarray(sim.world.segment_pref).shape[0])
    ev = segment_cem_evaluator(sim, SeedTree(1), G, max_chunks=2, rel_tol=0.05, expected=True)
    base = np.zeros((G, 3))
    moved = base.copy()
    moved[0] = (2.0, -1.0, 1.0)
    s = ev(np.stack([base, moved]))
    assert s.shape == (2, G)
    assert s[0, 0] != s[1, 0]  # the changed row changes its segment's sessions
    np.testing.assert_array_equal(s[0, 1:], s[1, 1:])  # common sessions: other segments untouched
    assert ev.sessions[0] > 0
    with pytest.raises(ValueError, match="candidates"):
        ev(np.zeros((2, 3)))


def test_each_tracker_climbs_its_own_segment_surface():
    opt = np.array([[0.3, 0.0], [-0.2, 0.1], [0.0, -0.3]])

    def evaluate(c: np.ndarray) -> np.ndarray:  # (s, G, m) -> (s, G): a concave surface per segment
        return -((c - opt[None]) ** 2).sum(axis=2)

    cfg = CEMBoundsConfig(n_candidates=20, elite_frac=0.25, alpha=0.05, init_std=0.3, min_std=0.01)
    cems = [CEMBounds(2, dataclasses.replace(cfg, seed=g)) for g in range(3)]
    pol = CEMSegmentPolicy(cems, evaluate)
    for _ in range(60):
        pol.end_iteration()
    assert np.abs(pol.table - opt).max() < 0.05
    # act serves the row of each observation's segment
    obs = np.zeros((3, 9), np.float32)
    for g in range(3):
        obs[g, 5 + g] = 1.0  # one-hot in the G columns before the last
    np.testing.assert_array_equal(segment_of(obs, 3), [0, 1, 2])
    np.testing.assert_allclose(pol.act(obs), pol.table.astype(np.float32))
    # state round trip continues identically
    twin = CEMSegmentPolicy([CEMBounds(2, dataclasses.replace(cfg, seed=9)) for _ in range(3)], evaluate)
    twin.load_state_dict(pol.state_dict())
    pol.end_iteration()
    twin.end_iteration()
    np.testing.assert_array_equal(pol.table, twin.table)


def test_bad_trackers_are_rejected():
    with pytest.raises(ValueError, match="cems"):
        CEMSegmentPolicy([], lambda c: c)
    with pytest.raises(ValueError, match="cems"):
        CEMSegmentPolicy([CEMBounds(2), CEMBounds(3)], lambda c: c)
