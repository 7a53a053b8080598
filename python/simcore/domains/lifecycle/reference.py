"""Plain NumPy twin of the C++ lifecycle simulator (``_core.lifecycle.LifecycleBatch``).

Same streams (:mod:`simcore.kernels.rng`, one per slot), same draw order, same formulas
(:mod:`simcore.domains.lifecycle.exact`), same budget rule: actions, users, clicks,
conversions, purchases, stages, membership and every count are equal; values, costs,
rewards, budgets and the exact expectations equal to the rounding of exp/log/erfc
(tested to 1e-9 relative).  Vectorised over slots; the budget grant is a
sequential scan in slot order over realised costs (a Python loop only past the first
blocked slot).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simcore.domains.lifecycle.actions import CLUB, OFFER, action_table
from simcore.domains.lifecycle.config import LifecycleConfig
from simcore.domains.lifecycle.exact import Model, expectations, stage_of
from simcore.domains.lifecycle.population import Population, make_population
from simcore.domains.lifecycle.spec import LIFECYCLE_DIMS, LIFECYCLE_STEP_SPEC, PURCHASE_SCALE, RECENCY_SCALE
from simcore.kernels.rng import Streams, stream_key

__all__ = ["ReferenceLifecycleBatch", "grant_budget"]

_STATE_KEYS = ("user", "alive", "member", "n", "recency", "hist", "spent", "key_seed", "key_stream",
               "episode", "rng")


def grant_budget(requested: np.ndarray, cost: np.ndarray, spent: np.ndarray, user_cap: float,
                 budget_left: float) -> np.ndarray:
    """bool (B,): which requested actions run.  Scanning the slots in index order, slot
    i's action a_i != 0 with realised cost c_i runs iff spent_i + c_i <= user_cap and
    paid + c_i <= budget_left, paid the sum (in slot order) of the costs granted before
    it; do-nothing always runs."""
    cand = (requested != 0) & (spent + cost <= user_cap)
    ok = requested == 0
    idx = np.flatnonzero(cand)
    if idx.size == 0:
        return ok
    cs_ = cost[idx]
    cs = np.cumsum(cs_)
    fits = cs <= budget_left
    k = int(np.argmin(fits)) if not fits.all() else idx.size
    ok[idx[:k]] = True
    paid = float(cs[k - 1]) if k > 0 else 0.0
    for j in range(k, idx.size):
        if paid + float(cs_[j]) <= budget_left:
            paid += float(cs_[j])
            ok[idx[j]] = True
    return ok


class ReferenceLifecycleBatch:
    """NumPy twin of :class:`simcore.domains.lifecycle.simulator.LifecycleSimulator`
    (same constructor and methods; ``step`` returns a dict of the spec's fields)."""

    def __init__(self, config: LifecycleConfig | None = None, num_users: int = 1, seed: int = 0,
                 population: Population | None = None) -> None:
        self.config = config if config is not None else LifecycleConfig()
        self.pop = population if population is not None else make_population(self.config.population)
        self.pop.check()
        self.table = action_table(self.config)
        self.model = Model.build(self.config, self.table, self.pop)
        self.B = int(num_users)
        self.total_budget = self.config.budget_per_user * self.B
        B = self.B
        self.user = np.zeros(B, np.int64)
        self.alive = np.zeros(B, bool)
        self.member = np.zeros(B, bool)
        self.n = np.zeros(B, np.int64)
        self.recency = np.zeros(B, np.int64)
        self.hist = np.zeros((B, 5))
        self.spent = np.zeros(B)
        self.key_seed = np.zeros(B, np.uint64)
        self.key_stream = np.arange(B, dtype=np.uint64)
        self.episode = np.zeros(B, np.uint64)
        self.streams = Streams(B)
        self._all = np.arange(B)
        self.t, self.budget_left, self.needs_reset = 0, self.total_budget, True
        self.seed(seed)

    # ------------------------------------------------------------------ seeding / resets
    def seed(self, seed: int) -> None:
        """Slot j's e-th episode draws from stream (seed, j, e)."""
        self.key_seed[:] = np.uint64(seed)
        self.key_stream[:] = np.arange(self.B, dtype=np.uint64)
        self.episode[:] = 0

    def seed_slots(self, seeds: Sequence[int] | np.ndarray) -> None:
        """Slot j's e-th episode draws from stream (seeds[j], 0, e)."""
        self.key_seed[:] = np.asarray(seeds, dtype=np.uint64)
        self.key_stream[:] = 0
        self.episode[:] = 0

    def _begin(self, users: np.ndarray | None) -> None:
        """New episode in every slot: key the streams, draw (or take) the users, start
        them from the population's state, refill the budget."""
        self.streams.state[:] = stream_key(self.key_seed, self.key_stream, self.episode)
        self.episode += np.uint64(1)
        u = self.streams.uniform(self._all)
        drawn = np.minimum((u * self.pop.size).astype(np.int64), self.pop.size - 1)
        self.user[:] = drawn if users is None else users
        p = self.pop
        self.alive[:] = p.alive0[self.user]
        self.member[:] = False
        self.n[:] = p.n0[self.user]
        self.recency[:] = p.recency0[self.user]
        self.hist[:] = 0.0
        self.spent[:] = 0.0
        self.t, self.budget_left, self.needs_reset = 0, self.total_budget, False

    def reset(self) -> np.ndarray:
        """New episode everywhere, customers drawn uniformly from the population."""
        self._begin(None)
        return self._obs()

    def reset_to(self, users: np.ndarray) -> np.ndarray:
        """New episode everywhere with the given population indices (int (B,))."""
        self._begin(np.asarray(users, dtype=np.int64))
        return self._obs()

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, np.ndarray]:
        """Copies of the per-slot state (exact.expectations's input) and the globals."""
        d = {k: getattr(self, k).copy() for k in _STATE_KEYS if k != "rng"}
        d["rng"] = self.streams.state.copy()
        d.update(t=np.int64(self.t), budget_left=np.float64(self.budget_left),
                 needs_reset=np.bool_(self.needs_reset))
        return d

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores a :meth:`state` dict (ValueError naming a missing or mis-shaped key)."""
        B = self.B
        for k in _STATE_KEYS:
            if k not in state:
                raise ValueError(f"state: missing key {k!r}")
            want = (B, 5) if k == "hist" else (B,)
            if np.shape(state[k]) != want:
                raise ValueError(f"state[{k!r}]: expected shape {want}, got {np.shape(state[k])}")
        u = np.asarray(state["user"], dtype=np.int64)
        if u.size and (u.min() < 0 or u.max() >= self.pop.size):
            raise ValueError("state['user']: population indices out of range")
        for k in ("hist", "spent"):
            v = np.asarray(state[k], dtype=np.float64)
            if not (np.all(np.isfinite(v)) and np.all(v >= 0)):
                raise ValueError(f"state[{k!r}]: must be finite and >= 0")
        if not 0 <= int(state["t"]) <= self.config.horizon_days:
            raise ValueError("state['t']: must lie in [0, horizon]")
        bl = float(state["budget_left"])
        if not (np.isfinite(bl) and bl >= 0):
            raise ValueError("state['budget_left']: must be finite and >= 0")
        for k in _STATE_KEYS:
            if k == "rng":
                self.streams.state[:] = np.asarray(state[k], dtype=np.uint64)
            else:
                getattr(self, k)[...] = np.asarray(state[k]).astype(getattr(self, k).dtype)
        self.t = int(state["t"])
        self.budget_left = float(state["budget_left"])
        self.needs_reset = bool(state["needs_reset"])

    def expectations(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """exact.expectations of ``actions`` (B,) or (B, A') in the current state."""
        return expectations(self.model, self.pop, self.state(), actions)

    def _stage(self) -> np.ndarray:
        return stage_of(self.n, self.recency, self.member, self.model.lapse_days, self.model.loyal_purchases)

    def _obs(self) -> np.ndarray:
        B, cfg = self.B, self.config
        o = np.zeros((B, 19))
        o[:, 0:4] = self.pop.features[self.user]
        o[np.arange(B), 4 + self._stage()] = 1.0
        o[:, 8] = np.minimum(self.recency, RECENCY_SCALE) / RECENCY_SCALE
        o[:, 9] = self.n / (self.n + PURCHASE_SCALE)
        o[:, 10] = self.member
        o[:, 11:16] = self.hist / (1.0 + self.hist)
        o[:, 16] = np.minimum(1.0, self.spent / cfg.user_cap) if cfg.user_cap > 0 else 0.0
        o[:, 17] = self.budget_left / self.total_budget if self.total_budget > 0 else 0.0
        o[:, 18] = self.t / cfg.horizon_days
        return o.astype(np.float32)

    # ------------------------------------------------------------------ step
    def _autoreset_row(self) -> dict[str, np.ndarray]:
        out = LIFECYCLE_STEP_SPEC.buffers(self.B, LIFECYCLE_DIMS)
        self._begin(None)
        out["obs"][:] = self._obs()
        out["action"][:] = -1
        out["stage"][:] = -1
        out["next_stage"][:] = self._stage()
        out["alive"][:] = self.alive
        out["budget_left"][:] = self.budget_left
        out["user"][:] = self.user
        return out

    def step(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """One day for every slot under int actions (B,) (see LifecycleSimulator.step)."""
        a_req = np.asarray(actions, dtype=np.int64)
        if self.needs_reset:
            return self._autoreset_row()
        m, tb, pop = self.model, self.model.table, self.pop
        stage = self._stage()
        sel = self._all
        u_click, u_conv = self.streams.uniform(sel), self.streams.uniform(sel)
        u_org, u_drop = self.streams.uniform(sel), self.streams.uniform(sel)
        z = self.streams.normal(sel)
        # the day under the requested actions ...
        ex = expectations(m, pop, self.state(), a_req, with_pv=True)
        pv = ex["p_convert_given_click"]
        kind, u = tb["kind"][a_req], self.user
        q = np.where(self.member, m.q1[u], m.q0[u])
        organic = self.alive & (u_org < q)
        clicked = (kind != 0) & (u_click < ex["p_click"])
        induced = clicked & (u_conv < pv)
        offer_conv = induced & (kind == OFFER)
        purchased = organic | offer_conv
        # an opened offer is redeemed on the day's purchase (organic ones too); club: joining
        converted = np.where(kind == OFFER, clicked & purchased, induced)
        s = m.within_sd
        value = np.where(purchased, pop.spend[u] * np.exp(s * z - 0.5 * s * s), 0.0)
        cost = tb["touch_cost"][a_req] + np.where(clicked, tb["click_cost"][a_req], 0.0)
        cost = cost + np.where(converted, tb["conv_fixed"][a_req], 0.0)
        cost = cost + np.where(converted, np.minimum(tb["conv_rate"][a_req] * value, tb["conv_cap"][a_req]), 0.0)
        # ... then the budget: a blocked slot has the do-nothing day under the same draws
        ok = grant_budget(a_req, cost, self.spent, m.user_cap, self.budget_left)
        a = np.where(ok, a_req, 0)
        if not ok.all():
            ex = expectations(m, pop, self.state(), a)
            kind = tb["kind"][a]
            clicked, induced, offer_conv, converted = clicked & ok, induced & ok, offer_conv & ok, converted & ok
            purchased = np.where(ok, purchased, organic)
            value = np.where(purchased, value, 0.0)
            cost = np.where(ok, cost, 0.0)
        self.alive |= offer_conv
        self.member |= converted & (kind == CLUB)
        drop = np.where(self.member, pop.p[u] * m.club_dropout_mult, pop.p[u])
        self.alive &= ~(purchased & (u_drop < drop))
        self.n += purchased
        self.recency = np.where(purchased, 0, self.recency + 1)
        ch = tb["channel"][a]
        touched = np.zeros((self.B, 5))
        touched[np.flatnonzero(kind != 0), ch[kind != 0]] = 1.0
        touched[:, 3], touched[:, 4] = clicked, converted
        self.hist = self.hist * m.decay + touched
        self.spent = self.spent + cost
        self.budget_left = self.budget_left - float(np.cumsum(cost)[-1])
        self.t += 1
        trunc = self.t >= m.horizon
        self.needs_reset = bool(trunc)
        out = {"obs": self._obs(), "reward": value - cost, "terminated": np.zeros(self.B, bool),
               "truncated": np.full(self.B, trunc), "action": a, "blocked": (a_req != 0) & ~ok,
               "clicked": clicked, "converted": converted, "purchased": purchased, "value": value,
               "cost": cost, "stage": stage, "next_stage": self._stage(), "alive": self.alive.copy(),
               "member": self.member.copy(), "budget_left": np.full(self.B, self.budget_left),
               "user_spent": self.spent.copy(), "user": self.user.copy()}
        out.update({k: ex[k] for k in ("p_click", "p_convert", "p_purchase", "expected_value", "expected_cost")})
        return out
