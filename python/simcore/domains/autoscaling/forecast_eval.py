"""Forecaster accuracy on held-out apps and against the number of apps trained on
(docs/autoscaling_forecast.md, "Accuracy").

* :func:`simulate_traffic`: the simulator's traffic (B, T, 2) of given zones (traffic does not
  depend on the actions; the episode starts at calendar index 0).
* :func:`evaluate`: every forecaster's errors (:func:`~.forecast_baselines.forecast_errors`) on
  the forecasts from every ``stride``-th position of held-out series.
* :func:`accuracy_vs_apps`: per seed index, one zone population of ``max(n_apps) + held_out``
  apps (``zones_per_app`` zones each), ``weeks`` weeks of traffic; the forecaster and the ridge
  autoregression are trained on the zones of the first n apps (n in ``n_apps``) and evaluated on
  the zones of the last ``held_out`` apps, which no model sees; the seasonal-naive forecasts need
  no training.  Student-t 95 % CIs over seeds (seed streams: ``SeedTree(seed).child("forecast",
  s)`` "zones", "traffic", then "fit"/n for the learners).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.domains.autoscaling.config import STEPS_PER_DAY, STEPS_PER_WEEK, AutoscalingConfig, WorkloadConfig
from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster
from simcore.domains.autoscaling.forecast_baselines import (
    ERRORS,
    Forecaster,
    RidgeForecaster,
    SeasonalNaive,
    forecast_errors,
)
from simcore.domains.autoscaling.forecast_features import check_traffic, windows
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams, draw_zones
from simcore.report.stats import paired, t_ci
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

__all__ = ["simulate_traffic", "evaluate", "accuracy_vs_apps", "METHODS"]

#: the methods :func:`accuracy_vs_apps` compares.
METHODS = ("forecaster", "ridge", "naive-day", "naive-week")


def simulate_traffic(config: AutoscalingConfig, zones: ZoneParams, steps: int, seed: int) -> np.ndarray:
    """float64 (B, steps, 2): one episode of ``steps`` steps of the zones' traffic (stream ``seed``)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 10**6:
        raise ValueError(f"steps: must be an integer in [1, 1e6], got {steps!r}")
    sim = AutoscalingSimulator(dataclasses.replace(config, horizon=steps), zones=zones, seed=seed)
    sim.reset()
    zero = np.zeros(sim.num_zones)
    out = np.empty((sim.num_zones, steps, 2))
    for t in range(steps):
        out[:, t] = sim.step(zero).traffic
    return out


def evaluate(models: Mapping[str, Forecaster], traffic: np.ndarray, start: int = STEPS_PER_DAY, stride: int = 12,
             t_start: int = 0) -> dict[str, dict[str, float]]:
    """Errors of each model's forecasts from positions start, start + stride, ... of ``traffic``
    (B, T, D) (each forecast reads the series before its position; the last position leaves
    the whole horizon inside the series).  All models must have the same horizon."""
    x = check_traffic(traffic, "traffic")
    hs = {m.horizon for m in models.values()}
    if len(hs) != 1:
        raise ValueError(f"models: expected one horizon, got {sorted(hs)}")
    H = hs.pop()
    B, T, _ = x.shape
    positions = list(range(max(1, start), T - H + 1, stride))
    if not positions:
        raise ValueError(f"traffic: {T} steps leave no forecast position from {start} with horizon {H}")
    preds: dict[str, list[np.ndarray]] = {k: [] for k in models}
    truth, scales = [], []
    for p in positions:
        hist = x[:, :p]
        truth.append(x[:, p:p + H])
        scales.append(windows(hist, np.arange(B), np.full(B, p), np.full(B, t_start + p), 1, H).scale)
        for k, m in models.items():
            preds[k].append(m.predict(hist, t_start + p))
    y, s = np.concatenate(truth), np.concatenate(scales)
    return {k: forecast_errors(y, np.concatenate(v), s) for k, v in preds.items()}


