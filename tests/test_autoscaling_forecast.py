"""The workload forecaster (domains/autoscaling/forecast*.py): its inputs against hand
computation, the baselines, beating seasonal-naive on a periodic family with a trend,
determinism, shapes, bad input, checkpoints, and the predictive baseline's wiring."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.autoscaling import baselines as bl  # noqa: E402
from simcore.domains.autoscaling.config import AutoscalingConfig  # noqa: E402
from simcore.domains.autoscaling.evaluate import run_episode  # noqa: E402
from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster  # noqa: E402
from simcore.domains.autoscaling.forecast_baselines import RidgeForecaster, SeasonalNaive, forecast_errors  # noqa: E402
from simcore.domains.autoscaling.forecast_eval import accuracy_vs_apps, evaluate, simulate_traffic  # noqa: E402
from simcore.domains.autoscaling.forecast_features import calendar, windows  # noqa: E402
from simcore.domains.autoscaling.simulator import AutoscalingSimulator  # noqa: E402
from simcore.domains.autoscaling.workload import draw_zones  # noqa: E402

TINY = ForecasterConfig(horizon=4, window=8, d_model=8, heads=2, steps=5, batch=16, eval_every=5, val_samples=32)


def _family(n: int, T: int, seed: int) -> np.ndarray:
    """Periodic series with a trend: L (1 + a sin(2 pi t / 144 + phi)) (1 - dip [weekend]) (1 + g t / 1008) e^(0.03 N)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    L, a, phi = rng.uniform(50, 5000, n), rng.uniform(0.3, 0.8, n), rng.uniform(0, 2 * np.pi, n)
    dip, g = rng.uniform(0.1, 0.4, n), rng.uniform(0.1, 0.4, n)
    weekend = ((t // 144) % 7 >= 5).astype(float)
    x = (L[:, None] * (1 + a[:, None] * np.sin(2 * np.pi * t / 144 + phi[:, None])) * (1 - dip[:, None] * weekend)
         * (1 + g[:, None] * t / 1008) * np.exp(0.03 * rng.standard_normal((n, T))))
    return np.stack([x, 0.5 * x * np.exp(0.03 * rng.standard_normal((n, T)))], axis=-1)


def test_windows_by_hand():
    x = np.arange(1, 1201, dtype=np.float64).reshape(1, 1200, 1)    # x[t] = t + 1
    w = windows(x, np.array([0]), np.array([1100]), np.array([1100]), W=3, H=2, scale_window=4)
    s = np.mean([1097, 1098, 1099, 1100])
    assert w.scale[0, 0] == s
    np.testing.assert_allclose(w.recent[0, :, 0] * s, [1098, 1099, 1100])
    np.testing.assert_allclose(w.lag_day_w[0, :, 0] * s, [954, 955, 956])
    np.testing.assert_allclose(w.lag_week_w[0, :, 0] * s, [90, 91, 92])
    np.testing.assert_allclose(w.lag_day[0, :, 0] * s, [957, 958])
    np.testing.assert_allclose(w.lag_week[0, :, 0] * s, [93, 94])
    assert w.mask_day.all() and w.mask_week.all() and w.last[0, 0] * s == 1100
    np.testing.assert_allclose(w.cal[0], calendar(np.array([1100, 1101])))
    # pos 150: the week lags are missing (filled with the day lags); pos 2: the day lags too (the last value)
    w = windows(x, np.array([0, 0]), np.array([150, 2]), np.array([150, 2]), W=3, H=2, scale_window=4)
    np.testing.assert_allclose(w.lag_week[0], w.lag_day[0])
    np.testing.assert_allclose(w.lag_day[0, :, 0] * w.scale[0, 0], [7, 8])
    assert not w.mask_week[0].any() and w.mask_day[0].all()
    np.testing.assert_allclose(w.lag_day[1, :, 0], w.last[1, 0]) and not w.mask_day[1].any()
    np.testing.assert_allclose(w.recent[1, :, 0] * w.scale[1, 0], [1, 1, 2])   # before the start: the first value
    assert w.scale[1, 0] == 1.5


def test_seasonal_naive_and_ridge_on_exact_periodic_series():
    t = np.arange(3 * 1008)
    x = np.stack([100 * (1 + 0.5 * np.sin(2 * np.pi * t / 144 + p)) for p in (0.0, 1.0, 2.0)])[..., None]
    hist = x[:, :2000]
    truth = x[:, 2000:2012]
    np.testing.assert_allclose(SeasonalNaive(12, "day").predict(hist, 2000), truth, rtol=1e-12)
    np.testing.assert_allclose(SeasonalNaive(12, "week").predict(hist, 2000), truth, rtol=1e-12)
    r = RidgeForecaster(horizon=12, window=6, ridge=1e-6, samples=3000).fit(x[:, :2500], seed=0)
    np.testing.assert_allclose(r.predict(hist, 2000), truth, rtol=1e-3)


def test_forecast_errors_by_hand():
    y = np.array([[[1.0], [2.0]]])
    p = np.array([[[1.5], [1.0]]])
    e = forecast_errors(y, p, np.array([[2.0]]))
    assert e["mape"] == pytest.approx((0.5 + 0.5) / 2)
    assert e["smape"] == pytest.approx((1 / 2.5 + 2 / 3) / 2)
    assert e["nrmse"] == pytest.approx(np.sqrt((0.25 ** 2 + 0.5 ** 2) / 2))


def test_forecaster_beats_seasonal_naive_on_a_trending_periodic_family():
    """Held-out series of the family: the forecaster's MAPE and nRMSE are below both seasonal-naive
    forecasts' (the trend and the weekend dip defeat them; the learned mix of lags corrects it)."""
    x = _family(48, 2 * 1008 + 12, seed=0)
    cfg = ForecasterConfig(horizon=12, window=24, d_model=16, heads=2, steps=150, batch=64, eval_every=50)
    f = WorkloadForecaster(cfg)
    f.fit(x[:36], seed=1)
    res = evaluate({"f": f, "day": SeasonalNaive(12, "day"), "week": SeasonalNaive(12, "week")}, x[36:],
                   start=1008, stride=24)
    for base in ("day", "week"):
        assert res["f"]["mape"] < 0.8 * res[base]["mape"], res
        assert res["f"]["nrmse"] < 0.8 * res[base]["nrmse"], res


def test_determinism_same_seed_same_weights_different_seed_different():
    x = _family(6, 300, seed=2)
    sd = [WorkloadForecaster(TINY) for _ in range(3)]
    sd[0].fit(x, seed=7)
    sd[1].fit(x, seed=7)
    sd[2].fit(x, seed=8)
    a, b, c = (m.state_dict()["model"] for m in sd)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    np.testing.assert_array_equal(sd[0].predict(x[:, :200], 200), sd[1].predict(x[:, :200], 200))


def test_fit_ignores_the_callers_torch_threads():
    """fit and predict run on config.threads whatever the caller set (and restore the caller's)."""
    x = _family(6, 300, seed=6)
    old = torch.get_num_threads()
    out = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            f = WorkloadForecaster(TINY)
            f.fit(x, seed=5)
            out.append(f.predict(x, 300))
            assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(old)
    np.testing.assert_array_equal(out[0], out[1])


def test_the_ablation_without_periodicity_ignores_the_lags():
    """periodic=False: a change of the history older than the window and the level's day leaves
    the forecast alone; with the lags (default) it moves it."""
    x = _family(4, 300, seed=7)
    y = x.copy()
    y[:, 140:156] *= 3.0                     # the day lags of the window (148..155), outside the level's 156..299
    for periodic, same in ((False, True), (True, False)):
        f = WorkloadForecaster(dataclasses.replace(TINY, periodic=periodic))
        f.fit(x, seed=1)
        assert np.array_equal(f.predict(x, 300), f.predict(y, 300)) == same


@pytest.mark.parametrize("D", [1, 3])
def test_shapes_and_short_histories(D):
    x = np.abs(_family(4, 300, seed=3)[..., :1].repeat(D, axis=-1))
    f = WorkloadForecaster(TINY)
    rep = f.fit(x, seed=0)
    assert rep.steps == 5 and rep.n_train + rep.n_val == 4 and rep.checks
    y = f.predict(x[:, :100], 100)
    assert y.shape == (4, 4, D) and y.dtype == np.float64 and np.all(y >= 0) and np.all(np.isfinite(y))
    assert f.predict(x[:, :1], np.array([0, 5, 9, 1000])).shape == (4, 4, D)


def test_bad_input_names_the_argument():
    f = WorkloadForecaster(TINY)
    x = _family(3, 100, seed=4)
    with pytest.raises(RuntimeError, match="fit"):
        f.predict(x, 0)
    bad = x.copy()
    bad[1, 5, 0] = np.nan
    with pytest.raises(ValueError, match="traffic: contains NaN"):
        f.fit(bad, seed=0)
    with pytest.raises(ValueError, match="traffic: traffic must be >= 0"):
        f.fit(-x, seed=0)
    with pytest.raises(ValueError, match="traffic: expected shape"):
        f.fit(x[0], seed=0)
    with pytest.raises(ValueError, match="at least"):
        f.fit(x[:, :3], seed=0)
    with pytest.raises(TypeError, match="traffic"):
        f.fit(x.astype(bool), seed=0)
    f.fit(x, seed=0)
    with pytest.raises(ValueError, match="history: expected 2 traffic dimensions"):
        f.predict(x[..., :1], 0)
    with pytest.raises(ValueError, match="t0"):
        f.predict(x, -1)
    with pytest.raises(ValueError, match="t0"):
        f.predict(x, np.zeros(2, dtype=np.int64))
    for field, value in (("horizon", 0), ("window", 2000), ("heads", 3), ("lr", 0.0), ("val_share", 0.9),
                         ("steps", -1), ("threads", 0), ("d_model", 2.5)):
        with pytest.raises(ValueError, match=field if field != "heads" else "heads"):
            dataclasses.replace(TINY, **{field: value})
    with pytest.raises(TypeError, match="config"):
        WorkloadForecaster({"horizon": 4})  # type: ignore[arg-type]


def test_checkpoint_round_trip_weights_only(tmp_path):
    x = _family(4, 300, seed=5)
    f = WorkloadForecaster(TINY)
    f.fit(x, seed=3)
    path = tmp_path / "forecaster.pt"
    torch.save(f.state_dict(), path)
    state = torch.load(path, weights_only=True)
    g = WorkloadForecaster.from_state_dict(state)
    np.testing.assert_array_equal(f.predict(x[:, :250], 250), g.predict(x[:, :250], 250))
    h = WorkloadForecaster(TINY)
    h.load_state_dict(state)
    np.testing.assert_array_equal(f.predict(x, 300), h.predict(x, 300))
    with pytest.raises(ValueError, match="another ForecasterConfig"):
        WorkloadForecaster(dataclasses.replace(TINY, window=9)).load_state_dict(state)
    with pytest.raises(ValueError, match="format"):
        h.load_state_dict({"format": 99})


class _Recorder:
    """A forecaster stub: records the calls; forecasts the true traffic of a recorded run."""

    def __init__(self, truth: np.ndarray, horizon: int) -> None:
        self.truth, self.horizon, self.calls = truth, horizon, []

    def predict(self, history, t0):
        self.calls.append((history.copy(), t0))
        T = self.truth.shape[0]
        idx = np.minimum(np.arange(t0, t0 + self.horizon), T - 1)
        return self.truth[idx].transpose(1, 0, 2)      # (B, H, 2)


def test_predictive_with_a_forecaster_reads_the_episode_and_an_oracle_beats_naive():
    cfg = AutoscalingConfig(horizon=400, num_threads=1, delay=1)
    zones = draw_zones(cfg.workload, 64, 3)
    rec = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=9), bl.TargetTracking(cfg), record=True)
    truth = rec["traffic_t"]                                   # (T, B, 2): the same traffic for every policy
    oracle = _Recorder(truth, horizon=4)
    learned = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=9), bl.Predictive(cfg, forecaster=oracle))
    hist, t0 = oracle.calls[10]
    assert t0 == hist.shape[1] and np.array_equal(hist, truth[:t0].transpose(1, 0, 2))
    naive = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=9), bl.Predictive(cfg))
    assert learned["stability"].mean() > naive["stability"].mean() + 0.05
    every = _Recorder(truth, horizon=4)
    run_episode(AutoscalingSimulator(cfg, zones=zones, seed=9), bl.Predictive(cfg, forecaster=every, every=3))
    assert len(every.calls) == len(range(6, 400, 3))   # steps 1..399 feed the history; forecasts from the 6th
    with pytest.raises(ValueError, match="horizon"):
        bl.Predictive(cfg, forecaster=_Recorder(truth, horizon=3), every=3)


def test_simulated_traffic_matches_the_simulator_and_accuracy_table_runs():
    cfg = AutoscalingConfig(horizon=50, num_threads=1)
    zones = draw_zones(cfg.workload, 8, 1)
    x = simulate_traffic(cfg, zones, 50, seed=4)
    rec = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=4), bl.TargetTracking(cfg), record=True)
    np.testing.assert_array_equal(x, rec["traffic_t"].transpose(1, 0, 2))
    out = accuracy_vs_apps(cfg, n_apps=(1, 2), held_out=1, zones_per_app=2, weeks=1, seeds=2, forecaster=TINY,
                           stride=48, ridge_samples=500)
    assert {(r["n_apps"], r["method"]) for r in out["rows"]} == {(n, m) for n in (1, 2) for m in
                                                                 ("forecaster", "ridge", "naive-day", "naive-week")}
    assert all(np.isfinite(r[e]["mean"]) and np.isfinite(r[e]["half"]) for r in out["rows"] for e in ("mape", "nrmse"))
