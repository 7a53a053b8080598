"""The state-dependent (segment) logging policy: it reads the segment from the true
simulator's observation, logs its exact propensity, its per-segment means reach the log,
and the experiment's helpers (per-user weights in `paths`, engine distances, config)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.logs import open_log, record
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.world import default_action_set
from simcore.domains.virtual_taobao.policies import SegmentGaussianPolicy, segment_means, segment_of
from simcore.experiments.virtual_taobao.config import VirtualTaobaoConfig, segment_logging_config
from simcore.experiments.virtual_taobao.evaluate import paths
from simcore.experiments.virtual_taobao.logging_policy import engine_distances, make_policy, mean_weights

SMALL = SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}})


def test_segment_of_reads_the_true_observation():
    sim = SearchSimulator(SMALL, 257, 4)
    obs = sim.reset()
    G = len(sim.world.segment_probs)
    seg = segment_of(obs, SMALL.user.window, sim.num_features, G)
    np.testing.assert_array_equal(seg, sim.users()["segment"])
    assert len(np.unique(seg)) == G
    with pytest.raises(ValueError, match="obs"):
        segment_of(obs[:, :-1], SMALL.user.window, sim.num_features, G)


def test_segment_means():
    mu = segment_means(8, 4, 0.5)
    named = default_action_set(8)
    np.testing.assert_allclose(mu[2], 0.5 * named[0] + 0.5 * named[3], rtol=1e-6)
    np.testing.assert_allclose(segment_means(8, 4, 0.0), np.tile(named[0], (4, 1)), rtol=1e-6)
    assert len({tuple(r) for r in mu.round(6)}) == 4  # state-dependent: every segment its own mean
    with pytest.raises(ValueError, match="mix"):
        segment_means(8, 4, 1.5)
    with pytest.raises(ValueError, match="segments"):
        segment_means(8, 0, 0.5)


def test_policy_bad_input():
    with pytest.raises(ValueError, match="means"):
        SegmentGaussianPolicy(np.full((2, 3), np.nan), 0.1, 4)
    with pytest.raises(ValueError, match="std"):
        SegmentGaussianPolicy(np.zeros((2, 3)), 0.0, 4)
    with pytest.raises(ValueError, match="window"):
        SegmentGaussianPolicy(np.zeros((2, 3)), 0.1, 0)


def test_log_of_the_segment_policy(tmp_path):
    """Per segment the logged actions' mean is that segment's mean (4 sigma), their std
    the policy's, and the log's propensity column is the exact density of the action."""
    sim = SearchSimulator(SMALL, 1, 0)
    G, m = len(sim.world.segment_probs), sim.num_features
    mu = segment_means(m, G, 0.5)
    path = tmp_path / "seg.parquet"
    record(path, SegmentGaussianPolicy(mu, 0.1, SMALL.user.window, seed=3), sessions=600, config=SMALL, seed=1)
    b = next(open_log(path).batches(batch_rows=1 << 20, whole_sessions=True))
    a, seg = np.asarray(b["action"], np.float64), np.asarray(b["segment"])
    for g in range(G):
        sel = a[seg == g]
        assert sel.shape[0] > 50
        assert np.all(np.abs(sel.mean(axis=0) - mu[g]) < 4 * 0.1 / np.sqrt(sel.shape[0]))
        np.testing.assert_allclose(sel.std(axis=0), 0.1, rtol=0.25)
    z = (a - mu[seg]) / 0.1
    logp = -(0.5 * z * z + np.log(0.1) + 0.5 * np.log(2 * np.pi)).sum(axis=1)
    np.testing.assert_allclose(np.asarray(b["log_propensity"]), logp, rtol=1e-9, atol=1e-9)


def test_seeded():
    sim = SearchSimulator(SMALL, 64, 2)
    obs = sim.reset()
    mu = segment_means(sim.num_features, 4, 0.5)
    a1 = SegmentGaussianPolicy(mu, 0.1, SMALL.user.window, seed=5)(obs)[0]
    a2 = SegmentGaussianPolicy(mu, 0.1, SMALL.user.window, seed=5)(obs)[0]
    a3 = SegmentGaussianPolicy(mu, 0.1, SMALL.user.window, seed=6)(obs)[0]
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, a3)


def test_experiment_helpers():
    cfg = segment_logging_config()
    assert cfg.logging == "segment"
    seg = np.array([0, 3, 1, 1])
    np.testing.assert_allclose(mean_weights(cfg, seg, 8, 4), segment_means(8, 4, 0.5)[seg])
    g = VirtualTaobaoConfig()
    np.testing.assert_allclose(mean_weights(g, seg, 8, 4), np.tile(default_action_set(8)[0], (4, 1)), rtol=1e-6)
    assert type(make_policy(cfg, 8, 4, 4, 0)).__name__ == "SegmentGaussianPolicy"
    assert type(make_policy(g, 8, 4, 4, 0)).__name__ == "GaussianPolicy"
    # a state-independent engine at the mixture's mean: 0 on average, not per state
    rows = segment_means(8, 4, 0.5)[seg]
    d = engine_distances(np.tile(rows.mean(axis=0), (4, 1)), rows, seg)
    assert d["distance"] == pytest.approx(0.0, abs=1e-12)
    assert d["row_distance"] > 0.1 and d["segment_distance"] > 0.1
    assert engine_distances(rows, rows, seg) == {"distance": 0.0, "row_distance": 0.0, "segment_distance": 0.0}
    for bad in ({"logging": "uniform"}, {"logging_mix": 0.0}, {"logging_mix": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            VirtualTaobaoConfig(**bad)


def test_paths_per_user_weights_equal_one_user_at_a_time():
    sim = SearchSimulator(SMALL, 5, 3)
    sim.reset()
    users = sim.users()
    W = default_action_set(8)
    per_user = W[[0, 1, 2, 3, 4]][None]  # user j ranked by named ranking j
    make = lambda B: SearchSimulator(SMALL, B, 0)  # noqa: E731
    both = paths(make, users, per_user, 5)
    for j in range(5):
        one = paths(make, {k: v[j: j + 1] for k, v in users.items()}, W[j: j + 1], 1)
        for k in "blcm":
            np.testing.assert_array_equal(both[k][0, j], one[k][0, 0])
    with pytest.raises(ValueError, match="per-user"):
        paths(make, users, per_user[:, :3], 5)
