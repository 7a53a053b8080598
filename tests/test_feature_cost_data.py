"""The engine-cost data generator and baselines (exhaustive, static)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost import data as D
from simcore.domains.feature_cost import kernels as K
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator


@pytest.fixture(scope="module")
def small():
    return D.generate(D.FeatureCostDataConfig(n_contexts=24, n_items=40, seed=3))


def test_generate_shapes_ranges(small):
    Q, N, n = small.X.shape
    assert (Q, N, n) == (24, 40, len(D.FEATURE_NAMES))
    assert small.X.dtype == np.float32 and small.X.flags.c_contiguous
    assert np.all((small.X >= 0) & (small.X <= 1))
    assert np.all(small.prices > 0)
    assert small.context.shape == (Q, len(D.CONTEXT_NAMES))
    assert np.all((small.context >= 0) & (small.context <= 1))
    np.testing.assert_array_equal(small.context[:, 3:7].sum(axis=1), 1.0)
    np.testing.assert_array_equal(small.context[np.arange(Q), 3 + small.category], 1.0)
    assert set(np.unique(small.segment)) <= {0, 1, 2, 3}
    assert small.cost.shape == (n,) and small.weights.shape == (n,)


def test_generate_deterministic(small):
    again = D.generate(D.FeatureCostDataConfig(n_contexts=24, n_items=40, seed=3))
    np.testing.assert_array_equal(again.X, small.X)
    np.testing.assert_array_equal(again.prices, small.prices)
    other = D.generate(D.FeatureCostDataConfig(n_contexts=24, n_items=40, seed=4))
    assert not np.array_equal(other.X, small.X)


def test_context_effects_by_design():
    d = D.generate(D.FeatureCostDataConfig(n_contexts=400, n_items=50, seed=0))
    a = d.spread
    rich = (d.power + d.tail) > 1.4
    poor = (d.power + d.tail) < 0.8
    j = D.FEATURE_NAMES.index("deep_ctr")
    assert a[rich, j].mean() < 0.3 * a[poor, j].mean()
    img = D.FEATURE_NAMES.index("image")
    assert a[d.category == 0, img].min() > 5 * a[d.category >= 2, img].max()
    # the spread shows in the data: deep_ctr varies far less over a rich request's items
    assert d.X[rich, :, j].std(axis=1).mean() < 0.5 * d.X[poor, :, j].std(axis=1).mean()
    flat = D.generate(D.FeatureCostDataConfig(n_contexts=50, n_items=20, seed=0, context_strength=0.0))
    np.testing.assert_allclose(flat.spread[:, 6:], np.broadcast_to(flat.spread[0, 6:], (50, 6)))


@pytest.mark.parametrize("bad", [dict(n_contexts=0), dict(n_items=1), dict(context_strength=1.5), dict(seed=-1)])
def test_config_rejects(bad):
    with pytest.raises(ValueError):
        D.FeatureCostDataConfig(**bad)


def test_subset_and_simulator_world(small):
    sub = small.subset(np.array([0, 5, 7]))
    np.testing.assert_array_equal(sub.X[1], small.X[5])
    world = D.make_simulator_world(small)
    cfg = SessionConfig(world=WorldConfig(n_queries=24, n_items=40, n_features=12, n_segments=4), num_threads=1)
    users = D.simulator_users(small, world, 3, UserModelConfig(), seed=1)
    assert users["query"].shape == (72,) and users["prefs"].shape == (72, 12)
    np.testing.assert_array_equal(users["power"], np.repeat(small.power, 3))
    sim = SearchSimulator(cfg, num_sessions=72, seed=0, world=world)
    obs = sim.reset_to(users)
    assert obs.shape[0] == 72
    r = sim.step(np.tile(small.weights, (72, 1)), sample=False)
    assert np.all((r.b >= 0) & (r.b <= 1))
    again = D.simulator_users(small, world, 3, UserModelConfig(), seed=1)
    np.testing.assert_array_equal(again["prefs"], users["prefs"])


# ------------------------------------------------------------------ baselines


def test_all_masks():
    m = B.all_masks(3)
    assert m.shape == (8, 3)
    assert len({tuple(r) for r in m}) == 8
    assert not m[0].any() and m[-1].all()
    np.testing.assert_array_equal(m[5], [True, False, True])


def test_exhaustive_table_matches_direct(small):
    X = np.ascontiguousarray(small.X[:3, :, :6])
    w, cost = small.weights[:6], small.cost[:6]
    fill = K.feature_mean(X)
    tab = B.exhaustive_table(X, w, cost, fill, chunk=2)
    assert tab.loss.shape == (3, 64)
    for q in range(3):
        res = K.subset_eval(X[q : q + 1].repeat(64, axis=0), tab.masks, cost, w, fill=fill)
        np.testing.assert_array_equal(tab.loss[q], res.loss_fraction)
        np.testing.assert_allclose(tab.cost_frac[q], res.cost / (cost.sum() * 40), rtol=1e-12)


def test_best_choices_brute_force():
    rng = np.random.default_rng(0)
    Q, M = 5, 16
    masks = B.all_masks(4)
    cost = masks @ np.array([0.1, 0.2, 0.3, 0.4])
    loss = rng.random((Q, M)) * 0.2
    loss[:, -1] = 0.0
    tab = B.ExhaustiveTable(masks=masks, loss=loss, cost_frac=np.tile(cost, (Q, 1)))
    C, pen = 0.08, 2.0
    idx = tab.best_threshold(C, pen)
    for q in range(Q):
        feas = np.flatnonzero(loss[q] <= C)
        assert cost[idx[q]] == pytest.approx(cost[feas].min())
        assert loss[q, idx[q]] <= C
    lam = 0.3
    idx = tab.best_lambda(lam)
    for q in range(Q):
        assert loss[q, idx[q]] + lam * cost[idx[q]] == pytest.approx((loss[q] + lam * cost).min())
    s = tab.best_static_threshold(C, pen)
    r = B.env_reward(loss, cost, C, pen).mean(axis=0)
    assert r[s] == pytest.approx(r.max())
    s = tab.best_static_lambda(lam)
    assert (loss + lam * cost).mean(axis=0)[s] == pytest.approx((loss + lam * cost).mean(axis=0).min())


def test_greedy_static(small):
    X = np.ascontiguousarray(small.X[:8])
    fill = K.feature_mean(X)
    total = small.cost.sum()
    for budget in (0.3, 0.7, 1.0):
        m = B.greedy_static_budget(X, small.weights, small.cost, fill, budget)
        assert m.dtype == bool and m.shape == (12,)
        assert small.cost[m].sum() / total <= budget + 1e-12
    tight = B.greedy_static_budget(X, small.weights, small.cost, fill, 0.3)
    loose = B.greedy_static_budget(X, small.weights, small.cost, fill, 0.9)
    lt = K.subset_eval(X, np.tile(tight, (8, 1)), small.cost, small.weights, fill=fill).loss_fraction.mean()
    ll = K.subset_eval(X, np.tile(loose, (8, 1)), small.cost, small.weights, fill=fill).loss_fraction.mean()
    assert ll <= lt
    masks, losses, costs = B.greedy_static_path(X, small.weights, small.cost, fill)
    assert masks.shape == (13, 12) and masks[0].all() and not masks[-1].any()
    assert np.all(np.diff(costs) < 0)
    for a, b in zip(masks[:-1], masks[1:]):
        assert np.all(b <= a) and (a & ~b).sum() == 1
    with pytest.raises(ValueError, match="budget"):
        B.greedy_static_budget(X, small.weights, small.cost, fill, 1.5)
    with pytest.raises(ValueError, match="n <= 12"):
        B.exhaustive_table(np.zeros((1, 5, 13), np.float32), np.ones(13, np.float32), np.ones(13), np.zeros(13, np.float32))
