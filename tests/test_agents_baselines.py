"""Baselines: fixed and random weights, CEM over static weights, the fitted LTR model."""

from __future__ import annotations

import numpy as np
import pytest

import simcore.algos as agents
from simcore.algos.cem import CEMConfig, CEMWeights
from simcore.algos.fixed import FixedWeights
from simcore.algos.protocol import Batch
from simcore.algos.random_weights import RandomWeights
from simcore.domains.search.agents.ltr import FittedLTR, fit_logistic, ltr_dataset
from test_agents_dpg import _batch  # tests/ is on sys.path (pytest rootdir-less import)


def test_lazy_package_exports():
    assert agents.LinearDPG.__name__ == "LinearDPG"
    assert agents.CEMWeights is CEMWeights
    with pytest.raises(AttributeError):
        agents.NoSuchAgent  # noqa: B018


def test_fixed_and_random():
    obs = np.zeros((5, 3), np.float32)
    f = FixedWeights(np.array([0.1, -0.2]), name="x")
    np.testing.assert_array_equal(f.act(obs), np.tile(np.float32([0.1, -0.2]), (5, 1)))
    g = FixedWeights(np.zeros(2))
    g.load_state_dict(f.state_dict())
    np.testing.assert_array_equal(g.act(obs), f.act(obs))
    with pytest.raises(ValueError, match="weights"):
        FixedWeights(np.array([np.nan]))
    r1, r2, r3 = RandomWeights(4, seed=1), RandomWeights(4, seed=1), RandomWeights(4, seed=2)
    a1 = r1.act(obs)
    np.testing.assert_array_equal(a1, r2.act(obs))
    assert not np.array_equal(a1, r3.act(obs))
    assert a1.shape == (5, 4) and np.all(np.abs(a1) <= 1)
    assert not np.array_equal(a1, r1.act(obs))  # a fresh draw per page
    with pytest.raises(ValueError, match="low, high"):
        RandomWeights(2, low=1.0, high=1.0)


def test_fit_logistic_recovers_coefficients_and_is_stationary():
    rng = np.random.default_rng(0)
    n, m = 20000, 3
    X = rng.normal(size=(n, m))
    w_true, b_true = np.array([1.5, -0.7, 0.2]), -0.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w_true + b_true)))).astype(float)
    w, b = fit_logistic(X, y, l2=0.0)
    np.testing.assert_allclose(w, w_true, atol=0.08)
    assert abs(b - b_true) < 0.08
    # first-order optimality with a penalty and sample weights
    s = rng.uniform(0.5, 2.0, n)
    w, b = fit_logistic(X, y, s, l2=0.01)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    sn = s / s.sum()
    np.testing.assert_allclose(X.T @ (sn * (p - y)) + 0.02 * w, 0, atol=1e-9)
    np.testing.assert_allclose(sn @ (p - y), 0, atol=1e-9)
    with pytest.raises(ValueError, match="y"):
        fit_logistic(X, y + 0.5)
    with pytest.raises(ValueError, match="sample_weight"):
        fit_logistic(X, y, -s)


def test_fitted_ltr_from_logs():
    rng = np.random.default_rng(1)
    b = _batch(rng, 400, 4, 3, K=6)
    # clicks driven by feature 0, against feature 2
    s = 4 * b.page_features[..., 0] - 4 * b.page_features[..., 2]
    clicks = (rng.uniform(size=s.shape) < 1 / (1 + np.exp(-(s - 1)))) & b.page_mask
    logs = Batch(**{**b.columns(), "clicks": clicks})
    ltr = FittedLTR(3, label="click").fit(logs)
    w = ltr.weights
    assert np.abs(w).max() == pytest.approx(1.0)
    assert w[0] > 0.5 and w[2] < -0.5 and abs(w[1]) < 0.3
    a = ltr.act(np.zeros((2, 4), np.float32))
    assert a.shape == (2, 3)
    X, y, sw = ltr_dataset(logs, "purchase", "price")
    assert X.shape[0] == logs.page_mask.sum() and y.sum() == logs.purchased.sum()
    assert np.all(sw[y == 0] == 1.0)
    clone = FittedLTR(3)
    clone.load_state_dict(ltr.state_dict())
    np.testing.assert_array_equal(clone.weights, ltr.weights)
    with pytest.raises(RuntimeError):
        FittedLTR(3).act(np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="purchase_weight"):
        FittedLTR(3, purchase_weight="gmv")


def test_cem_assigns_candidates_and_moves_to_elite():
    cfg = CEMConfig(n_candidates=4, elite_frac=0.25, smoothing=1.0, init_std=0.3, min_std=0.01, seed=3)
    cem = CEMWeights(2, cfg)
    obs = np.zeros((8, 3), np.float32)
    a = cem.act(obs)
    np.testing.assert_array_equal(a[:4], a[4:])  # slot j uses candidate j mod 4
    np.testing.assert_allclose(cem.act(obs, explore=False), 0.0)
    # make candidate 2 the best: one purchase per ended session in its slots
    n = 8
    b = _batch(np.random.default_rng(0), n, 3, 2)
    b = Batch(**{**b.columns(), "slot": np.arange(n), "terminated": np.ones(n, bool),
                 "reward": np.where(np.arange(n) % 4 == 2, 100.0, 1.0)})
    cem.update(b)
    best = cem.candidates[2].copy()
    out = cem.end_iteration()
    assert out["cem_best_gmv"] == pytest.approx(100.0)
    np.testing.assert_allclose(cem.mean, best)  # one elite, smoothing 1
    np.testing.assert_allclose(cem.std, 0.01)  # floored
    clone = CEMWeights(2, cfg)
    clone.load_state_dict(cem.state_dict())
    np.testing.assert_array_equal(clone.act(obs), cem.act(obs))
    with pytest.raises(ValueError, match="n_candidates"):
        CEMConfig(n_candidates=1)
    with pytest.raises(ValueError, match="init_mean"):
        CEMWeights(3, init_mean=np.zeros(2))
