"""Sensitivity of personalisation to the width of the CEM's bounds (docs/tiered_traffic.md,
section 4b).

The article's CEM moves one global action distribution N(mu, sigma^2) and hands the DDPG
actor the bounds [mu - 2 sigma, mu + 2 sigma]; personalisation (different tier weights
for users who value the tier and users who do not) can only happen inside them.  The
CEM narrows sigma as its elite concentrates, down to the floor ``cem.min_std``, so the
floor sets how much room the actor keeps.  This study trains ``ddpg-cem`` and
``cem-uniform`` at the headline lambda for every floor in ``floors`` (nothing else
changed: the same named seed streams as the main run, so the rows at the default floor
are the main run's numbers and the rows are paired across floors) and reports per floor,
with Student-t 95 % CIs over seeds:

* E[return of r] on the exact panel, and its gap to the exact per-segment optimum
  (``segment-opt``) and the exact uniform optimum (``uniform-opt``) of the same seed;
* ddpg-cem minus cem-uniform (what the personalised learner adds over the learned
  uniform action);
* personalisation: the target-tier share lift (points) in the segments whose panel users
  like the tier more than the median segment, minus the lift in the others (segment-opt
  and uniform-opt give the exact reference values).

Run: ``PYTHONPATH=python python -m simcore.experiments.tiered_traffic.width --out DIR``
(writes DIR/width.md, DIR/width.json, DIR/width.png).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simcore.experiments.tiered_traffic.config import TieredTrafficConfig
from simcore.report.stats import paired, t_ci

__all__ = ["FLOORS", "jobs", "personalisation", "summarise_width", "run", "main"]

#: default floors of the CEM's sigma (the bounds' width is 4 sigma); 0.02 is the run's
FLOORS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2)
LEARNERS = ("ddpg-cem", "cem-uniform")


def personalisation(by_segment: Sequence[Mapping[str, float] | None], affinity: Sequence[float]) -> float:
    """Lift (points) in the segments with above-median mean affinity minus the lift in
    the rest; ``by_segment`` (G,) per-segment summaries (None: no panel user), ``affinity``
    (G,) the segments' mean affinity for the target tier on the same panel."""
    aff = np.asarray(affinity, dtype=float)
    ok = np.array([s is not None and np.isfinite(a) for s, a in zip(by_segment, aff)])
    if ok.sum() < 2:
        return float("nan")
    med = float(np.median(aff[ok]))
    lift = np.array([s["lift_pct"] if s is not None else np.nan for s in by_segment], dtype=float)
    hi, lo = ok & (aff > med), ok & (aff <= med)
    if not hi.any() or not lo.any():
        return float("nan")
    return float(lift[hi].mean() - lift[lo].mean())


def jobs(cfg: TieredTrafficConfig, floors: Sequence[float]) -> list[Any]:
    """Every exact-baseline job (one per seed) and learner job (learner x floor x seed);
    ``cfg`` has its control fixed (:func:`.run.with_control`)."""
    from simcore.experiments.tiered_traffic.learners import run_exact, run_learner
    from simcore.runner import Job

    lam = cfg.headline_lambda
    out = [Job(key=f"exact/{s}", fn=run_exact, kwargs=dict(cfg=cfg, seed=s), seed_path=("seed", s, "panel"), work=1.0)
           for s in range(cfg.seeds)]
    for floor in floors:
        c = dataclasses.replace(cfg, cem=dataclasses.replace(cfg.cem, min_std=float(floor)))
        for key in LEARNERS:
            for s in range(cfg.seeds):
                out.append(Job(key=f"{key}/{floor:g}/{s}", fn=run_learner, kwargs=dict(cfg=c, key=key, lam=lam, seed=s),
                               seed_path=("seed", s, "agent", key, f"{lam:g}"), work=float(cfg.iterations)))
    return out


def _ci(x: Sequence[float]) -> list[float]:
    m, h = t_ci([float(v) for v in x])
    return [m, h]


