"""The lifecycle simulator: C++ against its NumPy twin, Monte Carlo against the exact
expectations, budgets, determinism, threads, pickling and bad input."""

from __future__ import annotations

import dataclasses
import pickle
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore import _core
from simcore.domains.lifecycle.actions import ActionTable, default_actions
from simcore.domains.lifecycle.config import LifecycleConfig, MarketingConfig, PopulationConfig
from simcore.domains.lifecycle.exact import capped_rate_mean, expectations
from simcore.domains.lifecycle.population import make_population
from simcore.domains.lifecycle.simulator import LifecycleSimulator, core_arguments

SMALL = LifecycleConfig(population=PopulationConfig(n_users=400), horizon_days=6)
FLOATS = ("reward", "value", "cost", "p_click", "p_convert", "p_purchase", "expected_value", "expected_cost",
          "budget_left", "user_spent")


def _pair(cfg: LifecycleConfig, B: int, seed: int) -> tuple[LifecycleSimulator, LifecycleSimulator]:
    return (LifecycleSimulator(cfg, B, seed, backend="cpp"), LifecycleSimulator(cfg, B, seed, backend="numpy"))


def _compare(a, b, where: str) -> None:
    for k in a.__dict__:
        x, y = getattr(a, k), getattr(b, k)
        if k in FLOATS:
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12, err_msg=f"{where}: {k}")
        else:
            assert np.array_equal(x, y), f"{where}: {k} differs"


def _run(sim: LifecycleSimulator, actions: np.ndarray) -> list[dict]:
    out = [{"obs": sim.reset().copy()}]
    for a in actions:
        r = sim.step(a)
        out.append({k: v.copy() for k, v in r.__dict__.items()})
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**63), budget=st.sampled_from([0.0, 0.5, 3.0, 50.0]),
       cap=st.sampled_from([0.0, 2.05, 12.0, 1e6]), touch=st.floats(0.0, 1.0), B=st.integers(1, 40),
       h=st.sampled_from([0.0, 0.5, 1.0, 2.5]))
def test_twin_matches_cpp(seed, budget, cap, touch, B, h):
    cfg = dataclasses.replace(SMALL, budget_per_user=budget, user_cap=cap,
                              marketing=MarketingConfig(heterogeneity=h))
    a, b = _pair(cfg, B, seed)
    assert np.array_equal(a.reset(), b.reset())
    rng = np.random.default_rng(seed % 1000)
    for d in range(2 * cfg.horizon_days + 2):  # two episodes and their autoresets
        act = np.where(rng.random(B) < touch, rng.integers(1, a.n_actions, B), 0)
        _compare(a.step(act), b.step(act), f"day {d}")
    sa, sb = a.state(), b.state()
    for k in sa:
        np.testing.assert_allclose(np.asarray(sa[k], float), np.asarray(sb[k], float), rtol=1e-12, err_msg=k)


def test_twin_matches_cpp_adversarial():
    """Every customer touched by every action, club-heavy, no fatigue decay, reset_to."""
    m = MarketingConfig(fatigue_decay=0.0, club_conv=(5.0, 5.0, 5.0, 5.0), offer_conv=(3.0, 3.0, 3.0, 3.0),
                        channel_click_logit=(5.0, 5.0, 5.0))
    cfg = dataclasses.replace(SMALL, marketing=m, budget_per_user=1e6, user_cap=1e6, horizon_days=4)
    a, b = _pair(cfg, 48, 3)
    users = np.arange(48) % 7
    assert np.array_equal(a.reset_to(users), b.reset_to(users))
    for d in range(9):
        act = (np.arange(48) + d) % a.n_actions
        _compare(a.step(act), b.step(act), f"day {d}")


