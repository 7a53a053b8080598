"""Off-policy estimators (simcore.algos.ope) against a small problem with a known value."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.algos import ope
from simcore.util.seeds import SeedTree

P_X = np.array([0.3, 0.7])                      # context distribution
MU = np.array([[0.2, 0.5, 0.8], [0.6, 0.1, 0.3]])  # mean reward mu(x, a)
PI_B = np.array([[0.5, 0.3, 0.2], [0.2, 0.4, 0.4]])
PI_E = np.array([[0.1, 0.2, 0.7], [0.7, 0.2, 0.1]])
TRUE_V = float((P_X[:, None] * PI_E * MU).sum())


def _log(rng: np.random.Generator, n: int) -> dict:
    x = rng.choice(2, size=n, p=P_X)
    u = rng.random(n)
    a = (u[:, None] > np.cumsum(PI_B[x], axis=1)).sum(axis=1)
    r = (rng.random(n) < MU[x, a]).astype(float)
    return {"reward": r, "action": a, "pscore": PI_B[x, a], "action_dist": PI_E[x], "x": x}


def _estimate(name: str, log: dict, q_hat: np.ndarray | None) -> float:
    args = (log["reward"], log["action"], log["pscore"], log["action_dist"])
    if name in ope.MODEL_BASED:
        kw = {"tau": 2.0} if name == "switch-dr" else {}
        return ope.ESTIMATORS[name](*args, q_hat, **kw).value
    return ope.ESTIMATORS[name](*args).value


@pytest.mark.parametrize("name", ["ips", "snips", "dm", "dr", "switch-dr"])
def test_unbiased_on_known_value(name):
    # Monte Carlo over seeded repetitions: |mean - V| within 4 measured standard errors
    # of the mean (a false alarm has probability ~6e-5; the seeds make it deterministic).
    # DM and switch-DR are unbiased with the true model; DR with a wrong model too
    # (exact propensities); SNIPS' O(1/n) bias is far below the tolerance at n = 400.
    seeds = SeedTree(7).child("ope-unbiased", name)
    reps, n = 300, 400
    est = np.empty(reps)
    for k in range(reps):
        log = _log(seeds.generator(k), n)
        q = MU[log["x"]] if name in ("dm", "switch-dr") else MU[log["x"]] * 0.5 + 0.2
        est[k] = _estimate(name, log, q)
    se = est.std(ddof=1) / np.sqrt(reps)
    assert se > 0
    assert abs(est.mean() - TRUE_V) < 4 * se, (est.mean(), TRUE_V, se)


def test_biased_model_makes_dm_biased():
    # the check above can fail: DM with a wrong model misses the value by far more than 4 SE
    seeds = SeedTree(7).child("ope-dm-bias")
    est = [_estimate("dm", log, MU[log["x"]] * 0.5 + 0.2) for log in (_log(seeds.generator(k), 400) for k in range(50))]
    assert abs(np.mean(est) - TRUE_V) > 10 * np.std(est, ddof=1) / np.sqrt(50)


def test_dr_equals_ips_with_zero_model():
    log = _log(SeedTree(1).generator("dr-ips"), 500)
    args = (log["reward"], log["action"], log["pscore"], log["action_dist"])
    zero = np.zeros((500, 3))
    a, b = ope.dr(*args, zero), ope.ips(*args)
    np.testing.assert_allclose(a.contributions, b.contributions, rtol=0, atol=1e-15)
    assert ope.switch_dr(*args, zero, tau=np.inf).value == pytest.approx(b.value, abs=1e-15)


def test_dr_equals_dm_when_rewards_equal_the_model():
    # exactly: r_i = q_hat(x_i, a_i) zeroes every correction term
    log = _log(SeedTree(1).generator("dr-dm"), 500)
    q = MU[log["x"]]
    r = q[np.arange(500), log["action"]]
    args = (r, log["action"], log["pscore"], log["action_dist"], q)
    np.testing.assert_allclose(ope.dr(*args).contributions, ope.dm(*args).contributions, rtol=0, atol=1e-15)
    # switch-DR with tau = 0 is DM whatever the rewards
    args0 = (log["reward"], log["action"], log["pscore"], log["action_dist"], q)
    assert ope.switch_dr(*args0, tau=0.0).value == pytest.approx(ope.dm(*args0).value, abs=1e-15)


def test_dr_equals_dm_in_expectation_with_perfect_model():
    # with Bernoulli rewards: the mean correction sum_i w_i (r_i - mu) is 0 within 4 SE
    log = _log(SeedTree(1).generator("dr-dm-exp"), 20000)
    args = (log["reward"], log["action"], log["pscore"], log["action_dist"], MU[log["x"]])
    diff = ope.dr(*args).contributions - ope.dm(*args).contributions
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(diff.size)
    assert np.abs(diff).max() > 0


def test_snips_equals_ips_when_weights_average_one():
    log = _log(SeedTree(1).generator("snips"), 300)
    w = log["action_dist"][np.arange(300), log["action"]] / log["pscore"]
    p = log["pscore"] * w.mean()  # rescaled propensities: the weights now average 1
    assert np.all(p <= 1) and np.std(w) > 0.1
    args = (log["reward"], log["action"], p, log["action_dist"])
    assert ope.ips(*args).value == pytest.approx(ope.snips(*args).value, rel=1e-12)
    # and differ otherwise
    args = (log["reward"], log["action"], log["pscore"], log["action_dist"])
    assert abs(ope.ips(*args).value - ope.snips(*args).value) > 1e-6


def test_positions_select_the_slice():
    # (n, A, L) input: the estimate equals the 2-D one on the per-round slices
    rng = SeedTree(2).generator("pos")
    n, A, L = 200, 4, 3
    dist = rng.dirichlet(np.ones(A), size=(n, L)).transpose(0, 2, 1)  # (n, A, L), sums over A
    pos = rng.integers(0, L, n)
    a = rng.integers(0, A, n)
    r = rng.random(n)
    q = rng.random((n, A, L))
    p = np.full(n, 1 / A)
    flat = dist[np.arange(n), :, pos]
    qf = q[np.arange(n), :, pos]
    assert ope.dr(r, a, p, dist, q, position=pos).value == pytest.approx(ope.dr(r, a, p, flat, qf).value, rel=1e-13)
    assert ope.ips(r, a, p, dist, position=pos).value == pytest.approx(ope.ips(r, a, p, flat).value, rel=1e-13)


@pytest.mark.parametrize(
    "mutate, arg",
    [
        (lambda d: d.update(pscore=d["pscore"] * 0), "pscore"),
        (lambda d: d.update(pscore=d["pscore"] + 1.0), "pscore"),
        (lambda d: d.update(reward=np.where(np.arange(50) == 3, np.nan, d["reward"])), "reward"),
        (lambda d: d.update(reward=d["reward"][:-1]), "action"),
        (lambda d: d.update(action=d["action"] + 3), "action"),
        (lambda d: d.update(action=d["action"] + 0.5), "action"),
        (lambda d: d.update(action_dist=d["action_dist"] * 0.9), "action_dist"),
        (lambda d: d.update(action_dist=d["action_dist"][:, :, None, None]), "action_dist"),
        (lambda d: d.update(q_hat=d["q_hat"][:, :2]), "q_hat"),
        (lambda d: d.update(q_hat=np.full((50, 3), np.nan)), "q_hat"),
        (lambda d: d.update(action_dist=np.repeat(d["action_dist"][:, :, None], 2, axis=2)), "position"),
    ],
)
def test_bad_input_names_the_argument(mutate, arg):
    log = _log(SeedTree(3).generator("bad"), 50)
    d = {k: log[k] for k in ("reward", "action", "pscore", "action_dist")}
    d["q_hat"] = MU[log["x"]]
    mutate(d)
    with pytest.raises(ValueError, match=f"^{arg}:"):
        ope.dr(d["reward"], d["action"], d["pscore"], d["action_dist"], d["q_hat"])
    with pytest.raises(ValueError, match="^tau:"):
        ope.switch_dr(log["reward"], log["action"], log["pscore"], log["action_dist"], MU[log["x"]], tau=-1.0)


def test_bootstrap_is_deterministic_and_covers():
    log = _log(SeedTree(4).generator("boot"), 2000)
    est = ope.ips(log["reward"], log["action"], log["pscore"], log["action_dist"])
    a = ope.bootstrap_ci(est, 2000, SeedTree(11), "ips", n_boot=300)
    b = ope.bootstrap_ci(est, 2000, SeedTree(11), "ips", n_boot=300)
    c = ope.bootstrap_ci(est, 2000, SeedTree(11), "other", n_boot=300)
    assert a == b and a != c
    assert a[0] < est.value < a[1]
    # the bootstrap's width agrees with the analytic standard error (within 25 %)
    assert (a[1] - a[0]) / (2 * 1.96 * est.stderr()) == pytest.approx(1.0, abs=0.25)
    with pytest.raises(ValueError, match="^n:"):
        ope.bootstrap_ci(est, 10, SeedTree(11))


def test_bootstrap_refuses_non_finite_resamples():
    """Regression: a SNIPS estimate with one positive weight gave resamples with zero
    total weight (0/0), and the interval came back (nan, nan) silently."""
    n = 50
    a = np.zeros(n, dtype=int)
    a[0] = 1
    dist = np.zeros((n, 2))
    dist[:, 1] = 1.0
    est = ope.snips(np.ones(n), a, np.full(n, 0.5), dist)
    assert est.value == 1.0
    with pytest.raises(ValueError, match="non-finite"):
        ope.bootstrap_ci(est, n, SeedTree(0), "snips-nan", n_boot=200)
