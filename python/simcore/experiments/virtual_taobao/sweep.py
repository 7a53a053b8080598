"""Sensitivity of joint engine-user MAIL (issue 12) to its main parameters.

``python -m simcore.experiments.virtual_taobao.sweep --out DIR [--seeds 3] [--set F=V ...]
[--points a,b] [--quiet]``.

Per seed index s the log, the BC model (outcome bias calibrated: the experiment's
default user), the policy panel and its users are exactly those of
``simcore reproduce virtual-taobao`` with the same config (same SeedTree paths
``seed/<s>/...``), so the "default" point reproduces the run's joint-MAIL row.  Each
point of :data:`POINTS` changes one thing of joint MAIL (a :class:`JointMAILConfig`
field, or ``std_scale``: the engine's start std = the logged actions' MLE std times it)
and trains joint MAIL from the same start with the same seed; every point is measured
on the same panel as BC: the mean relative value error over the panel (and its paired
difference from BC), the Spearman of policy values, the logging ranking's conversion
ratio, the engine's distances from the logging policy, and, under a state-dependent
logging policy, the relative error of the logging policy's own value.  No point is
chosen: the table shows how the comparison with BC moves.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

import numpy as np

from simcore.domains.search.logs import record
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.world import make_world
from simcore.experiments.virtual_taobao.config import VirtualTaobaoConfig
from simcore.experiments.virtual_taobao.evaluate import paths, summaries
from simcore.experiments.virtual_taobao.logging_policy import make_policy, mean_weights
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.config import to_dict

__all__ = ["POINTS", "sweep_seed", "run_sweep", "analyse_sweep", "write_sweep", "main"]

# (name, JointMAILConfig overrides, engine start-std scale); defaults: disc_steps 10,
# disc_lr 1e-2, ppo_epochs 2, lr 1e-3, engine_lr 3e-2, engine_state_lr 1e-3, scale 1
POINTS: tuple[tuple[str, dict[str, Any], float], ...] = (
    ("default", {}, 1.0),
    ("disc_steps=2", {"disc_steps": 2}, 1.0),
    ("disc_steps=30", {"disc_steps": 30}, 1.0),
    ("disc_lr=1e-3", {"disc_lr": 1e-3}, 1.0),
    ("ppo_epochs=1", {"ppo_epochs": 1}, 1.0),
    ("ppo_epochs=6", {"ppo_epochs": 6}, 1.0),
    ("lr=3e-4", {"lr": 3e-4}, 1.0),
    ("engine std x3", {}, 3.0),
    ("engine_state_lr=1e-2", {"engine_state_lr": 1e-2}, 1.0),
)


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def _panel(cfg: VirtualTaobaoConfig, world: Any, tree: SeedTree, W: np.ndarray) -> tuple[Any, Any]:
    """The truth's summaries on the run's panel users and a function model -> learned summaries."""
    from simcore.domains.virtual_taobao.sim import LearnedSimulator

    sc, n = cfg.session, cfg.panel
    true_sim = SearchSimulator(sc, n, tree.seed("panel"), world=world)
    true_sim.reset()
    full = true_sim.users()
    obs = {k: full[k] for k in ("query", "segment", "power")}
    truth: dict[str, Any] = dict(summaries(paths(lambda B: SearchSimulator(sc, B, 0, world=world), full, W, n)))
    WL = mean_weights(cfg, obs["segment"], W.shape[1], len(world.segment_probs))[None]
    truth["logging"] = float(summaries(paths(lambda B: SearchSimulator(sc, B, 0, world=world), full, WL, n))
                             ["value_h"][0, -1])

    def learned(model: Any) -> dict[str, Any]:
        s: dict[str, Any] = dict(summaries(paths(lambda B: LearnedSimulator(model, sc, B, world=world), obs, W, n)))
        s["logging"] = float(summaries(paths(lambda B: LearnedSimulator(model, sc, B, world=world), obs, WL, n))
                             ["value_h"][0, -1])
        return s
    return truth, learned


def _metrics(truth: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    from scipy.stats import spearmanr

    vt, vl = truth["value_h"][:, -1], s["value_h"][:, -1]
    return {"rel_err": float(_rel(vl, vt).mean()), "spearman": float(spearmanr(vt, vl)[0]),
            "conv_ratio": float(s["pmf"][0].sum() / truth["pmf"][0].sum()),
            "logging_rel_err": float(abs(s["logging"] - truth["logging"]) / truth["logging"])}


def sweep_seed(cfg: VirtualTaobaoConfig, seed: int, points: tuple[str, ...]) -> dict[str, Any]:
    """One seed: the run's log, calibrated BC and panel; joint MAIL at every point."""
    import torch

    from simcore.domains.virtual_taobao.bc import BCConfig, train_bc
    from simcore.domains.virtual_taobao.data import load_pages
    from simcore.domains.virtual_taobao.model import BehaviourConfig
    from simcore.experiments.virtual_taobao.run import _calibration, _joint_mail, policy_panel

    torch.set_num_threads(1)
    tree = SeedTree(cfg.seed).child("seed", seed)
    sc = cfg.session
    world = make_world(sc.world)
    m, G = world.features.shape[2], len(world.segment_probs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "log.parquet")
        record(path, make_policy(cfg, m, G, sc.user.window, tree.seed("logging")), sessions=cfg.sessions,
               config=sc, seed=tree.seed("log"), world=world)
        pages = load_pages(path, window=sc.user.window)
    mc = BehaviourConfig(page_size=sc.page_size, num_features=m, window=sc.user.window, segments=G,
                         hidden=cfg.bc_hidden)
    bc = train_bc(pages, BCConfig(model=mc, epochs=cfg.bc_epochs, lr=cfg.bc_lr, batch_size=cfg.bc_batch,
                                  patience=cfg.bc_patience, seed=tree.seed("bc")))
    model, _ = _calibration(cfg, pages, bc.model, tree)
    _, W = policy_panel(cfg, m, tree.generator("panel-directions"))
    truth, learned = _panel(cfg, world, tree, W)
    out: dict[str, Any] = {"seed": seed, "bc": _metrics(truth, learned(model)), "points": {}}
    by_name = {p[0]: p for p in POINTS}
    for name in points:
        _, over, scale = by_name[name]
        t0 = time.perf_counter()
        joint, engine, rewards = _joint_mail(cfg, pages, model, world, tree, overrides=over, std_scale=scale)
        out["points"][name] = {**_metrics(truth, learned(joint)), "engine": engine, "reward_last": rewards[-1],
                               "seconds": time.perf_counter() - t0}
    return out


