"""Autoscaling baselines: the Autopilot recommender against a direct computation, the
threshold and target-tracking rules by hand, every baseline within the ratio range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.domains.autoscaling import baselines as bl
from simcore.domains.autoscaling.config import AutoscalingConfig
from simcore.domains.autoscaling.evaluate import METRICS, run_episode
from simcore.domains.autoscaling.simulator import AutoscalingSimulator

CFG = AutoscalingConfig(cpu_target=0.5, horizon=300, num_threads=1)


def _obs(cpu, vms, prov=None, traffic=None):
    vms = np.asarray(vms, dtype=np.int64)
    return bl.Observed(np.asarray(cpu, float), vms, vms if prov is None else np.asarray(prov, np.int64),
                       np.ones((vms.size, 2)) if traffic is None else traffic, 0)


def test_autopilot_against_direct_computation():
    """Known series: the decayed-histogram percentile equals the weighted percentile of
    the samples (weights 2^-(age / half-life)), rounded up to its bucket's upper bound."""
    rng = np.random.default_rng(0)
    series = np.concatenate([rng.uniform(2, 4, 200), rng.uniform(5, 9, 50), [30.0]])
    ap = bl.AutopilotRecommender(CFG, percentile=0.9, margin=0.1, half_life=48)
    for u in series:
        ap.observe(np.array([u]))
    age = np.arange(series.size)[::-1]
    w = 0.5 ** (age / 48)
    order = np.argsort(series, kind="stable")
    cum = np.cumsum(w[order])
    q = series[order][np.searchsorted(cum, 0.9 * cum[-1] * (1 - 1e-12))]
    k = int(math.floor(math.log(q / 0.01) / math.log(1.05))) + 1
    upper = 0.01 * 1.05**k
    assert bl.decayed_percentile(ap.hist, ap.edges, 0.9)[0] == pytest.approx(upper, rel=1e-12)
    assert ap.recommend()[0] == math.ceil(upper * 1.1 / 0.5)


def test_threshold_rule_by_hand():
    th = bl.ThresholdScaling(CFG, high=0.7, low=0.3, step_out=0.2, step_in=0.1, step_width=0.1, cooldown=2)
    a = th.act(_obs([0.75, 0.92, 0.5, 0.1], [4, 4, 4, 4]))
    np.testing.assert_allclose(a, [0.2, 0.6, 0.0, -0.1])
    a = th.act(_obs([0.95, 0.95, 0.95, 0.1], [4, 4, 4, 4]))  # cooldown holds zones 0, 1, 3
    np.testing.assert_allclose(a, [0.0, 0.0, 0.6, 0.0])


def test_target_tracking_by_hand():
    tt = bl.TargetTracking(CFG, tolerance=0.1)
    a = tt.act(_obs([0.8, 0.47, 0.2], [10, 10, 10]))
    np.testing.assert_allclose(a, [0.6, 0.0, -0.5])  # ceil(16) / 10 - 1; within tolerance; ceil(4) -> clipped


@pytest.mark.parametrize("name", ["threshold", "target", "autopilot", "predictive", "peak"])
def test_baselines_run_within_range(name):
    sim = AutoscalingSimulator(CFG, num_zones=64, seed=1)
    pols = {"threshold": lambda: bl.ThresholdScaling(CFG), "target": lambda: bl.TargetTracking(CFG),
            "autopilot": lambda: bl.AutopilotRecommender(CFG), "predictive": lambda: bl.Predictive(CFG),
            "peak": lambda: bl.PeakStatic(CFG, np.full(64, 7))}
    pol = pols[name]()
    sim.reset()
    o = bl.observe(sim)
    for _ in range(200):
        a = pol.act(o)
        assert a.shape == (64,) and np.all((a >= CFG.ratio_min) & (a <= CFG.ratio_max))
        r = sim.step(a)
        o = bl.Observed(r.cpu.copy(), sim.state()["vms"], r.provisioned.copy(), r.traffic.copy(), sim.t)
    m = run_episode(sim, pols[name]())
    assert set(METRICS) <= set(m) and all(np.all(np.isfinite(v)) for v in m.values())


def test_peak_static_no_worse_slo_than_initial():
    sim = AutoscalingSimulator(CFG, num_zones=64, seed=2)
    ref = run_episode(sim, bl.PeakStatic(CFG, sim.zones.init_vms), record=True)
    vms = bl.peak_static_vms(sim.zones, ref["traffic_t"], CFG.cpu_target)
    peak = run_episode(sim, bl.PeakStatic(CFG, vms))
    assert peak["slo_violations"].sum() <= ref["slo_violations"].sum()
