"""The tiered-traffic experiment: a smoke run (claims table first, deterministic for a
seed), the exact objective identity behind the optima, summaries against the
simulator's own exact helper, frontier interpolation, config checks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from simcore.domains.traffic import exact as traffic_exact
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.experiments.tiered_traffic.analysis import frontier_at
from simcore.experiments.tiered_traffic.config import TieredTrafficConfig, smoke_config
from simcore.experiments.tiered_traffic.evaluate import exact_static, summarise
from simcore.experiments.tiered_traffic.learners import traffic_config
from simcore.experiments.tiered_traffic.optimum import candidate_grid, objective
from simcore.experiments.tiered_traffic.report import write_report
from simcore.experiments.tiered_traffic.run import run


def _tiny() -> TieredTrafficConfig:
    return dataclasses.replace(smoke_config(), panel=12, cem_chunk=4)


@pytest.fixture(scope="module")
def smoke():
    return run(_tiny(), progress=False)


def _numbers(results):
    return json.dumps({k: results[k] for k in ("points", "comparisons", "at_20pct", "segments", "curves")},
                      sort_keys=True, default=str)


def test_report_opens_with_the_claims_table(smoke, tmp_path):
    files = write_report(smoke, tmp_path, "simcore reproduce tiered-traffic --preset smoke")
    assert {"report.md", "results.json", "frontier.png", "segments.png", "bounds.png", "transient.png"} <= set(files)
    md = (tmp_path / "report.md").read_text().splitlines()
    i = md.index("## Claims")
    assert md[i + 2].startswith("| claim | source | our result (95 % CI) | verdict | conditions |")
    claims = json.loads((tmp_path / "results.json").read_text())["claims"]
    assert "+20 %" in claims[0]["claim"] and "三、实验效果" in claims[0]["source"]
    assert all(c["verdict"] in ("reproduced", "partly reproduced", "inconclusive", "not reproduced", "not tested") for c in claims)
    assert len(claims) >= 7


def test_smoke_results_are_complete(smoke):
    methods = {p["method"] for p in smoke["points"]}
    assert methods == {"uplift", "uniform-opt", "segment-opt", "ddpg-cem", "ddpg-fixed", "ddpg-cem-1d", "cem-uniform",
                       "cem-segment"}
    assert all(p["n"] == 2 for p in smoke["points"])
    tr = smoke["curves"]["ddpg-cem"]["trajectories"]
    lo, hi = np.array(tr["low"]["seed0"]), np.array(tr["high"]["seed0"])
    assert np.all(lo <= hi) and lo.shape[1] == 3
    # the CEM moved the bounds between the warm-up and the end
    assert not np.array_equal(lo[0], lo[-1])
    runs = smoke["runs"]
    for key in ("ddpg-cem", "ddpg-cem-1d"):
        for h in runs[f"learner/{key}/1/0"]["history"][1:]:
            ga = np.array(h["greedy_action"])
            assert np.all(ga >= np.array(h["low"]) - 1e-6) and np.all(ga <= np.array(h["high"]) + 1e-6)


def test_deterministic_for_a_seed(smoke):
    assert _tiny().workers == 1  # the fixture ran inline; the rerun uses a 2-process pool
    again = run(dataclasses.replace(_tiny(), workers=2), progress=False)
    assert _numbers(again) == _numbers(smoke)
    other = run(dataclasses.replace(_tiny(), seed=1, learners=("ddpg-cem",), sweep_learners=()), progress=False)
    a = next(p for p in smoke["points"] if p["method"] == "ddpg-cem")
    b = next(p for p in other["points"] if p["method"] == "ddpg-cem")
    assert a["per_seed"] != b["per_seed"]


def test_objective_is_the_exact_return_at_lambda():
    """J_lambda from a lambda = 1 table equals the exact return of a simulator built at lambda."""
    cfg = TieredTrafficConfig()
    one = TrafficSimulator(traffic_config(cfg, 1.0), num_sessions=1)
    world = one.world
    users = traffic_exact.panel(cfg.traffic, 10, 5)
    C = candidate_grid((0.0, 0.1), (0.0,), np.zeros(3), 0, (0.05,))
    t1 = exact_static(lambda n: TrafficSimulator(traffic_config(cfg, 1.0), num_sessions=n, world=world), C, users)
    t7 = exact_static(lambda n: TrafficSimulator(traffic_config(cfg, 0.7), num_sessions=n, world=world), C, users)
    np.testing.assert_allclose(objective(t1, 0.7), t7["reward"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(objective(t1, 0.0), t1["reward_gmv"])


def test_summaries_match_the_simulators_exact_helper():
    cfg = TieredTrafficConfig()
    users = traffic_exact.panel(cfg.traffic, 10, 6)
    C = np.array([[0.0, 0.0, 0.0], [0.1, -0.1, 0.0]])
    sim = TrafficSimulator(cfg.traffic, num_sessions=2 * 10)
    ref = traffic_exact.exact_static(sim, C, users)
    per = exact_static(lambda n: TrafficSimulator(cfg.traffic, num_sessions=n, world=sim.world), C, users, chunk=1)
    base = {k: v[0] for k, v in per.items()}
    s = summarise({k: v[1] for k, v in per.items()}, base, 0)
    assert s["share"] == pytest.approx(ref["share"][1, 0], rel=1e-12)
    assert s["gmv"] == pytest.approx(ref["gmv"][1], rel=1e-12)
    assert s["lift_pct"] == pytest.approx(100 * (ref["share"][1, 0] / ref["share"][0, 0] - 1), rel=1e-9)
    assert s["page_lift"] == pytest.approx(ref["lift"][1, 0], rel=1e-9, abs=1e-12)
    assert summarise(base, base, 0)["gmv_change_pct"] == 0.0


def test_frontier_interpolation():
    pts = [(10.0, -1.0), (30.0, -5.0)]
    assert frontier_at(pts, 20.0) == pytest.approx(-3.0)
    assert frontier_at(pts, 5.0) == pytest.approx(-0.5)  # between the control (0, 0) and the first point
    assert np.isnan(frontier_at(pts, 40.0))  # no extrapolation


@pytest.mark.parametrize("kw, name", [
    (dict(headline_lambda=3.0), "headline_lambda"), (dict(target_tier=3), "target_tier"),
    (dict(learners=("ppo",)), "learners"), (dict(sweep_learners=("ddpg-fixed",), learners=("ddpg-cem",)),
                                            "sweep_learners"),
    (dict(fixed_low=1.0, fixed_high=0.0), "fixed_low"), (dict(lambdas=()), "lambdas"), (dict(panel=2), "panel"),
])
def test_config_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        TieredTrafficConfig(**kw)


def test_gmv_optimal_control_never_worse_than_its_start():
    from simcore.experiments.tiered_traffic.optimum import exact_gmv_full, gmv_optimal_control

    cfg = TieredTrafficConfig()
    world = TrafficSimulator(cfg.traffic, num_sessions=1).world
    users = traffic_exact.panel(cfg.traffic, 8, 3)

    def make(n):
        return TrafficSimulator(cfg.traffic, num_sessions=n, world=world)

    start = np.array(cfg.traffic.basic_vector()[:8])
    res = gmv_optimal_control(make, users, start, 3, iterations=2, rng_seed=1, n_candidates=4)
    assert res["gmv"] >= res["start_gmv"] and res["history"] == sorted(res["history"])
    w = np.r_[res["weights"], np.zeros(3)][None]
    assert exact_gmv_full(make(8), w, users)[0] == pytest.approx(res["gmv"], rel=1e-12)
    ref = traffic_exact.exact_static(make(8), np.zeros((1, 3)), users)["gmv"][0]
    assert exact_gmv_full(make(8), np.array([cfg.traffic.basic_vector()]), users)[0] == pytest.approx(ref, rel=1e-12)


def test_expected_session_returns_are_unbiased_and_less_noisy():
    """The CEM's score (conditional expected rewards along sampled sessions) has the
    exact return as its mean and a smaller spread than the sampled return."""
    from simcore.experiments.tiered_traffic.evaluate import session_returns

    cfg = TieredTrafficConfig()
    tc = traffic_config(cfg, 0.5)
    sim = TrafficSimulator(tc, num_sessions=1000)
    sim.seed(11)
    sim.reset()
    users = {k: np.array(v, copy=True) for k, v in sim.users().items()}  # the users session_returns serves
    tiers = np.array([0.05, 0.0, 0.0])
    e = session_returns(sim, tiers, seed=11, expected=True)
    s = session_returns(sim, tiers, seed=11, expected=False)
    exact = traffic_exact.exact_static(TrafficSimulator(tc, num_sessions=1000, world=sim.world), tiers[None], users)
    assert abs(e.mean() - exact["reward"][0]) < 3 * e.std(ddof=1) / np.sqrt(e.size)
    assert e.std() < 0.75 * s.std()