@pytest.mark.parametrize("budget", [6.0, 1e6], ids=["budget-binds", "one-pass"])
def test_threads_seeds_and_determinism(budget):
    cfg = dataclasses.replace(SMALL, horizon_days=3, budget_per_user=budget, user_cap=max(30.0, budget))
    runs = []
    acts = np.random.default_rng(1).integers(0, 16, size=(4, 5000))
    for threads, seed in ((1, 7), (2, 7), (2, 8)):
        sim = LifecycleSimulator(dataclasses.replace(cfg, num_threads=threads), 5000, seed)
        runs.append(_run(sim, acts))
    for x, y in zip(runs[0], runs[1]):
        for k in x:
            assert np.array_equal(x[k], y[k]), k
    assert not np.array_equal(runs[0][2]["purchased"], runs[2][2]["purchased"]) or \
        not np.array_equal(runs[0][0]["obs"], runs[2][0]["obs"])


def _mc(cfg: LifecycleConfig, user: int, action: int, n: int = 200_000) -> tuple[dict, dict]:
    sim = LifecycleSimulator(cfg, n, seed=11)
    sim.reset_to(np.full(n, user))
    ex = sim.expectations(np.full(n, action))
    r = sim.step(np.full(n, action))
    assert not r.blocked.any()
    return {k: float(v[0]) for k, v in ex.items()}, {k: v.copy() for k, v in r.__dict__.items()}


@pytest.mark.parametrize("action,h", [(1, 1.0), (3, 1.0), (9, 1.0), (11, 1.0), (13, 1.0), (15, 1.0),
                                      (5, 0.0), (10, 2.5), (12, 1.0)])
def test_monte_carlo_matches_exact(action, h):
    cfg = dataclasses.replace(SMALL, budget_per_user=1e6, user_cap=1e6,
                              marketing=MarketingConfig(channel_click_logit=(0.0, 0.5, 1.0), heterogeneity=h))
    pop = make_population(cfg.population)
    user = int(np.flatnonzero(pop.alive0 & (pop.n0 >= 2))[0])
    ex, r = _mc(cfg, user, action)
    n = r["clicked"].size
    for key, ev in (("clicked", "p_click"), ("converted", "p_convert"), ("purchased", "p_purchase")):
        p = ex[ev]
        assert abs(r[key].mean() - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12, key
    for key, ev in (("value", "expected_value"), ("cost", "expected_cost")):
        se = r[key].std() / np.sqrt(n)
        assert abs(r[key].mean() - ex[ev]) <= 5 * se + 1e-12, key
    # dropout after a purchase: P(dead | purchased) = p (x club_dropout_mult for members)
    pur = r["purchased"]
    mult = np.where(r["member"][pur], cfg.marketing.club_dropout_mult, 1.0)
    p_die = float(np.mean(pop.p[user] * mult))
    assert abs((~r["alive"][pur]).mean() - p_die) <= 5 * np.sqrt(p_die * (1 - p_die) / pur.sum()) + 1e-9


def test_stage_transition_new_to_repeat():
    """A first-time customer moves to 'repeat' exactly when the day brings a purchase."""
    cfg = dataclasses.replace(SMALL, budget_per_user=1e6, user_cap=1e6)
    pop = make_population(cfg.population)
    user = int(np.flatnonzero((pop.n0 == 1) & (pop.recency0 <= cfg.lapse_days) & pop.alive0)[0])
    ex, r = _mc(cfg, user, 6, n=100_000)
    assert np.all(r["stage"] == 0)
    assert np.array_equal(r["next_stage"] == 1, r["purchased"])
    p = ex["p_purchase"]
    assert abs((r["next_stage"] == 1).mean() - p) <= 5 * np.sqrt(p * (1 - p) / 100_000)


def test_capped_rate_mean_against_sampling():
    rng = np.random.default_rng(0)
    s, m = 0.6, 30.0
    v = m * np.exp(s * rng.standard_normal(2_000_000) - s * s / 2)
    for rate, cap in ((0.1, 10.0), (0.2, 4.0), (0.5, 1e9), (0.3, 0.0), (0.0, 5.0)):
        mc = np.minimum(rate * v, cap).mean()
        assert capped_rate_mean(np.array([rate]), np.array([cap]), np.array([m]), s)[0] == pytest.approx(mc, rel=3e-3, abs=1e-9)
    assert capped_rate_mean(np.array([0.5]), np.array([4.0]), np.array([10.0]), 0.0)[0] == 4.0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), budget=st.floats(0.0, 30.0), cap=st.floats(0.0, 40.0),
       touch=st.floats(0.0, 1.0))
