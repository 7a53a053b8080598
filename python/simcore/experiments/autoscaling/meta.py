"""The paper's method and the model-free baseline inside one seed of the autoscaling
experiment (issue 15; docs/autoscaling.md, "Protocol").

Per seed, with zone i of app i % n_apps:

* training apps = apps 0 .. max(app_counts) - 1, held-out apps = the rest; for each
  count k in ``app_counts`` the training zones are the first ``zones_per_app`` zones of
  each of apps 0 .. k - 1, logged for ``log_days`` days at their static allocation
  (stream "train_log"; env steps = zones x steps);
* per k: the ANP (and the global model without z) is fitted on that log; CPU
  accuracy is measured on the held-out apps' zones: context = each zone's one-day
  static log (stream "context_log"), targets = its CPU under target tracking (the
  probe run, other VM counts than the context saw), against the per-zone linear fit;
* per k: the policy pi(a | s, z) is trained through the ANP (:mod:`~.mbrl`) and
  evaluated on the held-out zones over the week (the sample-efficiency curve);
* PPO (SB3, :mod:`~.ppo`) on the largest k's training zones, evaluated after each
  budget in ``ppo_budgets`` x the largest model-based budget;
* the largest k's policy ("meta-rl", with the model-quality filter) and PPO at the
  equal budget ("ppo") join the methods evaluated on every zone.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from simcore.domains.autoscaling.anp import ANP, ANPConfig, features, linear_per_zone
from simcore.domains.autoscaling.config import STEPS_PER_DAY
from simcore.domains.autoscaling.evaluate import Policy, run_episode
from simcore.domains.autoscaling.mbrl import (
    MBRLConfig,
    MetaScalingPolicy,
    ZoneLog,
    model_error,
    static_log,
    train_policy,
)
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams
from simcore.report.stats import paired, t_ci
from simcore.util.seeds import SeedTree

__all__ = ["train_zone_index", "prepare", "meta_summary"]


def train_zone_index(zones: ZoneParams, n_apps: int, per_app: int) -> np.ndarray:
    """The first ``per_app`` zones of each of apps 0 .. n_apps - 1 (int64, sorted)."""
    idx = [np.flatnonzero(zones.app == a)[:per_app] for a in range(n_apps)]
    return np.sort(np.concatenate(idx)).astype(np.int64)


def _rmse(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean over zones of the per-zone RMSE."""
    return float(np.sqrt(np.mean((pred - y) ** 2, axis=1)).mean())


def _accuracy(anp: ANP, glob: ANP, ctx: ZoneLog, probe: dict[str, np.ndarray], held: np.ndarray) -> dict[str, float]:
    """CPU RMSE on held-out zones: context = static log, targets = the probe run's steps."""
    tr = np.transpose(probe["traffic_t"][:, held], (1, 0, 2))
    vm = probe["vms_t"][:, held].T.astype(np.float64)
    y = probe["cpu_t"][:, held].T
    xt = features(tr, vm)
    xc = ctx.features()
    mu, _ = anp.predict(xc, ctx.cpu, xt)
    mg, _ = glob.predict(xc, ctx.cpu, xt)
    lin = linear_per_zone(ctx.traffic / ctx.vms[..., None], ctx.cpu, tr / vm[..., None])
    return {"anp": _rmse(mu, y), "global": _rmse(mg, y), "linear": _rmse(lin, y)}


def _anp_config(M: Any, seed: int, **kw: Any) -> ANPConfig:
    """The ANP of the experiment: MetaConfig's steps, width and batch; contexts of 16-64
    points plus 32 targets; 4 heads, z of 16 dims."""
    return ANPConfig(steps=M.anp_steps, hidden=M.anp_hidden, batch_tasks=M.anp_batch_tasks, context_max=64,
                     extra_targets=32, seed=seed % 2**31, **kw)


def _eval(cfg: Any, zones: ZoneParams, seed: int, policy: Policy) -> dict[str, float]:
    m = run_episode(AutoscalingSimulator(cfg, zones=zones, seed=seed), policy)
    return {"reward": float(m["reward"].mean()), "stability": float(m["stability"].mean())}


