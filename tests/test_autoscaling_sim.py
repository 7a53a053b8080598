"""The autoscaling simulator: C++ = NumPy twin, hand-computed CPU/SLO/reward, exact
E[c], VM bounds, determinism and bad input (issue 15)."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.domains.autoscaling.config import AutoscalingConfig, WorkloadConfig
from simcore.domains.autoscaling.exact import cpu_curve, expected_clipped_normal, expected_cpu, vms_for_target
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import PARAM_NAMES, ZoneParams, col, draw_zones


def _pair(zones, cfg, seed=0):
    return [AutoscalingSimulator(cfg, zones=zones, seed=seed, backend=b) for b in ("cpp", "numpy")]


def _same(ra, rb, where):
    """Bit-identical outputs (the twin computes the step's vecmath functions in the same order)."""
    for k in ra.__dataclass_fields__:
        x, y = getattr(ra, k), getattr(rb, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), f"{where}: {k} differs"


def _adversarial(zones: ZoneParams, rng: np.random.Generator) -> ZoneParams:
    """Extreme but valid parameters: tight or wide VM bounds, no noise, certain bursts,
    sharp CPU curves, a knee at 0, holidays."""
    p = zones.params.copy()
    B = p.shape[0]
    pick = rng.random((B, 6)) < 0.3
    p[pick[:, 0], col("noise_sd")] = 0.0
    p[pick[:, 1], col("cpu_sd")] = 0.0
    p[pick[:, 2], col("burst_prob")] = 1.0
    p[pick[:, 3], col("shape")] = 5.0
    p[pick[:, 4], col("knee")] = 0.0
    p[pick[:, 5], col("base_rpc")] = 0.0
    lo = np.where(rng.random(B) < 0.3, zones.init_vms, zones.min_vms)
    hi = np.where(rng.random(B) < 0.3, zones.init_vms, zones.max_vms)
    return ZoneParams(p, lo, hi, zones.init_vms, zones.app, np.array([True, False, True]))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32), delay=st.integers(0, 8), horizon=st.integers(1, 40), adv=st.booleans())
def test_twin_equals_cpp(seed, delay, horizon, adv):
    rng = np.random.default_rng(seed)
    cfg = AutoscalingConfig(delay=delay, horizon=horizon, num_threads=2)
    zones = draw_zones(cfg.workload, 257, seed % 1000)
    if adv:
        zones = _adversarial(zones, rng)
    a, b = _pair(zones, cfg, seed)
    assert np.array_equal(a.reset(), b.reset())
    choices = np.array([cfg.ratio_min, cfg.ratio_max, 0.0])
    for t in range(2 * horizon + 3):
        act = np.where(rng.random(257) < 0.3, choices[rng.integers(0, 3, 257)], rng.uniform(-0.5, 1.0, 257))
        _same(a.step(act), b.step(act), f"step {t}")
    sa, sb = a.state(), b.state()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


def test_pending_without_delay_equals_twin():
    """VMs pending in a delay-0 run (set by set_state) still arrive and cancel as in the twin
    (the C++ skips the ring only when it is all zero)."""
    cfg = AutoscalingConfig(delay=0, horizon=50, num_threads=1)
    a, b = _pair(draw_zones(cfg.workload, 64, 5), cfg, 3)
    a.reset(), b.reset()
    st_ = a.state()
    st_["pending"][::3, 1] = 2
    st_["pending"][::5, 4] = 1
    a.set_state(st_), b.set_state(st_)
    rng = np.random.default_rng(0)
    for t in range(8):
        act = np.where(rng.random(64) < 0.5, rng.uniform(-0.5, 1.0, 64), 0.0)
        _same(a.step(act), b.step(act), f"step {t}")
    assert np.array_equal(a.state()["pending"], b.state()["pending"])