def test_budgets_never_exceeded(seed, budget, cap, touch):
    cfg = dataclasses.replace(SMALL, budget_per_user=budget, user_cap=cap, horizon_days=8)
    B = 64
    sim = LifecycleSimulator(cfg, B, seed)
    sim.reset()
    rng = np.random.default_rng(seed)
    spent = 0.0
    for _ in range(cfg.horizon_days):
        req = np.where(rng.random(B) < touch, rng.integers(1, 16, B), 0)
        r = sim.step(req)
        spent += r.cost.sum()
        assert np.all(r.budget_left >= 0) and np.all(r.user_spent <= cap)
        assert np.all(r.cost[r.blocked] == 0) and np.all(r.action[r.blocked] == 0)
        assert np.all(r.blocked == ((req != 0) & (r.action == 0)))
        assert np.all(r.cost <= sim.worst_cost()[r.action])
    assert spent <= sim.total_budget * (1 + 1e-12) + 1e-9


def test_budget_is_granted_on_realised_cost():
    """Phone calls every day exhaust the budget to the last granted cent, never beyond;
    a blocked slot has the do-nothing day (no click, no cost)."""
    cfg = dataclasses.replace(SMALL, budget_per_user=4.0, user_cap=1e6, horizon_days=10)
    sim = LifecycleSimulator(cfg, 200, 3)
    sim.reset()
    spent, blocked = 0.0, 0
    for _ in range(cfg.horizon_days):
        r = sim.step(np.full(200, 11))
        spent += r.cost.sum()
        blocked += int(r.blocked.sum())
        assert not r.clicked[r.blocked].any() and np.all(r.p_click[r.blocked] == 0)
    assert blocked > 0 and sim.total_budget - 25.0 < spent <= sim.total_budget


def test_pickle_and_state_roundtrip():
    sim = LifecycleSimulator(SMALL, 30, 4)
    sim.reset()
    acts = np.random.default_rng(2).integers(0, 16, size=(5, 30))
    sim.step(acts[0])
    twin = pickle.loads(pickle.dumps(sim))
    for a in acts[1:]:
        x, y = sim.step(a), twin.step(a)
        for k in x.__dict__:
            assert np.array_equal(getattr(x, k), getattr(y, k)), k
    for key, value in (("user", 10**6), ("hist", np.nan), ("spent", -1.0)):
        for backend in ("cpp", "numpy"):
            other = LifecycleSimulator(SMALL, 30, 4, backend=backend)
            other.reset()
            bad = other.state()
            bad[key].flat[0] = value
            with pytest.raises(ValueError, match=key):
                other.set_state(bad)


def test_two_threads_on_one_object_are_serialised():
    sim = LifecycleSimulator(dataclasses.replace(SMALL, horizon_days=1000), 3000, 1)
    sim.reset()
    a = np.ones(3000, np.int64)
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(20):
                sim.step(a)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors and sim.day == 40


def test_bad_input():
    sim = LifecycleSimulator(SMALL, 3, 0)
    sim.reset()
    with pytest.raises(ValueError, match="actions"):
        sim.step([0, 1, 16])
    with pytest.raises(ValueError, match="actions"):
        sim.step([0, -1, 2])
    with pytest.raises(TypeError, match="actions"):
        sim.step(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="actions"):
        sim.step(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="budget_per_user"):
        LifecycleConfig(budget_per_user=-1.0)
    with pytest.raises(ValueError, match="user_cap"):
        LifecycleConfig(user_cap=float("nan"))
    t = default_actions()
    with pytest.raises(ValueError, match="touch_cost"):
        dataclasses.replace(t, touch_cost=(0.0, -0.01) + t.touch_cost[2:])
    with pytest.raises(ValueError, match="kind"):
        dataclasses.replace(t, kind=(1,) + t.kind[1:])
    with pytest.raises(TypeError, match="actions"):
        LifecycleConfig(actions="table")
    pop = make_population(SMALL.population)
    feats = np.array(pop.features)
    feats[0, 1] = np.nan
    with pytest.raises(ValueError, match="features"):
        LifecycleSimulator(SMALL, 2, population=dataclasses.replace(pop, features=feats))
    with pytest.raises(ValueError, match="users"):
        sim.reset_to([0, 1, 10**6])
    with pytest.raises(ValueError, match="num_users"):
        LifecycleSimulator(SMALL, 0)
    assert isinstance(t, ActionTable)


