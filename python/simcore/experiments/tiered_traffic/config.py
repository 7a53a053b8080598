"""Configuration of the tiered-traffic reproduction (torch-free).

Method keys (learners, each trained per seed): ``ddpg-cem`` (the article: DDPG with a
sigmoid head whose bounds CEM moves), ``ddpg-fixed`` (the same DDPG inside fixed
hand-set bounds), ``ddpg-cem-1d`` (DDPG + CEM exploring one tier dimension per
iteration: the article's current single-dimension exploration), ``cem-uniform`` (the
CEM's global action mu alone, the same for every user: a learned uniform
intervention), ``cem-segment`` (one CEM per user segment, each segment served its own
mean: a learned personalised intervention, a simcore extension; :mod:`.segment_cem`).
Exact baselines (simulator expectation mode, per seed's panel):
``uplift`` (the classic fixed up-weighting of the target tier by each amount of
``uplifts``), ``uniform-opt`` (the best static tier weights for everyone) and
``segment-opt`` (the best static tier weights per user segment: the hardest
baseline), both for the objective E[r] at every lambda of ``optimum_lambdas``
(Lagrangian sweep = the exact share-target frontier).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.algos.cem_bounds import CEMBoundsConfig
from simcore.algos.ddpg import DDPGConfig
from simcore.domains.traffic.config import TrafficConfig, TrafficRewardConfig

__all__ = ["TieredTrafficConfig", "LEARNERS", "learner_runs", "smoke_config", "full_config"]

#: learner keys
LEARNERS: tuple[str, ...] = ("ddpg-cem", "ddpg-fixed", "ddpg-cem-1d", "cem-uniform", "cem-segment")


def _default_ddpg() -> DDPGConfig:
    return DDPGConfig(gamma=0.8, hidden=(64, 64), batch_size=128, replay_capacity=20_000, warmup=256,
                      noise_std=0.15, reward_scale=1.0, actor_lr=1e-3, critic_lr=1e-3, tau=0.02)


def _default_cem() -> CEMBoundsConfig:
    return CEMBoundsConfig(n_candidates=10, elite_frac=0.3, alpha=0.003, init_std=0.25, min_std=0.02)


def _default_traffic() -> TrafficConfig:
    return TrafficConfig(reward=TrafficRewardConfig(price=1.0))


def _positive_int(name: str, v: object) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")


def _floats(name: str, v: tuple[float, ...], lo: float, hi: float, nonempty: bool = True) -> None:
    if nonempty and not v:
        raise ValueError(f"{name}: needs at least one value")
    if any(not (isinstance(x, (int, float)) and lo <= x <= hi) for x in v):
        raise ValueError(f"{name}: values must lie in [{lo:g}, {hi:g}], got {v!r}")


@dataclass(frozen=True)
class TieredTrafficConfig:
    """The tiered-traffic reproduction (defaults: about 5 minutes on 2 quiet cores;
    ``--preset full`` is the longer protocol; module docstring for the method keys).

    Attributes:
        traffic: the simulator (tiers, user affinity, GMV weights; its
            ``reward.lambdas`` are replaced per run by ``lambda`` on the target tier
            and 0 on the others).  Default: the package's traffic model with the
            reward's GMV term counting the paid price (``reward.price = 1``, besides
            the default click 0.1 / cart 0.3 / buy 1.0 weights), so that the reward's
            GMV and the GMV the claims measure are the same money.
        control: the control bucket pi_basic (also the base part of every policy):
            "gmv-opt" (default: the base weights of highest exact paid GMV with the
            tiers at 0, found once per run by CEM on a panel of ``control_panel``
            users: the article's premise that today's ranking is a local optimum of
            the market, so that a push costs GMV) or "ltr" (the package's fixed
            0.3 quality / 0.3 sales / 0.4 relevance control, which is not
            GMV-optimal: pushes can then raise GMV).
        control_panel: users of the control's panel (integer >= 8).
        control_iterations: CEM iterations for the "gmv-opt" control (integer >= 1).
        target_tier: index of the tier whose share is pushed (integer in [0, m_t);
            default 0, the high-brand tier: expensive, high quality, slower selling).
        lambdas: lambda of the target tier the learners in ``sweep_learners`` are
            trained at (each > 0; default (0.25, 0.5, 1): from a slight push to one
            that moves most pages; lambda is reward per page per unit of share).
        headline_lambda: the lambda of the claims table and of the learners not swept
            (must be in ``lambdas``; default 0.5).
        learners: learner keys trained at ``headline_lambda`` (subset of LEARNERS).
        sweep_learners: learner keys also trained at every lambda of ``lambdas``
            (subset of ``learners``; default ("ddpg-cem",); the full preset: all).
        uplifts: amounts delta of the classic fixed up-weighting (target tier weight
            = basic + delta), each in [0, 10].
        optimum_lambdas: lambdas of the exact uniform and per-segment optima (the
            exact frontier; each >= 0; include ``lambdas``' values for paired
            comparisons).
        optimum_grid: candidate values of the target tier's weight for the exact
            optima (each in [-10, 10]).
        optimum_grid_other: candidate values of every other tier's weight (each in
            [-10, 10]); the candidates are all combinations.
        fixed_low, fixed_high: the hand-set bounds of ``ddpg-fixed`` (every tier;
            fixed_low < fixed_high; default [-0.5, 0.5] = the CEM's initial bounds).
        seeds: training seeds (integer >= 1; default 5; CIs are Student-t over
            seed means).
        iterations: training iterations (integer >= 1); each is ``steps`` batched env
            steps of ``num_envs`` sessions, with one DDPG gradient step per env step,
            and (for the CEM methods) one CEM iteration.
        steps: batched env steps per iteration (integer >= 1).
        num_envs: sessions stepped together (integer >= 1).
        eval_every: greedy exact evaluation on the panel every this many iterations
            (integer >= 1; the transient curve).
        ddpg: DDPG hyper-parameters (seed set per run).
        cem: CEM bound settings (seed set per run; ``explore`` is forced to "one" for
            ddpg-cem-1d).  Its initial mean is the basic tier weights (bounds
            mu -/+ 2 sigma = [-0.5, 0.5] at init_std 0.25); alpha = 0.003 moves mu
            c = alpha |D| / sigma^2 = 14 % of the way to the elite mean at sigma = 0.25
            (capped at 100 % below sigma = 0.095).
        actor_barrier: beta of the log-barrier that keeps the DDPG actor's sigmoid
            unsaturated (:mod:`.barrier`; >= 0, 0: plain DDPG, whose sigmoid saturates
            within a few hundred gradient steps; default 0.1, set once from the
            gradient scales in that module's docstring; 0 and 0.1 compared in
            docs/tiered_traffic.md, section 4a).
        ddpg_reward: what the DDPG learners train on: "sampled" (default: the
            article's r from the sampled clicks, carts and purchase) or "expected"
            (the page's conditional expected reward, :mod:`.hooks`).
        cem_common: serve all CEM candidates of an iteration the same sessions
            (common random numbers; default True) rather than independent ones
            (:func:`.evaluate.cem_evaluator`).
        cem_warmup: CEM iterations run before DDPG starts (the article: CEM picks the
            initial bounds; integer >= 0).
        cem_reward: what a CEM candidate's sessions are scored by: "expected" (the
            sum of the pages' conditional expected rewards along the sampled
            sessions, unbiased for the return with the purchase / click / cart
            draws' noise removed: our stand-in for the article's "sufficient
            traffic" per candidate) or "sampled" (the sampled return of r; with the
            default budget its noise exceeds the candidates' differences).
        cem_chunk: sessions per chunk of a CEM candidate's evaluation (integer >= 2).
        cem_max_chunks: most chunks per candidate (integer >= 1).
        cem_rel_tol: a candidate's mean reward is confident when its 95 % half-width
            <= cem_rel_tol |mean| (> 0).
        panel: users of the exact evaluation panel per seed (integer >= 8).
        seed: root seed (integer >= 0).
        workers: processes (None: all cores, 1: in this process); results do not
            depend on it.
    """

    traffic: TrafficConfig = field(default_factory=_default_traffic)
    control: str = "gmv-opt"
    control_panel: int = 256
    control_iterations: int = 15
    target_tier: int = 0
    lambdas: tuple[float, ...] = (0.25, 0.5, 1.0)
    headline_lambda: float = 0.5
    learners: tuple[str, ...] = LEARNERS
    sweep_learners: tuple[str, ...] = ("ddpg-cem",)
    uplifts: tuple[float, ...] = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)
    optimum_lambdas: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
    optimum_grid: tuple[float, ...] = (-0.1, 0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3)
    optimum_grid_other: tuple[float, ...] = (-0.1, 0.0, 0.1)
    fixed_low: float = -0.5
    fixed_high: float = 0.5
    seeds: int = 5
    iterations: int = 40
    steps: int = 16
    num_envs: int = 32
    eval_every: int = 5
    ddpg: DDPGConfig = field(default_factory=_default_ddpg)
    cem: CEMBoundsConfig = field(default_factory=_default_cem)
    actor_barrier: float = 0.1
    ddpg_reward: str = "sampled"
    cem_common: bool = True
    cem_warmup: int = 3
    cem_reward: str = "expected"
    cem_chunk: int = 64
    cem_max_chunks: int = 3
    cem_rel_tol: float = 0.05
    panel: int = 256
    seed: int = 0
    workers: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.traffic, TrafficConfig):
            raise ValueError(f"traffic: expected a TrafficConfig, got {type(self.traffic).__name__}")
        mt = self.traffic.n_tiers
        if self.control not in ("gmv-opt", "ltr"):
            raise ValueError(f"control: expected 'gmv-opt' or 'ltr', got {self.control!r}")
        for name in ("control_panel", "control_iterations"):
            _positive_int(name, getattr(self, name))
        if self.control_panel < 8:
            raise ValueError(f"control_panel: must be >= 8, got {self.control_panel!r}")
        if not isinstance(self.target_tier, int) or not 0 <= self.target_tier < mt:
            raise ValueError(f"target_tier: must be an integer in [0, {mt}), got {self.target_tier!r}")
        _floats("lambdas", self.lambdas, 1e-9, 1e6)
        if self.headline_lambda not in self.lambdas:
            raise ValueError(f"headline_lambda: must be one of lambdas {self.lambdas!r}, got {self.headline_lambda!r}")
        for name in ("learners", "sweep_learners"):
            v = getattr(self, name)
            if set(v) - set(LEARNERS) or len(set(v)) != len(v):
                raise ValueError(f"{name}: expected distinct keys from {LEARNERS}, got {v!r}")
        if set(self.sweep_learners) - set(self.learners):
            raise ValueError(f"sweep_learners: must be a subset of learners, got {self.sweep_learners!r}")
        _floats("uplifts", self.uplifts, 0.0, 10.0)
        _floats("optimum_lambdas", self.optimum_lambdas, 0.0, 1e6)
        _floats("optimum_grid", self.optimum_grid, -10.0, 10.0)
        _floats("optimum_grid_other", self.optimum_grid_other, -10.0, 10.0)
        if not self.fixed_low < self.fixed_high:
            raise ValueError(f"fixed_low, fixed_high: need fixed_low < fixed_high, got {self.fixed_low}, "
                             f"{self.fixed_high}")
        for name in ("seeds", "iterations", "steps", "num_envs", "eval_every", "cem_max_chunks"):
            _positive_int(name, getattr(self, name))
        if not isinstance(self.cem_warmup, int) or self.cem_warmup < 0:
            raise ValueError(f"cem_warmup: must be an integer >= 0, got {self.cem_warmup!r}")
        if not (isinstance(self.actor_barrier, (int, float)) and not isinstance(self.actor_barrier, bool)
                and 0 <= self.actor_barrier < 1e6):
            raise ValueError(f"actor_barrier: must be a number in [0, 1e6), got {self.actor_barrier!r}")
        if self.ddpg_reward not in ("expected", "sampled"):
            raise ValueError(f"ddpg_reward: expected 'expected' or 'sampled', got {self.ddpg_reward!r}")
        if not isinstance(self.cem_common, bool):
            raise ValueError(f"cem_common: expected a bool, got {self.cem_common!r}")
        if self.cem_reward not in ("expected", "sampled"):
            raise ValueError(f"cem_reward: expected 'expected' or 'sampled', got {self.cem_reward!r}")
        if not isinstance(self.cem_chunk, int) or self.cem_chunk < 2:
            raise ValueError(f"cem_chunk: must be an integer >= 2, got {self.cem_chunk!r}")
        if not (isinstance(self.cem_rel_tol, (int, float)) and self.cem_rel_tol > 0):
            raise ValueError(f"cem_rel_tol: must be > 0, got {self.cem_rel_tol!r}")
        if not isinstance(self.panel, int) or self.panel < 8:
            raise ValueError(f"panel: must be an integer >= 8, got {self.panel!r}")
        if not isinstance(self.ddpg, DDPGConfig):
            raise ValueError(f"ddpg: expected a DDPGConfig, got {type(self.ddpg).__name__}")
        if not isinstance(self.cem, CEMBoundsConfig):
            raise ValueError(f"cem: expected a CEMBoundsConfig, got {type(self.cem).__name__}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")
        if self.workers is not None:
            _positive_int("workers", self.workers)

    def lambda_vector(self, lam: float) -> tuple[float, ...]:
        """The simulator's lambdas: ``lam`` on the target tier, 0 elsewhere."""
        return tuple(float(lam) if i == self.target_tier else 0.0 for i in range(self.traffic.n_tiers))


def learner_runs(cfg: TieredTrafficConfig) -> list[tuple[str, float]]:
    """(learner key, lambda) of every trained policy: each learner at the headline
    lambda, the swept ones at every lambda, and the control bucket once."""
    runs = [("basic", cfg.headline_lambda)]
    for key in cfg.learners:
        lams = cfg.lambdas if key in cfg.sweep_learners else (cfg.headline_lambda,)
        runs += [(key, float(lam)) for lam in lams]
    return runs


def smoke_config() -> TieredTrafficConfig:
    """A seconds-long run of every code path (numbers meaningless)."""
    return TieredTrafficConfig(lambdas=(1.0,), headline_lambda=1.0, seeds=2, iterations=3, steps=2, num_envs=8,
                               eval_every=2,
                               uplifts=(0.05, 0.1), optimum_lambdas=(0.0, 1.0), optimum_grid=(0.0, 0.1),
                               optimum_grid_other=(0.0,),
                               ddpg=DDPGConfig(hidden=(8,), batch_size=8, warmup=8, replay_capacity=256,
                                               reward_scale=1.0, noise_std=0.15),
                               cem_warmup=1, cem_chunk=8, cem_max_chunks=1, panel=16, control_panel=8,
                               control_iterations=1, workers=1)


def full_config() -> TieredTrafficConfig:
    """The longer protocol: 10 seeds, 5 lambdas for every learner, 4x the training."""
    return TieredTrafficConfig(lambdas=(0.1, 0.25, 0.5, 1.0, 2.0), seeds=10, iterations=160,
                               sweep_learners=LEARNERS, panel=512)
