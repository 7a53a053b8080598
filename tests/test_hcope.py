"""High-confidence off-policy lower bounds (simcore.algos.hcope)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.algos import hcope
from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig
from simcore.util.seeds import SeedTree


def test_theorem_with_one_threshold_reduces_to_empirical_bernstein():
    rng = SeedTree(0).generator("x")
    x = rng.exponential(1.0, 500)
    c, d = 3.0, 0.1
    y = np.minimum(x, c) / c
    n = x.size
    pair = sum(((y[i] - y) ** 2).sum() for i in range(n))
    direct = c / n * (y.sum() - 7 * n * math.log(2 / d) / (3 * (n - 1)) - math.sqrt(math.log(2 / d) / (n - 1) * pair))
    assert hcope.ci_lower(x, c, d) == pytest.approx(direct, rel=1e-12)
    simple = np.minimum(x, c).mean() - 7 * c * math.log(2 / d) / (3 * (n - 1)) \
        - math.sqrt(2 * math.log(2 / d) * np.minimum(x, c).var(ddof=1) / n)
    assert hcope.ci_lower(x, c, d) == pytest.approx(simple, rel=1e-12)
    # per-sample thresholds: a vector of equal c is the scalar case
    assert hcope.ci_lower(x, np.full(n, c), d) == pytest.approx(hcope.ci_lower(x, c, d), rel=1e-12)


def test_bound_holds_at_its_level_on_the_synthetic_bandit():
    # 200 repetitions, delta = 0.1: Thomas et al.'s bound must not exceed V in more than
    # a 0.1 share of them (a binomial count; it is conservative, so far fewer)
    env = SyntheticBandit(SyntheticBanditConfig(n_contexts=20, n_arms=4), SeedTree(1).generator("w"))
    pi_b = env.softmax_policy(1.0, epsilon=0.2)
    pi_e = 0.5 * env.optimal_policy() + 0.5 * pi_b
    v = env.value(pi_e)
    tree = SeedTree(1).child("hcope-coverage")
    misses = 0
    for rep in range(200):
        log = env.log(pi_b, 300, tree.generator("log", rep))
        x = pi_e[log["ctx"], log["action"]] / log["pscore"] * log["reward"]
        b = hcope.hcope_lower_bound(x, 0.1, pre=0.2, rng=tree.generator("split", rep))
        misses += b.lower > v
        assert b.n_pre + b.n_post == 300 and b.c > 0
    assert misses <= 20


def test_split_bound_is_deterministic_and_below_the_mean():
    x = SeedTree(2).generator("x").exponential(0.5, 400)
    a = hcope.hcope_lower_bound(x, 0.05, rng=SeedTree(2).generator("s"))
    b = hcope.hcope_lower_bound(x, 0.05, rng=SeedTree(2).generator("s"))
    assert a == b and a.lower < x.mean()
    boot = hcope.bootstrap_lower_bound(x, 0.05, rng=SeedTree(2).generator("b"), n_boot=500)
    assert hcope.t_lower_bound(x, 0.05) < x.mean() and boot < x.mean()
    assert a.lower < boot                    # the guaranteed bound is the looser one here


def test_bad_input():
    with pytest.raises(ValueError, match=">= 0"):
        hcope.ci_lower(np.array([1.0, -1.0]), 1.0)
    with pytest.raises(ValueError, match="delta"):
        hcope.ci_lower(np.ones(5), 1.0, delta=1.5)
    with pytest.raises(ValueError, match="c:"):
        hcope.ci_lower(np.ones(5), 0.0)
    with pytest.raises(ValueError, match="c: expected a scalar or shape"):   # was numpy's unnamed broadcast error
        hcope.ci_lower(np.ones(5), np.ones(3))
    with pytest.raises(ValueError, match="c: expected a scalar or shape"):
        hcope.ci_lower(np.ones(5), np.ones((5, 5)))
    with pytest.raises(ValueError, match="x"):
        hcope.hcope_lower_bound(np.ones(3), pre=0.5)
    with pytest.raises(ValueError, match="NaN"):
        hcope.t_lower_bound(np.array([1.0, np.nan]))
