"""The ranking experiment's agents: every agent key built for a search vector env, with
the search-domain terms wired into the generic learners; the logging policy whose
sessions fit the LTR baselines and the outcome model; the best static weights found
on the simulator's exact expected GMV."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos.cem import CEMConfig, CEMWeights
from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.dpg import DPGConfig, LinearDPG
from simcore.algos.fixed import FixedWeights
from simcore.algos.protocol import Batch
from simcore.algos.random_weights import RandomWeights
from simcore.algos.segment_pg import SegmentPG, SegmentPGConfig
from simcore.domains.search.agents.fbe import dpg_fbe
from simcore.domains.search.agents.fusion import LTRFusion, LTRFusionConfig
from simcore.domains.search.agents.ltr import FittedLTR
from simcore.domains.search.agents.outcome_model import OutcomeModel
from simcore.domains.search.agents.shaping import PotentialShaping
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.training import search_collector
from simcore.domains.search.world import default_action_set
from simcore.experiments.ranking.config import RankingConfig
from simcore.experiments.ranking.optimum import (
    SegmentWeights,
    SequenceWeights,
    candidates_gmv,
    cem_exact,
    optimise_segments,
    tabular_optimum,
)
from simcore.runner import SeedTree
from simcore.train.loop import collect


class _NoisyFixed:
    """The logging policy: fixed weights plus Gaussian noise (its own Generator)."""

    name = "logging"

    def __init__(self, weights: np.ndarray, std: float, rng: np.random.Generator) -> None:
        self.w = np.asarray(weights, dtype=np.float64)
        self.std = std
        self.rng = rng

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        a = self.w + self.std * self.rng.standard_normal((obs.shape[0], self.w.size))
        return np.clip(a, -1, 1).astype(np.float32)


def _logs(cfg: RankingConfig, env: Any, seeds: SeedTree) -> Batch:
    """Logged sessions of the logging policy (LTR default + noise) on ``env``; the
    noise and the sessions draw from the run's streams ``("logs", "noise")`` and
    ``("logs", "env")``."""
    policy = _NoisyFixed(default_action_set(env.sim.num_features)[0], cfg.log_noise,
                         seeds.generator("logs", "noise"))
    logs, _ = collect(policy, search_collector(env, cfg.log_steps), None, seed=seeds.seed("logs", "env"))
    return logs


def build_agent(key: str, cfg: RankingConfig, env: Any, seeds: SeedTree) -> Any:
    """A fresh agent ``key`` for ``env`` (fitting LTR / outcome models on logs first).

    The search-domain terms are wired in here: the LTR fusion term (weight 0 for
    "ddpg" and DPG-FBE, which then report ``ltr_ce = 0``), the shaping potential of
    "dpg-shaped", DPG-FBE's full expected backup, CEM scored by GMV (``price``).
    """
    D, m = env.sim.obs_dim, env.sim.num_features
    seed = seeds.seed("agent", key)  # network init, exploration, replay sampling
    if key in ("dpg", "dpg-compat", "dpg-shaped"):
        kw = {**cfg.dpg, "seed": seed}
        if key == "dpg-compat":
            kw["compatible_features"] = True
        shaping = PotentialShaping(cfg.shaping_mode, cfg.shaping_weight) if key == "dpg-shaped" else None
        agent: Any = LinearDPG(D, m, DPGConfig(**kw), shaping=shaping)
    elif key in ("ddpg", "ddpg-ltr"):
        lam = cfg.ltr_weight if key == "ddpg-ltr" else 0.0
        agent = DDPG(D, m, DDPGConfig(**{**cfg.ddpg, "seed": seed}),
                     actor_term=LTRFusion(LTRFusionConfig(weight=lam)))
    elif key in ("dpg-fbe", "dpg-fbe-fitted"):
        model = OutcomeModel().fit(_logs(cfg, env, seeds)) if key == "dpg-fbe-fitted" else None
        agent = dpg_fbe(D, m, DDPGConfig(**{**cfg.ddpg, "seed": seed}), reward=cfg.fbe_reward,
                        outcome_model=model, actor_term=LTRFusion(LTRFusionConfig(weight=0.0)))
    elif key == "segment-pg":
        G = int(env.sim.world.segment_pref.shape[0])
        agent = SegmentPG(D, m, SegmentPGConfig(**{"n_segments": G, **cfg.segment_pg, "seed": seed}))
    elif key == "ltr-default":
        agent = FixedWeights(default_action_set(m)[0], name="ltr-default")
    elif key == "ltr-click":
        agent = FittedLTR(m, label="click_or_purchase").fit(_logs(cfg, env, seeds))
    elif key == "ltr-gmv":
        agent = FittedLTR(m, label="purchase", purchase_weight="price").fit(_logs(cfg, env, seeds))
    elif key == "cem":
        agent = CEMWeights(m, CEMConfig(**{"score_column": "price", **cfg.cem, "seed": seed}))
    elif key == "random":
        agent = RandomWeights(m, seed=seed)
    elif key == "static-opt":
        agent = FixedWeights(optimise_static(cfg, env, seeds.child("static-opt"))["weights"], name=key)
    elif key == "segment-opt":
        agent = SegmentWeights(optimise_segment_weights(cfg, env, seeds)["weights"], name=key)
    elif key == "segment-opt-nonneg":
        agent = SegmentWeights(optimise_segment_weights(cfg, env, seeds, low=0.0)["weights"], name=key)
    elif key == "tabular-opt":
        tab = optimise_tabular(cfg, env, seeds)
        agent = SequenceWeights(tab["actions"], tab["paths"], name=key)
    else:
        raise ValueError(f"agent: unknown {key!r}")
    agent.name = key
    return agent


def optimise_static(cfg: RankingConfig, env: Any, seeds: SeedTree, panel: int = 128, n_candidates: int = 24,
                    iterations: int = 12) -> dict[str, Any]:
    """The best static weights we can find: CEM on the *exact* expected GMV of a panel of
    ``panel`` users (simulator expectation mode), not limited by the online budget.

    Returns ``{"weights": float (m,), "exact_gmv": float, "history": [best per iteration]}``.
    """
    m = env.sim.num_features
    rng = seeds.generator("cem")
    sim = SearchSimulator(env.sim.config, num_sessions=n_candidates * panel, world=env.sim.world)
    draw = SearchSimulator(env.sim.config, num_sessions=panel, seed=seeds.seed("panel"), world=env.sim.world)
    draw.reset()
    users = draw.users()
    best_w, best_v, hist = cem_exact(lambda C: candidates_gmv(sim, C, users), np.zeros(m), np.full(m, 0.6),
                                     rng, n_candidates, iterations)
    return {"weights": best_w, "exact_gmv": best_v, "history": hist}


def optimise_segment_weights(cfg: RankingConfig, env: Any, seeds: SeedTree, low: float = -1.0) -> dict[str, Any]:
    """The per-segment static optimum (:func:`simcore.experiments.ranking.optimum.optimise_segments`)
    on a panel of ``cfg.segment_panel`` users (stream ``("segment-opt", "panel")``; CEM
    stream ``("segment-opt", "cem")``), with the global static optimum (streams
    ``static-opt/*``, as agent "static-opt") and the named vectors among the first
    candidates of every segment.  ``low=0``: over non-negative weights only (agent
    "segment-opt-nonneg", the article's softmax actor's class; same panel, CEM stream
    ``("segment-opt-nonneg", "cem")``, candidates clipped at 0)."""
    sim0 = env.sim
    static = optimise_static(cfg, env, seeds.child("static-opt"))["weights"]
    include = np.vstack([static, default_action_set(sim0.num_features)])
    draw = SearchSimulator(sim0.config, num_sessions=cfg.segment_panel, seed=seeds.seed("segment-opt", "panel"),
                           world=sim0.world)
    draw.reset()
    users = {k: np.array(v, copy=True) for k, v in draw.users().items()}
    G = int(sim0.world.segment_pref.shape[0])
    stream = "segment-opt" if low == -1.0 else "segment-opt-nonneg"
    res = optimise_segments(lambda n: SearchSimulator(sim0.config, num_sessions=n, world=sim0.world), users, G,
                            include, seeds.generator(stream, "cem"), low=low)
    return {**res, "include": include, "users": users}


def optimise_tabular(cfg: RankingConfig, env: Any, seeds: SeedTree) -> dict[str, Any]:
    """The per-state optimum over the action set {per-segment optimum's vectors, global
    static optimum, named vectors} (:func:`simcore.experiments.ranking.optimum.tabular_optimum`,
    memory 1, model stream ``("tabular-opt", "model")``), checked on the per-segment
    optimum's panel.  Returns its result plus ``"actions"`` float (A, m)."""
    seg = optimise_segment_weights(cfg, env, seeds)
    actions = np.vstack([seg["weights"], seg["include"]])
    res = tabular_optimum(env.sim.config, actions, seg["users"], seeds.seed("tabular-opt", "model"))
    return {**res, "actions": actions}
