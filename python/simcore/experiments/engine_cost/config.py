"""Configuration of the engine-cost reproduction (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.domains.feature_cost.agent_config import AGENT_NAMES, FeatureSelectionAgentConfig

__all__ = ["EngineCostConfig"]


def _positive_int(name: str, v: object) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")


@dataclass(frozen=True)
class EngineCostConfig:
    """The engine-cost reproduction (defaults: about 3 minutes on 2 busy cores).

    Attributes:
        n_train: training requests, the learners' pool and the greedy static fits
            (integer >= 1).
        n_test: held-out requests every policy is measured on (integer >= 1; the CIs
            are over these requests).
        n_items: candidates per request (integer >= 2).
        context_strength: size of the designed context effects, 1 = as designed, 0 =
            none (the ablation); >= 0.
        thresholds: loss thresholds C of the env reward, fractions of discordant pairs
            in [0, 1]; at least one.
        penalty: r_p, the penalty when a request's loss exceeds C (>= 0; > 1: never
            worth paying, the whole cost is 1).
        lambdas: lambda > 0 of the relaxed objective loss + lambda * cost fraction,
            for the exhaustive and the static fronts.
        learned_lambdas: lambda > 0 values the actor-critic is also trained for
            (reward -cost - loss / lambda, no threshold penalty); may be empty.
        agents: learners trained for every threshold, a subset of ("actor-critic",
            "reinforce").
        iterations: training iterations per learner, each num_envs episodes and one
            update (integer >= 1).
        num_envs: requests decided per training iteration (integer >= 1).
        agent: hyper-parameters of both learners (their ``seed`` and ``heads`` are set
            per run: one seed per learner, one head per feature).
        budgets: cost budgets of the greedy static subsets, fractions of the full cost
            in [0, 1].
        top_k: None: the pairwise loss counts all pairs; k >= 1: only pairs touching
            the full ranking's top-k.
        users_per_request: simulated users per held-out request for the GMV (integer
            >= 1).
        seed: master seed of data, learners, envs and the user panel (integer >= 0).
        threads: C++ kernel threads (None: all cores; else integer >= 1).
        workers: processes training the learners in parallel (None: all cores, 1:
            in this process); results do not depend on it.
    """

    n_train: int = 2048
    n_test: int = 256
    n_items: int = 200
    context_strength: float = 1.0
    thresholds: tuple[float, ...] = (0.02, 0.05, 0.10)
    penalty: float = 1.5
    lambdas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
    learned_lambdas: tuple[float, ...] = (0.1, 0.2)
    agents: tuple[str, ...] = ("actor-critic", "reinforce")
    iterations: int = 400
    num_envs: int = 256
    agent: FeatureSelectionAgentConfig = field(default_factory=FeatureSelectionAgentConfig)
    budgets: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
    top_k: int | None = None
    users_per_request: int = 16
    seed: int = 0
    threads: int | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "iterations", "num_envs", "users_per_request"):
            _positive_int(name, getattr(self, name))
        _positive_int("n_items", self.n_items)
        if self.n_items < 2:
            raise ValueError(f"n_items: must be >= 2, got {self.n_items!r}")
        if not self.context_strength >= 0:
            raise ValueError(f"context_strength: must be >= 0, got {self.context_strength!r}")
        unknown = set(self.agents) - set(AGENT_NAMES)
        if unknown:
            raise ValueError(f"agents: unknown {sorted(unknown)}; choose from {sorted(AGENT_NAMES)}")
        if not self.thresholds:
            raise ValueError("thresholds: needs at least one loss threshold C")
        if any(not 0 <= c <= 1 for c in self.thresholds):
            raise ValueError(f"thresholds: must lie in [0, 1], got {self.thresholds!r}")
        if not self.penalty >= 0:
            raise ValueError(f"penalty: must be >= 0, got {self.penalty!r}")
        for name in ("lambdas", "learned_lambdas"):
            if any(not lam > 0 for lam in getattr(self, name)):
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        if any(not 0 <= b <= 1 for b in self.budgets):
            raise ValueError(f"budgets: must lie in [0, 1], got {self.budgets!r}")
        if self.top_k is not None:
            _positive_int("top_k", self.top_k)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        for name in ("threads", "workers"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        if not isinstance(self.agent, FeatureSelectionAgentConfig):
            raise ValueError(f"agent: expected a FeatureSelectionAgentConfig, got {type(self.agent).__name__}")
