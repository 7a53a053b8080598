"""The recorded runs behind docs/autoscaling_forecast.md (issue 15, the forecaster side).

    PYTHONPATH=python .venv/bin/python scripts/autoscaling_forecast.py accuracy --out DIR
    PYTHONPATH=python .venv/bin/python scripts/autoscaling_forecast.py predictive --out DIR

``accuracy``: :func:`~simcore.domains.autoscaling.forecast_eval.accuracy_vs_apps` with its
defaults (5 seeds; n_apps 1, 4, 16, 40 trained on; 10 held-out apps; 4 zones per app; two
weeks).  ``predictive``: per seed index s (the experiment's streams, SeedTree(seed).child("seed",
s) "zones"/"sim"), the zone population of the default experiment; the forecaster is fitted on
two weeks of the traffic of apps 0-39 drawn from another stream ("forecast-traffic"), then the
seasonal-naive and the learned-forecast Predictive baselines and target tracking run the
experiment's week; stability (share of steps in the band) over all zones and over the zones of
the held-out apps 40-49.  Both write results.json and a Markdown table into DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from simcore.domains.autoscaling import baselines as bl
from simcore.domains.autoscaling.config import STEPS_PER_WEEK, AutoscalingConfig
from simcore.domains.autoscaling.evaluate import run_episode
from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster
from simcore.domains.autoscaling.forecast_eval import accuracy_vs_apps, simulate_traffic
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import draw_zones
from simcore.report.stats import paired, t_ci
from simcore.util.seeds import SeedTree


def _meta(t0: float, load0: float) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    mine = [f"python/simcore/domains/autoscaling/{m}.py" for m in
            ("forecast", "forecast_features", "forecast_baselines", "forecast_eval", "baselines")]
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", *mine, "scripts/autoscaling_forecast.py"],
                                capture_output=True, text=True).stdout.strip())
    return {"command": " ".join(sys.argv), "commit": commit, "forecast_modules_dirty": dirty,
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "machine": f"{platform.machine()} {os.cpu_count()} cores", "wall_seconds": time.perf_counter() - t0,
            "load_average_start": load0, "load_average_end": os.getloadavg()[0],
            "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def _pm(mean: float, half: float, d: int = 3) -> str:
    return f"{mean:.{d}f} ± {half:.{d}f}"


def accuracy(out: Path, seeds: int, n_apps: list[int], steps: int | None, periodic: bool) -> None:
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    fc = ForecasterConfig(periodic=periodic) if steps is None else ForecasterConfig(steps=steps, periodic=periodic)
    R = accuracy_vs_apps(n_apps=n_apps, seeds=seeds, forecaster=fc, progress=True)
    R["meta"] = _meta(t0, load0)
    (out / "results.json").write_text(json.dumps(R, indent=1))
    lines = ["| apps trained on | method | MAPE | sMAPE | nRMSE |", "|---|---|---|---|---|"]
    for r in R["rows"]:
        lines.append(f"| {r['n_apps']} | {r['method']} | " + " | ".join(
            _pm(r[e]["mean"], r[e]["half"]) for e in ("mape", "smape", "nrmse")) + " |")
    fit = {n: t_ci(v) for n, v in R["fit_seconds"].items()}
    for o, by_n in R["paired_forecaster_minus"].items():
        lines.append(f"forecaster - {o}: " + "; ".join(
            f"{n} apps MAPE {_pm(d['mape']['mean'], d['mape']['half'], 4)}, nRMSE "
            f"{_pm(d['nrmse']['mean'], d['nrmse']['half'], 4)}" for n, d in by_n.items()))
    lines += ["", "fit seconds: " + ", ".join(f"{n} apps {_pm(*fit[n], 1)}" for n in fit), "", json.dumps(R["meta"])]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def predictive(out: Path, seeds: int, zones: int, every: int, delay: int) -> None:
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    cfg = AutoscalingConfig(num_threads=1, delay=delay)
    fc = ForecasterConfig()
    per: dict[str, dict[str, list[float]]] = {}
    fit_s, ep_s = [], []
    for s in range(seeds):
        tree = SeedTree(0).child("seed", s)
        z = draw_zones(cfg.workload, zones, tree.seed("zones"))
        held = z.app >= 40
        train = simulate_traffic(cfg, z, 2 * STEPS_PER_WEEK + fc.horizon, tree.seed("forecast-traffic"))[~held]
        f = WorkloadForecaster(fc)
        fit_s.append(f.fit(train, seed=tree.seed("forecaster")).seconds)
        pols = {"predictive (seasonal-naive)": bl.Predictive(cfg),
                "predictive (learned forecast)": bl.Predictive(cfg, forecaster=f, every=every),
                "target-tracking": bl.TargetTracking(cfg)}
        for k, pol in pols.items():
            a = time.perf_counter()
            m = run_episode(AutoscalingSimulator(cfg, zones=z, seed=tree.seed("sim")), pol)
            if "learned" in k:
                ep_s.append(time.perf_counter() - a)
            d = per.setdefault(k, {"stability": [], "stability_held_out": [], "vm_hours": [], "slo_rate": []})
            d["stability"].append(float(m["stability"].mean()))
            d["stability_held_out"].append(float(m["stability"][held].mean()))
            d["vm_hours"].append(float(m["vm_hours"].sum()))
            d["slo_rate"].append(float(m["slo_violations"].sum() / (cfg.horizon * zones)))
        print(f"seed {s}: " + ", ".join(f"{k} {v['stability'][-1]:.3f}" for k, v in per.items()), flush=True)
    L = "predictive (learned forecast)"
    diffs = {o: {m: paired(per[L][m], per[o][m]) for m in ("stability", "stability_held_out")}
             for o in per if o != L}
    R = {"per_seed": per, "paired_learned_minus": diffs, "fit_seconds": fit_s, "learned_episode_seconds": ep_s,
         "settings": {"seeds": seeds, "zones": zones, "every": every, "delay": delay, "forecaster": fc.__dict__}}
    R["meta"] = _meta(t0, load0)
    (out / "results.json").write_text(json.dumps(R, indent=1))
    lines = ["| method | stability (all zones) | stability (held-out apps) | VM-hours | SLO violations |",
             "|---|---|---|---|---|"]
    for k, v in per.items():
        lines.append(f"| {k} | {_pm(*t_ci(v['stability']))} | {_pm(*t_ci(v['stability_held_out']))} | "
                     f"{_pm(*t_ci(v['vm_hours']), 0)} | {_pm(*(100 * np.array(t_ci(v['slo_rate']))), 2)} % |")
    lines += [""] + [f"learned - {o}: stability {_pm(d['stability']['mean'], d['stability']['half'])} "
                     f"(held-out {_pm(d['stability_held_out']['mean'], d['stability_held_out']['half'])})"
                     for o, d in diffs.items()]
    lines += [f"fit seconds {_pm(*t_ci(fit_s), 1)}, learned episode seconds {_pm(*t_ci(ep_s), 1)}", "",
              json.dumps(R["meta"])]
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("accuracy", "predictive"))
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--zones", type=int, default=1000)
    p.add_argument("--every", type=int, default=1)
    p.add_argument("--delay", type=int, default=0, help="provisioning delay in steps (predictive)")
    p.add_argument("--n-apps", type=int, nargs="+", default=[1, 4, 16, 40])
    p.add_argument("--steps", type=int, default=None, help="forecaster optimiser steps (default: the config's)")
    p.add_argument("--no-periodic", action="store_true", help="the forecaster without its day/week lags (ablation)")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    if a.what == "accuracy":
        accuracy(out, a.seeds, a.n_apps, a.steps, not a.no_periodic)
    else:
        predictive(out, a.seeds, a.zones, a.every, a.delay)


if __name__ == "__main__":
    main()