def test_binding_checks_its_arguments():
    cfg = SMALL
    pop = make_population(cfg.population)
    sim = LifecycleSimulator(cfg, 2)
    args = core_arguments(cfg, sim.table, sim.model, pop)
    with pytest.raises(ValueError, match="budget"):
        _core.lifecycle.LifecycleBatch(num_users=2, **{**args, "params": np.r_[args["params"][:8], -1.0]})
    ap = args["action_params"].copy()
    ap[3, 2] = -1.0
    with pytest.raises(ValueError, match="costs and depth_per_dollar must be >= 0"):
        _core.lifecycle.LifecycleBatch(num_users=2, **{**args, "action_params": ap})
    popd = dict(args["population"])
    popd["spend"] = np.where(np.arange(pop.size) == 0, np.nan, pop.spend)
    with pytest.raises(ValueError, match="spend"):
        _core.lifecycle.LifecycleBatch(num_users=2, **{**args, "population": popd})
    with pytest.raises(TypeError, match="kind"):
        _core.lifecycle.LifecycleBatch(num_users=2, **{**args, "kind": args["kind"].astype(np.int64)})
    obj = _core.lifecycle.LifecycleBatch(num_users=2, **args)
    out = dict(sim._out)
    obj.reset(out["obs"])
    with pytest.raises(ValueError, match="unknown action"):
        obj.step(np.array([0, 99], np.int64), out)
    with pytest.raises(ValueError, match="missing buffer"):
        obj.step(np.array([0, 1], np.int64), {"obs": out["obs"]})
    with pytest.raises(TypeError, match="reward"):
        obj.step(np.array([0, 1], np.int64), {**out, "reward": out["reward"].astype(np.float32)})


def test_daily_bgnbd_matches_the_continuous_model():
    """The population's daily discretisation (one purchase a day at most, probability
    1 - exp(-lambda)) against FHL's E[X(t)] and P(X(t) = 0) for t = 272 days."""
    from simcore.domains.lifecycle.cdnow import expected_repeats, prob_repeats
    from simcore.domains.lifecycle.population import simulate_history

    c = PopulationConfig()
    rng = np.random.default_rng(0)
    n = 40_000
    lam, p = rng.gamma(c.r, 1 / c.alpha, n), rng.beta(c.a, c.b, n)
    n0, _, _ = simulate_history(lam, p, 273, rng, age=np.full(n, 273))
    params = (c.r, c.alpha, c.a, c.b)
    assert (n0 - 1).mean() == pytest.approx(float(expected_repeats(params, 272.0)), rel=0.04)
    assert (n0 == 1).mean() == pytest.approx(float(prob_repeats(params, 272.0, 0)), abs=0.01)


def test_population_is_deterministic_and_valid():
    a = make_population(PopulationConfig(n_users=300, seed=5))
    from simcore.domains.lifecycle.population import generate_population

    b = generate_population(PopulationConfig(n_users=300, seed=5))
    c = generate_population(PopulationConfig(n_users=300, seed=6))
    assert np.array_equal(a.lam, b.lam) and np.array_equal(a.features, b.features)
    assert not np.array_equal(a.lam, c.lam)
    assert np.all(a.n0 >= 1) and np.all((a.features >= 0) & (a.features <= 1))
    assert not a.lam.flags.writeable


