"""Uplift learners, curves and the budgeted policy (simcore.algos.uplift)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.algos import uplift as up
from simcore.domains.bandits.incentives import IncentiveConfig, IncentivePopulation
from simcore.util.seeds import SeedTree


def test_ridge_and_logistic_solve_their_objectives():
    rng = SeedTree(0).generator("base")
    x = rng.standard_normal((300, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(300)
    r = up.Ridge(alpha=0.0).fit(x, y)
    ls = np.linalg.lstsq(np.hstack([np.ones((300, 1)), x]), y, rcond=None)[0]
    np.testing.assert_allclose(r.coef, ls, atol=1e-6)
    yb = (rng.random(300) < 1 / (1 + np.exp(-(x @ np.array([1.0, -1.0, 0.0]))))).astype(float)
    lg = up.Logistic(alpha=0.5).fit(x, yb)
    d = np.hstack([np.ones((300, 1)), x])
    grad = d.T @ (lg.predict(x) - yb) + 0.5 * np.r_[0.0, lg.coef[1:]]
    assert np.abs(grad).max() < 1e-6


@pytest.mark.parametrize("name", sorted(up.LEARNERS))
def test_learners_recover_a_linear_uplift(name):
    rng = SeedTree(1).generator("lin", name)
    n = 4000
    x = rng.standard_normal((n, 3))
    t = (rng.random(n) < 0.5).astype(int)
    tau = 0.5 + x @ np.array([1.0, 0.0, -0.5])
    y = x @ np.array([0.3, 1.0, 0.2]) + t * tau + 0.5 * rng.standard_normal(n)
    kw = {"propensity": 0.5} if name != "t-learner" else {}
    pred = up.LEARNERS[name](alpha=1e-3, **kw).fit(x, t, y).predict(x)
    assert np.corrcoef(pred, tau)[0, 1] > 0.98
    assert abs(pred.mean() - tau.mean()) < 0.05


def test_qini_and_uplift_curves_by_hand():
    score = np.array([0.9, 0.8, 0.7, 0.1])
    t = np.array([1, 0, 1, 0])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    # k=1: YT=1, NC=0 -> 1; k=2: 1 - 0*1/1 = 1; k=3: 2 - 0 = 2; k=4: 2 - 1*2/2 = 1
    np.testing.assert_allclose(up.qini_curve(score, t, y), [0, 1, 1, 2, 1])
    np.testing.assert_allclose(up.uplift_curve(score, t, y), [0, 0, 2 * (1 - 0), 3 * (1 - 0), 4 * (1 - 0.5)])
    assert up.qini_coefficient([0, 1, 2]) == pytest.approx(np.mean([0, 0.0, 0]) / 2)
    assert up.qini_coefficient([0.0, 2.0, 2.0]) == pytest.approx(np.mean([0, 1.0, 0]) / 2)


def test_true_gain_orders_oracle_learners_random():
    pop = IncentivePopulation(IncentiveConfig(n_users=6000), SeedTree(2).generator("pop"))
    exp = pop.experiment(np.array([0.5, 0.5, 0.0, 0.0]), SeedTree(2).generator("exp"))
    tau = pop.values()[:, 0]
    oracle = up.qini_coefficient(up.gain_curve(tau, tau))
    rnd = up.qini_coefficient(up.gain_curve(SeedTree(2).generator("r").random(tau.size), tau))
    assert abs(rnd) < 0.3 * oracle
    t = (exp["t"] == 1).astype(int)
    keep = exp["t"] <= 1
    for name, cls in up.LEARNERS.items():
        pred = cls().fit(pop.x[keep], t[keep], exp["y"][keep]).predict(pop.x)
        q = up.qini_coefficient(up.gain_curve(pred, tau))
        assert 0.5 * oracle < q <= oracle + 1e-12, name


def test_treat_under_budget():
    u = np.array([0.3, -0.1, 0.2, 0.05])
    c = np.array([1.0, 0.1, 0.5, 0.1])
    chosen = up.treat_under_budget(u, c, 0.7)
    assert chosen.tolist() == [False, False, True, True]          # ratios 0.3, 0.4, 0.5: 3 then 2 fit
    assert (c[chosen].sum() <= 0.7) and not chosen[1]
    assert up.treat_under_budget(u, c, 10.0, by_ratio=False).tolist() == [True, False, True, True]


def test_bad_input():
    x = np.zeros((10, 2))
    with pytest.raises(ValueError, match="t:"):
        up.TLearner().fit(x, np.full(10, 2), np.zeros(10))
    with pytest.raises(ValueError, match="treated"):
        up.TLearner().fit(x, np.r_[1, np.zeros(9)], np.zeros(10))
    with pytest.raises(ValueError, match="y"):
        up.Ridge().fit(x, np.zeros(9))
    with pytest.raises(ValueError, match="NaN"):
        up.Ridge().fit(np.full((10, 2), np.nan), np.zeros(10))
    with pytest.raises(ValueError, match="logistic"):
        up.Logistic().fit(x, np.full(10, 2.0))
    with pytest.raises(ValueError, match="score"):
        up.qini_curve(np.zeros(3), np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="budget"):
        up.treat_under_budget(np.zeros(2), np.zeros(2), -1.0)


def test_meta_learner_settings_and_curve_inputs_are_checked():
    """Regression: a propensity outside (0, 1) was used as is by the X-learner (tau =
    1.5 tau_0 - 0.5 tau_1), n_folds = 1 failed deep inside with an empty fit, and the
    curves took t = 2 as treated and NaN outcomes silently."""
    for bad in (0.0, 1.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="propensity"):
            up.XLearner(propensity=bad)
        with pytest.raises(ValueError, match="propensity"):
            up.DRLearner(propensity=bad)
    with pytest.raises(ValueError, match="n_folds"):
        up.DRLearner(n_folds=1)
    with pytest.raises(ValueError, match="clip"):
        up.DRLearner(clip=0.5)
    with pytest.raises(ValueError, match="t:"):
        up.qini_curve(np.zeros(3), [0, 1, 2], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="y:"):
        up.uplift_curve(np.zeros(3), [0, 1, 1], [1.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="t:"):
        up.qini_curve(np.zeros(3), [0, 1], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="true_uplift"):
        up.gain_curve(np.zeros(2), [0.1, np.nan])


def test_budgeted_treatment_free_zero_uplift_users_raise_no_warning():
    """Regression: a free user with uplift 0 computed inf * sign(0) = NaN (RuntimeWarning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = up.treat_under_budget([1.0, 0.0, 2.0, -1.0], [0.0, 0.0, 1.0, 0.0], 1.0)
    np.testing.assert_array_equal(out, [True, False, True, False])