def _population(workload: WorkloadConfig, n_apps: int, zones_per_app: int, seed: int) -> ZoneParams:
    w = dataclasses.replace(workload, n_apps=n_apps)
    return draw_zones(w, n_apps * zones_per_app, seed)


def accuracy_vs_apps(config: AutoscalingConfig | None = None, n_apps: Sequence[int] = (1, 4, 16, 40),
                     held_out: int = 10, zones_per_app: int = 4, weeks: int = 2, seeds: int = 5,
                     forecaster: ForecasterConfig | None = None, stride: int = 12, seed: int = 0,
                     ridge_samples: int = 20_000, progress: bool = False) -> dict[str, Any]:
    """The accuracy table (module docstring).  Returns ``{"rows": [{"n_apps", "method",
    "<error>": {"mean", "half"}, ...}], "per_seed": {method: {n: {error: [per seed]}}},
    "paired_forecaster_minus": {method: {n: {error: paired difference}}} (the forecaster's error minus
    the method's, paired over seeds: :func:`~simcore.report.stats.paired`), "fit_seconds": {n: [per
    seed]}, "settings": {...}}``."""
    cfg = config if config is not None else AutoscalingConfig(num_threads=1)
    fc = forecaster if forecaster is not None else ForecasterConfig()
    ns = sorted({int(n) for n in n_apps})
    if not ns or ns[0] < 1 or not isinstance(held_out, int) or held_out < 1 or seeds < 2 or weeks < 1:
        raise ValueError("accuracy_vs_apps: need n_apps >= 1, held_out >= 1, seeds >= 2, weeks >= 1")
    A = ns[-1] + held_out
    steps = weeks * STEPS_PER_WEEK + fc.horizon
    per: dict[str, dict[int, dict[str, list[float]]]] = {
        m: {n: {e: [] for e in ERRORS} for n in ns} for m in METHODS}
    fit_s: dict[int, list[float]] = {n: [] for n in ns}
    bar = Progress(seeds * len(ns), desc="forecast accuracy", unit="fit", enabled=progress)
    for s in range(seeds):
        tree = SeedTree(seed).child("forecast", s)
        zones = _population(cfg.workload, A, zones_per_app, tree.seed("zones"))
        x = simulate_traffic(cfg, zones, steps, tree.seed("traffic"))
        test = x[zones.app >= ns[-1]]
        naive = evaluate({"naive-day": SeasonalNaive(fc.horizon, "day"),
                          "naive-week": SeasonalNaive(fc.horizon, "week")}, test, stride=stride)
        for n in ns:
            train = x[zones.app < n]
            f = WorkloadForecaster(fc)
            rep = f.fit(train, seed=tree.seed("fit", n))
            fit_s[n].append(rep.seconds)
            r = RidgeForecaster(fc.horizon, fc.window, samples=ridge_samples).fit(train, seed=tree.seed("fit", n))
            res = {**evaluate({"forecaster": f, "ridge": r}, test, stride=stride), **naive}
            for m in METHODS:
                for e in ERRORS:
                    per[m][n][e].append(res[m][e])
            bar.update(1)
    bar.close()
    rows = [{"n_apps": n, "method": m, **{e: dict(zip(("mean", "half"), t_ci(per[m][n][e]))) for e in ERRORS}}
            for n in ns for m in METHODS]
    diffs = {o: {n: {e: paired(per["forecaster"][n][e], per[o][n][e]) for e in ERRORS} for n in ns}
             for o in METHODS if o != "forecaster"}
    settings = {"n_apps": ns, "held_out": held_out, "zones_per_app": zones_per_app, "weeks": weeks, "seeds": seeds,
                "stride": stride, "seed": seed, "ridge_samples": ridge_samples, "forecaster": dataclasses.asdict(fc)}
    return {"rows": rows, "per_seed": per, "paired_forecaster_minus": diffs, "fit_seconds": fit_s,
            "settings": settings}