def _one_zone(**over) -> ZoneParams:
    vals = dict(base_rpc=1000.0, base_mq=500.0, daily_amp_rpc=0.5, daily_amp_mq=0.2, cos_phase=1.0, sin_phase=0.0,
                weekend_dip=0.3, trend=0.1, noise_sd=0.0, burst_prob=0.0, burst_size=0.0, burst_decay=0.5,
                holiday_mult=1.5, w_rpc=0.002, w_mq=0.001, idle=0.05, scale=1.0, shape=1.5, cpu_sd=0.0, lat0=40.0,
                knee=0.6, lat_gain=2.0, slo_ms=100.0)
    vals.update(over)
    p = np.array([[vals[n] for n in PARAM_NAMES]])
    one = lambda v: np.array([v], dtype=np.int64)  # noqa: E731
    return ZoneParams(p, one(1), one(100), one(4), one(0), np.array([False, True]))


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_cpu_slo_reward_by_hand(backend):
    cfg = AutoscalingConfig(cpu_target=0.5, band=0.1, eta=0.2, slo_penalty=3.0, horizon=1008)
    sim = AutoscalingSimulator(cfg, zones=_one_zone(), backend=backend)
    sim.reset()
    r = sim.step(np.array([0.5]))  # 4 VMs -> round(6.0) = 6
    assert (r.vms[0], r.provisioned[0], r.delta[0]) == (6, 6, 2)
    s = math.sin(2 * math.pi / 144)
    tr = 1 + 0.1 / 1008
    x = np.array([1000 * (1 + 0.5 * s) * tr, 500 * (1 + 0.2 * s) * tr])
    np.testing.assert_allclose(r.traffic[0], x, rtol=1e-13)
    u = (0.002 * x[0] + 0.001 * x[1]) / 6
    c = 0.05 + 0.95 * (1 - math.exp(-u**1.5))
    assert r.cpu[0] == pytest.approx(c, rel=1e-13)
    assert r.cpu_mean[0] == pytest.approx(c, rel=1e-13)
    lat = 40 * (1 + 2 * max(0.0, c - 0.6) / max(1 - c, 0.02))
    assert r.latency[0] == pytest.approx(lat, rel=1e-13)
    viol = lat > 100
    assert bool(r.slo_violation[0]) == viol
    assert r.reward[0] == pytest.approx(-(0.5 - c) ** 2 - 0.2 * 2 / 4 - 3.0 * viol, rel=1e-13)
    assert bool(r.in_band[0]) == (abs(c - 0.5) <= 0.1)
    # day 1 is a holiday (x 1.5); day 5 a weekend day (x 0.7); steps 144 and 720
    for _ in range(143):
        r = sim.step(np.array([0.0]))
    assert sim.t == 144
    np.testing.assert_allclose(r.traffic[0, 0], 1000 * (1 + 0.1 * 144 / 1008) * 1.5, rtol=1e-13)
    for _ in range(720 - 144):
        r = sim.step(np.array([0.0]))
    np.testing.assert_allclose(r.traffic[0, 0], 1000 * 0.7 * (1 + 0.1 * 720 / 1008), rtol=1e-13)


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_saturated_cpu_violates_slo(backend):
    sim = AutoscalingSimulator(AutoscalingConfig(), zones=_one_zone(base_rpc=1e6), backend=backend)
    sim.reset()
    r = sim.step(np.array([-0.5]))
    assert r.cpu[0] > 0.99 and r.slo_violation[0] and r.vms[0] == 2


def test_expected_clipped_normal_exact():
    rng = np.random.default_rng(0)
    for mu, sd in ((0.5, 0.1), (0.98, 0.05), (-0.02, 0.04), (0.3, 0.0)):
        mc = np.clip(mu + sd * rng.standard_normal(400_000), 0, 1).mean()
        assert expected_clipped_normal(np.array([mu]), np.array([sd]))[0] == pytest.approx(mc, abs=4e-4)


def test_expected_cpu_matches_simulation():
    """Identical zones: mean over zones of c - E[c | x, l] is 0 within its CI."""
    base = draw_zones(WorkloadConfig(n_apps=1, zone_log_sd=0.0, cpu_sd=(0.08, 0.08)), 20_000, 3)
    sim = AutoscalingSimulator(AutoscalingConfig(num_threads=2), zones=base, seed=5)
    sim.reset()
    r = sim.step(np.full(20_000, 0.5))
    d = r.cpu - expected_cpu(base, r.traffic, r.vms)
    assert abs(d.mean()) < 4 * d.std() / math.sqrt(d.size)
    np.testing.assert_allclose(r.cpu_mean, cpu_curve(base, r.traffic, r.vms), rtol=1e-9)


def test_vms_for_target_inverts_curve():
    z = draw_zones(WorkloadConfig(max_factor=1000.0), 300, 1)
    x = z.params[:, :2] * 3.0
    v = vms_for_target(z, x, 0.5)
    assert np.all(cpu_curve(z, x, v)[v > z.min_vms] <= 0.5 + 1e-12)
    lower = np.maximum(v - 1, 1)
    assert np.all(cpu_curve(z, x, lower)[(v > z.min_vms) & (v < z.max_vms)] > 0.5)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), delay=st.integers(0, 8), acts=st.lists(st.floats(-0.5, 1.0), min_size=5, max_size=40))
