"""A tabular search-session MDP and its extraction from the C++ simulator.

The article's SSMDP (``docs/discount.md``): in state C(h_t) the agent picks a ranking
action; the next page history h_{t+1} ends the session with a purchase (probability
b, reward m = expected price), ends it with the user leaving (probability l), or
continues (probability c = 1 - b - l).  Here h_t is represented by the tabular state
(t, last L actions, segment) of :class:`~simcore.domains.search.tabular.space.StateSpace`.

:func:`~simcore.domains.search.tabular.estimate.extract_model` estimates b, l, m of every (state, action) cell from the
simulator's *exact* per-user expectations (``peek``/``step(sample=False)``), weighting
each user by the probability that the user is still in the session (the product of
that user's exact continuing probabilities so far).  That weighting makes b(s, a) the
population conversion probability of the SSMDP: P(buy | reached s, action a) =
E[S_u b_u] / E[S_u].  With L >= T - 1 the states are full action histories and the
estimate converges to the simulator's population SSMDP; with smaller L it is the
aggregation of the histories sharing their last L actions (under the uniform random
behaviour policy used for extraction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simcore.domains.search.tabular.space import StateSpace


def segment_slice(sim_obs_dim: int, window: int, m: int, G: int) -> slice:
    """Where the segment one-hot lies in the simulator's observation vector
    (layout: window * m history features, m + 1 page features, G segments, 1 page)."""
    start = window * m + m + 1
    if start + G + 1 != sim_obs_dim:
        raise RuntimeError("observation layout changed: cannot locate the segment one-hot")
    return slice(start, start + G)


@dataclass
class TabularSSMDP:
    """A finite-horizon SSMDP on a tabular state space.

    Attributes:
        space: the state indexing (S states, A actions).
        b, l, c, m: float64 (S, A) conversion, abandon, continuing probability and
            expected purchase price of the page shown by action a in state s.
            b, l, c >= 0 and b + l + c = 1 (to 1e-9); m >= 0.
        segment_probs: float64 (G,) probability of each segment at the session start.
        visits: int64 (S,) users that visited the state during extraction (diagnostic;
            zeros for synthetic models).
        level: int64 (S,) the memory actually used for the state's estimate after
            back-off (L when no back-off was needed).
        info: free-form provenance (extraction settings).
    """

    space: StateSpace
    b: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    m: np.ndarray
    segment_probs: np.ndarray
    visits: np.ndarray | None = None
    level: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        S, A = self.space.n_states, self.space.n_actions
        for name in ("b", "l", "c", "m"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (S, A):
                raise ValueError(f"{name}: expected shape {(S, A)}, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: contains NaN or inf")
            if np.any(arr < 0):
                raise ValueError(f"{name}: must be non-negative")
            setattr(self, name, arr)
        if np.any(self.b > 1) or np.any(self.l > 1) or np.any(self.c > 1):
            raise ValueError("b, l, c: probabilities must lie in [0, 1]")
        if np.max(np.abs(self.b + self.l + self.c - 1.0)) > 1e-9:
            raise ValueError("b, l, c: must sum to 1 in every cell")
        p = np.asarray(self.segment_probs, dtype=np.float64)
        G = self.space.n_segments
        if p.shape != (G,) or np.any(p < 0) or not np.all(np.isfinite(p)) or abs(p.sum() - 1) > 1e-9:
            raise ValueError(f"segment_probs: expected {G} non-negative numbers summing to 1")
        self.segment_probs = p
        if self.visits is None:
            self.visits = np.zeros(S, dtype=np.int64)
        if self.level is None:
            self.level = np.full(S, self.space.memory, dtype=np.int64)
        # Flat (S*A,) views used by the vectorised learners.
        self.reward = self.b * self.m  # expected immediate reward b*m

    @property
    def horizon(self) -> int:
        return self.space.horizon

    @property
    def n_states(self) -> int:
        return self.space.n_states

    @property
    def n_actions(self) -> int:
        return self.space.n_actions

    @classmethod
    def random(
        cls,
        space: StateSpace,
        rng: np.random.Generator,
        buy: tuple[float, float] = (0.02, 0.3),
        leave: tuple[float, float] = (0.05, 0.4),
        price: tuple[float, float] = (10.0, 100.0),
    ) -> TabularSSMDP:
        """A synthetic instance with uniform random b, l, m in the given ranges
        (for tests and examples)."""
        S, A, G = space.n_states, space.n_actions, space.n_segments
        b = rng.uniform(*buy, size=(S, A))
        l = rng.uniform(*leave, size=(S, A))  # noqa: E741
        m = rng.uniform(*price, size=(S, A))
        p = rng.dirichlet(np.ones(G)) if G > 1 else np.ones(1)
        return cls(space, b, l, 1.0 - b - l, m, p)