POINT_NAMES: tuple[str, ...] = tuple(name for name, _, _ in POINTS)


def run_sweep(cfg: VirtualTaobaoConfig, points: tuple[str, ...] = POINT_NAMES,
              progress: bool = True) -> dict[str, Any]:
    """Every seed's :func:`sweep_seed` (inline) and :func:`analyse_sweep`."""
    unknown = [p for p in points if p not in {q[0] for q in POINTS}]
    if unknown or not points:
        raise ValueError(f"points: unknown or empty {unknown or points!r}; known: {[p[0] for p in POINTS]}")
    t0 = time.perf_counter()
    js = [Job(key=f"seed/{s}", fn=sweep_seed, kwargs=dict(cfg=cfg, seed=s, points=tuple(points)),
              seed_path=("seed", s)) for s in range(cfg.seeds)]
    runs = run_jobs(js, backend="inline", workers=1, progress=progress, desc="joint-mail sweep", unit="seed")
    meta = {"wall_seconds": time.perf_counter() - t0, "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")}
    return {"config": to_dict(cfg), "points": list(points), "meta": meta, "runs": runs,
            "analysis": analyse_sweep(runs, tuple(points))}


def analyse_sweep(runs: list[dict[str, Any]], points: tuple[str, ...]) -> dict[str, Any]:
    """Per point: means and 95 % half-widths over seeds; joint minus BC paired."""
    from simcore.report.stats import paired, t_ci

    def ci(x: Any) -> list[float]:
        return list(t_ci(np.asarray(x, np.float64)))

    A: dict[str, Any] = {"seeds": len(runs), "bc": {k: ci([r["bc"][k] for r in runs]) for k in runs[0]["bc"]}}
    for p in points:
        rs = [r["points"][p] for r in runs]
        A[p] = {k: ci([x[k] for x in rs]) for k in ("rel_err", "spearman", "conv_ratio", "logging_rel_err",
                                                    "reward_last", "seconds")}
        for k in ("distance", "row_distance", "std"):
            A[p][f"engine_{k}"] = ci([x["engine"][k] for x in rs])
        for k in ("rel_err", "spearman", "logging_rel_err"):
            A[p][f"{k}_minus_bc"] = paired([x[k] for x in rs], [r["bc"][k] for r in runs])
    return A


