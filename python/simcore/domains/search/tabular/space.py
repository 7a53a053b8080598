"""The tabular state space of the search-session MDP: (page index t, last L actions, segment).

With G = 1 it is the article's segment-free state (t, last L actions): "h_t is
represented by the features of its last 4 item pages" - no user features
(:meth:`StateSpace.segment_free`, :meth:`StateSpace.drop_segment`).

A state at page index ``t`` (0-based: ``t`` pages have been shown) remembers the last
``min(t, L)`` actions as a base-``A`` number ``h`` whose least significant digit is the
most recent action.  States are numbered densely, page by page::

    s = offset[t] + g * n_hist[t] + h,    n_hist[t] = A ** min(t, L)

so the states of page ``t`` form the contiguous block ``offset[t] : offset[t + 1]``.
After action ``a`` the history becomes ``(h * A + a) mod A ** min(t + 1, L)`` (the oldest
action drops out once ``L`` are remembered).  With ``L >= T - 1`` a state is the full
action history, i.e. the SSMDP's page-history tree for each segment.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

#: Refuse to build state spaces with more states than this (memory safety).
MAX_STATES = 20_000_000


def _check_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class StateSpace:
    """Indexing of the tabular states (t, segment, last-L-action history).

    Attributes:
        horizon: T, pages per session (decisions at t = 0 .. T-1), >= 1.
        n_actions: A, size of the action set, >= 1.
        memory: L, actions remembered, >= 0.
        n_segments: G, observable user segments, >= 1.

    Derived arrays (all int64): ``n_hist`` (T,), ``offset`` (T+1,), ``state_t``,
    ``state_g``, ``state_h`` (S,), ``next_state`` (S, A) with -1 after the last page,
    ``initial`` (G,) the states at t = 0.
    """

    horizon: int
    n_actions: int
    memory: int
    n_segments: int
    n_hist: np.ndarray = field(init=False, repr=False, compare=False)
    offset: np.ndarray = field(init=False, repr=False, compare=False)
    state_t: np.ndarray = field(init=False, repr=False, compare=False)
    state_g: np.ndarray = field(init=False, repr=False, compare=False)
    state_h: np.ndarray = field(init=False, repr=False, compare=False)
    next_state: np.ndarray = field(init=False, repr=False, compare=False)
    initial: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        T = _check_int("horizon", self.horizon, 1)
        if isinstance(self.n_actions, numbers.Integral) and not isinstance(self.n_actions, bool):
            if self.n_actions < 1:
                raise ValueError("n_actions: the action set is empty (need at least 1 action)")
        A = _check_int("n_actions", self.n_actions, 1)
        if isinstance(self.memory, numbers.Integral) and not isinstance(self.memory, bool):
            if self.memory < 0:
                raise ValueError(f"memory: L must be >= 0, got {self.memory}")
        L = _check_int("memory", self.memory, 0)
        G = _check_int("n_segments", self.n_segments, 1)
        # Count states with Python ints first so huge spaces are refused before allocating.
        n_hist_py = [A ** min(t, L) for t in range(T)]
        total = G * sum(n_hist_py)
        if total > MAX_STATES:
            raise ValueError(
                f"memory: L={L} with A={A}, T={T}, G={G} gives {total:,} states "
                f"(limit {MAX_STATES:,}); use a smaller L"
            )
        n_hist = np.array(n_hist_py, dtype=np.int64)
        offset = np.zeros(T + 1, dtype=np.int64)
        offset[1:] = np.cumsum(G * n_hist)
        S = int(offset[-1])
        st = np.repeat(np.arange(T, dtype=np.int64), G * n_hist)
        local = np.arange(S, dtype=np.int64) - offset[st]
        sg = local // n_hist[st]
        sh = local % n_hist[st]
        nxt = np.full((S, A), -1, dtype=np.int64)
        inner = st < T - 1
        t1 = st[inner] + 1
        mod = n_hist[t1]
        h1 = (sh[inner, None] * A + np.arange(A, dtype=np.int64)[None, :]) % mod[:, None]
        nxt[inner] = offset[t1][:, None] + sg[inner, None] * mod[:, None] + h1
        init = offset[0] + np.arange(G, dtype=np.int64) * n_hist[0]
        for name, value in (
            ("n_hist", n_hist),
            ("offset", offset),
            ("state_t", st),
            ("state_g", sg),
            ("state_h", sh),
            ("next_state", nxt),
            ("initial", init),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_states(self) -> int:
        """S, the number of non-terminal states."""
        return int(self.offset[-1])

    def index(self, t: np.ndarray | int, g: np.ndarray | int, h: np.ndarray | int) -> np.ndarray:
        """int64 state index of (t, g, h) (broadcasting; no range checks)."""
        t = np.asarray(t, dtype=np.int64)
        return self.offset[t] + np.asarray(g, dtype=np.int64) * self.n_hist[t] + np.asarray(h, dtype=np.int64)

    def next_hist(self, t: np.ndarray | int, h: np.ndarray | int, a: np.ndarray | int) -> np.ndarray:
        """History code at page t + 1 after action a at page t (t + 1 < T)."""
        t = np.asarray(t, dtype=np.int64)
        t1 = np.minimum(t + 1, self.horizon - 1)
        return (np.asarray(h, dtype=np.int64) * self.n_actions + np.asarray(a, dtype=np.int64)) % self.n_hist[t1]

    def history(self, s: int) -> tuple[int, ...]:
        """The remembered actions of state s, oldest first (for reports)."""
        t, h = int(self.state_t[s]), int(self.state_h[s])
        n = min(t, self.memory)
        out = []
        for _ in range(n):
            out.append(h % self.n_actions)
            h //= self.n_actions
        return tuple(reversed(out))

    def project(self, memory: int) -> np.ndarray:
        """int64 (S,): each state's index in the coarser space with ``memory`` <= L
        (the oldest actions dropped); used for back-off."""
        if memory > self.memory:
            raise ValueError(f"memory: cannot project to L={memory} > {self.memory}")
        coarse = StateSpace(self.horizon, self.n_actions, memory, self.n_segments)
        h = self.state_h % coarse.n_hist[self.state_t]
        return coarse.index(self.state_t, self.state_g, h)

    def segment_free(self) -> StateSpace:
        """The article's segment-free space (t, last L actions): the same T, A, L with
        G = 1 (one "segment")."""
        return StateSpace(self.horizon, self.n_actions, self.memory, 1)

    def drop_segment(self) -> np.ndarray:
        """int64 (S,): each state's index in :meth:`segment_free` (same t and history,
        segment forgotten).  Pools the segment-resolved estimates into the
        segment-free model, and maps a segment-free policy pi (S',) onto this space
        as ``pi[drop_segment()]``."""
        return self.segment_free().index(self.state_t, 0, self.state_h)
