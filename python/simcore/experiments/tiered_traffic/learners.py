"""The learners of the tiered-traffic reproduction, one runner job per (method,
lambda, seed), and the exact-baseline job per seed.

Every job of seed index s shares the streams of ``SeedTree(root).child("seed", s)``:
the exact panel ``("panel",)``, the training iterations ``("train",)``; each learner
draws its own ``("agent", key, lambda)`` (network init, exploration, CEM draws) and
``("cem-eval", key, lambda)`` (the CEM candidates' sessions).  A learner's record per
iteration: the online (exploring) traffic's sampled metrics (:mod:`.hooks`), the
bounds L, U and CEM mu, sigma after the iteration, and every ``eval_every``
iterations the greedy policy's exact values on the panel (``exact``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentBase
from simcore.experiments.tiered_traffic.config import TieredTrafficConfig
from simcore.util.seeds import SeedTree


class CEMMeanPolicy(AgentBase):
    """The uniform learned intervention: every user served the CEM's current mean
    mu (the same tier weights for all); each ``end_iteration`` runs one CEM iteration
    with ``evaluate`` (module :mod:`simcore.algos.cem_bounds`)."""

    name = "cem-uniform"

    def __init__(self, cem: Any, evaluate: Any) -> None:
        self.cem, self.evaluate = cem, evaluate

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return np.tile(self.cem.mu, (np.asarray(obs).shape[0], 1)).astype(np.float32)

    def end_iteration(self) -> dict[str, float]:
        return self.cem.step(self.evaluate)

    def state_dict(self) -> dict[str, Any]:
        return {"cem": self.cem.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.cem.load_state_dict(state["cem"])


def traffic_config(cfg: TieredTrafficConfig, lam: float) -> Any:
    """The simulator config of a run at ``lam`` (lambda on the target tier only)."""
    reward = dataclasses.replace(cfg.traffic.reward, lambdas=cfg.lambda_vector(lam))
    return dataclasses.replace(cfg.traffic, reward=reward)


def make_env(cfg: TieredTrafficConfig, lam: float) -> Any:
    """The C++-batched traffic vector env of ``cfg.num_envs`` sessions at ``lam``."""
    import gymnasium as gym

    import simcore.domains.traffic.env  # noqa: F401  (registers simcore/TieredTraffic-v0)

    return gym.make_vec("simcore/TieredTraffic-v0", num_envs=cfg.num_envs, config=traffic_config(cfg, lam))


def panel_users(cfg: TieredTrafficConfig, seeds: SeedTree) -> dict[str, np.ndarray]:
    """The exact evaluation panel of a seed index (stream ``("panel",)``)."""
    from simcore.domains.traffic.exact import panel

    users = panel(cfg.traffic, cfg.panel, seeds.seed("panel"))
    return {k: np.array(v, copy=True) for k, v in users.items()}


def _sim_factory(tcfg: Any, world: Any) -> Any:
    from simcore.domains.traffic.simulator import TrafficSimulator

    return lambda n, seed=0: TrafficSimulator(tcfg, num_sessions=int(n), seed=seed, world=world)


def _cem_segment(cfg: TieredTrafficConfig, sim0: Any, seeds: SeedTree, tag: str) -> Any:
    """The per-segment CEM learner (:mod:`.segment_cem`): one tracker per segment with
    the CEM settings of the other CEM methods, seeded ("agent", "cem-segment", lambda,
    "segment", g), warmed up ``cfg.cem_warmup`` iterations."""
    from simcore.algos.cem_bounds import CEMBounds
    from simcore.experiments.tiered_traffic.segment_cem import CEMSegmentPolicy, segment_cem_evaluator

    m_t = int(sim0.n_tiers)
    G = int(np.asarray(sim0.world.segment_pref).shape[0])
    agent = seeds.child("agent", "cem-segment", tag)
    init = np.asarray(sim0.basic_weights, dtype=np.float64)[-m_t:]
    cems = [CEMBounds(m_t, dataclasses.replace(cfg.cem, seed=agent.seed("segment", g) % 2**31), init_mean=init)
            for g in range(G)]
    sim = _sim_factory(sim0.config, sim0.world)(cfg.cem_chunk)
    evaluate = segment_cem_evaluator(sim, seeds.child("cem-eval", "cem-segment", tag), G, cfg.cem_max_chunks,
                                     cfg.cem_rel_tol, expected=cfg.cem_reward == "expected")
    learner = CEMSegmentPolicy(cems, evaluate)
    for _ in range(cfg.cem_warmup):
        learner.step_cem()
    learner.cem_sessions = evaluate.sessions  # type: ignore[attr-defined]
    return learner


def build_learner(key: str, cfg: TieredTrafficConfig, lam: float, sim0: Any, seeds: SeedTree) -> Any:
    """A fresh learner ``key`` (config LEARNERS, or "basic": the control bucket) for the env behind ``sim0``; the CEM
    methods run ``cfg.cem_warmup`` CEM iterations first (their initial bounds)."""
    from simcore.algos.bounds import ActionBounds
    from simcore.algos.cem_bounds import CEMBoundedAgent, CEMBounds
    from simcore.algos.ddpg import DDPG
    from simcore.experiments.tiered_traffic.barrier import SigmoidBarrier
    from simcore.experiments.tiered_traffic.evaluate import cem_evaluator

    m_t, D = int(sim0.n_tiers), int(sim0.obs_dim)
    tag = f"{lam:g}"
    agent_seed = seeds.seed("agent", key, tag) % 2**31
    ddpg_cfg = dataclasses.replace(cfg.ddpg, seed=agent_seed)
    if key == "basic":  # the control bucket served online (the transient's reference)
        from simcore.algos.fixed import FixedWeights

        return FixedWeights(np.asarray(sim0.basic_weights, dtype=np.float64)[-m_t:], name="basic")
    def ddpg(bounds: ActionBounds) -> DDPG:
        term = SigmoidBarrier(bounds, cfg.actor_barrier) if cfg.actor_barrier > 0 else None
        return DDPG(D, m_t, ddpg_cfg, actor_term=term, bounds=bounds)

    if key == "ddpg-fixed":
        return ddpg(ActionBounds(cfg.fixed_low, cfg.fixed_high, m=m_t))
    if key == "cem-segment":
        return _cem_segment(cfg, sim0, seeds, tag)
    explore = "one" if key == "ddpg-cem-1d" else cfg.cem.explore
    cem = CEMBounds(m_t, dataclasses.replace(cfg.cem, seed=agent_seed, explore=explore),
                    init_mean=np.asarray(sim0.basic_weights, dtype=np.float64)[-m_t:])
    sim = _sim_factory(sim0.config, sim0.world)(cfg.cem_chunk)
    evaluate = cem_evaluator(sim, seeds.child("cem-eval", key, tag), cfg.cem_max_chunks, cfg.cem_rel_tol,
                             expected=cfg.cem_reward == "expected", common=cfg.cem_common)
    for _ in range(cfg.cem_warmup):
        cem.step(evaluate)
    if key == "cem-uniform":
        learner: Any = CEMMeanPolicy(cem, evaluate)
    else:
        learner = CEMBoundedAgent(ddpg(ActionBounds(*cem.bounds())), cem, evaluate)
    learner.cem_sessions = evaluate.sessions  # type: ignore[attr-defined]
    return learner


def _bounds_record(learner: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    b = getattr(learner, "bounds", None)
    if b is not None:
        rec.update(low=b.low.tolist(), high=b.high.tolist())
    cem = getattr(learner, "cem", None)
    if cem is not None:
        rec.update(mu=cem.mu.tolist(), sigma=cem.sigma.tolist())
    return rec


def run_learner(cfg: TieredTrafficConfig, key: str, lam: float, seed: int) -> dict[str, Any]:
    """One learner job: train ``key`` at ``lam`` with seed index ``seed`` and measure
    its greedy policy exactly on the seed's panel (overall and per segment) against
    the control bucket.  Module-level, for the process backend."""
    import torch

    from simcore.experiments.tiered_traffic.evaluate import by_segment, exact_policy, summarise
    from simcore.experiments.tiered_traffic.hooks import traffic_collector
    from simcore.train.loop import LoopConfig, train

    t0 = time.perf_counter()
    seeds = SeedTree(cfg.seed).child("seed", seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seeds.seed("torch", key, f"{lam:g}") % 2**63)
    env = make_env(cfg, lam)
    sim0 = env.sim
    learner = build_learner(key, cfg, lam, sim0, seeds)
    users = panel_users(cfg, seeds)
    esim = _sim_factory(sim0.config, sim0.world)(cfg.panel)
    m_t, tier = int(sim0.n_tiers), cfg.target_tier
    basic = np.asarray(sim0.basic_weights, dtype=np.float32)[-m_t:]
    base = exact_policy(esim, lambda obs: np.tile(basic, (obs.shape[0], 1)), users)

    def greedy(obs: np.ndarray) -> np.ndarray:
        return np.asarray(learner.act(np.asarray(obs, dtype=np.float32), explore=False))

    def exact_now() -> dict[str, float]:
        return summarise(exact_policy(esim, greedy, users), base, tier)

    start = {"iteration": -1, **_bounds_record(learner), "exact": exact_now()}

    def on_iteration(rec: dict[str, Any]) -> None:
        rec.update(_bounds_record(learner))
        done = rec["iteration"] + 1
        if done % cfg.eval_every == 0 or done == cfg.iterations:
            rec["exact"] = exact_now()

    loop = LoopConfig(iterations=cfg.iterations, seed=seeds.seed("train"))
    collector: Any = traffic_collector(env, cfg.steps, expected_reward=cfg.ddpg_reward == "expected")
    history = train(learner, collector, loop, on_iteration=on_iteration)
    final = exact_policy(esim, greedy, users)
    G = int(np.asarray(sim0.world.segment_pref).shape[0])
    return {"key": key, "lambda": lam, "seed": seed, "history": [start, *history],
            "final": {**summarise(final, base, tier), "by_segment": by_segment(final, base, tier, users["segment"], G)},
            "cem_sessions": int(getattr(learner, "cem_sessions", [0])[0]), "seconds": time.perf_counter() - t0}


def run_exact(cfg: TieredTrafficConfig, seed: int) -> dict[str, Any]:
    """The exact static baselines of seed index ``seed`` on its panel
    (:func:`simcore.experiments.tiered_traffic.optimum.static_optima`), the control
    bucket's values, and the panel's segments' mean affinity for the target tier."""
    from simcore.experiments.tiered_traffic.optimum import static_optima

    t0 = time.perf_counter()
    seeds = SeedTree(cfg.seed).child("seed", seed)
    env = make_env(cfg, cfg.headline_lambda)
    sim0 = env.sim
    users = panel_users(cfg, seeds)
    m_t, tier = int(sim0.n_tiers), cfg.target_tier
    G = int(np.asarray(sim0.world.segment_pref).shape[0])
    basic = np.asarray(sim0.basic_weights, dtype=np.float64)[-m_t:]
    make = _sim_factory(traffic_config(cfg, 1.0), sim0.world)
    res = static_optima(make, users, basic, tier, G, cfg.optimum_grid, cfg.optimum_grid_other, cfg.uplifts,
                        cfg.optimum_lambdas, cfg.headline_lambda)
    base = res.pop("basic")
    seg = np.asarray(users["segment"])
    aff = np.asarray(users["prefs"])[:, int(sim0.n_base) + tier]
    segments = [{"users": int((seg == g).sum()),
                 "affinity": float(aff[seg == g].mean()) if np.any(seg == g) else float("nan"),
                 "likes": float((aff[seg == g] > 0).mean()) if np.any(seg == g) else float("nan"),
                 "dislikes": float((aff[seg == g] < 0).mean()) if np.any(seg == g) else float("nan")}
                for g in range(G)]
    basic_gmv = float(base["gmv"].mean())
    basic_share = float(base["tier_impressions"][:, tier].sum() / base["impressions"].sum())
    return {"seed": seed, **res, "segments": segments, "basic_gmv": basic_gmv, "basic_share": basic_share,
            "seconds": time.perf_counter() - t0}
