"""Configuration of the engine-cost reproduction (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.domains.feature_cost.agent_config import AGENT_NAMES, FeatureSelectionAgentConfig

__all__ = ["EngineCostConfig", "LOSS_NAMES"]

#: the loss definitions t the threshold C applies to (see :mod:`.losses`)
LOSS_NAMES: tuple[str, ...] = ("pairs", "top-k", "kl")


def _positive_int(name: str, v: object) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")


def _check_thresholds(name: str, values: tuple[float, ...], hi: float) -> None:
    if not values:
        raise ValueError(f"{name}: needs at least one loss threshold C")
    if any(not 0 <= c <= hi for c in values):
        raise ValueError(f"{name}: must lie in [0, {hi:g}], got {values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: duplicate thresholds in {values!r}")


@dataclass(frozen=True)
class EngineCostConfig:
    """The engine-cost reproduction (defaults: about 4-5 minutes on 2 quiet cores;
    ``--preset full`` is the whole sweep).

    Attributes:
        n_train: training requests, the learners' pool and the greedy static fits
            (integer >= 1; default 2048).
        n_test: held-out requests every policy is measured on (integer >= 1; default
            256; the request-level CIs are over these).
        n_items: candidates per request (integer >= 2; default 200).
        context_strength: size of the designed context effects, 1 = as designed, 0 =
            none (the ablation); >= 0.
        losses: the loss definitions t of the env reward -cost - r_p [t > C], each
            with its own threshold grid: "pairs" (share of all candidate pairs the
            subset ranking orders unlike the full ranking; the article's t, grid
            ``thresholds``), "top-k" (only pairs touching the full ranking's top-k,
            k = ``top_k``; grid ``topk_thresholds``), "kl" (eq. 2's
            KL(softmax(F_o / T) || softmax(F_a / T)) in nats, T = ``kl_temperature``;
            grid ``kl_thresholds``).  The first one is the headline (default
            ("pairs",)); distinct names from LOSS_NAMES.
        thresholds: loss thresholds C of "pairs", fractions of pairs in [0, 1]
            (default (0.02, 0.05, 0.10)).
        topk_thresholds: thresholds C of "top-k", fractions of the counted pairs in
            [0, 1] (default (0.001, 0.003, 0.01, 0.02, 0.05): the per-request optimum
            saves from about 10 % to 75 % over it).
        kl_thresholds: thresholds C of "kl", nats in [0, 100] (default (0.0002,
            0.0005, 0.001, 0.003, 0.01), the optimum's savings spanning a similar range).
        top_k: k of the "top-k" loss definition (integer >= 1; default 10, the
            article's page size).
        kl_temperature: T of the "kl" loss definition's softmax (> 0; default 1).
        penalty: r_p, the penalty when a request's loss exceeds C (>= 0; > 1: never
            worth paying, the whole cost is 1).
        lambdas: lambda > 0 of the relaxed objective loss + lambda * cost fraction
            (headline loss), for the exhaustive and the static fronts.
        learned_lambdas: lambda > 0 values the actor-critic is also trained for
            (reward -cost - loss / lambda, headline loss, no threshold penalty); may
            be empty (default: empty; the full preset has (0.1, 0.2)).
        agents: learners trained at every threshold of the headline loss, a subset of
            ("actor-critic", "reinforce") (default both).
        sweep_agents: learners trained at every threshold of the other loss
            definitions (subset of the same names; default ("actor-critic",), the
            article's algorithm).
        seeds: training seeds per learned policy (integer >= 1; default 3; the
            between-seed CIs are Student-t over these; the full preset has 5).  Data,
            held-out requests and the user panel are the same for every seed.
        iterations: training iterations per learner, each num_envs episodes and one
            update (integer >= 1; default 400).
        num_envs: requests decided per training iteration (integer >= 1; default 256).
        agent: hyper-parameters of both learners (their ``seed`` and ``heads`` are set
            per run: one seed per learner and training seed, one head per feature).
        budgets: cost budgets of the greedy static subsets, fractions of the full cost
            in [0, 1].
        users_per_request: simulated users per held-out request for the GMV (integer
            >= 1; default 16).
        seed: root seed of data, learners, envs and the user panel (integer >= 0).
        threads: C++ kernel threads (None: all cores; else integer >= 1).
        workers: processes training the learners in parallel (None: all cores, 1:
            in this process); results do not depend on it.
    """

    n_train: int = 2048
    n_test: int = 256
    n_items: int = 200
    context_strength: float = 1.0
    losses: tuple[str, ...] = ("pairs",)
    thresholds: tuple[float, ...] = (0.02, 0.05, 0.10)
    topk_thresholds: tuple[float, ...] = (0.001, 0.003, 0.01, 0.02, 0.05)
    kl_thresholds: tuple[float, ...] = (0.0002, 0.0005, 0.001, 0.003, 0.01)
    top_k: int = 10
    kl_temperature: float = 1.0
    penalty: float = 1.5
    lambdas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
    learned_lambdas: tuple[float, ...] = ()
    agents: tuple[str, ...] = ("actor-critic", "reinforce")
    sweep_agents: tuple[str, ...] = ("actor-critic",)
    seeds: int = 3
    iterations: int = 400
    num_envs: int = 256
    agent: FeatureSelectionAgentConfig = field(default_factory=FeatureSelectionAgentConfig)
    budgets: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
    users_per_request: int = 16
    seed: int = 0
    threads: int | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "iterations", "num_envs", "users_per_request", "seeds", "top_k"):
            _positive_int(name, getattr(self, name))
        _positive_int("n_items", self.n_items)
        if self.n_items < 2:
            raise ValueError(f"n_items: must be >= 2, got {self.n_items!r}")
        if not self.context_strength >= 0:
            raise ValueError(f"context_strength: must be >= 0, got {self.context_strength!r}")
        for name in ("agents", "sweep_agents"):
            unknown = set(getattr(self, name)) - set(AGENT_NAMES)
            if unknown:
                raise ValueError(f"{name}: unknown {sorted(unknown)}; choose from {sorted(AGENT_NAMES)}")
        if not self.losses or set(self.losses) - set(LOSS_NAMES) or len(set(self.losses)) != len(self.losses):
            raise ValueError(f"losses: expected distinct names from {LOSS_NAMES}, got {self.losses!r}")
        _check_thresholds("thresholds", self.thresholds, 1.0)
        _check_thresholds("topk_thresholds", self.topk_thresholds, 1.0)
        _check_thresholds("kl_thresholds", self.kl_thresholds, 100.0)
        if not 0 < self.kl_temperature < float("inf"):
            raise ValueError(f"kl_temperature: must be > 0 and finite, got {self.kl_temperature!r}")
        if not self.penalty >= 0:
            raise ValueError(f"penalty: must be >= 0, got {self.penalty!r}")
        for name in ("lambdas", "learned_lambdas"):
            if any(not lam > 0 for lam in getattr(self, name)):
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        if any(not 0 <= b <= 1 for b in self.budgets):
            raise ValueError(f"budgets: must lie in [0, 1], got {self.budgets!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        for name in ("threads", "workers"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        if not isinstance(self.agent, FeatureSelectionAgentConfig):
            raise ValueError(f"agent: expected a FeatureSelectionAgentConfig, got {type(self.agent).__name__}")

    @property
    def headline(self) -> str:
        """The headline loss definition (the first of ``losses``)."""
        return self.losses[0]

    def thresholds_of(self, loss: str) -> tuple[float, ...]:
        """The threshold grid C of a loss definition."""
        return {"pairs": self.thresholds, "top-k": self.topk_thresholds, "kl": self.kl_thresholds}[loss]

    def agents_of(self, loss: str) -> tuple[str, ...]:
        """The learners trained at the thresholds of a loss definition."""
        return self.agents if loss == self.headline else self.sweep_agents
