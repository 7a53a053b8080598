"""The Python face of the C++ batched search-session simulator (SSMDP).

:class:`SearchSimulator` steps B sessions in one C++ call per batch step, with the GIL
released; :mod:`simcore.domains.search.reference` is its plain NumPy twin.

Thread safety: one simulator may be used from several Python threads; its calls are
serialised by a per-object lock in the binding (the result buffers are shared, so copy
what you keep).  Pickling and ``copy.deepcopy`` keep the full state: a restored
simulator continues exactly where the original was.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simcore import _core

if TYPE_CHECKING:  # the stub types of _core.search.UserModel (see _core.pyi)
    from simcore._core import UserModel
from simcore.domains.search.config import SessionConfig
from simcore.domains.search.world import World, make_world
from simcore.util.checks import aligned, thread_count

# The binding's hard bound on the user-model window (pages remembered).
MAX_WINDOW = 256

__all__ = ["SearchSimulator", "StepResult", "PageExpectation"]

# --------------------------------------------------------------------------- simulator

_OUTCOME_NAMES = {-1: "reset", 0: "continue", 1: "buy", 2: "leave"}


@dataclass
class StepResult:
    """What one batched step produced.  Arrays are the simulator's own buffers,
    overwritten by the next step: copy what you keep.

    Attributes (B sessions, K page size, D observation size):
        obs: float32 (B, D) next observations.
        reward: float64 (B,).
        terminated, truncated: bool (B,).
        outcome: int8 (B,): -1 autoreset step, 0 continue, 1 buy, 2 leave.
        item: int64 (B,) purchased item or -1;  price: float64 (B,).
        page: int64 (B, K) shown items, -1 padded;  clicks: bool (B, K).
        b, l, c, m: float64 (B,) exact conversion / abandon / continuing probability
            and expected purchase price of the page history just shown.
        expected_clicks: float64 (B,).
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
    b: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    m: np.ndarray
    expected_clicks: np.ndarray


@dataclass
class PageExpectation:
    """Exact expectations of a hypothetical next page (see SearchSimulator.peek)."""

    page: np.ndarray
    b: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    m: np.ndarray
    expected_clicks: np.ndarray


def _user_model(cfg: SessionConfig) -> UserModel:
    um = _core.search.UserModel()
    for name, value in vars(cfg.user).items():
        if name in ("window", "price_feature"):
            lo, hi = (1, MAX_WINDOW) if name == "window" else (0, (1 << 63) - 1)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"user.{name}: expected an integer, got {type(value).__name__}")
            if not lo <= value <= hi:
                raise ValueError(f"user.{name}: must lie in [{lo}, {hi}], got {value}")
            value = int(value)
        else:
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise TypeError(f"user.{name}: expected a real number, got {type(value).__name__}")
            value = float(value)
        setattr(um, name, value)
    return um


def _slot_seeds(seeds: object, n: int) -> np.ndarray:
    """uint64 (n,) from ``n`` integers in [0, 2**64 - 1]; TypeError / ValueError naming seeds."""
    if isinstance(seeds, np.ndarray):
        if seeds.dtype.kind not in "iu":
            raise TypeError(f"seeds: expected integers, got an array of dtype {seeds.dtype}")
        if seeds.shape != (n,):
            raise ValueError(f"seeds: expected shape ({n},) (one seed per session), got {seeds.shape}")
        seeds = seeds.tolist()
    if not isinstance(seeds, (list, tuple)):
        raise TypeError(f"seeds: expected a list of {n} integers, got {type(seeds).__name__}")
    if len(seeds) != n:
        raise ValueError(f"seeds: expected one seed per session ({n}), got {len(seeds)}")
    for i, s in enumerate(seeds):
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"seeds[{i}]: expected an integer in [0, 2**64 - 1], got {s!r}")
        if not 0 <= s < (1 << 64):
            raise ValueError(f"seeds[{i}]: must lie in [0, 2**64 - 1], got {s}")
    return np.array([int(s) for s in seeds], dtype=np.uint64)


# reset_to fields: name, dtype the binding takes, integer field?, shape (B, [m]).
_USER_FIELDS = (("query", np.int64, True), ("segment", np.int32, True),
                ("power", np.float64, False), ("patience", np.float64, False),
                ("prefs", np.float64, False))


