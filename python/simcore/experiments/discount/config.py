"""Settings of the discount study: :class:`DiscountConfig` (and its
:class:`SensitivityConfig`), the ``full`` and ``sensitivity`` presets, and the names
every stage and the report share (:data:`ALGORITHMS`, :data:`LEARNERS`,
:data:`LABELS`, :data:`STATES`, :func:`gamma_key`).

Every field is documented (meaning, default, valid range) and checked at
construction; a bad value raises ValueError naming the field, which the generated
CLI (``simcore reproduce discount --set PATH=VALUE``) turns into exit code 2.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simcore.domains.search.config import SessionConfig, UserModelConfig
from simcore.domains.search.tabular.learners import LearnerConfig
from simcore.domains.search.tabular.space import StateSpace

#: every algorithm of the study, in report order
ALGORITHMS = ("dp", "q_learning", "actor_critic")
#: the sampled learners (run R times per gamma)
LEARNERS = ("q_learning", "actor_critic")
#: display names
LABELS = {"dp": "DP", "q_learning": "Q-learning", "actor_critic": "Actor-critic"}

#: the tabular states compared: the article's segment-free (t, last L actions) and
#: (t, last L actions, user segment)
STATES = ("history", "segment")
#: display names of the states
STATE_LABELS = {"history": "(t, last L actions)", "segment": "(t, last L actions, segment)"}
#: the user-model parameters the sensitivity study can vary
SWEEP_PARAMS = ("price_aversion", "leave_frustration", "click_intent")
#: the calibrated fields re-fitted to fig. 3 at every sensitivity point
CALIBRATED = ("buy_bias", "leave_bias", "leave_fatigue", "patience_noise", "saturation", "click_intent")


def gamma_key(g: float) -> str:
    """results.json key of a discount rate: "0.0", "0.1", ..., "1.0"."""
    return repr(float(g))


def _int(name: str, v: object, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
        raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")


def _floats(name: str, v: object, lo: float, hi: float) -> None:
    if not isinstance(v, tuple) or any(isinstance(x, bool) or not isinstance(x, numbers.Real)
                                       or not lo <= float(x) <= hi for x in v):
        raise ValueError(f"{name}: expected a tuple of numbers in [{lo:g}, {hi:g}], got {v!r}")
    if len(set(float(x) for x in v)) != len(v):
        raise ValueError(f"{name}: duplicates in {v!r}")


@dataclass(frozen=True)
class SensitivityConfig:
    """The sensitivity study (``--preset sensitivity``): the whole multi-seed study
    repeated with one user-model parameter changed at a time, the calibrated fields
    re-fitted to the article's fig. 3 at every point.

    Attributes:
        price_aversion: values of session.user.price_aversion (eta) to run (default
            (): none); each in [0, 50], no duplicates.
        leave_frustration: values of session.user.leave_frustration (beta_F)
            (default ()); each in [0, 50], no duplicates.
        click_intent: values of session.user.click_intent (beta_E; not re-fitted
            when swept) (default ()); each in [0, 5], no duplicates.
        calibration_users: users of the panel the fig. 3 fit uses at each point
            (default 1,000); integer >= 10.
        refit: the calibrated fields re-fitted at each point (default buy_bias,
            leave_bias, leave_fatigue, patience_noise, saturation, click_intent; the
            swept parameter itself is never re-fitted); names of real
            UserModelConfig fields; () keeps them at their current values.
    """

    price_aversion: tuple[float, ...] = ()
    leave_frustration: tuple[float, ...] = ()
    click_intent: tuple[float, ...] = ()
    calibration_users: int = 1_000
    refit: tuple[str, ...] = CALIBRATED

    def __post_init__(self) -> None:
        _floats("price_aversion", self.price_aversion, 0.0, 50.0)
        _floats("leave_frustration", self.leave_frustration, 0.0, 50.0)
        _floats("click_intent", self.click_intent, 0.0, 5.0)
        _int("calibration_users", self.calibration_users, 10)
        user = {f.name for f in dataclasses.fields(UserModelConfig)}
        if not isinstance(self.refit, tuple) or any(n not in user for n in self.refit):
            raise ValueError(f"refit: expected UserModelConfig field names, got {self.refit!r}")

    def points(self) -> list[tuple[str, float]]:
        """(parameter, value) of every sensitivity point, in axis order."""
        return [(p, float(v)) for p in SWEEP_PARAMS for v in getattr(self, p)]


@dataclass(frozen=True)
class DiscountConfig:
    """Settings of the discount study (defaults: the ~3 minute run on 2 cores).

    Attributes:
        session: the simulator (default: the package defaults, i.e. the user model
            calibrated to the article's fig. 3; K = page_size = 10, max_steps = 30
            pages, the article's horizon); a SessionConfig.
        actions: ranking weight vectors to choose from, one tuple of m finite floats
            each, m = session.world.n_features (default None: the 5 vectors of
            simcore.domains.search.world.default_action_set); at least one.
        gammas: discount rates (default 0, 0.1, 0.5, 0.9, 1, the article's); each in
            [0, 1], at least one, no duplicates.
        states: tabular states to study (default ("history", "segment")): "history"
            is the article's (t, last L actions), "segment" adds the user's segment;
            distinct names from those two, at least one.
        memory: L, actions remembered by the tabular state (default 4); integer >= 0
            and small enough for the state space to be built.
        n_seeds: independent replicates of the whole study (model, tree, learners,
            evaluation), the unit of the between-seed 95 % CIs (default 5); integer
            >= 1 (>= 2 for a CI; conclusions use >= 5).
        runs: R, independent runs per learner, gamma and seed (default 3; the article
            50); integer >= 1.
        sessions: S, sessions per run (default 50,000; the article 800,000);
            integer >= 1.
        learner: learner settings (default LearnerConfig(); its ``sessions`` is
            replaced by ``sessions``); a LearnerConfig.
        model_sessions: users run under uniform random actions to estimate the models
            (default 10,000); integer >= 1.
        refine_rounds: further estimation rounds along the current DP policies of
            every state (default 2); integer >= 0.
        refine_sessions: users per refinement round (default 5,000); integer >= 0,
            >= 1 when refine_rounds > 0.
        refine_epsilon: random-action rate of the refinement rounds (default 0.2);
            in [0, 1].
        min_ess: back-off threshold of the model estimate, an effective sample size
            (default 5); finite, >= 1.
        tree_horizon: T' of the exact full-tree DP on the real simulator, A^T'
            sequences per user (default 5; 0 skips it); integer >= 0.
        tree_users: users in the tree DP's panel (default 200); integer >= 0, >= 1
            when tree_horizon > 0.
        holdout_users: users of the panel that evaluates deterministic policies
            exactly on the real simulator, fresh users, not the tree panel's
            (default 2,000); integer >= 1.
        eval_sessions: Monte Carlo sessions on the model per (algorithm, gamma)
            (default 10,000); integer >= 1.
        sim_sessions: Monte Carlo sessions on the real simulator (sampled outcomes)
            per (algorithm, gamma) (default 5,000); integer >= 1.
        sensitivity: the sensitivity study (default SensitivityConfig(): no points;
            ``--preset sensitivity`` sets the grid); a SensitivityConfig.
        seed: root seed of every random stream of the run: model users, learner
            runs, panels, Monte Carlo (default 0); integer >= 0.
        workers: processes running the seed replicates (default None: all cores;
            1: in this process); None or an integer >= 1.
    """

    session: SessionConfig = field(default_factory=SessionConfig)
    actions: tuple[tuple[float, ...], ...] | None = None
    gammas: tuple[float, ...] = (0.0, 0.1, 0.5, 0.9, 1.0)
    states: tuple[str, ...] = STATES
    memory: int = 4
    n_seeds: int = 5
    runs: int = 3
    sessions: int = 50_000
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    model_sessions: int = 10_000
    refine_rounds: int = 2
    refine_sessions: int = 5_000
    refine_epsilon: float = 0.2
    min_ess: float = 5.0
    tree_horizon: int = 5
    tree_users: int = 200
    holdout_users: int = 2_000
    eval_sessions: int = 10_000
    sim_sessions: int = 5_000
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    seed: int = 0
    workers: int | None = None

    def __post_init__(self) -> None:
        self._check_objects()
        self._check_gammas()
        self._check_actions()
        if not isinstance(self.states, tuple) or not self.states or len(set(self.states)) != len(self.states) \
                or any(x not in STATES for x in self.states):
            raise ValueError(f"states: expected distinct names from {STATES}, got {self.states!r}")
        for name in ("n_seeds", "runs", "sessions", "model_sessions", "holdout_users", "eval_sessions", "sim_sessions"):
            _int(name, getattr(self, name), 1)
        for name in ("memory", "refine_rounds", "refine_sessions", "tree_horizon", "tree_users", "seed"):
            _int(name, getattr(self, name), 0)
        if self.refine_rounds and not self.refine_sessions:
            raise ValueError("refine_sessions: must be >= 1 when refine_rounds > 0")
        if self.tree_horizon and self.tree_users < 1:
            raise ValueError("tree_users: must be >= 1 when tree_horizon > 0")
        if not (isinstance(self.refine_epsilon, numbers.Real) and 0.0 <= self.refine_epsilon <= 1.0):
            raise ValueError(f"refine_epsilon: must lie in [0, 1], got {self.refine_epsilon!r}")
        if not (isinstance(self.min_ess, numbers.Real) and math.isfinite(self.min_ess) and self.min_ess >= 1):
            raise ValueError(f"min_ess: must be finite and >= 1, got {self.min_ess!r}")
        if self.workers is not None:
            _int("workers", self.workers, 1)
        # Fail early on state spaces that cannot be built (huge L).
        StateSpace(self.session.horizon, self.n_actions, self.memory, self.session.world.n_segments)

    def _check_objects(self) -> None:
        if not isinstance(self.session, SessionConfig):
            raise ValueError(f"session: expected a SessionConfig, got {type(self.session).__name__}")
        if not isinstance(self.sensitivity, SensitivityConfig):
            raise ValueError(f"sensitivity: expected a SensitivityConfig, got {type(self.sensitivity).__name__}")
        if not isinstance(self.learner, LearnerConfig):
            raise ValueError(f"learner: expected a LearnerConfig, got {type(self.learner).__name__}")

    def _check_gammas(self) -> None:
        if not isinstance(self.gammas, tuple) or len(self.gammas) == 0:
            raise ValueError(f"gammas: need a non-empty tuple of discount rates, got {self.gammas!r}")
        for g in self.gammas:
            if isinstance(g, bool) or not isinstance(g, numbers.Real) or not 0.0 <= float(g) <= 1.0:
                raise ValueError(f"gammas: each discount rate must lie in [0, 1], got {g!r}")
        if len(set(float(g) for g in self.gammas)) != len(self.gammas):
            raise ValueError(f"gammas: duplicates in {self.gammas}")

    def _check_actions(self) -> None:
        if self.actions is None:
            return
        try:
            a = np.asarray(self.actions, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("actions: expected equal-length tuples of numbers") from None
        if a.ndim != 2 or a.shape[0] == 0:
            raise ValueError("actions: the action set is empty (need at least one weight vector)")
        if a.shape[1] != self.session.world.n_features:
            raise ValueError(
                f"actions: each weight vector needs {self.session.world.n_features} entries, got {a.shape[1]}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError("actions: contains NaN or inf")

    @property
    def n_actions(self) -> int:
        """A, the number of ranking actions."""
        return 5 if self.actions is None else len(self.actions)

    def action_array(self) -> np.ndarray:
        """float32 (A, m) ranking weight vectors."""
        from simcore.domains.search.world import default_action_set

        if self.actions is None:
            return default_action_set(self.session.world.n_features)
        return np.asarray(self.actions, dtype=np.float32)

    def learner_config(self) -> LearnerConfig:
        """The learner settings with ``sessions`` = S."""
        return dataclasses.replace(self.learner, sessions=self.sessions)

    @classmethod
    def full(cls, **overrides: Any) -> DiscountConfig:
        """The article's protocol (``--preset full``): 50 runs x 800,000 sessions per
        learner and gamma, with a larger model estimate, tree panel and evaluations
        (5 seeds)."""
        base: dict[str, Any] = dict(
            runs=50,
            sessions=800_000,
            model_sessions=100_000,
            refine_rounds=4,
            refine_sessions=50_000,
            tree_users=1_000,
            holdout_users=4_000,
            eval_sessions=100_000,
            sim_sessions=100_000,
            learner=LearnerConfig(lanes=250),
        )
        base.update(overrides)
        return cls(**base)

    @classmethod
    def sensitivity_preset(cls, **overrides: Any) -> DiscountConfig:
        """``--preset sensitivity``: the default study plus one-at-a-time curves over
        price_aversion (0, 1.5, 3, 4.5, 6) and leave_frustration (0, 4, 8, 12), the
        calibrated fields re-fitted to fig. 3 at every point, 5 seeds per point.
        Per-seed budgets are lower than the default's (R = 2 runs x 20,000 sessions,
        2,000 simulator Monte Carlo sessions) so that the ~8 points fit in ~25 minutes
        on 2 cores."""
        base: dict[str, Any] = dict(
            runs=2,
            sessions=20_000,
            sim_sessions=2_000,
            sensitivity=SensitivityConfig(price_aversion=(0.0, 1.5, 3.0, 4.5, 6.0),
                                          leave_frustration=(0.0, 4.0, 8.0, 12.0)),
        )
        base.update(overrides)
        return cls(**base)
