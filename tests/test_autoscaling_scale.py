"""The autoscaling experiment's cost clock, the learned forecast in the policy path
(ForecasterStream refresh period and shared cache), and the in-run sensitivity (filter
threshold curve, provisioning delay): against direct computations, config checks, and
identities the protocol implies (the default threshold's row is the meta-rl row, the
seasonal-naive setting makes the ablation rows equal their methods)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from simcore.domains.autoscaling.config import AutoscalingConfig, WorkloadConfig
from simcore.domains.autoscaling.forecast_eval import simulate_traffic
from simcore.domains.autoscaling.workload import draw_zones
from simcore.experiments.autoscaling.clock import PhaseClock, add_phases
from simcore.experiments.autoscaling.config import AutoscalingExperimentConfig, ForecastSetup, MetaConfig

torch = pytest.importorskip("torch")

CFG = AutoscalingConfig(num_threads=1, horizon=160, workload=WorkloadConfig(n_apps=8))
META = MetaConfig(app_counts=(2, 4), anp_steps=10, policy_steps=5, policy_batch=16, ppo_budgets=(1.0,),
                  threshold_curve=(0.02, 0.06, 1.0))
NO_PPO = ("threshold", "target-tracking", "autopilot", "predictive", "predictive-naive", "peak-static", "meta-rl",
          "meta-rl-naive")


def _cfg(**kw: object) -> AutoscalingExperimentConfig:
    base: dict[str, object] = dict(sim=CFG, zones=12, seeds=2, plot_zones=2, meta=META, methods=NO_PPO,
                                   forecast=ForecastSetup(steps=5, days=3), delays=(1,))
    base.update(kw)
    return AutoscalingExperimentConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fitted():
    from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster

    zones = draw_zones(CFG.workload, 6, 3)
    tr = simulate_traffic(CFG, zones, 60, 4)
    f = WorkloadForecaster(ForecasterConfig(steps=5, batch=16, eval_every=5, val_samples=16))
    f.fit(tr, seed=0)
    return f, tr


class _Counting:
    """A forecaster that counts its predict calls."""

    def __init__(self, f: object) -> None:
        self.f, self.calls = f, 0
        self.config, self.horizon = f.config, f.horizon  # type: ignore[attr-defined]

    def predict(self, h: np.ndarray, t0: int) -> np.ndarray:
        self.calls += 1
        return self.f.predict(h, t0)  # type: ignore[attr-defined]


def _stream(s: object, tr: np.ndarray, steps: int) -> np.ndarray:
    out = []
    for t in range(steps):
        s.update(tr[:, t])  # type: ignore[attr-defined]
        out.append(s.next())  # type: ignore[attr-defined]
    return np.stack(out, axis=1)


def test_stream_refresh_reads_the_forecasts_later_steps(fitted):
    from simcore.domains.autoscaling.mbrl import ForecasterStream

    f, tr = fitted
    got = _stream(ForecasterStream(f, every=4), tr, 20)
    for t in range(20):  # after t + 1 updates; refreshed at 1, 5, 9, ... updates
        made = 1 + 4 * (t // 4)
        want = f.predict(tr[:, :made], made)[:, t + 1 - made]
        np.testing.assert_allclose(got[:, t], want)
    np.testing.assert_allclose(_stream(ForecasterStream(f), tr, 5)[:, 3], f.predict(tr[:, :4], 4)[:, 0])


def test_stream_cache_is_shared_and_checked(fitted):
    from simcore.domains.autoscaling.mbrl import ForecasterStream

    f, tr = fitted
    cnt, cache = _Counting(f), {}
    a = _stream(ForecasterStream(cnt, every=3, cache=cache), tr, 12)
    first = cnt.calls
    b = _stream(ForecasterStream(cnt, every=3, cache=cache), tr, 12)
    np.testing.assert_array_equal(a, b)
    assert first == 4 and cnt.calls == first
    other = tr * 1.5
    with pytest.raises(ValueError, match="cache"):
        _stream(ForecasterStream(cnt, every=3, cache=cache), other, 3)
    for bad in (0, f.horizon + 1, 2.0):
        with pytest.raises(ValueError, match="every"):
            ForecasterStream(f, every=bad)


def test_phase_clock_adds_up():
    ck = PhaseClock()
    for _ in range(2):
        with ck.phase("a"):
            sum(range(20000))
    with ck.phase("b"):
        time.sleep(0.01)
    d = ck.as_dict()
    assert list(d) == ["a", "b"] and d["b"]["wall"] >= 0.01 and d["b"]["cpu"] < d["b"]["wall"]
    assert all(v["cpu"] >= 0 for v in d.values())
    tot = add_phases([d, d])
    assert tot["a"]["cpu"] == pytest.approx(2 * d["a"]["cpu"])
    assert tot["total"]["wall"] == pytest.approx(2 * (d["a"]["wall"] + d["b"]["wall"]))


def test_config_checks():
    for kw, name in (({"kind": "arima"}, "kind"), ({"every": 0}, "every"), ({"every": 13}, "every"),
                     ({"days": 1}, "days"), ({"steps": 0}, "steps"), ({"zones_per_app": 0}, "zones_per_app")):
        with pytest.raises(ValueError, match=name):
            ForecastSetup(**kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold_curve"):
        MetaConfig(threshold_curve=(0.0,))
    with pytest.raises(ValueError, match="delays"):
        _cfg(delays=(0,))   # the base delay itself
    with pytest.raises(ValueError, match="delays"):
        _cfg(delays=(9,))
    with pytest.raises(ValueError, match="meta-rl"):
        _cfg(methods=("target-tracking", "meta-rl-naive"))
    with pytest.raises(ValueError, match="every"):
        _cfg(sim=dataclasses.replace(CFG, delay=8), delays=(), forecast=ForecastSetup(every=6))
    assert not _cfg(forecast=ForecastSetup(kind="seasonal-naive")).needs_forecaster
    assert not _cfg(methods=("target-tracking",)).needs_forecaster
    assert _cfg().needs_forecaster


def test_traffic_does_not_depend_on_the_delay():
    """What sharing one forecast cache across the delay sweep relies on."""
    zones = draw_zones(CFG.workload, 5, 1)
    a = simulate_traffic(CFG, zones, 30, 2)
    b = simulate_traffic(dataclasses.replace(CFG, delay=2), zones, 30, 2)
    np.testing.assert_array_equal(a, b)


def _close(a: dict, b: dict) -> None:
    for q in ("stability", "vm_hours", "reward", "slo_rate"):
        assert a[q] == pytest.approx(b[q], rel=1e-12, abs=1e-15), q


def test_sensitivity_rows_match_the_methods():
    from simcore.experiments.autoscaling.run import run, run_seed

    cfg = _cfg()
    r = run_seed(cfg, 1)
    th = r["sensitivity"]["threshold"]
    assert set(th) == {"0.02", "0.06", "1.0"} and th["1.0"]["fallback"] == 0
    _close(th["0.06"], r["methods"]["meta-rl"])            # the configured threshold is the meta-rl row
    assert th["0.02"]["fallback"] >= th["0.06"]["fallback"]
    assert set(r["sensitivity"]["delay"]["1"]) == {"target-tracking", "autopilot", "meta-rl"}
    assert "forecaster-fit" in r["phases"] and "sensitivity/delay" in r["phases"]
    R = run(cfg, progress=False)
    S = R["sensitivity"]
    assert set(S["delay"]) == {"0", "1"} and S["delay"]["0"]["meta-rl"]["stability"]["mean"] == pytest.approx(
        R["summary"]["meta-rl"]["stability"]["mean"])
    assert set(S["delay"]["1"]["meta-rl"]["minus"]) == {"target-tracking", "autopilot"}
    assert R["meta"]["phases"]["total"]["cpu"] > 0
    R2 = run(cfg, progress=False)
    assert R2["sensitivity"] == S and R2["summary"] == R["summary"]


def test_seasonal_naive_setting_makes_the_ablations_equal():
    from simcore.experiments.autoscaling.run import run_seed

    r = run_seed(_cfg(forecast=ForecastSetup(kind="seasonal-naive"), delays=()), 0)
    m = r["methods"]
    _close(m["meta-rl"], m["meta-rl-naive"])
    _close(m["predictive"], m["predictive-naive"])
    assert "delay" not in r["sensitivity"] and "forecaster-fit" not in r["phases"]


def test_learned_forecast_changes_the_policy_path():
    """With the learned forecast, meta-rl and predictive differ from their naive rows (the
    forecast is read), and different seeds differ."""
    from simcore.experiments.autoscaling.run import run_seed

    cfg = _cfg(delays=(), meta=dataclasses.replace(META, error_threshold=1.0, threshold_curve=()))
    a, b = run_seed(cfg, 0), run_seed(cfg, 1)
    assert a["methods"]["predictive"]["reward"] != a["methods"]["predictive-naive"]["reward"]
    assert a["methods"]["meta-rl"]["reward"] != a["methods"]["meta-rl-naive"]["reward"]
    assert a["methods"]["meta-rl"]["reward"] != b["methods"]["meta-rl"]["reward"]


def test_strongest_rule_and_forecast_claim():
    from simcore.experiments.autoscaling.report_sections import forecast_claim, strongest_rule

    def row(reward: float, stab: list[float]) -> dict:
        per = {"reward": [reward - 0.001, reward + 0.001], "stability": stab}
        return {"reward": {"mean": reward, "half": 0.0}, "per_seed": per,
                "heldout": {"reward": {"mean": reward, "half": 0.0}, "per_seed": per}}

    S = {"target-tracking": row(-0.012, [0.8, 0.8]), "predictive": row(-0.010, [0.82, 0.8]),
         "peak-static": row(-0.001, [0.1, 0.1]), "meta-rl": row(-0.011, [0.81, 0.83]),
         "meta-rl-naive": row(-0.013, [0.8, 0.8])}
    R = {"summary": S, "config": {"seeds": 2, "forecast": {"kind": "learned", "every": 6}, "sim": {"delay": 0}}}
    assert strongest_rule(R) == "predictive"      # peak static is a hindsight reference, not a rule
    c = forecast_claim(R)
    assert c is not None and c.verdict == "reproduced" and "0.0020" in c.result
    R["config"]["forecast"]["kind"] = "seasonal-naive"
    assert forecast_claim(R) is None


def test_zone_metrics_by_hand_and_empty_mask():
    from simcore.experiments.autoscaling.sensitivity import zone_metrics

    m = {"stability": np.array([0.5, 1.0]), "vm_hours": np.array([2.0, 3.0]), "slo_violations": np.array([1.0, 3.0]),
         "scaling_ops": np.array([10.0, 20.0]), "reward": np.array([-0.1, -0.3]), "cpu": np.array([0.4, 0.6])}
    r = zone_metrics(m, np.array([True, True]), 144)
    assert r == pytest.approx({"stability": 0.75, "vm_hours": 5.0, "slo_rate": 4 / 288, "ops_per_zone_day": 15.0,
                               "reward": -0.2, "cpu": 0.5})
    assert zone_metrics(m, np.array([False, True]), 144)["vm_hours"] == 3.0
    with np.errstate(all="raise"):
        e = zone_metrics(m, np.array([False, False]), 144)
    assert all(np.isnan(v) for v in e.values())
