"""The jobs of the lifecycle reproduction (module-level functions of plain arguments,
so that every runner backend gives the same results).

Per seed index s (streams under ``SeedTree(cfg.seed).child("seed", s)``):

* ``population``: the seed's customer population (every method of s sees it);
* ``eval``: the online evaluation's activity (common random numbers across methods);
* ``replay`` / ``replay-actions``: the held-out random log of the offline BPI;
* ``log`` / ``log-actions``: the random log the classification baselines and the
  greedy rule are fit on;
* ``agent``/key, ``train``/key, ``act``/key, ``eval-act``/key: a learner's
  initialisation, training episodes, training action samples, evaluation action samples;
  ``mtl``/label: a classifier's initialisation and minibatch order;
  ``calibrate``: the myopic optimum's price-calibration episode; ``random``: the random policy.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from simcore.algos.a3c import A3CConfig
from simcore.algos.mtl import MTLConfig, MTLPolicy
from simcore.domains.lifecycle.agents import make_a2c, make_a3c
from simcore.domains.lifecycle.baselines import (
    FixedAction,
    GreedyUplift,
    MyopicOptimum,
    RandomPolicy,
    action_counts,
    calibrate_price,
    do_nothing,
    log_random,
    logging_config,
)
from simcore.domains.lifecycle.config import LifecycleConfig
from simcore.domains.lifecycle.env import LifecycleVectorEnv
from simcore.domains.lifecycle.simulator import LifecycleSimulator
from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.evaluate import agent_policy, online, replay
from simcore.experiments.lifecycle.hooks import ExpectationsVectorEnv, LifecycleHooks
from simcore.train.loop import LoopConfig, train
from simcore.train.rollouts import RolloutCollector
from simcore.util.seeds import SeedTree

__all__ = ["seed_lifecycle", "run_learner", "run_rules", "run_mtl", "fit_classifier", "mtl_configs"]


def _tree(cfg: LifecycleExperimentConfig, s: int) -> SeedTree:
    return SeedTree(cfg.seed).child("seed", int(s))


def seed_lifecycle(cfg: LifecycleExperimentConfig, s: int) -> LifecycleConfig:
    """The simulator config of seed index s: its own population (seed from the tree)."""
    lc = cfg.lifecycle
    pop = dataclasses.replace(lc.population, seed=_tree(cfg, s).seed("population"))
    return dataclasses.replace(lc, population=pop, num_threads=1)


def _logs(cfg: LifecycleExperimentConfig, lc: LifecycleConfig, s: int, which: str) -> dict[str, np.ndarray]:
    """The fitting log ("log") or the held-out replay log ("replay") of seed s."""
    tree = _tree(cfg, s)
    users, episodes = (cfg.log_users, cfg.log_episodes) if which == "log" else (cfg.replay_users, 1)
    sim = LifecycleSimulator(logging_config(lc), num_users=users)
    return log_random(sim, episodes, tree.seed(which), tree.generator(which + "-actions"))


def _measure(cfg: LifecycleExperimentConfig, lc: LifecycleConfig, s: int, policy: Any,
             replay_log: dict[str, np.ndarray], obs_policy: bool = True) -> dict[str, Any]:
    """Online metrics (eval activity of seed s) and, for observation-only policies, the replay BPI."""
    sim = LifecycleSimulator(lc, num_users=cfg.eval_users)
    out: dict[str, Any] = {"online": online(sim, policy, _tree(cfg, s).seed("eval"))}
    if obs_policy:
        out["replay"] = replay(replay_log, policy(replay_log["obs"], sim))
    return out


def run_learner(cfg: LifecycleExperimentConfig, key: str, seed: int) -> dict[str, Any]:
    """Trains learner ``key`` on seed index ``seed`` and measures its greedy policy.

    Returns online and replay metrics of its stochastic policy (greedy with
    ``greedy_eval``), the learning curve (per iteration: the training activity's LTV
    per customer, spend, the budget price; every ``curve_every`` iterations the
    greedy policy's LTV on a fixed activity), the training wall time and the
    customer-days it consumed."""
    tree = _tree(cfg, seed)
    lc = seed_lifecycle(cfg, seed)
    a2c_cfg = dataclasses.replace(cfg.a2c, seed=tree.seed("agent", key) % 2**31, cost_limit=cfg.cost_limit)
    n_actions = LifecycleSimulator(lc, num_users=1).n_actions
    if key == "a3c":
        agent: Any = make_a3c(n_actions, A3CConfig(a2c=a2c_cfg, workers=cfg.a3c_workers, threads=cfg.a3c_threads),
                              cfg.context_encoder)
    else:
        agent = make_a2c(n_actions, a2c_cfg, cfg.context_encoder)
    env = (ExpectationsVectorEnv if cfg.a2c.all_actions else LifecycleVectorEnv)(cfg.train_users, lc)
    hooks = LifecycleHooks("conv" if key == "a2c-conv" else "ltv", expected=cfg.expected_reward,
                           price_on=cfg.price_on)
    col = RolloutCollector(env, cfg.k, hooks, steps=lc.horizon_days)
    loop = LoopConfig(iterations=cfg.iterations, seed=tree.seed("train", key), eval_every=cfg.curve_every,
                      eval_steps=lc.horizon_days, eval_seed=tree.seed("curve"))
    agent.rng = tree.generator("act", key)  # the agent's sampling stream, named
    t0 = time.perf_counter()
    hist = train(agent, col, loop)
    seconds = time.perf_counter() - t0
    if hasattr(agent, "close"):
        agent.close()
    curve = [{k: float(v) for k, v in h.items() if isinstance(v, (int, float))} for h in hist]
    agent.rng = tree.generator("eval-act", key)  # evaluation samples from their own stream
    out = _measure(cfg, lc, seed, agent_policy(agent, explore=not cfg.greedy_eval), _logs(cfg, lc, seed, "replay"))
    out.update(key=key, seed=seed, curve=curve, train_seconds=seconds,
               samples=cfg.iterations * lc.horizon_days * cfg.train_users, price=float(agent.price))
    return out


def run_rules(cfg: LifecycleExperimentConfig, seed: int) -> dict[str, Any]:
    """do-nothing, random, always-offer, greedy-uplift and the myopic optimum on seed s."""
    tree = _tree(cfg, seed)
    lc = seed_lifecycle(cfg, seed)
    rlog = _logs(cfg, lc, seed, "replay")
    fit_log = _logs(cfg, lc, seed, "log")
    n_actions = LifecycleSimulator(lc, num_users=1).n_actions
    greedy = GreedyUplift(fit_log, n_actions)
    cal = calibrate_price(LifecycleSimulator(lc, num_users=cfg.eval_users), tree.seed("calibrate"))
    methods: dict[str, Any] = {
        "do-nothing": _measure(cfg, lc, seed, do_nothing, rlog),
        "random": _measure(cfg, lc, seed, RandomPolicy(n_actions, tree.generator("random")), rlog),
        "always-offer": _measure(cfg, lc, seed, FixedAction(cfg.always_offer), rlog),
        "greedy-uplift": _measure(cfg, lc, seed, greedy, rlog),
        "myopic-opt": _measure(cfg, lc, seed, MyopicOptimum(cal["price"]), rlog, obs_policy=False),
    }
    return {"seed": seed, "methods": methods, "calibration": cal, "greedy_choice": greedy.choice.tolist(),
            "best_actions": best_action_shares(cfg, lc, seed)}


def best_action_shares(cfg: LifecycleExperimentConfig, lc: LifecycleConfig, s: int) -> dict[str, Any]:
    """How heterogeneous the truth is: on the first day of seed s's evaluation activity,
    per criterion (P(sign) = p_convert, P(click), E[reward]) the share of customers whose
    exact argmax_a (:mod:`simcore.domains.lifecycle.exact`, budget not applied) is each
    action (:func:`action_diversity`)."""
    sim = LifecycleSimulator(lc, num_users=cfg.eval_users)
    sim.seed(_tree(cfg, s).seed("eval"))
    sim.reset()
    e = sim.expectations_all()
    return {k: action_diversity(e[k].argmax(axis=1), sim.n_actions)
            for k in ("p_convert", "p_click", "expected_reward")}


def mtl_configs(cfg: LifecycleExperimentConfig) -> dict[str, MTLConfig]:
    """label -> classifier config (seed set per job): at most ``mtl_epochs`` passes,
    early stopping on ``mtl_val_fraction`` of the log's customers (patience ``mtl_patience``),
    learning rate ``mtl_lr``."""
    fit = dict(epochs=cfg.mtl_epochs, val_fraction=cfg.mtl_val_fraction, patience=cfg.mtl_patience, lr=cfg.mtl_lr)
    out = {"DNN": MTLConfig(kind="single", width=cfg.mtl_width, **fit)}  # type: ignore[arg-type]
    for w in cfg.cs_widths:
        c = MTLConfig(kind="cross-stitch", width=w, **fit)  # type: ignore[arg-type]
        out[c.label] = c
    for norm in cfg.tn_norms:
        c = MTLConfig(kind="trace-norm", norm=norm, width=cfg.mtl_width, norm_weight=cfg.tn_weight,
                      **fit)  # type: ignore[arg-type]
        out[c.label] = c
    return out


def action_diversity(actions: np.ndarray, n_actions: int) -> dict[str, Any]:
    """Of a policy's chosen actions int (n,): ``entropy`` (nats) of their distribution,
    ``top_share`` (the commonest action's share), ``distinct`` actions and ``shares`` (A,)."""
    c = np.bincount(np.asarray(actions, dtype=np.int64), minlength=n_actions) / max(len(actions), 1)
    nz = c[c > 0]
    return {"entropy": float(-(nz * np.log(nz)).sum()), "top_share": float(c.max()), "top_action": int(c.argmax()),
            "distinct": int((c > 0).sum()), "shares": c.tolist()}


def _fit_quality(cfg: LifecycleExperimentConfig, lc: LifecycleConfig, s: int, pol: MTLPolicy,
                 rlog: dict[str, np.ndarray]) -> dict[str, Any]:
    """Held-out quality of a fitted classifier: per task AUC / log loss of P(task | x, a)
    on the replay log (never fitted on); per tower the action diversity of its policy on
    the replay log's observations, and its agreement with the simulator's true
    argmax_a P(task | state, a) on the evaluation activity's first day (the truth is
    used only to measure, never to fit)."""
    n_actions = LifecycleSimulator(lc, num_users=1).n_actions
    labels = np.stack([rlog["converted"], rlog["clicked"]], axis=1)
    towers = len(pol.net.towers)
    out: dict[str, Any] = {**pol.evaluate(rlog["obs"], rlog["action"], labels[:, :towers]),
                           "best_epoch": int(pol.best_epoch), "epochs_run": len(pol.history)}
    sim = LifecycleSimulator(lc, num_users=cfg.eval_users)
    sim.seed(_tree(cfg, s).seed("eval"))
    obs0 = sim.reset()
    e = sim.expectations_all()
    probs = pol.predict(rlog["obs"])
    probs0 = pol.predict(obs0)
    for k, task in enumerate(("sign", "click")[:towers]):
        truth = e["p_convert" if task == "sign" else "p_click"].argmax(axis=1)
        out[task] = {"replay": action_diversity(probs[k].argmax(axis=1), n_actions),
                     "agree_truth": float(np.mean(probs0[k].argmax(axis=1) == truth)),
                     "truth": action_diversity(truth, n_actions)}
    return out


def fit_classifier(cfg: LifecycleExperimentConfig, label: str,
                   seed: int) -> tuple[MTLPolicy, dict[str, np.ndarray], list[float], float]:
    """Fits classifier ``label`` on seed s's random log (labels: converted = sign,
    clicked = click; validation split by customer, early stopping on it).  Returns the
    fitted policy (task 0, sign), the log, the per-pass training losses and the fit's
    wall seconds."""
    lc = seed_lifecycle(cfg, seed)
    mc = dataclasses.replace(mtl_configs(cfg)[label], seed=_tree(cfg, seed).seed("mtl", label) % 2**31)
    log = _logs(cfg, lc, seed, "log")
    n_actions = LifecycleSimulator(lc, num_users=1).n_actions
    pol = MTLPolicy(lc_obs_dim(log), n_actions, mc, task=0)
    groups = np.tile(np.arange(cfg.log_users), len(log["action"]) // cfg.log_users)  # rows: day-major x users
    t0 = time.perf_counter()
    losses = pol.fit(log["obs"], log["action"], np.stack([log["converted"], log["clicked"]], axis=1), groups=groups)
    return pol, log, losses, time.perf_counter() - t0


def run_mtl(cfg: LifecycleExperimentConfig, label: str, seed: int) -> dict[str, Any]:
    """Fits classifier ``label`` on seed s's random log (:func:`fit_classifier`) and
    measures its sign policy (and, for two-tower models, its click tower's max-CTR
    policy) and its held-out fit (:func:`_fit_quality`)."""
    lc = seed_lifecycle(cfg, seed)
    pol, log, losses, seconds = fit_classifier(cfg, label, seed)
    rlog = _logs(cfg, lc, seed, "replay")
    mc = pol.config
    out: dict[str, Any] = {"label": label, "seed": seed, "losses": losses, "val_losses": pol.val_history,
                           "fit_seconds": seconds, "fit": _fit_quality(cfg, lc, seed, pol, rlog),
                           "log_counts": action_counts(log, pol.n_actions),
                           "sign": _measure(cfg, lc, seed, agent_policy(pol), rlog)}
    if mc.kind != "single":
        pol.task = 1
        out["click"] = _measure(cfg, lc, seed, agent_policy(pol), rlog)
    return out


def lc_obs_dim(log: dict[str, np.ndarray]) -> int:
    """D of a log's observations."""
    return int(log["obs"].shape[1])
