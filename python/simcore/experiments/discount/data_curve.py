"""How the discount gap of the tabular DP moves with the data behind the model
(docs/discount.md, "The gap against the data behind the model").

The study estimates a tabular SSMDP from ``model_sessions`` simulated sessions (plus
``refine_rounds`` rounds of ``refine_sessions`` along the DP policies), solves it by DP
for gamma = 0 and gamma = 1 and moves both policies to the real simulator.  On the
calibrated default the gamma = 1 policy gains on the model but loses on the simulator.
Two causes predict different curves as the data grow:

* estimation error (DP maximises over noisy estimates, so the chosen policy's model value
  is biased upwards, more so for the longer-horizon gamma = 1 objective): the model's gap
  and the optimism (model value minus true value) shrink towards the truth as the data
  grow, and the simulator's gap rises towards the exact one;
* misspecification (the tabular state aliases page histories the user model tells
  apart): the simulator's gap stays below the model's at any amount of data.

For every size n in ``sizes`` (model_sessions = n, refine_sessions = n / 2, the default
ratio; the same named seed streams at every size, so rows are paired by seed) and each
tabular state this reports, with Student-t 95 % CIs over seeds: the DP gap
GMV(1) / GMV(0) - 1 on the model (exact), the same gap on the real simulator (exact on
the replicate's holdout panel), and the optimism of each policy (its exact model GMV
minus its exact simulator GMV).  The exact tree DP on the simulator (the main run) is the
reference for the true gap.

Run: ``PYTHONPATH=python python -m simcore.experiments.discount.data_curve --out DIR``
(writes DIR/data_curve.md, DIR/data_curve.json, DIR/data_curve.png).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.experiments.discount.config import DiscountConfig
from simcore.report.stats import t_ci

__all__ = ["SIZES", "point_job", "summarise", "run", "write", "main"]

#: default sizes (model_sessions); 10,000 is the study's default
SIZES: tuple[int, ...] = (5_000, 10_000, 20_000, 40_000, 80_000)


def sized(cfg: DiscountConfig, n: int) -> DiscountConfig:
    """``cfg`` with model_sessions = n and refine_sessions = n // 2 (the default ratio)."""
    return dataclasses.replace(cfg, model_sessions=int(n), refine_sessions=max(1, int(n) // 2))


def point_job(cfg: DiscountConfig, k: int) -> dict[str, dict[str, float]]:
    """Seed replicate k at ``cfg``'s data size: per state, the exact model and simulator
    GMV per session of the DP policies at gamma 0 and 1 (floats)."""
    from simcore.domains.search.tabular import dp as tdp
    from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths
    from simcore.experiments.discount import seeds as paths
    from simcore.experiments.discount.stages import estimate_models
    from simcore.util.seeds import SeedTree

    seeds = paths.replicate(SeedTree(cfg.seed), k)
    models = estimate_models(cfg, seeds)
    hold = draw_users(cfg.session, cfg.holdout_users, seed=seeds.seed(*paths.TRANSFER_HOLDOUT))
    out: dict[str, dict[str, float]] = {}
    for state, model in models.items():
        sol = {g: tdp.solve(model, g) for g in (0.0, 1.0)}
        pths = [tdp.paths(model, sol[g].policy) for g in (0.0, 1.0)]
        sim = evaluate_paths(cfg.session, cfg.action_array(), hold, pths, (1.0,))[:, 0].mean(axis=1)
        out[state] = {"model0": float(sol[0.0].gmv), "model1": float(sol[1.0].gmv),
                      "sim0": float(sim[0]), "sim1": float(sim[1])}
    return out


def _ci(x: Sequence[float]) -> list[float]:
    m, h = t_ci([float(v) for v in x])
    return [m, h]


def summarise(sizes: Sequence[int], states: Sequence[str], runs: Mapping[str, Any], n_seeds: int) -> dict[str, Any]:
    """Per size and state: model gap %, simulator gap %, optimism of both policies
    (mean and 95 % half-width over seeds) and the per-seed values."""
    rows = []
    for n in sizes:
        for st in states:
            v = [runs[f"{n}/{k}"][st] for k in range(n_seeds)]
            gap_m = [100 * (x["model1"] / x["model0"] - 1) for x in v]
            gap_s = [100 * (x["sim1"] / x["sim0"] - 1) for x in v]
            rows.append({"size": int(n), "state": st, "model_gap_pct": _ci(gap_m), "sim_gap_pct": _ci(gap_s),
                         "optimism0": _ci([x["model0"] - x["sim0"] for x in v]),
                         "optimism1": _ci([x["model1"] - x["sim1"] for x in v]),
                         "per_seed": v})
    return {"rows": rows, "sizes": [int(n) for n in sizes], "states": list(states), "seeds": n_seeds}


def run(cfg: DiscountConfig, sizes: Sequence[int] = SIZES, progress: bool = True) -> dict[str, Any]:
    """Every (size, seed) job on the runner (process backend when ``cfg.workers`` > 1)."""
    from simcore.report.machine import machine_info
    from simcore.runner import Job, run_jobs

    t0, load0, where = time.perf_counter(), os.getloadavg()[0], machine_info()  # the commit that runs
    jobs = [Job(key=f"{n}/{k}", fn=point_job, kwargs=dict(cfg=sized(cfg, n), k=k), seed_path=("seed", k),
                work=float(n)) for n in sizes for k in range(cfg.n_seeds)]
    workers = max(1, min(cfg.workers or 1, len(jobs)))
    outs = run_jobs(jobs, backend="process" if workers > 1 else "inline", workers=workers, progress=progress,
                    desc="discount: data curve", unit="sessions")
    runs = dict(zip([j.key for j in jobs], outs))
    meta = {"wall_seconds": time.perf_counter() - t0, "load_average_start": load0,
            "load_average_end": os.getloadavg()[0], "workers": workers, **where}
    return {"meta": meta, **summarise(sizes, cfg.states, runs, cfg.n_seeds)}


_STATE_LABEL = {"history": "(t, last L actions)", "segment": "(t, last L actions, segment)"}


def _pm(v: Sequence[float], d: int = 1) -> str:
    return f"{v[0]:.{d}f} ± {v[1]:.{d}f}"


def write(res: Mapping[str, Any], out: str, command: str) -> None:
    """DIR/data_curve.md (table), DIR/data_curve.json and DIR/data_curve.png."""
    from simcore.report.io import write_json
    from simcore.report.plots import new_figure, save_figure

    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "data_curve.json"), res)
    m = res["meta"]
    lines = ["# Discount study: the DP gap against the data behind the tabular model", "",
             f"Command: `{command}`; commit {m['git_commit']}; {m['cpu']} ({m['cpus']} cores), load average "
             f"{m['load_average_start']:.1f} -> {m['load_average_end']:.1f}; workers {m['workers']}; wall "
             f"{m['wall_seconds']:.0f} s; python {m['python']}, numpy {m['numpy']}. {res['seeds']} seeds, "
             "Student-t 95 % CIs; model_sessions = n, refine_sessions = n / 2.", "",
             "| n (model sessions) | state | DP gap on the model % | DP gap on the simulator % "
             "| optimism gamma=0 (GMV) | optimism gamma=1 (GMV) |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['size']:,} | {r['state']} | {_pm(r['model_gap_pct'])} | {_pm(r['sim_gap_pct'])} "
                     f"| {_pm(r['optimism0'], 3)} | {_pm(r['optimism1'], 3)} |")
    with open(os.path.join(out, "data_curve.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    fig, ax = new_figure(len(res["states"]), 1, width=4.6, height=3.4)
    for j, st in enumerate(res["states"]):
        a = ax[0][j]
        rows = [r for r in res["rows"] if r["state"] == st]
        x = np.array([r["size"] for r in rows], float)
        for key, lab, c in (("model_gap_pct", "on the model", "C0"), ("sim_gap_pct", "on the simulator", "C1")):
            y = np.array([r[key] for r in rows])
            a.plot(x, y[:, 0], marker="o", color=c, label=f"DP gap {lab}")
            a.fill_between(x, y[:, 0] - y[:, 1], y[:, 0] + y[:, 1], color=c, alpha=0.2)
        a.axhline(6.0, color="k", ls=":", lw=1, label="article: 6 %")
        a.axhline(0.0, color="grey", lw=0.8)
        a.set_xscale("log")
        a.minorticks_off()
        a.set_xticks(x)
        a.set_xticklabels([f"{v / 1000:g}k" for v in x])
        a.set_xlabel("sessions behind the model (model_sessions; log scale)")
        a.set_ylabel("GMV(gamma=1) / GMV(gamma=0) - 1 (%)")
        a.set_title(f"state {_STATE_LABEL.get(st, st)}\n(95 % CI over seeds)", fontsize=9)
        a.legend(fontsize=7)
    save_figure(fig, os.path.join(out, "data_curve.png"))


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``--out DIR``, ``--sizes 5000,10000,...``, ``--seeds N``, ``--workers N``;
    ``--replot FILE`` redraws DIR's table and plot from a recorded data_curve.json."""
    import json
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/discount_data_curve")
    ap.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--replot", default=None)
    a = ap.parse_args(argv)
    if a.replot:
        with open(a.replot) as fh:
            rec = json.load(fh)
        m = rec["meta"]
        write(rec, a.out, m.get("command", "(recorded run)"))
        return
    try:
        sizes = [int(s) for s in a.sizes.split(",")]
    except ValueError:
        raise ValueError(f"--sizes: expected comma-separated integers, got {a.sizes!r}") from None
    if not sizes or any(not 100 <= n <= 10_000_000 for n in sizes):
        raise ValueError(f"--sizes: every size must be in [100, 10,000,000], got {a.sizes!r}")
    if a.seeds < 2:
        raise ValueError(f"--seeds: must be >= 2 for a confidence interval, got {a.seeds}")
    cfg = DiscountConfig(n_seeds=a.seeds, workers=a.workers)
    res = run(cfg, sizes)
    res["meta"]["command"] = "python -m simcore.experiments.discount.data_curve " + " ".join(argv)
    write(res, a.out, res["meta"]["command"])


if __name__ == "__main__":
    main()
