"""Ranking control: DPG (+ reward shaping), DDPG with LTR gradient fusion, DPG-FBE vs LTR baselines.

Reproduces the ranking article's sections 问题建模 / 算法设计 / 奖赏塑形 / 实验效果 /
DDPG与梯度融合 (and DPG-FBE of Hu et al., KDD 2018) on the continuous-action SSMDP
whose action is the ranking weight vector.  Every agent trains with the one loop
(:mod:`simcore.train.loop`) on the batched vector env, for several seeds; the report
gives learning curves (greedy-policy GMV and CTR per session), RNEU curves, weight
trajectories, a table of final GMV / CTR with 95% CIs, and a non-stationary run in
which user behaviour shifts mid-run (the article's "midnight jump").

``simcore reproduce ranking --out DIR`` (defaults: ~2-4 minutes on 2 cores);
``--long`` is the longer documented setting (see docs/ranking.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from simcore.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.experiments.report import markdown_table, new_figure, save_figure, write_json
from simcore.experiments.report import mean_ci as _normal_ci
from simcore.train.progress import Progress

#: learning agents
RL_AGENTS = ("dpg", "dpg-compat", "dpg-shaped", "ddpg", "ddpg-ltr", "dpg-fbe", "dpg-fbe-fitted")
#: baselines
BASELINES = ("ltr-default", "ltr-click", "ltr-gmv", "cem", "static-opt", "random")
ALL_AGENTS = RL_AGENTS + BASELINES
#: baselines that do not learn online: evaluated once, drawn flat in the learning curves
STATIC = ("ltr-default", "ltr-click", "ltr-gmv", "static-opt", "random")
#: named static weight vectors of simcore.world.default_action_set, evaluated as extra rows
NAMED = ("ltr", "premium", "popular", "quality", "bargain")

LABELS = {
    "dpg": "DPG (article)",
    "dpg-compat": "DPG, COPDAC-Q critic features",
    "dpg-shaped": "DPG + reward shaping",
    "ddpg": "DDPG (lambda=0)",
    "ddpg-ltr": "DDPG + LTR gradient",
    "dpg-fbe": "DPG-FBE (exact b,c,m)",
    "dpg-fbe-fitted": "DPG-FBE (fitted b,c,m)",
    "ltr-default": "fixed LTR default",
    "ltr-click": "LTR fit (clicks)",
    "ltr-gmv": "LTR fit (purchases x price)",
    "cem": "CEM static weights",
    "random": "random weights",
    "static-opt": "best static (CEM, exact GMV)",
}


@dataclass(frozen=True)
class RankingConfig:
    """Settings of the ranking experiment (defaults: the <= 5 minute run).

    Attributes:
        seeds: independent training seeds (CIs are over seeds).
        agents: agents to train (subset of :data:`ALL_AGENTS`).
        num_envs: B, sessions stepped together.
        iterations: training iterations per run (env re-seeded each iteration).
        steps_per_iteration: batched steps per iteration.
        eval_every: greedy evaluation every this many iterations (learning curves).
        eval_steps: batched steps per learning-curve evaluation.
        final_eval_steps: batched steps of the final evaluation (fresh seed per run).
        log_steps: batched steps of the logging policy (LTR default + noise) whose
            sessions fit the LTR baselines and the fitted outcome model.
        log_noise: std of the logging policy's Gaussian weight noise.
        world: the catalogue (default: N=1000, m=8, 64 queries).
        reward: env reward for the learners ("clicks": the article's rule).
        dpg: overrides of :class:`simcore.agents.dpg.DPGConfig` for the DPG agents
            ("dpg-compat" also sets ``compatible_features=True``).
        shaping_weight: beta of the reward-shaping potential ("dpg-shaped").
        shaping_mode: "article" (r + beta Phi) or "centred" (see agents.dpg).
        ddpg: overrides of :class:`simcore.agents.ddpg.DDPGConfig` (DDPG and FBE).
        ltr_weight: lambda of "ddpg-ltr".
        fbe_reward: expected reward DPG-FBE backs up ("gmv" as Hu et al., or "clicks").
        cem: overrides of :class:`simcore.agents.cem.CEMConfig`.
        nonstationary_agents: agents also run with a mid-run user-behaviour shift.
        ns_iterations: iterations of the non-stationary run (shift at half-way).
        shift_user: user-model overrides after the shift.
        shift_segment_probs: segment mix after the shift (None: unchanged).
        early_frac: fraction of the run defining "early" learning (shaping and LTR-term
            comparisons use the mean greedy GMV over the evaluations in it).
        workers: processes (1: run inline).  Results do not depend on it.
        seed: base seed.
    """

    seeds: int = 3
    agents: tuple[str, ...] = (
        "dpg", "dpg-compat", "dpg-shaped", "ddpg", "ddpg-ltr", "dpg-fbe",
        "ltr-default", "ltr-click", "ltr-gmv", "cem", "static-opt", "random",
    )
    num_envs: int = 256
    iterations: int = 40
    steps_per_iteration: int = 25
    eval_every: int = 4
    eval_steps: int = 20
    final_eval_steps: int = 120
    log_steps: int = 100
    log_noise: float = 0.3
    world: WorldConfig = field(default_factory=WorldConfig)
    reward: str = "clicks"
    dpg: dict[str, Any] = field(default_factory=dict)
    shaping_weight: float = 1.0
    shaping_mode: str = "article"
    ddpg: dict[str, Any] = field(default_factory=dict)
    ltr_weight: float = 0.1
    fbe_reward: str = "gmv"
    cem: dict[str, Any] = field(default_factory=dict)
    nonstationary_agents: tuple[str, ...] = ("dpg",)
    ns_iterations: int = 60
    shift_user: dict[str, Any] = field(
        default_factory=lambda: {"buy_bias": -4.5, "price_fit": 1.0, "anchor": 0.0}
    )
    shift_segment_probs: tuple[float, ...] | None = (0.1, 0.1, 0.1, 0.7)
    early_frac: float = 0.25
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.agents) - set(ALL_AGENTS)
        if unknown:
            raise ValueError(f"agents: unknown {sorted(unknown)}; known: {list(ALL_AGENTS)}")
        unknown = set(self.nonstationary_agents) - set(ALL_AGENTS)
        if unknown:
            raise ValueError(f"nonstationary_agents: unknown {sorted(unknown)}")
        for name in ("seeds", "num_envs", "iterations", "steps_per_iteration", "eval_every",
                     "eval_steps", "final_eval_steps", "log_steps", "ns_iterations", "workers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if self.reward not in ("gmv", "clicks"):
            raise ValueError(f"reward: must be 'gmv' or 'clicks', got {self.reward!r}")
        if self.ns_iterations < 2:
            raise ValueError(f"ns_iterations: needs >= 2 (the shift is at half-way), got {self.ns_iterations}")
        if not 0 < self.early_frac <= 1:
            raise ValueError(f"early_frac: must lie in (0, 1], got {self.early_frac!r}")

    def session_config(self, shifted: bool = False) -> SessionConfig:
        world, user = self.world, UserModelConfig()
        if shifted:
            user = dataclasses.replace(user, **self.shift_user)
            if self.shift_segment_probs is not None:
                world = dataclasses.replace(world, segment_probs=tuple(self.shift_segment_probs))
        return SessionConfig(world=world, user=user, reward=self.reward, num_threads=1)


#: the longer documented setting (``--long``)
LONG = dict(seeds=5, iterations=120, steps_per_iteration=25, ns_iterations=120,
            final_eval_steps=240, agents=ALL_AGENTS, nonstationary_agents=("dpg", "dpg-fbe"))


# ------------------------------------------------------------------------------ jobs


def _make_env(cfg: RankingConfig, shifted: bool = False) -> Any:
    import gymnasium as gym

    import simcore  # noqa: F401  (registers the env ids)

    return gym.make_vec("simcore/SearchSession-v0", num_envs=cfg.num_envs, config=cfg.session_config(shifted))


class _NoisyFixed:
    """The logging policy: fixed weights plus Gaussian noise (its own Generator)."""

    name = "logging"

    def __init__(self, weights: np.ndarray, std: float, seed: int) -> None:
        self.w = np.asarray(weights, dtype=np.float64)
        self.std = std
        self.rng = np.random.default_rng([seed, 7])

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        a = self.w + self.std * self.rng.standard_normal((obs.shape[0], self.w.size))
        return np.clip(a, -1, 1).astype(np.float32)


def _logs(cfg: RankingConfig, env: Any, seed: int) -> Any:
    from simcore.train.loop import collect
    from simcore.world import default_action_set

    policy = _NoisyFixed(default_action_set(env.sim.num_features)[0], cfg.log_noise, seed)
    logs, _ = collect(policy, env, cfg.log_steps, seed=700_000 + seed)
    return logs


def build_agent(key: str, cfg: RankingConfig, env: Any, seed: int) -> Any:
    """A fresh agent ``key`` for ``env`` (fitting LTR / outcome models on logs first)."""
    from simcore.agents.cem import CEMConfig, CEMWeights
    from simcore.agents.ddpg import DDPG, DDPGConfig
    from simcore.agents.dpg import DPGConfig, LinearDPG
    from simcore.agents.fbe import DPGFBE
    from simcore.agents.fixed import FixedWeights
    from simcore.agents.ltr import FittedLTR
    from simcore.agents.outcome_model import OutcomeModel
    from simcore.agents.random_weights import RandomWeights
    from simcore.world import default_action_set

    D, m = env.sim.obs_dim, env.sim.num_features
    if key in ("dpg", "dpg-compat", "dpg-shaped"):
        kw = {**cfg.dpg, "seed": seed}
        if key == "dpg-compat":
            kw["compatible_features"] = True
        if key == "dpg-shaped":
            kw.update(shaping=cfg.shaping_mode, shaping_weight=cfg.shaping_weight)
        agent = LinearDPG(D, m, DPGConfig(**kw))
    elif key in ("ddpg", "ddpg-ltr"):
        lam = cfg.ltr_weight if key == "ddpg-ltr" else 0.0
        agent = DDPG(D, m, DDPGConfig(**{**cfg.ddpg, "seed": seed, "ltr_weight": lam}))
    elif key in ("dpg-fbe", "dpg-fbe-fitted"):
        model = OutcomeModel().fit(_logs(cfg, env, seed)) if key == "dpg-fbe-fitted" else None
        agent = DPGFBE(D, m, DDPGConfig(**{**cfg.ddpg, "seed": seed}), reward=cfg.fbe_reward,
                       outcome_model=model)
    elif key == "ltr-default":
        agent = FixedWeights(default_action_set(m)[0], name="ltr-default")
    elif key == "ltr-click":
        agent = FittedLTR(m, label="click_or_purchase").fit(_logs(cfg, env, seed))
    elif key == "ltr-gmv":
        agent = FittedLTR(m, label="purchase", purchase_weight="price").fit(_logs(cfg, env, seed))
    elif key == "cem":
        agent = CEMWeights(m, CEMConfig(**{**cfg.cem, "seed": seed}))
    elif key == "random":
        agent = RandomWeights(m, seed=seed)
    elif key == "static-opt":
        agent = FixedWeights(optimise_static(cfg, env, seed)["weights"], name=key)
    else:
        raise ValueError(f"agent: unknown {key!r}")
    agent.name = key
    return agent


def exact_static_gmv(sim: Any, weights: np.ndarray, users: dict[str, np.ndarray]) -> np.ndarray:
    """Exact expected GMV per session of static weight vectors on a panel of users.

    Uses the simulator's expectation mode (``sample=False``): a static policy's expected
    GMV is sum_t (prod_{j<t} c_j) b_t m_t along its page path (clicks do not matter,
    the policy ignores them).  ``sim`` must hold n_candidates x P sessions.

    Args:
        sim: a :class:`simcore.core.SearchSimulator` with ``len(weights) * P`` sessions.
        weights: float (n_candidates, m).  users: the panel (P users, see ``users()``).

    Returns:
        float64 (n_candidates,) mean expected GMV per session over the panel.
    """
    n = weights.shape[0]
    P = len(users["query"])
    tiled = {k: np.concatenate([np.asarray(v)] * n) for k, v in users.items()}
    sim.reset_to(tiled)
    W = np.repeat(np.asarray(weights, dtype=np.float32), P, axis=0)
    total = np.zeros(n * P)
    cont = np.ones(n * P)
    for _ in range(sim.horizon):
        r = sim.step(W, sample=False)
        total += cont * r.b * r.m
        cont *= r.c
    return total.reshape(n, P).mean(axis=1)


def optimise_static(cfg: RankingConfig, env: Any, seed: int, panel: int = 128, n_candidates: int = 24,
                    iterations: int = 12) -> dict[str, Any]:
    """The best static weights we can find: CEM on the *exact* expected GMV of a panel of
    ``panel`` users (simulator expectation mode), not limited by the online budget.

    Returns ``{"weights": float (m,), "exact_gmv": float, "history": [best per iteration]}``.
    """
    from simcore.core import SearchSimulator

    m = env.sim.num_features
    rng = np.random.default_rng([seed, 11])
    sim = SearchSimulator(env.sim.config, num_sessions=n_candidates * panel, world=env.sim.world)
    draw = SearchSimulator(env.sim.config, num_sessions=panel, seed=900_000 + seed, world=env.sim.world)
    draw.reset()
    users = draw.users()
    mean, std = np.zeros(m), np.full(m, 0.6)
    best_w, best_v, hist = mean.copy(), -np.inf, []
    n_elite = max(2, n_candidates // 4)
    for _ in range(iterations):
        C = np.clip(mean + std * rng.standard_normal((n_candidates, m)), -1, 1)
        C[0] = np.clip(mean, -1, 1)
        v = exact_static_gmv(sim, C, users)
        order = np.argsort(-v, kind="stable")
        if v[order[0]] > best_v:
            best_v, best_w = float(v[order[0]]), C[order[0]].copy()
        elite = C[order[:n_elite]]
        mean = 0.2 * mean + 0.8 * elite.mean(axis=0)
        std = np.maximum(0.2 * std + 0.8 * elite.std(axis=0), 0.02)
        hist.append(best_v)
    return {"weights": best_w, "exact_gmv": best_v, "history": hist}


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One (agent, seed, kind) run; executed in a worker process."""
    import torch

    from simcore.train.loop import LoopConfig, evaluate, run_iteration, train
    from simcore.world import default_action_set

    torch.set_num_threads(1)
    cfg: RankingConfig = job["cfg"]
    key, seed, kind = job["agent"], job["seed"], job["kind"]
    t0 = time.perf_counter()
    env = _make_env(cfg)
    run_seed = cfg.seed * 1000 + seed
    if kind == "named":
        out = {}
        for name, w in zip(NAMED, default_action_set(env.sim.num_features)):
            from simcore.agents.fixed import FixedWeights

            out[name] = evaluate(FixedWeights(w, name=name), env, cfg.final_eval_steps, 1_000_000 + run_seed)
        return {"kind": kind, "seed": seed, "final": out, "seconds": time.perf_counter() - t0}
    agent = build_agent(key, cfg, env, run_seed)
    if kind == "train" and key in STATIC:
        # no learning: one online iteration and one greedy evaluation, drawn flat
        online = run_iteration(agent, env, 10_000 * (run_seed + 1), cfg.steps_per_iteration,
                               explore=True, learn=False)
        ev = evaluate(agent, env, cfg.eval_steps, 2_000_000 + run_seed)
        history = []
        for it in range(cfg.iterations):
            rec = {"iteration": it, **online}
            if (it + 1) % cfg.eval_every == 0 or it + 1 == cfg.iterations:
                rec.update({"eval_" + k: ev[k] for k in ("gmv_per_session", "ctr", "clicks_per_session",
                                                          "conversion", "sessions", "mean_action")})
            history.append(rec)
        final = evaluate(agent, env, cfg.final_eval_steps, 1_000_000 + run_seed)
    elif kind == "train":
        loop = LoopConfig(iterations=cfg.iterations, steps_per_iteration=cfg.steps_per_iteration,
                          seed=10_000 * (run_seed + 1), eval_every=cfg.eval_every,
                          eval_steps=cfg.eval_steps, eval_seed=2_000_000 + run_seed)
        history = train(agent, env, loop)
        final = evaluate(agent, env, cfg.final_eval_steps, 1_000_000 + run_seed)
    else:  # non-stationary
        shifted = _make_env(cfg, shifted=True)
        switch = cfg.ns_iterations // 2
        loop = LoopConfig(iterations=cfg.ns_iterations, steps_per_iteration=cfg.steps_per_iteration,
                          seed=10_000 * (run_seed + 1), eval_every=cfg.eval_every,
                          eval_steps=cfg.eval_steps, eval_seed=2_000_000 + run_seed)
        history = train(agent, lambda it: env if it < switch else shifted, loop)
        final = evaluate(agent, shifted, cfg.final_eval_steps, 1_000_000 + run_seed)
    return {"kind": kind, "agent": key, "seed": seed, "history": history, "final": final,
            "seconds": time.perf_counter() - t0}


def _work(cfg: RankingConfig, job: dict[str, Any]) -> int:
    """Page requests a job simulates (for the progress bar)."""
    B = cfg.num_envs
    if job["kind"] == "named":
        return len(NAMED) * cfg.final_eval_steps * B
    its = cfg.ns_iterations if job["kind"] == "nonstationary" else cfg.iterations
    if job["kind"] == "train" and job["agent"] in STATIC:
        its = 1
    return (its * cfg.steps_per_iteration + cfg.final_eval_steps) * B


def _jobs(cfg: RankingConfig) -> list[dict[str, Any]]:
    jobs = []
    # the slow (network) runs first, so that the pool ends evenly
    order = sorted(cfg.agents, key=lambda k: (k not in ("ddpg", "ddpg-ltr", "dpg-fbe", "dpg-fbe-fitted"), k))
    for key in order:
        for s in range(cfg.seeds):
            jobs.append({"cfg": cfg, "agent": key, "seed": s, "kind": "train"})
    for key in cfg.nonstationary_agents:
        for s in range(cfg.seeds):
            jobs.append({"cfg": cfg, "agent": key, "seed": s, "kind": "nonstationary"})
    for s in range(cfg.seeds):
        jobs.append({"cfg": cfg, "agent": "named", "seed": s, "kind": "named"})
    return jobs


# ------------------------------------------------------------------------------ analysis

#: two-sided 95% Student-t quantiles by degrees of freedom (few seeds: the normal
#: approximation would understate the interval, by a factor 2.2 at 3 seeds)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def mean_ci(x: Any) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t confidence interval over seeds."""
    a = np.asarray(x, dtype=float).ravel()
    df = a.size - 1
    t = _T975[max(k for k in _T975 if k <= df)] if df >= 1 else 1.959963984540054
    t = t if df <= 30 else 1.959963984540054
    return _normal_ci(a, z=t)


def _curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, mean, CI half-width) of ``key`` over seeds, where present."""
    its = [r["iteration"] for r in histories[0] if key in r]
    vals = np.array([[r[key] for r in h if key in r] for h in histories], dtype=float)
    with warnings.catch_warnings():  # an all-NaN column (no session ended) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
    ci = np.array([mean_ci(vals[:, j][np.isfinite(vals[:, j])])[1] for j in range(vals.shape[1])])
    return np.asarray(its), mean, ci


def _paired(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Mean of a - b over seeds with its 95% CI, and the relative difference."""
    d = np.asarray(a, float) - np.asarray(b, float)
    m, ci = mean_ci(d)
    base = float(np.mean(b))
    return {"diff": m, "ci": ci, "rel": m / base if base else float("nan"),
            "rel_ci": ci / abs(base) if base else float("nan")}


