"""The Python face of the C++ kernels and the batched search-session simulator.

Input conventions (checked here, with TypeError/ValueError naming the argument):

* ``X`` item features must be float32; a non-contiguous float32 array is copied to
  C order (inputs only).  Other dtypes are rejected rather than silently converted,
  since a float64 -> float32 cast can change rankings.
* weight vectors may be any real floating dtype and are cast to float32.
* ``exclude`` masks must be bool.
* ``discordant_pairs`` accepts any real numeric 1-d arrays (cast to float64).

Scores are ``sum_j X[i, j] * w[j]`` accumulated in float64 in feature order; ranking is
by score descending with ties broken by lower index.  :mod:`simcore.reference`
computes the same in plain NumPy.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from simcore import _core
from simcore._checks import positive_int, thread_count
from simcore.config import SessionConfig
from simcore.world import World, make_world

__all__ = [
    "topk",
    "topk_batch",
    "discordant_pairs",
    "scores",
    "hardware_threads",
    "SearchSimulator",
    "StepResult",
    "PageExpectation",
]


def hardware_threads() -> int:
    """Number of hardware threads (the default thread count)."""
    return int(_core.hardware_threads())


def _as_items(X: object, name: str, ndim: int) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{name}: expected a numpy float32 array, got {type(X).__name__}")
    if X.dtype != np.float32:
        raise TypeError(
            f"{name}: expected dtype float32, got {X.dtype} (convert with .astype(np.float32))"
        )
    if X.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {X.shape}")
    return np.ascontiguousarray(X)


def _as_weights(w: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(w)
    if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
        raise TypeError(f"{name}: expected real numbers, got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf (or overflows float32)")
    return a


def _as_mask(mask: object, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise TypeError(f"{name}: expected a numpy bool array")
    if mask.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {mask.shape}")
    return np.ascontiguousarray(mask)


def topk(
    X: np.ndarray,
    w: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Indices of the k highest-scoring non-excluded items.

    Args:
        X: float32 (N, m) item features, N >= 1.
        w: real (m,) weights (cast to float32).
        k: number of items wanted, >= 1.
        exclude: bool (N,) or None; True removes an item.
        threads: worker threads for N >= 262144 (None: all cores); the result does
            not depend on it.

    Returns:
        int64 (<= k,) indices, best first (ties: lower index first); fewer than k
        when fewer items remain.
    """
    X = _as_items(X, "X", 2)
    N, m = X.shape
    if N == 0:
        raise ValueError("X: needs at least one item (N = 0)")
    w = _as_weights(w, "w", (m,))
    mask = _as_mask(exclude, "exclude", (N,))
    return _core.topk(X, w, positive_int(k, "k"), mask, thread_count(threads))


def topk_batch(
    X: np.ndarray,
    W: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Top-k per row of a batch, multi-threaded with the GIL released.

    Args:
        X: float32 (B, N, m).
        W: real (B, m) weights, one vector per row (cast to float32).
        k: >= 1.
        exclude: bool (B, N) or None.
        threads: worker threads (None: all cores).  Results do not depend on it.

    Returns:
        int64 (B, k), each row as :func:`topk`, padded with -1.
    """
    X = _as_items(X, "X", 3)
    B, N, m = X.shape
    if B == 0 or N == 0:
        raise ValueError(f"X: needs B >= 1 and N >= 1, got shape {X.shape}")
    W = _as_weights(W, "W", (B, m))
    mask = _as_mask(exclude, "exclude", (B, N))
    return _core.topk_batch(X, W, positive_int(k, "k"), mask, thread_count(threads))


def _as_ranks(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: must not be empty")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def discordant_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Number of pairs i < j with (a_i - a_j)(b_i - b_j) < 0, in O(n log n).

    Args:
        a, b: real (n,) arrays of equal length n >= 1 (cast to float64).
    """
    a = _as_ranks(a, "a")
    b = _as_ranks(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"b: expected the same length as a ({a.size}), got {b.size}")
    return int(_core.discordant_pairs(a, b))


def scores(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """float64 (N,) scores X @ w accumulated in float64 in feature order."""
    X = _as_items(X, "X", 2)
    return _core.scores(X, _as_weights(w, "w", (X.shape[1],)))


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


def _user_model(cfg: SessionConfig) -> "_core.UserModel":
    um = _core.UserModel()
    for name, value in vars(cfg.user).items():
        setattr(um, name, value)
    return um


class SearchSimulator:
    """B search sessions stepped together in C++ (one call per batch step).

    Args:
        config: the simulator's configuration (default: N=1000, m=8, K=10).
        num_sessions: B.
        seed: session seed; slot j's e-th episode uses the stream (seed, j, e).
        world: a prebuilt :class:`simcore.world.World` (default: generated from
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
        self._sim = _core.SessionBatch(
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
        """Restarts every slot's episode counter under ``seed`` (an int >= 0)."""
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")
        self._sim.seed(int(seed) % (1 << 64))

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
        B = self.num_sessions
        args = [
            np.ascontiguousarray(np.broadcast_to(np.asarray(users[name], dt), shape))
            for name, dt, shape in (
                ("query", np.int64, (B,)),
                ("segment", np.int32, (B,)),
                ("power", np.float64, (B,)),
                ("patience", np.float64, (B,)),
                ("prefs", np.float64, (B, self.num_features)),
            )
        ]
        self._sim.reset_to(*args, self._out["obs"], self.threads)
        return self._out["obs"]

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
        return np.ascontiguousarray(a, dtype=np.float32)

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

    @staticmethod
    def outcome_name(code: int) -> str:
        """'reset', 'continue', 'buy' or 'leave'."""
        return _OUTCOME_NAMES[int(code)]
