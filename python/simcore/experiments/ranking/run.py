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

from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.report import mean_ci as _normal_ci
from simcore.util.progress import Progress

#: learning agents
RL_AGENTS = ("dpg", "dpg-compat", "dpg-shaped", "ddpg", "ddpg-ltr", "dpg-fbe", "dpg-fbe-fitted")
#: baselines
BASELINES = ("ltr-default", "ltr-click", "ltr-gmv", "cem", "static-opt", "random")
ALL_AGENTS = RL_AGENTS + BASELINES
#: baselines that do not learn online: evaluated once, drawn flat in the learning curves
STATIC = ("ltr-default", "ltr-click", "ltr-gmv", "static-opt", "random")
#: named static weight vectors of simcore.domains.search.world.default_action_set, evaluated as extra rows
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
        dpg: overrides of :class:`simcore.algos.dpg.DPGConfig` for the DPG agents
            ("dpg-compat" also sets ``compatible_features=True``).
        shaping_weight: beta of the reward-shaping potential ("dpg-shaped").
        shaping_mode: "article" (r + beta Phi) or "centred" (see agents.dpg).
        ddpg: overrides of :class:`simcore.algos.ddpg.DDPGConfig` (DDPG and FBE).
        ltr_weight: lambda of "ddpg-ltr".
        fbe_reward: expected reward DPG-FBE backs up ("gmv" as Hu et al., or "clicks").
        cem: overrides of :class:`simcore.algos.cem.CEMConfig`.
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
    from simcore.domains.search.world import default_action_set

    policy = _NoisyFixed(default_action_set(env.sim.num_features)[0], cfg.log_noise, seed)
    logs, _ = collect(policy, env, cfg.log_steps, seed=700_000 + seed)
    return logs


def build_agent(key: str, cfg: RankingConfig, env: Any, seed: int) -> Any:
    """A fresh agent ``key`` for ``env`` (fitting LTR / outcome models on logs first)."""
    from simcore.algos.cem import CEMConfig, CEMWeights
    from simcore.algos.ddpg import DDPG, DDPGConfig
    from simcore.algos.dpg import DPGConfig, LinearDPG
    from simcore.domains.search.agents.fbe import DPGFBE
    from simcore.algos.fixed import FixedWeights
    from simcore.domains.search.agents.ltr import FittedLTR
    from simcore.domains.search.agents.outcome_model import OutcomeModel
    from simcore.algos.random_weights import RandomWeights
    from simcore.domains.search.world import default_action_set

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
        sim: a :class:`simcore.domains.search.simulator.SearchSimulator` with ``len(weights) * P`` sessions.
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
    from simcore.domains.search.simulator import SearchSimulator

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
    from simcore.domains.search.world import default_action_set

    torch.set_num_threads(1)
    cfg: RankingConfig = job["cfg"]
    key, seed, kind = job["agent"], job["seed"], job["kind"]
    t0 = time.perf_counter()
    env = _make_env(cfg)
    run_seed = cfg.seed * 1000 + seed
    if kind == "named":
        out = {}
        for name, w in zip(NAMED, default_action_set(env.sim.num_features)):
            from simcore.algos.fixed import FixedWeights

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
        from simcore.experiments.ranking.report import write_outputs

        write_outputs(config, results, summary, meta, data, Path(out))
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