def test_vm_bounds_never_violated(seed, delay, acts):
    cfg = AutoscalingConfig(delay=delay, horizon=17, num_threads=1)
    z = draw_zones(WorkloadConfig(max_factor=3.0), 64, seed % 97)
    sim = AutoscalingSimulator(cfg, zones=z, seed=seed)
    sim.reset()
    rng = np.random.default_rng(seed)
    for a in acts:
        r = sim.step(np.where(rng.random(64) < 0.5, a, rng.uniform(-0.5, 1.0, 64)))
        s = sim.state()
        prov = s["vms"] + s["pending"].sum(axis=1)
        assert np.all(s["pending"] >= 0)
        assert np.all((z.min_vms <= s["vms"]) & (s["vms"] <= prov) & (prov <= z.max_vms))
        assert np.all((z.min_vms <= r.vms) & (r.vms <= z.max_vms))


def test_threads_and_seeds():
    z = draw_zones(WorkloadConfig(), 3000, 0)
    runs = []
    for th, seed in ((1, 4), (2, 4), (2, 5)):
        sim = AutoscalingSimulator(AutoscalingConfig(num_threads=th, horizon=5), zones=z, seed=seed)
        rows = [sim.reset().copy()]
        for t in range(8):
            r = sim.step(np.full(3000, 0.1 * (t % 3)))
            rows += [r.obs.copy(), r.cpu.copy(), r.vms.copy()]
        runs.append(rows)
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not np.array_equal(runs[0][2], runs[2][2])


def test_pickle_continues_identically():
    sim = AutoscalingSimulator(AutoscalingConfig(horizon=6), num_zones=50, seed=2)
    sim.reset()
    sim.step(np.full(50, 0.2))
    twin = pickle.loads(pickle.dumps(sim))
    for _ in range(10):
        a = np.full(50, -0.1)
        assert np.array_equal(sim.step(a).obs, twin.step(a).obs)


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_bad_input(backend):
    cfg = AutoscalingConfig()
    z = draw_zones(cfg.workload, 4, 0)
    p = z.params.copy()
    p[1, col("base_rpc")] = -5.0
    with pytest.raises(ValueError, match="base_rpc"):
        AutoscalingSimulator(cfg, zones=dataclasses.replace(z, params=p), backend=backend)
    p = z.params.copy()
    p[0, col("shape")] = np.nan
    with pytest.raises(ValueError, match="params"):
        AutoscalingSimulator(cfg, zones=dataclasses.replace(z, params=p), backend=backend)
    with pytest.raises(ValueError, match="min_vms"):
        AutoscalingSimulator(cfg, zones=dataclasses.replace(z, min_vms=np.zeros(4, np.int64)), backend=backend)
    sim = AutoscalingSimulator(cfg, zones=z, backend=backend)
    sim.reset()
    before = sim.state()
    for bad in (np.full(4, 1.5), np.full(4, -0.7), np.array([0.0, np.nan, 0.0, 0.0])):
        with pytest.raises(ValueError, match="actions"):
            sim.step(bad)
    with pytest.raises(ValueError, match="actions: .* at zone 1"):  # the face's message on the fast path too
        sim.step(np.array([0.0, 2.0, 0.0, 0.0]))
    assert all(np.array_equal(v, sim.state()[k]) for k, v in before.items())  # a refused step changes nothing
    with pytest.raises(ValueError, match="actions"):
        sim.step(np.zeros(5))
    with pytest.raises(TypeError, match="actions"):
        sim.step(np.array(["a"] * 4))
    with pytest.raises(ValueError, match="traffic"):
        cpu_curve(z, -np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match="vms"):
        cpu_curve(z, np.ones((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="min_vms"):
        WorkloadConfig(min_vms=0)
    with pytest.raises(ValueError, match="delay"):
        AutoscalingConfig(delay=9)


def test_cpp_binding_checks_directly():
    from simcore import _core

    z = draw_zones(WorkloadConfig(), 3, 0)
    m = np.array([0.5, 0.1, 0.05, 1.0, -0.5, 1.0])
    p = z.params.copy()
    p[2, col("base_mq")] = -1.0
    with pytest.raises(ValueError, match="base_mq"):
        _core.autoscaling.AutoscalingBatch(p, z.min_vms, z.max_vms, z.init_vms, m, np.zeros(1, np.uint8), 10, 0)
    with pytest.raises(ValueError, match="ratio range"):
        _core.autoscaling.AutoscalingBatch(z.params, z.min_vms, z.max_vms, z.init_vms,
                                           np.array([0.5, 0.1, 0.05, 1.0, 0.5, 1.0]), np.zeros(1, np.uint8), 10, 0)
    sim = AutoscalingSimulator(AutoscalingConfig(), zones=z)
    sim.reset()
    with pytest.raises(ValueError, match="actions"):
        sim._core.step(sim._state, np.array([0.0, np.nan, 0.0]), sim._out, 1)