def write_sweep(res: dict[str, Any], out_dir: str, command: str) -> list[str]:
    """report.md (the table) and results.json into ``out_dir``."""
    from simcore.report import markdown_table, plus_minus, write_json

    os.makedirs(out_dir, exist_ok=True)
    A = res["analysis"]

    def pm(v: Any) -> str:
        return plus_minus(float(v[0]), float(v[1]), digits=3)

    def pp(d: dict[str, float]) -> str:
        return plus_minus(d["mean"], d["half"], digits=3)

    b = A["bc"]
    rows = [["BC (calibrated; the start)", pm(b["rel_err"]), "", pm(b["spearman"]), pm(b["conv_ratio"]),
             pm(b["logging_rel_err"]), "", "", "", ""]]
    for p in res["points"]:
        a = A[p]
        rows.append([p, pm(a["rel_err"]), pp(a["rel_err_minus_bc"]), pm(a["spearman"]), pm(a["conv_ratio"]),
                     pm(a["logging_rel_err"]), pp(a["logging_rel_err_minus_bc"]), pm(a["engine_row_distance"]),
                     pm(a["engine_std"]), f"{a['seconds'][0]:.0f}"])
    table = markdown_table(["joint MAIL point", "mean rel. value error", "minus BC (paired)", "Spearman",
                            "conversion ratio (LTR)", "logging policy's value: rel. error", "minus BC (paired)",
                            "engine per-state distance", "engine std", "s per seed"], rows)
    c, meta = res["config"], res["meta"]
    md = (f"# Joint MAIL sensitivity (issue 12)\n\nCommand: `{command}`; {A['seeds']} seeds, logging policy "
          f"{c['logging']} (std {c['logging_std']}), wall {meta['wall_seconds']:.0f} s, load average "
          f"{meta['load_average']:.1f}.  One change per row from the defaults (disc_steps 10, disc_lr 1e-2, "
          f"ppo_epochs 2, lr 1e-3, engine_lr 3e-2, engine_state_lr 1e-3, engine start std = the logged "
          f"actions' MLE std); 95 % CIs over seeds; paired differences against BC on the same seeds.\n\n{table}\n")
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(md)
    write_json(os.path.join(out_dir, "results.json"), {**res, "command": command})
    return ["report.md", "results.json"]


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring)."""
    from simcore.util.config import set_path

    ap = argparse.ArgumentParser(prog="python -m simcore.experiments.virtual_taobao.sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--points", default=",".join(p[0] for p in POINTS))
    ap.add_argument("--smoke", action="store_true", help="the experiment's smoke config (tests)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    from simcore.experiments.virtual_taobao.config import smoke_config

    cfg = smoke_config() if args.smoke else VirtualTaobaoConfig()
    cfg = replace(cfg, seeds=args.seeds)
    for item in args.set:
        if "=" not in item:
            ap.error(f"--set: expected FIELD=VALUE, got {item!r}")
        cfg = set_path(cfg, *item.split("=", 1))
    res = run_sweep(cfg, tuple(args.points.split(",")), progress=not args.quiet)
    files = write_sweep(res, args.out, "python -m simcore.experiments.virtual_taobao.sweep " + " ".join(
        argv if argv is not None else sys.argv[1:]))
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