def summarise_width(cfg: TieredTrafficConfig, floors: Sequence[float], runs: Mapping[str, Any]) -> dict[str, Any]:
    """Per floor: the module docstring's quantities (mean and 95 % half-width), and the
    exact references."""
    lam = f"{cfg.headline_lambda:g}"
    S = range(cfg.seeds)
    exact = [runs[f"exact/{s}"] for s in S]
    aff = [[g["affinity"] for g in e["segments"]] for e in exact]
    ref = {fam: {"reward": [e[fam][lam]["reward"] for e in exact],
                 "personalisation": [personalisation(e[fam][lam]["by_segment"], a) for e, a in zip(exact, aff)]}
           for fam in ("segment-opt", "uniform-opt")}
    rows = []
    for floor in floors:
        fin = {k: [runs[f"{k}/{floor:g}/{s}"]["final"] for s in S] for k in LEARNERS}
        end = [runs[f"ddpg-cem/{floor:g}/{s}"]["history"][-1] for s in S]
        r = {k: [f["reward"] for f in v] for k, v in fin.items()}
        row: dict[str, Any] = {"floor": float(floor)}
        for k in LEARNERS:
            row[k] = {"reward": _ci(r[k]), "lift_pct": _ci([f["lift_pct"] for f in fin[k]]),
                      "gmv_change_pct": _ci([f["gmv_change_pct"] for f in fin[k]]),
                      "personalisation": _ci([personalisation(f["by_segment"], a) for f, a in zip(fin[k], aff)])}
        row["width_end"] = _ci([float(np.mean(np.asarray(e["high"]) - np.asarray(e["low"]))) for e in end])
        for name, (a, b) in {"vs_segment_opt": (r["ddpg-cem"], ref["segment-opt"]["reward"]),
                             "vs_uniform_opt": (r["ddpg-cem"], ref["uniform-opt"]["reward"]),
                             "vs_cem_uniform": (r["ddpg-cem"], r["cem-uniform"])}.items():
            p = paired(a, b)
            row[name] = [p["mean"], p["half"], p["p"]]
        rows.append(row)
    return {"rows": rows, "reference": {f: {k: _ci(v) for k, v in d.items()} for f, d in ref.items()},
            "lambda": cfg.headline_lambda, "seeds": cfg.seeds, "iterations": cfg.iterations}


def run(cfg: TieredTrafficConfig, floors: Sequence[float] = FLOORS, progress: bool = True) -> dict[str, Any]:
    """Fixes the control (as the main run), runs :func:`jobs` and summarises."""
    from simcore.experiments.tiered_traffic.run import _machine, with_control
    from simcore.runner import run_jobs

    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    cfg, _ = with_control(cfg)
    js = jobs(cfg, floors)
    outs = run_jobs(js, backend="inline" if cfg.workers == 1 else "process", workers=cfg.workers, progress=progress,
                    desc="tiered-traffic width", unit="iteration")
    runs = dict(zip([j.key for j in js], outs))
    meta = {"wall_seconds": time.perf_counter() - t0, "load_average_start": load0,
            "load_average_end": os.getloadavg()[0], "workers": cfg.workers, **_machine()}
    return {"meta": meta, **summarise_width(cfg, floors, runs)}


def _pm(v: Sequence[float], d: int = 3) -> str:
    return f"{v[0]:.{d}f} ± {v[1]:.{d}f}"


