"""Settings of the ranking experiment and its agent keys (no computation here)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig

#: learning agents
RL_AGENTS = ("dpg", "dpg-compat", "dpg-shaped", "ddpg", "ddpg-ltr", "dpg-fbe", "dpg-fbe-fitted", "segment-pg")
#: baselines
BASELINES = ("ltr-default", "ltr-click", "ltr-gmv", "cem", "static-opt", "segment-opt", "segment-opt-nonneg",
             "tabular-opt", "random")
ALL_AGENTS = RL_AGENTS + BASELINES
#: baselines that do not learn online: evaluated once, drawn flat in the learning curves
STATIC = ("ltr-default", "ltr-click", "ltr-gmv", "static-opt", "segment-opt", "segment-opt-nonneg", "tabular-opt",
          "random")
#: Stable-Baselines3 learners (benchmark only, ``budget_agents``; simcore.experiments.ranking.sb3)
SB3_AGENTS = ("sb3-ppo", "sb3-sac")
#: agents of the equal-budget comparison
BUDGET_AGENTS = RL_AGENTS + SB3_AGENTS
#: network agents (the slow runs, scheduled first)
NETWORK_AGENTS = ("ddpg", "ddpg-ltr", "dpg-fbe", "dpg-fbe-fitted", "segment-pg")
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
    "segment-pg": "segment-head PG (simcore)",
    "ltr-default": "fixed LTR default",
    "ltr-click": "LTR fit (clicks)",
    "ltr-gmv": "LTR fit (purchases x price)",
    "cem": "CEM static weights",
    "random": "random weights",
    "static-opt": "best static (CEM, exact GMV)",
    "segment-opt": "per-segment static optimum (CEM, exact GMV)",
    "segment-opt-nonneg": "per-segment optimum over non-negative weights (softmax DPG's class)",
    "tabular-opt": "per-state optimum over 10 vectors (tabular DP)",
    "sb3-ppo": "SB3 PPO (defaults)",
    "sb3-sac": "SB3 SAC (defaults)",
}

_POSITIVE_INTS = ("seeds", "num_envs", "iterations", "steps_per_iteration", "eval_every", "eval_steps",
                  "final_eval_steps", "log_steps", "ns_iterations", "workers", "exact_panel",
                  "segment_panel", "budget_iterations", "budget_steps")


@dataclass(frozen=True)
class RankingConfig:
    """Settings of the ranking experiment (defaults: about 530-570 s of CPU, ~5 min on 2 idle cores; docs/ranking.md).

    Attributes:
        seeds: independent training seeds (CIs are over seeds); default 5; integer >= 1.
        agents: agents to train, a subset of :data:`ALL_AGENTS`; default all but
            "dpg-fbe-fitted" and "tabular-opt" (``--preset full`` adds the latter);
            "segment-opt-nonneg" (the softmax actor's class) is in the default.
        num_envs: B, sessions stepped together; default 256; integer >= 1.
        iterations: training iterations per run (env re-seeded each iteration);
            default 40; integer >= 1.
        steps_per_iteration: batched steps per iteration; default 25; integer >= 1.
        eval_every: greedy evaluation every this many iterations (learning curves);
            default 4; integer >= 1.
        eval_steps: batched steps per learning-curve evaluation; default 20; integer >= 1.
        final_eval_steps: batched steps of the final evaluation (fresh seed per run);
            default 120; integer >= 1.
        log_steps: batched steps of the logging policy (LTR default + noise) whose
            sessions fit the LTR baselines and the fitted outcome model; default 100;
            integer >= 1.
        log_noise: std of the logging policy's Gaussian weight noise; default 0.3;
            finite, >= 0.
        world: the catalogue (default: N=1000, m=8, 64 queries; see WorldConfig).
        reward: env reward for the learners, "clicks" (the article's rule: price on
            purchase, else the number of clicks; default) or "gmv".
        dpg: overrides of :class:`simcore.algos.dpg.DPGConfig` for the DPG agents
            (default none; "dpg-compat" also sets ``compatible_features=True``).
        shaping_weight: beta of the reward-shaping potential ("dpg-shaped"); default
            1.0; finite, >= 0.
        shaping_mode: "article" (r + beta Phi; default) or "centred" (see
            simcore.domains.search.agents.shaping.PotentialShaping).
        ddpg: overrides of :class:`simcore.algos.ddpg.DDPGConfig` (DDPG and FBE);
            default ``{"updates_per_batch": 4, "batch_size": 1024}`` (4 gradient steps
            of 1,024-transition minibatches per vector step of 256 pages; 1 step of 256,
            DDPGConfig's own default, leaves FBE far below the per-segment optimum;
            docs/ranking.md, "Making the learners good enough").
        ltr_weight: lambda of "ddpg-ltr"'s LTR term; default 0.1; finite, >= 0.
        fbe_reward: expected reward DPG-FBE backs up, "gmv" (as Hu et al.; default) or
            "clicks".
        cem: overrides of :class:`simcore.algos.cem.CEMConfig` (default none; the
            score column is the purchase price, GMV).
        segment_pg: overrides of :class:`simcore.algos.segment_pg.SegmentPGConfig`
            for "segment-pg" (simcore's segment-head policy gradient; ``n_segments``
            is set from the world); default ``{"lam": 0.5, "learn_std": False,
            "init_std": 0.1, "epochs": 4, "minibatch": 1024}`` (chosen on tuning
            seeds, base seed 1000; docs/ranking.md, "A learner that reads the
            segment").
        budget_segment_pg: overrides on top of ``segment_pg`` in the equal-budget
            runs; default ``{"init_std": 0.2, "epochs": 10, "minibatch": 256}``.
        nonstationary_agents: agents also run with a mid-run user-behaviour shift,
            a subset of :data:`ALL_AGENTS`; default ("dpg",); () skips the run.
        ns_iterations: iterations of the non-stationary run (shift at half-way);
            default 60; integer >= 2.
        shift_user: UserModelConfig overrides after the shift; default buy_bias -4.5,
            price_fit 1.0, anchor 0.0.
        shift_segment_probs: segment mix after the shift (None: unchanged); default
            (0.1, 0.1, 0.1, 0.7).
        exact_panel: users of the held-out panel (named stream ``exact-panel``) on
            which every final policy's exact expected GMV is computed (expectation
            mode, :func:`simcore.experiments.ranking.optimum.exact_policy_gmv`);
            default 1024; integer >= 1.
        segment_panel: users of the panel the per-segment optimum ("segment-opt") is
            optimised on (stream ``segment-opt/panel``; about a quarter per
            segment); default 512; integer >= 1.
        budget_agents: agents of the equal-budget comparison, a subset of
            :data:`BUDGET_AGENTS` (simcore's learners and Stable-Baselines3's
            "sb3-ppo", "sb3-sac", which need stable-baselines3); each trains for
            ``budget_iterations * budget_steps * num_envs`` env steps (pages,
            :attr:`budget_pages`) and is evaluated like every agent; default () (no
            comparison; ``--preset full`` runs segment-pg, dpg-fbe, ddpg, sb3-ppo and
            sb3-sac).
        budget_iterations: iterations of the equal-budget runs; default 1; integer >= 1.
        budget_steps: batched steps per iteration of the equal-budget runs; default 32
            (1 x 32 x 256 = 8,192 pages, exactly 4 of PPO's 2,048-step rollouts);
            integer >= 1.
        budget_ddpg: DDPGConfig overrides on top of ``ddpg`` for simcore's network
            learners in the equal-budget runs (few env steps, so more gradient steps
            per env step); default ``{"updates_per_batch": 16, "warmup": 1024}``.
        early_frac: fraction of the run defining "early" learning (shaping and
            LTR-term comparisons use the mean greedy GMV over the evaluations in it);
            default 0.25; in (0, 1].
        workers: processes (1: run inline); default 2; integer >= 1.  Results do not
            depend on it.
        seed: base seed; default 0; integer >= 0.
    """

    seeds: int = 5
    agents: tuple[str, ...] = (
        "dpg", "dpg-compat", "dpg-shaped", "ddpg", "ddpg-ltr", "dpg-fbe", "segment-pg",
        "ltr-default", "ltr-click", "ltr-gmv", "cem", "static-opt", "segment-opt", "segment-opt-nonneg", "random",
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
    ddpg: dict[str, Any] = field(default_factory=lambda: {"updates_per_batch": 4, "batch_size": 1024})
    ltr_weight: float = 0.1
    fbe_reward: str = "gmv"
    cem: dict[str, Any] = field(default_factory=dict)
    segment_pg: dict[str, Any] = field(default_factory=lambda: {
        "lam": 0.5, "learn_std": False, "init_std": 0.1, "epochs": 4, "minibatch": 1024})
    budget_segment_pg: dict[str, Any] = field(default_factory=lambda: {"init_std": 0.2, "epochs": 10,
                                                                       "minibatch": 256})
    nonstationary_agents: tuple[str, ...] = ("dpg",)
    ns_iterations: int = 60
    shift_user: dict[str, Any] = field(
        default_factory=lambda: {"buy_bias": -4.5, "price_fit": 1.0, "anchor": 0.0}
    )
    shift_segment_probs: tuple[float, ...] | None = (0.1, 0.1, 0.1, 0.7)
    exact_panel: int = 1024
    segment_panel: int = 512
    budget_agents: tuple[str, ...] = ()
    budget_iterations: int = 1
    budget_steps: int = 32
    budget_ddpg: dict[str, Any] = field(default_factory=lambda: {"updates_per_batch": 16, "warmup": 1024})
    early_frac: float = 0.25
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("agents", "nonstationary_agents"):
            unknown = set(getattr(self, name)) - set(ALL_AGENTS)
            if unknown:
                raise ValueError(f"{name}: unknown {sorted(unknown)}; known: {list(ALL_AGENTS)}")
        unknown = set(self.budget_agents) - set(BUDGET_AGENTS)
        if unknown:
            raise ValueError(f"budget_agents: unknown {sorted(unknown)}; known: {list(BUDGET_AGENTS)}")
        for name in _POSITIVE_INTS:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        if self.reward not in ("gmv", "clicks"):
            raise ValueError(f"reward: must be 'gmv' or 'clicks', got {self.reward!r}")
        if self.fbe_reward not in ("gmv", "clicks"):
            raise ValueError(f"fbe_reward: must be 'gmv' or 'clicks', got {self.fbe_reward!r}")
        if self.shaping_mode not in ("article", "centred"):
            raise ValueError(f"shaping_mode: must be 'article' or 'centred', got {self.shaping_mode!r}")
        for name in ("log_noise", "shaping_weight", "ltr_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v < float("inf"):
                raise ValueError(f"{name}: must be a finite number >= 0, got {v!r}")
        if self.ns_iterations < 2:
            raise ValueError(f"ns_iterations: needs >= 2 (the shift is at half-way), got {self.ns_iterations}")
        if not 0 < self.early_frac <= 1:
            raise ValueError(f"early_frac: must lie in (0, 1], got {self.early_frac!r}")

    @property
    def budget_pages(self) -> int:
        """Env steps (pages) of each equal-budget run: budget_iterations * budget_steps * num_envs."""
        return self.budget_iterations * self.budget_steps * self.num_envs

    def session_config(self, shifted: bool = False) -> SessionConfig:
        """The env's session config (after the behaviour shift if ``shifted``)."""
        world, user = self.world, UserModelConfig()
        if shifted:
            user = dataclasses.replace(user, **self.shift_user)
            if self.shift_segment_probs is not None:
                world = dataclasses.replace(world, segment_probs=tuple(self.shift_segment_probs))
        return SessionConfig(world=world, user=user, reward=self.reward, num_threads=1)


#: the longer documented setting (``--preset long``), as overrides of the defaults
LONG: dict[str, Any] = dict(seeds=5, iterations=120, steps_per_iteration=25, ns_iterations=120,
            final_eval_steps=240, agents=ALL_AGENTS, nonstationary_agents=("dpg", "dpg-fbe"))


def long_config() -> RankingConfig:
    """The ``long`` preset (``--preset long``): 5 seeds, 3x longer runs, every agent; docs/ranking.md."""
    return RankingConfig(**LONG)


#: the full comparison (``--preset full``): the default run plus the equal-budget
#: comparison with Stable-Baselines3 (needs stable-baselines3, extra ``clients``)
FULL: dict[str, Any] = dict(budget_agents=("segment-pg", "dpg-fbe", "ddpg", "sb3-ppo", "sb3-sac"),
                            agents=RankingConfig.__dataclass_fields__["agents"].default + ("tabular-opt",))


def full_config() -> RankingConfig:
    """The ``full`` preset (``--preset full``): the default run and the equal-budget
    comparison of simcore's DPG-FBE and DDPG with SB3 PPO and SAC; docs/ranking.md."""
    return RankingConfig(**FULL)
