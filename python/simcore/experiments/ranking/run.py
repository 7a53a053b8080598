"""Ranking control: DPG (+ reward shaping), DDPG with LTR gradient fusion, DPG-FBE vs LTR baselines.

Reproduces the ranking article's sections 问题建模 / 算法设计 / 奖赏塑形 / 实验效果 /
DDPG与梯度融合 (and DPG-FBE of Hu et al., KDD 2018) on the continuous-action SSMDP
whose action is the ranking weight vector.  Every agent trains with the one loop
(:mod:`simcore.train.loop`, step-wise search collector) on the batched vector env, for
several seeds; :func:`run` returns the results (it writes nothing), and
:mod:`~simcore.experiments.ranking.report` writes learning curves, RNEU curves, weight
trajectories, the tables with 95% CIs and a non-stationary run in which user
behaviour shifts mid-run (the article's "midnight jump").

``simcore reproduce ranking --out DIR`` (defaults: about 530-570 s of CPU, ~5 minutes on 2 idle cores);
``--preset full`` adds the tabular optimum and the equal-budget comparison with SB3 PPO
and SAC, ``--preset long`` is the longer documented setting (see docs/ranking.md).

Torch is imported only inside the jobs, so that importing this module is cheap.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from typing import Any

from simcore.experiments.ranking.analysis import analyse
from simcore.experiments.ranking.config import (
    NAMED,
    NETWORK_AGENTS,
    SB3_AGENTS,
    STATIC,
    RankingConfig,
)
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.optional import sb3_available, sb3_version


def _make_env(cfg: RankingConfig, shifted: bool = False) -> Any:
    import gymnasium as gym

    from simcore.domains.search import envs as _search_envs  # noqa: F401  (registers the env ids)

    return gym.make_vec("simcore/SearchSession-v0", num_envs=cfg.num_envs, config=cfg.session_config(shifted))


def _loop(cfg: RankingConfig, iterations: int, seeds: SeedTree) -> Any:
    """The loop of a run: training streams ``("train",)``, evaluations ``("eval",)``;
    common to every agent of the same seed index (paired comparisons)."""
    from simcore.train.loop import LoopConfig

    return LoopConfig(iterations=iterations, seed=seeds.seed("train"), eval_every=cfg.eval_every,
                      eval_steps=cfg.eval_steps, eval_seed=seeds.seed("eval"))


def _named(cfg: RankingConfig, env: Any, seeds: SeedTree) -> dict[str, Any]:
    """Final evaluations of the named static weight vectors (sampled, and exact as ``"exact"``)."""
    from simcore.algos.fixed import FixedWeights
    from simcore.domains.search.training import search_collector
    from simcore.domains.search.world import default_action_set
    from simcore.train.loop import evaluate

    col = search_collector(env, cfg.final_eval_steps)
    out = {}
    for name, w in zip(NAMED, default_action_set(env.sim.num_features)):
        agent = FixedWeights(w, name=name)
        out[name] = {**evaluate(agent, col, None, seeds.seed("final-eval")),
                     "exact": exact_final(cfg, agent, env, seeds)}
    return out


def _static_history(cfg: RankingConfig, agent: Any, env: Any, seeds: SeedTree) -> list[dict[str, Any]]:
    """A non-learning baseline: one online iteration and one greedy evaluation, drawn flat."""
    from simcore.domains.search.training import EVAL_KEYS, search_collector
    from simcore.train.loop import evaluate, iteration_seed

    col = search_collector(env, cfg.steps_per_iteration)
    loop = _loop(cfg, cfg.iterations, seeds)
    online = col.run(agent, iteration_seed(loop, 0), explore=True, learn=False)  # = training's iteration 0
    ev = evaluate(agent, col, cfg.eval_steps, loop.eval_seed)
    keys = [k for k in EVAL_KEYS if k != "mean_action_by_segment"]
    history = []
    for it in range(cfg.iterations):
        rec = {"iteration": it, **online}
        if (it + 1) % cfg.eval_every == 0 or it + 1 == cfg.iterations:
            rec.update({"eval_" + k: ev[k] for k in keys})
        history.append(rec)
    return history


def _deterministic_torch(seed: int) -> None:
    """One thread and deterministic kernels in this job, the global torch RNG seeded
    (SB3 reseeds it itself; simcore's networks draw from their own generators)."""
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(int(seed))


def exact_final(cfg: RankingConfig, agent: Any, env: Any, seeds: SeedTree) -> dict[str, Any]:
    """Exact expected GMV per session of the greedy policy on the held-out panel of
    ``cfg.exact_panel`` users (stream ``("exact-panel",)``, the same users for every
    agent of a seed index): overall and per segment."""
    import numpy as np

    from simcore.domains.search.simulator import SearchSimulator
    from simcore.experiments.ranking.optimum import exact_policy_gmv

    sim0 = env.sim
    draw = SearchSimulator(sim0.config, num_sessions=cfg.exact_panel, seed=seeds.seed("exact-panel"),
                           world=sim0.world)
    draw.reset()
    users = {k: np.array(v, copy=True) for k, v in draw.users().items()}
    sim = SearchSimulator(sim0.config, num_sessions=cfg.exact_panel, world=sim0.world)
    v = exact_policy_gmv(sim, lambda obs: agent.act(obs, explore=False), users)
    seg = np.asarray(users["segment"])
    G = int(sim0.world.segment_pref.shape[0])
    return {"gmv": float(v.mean()),
            "by_segment": [float(v[seg == g].mean()) if np.any(seg == g) else float("nan") for g in range(G)]}


def _budget_agent(cfg: RankingConfig, agent: str, env: Any,
                  seeds: SeedTree) -> tuple[Any, list[dict[str, Any]], int]:
    """An agent of the equal-budget comparison, trained on ``cfg.budget_pages`` real
    pages, and the real pages it consumed.  simcore's learners: ``budget_iterations``
    iterations of exactly ``budget_steps * num_envs`` real pages each on the vector env
    (autoreset rows not counted, the last step cut; :class:`simcore.train.steps.StepCollector`),
    so the count is exact; SB3: ``model.learn(total_timesteps=budget_pages)`` on the
    single env, every step a real page (its count is SB3's own ``num_timesteps``)."""
    from simcore.domains.search.training import search_collector
    from simcore.experiments.ranking.agents import build_agent
    from simcore.experiments.ranking.sb3 import SB3_ALGOS, train_sb3
    from simcore.train.loop import train

    if agent in SB3_ALGOS:
        policy = train_sb3(agent, cfg.session_config(), cfg.budget_pages, seeds.seed("agent", agent))
        return policy, [], int(policy.model.num_timesteps)
    bcfg = dataclasses.replace(cfg, ddpg={**cfg.ddpg, **cfg.budget_ddpg},
                               segment_pg={**cfg.segment_pg, **cfg.budget_segment_pg})
    learner = build_agent(agent, bcfg, env, seeds)
    col = search_collector(env, cfg.budget_steps, pages=cfg.budget_steps * cfg.num_envs)
    history = train(learner, col, _loop(cfg, cfg.budget_iterations, seeds))
    return learner, history, int(sum(h["pages"] for h in history))


def run_job(cfg: RankingConfig, agent: str, seed: int, kind: str) -> dict[str, Any]:
    """One (agent, seed, kind) run: kind "train", "nonstationary", "budget" (the
    equal-budget comparison) or "named" (the named static vectors; ``agent`` is
    "named").  Module-level, for the process backend."""
    from simcore.domains.search.training import search_collector
    from simcore.experiments.ranking.agents import build_agent
    from simcore.train.loop import evaluate, train

    t0, c0 = time.perf_counter(), time.process_time()
    env = _make_env(cfg)
    seeds = SeedTree(cfg.seed).child("seed", seed)  # shared by every agent of this seed index
    _deterministic_torch(seeds.seed("agent", agent, "torch") % 2**63)
    if kind == "named":
        return {"kind": kind, "seed": seed, "final": _named(cfg, env, seeds),
                "seconds": time.perf_counter() - t0,
                "cpu_seconds": time.process_time() - c0}
    if kind == "budget":
        learner, history, pages = _budget_agent(cfg, agent, env, seeds)
        final = evaluate(learner, search_collector(env, cfg.final_eval_steps), None, seeds.seed("final-eval"))
        return {"kind": kind, "agent": agent, "seed": seed, "pages": pages, "history": history, "final": final,
                "exact": exact_final(cfg, learner, env, seeds), "seconds": time.perf_counter() - t0,
                "cpu_seconds": time.process_time() - c0}
    learner = build_agent(agent, cfg, env, seeds)
    final_env = env
    if kind == "train" and agent in STATIC:
        history = _static_history(cfg, learner, env, seeds)
    elif kind == "train":
        history = train(learner, search_collector(env, cfg.steps_per_iteration),
                        _loop(cfg, cfg.iterations, seeds))
    else:  # non-stationary: the users change at half-way
        final_env = _make_env(cfg, shifted=True)
        cols = (search_collector(env, cfg.steps_per_iteration),
                search_collector(final_env, cfg.steps_per_iteration))
        switch = cfg.ns_iterations // 2
        history = train(learner, lambda it: cols[0] if it < switch else cols[1],
                        _loop(cfg, cfg.ns_iterations, seeds))
    final = evaluate(learner, search_collector(final_env, cfg.final_eval_steps), None, seeds.seed("final-eval"))
    return {"kind": kind, "agent": agent, "seed": seed, "history": history, "final": final,
            "exact": exact_final(cfg, learner, final_env, seeds), "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0}


def _work(cfg: RankingConfig, agent: str, kind: str) -> float:
    """Page requests a job simulates (progress and scheduling)."""
    B = cfg.num_envs
    if kind == "named":
        return float(len(NAMED) * cfg.final_eval_steps * B)
    its = cfg.ns_iterations if kind == "nonstationary" else cfg.iterations
    if kind == "train" and agent in STATIC:
        its = 1
    if kind == "budget":  # SAC: a gradient step per page
        return float((cfg.budget_iterations * cfg.budget_steps * (20 if agent == "sb3-sac" else 1)
                      + cfg.final_eval_steps) * B)
    return float((its * cfg.steps_per_iteration + cfg.final_eval_steps) * B)


def jobs(cfg: RankingConfig) -> list[Job]:
    """Every run of the experiment, network agents first."""
    specs = []
    if any(k in SB3_AGENTS for k in cfg.budget_agents) and not sb3_available():
        raise RuntimeError("budget_agents: the SB3 learners need stable-baselines3 (pip install 'simcore[clients]'); "
                           "drop them with --set budget_agents=[]")
    for key in sorted(cfg.agents, key=lambda k: (k not in NETWORK_AGENTS, k)):
        specs += [(key, s, "train") for s in range(cfg.seeds)]
    for key in cfg.nonstationary_agents:
        specs += [(key, s, "nonstationary") for s in range(cfg.seeds)]
    for key in cfg.budget_agents:
        specs += [(key, s, "budget") for s in range(cfg.seeds)]
    specs += [("named", s, "named") for s in range(cfg.seeds)]
    return [Job(key=f"{kind}/{key}/{s}", fn=run_job, kwargs=dict(cfg=cfg, agent=key, seed=s, kind=kind),
                seed_path=(kind, key, s), work=_work(cfg, key, kind)) for key, s, kind in specs]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _versions() -> dict[str, str]:
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"torch": str(torch.__version__), "numpy": str(numpy.__version__), "sb3": sb3_version(),
            "cpu": cpu, "torch_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
            "torch_threads_per_job": "1", "git_commit": _git_commit()}


def _git_commit() -> str:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=os.path.dirname(os.path.abspath(__file__)))
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def config_dict(cfg: RankingConfig) -> dict[str, Any]:
    """The config as plain JSON values."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def run(config: RankingConfig, progress: bool = True) -> dict[str, Any]:
    """Runs every job (inline for ``workers=1``, else on a process pool: same results)
    and returns the results: config, meta (timing and machine), final, comparisons and
    the runs.  Writes nothing."""
    t0 = time.perf_counter()
    load_before = _load()
    versions = _versions()  # before the run: git_commit is the code the run started with
    backend = "inline" if config.workers == 1 else "process"
    runs = run_jobs(jobs(config), backend=backend, workers=config.workers, progress=progress,
                    desc="ranking", unit="pages")
    summary = analyse(config, runs)
    meta = {"wall_seconds": time.perf_counter() - t0, "load_before": load_before, "load_after": _load(),
            "job_cpu_seconds": float(sum(r.get("cpu_seconds", 0.0) for r in runs)),
            "workers": config.workers, "cpus": os.cpu_count(), "python": platform.python_version(),
            **versions}
    return {"config": config_dict(config), "meta": meta, **summary, "runs": runs, "seeds": seed_paths(config)}


def seed_paths(cfg: RankingConfig) -> dict[str, Any]:
    """Every named stream of the run (root, path, derived seed), for results.json: per
    seed index s, the streams its jobs share (training, evaluations, logs, the static
    optimum's search) and each agent's own (network init, exploration)."""
    out: dict[str, Any] = {}
    for s in range(cfg.seeds):
        tree = SeedTree(cfg.seed).child("seed", s)
        for name in (("train",), ("eval",), ("final-eval",), ("exact-panel",), ("logs", "noise"), ("logs", "env"),
                     ("static-opt", "cem"), ("static-opt", "panel"), ("segment-opt", "cem"),
                     ("segment-opt", "panel"), ("segment-opt-nonneg", "cem"), ("tabular-opt", "model")):
            out["/".join(("seed", str(s), *name))] = tree.describe(*name)
        for key in sorted(set(cfg.agents) | set(cfg.nonstationary_agents) | set(cfg.budget_agents)):
            out[f"seed/{s}/agent/{key}"] = tree.describe("agent", key)
            out[f"seed/{s}/agent/{key}/torch"] = tree.describe("agent", key, "torch")
    return out