def _early(history: list[dict[str, Any]], frac: float) -> float:
    evals = [r["eval_gmv_per_session"] for r in history if "eval_gmv_per_session" in r]
    k = max(1, int(round(frac * len(evals))))
    first = np.asarray(evals[:k], dtype=float)
    first = first[np.isfinite(first)]
    return float(first.mean()) if first.size else float("nan")


def analyse(cfg: RankingConfig, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Tables and comparisons from the job results (JSON-ready)."""
    train = {k: sorted([r for r in results if r["kind"] == "train" and r["agent"] == k],
                       key=lambda r: r["seed"]) for k in cfg.agents}
    named = sorted([r for r in results if r["kind"] == "named"], key=lambda r: r["seed"])
    final: dict[str, Any] = {}
    for k, rs in train.items():
        g = [r["final"]["gmv_per_session"] for r in rs]
        c = [r["final"]["ctr"] for r in rs]
        final[k] = {"gmv": mean_ci(g), "ctr": mean_ci(c), "gmv_per_seed": g, "ctr_per_seed": c,
                    "clicks_per_session": float(np.mean([r["final"]["clicks_per_session"] for r in rs])),
                    "conversion": float(np.mean([r["final"]["conversion"] for r in rs])),
                    "weights": np.mean([r["final"]["mean_action"] for r in rs], axis=0).tolist(),
                    "seconds": float(np.mean([r["seconds"] for r in rs]))}
    for name in NAMED:
        g = [r["final"][name]["gmv_per_session"] for r in named]
        c = [r["final"][name]["ctr"] for r in named]
        final["fixed-" + name] = {"gmv": mean_ci(g), "ctr": mean_ci(c), "gmv_per_seed": g, "ctr_per_seed": c,
                                  "clicks_per_session": float(np.mean([r["final"][name]["clicks_per_session"] for r in named])),
                                  "conversion": float(np.mean([r["final"][name]["conversion"] for r in named])),
                                  "weights": np.mean([r["final"][name]["mean_action"] for r in named], axis=0).tolist(),
                                  "seconds": 0.0}
    # comparisons (paired by seed: each seed's agents share the evaluation sessions)
    rl = [k for k in RL_AGENTS if k in train]
    static = [k for k in ("static-opt", "cem", "ltr-gmv", "ltr-click", "ltr-default") if k in final] + [
        "fixed-" + n for n in NAMED]
    best_static = max(static, key=lambda k: final[k]["gmv"][0]) if static else None
    ltr_fits = [k for k in ("ltr-gmv", "ltr-click") if k in final]
    best_ltr = max(ltr_fits, key=lambda k: final[k]["gmv"][0]) if ltr_fits else None
    comps: dict[str, Any] = {"best_static": best_static, "best_ltr_fit": best_ltr, "rl_vs": {}}
    for k in rl:
        row = {}
        refs = [best_static, best_ltr, "ltr-default" if "ltr-default" in final else None]
        for ref in dict.fromkeys(r for r in refs if r):  # ordered, without duplicates
            row[ref] = _paired(final[k]["gmv_per_seed"], final[ref]["gmv_per_seed"])
        comps["rl_vs"][k] = row
    early = {}
    for a, b in (("dpg-shaped", "dpg"), ("ddpg-ltr", "ddpg")):
        if a in train and b in train:
            ea = [_early(r["history"], cfg.early_frac) for r in train[a]]
            eb = [_early(r["history"], cfg.early_frac) for r in train[b]]
            early[f"{a} vs {b}"] = {"early_gmv": {a: mean_ci(ea), b: mean_ci(eb)}, **_paired(ea, eb),
                                    "frac": cfg.early_frac,
                                    "final_gmv": _paired(final[a]["gmv_per_seed"], final[b]["gmv_per_seed"]),
                                    "final_ctr": _paired(final[a]["ctr_per_seed"], final[b]["ctr_per_seed"])}
    comps["early"] = early
    ns = {}
    switch = cfg.ns_iterations // 2
    for k in cfg.nonstationary_agents:
        rs = [r for r in results if r["kind"] == "nonstationary" and r["agent"] == k]
        if not rs or "rneu" not in rs[0]["history"][0]:
            continue
        w = max(1, min(3, switch, cfg.ns_iterations - switch))  # iterations averaged
        pre = [np.mean([h["rneu"] for h in r["history"][switch - w:switch]]) for r in rs]
        post = [np.max([h["rneu"] for h in r["history"][switch:switch + w]]) for r in rs]
        end = [np.mean([h["rneu"] for h in r["history"][-w:]]) for r in rs]
        ns[k] = {"switch_iteration": switch, "rneu_before": mean_ci(pre), "rneu_peak_after": mean_ci(post),
                 "rneu_end": mean_ci(end), "spike_ratio": mean_ci(np.array(post) / np.array(pre)),
                 "final_gmv_shifted": mean_ci([r["final"]["gmv_per_session"] for r in rs])}
    comps["nonstationary"] = ns
    return {"final": final, "comparisons": comps}


# ------------------------------------------------------------------------------ plots


def _colors(keys: Sequence[str]) -> dict[str, Any]:
    """A fixed, distinct colour per agent (tab20, so 13 agents never share one)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    order = list(ALL_AGENTS)
    return {k: cmap((2 * order.index(k)) % 20 + (order.index(k) >= 10)) if k in order else "k" for k in keys}


def _se_curve(histories: list[list[dict[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, mean, standard error) of ``key`` over seeds."""
    its = [r["iteration"] for r in histories[0] if key in r]
    vals = np.array([[r[key] for r in h if key in r] for h in histories], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(vals, axis=0)
        n = np.sum(np.isfinite(vals), axis=0)
        se = np.where(n > 1, np.nanstd(vals, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1)), 0.0)
    return np.asarray(its), mean, np.nan_to_num(se)


def plot_learning(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> list[str]:
    """GMV and CTR per session over training: greedy evaluations and online (explored)
    sessions; mean over seeds, shaded +-1 standard error; baselines dashed."""
    files = []
    steps = cfg.steps_per_iteration * cfg.num_envs
    col = _colors(cfg.agents)
    for prefix, fname, title in (("eval_", "learning_curves.png", "greedy policy, evaluation sessions"),
                                 ("", "online_curves.png", "online with exploration, training sessions")):
        fig, axes = new_figure(ncols=2, width=6.2, height=4.6)
        handles = []
        for k in cfg.agents:
            hs = [r["history"] for r in results if r["kind"] == "train" and r["agent"] == k]
            if not hs:
                continue
            for i, (ax, key) in enumerate(zip(axes[0], ("gmv_per_session", "ctr"))):
                its, mean, se = _se_curve(hs, prefix + key)
                if not len(its):
                    continue
                x = (its + 1) * steps / 1e3
                ls = "--" if k in BASELINES else "-"
                (h,) = ax.plot(x, mean, ls, color=col[k], label=LABELS[k], lw=2.0 if k in RL_AGENTS else 1.4,
                               marker="o" if (prefix and k in RL_AGENTS) else None, ms=3)
                if k in RL_AGENTS or k == "cem":
                    ax.fill_between(x, mean - se, mean + se, color=col[k], alpha=0.12)
                if i == 0:
                    handles.append(h)
        axes[0][0].set_ylabel("GMV per session")
        axes[0][1].set_ylabel("CTR (clicks / items shown)")
        for ax in axes[0]:
            ax.set_xlabel("training page requests (thousands)")
            ax.grid(alpha=0.3)
        axes[0][0].set_title(f"GMV ({title})", fontsize=10)
        axes[0][1].set_title(f"CTR ({title})", fontsize=10)
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
                   title=f"mean of {cfg.seeds} seeds, shaded ±1 s.e.", title_fontsize=8)
        fig.tight_layout()
        fig.savefig(out / fname, dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        files.append(fname)
    return files


def plot_rneu(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> str:
    """RNEU per iteration: linear DPG agents and network agents in separate panels (their
    feature spaces differ, so only the shapes of the curves compare across panels)."""
    groups = [("linear DPG (critic features phi(s, a))", [k for k in ("dpg", "dpg-compat", "dpg-shaped")
                                                           if k in cfg.agents]),
              ("networks (gradient of Q in its parameters)", [k for k in ("ddpg", "ddpg-ltr", "dpg-fbe",
                                                                          "dpg-fbe-fitted") if k in cfg.agents])]
    groups = [g for g in groups if g[1]]
    fig, axes = new_figure(ncols=max(1, len(groups)), width=6.0, height=4.2)
    col = _colors(cfg.agents)
    steps = cfg.steps_per_iteration * cfg.num_envs
    for ax, (title, keys) in zip(axes[0], groups):
        for k in keys:
            hs = [r["history"] for r in results if r["kind"] == "train" and r["agent"] == k]
            if not hs or "rneu" not in hs[0][0]:
                continue
            x = (np.array([q["iteration"] for q in hs[0]]) + 1) * steps / 1e3
            vals = np.array([[q.get("rneu", np.nan) for q in h] for h in hs], dtype=float)
            for v in vals:
                ax.plot(x, v, color=col[k], alpha=0.25, lw=0.7)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                geo = np.exp(np.nanmean(np.log(np.maximum(vals, 1e-300)), axis=0))
            ax.plot(x, geo, color=col[k], lw=2, label=LABELS[k])
        ax.set_yscale("log")
        ax.set_xlabel("training page requests (thousands)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("RNEU = ||E[delta grad Q]||  (thin: seeds; thick: geometric mean)", fontsize=8)
    fig.suptitle("Norm of the expected TD update per iteration (article fig. 3)", fontsize=11)
    save_figure(fig, out / "rneu.png")
    return "rneu.png"


def _feature_names(m: int) -> list[str]:
    from simcore.world import FEATURE_NAMES

    return [FEATURE_NAMES[j] if j < len(FEATURE_NAMES) else f"attr{j}" for j in range(m)]


def plot_weights(cfg: RankingConfig, results: list[dict[str, Any]], summary: dict[str, Any],
                 out: Path) -> list[str]:
    """Greedy weight per dimension over training (seed 0): one panel per learning agent,
    and per user segment for the best learning agent (the article's iphone / android
    figures)."""
    import matplotlib

    m = cfg.world.n_features
    names = _feature_names(m)
    cmap = matplotlib.colormaps["tab10"]
    files: list[str] = []
    keys = [k for k in cfg.agents if k in RL_AGENTS or k == "cem"]
    if not keys:
        return files
    steps = cfg.steps_per_iteration * cfg.num_envs

    def run0(k: str) -> list[dict[str, Any]]:
        return next(r for r in results if r["kind"] == "train" and r["agent"] == k and r["seed"] == 0)["history"]

    ncols = min(3, len(keys))
    fig, axes = new_figure(ncols=ncols, nrows=-(-len(keys) // ncols), width=5.0, height=3.5)
    flat = [a for row in axes for a in row]
    for ax, k in zip(flat, keys):
        h = run0(k)
        x = (np.array([q["iteration"] for q in h]) + 1) * steps / 1e3
        A = np.array([q["greedy_action"] for q in h], dtype=float)
        for j in range(m):
            ax.plot(x, A[:, j], color=cmap(j), label=names[j], lw=1.4)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{LABELS[k]} (seed 0)", fontsize=9)
        ax.set_xlabel("page requests (thousands)", fontsize=8)
        ax.set_ylabel("greedy weight (mean over states)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in flat[len(keys):]:
        ax.axis("off")
    flat[0].legend(fontsize=7, ncol=2)
    save_figure(fig, out / "weights.png")
    files.append("weights.png")
    rl = [k for k in keys if k in RL_AGENTS]
    if rl:
        best = max(rl, key=lambda k: summary["final"][k]["gmv"][0])
        h = run0(best)
        G = len(h[0]["greedy_action_by_segment"])
        fig, axes = new_figure(ncols=G, width=4.0, height=3.4)
        x = (np.array([q["iteration"] for q in h]) + 1) * steps / 1e3
        for g, ax in enumerate(axes[0]):
            A = np.array([q["greedy_action_by_segment"][g] or [np.nan] * m for q in h], dtype=float)
            for j in range(m):
                ax.plot(x, A[:, j], color=cmap(j), label=names[j], lw=1.4)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_title(f"segment {g}", fontsize=9)
            ax.set_xlabel("page requests (thousands)", fontsize=8)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("greedy weight")
        axes[0][0].legend(fontsize=7, ncol=2)
        fig.suptitle(f"{LABELS[best]} (best learning agent, seed 0): weights per user segment", fontsize=10)
        save_figure(fig, out / "weights_by_segment.png")
        files.append("weights_by_segment.png")
    return files


def plot_nonstationary(cfg: RankingConfig, results: list[dict[str, Any]], out: Path) -> str | None:
    from simcore.world import FEATURE_NAMES

    ns = [r for r in results if r["kind"] == "nonstationary"]
    if not ns:
        return None
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    keys = [k for k in cfg.nonstationary_agents if any(r["agent"] == k for r in ns)]
    fig, axes = new_figure(ncols=3, nrows=len(keys), width=5.0, height=3.6)
    switch = cfg.ns_iterations // 2
    m = cfg.world.n_features
    names = [FEATURE_NAMES[j] if j < len(FEATURE_NAMES) else f"attr{j}" for j in range(m)]
    for row, k in zip(axes, keys):
        hs = [r["history"] for r in sorted(ns, key=lambda r: r["seed"]) if r["agent"] == k]
        ax = row[0]
        if "rneu" in hs[0][0]:
            its, mean, ci = _curve(hs, "rneu")
            for h in hs:
                ax.plot([q["iteration"] for q in h], [q["rneu"] for q in h], color="grey", alpha=0.35, lw=0.8)
            ax.plot(its, mean, color="C3", lw=2, label="mean over seeds")
            ax.set_yscale("log")
        ax.set_title(f"{LABELS[k]}: RNEU", fontsize=9)
        ax.set_ylabel("RNEU")
        ax = row[1]
        for key, lab, c in (("gmv_per_session", "online", "C0"), ("eval_gmv_per_session", "greedy eval", "C2")):
            its, mean, se = _se_curve(hs, key)
            ax.plot(its, mean, color=c, label=lab, marker="o" if key.startswith("eval") else None, ms=3)
            ax.fill_between(its, mean - se, mean + se, color=c, alpha=0.15)
        ax.set_title(f"{LABELS[k]}: GMV per session (mean, ±1 s.e.)", fontsize=9)
        ax.legend(fontsize=7)
        ax = row[2]
        A = np.array([q["greedy_action"] for q in hs[0]], dtype=float)
        for j in range(m):
            ax.plot(A[:, j], color=cmap(j), label=names[j])
        ax.set_title(f"{LABELS[k]}: greedy weights (seed 0)", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
        for ax in row:
            ax.axvline(switch - 0.5, color="k", ls=":", lw=1.2)
            ax.set_xlabel("iteration (dotted: behaviour shift)", fontsize=8)
            ax.grid(alpha=0.3)
    save_figure(fig, out / "nonstationary.png")
    return "nonstationary.png"


# ------------------------------------------------------------------------------ report


def _pm(x: tuple[float, float], d: int = 2) -> str:
    m, ci = x
    return f"{m:.{d}f} ± {ci:.{d}f}" if ci == ci else f"{m:.{d}f}"


def write_report(cfg: RankingConfig, summary: dict[str, Any], meta: dict[str, Any], plots: list[str], out: Path) -> None:
    fin, comps = summary["final"], summary["comparisons"]
    order = sorted((k for k in fin if not (k == "fixed-ltr" and "ltr-default" in fin)),
                   key=lambda k: -fin[k]["gmv"][0])
    ref = "ltr-default" if "ltr-default" in fin else None
    rows = []
    for k in order:
        rel = ""
        if ref and k != ref:
            p = _paired(fin[k]["gmv_per_seed"], fin[ref]["gmv_per_seed"])
            rel = (f"{100 * p['rel']:+.0f}% ± {100 * p['rel_ci']:.0f}%" if p["rel_ci"] == p["rel_ci"]
                   else f"{100 * p['rel']:+.0f}%")
        rows.append([LABELS.get(k, k), _pm(fin[k]["gmv"]), _pm(fin[k]["ctr"], 4),
                     f"{fin[k]['clicks_per_session']:.2f}", f"{fin[k]['conversion']:.3f}", rel])
    lines = [
        "# Ranking control: DPG, reward shaping, DDPG + LTR gradient, DPG-FBE",
        "",
        f"Generated by `simcore reproduce ranking` in {meta['wall_seconds']:.0f} s wall "
        f"({meta['workers']} worker processes, load average before the run {meta['load_before']}, "
        f"{meta['cpus']} CPUs).  Protocol: `docs/ranking.md`.",
        "",
        f"Setting: {cfg.seeds} seeds; each run trains for {cfg.iterations} iterations x "
        f"{cfg.steps_per_iteration} batched steps x {cfg.num_envs} sessions = "
        f"{cfg.iterations * cfg.steps_per_iteration * cfg.num_envs:,} page requests; env reward "
        f"`{cfg.reward}` (price on purchase, else number of clicks); catalogue N={cfg.world.n_items}, "
        f"m={cfg.world.n_features}, {cfg.world.n_queries} queries.  Final numbers: the greedy policy on "
        f"{cfg.final_eval_steps} batched steps of fresh sessions (the same sessions for every agent of a "
        "seed, so differences are paired by seed).  ± is the half-width of the 95% Student-t CI over seeds.",
        "",
        "## Final GMV and CTR per session",
        "",
        markdown_table(["agent", "GMV / session", "CTR", "clicks / session", "conversion",
                        "GMV vs fixed LTR default"], rows),
        "",
    ]
    bs, bl = comps["best_static"], comps["best_ltr_fit"]
    lines += ["## Does RL beat the best fixed weights and the fitted LTR model?", ""]
    crow = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            crow.append([LABELS[k], LABELS.get(refk, refk), _pm((p["diff"], p["ci"])),
                         _pm((100 * p["rel"], 100 * p["rel_ci"]), 1) + "%"])
    lines += [f"Best static policy (over the exact-GMV CEM optimum, online CEM, the fitted LTR models and the "
              f"named weight vectors): "
              f"**{LABELS.get(bs, bs)}**; best fitted LTR model: **{LABELS.get(bl, bl)}**.", "",
              markdown_table(["RL agent", "reference", "GMV difference", "relative"], crow), ""]
    lines += _verdicts(cfg, summary)
    names = _feature_names(cfg.world.n_features)
    wkeys = [k for k in ("static-opt", "cem", "ltr-gmv", "ltr-click", "ltr-default", *RL_AGENTS) if k in fin]
    if wkeys:
        lines += ["## Final greedy weights", "",
                  "Mean ranking weights of each final policy over the evaluation states and seeds (the ranking "
                  "depends only on the direction of the weight vector).  The article's softmax actor can only "
                  "output positive weights; the DDPG/FBE actors (tanh) and the baselines can go negative.", "",
                  markdown_table(["agent", *names], [[LABELS.get(k, k), *[f"{w:+.2f}" for w in fin[k]["weights"]]]
                                                     for k in wkeys]), ""]
        if bs in fin:
            neg = [f"{n} ({w:+.2f})" for n, w in zip(names, fin[bs]["weights"]) if w < -0.05]
            lines += [f"Features with a clearly negative weight (< -0.05) in the best static policy "
                      f"({LABELS.get(bs, bs)}): {', '.join(neg) if neg else 'none'}.", ""]
    if comps["early"]:
        lines += ["## Early learning: reward shaping and the LTR term", "",
                  f"Mean greedy-policy GMV over the first {100 * cfg.early_frac:.0f}% of the learning-curve "
                  "evaluations (paired by seed):", ""]
        erow = []
        for name, e in comps["early"].items():
            a, b = name.split(" vs ")
            fg, fc = e["final_gmv"], e["final_ctr"]
            erow.append([f"{LABELS[a]} vs {LABELS[b]}", _pm(e["early_gmv"][a]), _pm(e["early_gmv"][b]),
                         f"{e['diff']:+.2f} ± {e['ci']:.2f}", f"{fg['diff']:+.2f} ± {fg['ci']:.2f}",
                         f"{fc['diff']:+.4f} ± {fc['ci']:.4f}"])
        lines += [markdown_table(["comparison", "early GMV (first)", "early GMV (second)", "early difference",
                                  "final GMV difference", "final CTR difference"], erow), ""]
    if comps["nonstationary"]:
        lines += ["## Non-stationary run (user behaviour shifts mid-run)", "",
                  f"At iteration {cfg.ns_iterations // 2} of {cfg.ns_iterations} the user model changes to "
                  f"{cfg.shift_user} and the segment mix to {cfg.shift_segment_probs}.", ""]
        nrow = [[LABELS[k], _pm(v["rneu_before"], 4), _pm(v["rneu_peak_after"], 4), _pm(v["spike_ratio"], 1),
                 _pm(v["rneu_end"], 4), _pm(v["final_gmv_shifted"])] for k, v in comps["nonstationary"].items()]
        lines += [markdown_table(["agent", "RNEU before", "RNEU peak after", "spike ratio", "RNEU at end",
                                  "final GMV (shifted users)"], nrow), ""]
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    (out / "report.md").write_text("\n".join(lines))


def _verdicts(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    """Plain-language conclusions computed from the numbers (never hard-coded)."""
    fin, comps = summary["final"], summary["comparisons"]
    out = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            lo, hi = p["diff"] - p["ci"], p["diff"] + p["ci"]
            if not (p["ci"] == p["ci"]):
                verdict = "undetermined (one seed)"
            elif lo > 0:
                verdict = "beats"
            elif hi < 0:
                verdict = "is beaten by"
            else:
                verdict = "is not distinguishable from"
            out.append(f"- {LABELS[k]} {verdict} {LABELS.get(refk, refk)} on GMV "
                       f"({100 * p['rel']:+.1f}% ± {100 * p['rel_ci']:.1f}%).")
    for name, e in comps["early"].items():
        a, b = name.split(" vs ")
        lo, hi = e["diff"] - e["ci"], e["diff"] + e["ci"]
        word = "faster" if lo > 0 else ("slower" if hi < 0 else "no detectable difference")
        out.append(f"- Early learning, {LABELS[a]} vs {LABELS[b]}: {word} "
                   f"(early GMV difference {e['diff']:+.2f} ± {e['ci']:.2f}).")
    return out + [""]


# ------------------------------------------------------------------------------ driver


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run(config: RankingConfig, out: str | os.PathLike[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Runs every job, writes report.md, results.json and the PNGs to ``out`` (if given)
    and returns the results dict."""
    t0 = time.perf_counter()
    load_before = _load()
    jobs = _jobs(config)
    results: list[dict[str, Any]] = []
    work = [_work(config, j) for j in jobs]
    bar = Progress(sum(work), desc="ranking", unit="pages", enabled=progress)
    if config.workers == 1:
        for j, w in zip(jobs, work):
            results.append(_run_job(j))
            bar.update(w, postfix=f"{j['agent']} seed {j['seed']} ({len(results)}/{len(jobs)} runs)")
    else:
        with ProcessPoolExecutor(max_workers=config.workers, mp_context=get_context("spawn")) as pool:
            futs = [pool.submit(_run_job, j) for j in jobs]
            for j, w, f in zip(jobs, work, futs):
                results.append(f.result())
                bar.update(w, postfix=f"{j['agent']} seed {j['seed']} ({len(results)}/{len(jobs)} runs)")
    bar.close()
    summary = analyse(config, results)
    meta = {"wall_seconds": time.perf_counter() - t0, "load_before": load_before, "load_after": _load(),
            "workers": config.workers, "cpus": os.cpu_count(), "python": platform.python_version()}
    data = {"config": _config_dict(config), "meta": meta, **summary,
            "runs": [{k: v for k, v in r.items() if k != "cfg"} for r in results]}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plots = plot_learning(config, results, out)
        if any(k in RL_AGENTS for k in config.agents):
            plots.append(plot_rneu(config, results, out))
        plots += plot_weights(config, results, summary, out)
        ns = plot_nonstationary(config, results, out)
        if ns:
            plots.append(ns)
        write_report(config, summary, meta, plots, out)
        write_json(out / "results.json", data)
    return data


def _config_dict(cfg: RankingConfig) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/ranking", help="output directory (default: %(default)s)")
    parser.add_argument("--long", action="store_true", help="the longer documented setting (5 seeds, 3x longer runs)")
    parser.add_argument("--seeds", type=int, help="number of seeds")
    parser.add_argument("--iterations", type=int, help="training iterations per run")
    parser.add_argument("--steps", type=int, help="batched steps per iteration")
    parser.add_argument("--num-envs", type=int, help="sessions stepped together")
    parser.add_argument("--agents", help=f"comma-separated subset of {','.join(ALL_AGENTS)}")
    parser.add_argument("--workers", type=int, help="worker processes (default 2)")
    parser.add_argument("--no-nonstationary", action="store_true", help="skip the behaviour-shift run")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> RankingConfig:
    kw: dict[str, Any] = dict(LONG) if args.long else {}
    for name, attr in (("seeds", "seeds"), ("iterations", "iterations"), ("steps", "steps_per_iteration"),
                       ("num_envs", "num_envs"), ("workers", "workers")):
        v = getattr(args, name)
        if v is not None:
            kw[attr] = v
    if args.agents:
        kw["agents"] = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    if args.no_nonstationary:
        kw["nonstationary_agents"] = ()
    return RankingConfig(**kw)


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    data = run(cfg, args.out, progress=not args.no_progress)
    print(f"wrote {Path(args.out) / 'report.md'} ({data['meta']['wall_seconds']:.0f} s)")
    return 0