def write(res: Mapping[str, Any], out: str, command: str) -> None:
    """DIR/width.md (table), DIR/width.json and DIR/width.png."""
    from simcore.report.io import write_json
    from simcore.report.plots import new_figure, save_figure

    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "width.json"), res)
    m, ref = res["meta"], res["reference"]
    lines = [f"# Tiered traffic: personalisation against the CEM bounds' width floor (lambda = {res['lambda']:g}, "
             f"{res['iterations']} iterations)", "",
             f"Command: `{command}`; commit {m['git_commit']}; {m['cpu']} ({m['cpus']} cores), load average "
             f"{m['load_average_start']:.1f} -> {m['load_average_end']:.1f}; workers {m['workers']}; wall "
             f"{m['wall_seconds']:.0f} s; python {m['python']}, numpy {m['numpy']}, torch {m['torch']}. "
             f"{res['seeds']} seeds, Student-t 95 % CIs (paired by seed for differences).", "",
             f"Exact references: segment-opt E[return] {_pm(ref['segment-opt']['reward'])}, personalisation "
             f"{_pm(ref['segment-opt']['personalisation'], 1)} points; "
             f"uniform-opt {_pm(ref['uniform-opt']['reward'])}, "
             f"personalisation {_pm(ref['uniform-opt']['personalisation'], 1)} points.", "",
             "| sigma floor | bounds' width at the end | ddpg-cem E[return] | - segment-opt | - uniform-opt "
             "| - cem-uniform (p) | ddpg-cem personalisation (points) | cem-uniform personalisation "
             "| ddpg-cem lift % / GMV % |", "|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        d = r["ddpg-cem"]
        lines.append(f"| {r['floor']:g} | {_pm(r['width_end'])} | {_pm(d['reward'])} | {_pm(r['vs_segment_opt'])} "
                     f"| {_pm(r['vs_uniform_opt'])} | {_pm(r['vs_cem_uniform'])} ({r['vs_cem_uniform'][2]:.3g}) "
                     f"| {_pm(d['personalisation'], 1)} | {_pm(r['cem-uniform']['personalisation'], 1)} "
                     f"| {_pm(d['lift_pct'], 1)} / {_pm(d['gmv_change_pct'], 2)} |")
    open(os.path.join(out, "width.md"), "w").write("\n".join(lines) + "\n")
    fig, ax = new_figure(2, 1, width=5.0, height=3.6)
    x = [r["floor"] for r in res["rows"]]
    for k, c in (("ddpg-cem", "C0"), ("cem-uniform", "C1")):
        for a, f in ((ax[0][0], "reward"), (ax[0][1], "personalisation")):
            y = np.array([r[k][f] for r in res["rows"]])
            a.errorbar(x, y[:, 0], yerr=y[:, 1], marker="o", capsize=3, color=c, label=k)
    for a, f, unit in ((ax[0][0], "reward", "E[return of r] per session"),
                       (ax[0][1], "personalisation", "lift, liking - other segments (points)")):
        for fam, ls in (("segment-opt", "--"), ("uniform-opt", ":")):
            a.axhline(ref[fam][f][0], color="k", ls=ls, lw=1, label=f"{fam} (exact)")
        a.set_xscale("log")
        a.set_xlabel("CEM sigma floor (bounds' width >= 4 x floor)")
        a.set_ylabel(unit)
        a.legend(fontsize=7)
    ax[0][0].set_title("Return vs bound width (95 % CI, seeds)")
    ax[0][1].set_title("Personalisation vs bound width")
    save_figure(fig, os.path.join(out, "width.png"))


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``--out DIR``, ``--floors 0.02,0.05,...``, ``--seeds N``, ``--iterations N``
    (training iterations; default the main run's), ``--workers N``."""
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/tiered_traffic_width")
    ap.add_argument("--floors", default=",".join(f"{f:g}" for f in FLOORS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=TieredTrafficConfig.iterations)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args(argv)
    floors = [float(f) for f in a.floors.split(",")]
    if not floors or any(not (0 < f < 10) for f in floors):
        raise ValueError(f"--floors: expected comma-separated values in (0, 10), got {a.floors!r}")
    cfg = TieredTrafficConfig(seeds=a.seeds, iterations=a.iterations, workers=a.workers)
    res = run(cfg, floors)
    write(res, a.out, "python -m simcore.experiments.tiered_traffic.width " + " ".join(argv))


if __name__ == "__main__":
    main()
