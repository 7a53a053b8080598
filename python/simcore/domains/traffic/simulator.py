"""The Python face of the C++ tiered-traffic simulator (``_core.traffic.TrafficBatch``).

:class:`TrafficSimulator` steps B search sessions over a tiered catalogue in one C++
call per batch step (GIL released, serialised per object); the NumPy twin is
:class:`simcore.domains.traffic.reference.ReferenceTrafficBatch`.  The model:
docs/tiered_traffic_model.md.  Pickling and ``copy.deepcopy`` keep the full state.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simcore import _core
from simcore.domains.search.simulator import SearchSimulator, _slot_seeds, _user_model
from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.spec import TRAFFIC_STEP_SPEC, traffic_dims
from simcore.domains.traffic.world import TrafficWorld, make_traffic_world
from simcore.util.checks import thread_count

if TYPE_CHECKING:  # the stub type of _core.traffic.TrafficBatch (see _core.pyi)
    from simcore._core import TrafficBatch

__all__ = ["TrafficSimulator", "TrafficStepResult"]


@dataclass
class TrafficStepResult:
    """What one batched step produced (the simulator's buffers, overwritten by the next
    step: copy what you keep).  Fields and meanings: :data:`TRAFFIC_STEP_SPEC`
    (B sessions, K page size, m_t tiers, D observation size).

    Attributes:
        obs: float32 (B, D).  reward: float64 (B,) = reward_gmv + reward_tier.
        terminated, truncated: bool (B,).  outcome: int8 (B,) -1 reset, 0, 1 buy, 2 leave.
        item: int64 (B,).  price: float64 (B,) paid.  page: int64 (B, K).
        clicks, carts: bool (B, K).  b, l, c, m, expected_clicks, expected_carts: float64 (B,).
        n_click, n_cart, n_buy: int32 (B,).  share, share_basic: float64 (B, m_t).
        reward_gmv, reward_tier: float64 (B,).
    """

    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    outcome: np.ndarray
    item: np.ndarray
    price: np.ndarray
    page: np.ndarray
    clicks: np.ndarray
    carts: np.ndarray
    b: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    m: np.ndarray
    expected_clicks: np.ndarray
    expected_carts: np.ndarray
    n_click: np.ndarray
    n_cart: np.ndarray
    n_buy: np.ndarray
    share: np.ndarray
    share_basic: np.ndarray
    reward_gmv: np.ndarray
    reward_tier: np.ndarray


def core_arguments(cfg: TrafficConfig, world: TrafficWorld) -> dict[str, Any]:
    """The keyword arguments of ``_core.traffic.TrafficBatch`` for a config and world
    (all but num_sessions)."""
    r = cfg.reward
    return {
        "features": np.ascontiguousarray(world.features, dtype=np.float32),
        "prices": np.ascontiguousarray(world.prices, dtype=np.float64),
        "segment_cdf": np.ascontiguousarray(world.segment_cdf, dtype=np.float64),
        "segment_pref": np.ascontiguousarray(world.segment_pref, dtype=np.float64),
        "model": _user_model(cfg.session),
        "page_size": cfg.session.page_size,
        "max_steps": cfg.session.max_steps,
        "n_tiers": world.n_tiers,
        "affinity_cdf": np.ascontiguousarray(world.affinity_cdf, dtype=np.float64),
        "affinity_strength": float(cfg.affinity_strength),
        "affinity_noise": float(cfg.affinity_noise),
        "cart_bias": float(cfg.cart_bias),
        "gmv_weights": np.array([r.click, r.cart, r.buy, r.price], dtype=np.float64),
        "lambdas": np.array(r.lambda_vector(world.n_tiers), dtype=np.float64),
        "basic_weights": np.array(cfg.basic_vector(), dtype=np.float32),
    }


class TrafficSimulator:
    """B tiered-traffic sessions stepped together in C++ (one call per batch step).

    Args:
        config: the simulator's configuration (default: the calibrated search model,
            N = 1000 items, m = 8 base features, m_t = 3 tiers, K = 10).
        num_sessions: B.
        seed: session seed; slot j's e-th episode uses the stream (seed, j, e).
        world: a prebuilt :class:`~simcore.domains.traffic.world.TrafficWorld`
            (default: generated from the config).

    Attributes:
        n_base: m.  n_tiers: m_t.  num_features: F = m + m_t (the action width of
        :meth:`step`).  obs_dim, horizon, num_sessions.  basic_weights: float32 (F,)
        pi_basic (also the base part of :meth:`weights_for`).
    """

    def __init__(self, config: TrafficConfig | None = None, num_sessions: int = 1, seed: int = 0,
                 world: TrafficWorld | None = None) -> None:
        self.config: TrafficConfig = config if config is not None else TrafficConfig()
        if not isinstance(self.config, TrafficConfig):
            raise TypeError(f"config: expected a TrafficConfig, got {type(self.config).__name__}")
        if not isinstance(num_sessions, numbers.Integral) or isinstance(num_sessions, bool) or num_sessions < 1:
            raise ValueError(f"num_sessions: must be an integer >= 1, got {num_sessions!r}")
        self.world: TrafficWorld = world if world is not None else make_traffic_world(self.config)
        self._sim: TrafficBatch = _core.traffic.TrafficBatch(num_sessions=int(num_sessions),
                                               **core_arguments(self.config, self.world))
        self.num_sessions: int = int(num_sessions)
        self.n_base: int = self.world.n_base
        self.n_tiers: int = self.world.n_tiers
        self.num_features: int = self.n_base + self.n_tiers
        self.obs_dim: int = int(self._sim.obs_dim)
        self.horizon: int = int(self._sim.horizon)
        self.threads: int = thread_count(self.config.session.num_threads)
        self.basic_weights: np.ndarray = np.array(self.config.basic_vector(), dtype=np.float32)
        self.dims: dict[str, int] = traffic_dims(self.config)
        TRAFFIC_STEP_SPEC.check_obs_dim(self.obs_dim, self.dims)
        self._out: dict[str, np.ndarray] = TRAFFIC_STEP_SPEC.buffers(self.num_sessions, self.dims)
        self._result: TrafficStepResult = TrafficStepResult(**self._out)
        self.seed(seed)

    # ------------------------------------------------------------------ seeding / resets
    def seed(self, seed: int) -> None:
        """Restarts every slot's episode counter under ``seed`` (an int in [0, 2**64 - 1])."""
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < (1 << 64):
            raise ValueError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}")
        self._sim.seed(int(seed))

    def seed_slots(self, seeds: Sequence[int] | np.ndarray) -> None:
        """Per-slot seeds: slot j's e-th episode draws from the stream (seeds[j], 0, e)."""
        self._sim.seed_slots(_slot_seeds(seeds, self.num_sessions))

    def reset(self) -> np.ndarray:
        """New episode in every slot (users drawn by the traffic model); float32 (B, D) buffer."""
        self._sim.reset(self._out["obs"], self.threads)
        return self._out["obs"]

    def reset_to(self, users: Mapping[str, np.ndarray]) -> np.ndarray:
        """Episodes with given users (``query``, ``segment``, ``power``, ``patience``,
        ``prefs`` (B, F): base preferences then tier affinities), e.g. :meth:`users`'s output.
        Checked as in SearchSimulator.reset_to (ValueError / TypeError naming the field)."""
        if not isinstance(users, Mapping):
            raise TypeError(f"users: expected a mapping of arrays, got {type(users).__name__}")
        from simcore.domains.search.simulator import _USER_FIELDS

        q, g, pw, pt, pr = [SearchSimulator._user_field(self, users, name, dt, is_int)  # type: ignore[arg-type]
                            for name, dt, is_int in _USER_FIELDS]
        self._sim.reset_to(q, g, pw, pt, pr, self._out["obs"], self.threads)
        return self._out["obs"]

    def users(self) -> dict[str, np.ndarray]:
        """The users now in the slots: query int64, segment int32, power, patience float64
        (B,), prefs float64 (B, F); prefs[:, m + i] > 0 likes tier i, 0 indifferent, < 0 dislikes."""
        return dict(self._sim.users())

    def steps_taken(self) -> np.ndarray:
        """int64 (B,) pages shown in each slot's current episode."""
        return self._sim.steps_taken()

    # ------------------------------------------------------------------ steps
    def weights_for(self, tier_weights: np.ndarray) -> np.ndarray:
        """float32 (B, F): pi_basic's weights with the tier part replaced by
        ``tier_weights`` (real (B, m_t), or (m_t,) for every session)."""
        a = np.asarray(tier_weights)
        if a.dtype.kind not in "fiu":
            raise TypeError(f"tier_weights: expected real numbers, got dtype {a.dtype}")
        if a.shape not in ((self.n_tiers,), (self.num_sessions, self.n_tiers)):
            raise ValueError(f"tier_weights: expected shape ({self.num_sessions}, {self.n_tiers}) or "
                             f"({self.n_tiers},), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError("tier_weights: must be finite")
        w = np.repeat(self.basic_weights[None, :], self.num_sessions, axis=0)
        w[:, self.n_base:] = a
        return w

    def step(self, actions: np.ndarray, sample: bool = True) -> TrafficStepResult:
        """One page per session under ranking weights ``actions`` float (B, F) (base
        columns first, then the tier flags; see :meth:`weights_for`).

        ``sample=False``: nothing is drawn, every session continues to the horizon, the
        counts and clicks are 0 and reward_gmv = click E[clicks] + cart E[carts] + buy b
        + price b m (exact evaluation).  Slots whose last step ended are reset instead
        (NEXT_STEP autoreset; outcome -1 and zeros)."""
        a = np.asarray(actions)
        if a.dtype.kind != "f":
            raise TypeError(f"actions: expected floating weights, got dtype {a.dtype}")
        if a.shape != (self.num_sessions, self.num_features):
            raise ValueError(f"actions: expected shape {(self.num_sessions, self.num_features)}, got {a.shape}")
        self._sim.step(np.ascontiguousarray(a, dtype=np.float32), self._out, bool(sample), self.threads)
        return self._result

    def control_pages(self) -> np.ndarray:
        """int64 (Q, T, K): pi_basic's t-th page of every query (-1 padded)."""
        return self._sim.control_pages()

    def control_share(self) -> np.ndarray:
        """float64 (Q, T, m_t): the tier shares of those pages (what share_basic reports)."""
        return self._sim.control_share()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        """Config, world, size, the full C++ state and the last step's buffers."""
        return {"config": self.config, "world": self.world, "num_sessions": self.num_sessions,
                "sim_state": self._sim.get_state(), "out": {k: v.copy() for k, v in self._out.items()}}

    def __setstate__(self, state: dict) -> None:
        TrafficSimulator.__init__(self, state["config"], state["num_sessions"], 0, state["world"])
        self._sim.set_state(state["sim_state"])
        for k, v in state["out"].items():
            self._out[k][...] = v

    outcome_name = staticmethod(SearchSimulator.outcome_name)
