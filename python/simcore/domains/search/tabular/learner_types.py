"""Settings and results of the tabular learners (:mod:`~simcore.domains.search.tabular.learners`)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LearnerConfig:
    """Settings shared by the tabular learners.

    Attributes:
        sessions: sessions per run (the article: 800,000).
        lanes: P, concurrent sessions per run (the minibatch of a batched update).
        step_exponent: omega in (0.5, 1]: step size (n + 1)^-omega for Q / critic cells.
        step_min: lower bound of that step size (0: decays forever).
        epsilon_start, epsilon_end: Q-learning's exploration rate decays linearly
            from start to end over the first ``epsilon_decay`` fraction of sessions.
        epsilon_decay: fraction of sessions of the decay (0: constant epsilon_end).
        optimistic: Q-learning starts every Q at the largest price in the model (an
            upper bound of any return), so each action is tried once per visited
            state before its estimate counts (the first update replaces the initial
            value); False starts at 0.
        actor_lr: actor-critic's preference step per unit of delta / reward_scale.
        reward_scale: scale of delta in the actor update (None: mean of m over the model).
        curve_points: bins of the learning curve (average GMV per session per bin).
        checkpoints: times the exact value of the current policy is computed.
    """

    sessions: int = 800_000
    lanes: int = 100
    step_exponent: float = 0.8
    step_min: float = 0.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay: float = 0.5
    optimistic: bool = False
    actor_lr: float = 0.05
    reward_scale: float | None = None
    curve_points: int = 100
    checkpoints: int = 20

    def __post_init__(self) -> None:
        for name in ("sessions", "lanes", "curve_points", "checkpoints"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not 0.5 < self.step_exponent <= 1.0:
            raise ValueError(f"step_exponent: must lie in (0.5, 1], got {self.step_exponent!r}")
        if not 0.0 <= self.step_min <= 1.0:
            raise ValueError(f"step_min: must lie in [0, 1], got {self.step_min!r}")
        for name in ("epsilon_start", "epsilon_end", "epsilon_decay"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must lie in [0, 1], got {getattr(self, name)!r}")
        if not self.actor_lr > 0:
            raise ValueError(f"actor_lr: must be > 0, got {self.actor_lr!r}")
        if self.reward_scale is not None and not self.reward_scale > 0:
            raise ValueError(f"reward_scale: must be None or > 0, got {self.reward_scale!r}")


@dataclass
class LearnResult:
    """What a batch of R runs of one learner at one gamma produced.

    Attributes:
        algorithm: "q_learning" or "actor_critic".
        gamma: the discount rate.
        greedy: int8 (R, S) the final greedy action per state (argmax Q or argmax theta).
        probs: float32 (R, S, A) the final policy's action probabilities for
            actor-critic (softmax(theta)); None for Q-learning (whose final policy is
            ``greedy``).
        v_h0: float64 (R,) the learner's own final estimate of V_gamma(h0)
            (sum_g p_g max_a Q(s0_g, a), or the critic's sum_g p_g V(s0_g)).
        curve_sessions: int64 (B,) sessions completed at the end of each curve bin.
        curve_gmv: float64 (R, B) average GMV per session of the sessions in each bin
            (the behaviour policy, exploration included).
        ckpt_sessions: int64 (C,) sessions per run at each checkpoint.
        ckpt_v_h0: float64 (R, C) the learner's V_gamma(h0) estimate at checkpoints.
        ckpt_gmv: float64 (R, C) exact expected GMV (model) of the current final-form
            policy (greedy for Q-learning, softmax for actor-critic) at checkpoints.
        ckpt_v_exact: float64 (R, C) its exact V_gamma(h0).
        lane_steps: pages simulated (all runs).
        seconds: wall time.
    """

    algorithm: str
    gamma: float
    greedy: np.ndarray
    probs: np.ndarray | None
    v_h0: np.ndarray
    curve_sessions: np.ndarray
    curve_gmv: np.ndarray
    ckpt_sessions: np.ndarray
    ckpt_v_h0: np.ndarray
    ckpt_gmv: np.ndarray
    ckpt_v_exact: np.ndarray
    lane_steps: int
    seconds: float

    @property
    def final_policy(self) -> np.ndarray:
        """(R, S) int actions or (R, S, A) probabilities: what is evaluated."""
        return self.greedy if self.probs is None else self.probs