class SearchSimulator:
    """B search sessions stepped together in C++ (one call per batch step).

    Args:
        config: the simulator's configuration (default: N=1000, m=8, K=10).
        num_sessions: B.
        seed: session seed; slot j's e-th episode uses the stream (seed, j, e).  See
            :meth:`seed_slots` for one seed per slot.
        world: a prebuilt :class:`simcore.domains.search.world.World` (default: generated from
            ``config.world``); pass your own catalogue here.
    """

    def __init__(
        self,
        config: SessionConfig | None = None,
        num_sessions: int = 1,
        seed: int = 0,
        world: World | None = None,
    ) -> None:
        self.config = config if config is not None else SessionConfig()
        if not isinstance(num_sessions, numbers.Integral) or num_sessions < 1:
            raise ValueError(f"num_sessions: must be an integer >= 1, got {num_sessions!r}")
        self.world = world if world is not None else make_world(self.config.world)
        w = self.world
        self._sim = _core.search.SessionBatch(
            np.ascontiguousarray(w.features, dtype=np.float32),
            np.ascontiguousarray(w.prices, dtype=np.float64),
            np.ascontiguousarray(w.segment_cdf, dtype=np.float64),
            np.ascontiguousarray(w.segment_pref, dtype=np.float64),
            _user_model(self.config),
            self.config.page_size,
            self.config.max_steps,
            0 if self.config.reward == "gmv" else 1,
            int(num_sessions),
        )
        self.num_sessions = int(num_sessions)
        self.num_features = int(w.features.shape[2])
        self.obs_dim = int(self._sim.obs_dim)
        self.horizon = int(self._sim.horizon)
        self.threads = thread_count(self.config.num_threads)
        B, K = self.num_sessions, self.config.page_size
        self._out = {
            "obs": np.zeros((B, self.obs_dim), np.float32),
            "reward": np.zeros(B, np.float64),
            "terminated": np.zeros(B, np.bool_),
            "truncated": np.zeros(B, np.bool_),
            "outcome": np.zeros(B, np.int8),
            "item": np.zeros(B, np.int64),
            "price": np.zeros(B, np.float64),
            "page": np.zeros((B, K), np.int64),
            "clicks": np.zeros((B, K), np.bool_),
            "b": np.zeros(B, np.float64),
            "l": np.zeros(B, np.float64),
            "c": np.zeros(B, np.float64),
            "m": np.zeros(B, np.float64),
            "expected_clicks": np.zeros(B, np.float64),
        }
        self._peek = {k: np.zeros_like(self._out[k]) for k in ("page", "b", "l", "c", "m", "expected_clicks")}
        self._result = StepResult(**self._out)
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Restarts every slot's episode counter under ``seed`` (an int in [0, 2**64 - 1])."""
        if (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)
                or not 0 <= seed < (1 << 64)):
            raise ValueError(f"seed: must be an integer in [0, 2**64 - 1], got {seed!r}")
        self._sim.seed(int(seed))

    def seed_slots(self, seeds: Sequence[int] | np.ndarray) -> None:
        """Per-slot seeds: slot j's e-th episode draws from the stream (seeds[j], 0, e),
        i.e. slot j replays a one-session simulator seeded with ``seeds[j]``; every
        slot's episode counter restarts.

        Args:
            seeds: ``num_sessions`` integers in [0, 2**64 - 1] (a list, tuple or integer
                array); equal seeds give identical slots (under identical actions).
        """
        self._sim.seed_slots(_slot_seeds(seeds, self.num_sessions))

    def reset(self) -> np.ndarray:
        """Starts a new episode in every slot; returns float32 (B, D) observations (a buffer)."""
        self._sim.reset(self._out["obs"], self.threads)
        return self._out["obs"]

    def reset_to(self, users: Mapping[str, np.ndarray]) -> np.ndarray:
        """Starts episodes with given users instead of drawn ones.

        Args:
            users: ``query`` int64 (B,), ``segment`` int32 (B,), ``power`` float64 (B,)
                in [0, 1], ``patience`` float64 (B,), ``prefs`` float64 (B, m); e.g. the
                output of :meth:`users` (an evaluation panel).
        """
        if not isinstance(users, Mapping):
            raise TypeError(f"users: expected a mapping of arrays, got {type(users).__name__}")
        args = [self._user_field(users, name, dt, is_int) for name, dt, is_int in _USER_FIELDS]
        self._sim.reset_to(*args, self._out["obs"], self.threads)
        return self._out["obs"]

    def _user_field(self, users: Mapping, name: str, dt: type, is_int: bool) -> np.ndarray:
        """users[name] checked (kind, shape, range; no float -> int truncation, no
        int64 -> int32 wrap-around) and converted to what the binding takes."""
        label = f'users["{name}"]'
        if name not in users:
            raise ValueError(f"{label}: missing (need {', '.join(f for f, _, _ in _USER_FIELDS)})")
        a = np.asarray(users[name])
        B = self.num_sessions
        shape = (B, self.num_features) if name == "prefs" else (B,)
        if is_int and (a.dtype.kind not in "iu"):
            raise TypeError(f"{label}: expected integers, got dtype {a.dtype}")
        if not is_int and (a.dtype.kind not in "fiu"):
            raise TypeError(f"{label}: expected real numbers, got dtype {a.dtype}")
        try:
            a = np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"{label}: expected shape {shape} (or broadcastable), got {a.shape}") from None
        if is_int:
            hi = self.world.features.shape[0] if name == "query" else len(self.world.segment_cdf)
            if a.size and (a.min() < 0 or a.max() >= hi):
                bound = "n_queries" if name == "query" else "n_segments"
                raise ValueError(f"{label}: ids must lie in [0, {bound} = {hi}), got {a.min()}..{a.max()}")
        else:
            a = a.astype(np.float64)
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{label}: must be finite")
            if name == "power" and (a.min() < 0 or a.max() > 1):
                raise ValueError(f"{label}: must lie in [0, 1], got {a.min()}..{a.max()}")
        return aligned(np.ascontiguousarray(a, dtype=dt))

    def users(self) -> dict[str, np.ndarray]:
        """The users now in the slots (query, segment, power, patience, prefs)."""
        return dict(self._sim.users())

    def steps_taken(self) -> np.ndarray:
        """int64 (B,) pages shown in each slot's current episode."""
        return self._sim.steps_taken()

    def _actions(self, actions: object) -> np.ndarray:
        a = np.asarray(actions)
        if a.dtype.kind != "f":
            raise TypeError(f"actions: expected floating weights, got dtype {a.dtype}")
        shape = (self.num_sessions, self.num_features)
        if a.shape != shape:
            raise ValueError(f"actions: expected shape {shape}, got {a.shape}")
        return np.ascontiguousarray(a, dtype=np.float32)  # the binding copies if misaligned

    def step(self, actions: np.ndarray, sample: bool = True) -> StepResult:
        """Shows one page per session under ranking weights ``actions`` (B, m).

        With ``sample=False`` no outcome is drawn: every session continues to the
        horizon and the reward is the expected GMV b*m of the page (for exact
        policy evaluation and planning).  Slots whose last step ended are reset
        instead of stepped (NEXT_STEP autoreset; their ``outcome`` is -1).
        """
        self._sim.step(self._actions(actions), self._out, bool(sample), self.threads)
        return self._result

    def peek(self, actions: np.ndarray) -> PageExpectation:
        """Page and exact b, l, c, m that ``step(actions)`` would give; state unchanged.
        Arrays are reused buffers."""
        self._sim.peek(self._actions(actions), self._peek, self.threads)
        return PageExpectation(**self._peek)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        """Config, world, size and the full C++ state (see SessionBatch.get_state)."""
        return {
            "config": self.config,
            "world": self.world,
            "num_sessions": self.num_sessions,
            "sim_state": self._sim.get_state(),
            "out": {k: v.copy() for k, v in self._out.items()},
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"], state["num_sessions"], 0, state["world"])
        self._sim.set_state(state["sim_state"])
        for k, v in state["out"].items():
            self._out[k][...] = v

    @staticmethod
    def outcome_name(code: int) -> str:
        """'reset', 'continue', 'buy' or 'leave'."""
        return _OUTCOME_NAMES[int(code)]
