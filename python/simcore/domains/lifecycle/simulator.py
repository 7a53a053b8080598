"""The Python face of the lifecycle simulator (docs/lifecycle_model.md).

:class:`LifecycleSimulator` steps B customer slots one day at a time in one C++ call
(``_core.lifecycle.LifecycleBatch``: GIL released, serialised per object, one
counter-based stream per slot, identical at any thread count); ``backend="numpy"``
runs the NumPy twin (:class:`~simcore.domains.lifecycle.reference.ReferenceLifecycleBatch`)
behind the same API.  Pickling and ``copy.deepcopy`` keep the full state.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.domains.lifecycle.actions import ActionTable, action_table
from simcore.domains.lifecycle.config import LifecycleConfig
from simcore.domains.lifecycle.exact import Model, expectations
from simcore.domains.lifecycle.population import Population, make_population
from simcore.domains.lifecycle.reference import ReferenceLifecycleBatch
from simcore.domains.lifecycle.spec import LIFECYCLE_DIMS, LIFECYCLE_STEP_SPEC, OBS_DIM
from simcore.util.checks import thread_count

__all__ = ["LifecycleSimulator", "LifecycleStepResult", "BACKENDS"]

BACKENDS = ("auto", "cpp", "numpy")


@dataclass
class LifecycleStepResult:
    """One day's outputs, B rows (the simulator's buffers, overwritten by the next step:
    copy what you keep).  Meanings: :data:`LIFECYCLE_STEP_SPEC`.

    Attributes:
        obs: float32 (B, 19).  reward, value, cost: float64 (B,) (reward = value - cost).
        terminated (always False), truncated, blocked, clicked, converted, purchased,
        alive (latent), member: bool (B,).  action, user: int64 (B,) (action -1 on an
        autoreset row).  stage, next_stage: int8 (B,).  p_click, p_convert, p_purchase,
        expected_value, expected_cost: float64 (B,) exact, of the applied action.
        budget_left, user_spent: float64 (B,).
    """

    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    action: np.ndarray
    blocked: np.ndarray
    clicked: np.ndarray
    converted: np.ndarray
    purchased: np.ndarray
    value: np.ndarray
    cost: np.ndarray
    stage: np.ndarray
    next_stage: np.ndarray
    alive: np.ndarray
    member: np.ndarray
    p_click: np.ndarray
    p_convert: np.ndarray
    p_purchase: np.ndarray
    expected_value: np.ndarray
    expected_cost: np.ndarray
    budget_left: np.ndarray
    user_spent: np.ndarray
    user: np.ndarray


def _int_array(x: Any, shape: tuple[int, ...], lo: int, hi: int, name: str) -> np.ndarray:
    """int64 array of ``shape`` with values in [lo, hi) (TypeError / ValueError naming ``name``)."""
    a = np.asarray(x)
    if a.dtype.kind not in "iu" or a.dtype == np.bool_:
        raise TypeError(f"{name}: expected integers, got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    if a.size and (a.min() < lo or a.max() >= hi):
        raise ValueError(f"{name}: values must lie in [{lo}, {hi}), got [{a.min()}, {a.max()}]")
    return np.ascontiguousarray(a, dtype=np.int64)


def core_arguments(cfg: LifecycleConfig, table: ActionTable, model: Model, pop: Population) -> dict[str, Any]:
    """Keyword arguments of ``_core.lifecycle.LifecycleBatch`` (all but num_users).  The
    daily purchase probabilities q0, q1, the (stage, channel) click terms and the
    responsiveness and sensitivity at the configured heterogeneity come from
    :class:`Model` (computed once in NumPy, so both backends use the same bits)."""
    m = cfg.marketing
    params = np.array([m.depth_coef, m.dead_logit, m.fatigue_coef, m.fatigue_decay, m.club_rate_mult,
                       m.club_dropout_mult, cfg.population.spend_within_sd, cfg.user_cap,
                       cfg.budget_per_user], dtype=np.float64)
    t = table.arrays()
    return {
        "kind": t["kind"], "channel": t["channel"],
        "action_params": np.ascontiguousarray(np.stack([t[k] for k in (
            "click_logit", "depth", "touch_cost", "click_cost", "conv_fixed", "conv_rate", "conv_cap",
            "depth_per_dollar", "conv_logit")], 1)),
        "stage_params": np.array([m.offer_conv, m.club_conv], dtype=np.float64),
        "click_params": np.ascontiguousarray(model.stage_click, dtype=np.float64),
        "params": params, "horizon": cfg.horizon_days, "lapse_days": cfg.lapse_days,
        "loyal_purchases": cfg.loyal_purchases,
        "population": {"features": pop.features, "p": pop.p, "spend": pop.spend, "sens": model.sens,
                       "q0": model.q0, "q1": model.q1, "resp": model.resp, "n0": pop.n0,
                       "recency0": pop.recency0, "alive0": pop.alive0},
    }


class LifecycleSimulator:
    """B customer slots of one marketing activity, stepped a day at a time.

    Args:
        config: the activity (default :class:`LifecycleConfig`: 10,000 CDNOW-like
            customers, 30 days, 16 actions, $6 per slot of budget, $30 cap per customer).
        num_users: B, slots stepped together (each episode draws its customer uniformly
            from the population, or takes :meth:`reset_to`'s).
        seed: slot j's e-th episode uses the stream (seed, j, e).
        population: a prebuilt :class:`Population` (default: from config.population).
        backend: "cpp", "numpy" (the twin: identical outputs, slower) or "auto"
            (default: "cpp" when the extension has ``_core.lifecycle``).

    Attributes:
        config, population, table (:class:`ActionTable`), num_users (B), n_actions (A),
        obs_dim (19), horizon (days), total_budget (budget_per_user * B), dims, backend.
    """

    def __init__(self, config: LifecycleConfig | None = None, num_users: int = 1, seed: int = 0,
                 population: Population | None = None, backend: str = "auto") -> None:
        self.config: LifecycleConfig = config if config is not None else LifecycleConfig()
        if not isinstance(self.config, LifecycleConfig):
            raise TypeError(f"config: expected a LifecycleConfig, got {type(self.config).__name__}")
        if (not isinstance(num_users, numbers.Integral) or isinstance(num_users, bool)
                or not 1 <= int(num_users) <= 10**7):
            raise ValueError(f"num_users: must be an integer in [1, 1e7], got {num_users!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        if population is not None and not isinstance(population, Population):
            raise TypeError(f"population: expected a Population, got {type(population).__name__}")
        self.population: Population = population if population is not None else make_population(self.config.population)
        self.population.check()
        self.table: ActionTable = action_table(self.config)
        self.model: Model = Model.build(self.config, self.table, self.population)
        self.num_users: int = int(num_users)
        self.n_actions: int = self.table.n
        self.obs_dim: int = OBS_DIM
        self.horizon: int = self.config.horizon_days
        self.total_budget: float = self.config.budget_per_user * self.num_users
        self.dims: dict[str, int] = dict(LIFECYCLE_DIMS)
        self.threads: int = thread_count(self.config.num_threads)
        if backend == "auto":
            from simcore import _core

            backend = "cpp" if hasattr(_core, "lifecycle") else "numpy"
        self.backend: str = backend
        self._out: dict[str, np.ndarray] = LIFECYCLE_STEP_SPEC.buffers(self.num_users, self.dims)
        self._result: LifecycleStepResult = LifecycleStepResult(**self._out)
        if backend == "cpp":
            from simcore import _core

            self._sim: Any = _core.lifecycle.LifecycleBatch(
                num_users=self.num_users, **core_arguments(self.config, self.table, self.model, self.population))
        else:
            self._sim = ReferenceLifecycleBatch(self.config, self.num_users, 0, self.population)
        self.seed(seed)

    # ------------------------------------------------------------------ seeding / resets
    def seed(self, seed: int) -> None:
        """Restarts every slot's episode counter under ``seed`` (an int in [0, 2**64 - 1])."""
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= int(seed) < (1 << 64):
            raise ValueError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}")
        self._sim.seed(int(seed))

    def seed_slots(self, seeds: Sequence[int] | np.ndarray) -> None:
        """Per-slot seeds: slot j's e-th episode draws from the stream (seeds[j], 0, e)."""
        a = np.asarray(seeds, dtype=object)
        if a.shape != (self.num_users,):
            raise ValueError(f"seeds: expected {self.num_users} seeds, got shape {a.shape}")
        for i, s in enumerate(a):
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or not 0 <= int(s) < (1 << 64):
                raise ValueError(f"seeds[{i}]: must be an integer in [0, 2**64 - 1], got {s!r}")
        self._sim.seed_slots(np.array([int(s) for s in a], dtype=np.uint64))

    def reset(self) -> np.ndarray:
        """New episode in every slot (customers drawn from the population, budget full,
        day 0); float32 (B, 19), a buffer overwritten by the next reset/step."""
        if self.backend == "cpp":
            self._sim.reset(self._out["obs"], self.threads)
        else:
            self._out["obs"][...] = self._sim.reset()
        return self._out["obs"]

    def reset_to(self, users: Any) -> np.ndarray:
        """As :meth:`reset` with the given customers: int (B,) population indices."""
        u = _int_array(users, (self.num_users,), 0, self.population.size, "users")
        if self.backend == "cpp":
            self._sim.reset_to(u, self._out["obs"], self.threads)
        else:
            self._out["obs"][...] = self._sim.reset_to(u)
        return self._out["obs"]

    # ------------------------------------------------------------------ steps
    def step(self, actions: Any) -> LifecycleStepResult:
        """One day for every slot under actions int (B,) in [0, A).

        The day is sampled under the requested actions; then, scanning the slots in
        index order, a requested a != 0 runs iff the customer's spend + its realised cost
        fits user_cap and the costs granted so far today + its own fit the episode
        budget left; otherwise the slot gets the do-nothing day under the same draws
        (organic purchase only, cost 0) and ``blocked`` is set.  After the last day
        (truncated everywhere) the next step is the NEXT_STEP autoreset: every slot
        starts a new episode, the actions are ignored, reward 0, action -1."""
        a = _int_array(actions, (self.num_users,), 0, self.n_actions, "actions")
        if self.backend == "cpp":
            self._sim.step(a, self._out, self.threads)
        else:
            for k, v in self._sim.step(a).items():
                self._out[k][...] = v
        return self._result

    def state(self) -> dict[str, np.ndarray]:
        """Copies of the state: per slot user int64, alive, member bool, n, recency int64,
        hist float64 (B, 5) (decayed touches push/sms/phone, clicks, conversions), spent
        float64, the stream keys (key_seed, key_stream, episode, rng uint64); globals t
        (day), budget_left, needs_reset."""
        return {k: np.array(v, copy=True) for k, v in self._sim.state().items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores a :meth:`state` dict (checked; unchanged on error)."""
        self._sim.set_state(state)

    @property
    def budget_left(self) -> float:
        """The episode budget left (dollars)."""
        return float(self._sim.budget_left)

    @property
    def day(self) -> int:
        """Days stepped in the current episode."""
        return int(self._sim.day if self.backend == "cpp" else self._sim.t)

    def expectations(self, actions: Any) -> dict[str, np.ndarray]:
        """Exact expectations (:func:`simcore.domains.lifecycle.exact.expectations`) of
        ``actions`` int (B,) or (B, k) in the current state, budget not applied:
        p_click, p_convert, p_purchase, expected_value, expected_cost, expected_reward."""
        a = np.asarray(actions)
        if a.ndim not in (1, 2) or a.shape[0] != self.num_users:
            raise ValueError(f"actions: expected shape ({self.num_users},) or ({self.num_users}, k), got {a.shape}")
        a = _int_array(a, a.shape, 0, self.n_actions, "actions")
        return expectations(self.model, self.population, self.state(), a)

    def expectations_all(self) -> dict[str, np.ndarray]:
        """:meth:`expectations` of every action: float64 (B, A) arrays."""
        return self.expectations(np.broadcast_to(np.arange(self.n_actions), (self.num_users, self.n_actions)))

    def worst_cost(self) -> np.ndarray:
        """float64 (A,): the most an action can cost in a day (ActionTable.worst_cost)."""
        return self.model.worst.copy()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        return {"config": self.config, "population": self.population, "num_users": self.num_users,
                "backend": self.backend, "state": self.state(),
                "out": {k: v.copy() for k, v in self._out.items()}}

    def __setstate__(self, s: dict) -> None:
        LifecycleSimulator.__init__(self, s["config"], s["num_users"], 0, s["population"], s["backend"])
        self.set_state(s["state"])
        for k, v in s["out"].items():
            self._out[k][...] = v
