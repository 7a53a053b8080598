"""The virtual-taobao experiment's pieces: exact path evaluation, the policy panel, config checks."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.world import default_action_set
from simcore.experiments.virtual_taobao.config import VirtualTaobaoConfig
from simcore.experiments.virtual_taobao.evaluate import cem_static, kl_pages, paths, summaries
from simcore.experiments.virtual_taobao.run import policy_panel

SMALL = SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}})


def test_summaries_formula():
    p = {"b": np.array([[[0.2, 0.5]]]), "c": np.array([[[0.5, 0.5]]]), "m": np.array([[[10.0, 20.0]]]),
         "l": np.array([[[0.3, 0.0]]])}
    s = summaries(p)
    np.testing.assert_allclose(s["value_h"], [[2.0, 2.0 + 0.5 * 0.5 * 20]])
    np.testing.assert_allclose(s["pmf"], [[0.2, 0.25]])
    assert kl_pages(p, p).max() == pytest.approx(0.0, abs=1e-12)


def test_batched_paths_equal_one_policy_at_a_time():
    sim = SearchSimulator(SMALL, 7, 3)
    sim.reset()
    users = sim.users()
    W = default_action_set(8)[:3]
    make = lambda B: SearchSimulator(SMALL, B, 0)  # noqa: E731
    both = paths(make, users, W, 7)
    for i in range(3):
        one = paths(make, users, W[i: i + 1], 7)
        for k in "blcm":
            np.testing.assert_array_equal(both[k][i], one[k][0])


def test_exact_value_matches_monte_carlo():
    """V(T) from expectation mode equals the mean sampled GMV of the same users (3 sigma)."""
    sim = SearchSimulator(SMALL, 1, 5)
    sim.reset()
    users = sim.users()
    w = default_action_set(8)[:1]
    v = summaries(paths(lambda B: SearchSimulator(SMALL, B, 0), users, w, 1))["value_h"][0, -1]
    n = 20000
    mc = SearchSimulator(SMALL, n, 9)
    mc.reset_to({k: np.repeat(u, n, axis=0) for k, u in users.items()})
    total, alive = np.zeros(n), np.ones(n, bool)
    for _ in range(mc.horizon):
        r = mc.step(np.tile(w, (n, 1)))
        total += np.where(alive, r.reward, 0.0)
        alive &= ~(r.terminated | r.truncated)
    assert abs(total.mean() - v) < 3 * total.std() / np.sqrt(n) + 1e-9


def test_cem_finds_a_known_optimum():
    target = np.array([0.5, -0.3, 0.2])
    w = cem_static(lambda W: -((W - target) ** 2).sum(1), 3, np.zeros(3), np.random.default_rng(0), 30, 40, 8)
    np.testing.assert_allclose(w, target, atol=0.05)


def test_policy_panel_and_config():
    cfg = VirtualTaobaoConfig()
    names, W = policy_panel(cfg, 8, np.random.default_rng(0))
    assert len(names) == W.shape[0] >= 10
    d = np.linalg.norm(W[5:] - W[0], axis=1)
    np.testing.assert_allclose(d, np.tile(cfg.distances, cfg.directions), rtol=1e-5)
    with pytest.raises(ValueError, match="seeds"):
        VirtualTaobaoConfig(seeds=1)
    with pytest.raises(ValueError, match="distances"):
        VirtualTaobaoConfig(distances=())