def prepare(cfg: Any, zones: ZoneParams, tree: SeedTree, sim_seed: int,
            probe: dict[str, np.ndarray]) -> tuple[dict[str, Policy], dict[str, Any]]:
    """Trains the ANPs, policies and PPO of one seed; returns the policies for every
    zone ("meta-rl", and "ppo" when requested) and the seed's meta results (accuracy
    per k, sample-efficiency curve, filter counts, timings)."""
    torch.set_num_threads(1)
    M, c = cfg.meta, cfg.sim
    K = max(M.app_counts)
    held = np.flatnonzero(zones.app >= K)
    z_held = zones.subset(held)
    ctx_all = static_log(c, zones, STEPS_PER_DAY, tree.seed("context_log"))
    ctx_held = ZoneLog(*(a[held] for a in (ctx_all.traffic, ctx_all.vms, ctx_all.cpu, ctx_all.forecast)))
    res: dict[str, Any] = {"accuracy": {}, "curve": {"meta-rl": {}, "ppo": {}}, "seconds": {}}
    best: tuple[Any, ANP, ZoneLog] | None = None
    for k in sorted(M.app_counts):
        t0 = time.perf_counter()
        idx = train_zone_index(zones, k, M.zones_per_app)
        z_tr = zones.subset(idx)
        log = static_log(c, z_tr, M.log_days * STEPS_PER_DAY, tree.seed("train_log", k))
        anp = ANP(_anp_config(M, tree.seed("anp", k)))
        anp.fit(log.features(), log.cpu)
        glob = ANP(_anp_config(M, tree.seed("anp", k), deterministic=False, latent_path=False))
        glob.fit(log.features(), log.cpu)
        res["accuracy"][str(k)] = _accuracy(anp, glob, ctx_held, probe, held)
        mb = MBRLConfig(steps=M.policy_steps, batch=M.policy_batch, rollout=M.rollout,
                        error_threshold=M.error_threshold,
                        seed=tree.seed("mbrl", k) % 2**31)
        net, _ = train_policy(anp, log, z_tr, c, mb)
        pol = MetaScalingPolicy(net, anp, ctx_held, c, model_error(anp, ctx_held) > mb.error_threshold)
        res["curve"]["meta-rl"][str(log.env_steps)] = _eval(c, z_held, sim_seed, pol)
        res["seconds"][f"k={k}"] = time.perf_counter() - t0
        if k == K:
            best = (net, anp, log)
    assert best is not None
    net, anp, log = best
    budget = log.env_steps
    err = model_error(anp, ctx_all)
    fallback = err > M.error_threshold
    res["filter"] = {"zones": int(zones.num_zones), "fallback": int(fallback.sum()),
                     "fallback_heldout": int(fallback[held].sum()), "heldout_zones": int(held.size),
                     "error_median": float(np.median(err)), "error_p90": float(np.quantile(err, 0.9))}
    res["budget"] = budget
    policies: dict[str, Policy] = {"meta-rl": MetaScalingPolicy(net, anp, ctx_all, c, fallback)}
    if "ppo" in cfg.methods:
        from simcore.domains.autoscaling.ppo import PPOTrainer

        t0 = time.perf_counter()
        tr = PPOTrainer(c, zones.subset(train_zone_index(zones, K, M.zones_per_app)), tree.seed("ppo"),
                        horizon=M.log_days * STEPS_PER_DAY)
        for mult in sorted(M.ppo_budgets):
            tr.learn(int(round(mult * budget)) - tr.steps)
            res["curve"]["ppo"][str(tr.steps)] = _eval(c, z_held, sim_seed, tr.policy())
            if mult == 1.0:
                policies["ppo"] = tr.policy()
        policies.setdefault("ppo", tr.policy())
        res["seconds"]["ppo"] = time.perf_counter() - t0
    return policies, res


def _ci(v: list[float]) -> dict[str, float]:
    return dict(zip(("mean", "half"), t_ci(v)))


def meta_summary(per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """CIs over seeds: CPU RMSE per #apps and model, the paired differences ANP - global
    and ANP - linear per #apps, the curve (reward, stability per budget and method), the
    filter counts and timings."""
    acc: dict[str, Any] = {}
    for k in per_seed[0]["accuracy"]:
        rows = [r["accuracy"][k] for r in per_seed]
        acc[k] = {m: _ci([r[m] for r in rows]) for m in ("anp", "global", "linear")}
        for other in ("global", "linear"):
            d = paired([r["anp"] for r in rows], [r[other] for r in rows])
            acc[k][f"anp-{other}"] = {"mean": d["mean"], "half": d["half"]}
    curve: dict[str, Any] = {}
    for m in per_seed[0]["curve"]:
        curve[m] = {b: {q: _ci([r["curve"][m][b][q] for r in per_seed]) for q in ("reward", "stability")}
                    | {"per_seed": [r["curve"][m][b]["reward"] for r in per_seed]}
                    for b in per_seed[0]["curve"][m]}
    filt = {k: _ci([float(r["filter"][k]) for r in per_seed]) for k in per_seed[0]["filter"]}
    secs = {k: _ci([r["seconds"][k] for r in per_seed]) for k in per_seed[0]["seconds"]}
    return {"accuracy": acc, "curve": curve, "filter": filt, "seconds": secs, "budget": per_seed[0]["budget"]}
