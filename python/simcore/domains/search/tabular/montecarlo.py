"""Monte Carlo evaluation of tabular policies on a :class:`TabularSSMDP` (NumPy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simcore.domains.search.tabular.model import TabularSSMDP
from simcore.domains.search.tabular.rng import Seeds, seed_tree


@dataclass
class MCResult:
    """Sampled sessions of n policies.

    Attributes:
        gmv: float64 (n, sessions) GMV of each session (m of the purchase page, or 0).
        end_page: int64 (n, sessions) 0-based page on which the session ended.
        bought: bool (n, sessions).
    """

    gmv: np.ndarray
    end_page: np.ndarray
    bought: np.ndarray

    def returns(self, gamma: float) -> np.ndarray:
        """(n, sessions) discounted returns: gamma^page * GMV (reward only on purchase)."""
        return self.gmv * float(gamma) ** self.end_page


def simulate_model(
    model: TabularSSMDP, policies: Sequence[np.ndarray], sessions: int, seed: Seeds
) -> MCResult:
    """Samples ``sessions`` sessions of each policy from the model.

    Args:
        policies: each int (S,) deterministic actions or float (S, A) probabilities.
        sessions: sessions per policy (>= 1).
        seed: the SeedTree (or int root) whose own stream, ``seed_tree(seed).generator()``,
            is the one generator used for all draws (segments, actions, outcomes, in a
            fixed order).
    """
    sp = model.space
    S, A, T = sp.n_states, sp.n_actions, sp.horizon
    n = len(policies)
    sessions = int(sessions)
    if sessions < 1:
        raise ValueError(f"sessions: must be >= 1, got {sessions}")
    cum = np.zeros((max(n, 1), S, A))
    for i, p in enumerate(policies):
        p = np.asarray(p)
        if p.dtype.kind in "iu":
            if p.shape != (S,) or p.min() < 0 or p.max() >= A:
                raise ValueError(f"policies[{i}]: expected actions (S,) in [0, {A})")
            cum[i, np.arange(S), :] = (np.arange(A)[None, :] >= p[:, None]).astype(float)
        else:
            if p.shape != (S, A):
                raise ValueError(f"policies[{i}]: expected probabilities of shape ({S}, {A})")
            c = np.cumsum(np.asarray(p, dtype=np.float64), axis=1)
            cum[i] = c / c[:, -1:]
    rng = seed_tree(seed).generator()
    total = n * sessions
    pol = np.repeat(np.arange(n), sessions)
    cdf = np.cumsum(model.segment_probs)
    cdf[-1] = 1.0
    g = np.minimum(np.searchsorted(cdf, rng.random(total), side="right"), sp.n_segments - 1)
    s = sp.initial[g]
    gmv = np.zeros(total)
    end = np.full(total, T - 1, dtype=np.int64)
    bought = np.zeros(total, dtype=bool)
    live = np.arange(total)
    for t in range(T):
        if live.size == 0:
            break
        u_a = rng.random(live.size)
        u_o = rng.random(live.size)
        sl = s[live]
        a = np.minimum((cum[pol[live], sl] <= u_a[:, None]).sum(axis=1), A - 1)
        bb = model.b[sl, a]
        buy = u_o < bb
        stop = buy | (u_o < bb + model.l[sl, a]) | (t == T - 1)
        gmv[live[buy]] = model.m[sl[buy], a[buy]]
        bought[live[buy]] = True
        end[live[stop]] = t
        if t + 1 < T:
            s[live] = np.where(stop, 0, sp.next_state[sl, a])
        live = live[~stop]
    return MCResult(gmv.reshape(n, sessions), end.reshape(n, sessions), bought.reshape(n, sessions))