def test_heterogeneity_scales_the_customer_terms():
    """h = 0: no channel responsiveness, sensitivity 1, the stage x channel click terms
    gone; h = 1: the population's own; the sensitivity's mean stays 1 at every h."""
    pop = make_population(SMALL.population)
    sims = {h: LifecycleSimulator(dataclasses.replace(SMALL, marketing=MarketingConfig(heterogeneity=h)), 4,
                                  backend="numpy") for h in (0.0, 1.0, 2.0)}
    m0, m1, m2 = (sims[h].model for h in (0.0, 1.0, 2.0))
    assert np.all(m0.resp == 0) and np.allclose(m0.sens, 1.0)
    assert np.array_equal(m1.resp, pop.resp) and np.array_equal(m1.sens, pop.sens)
    np.testing.assert_allclose(m2.resp, 2 * pop.resp)
    big = make_population(PopulationConfig(n_users=40_000))
    sd = PopulationConfig().sens_sd
    s2 = np.exp(2 * (np.log(big.sens) + 0.5 * sd * sd) - 0.5 * (2 * sd) ** 2)
    assert abs(s2.mean() - 1.0) < 5 * s2.std() / np.sqrt(s2.size)
    sc = np.array(MarketingConfig().stage_click)
    np.testing.assert_allclose(m0.stage_click, np.repeat(sc[:, None], 3, axis=1))
    np.testing.assert_allclose(m2.stage_click - m1.stage_click,
                               np.array(MarketingConfig().stage_channel_click).reshape(4, 3))
    # price sensitivity falls with basket size (sens_spend_corr < 0)
    assert np.corrcoef(np.log(big.sens), np.log(big.spend))[0, 1] < -0.4


def test_rate_benefit_depth_grows_with_the_basket():
    """A 20 % discount converts a big spender more often than a small one (depth =
    E[min(0.2 V, 20)] / ref_value), a $10 coupon does not depend on the basket."""
    cfg = dataclasses.replace(SMALL, marketing=MarketingConfig(heterogeneity=0.0))
    sim = LifecycleSimulator(cfg, 2, backend="numpy")
    order = np.argsort(sim.population.spend)
    sim.reset_to(np.array([order[0], order[-1]]))
    st_ = sim.state()
    st_["alive"][:] = True
    st_["n"][:] = 2
    st_["recency"][:] = 1
    sim.set_state(st_)
    pv = expectations(sim.model, sim.population, sim.state(), np.array([[5, 2]] * 2), with_pv=True)
    pv = pv["p_convert_given_click"]
    assert pv[1, 0] > pv[0, 0] + 0.05  # discount: big basket converts more
    assert pv[1, 1] == pv[0, 1]  # coupon: the same (h = 0: sensitivity 1 for both)


def _many_pairs() -> ActionTable:
    """The default table with a distinct (conv_rate, conv_cap) on each offer: more pairs
    than the C++ core caches per customer (its uncached path)."""
    t = default_actions()
    rate = tuple(0.05 * (i % 7) if k == 1 else 0.0 for i, k in enumerate(t.kind))
    cap = tuple(3.0 + i if r > 0 else 0.0 for i, r in enumerate(rate))
    return dataclasses.replace(t, conv_rate=rate, conv_cap=cap)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**63), budget=st.sampled_from([0.3, 3.0, 1e6]), B=st.integers(1, 300),
       touch=st.floats(0.0, 1.0), many_pairs=st.booleans())
def test_twin_matches_cpp_across_blocks(seed, budget, B, touch, many_pairs):
    """The C++ step's block kernel (blocks of 64 slots, a partial last block; the
    one-pass and the budget-binding three-phase paths; cached and uncached capped means)
    against the twin, field by field, over an episode and its autoreset."""
    cfg = dataclasses.replace(SMALL, budget_per_user=budget, user_cap=max(2.0, min(budget, 40.0)),
                              actions=_many_pairs() if many_pairs else None)
    a, b = _pair(cfg, B, seed)
    assert np.array_equal(a.reset(), b.reset())
    rng = np.random.default_rng(seed % 997)
    for d in range(cfg.horizon_days + 2):
        act = np.where(rng.random(B) < touch, rng.integers(1, a.n_actions, B), 0)
        _compare(a.step(act), b.step(act), f"day {d}")
    sa, sb = a.state(), b.state()
    for k in sa:
        assert np.array_equal(np.asarray(sa[k]), np.asarray(sb[k])) or k in ("spent", "hist", "budget_left"), k
        np.testing.assert_allclose(np.asarray(sa[k], float), np.asarray(sb[k], float), rtol=1e-12, err_msg=k)
