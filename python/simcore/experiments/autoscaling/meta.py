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

The policies' forecast (in their training logs and when they run) is the seed's learned
workload forecaster (:func:`fit_forecaster`, trained on the training apps' traffic only)
when one is passed, else seasonal-naive; "meta-rl-naive" is the largest k's ANP with a
policy trained and run on the seasonal-naive forecast (same streams: the forecast
ablation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from simcore.domains.autoscaling.anp import ANP, ANPConfig, features, linear_per_zone
from simcore.domains.autoscaling.config import STEPS_PER_DAY
from simcore.domains.autoscaling.evaluate import Policy, run_episode
from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster
from simcore.domains.autoscaling.forecast_eval import simulate_traffic
from simcore.domains.autoscaling.mbrl import (
    Forecast,
    ForecasterStream,
    MBRLConfig,
    MetaScalingPolicy,
    ScalingPolicyNet,
    SeasonalNaive,
    ZoneLog,
    model_error,
    static_log,
    train_policy,
)
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import ZoneParams
from simcore.experiments.autoscaling.clock import PhaseClock
from simcore.report.stats import paired, t_ci
from simcore.util.seeds import SeedTree

__all__ = ["train_zone_index", "prepare", "meta_summary", "fit_forecaster", "forecast_factory", "Trained"]


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


def fit_forecaster(cfg: Any, zones: ZoneParams, tree: SeedTree) -> WorkloadForecaster:
    """The learned workload forecaster of one seed: fitted on ``forecast.days`` days of the
    traffic (stream "forecast_traffic") of the first ``forecast.zones_per_app`` zones of each
    training app (apps < max(meta.app_counts); held-out apps never reach it), seed stream
    "forecaster"."""
    F = cfg.forecast
    idx = train_zone_index(zones, max(cfg.meta.app_counts), F.zones_per_app)
    f = WorkloadForecaster(ForecasterConfig(steps=F.steps))
    tr = simulate_traffic(cfg.sim, zones.subset(idx), F.days * STEPS_PER_DAY + f.horizon, tree.seed("forecast_traffic"))
    f.fit(tr, seed=tree.seed("forecaster"))
    return f


def forecast_factory(forecaster: WorkloadForecaster | None, every: int,
                     cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> Callable[[], Forecast]:
    """New streaming forecasts: the learned one (refreshed every ``every`` steps, sharing
    ``cache``), or seasonal-naive when ``forecaster`` is None."""
    if forecaster is None:
        return SeasonalNaive
    return lambda: ForecasterStream(forecaster, every=every, cache=cache)


@dataclass
class Trained:
    """The largest app count's models of one seed: the policy ``net`` and its ANP, every
    zone's context log and ANP error (B,), the filter's fallback mask at the configured
    threshold, the factory of the forecast the policy reads on every zone (one cache per
    seed), and the policy trained on the seasonal-naive forecast (None unless asked)."""

    net: ScalingPolicyNet
    anp: ANP
    ctx: ZoneLog
    err: np.ndarray
    fallback: np.ndarray
    forecast: Callable[[], Forecast]
    naive_net: ScalingPolicyNet | None = None

    def policy(self, cfg: Any, threshold: float | None = None, naive: bool = False) -> MetaScalingPolicy:
        """The policy on every zone under simulator config ``cfg`` (filter at ``threshold``;
        None: the configured one); ``naive``: the seasonal-naive ablation."""
        fb = self.fallback if threshold is None else self.err > threshold
        if naive:
            assert self.naive_net is not None
            return MetaScalingPolicy(self.naive_net, self.anp, self.ctx, cfg, fb, forecast=SeasonalNaive())
        return MetaScalingPolicy(self.net, self.anp, self.ctx, cfg, fb, forecast=self.forecast())


def _fit_k(cfg: Any, zones: ZoneParams, tree: SeedTree, k: int, stream: Callable[[], Forecast],
           ck: PhaseClock) -> tuple[ANP, ANP, ZoneLog, ZoneParams, MBRLConfig, ScalingPolicyNet]:
    """The ANP, the global model, the log and the policy of the first k training apps."""
    M, c = cfg.meta, cfg.sim
    z_tr = zones.subset(train_zone_index(zones, k, M.zones_per_app))
    with ck.phase("logs"):
        log = static_log(c, z_tr, M.log_days * STEPS_PER_DAY, tree.seed("train_log", k), forecaster=stream)
    with ck.phase("anp-fit"):
        anp = ANP(_anp_config(M, tree.seed("anp", k)))
        anp.fit(log.features(), log.cpu)
        glob = ANP(_anp_config(M, tree.seed("anp", k), deterministic=False, latent_path=False))
        glob.fit(log.features(), log.cpu)
    mb = MBRLConfig(steps=M.policy_steps, batch=M.policy_batch, rollout=M.rollout,
                    error_threshold=M.error_threshold, seed=tree.seed("mbrl", k) % 2**31)
    with ck.phase("policy-train"):
        net, _ = train_policy(anp, log, z_tr, c, mb)
    return anp, glob, log, z_tr, mb, net


def prepare(cfg: Any, zones: ZoneParams, tree: SeedTree, sim_seed: int, probe: dict[str, np.ndarray],
            clock: PhaseClock | None = None, forecaster: WorkloadForecaster | None = None
            ) -> tuple[dict[str, Policy], dict[str, Any], Trained]:
    """Trains the ANPs, policies and PPO of one seed; returns the policies for every
    zone ("meta-rl", "meta-rl-naive" and "ppo" when requested), the seed's meta results
    (accuracy per k, sample-efficiency curve, filter counts, timings) and the largest
    count's models.  The policies read ``forecaster``'s forecast (None: seasonal-naive),
    in their training logs too.  ``clock`` collects the phases' wall and CPU seconds."""
    torch.set_num_threads(1)
    ck = clock if clock is not None else PhaseClock()
    M, c = cfg.meta, cfg.sim
    K, every = max(M.app_counts), cfg.forecast.every
    held = np.flatnonzero(zones.app >= K)
    z_held = zones.subset(held)
    with ck.phase("logs"):
        ctx_all = static_log(c, zones, STEPS_PER_DAY, tree.seed("context_log"))  # its forecast is not read
    ctx_held = ZoneLog(*(a[held] for a in (ctx_all.traffic, ctx_all.vms, ctx_all.cpu, ctx_all.forecast)))
    res: dict[str, Any] = {"accuracy": {}, "curve": {"meta-rl": {}, "ppo": {}}, "seconds": {}}
    for k in sorted(M.app_counts):
        t0 = time.perf_counter()
        anp, glob, log, z_tr, mb, net = _fit_k(cfg, zones, tree, k, forecast_factory(forecaster, every), ck)
        with ck.phase("anp-accuracy"):
            res["accuracy"][str(k)] = _accuracy(anp, glob, ctx_held, probe, held)
        with ck.phase("curve-eval/meta-rl"):
            pol = MetaScalingPolicy(net, anp, ctx_held, c, model_error(anp, ctx_held) > mb.error_threshold,
                                    forecast=forecast_factory(forecaster, every)())
            res["curve"]["meta-rl"][str(log.env_steps)] = _eval(c, z_held, sim_seed, pol)
        res["seconds"][f"k={k}"] = time.perf_counter() - t0
    with ck.phase("filter"):
        err = model_error(anp, ctx_all)
    trained = Trained(net, anp, ctx_all, err, err > M.error_threshold, forecast_factory(forecaster, every, {}))
    if "meta-rl-naive" in cfg.methods:
        trained.naive_net = net
        if forecaster is not None:
            with ck.phase("policy-train/naive"):
                log_n = static_log(c, z_tr, M.log_days * STEPS_PER_DAY, tree.seed("train_log", K))
                trained.naive_net, _ = train_policy(anp, log_n, z_tr, c, mb)
    res["filter"] = {"zones": int(zones.num_zones), "fallback": int(trained.fallback.sum()),
                     "fallback_heldout": int(trained.fallback[held].sum()), "heldout_zones": int(held.size),
                     "error_median": float(np.median(err)), "error_p90": float(np.quantile(err, 0.9))}
    res["budget"] = log.env_steps
    policies: dict[str, Policy] = {"meta-rl": trained.policy(c)}
    if trained.naive_net is not None:
        policies["meta-rl-naive"] = trained.policy(c, naive=True)
    if "ppo" in cfg.methods:
        policies["ppo"] = _ppo(cfg, zones, tree, sim_seed, z_held, log.env_steps, res, ck)
    return policies, res, trained


def _ppo(cfg: Any, zones: ZoneParams, tree: SeedTree, sim_seed: int, z_held: ZoneParams, budget: int,
         res: dict[str, Any], ck: PhaseClock) -> Policy:
    """SB3 PPO on the largest count's training zones, evaluated after each budget; the
    equal-budget policy (or the last one)."""
    from simcore.domains.autoscaling.ppo import PPOTrainer

    M, c, K = cfg.meta, cfg.sim, max(cfg.meta.app_counts)
    t0 = time.perf_counter()
    tr = PPOTrainer(c, zones.subset(train_zone_index(zones, K, M.zones_per_app)), tree.seed("ppo"),
                    horizon=M.log_days * STEPS_PER_DAY)
    out: Policy | None = None
    for mult in sorted(M.ppo_budgets):
        with ck.phase("ppo-train"):
            tr.learn(int(round(mult * budget)) - tr.steps)
        with ck.phase("curve-eval/ppo"):
            res["curve"]["ppo"][str(tr.steps)] = _eval(c, z_held, sim_seed, tr.policy())
        if mult == 1.0:
            out = tr.policy()
    res["seconds"]["ppo"] = time.perf_counter() - t0
    return out if out is not None else tr.policy()


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
