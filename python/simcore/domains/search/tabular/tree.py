"""Exact dynamic programming over the full page-history tree of the real simulator.

For a short horizon T the tree of all A^T action sequences is small (5^5 = 3125).
Every user of a panel is run through every sequence in expectation mode
(:func:`simcore.domains.search.tabular.simeval.sequence_rewards`), which gives the exact b, c, m of
every page history of that user.  The SSMDP's environment is the user population
(here the panel), and the agent observes the user's segment and the page history.
For segment g, the value of a tree node (action prefix p of length t) is

    W_t(p) = max_a [ R_t(p a) + gamma * W_{t+1}(p a) ],   W_T = 0,
    R_t(p a) = (1/U) sum_{u in g} S_u(p) b_u(p a) m_u(p a),

with S_u(p) the product of user u's continuing probabilities along p (the chance the
session reaches p).  V_gamma(h0) = sum_g W_0^g.  Since pages are a deterministic
function of the actions, a policy of (segment, history) is one sequence per segment;
backward induction finds the gamma-optimal one without enumerating sequences, and
:func:`brute_force_sequences` checks it by enumeration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.tabular.dp import check_gamma
from simcore.domains.search.tabular.simeval import sequence_rewards

#: Refuse trees with more leaves than this per user.
MAX_SEQUENCES = 200_000


def all_sequences(n_actions: int, horizon: int) -> np.ndarray:
    """int64 (A^T, T): every action sequence, first action most significant."""
    if n_actions < 1:
        raise ValueError("n_actions: the action set is empty")
    if n_actions**horizon > MAX_SEQUENCES:
        raise ValueError(
            f"horizon: {n_actions}^{horizon} sequences exceed {MAX_SEQUENCES:,}; use a shorter tree horizon"
        )
    idx = np.arange(n_actions**horizon, dtype=np.int64)
    out = np.empty((idx.size, horizon), dtype=np.int64)
    for t in range(horizon - 1, -1, -1):
        out[:, t] = idx % n_actions
        idx //= n_actions
    return out


@dataclass
class PageTree:
    """Exact per-user rewards over the full tree.

    Attributes:
        rewards: float64 (U, A^T, T): S_t b_t m_t of user u along sequence k at page t.
        segments: int64 (U,) each user's segment.
        n_actions, horizon, n_segments: A, T, G.
    """

    rewards: np.ndarray
    segments: np.ndarray
    n_actions: int
    horizon: int
    n_segments: int


def build_tree(
    config: SessionConfig,
    actions: np.ndarray,
    users: Mapping[str, np.ndarray],
    progress: Callable[[int], None] | None = None,
) -> PageTree:
    """Runs every panel user through every action sequence of length config.horizon."""
    A = int(np.asarray(actions).shape[0])
    seqs = all_sequences(A, config.horizon)
    rew = sequence_rewards(config, actions, users, seqs, progress=progress)
    return PageTree(
        rewards=rew,
        segments=np.asarray(users["segment"], dtype=np.int64),
        n_actions=A,
        horizon=config.horizon,
        n_segments=config.world.n_segments,
    )


def segment_free(tree: PageTree) -> PageTree:
    """The same tree for an agent that does not observe the segment (the article's
    state): every user in one segment, so each gamma has one sequence for all users."""
    return PageTree(tree.rewards, np.zeros_like(tree.segments), tree.n_actions, tree.horizon, 1)


@dataclass
class TreeSolution:
    """The gamma-optimal tree policy.

    Attributes:
        gamma: discount rate.
        sequences: int64 (G, T) the optimal action sequence of each segment.
        v_h0: V_gamma(h0) on the panel.
        gmv: the policy's exact expected GMV per session on the panel.
        user_gmv: float64 (U,) each user's exact expected GMV under the policy.
        user_v: float64 (U,) each user's V_gamma.
    """

    gamma: float
    sequences: np.ndarray
    v_h0: float
    gmv: float
    user_gmv: np.ndarray
    user_v: np.ndarray


def _node_rewards(tree: PageTree, g: int) -> list[np.ndarray]:
    """R_t for segment g: list over t of (A^{t+1},) arrays, normalised by the panel size."""
    A, T = tree.n_actions, tree.horizon
    U = tree.rewards.shape[0]
    rg = tree.rewards[tree.segments == g]  # (U_g, A^T, T)
    out = []
    for t in range(T):
        # The page at depth t depends only on the first t+1 actions: take the first
        # extension of each prefix.
        r = rg[:, :, t].reshape(rg.shape[0], A ** (t + 1), A ** (T - t - 1))[:, :, 0]
        out.append(r.sum(axis=0) / U)
    return out


def solve_tree(tree: PageTree, gamma: float) -> TreeSolution:
    """Backward induction over the page-history tree, per segment."""
    gamma = check_gamma(gamma)
    A, T, G = tree.n_actions, tree.horizon, tree.n_segments
    seqs = np.zeros((G, T), dtype=np.int64)
    v0 = 0.0
    for g in range(G):
        R = _node_rewards(tree, g)
        W = np.zeros(A**T)
        best = []
        for t in range(T - 1, -1, -1):
            q = (R[t] + gamma * W).reshape(A**t, A)
            best.append(np.argmax(q, axis=1))
            W = q.max(axis=1)
        best.reverse()
        v0 += float(W[0])
        node = 0
        for t in range(T):
            a = int(best[t][node])
            seqs[g, t] = a
            node = node * A + a
    user_gmv, user_v = tree_user_values(tree, seqs, gamma)
    return TreeSolution(gamma, seqs, v0, float(user_gmv.mean()), user_gmv, user_v)


def _seq_index(seq: np.ndarray, A: int) -> int:
    k = 0
    for a in seq:
        k = k * A + int(a)
    return k


def tree_user_values(tree: PageTree, sequences: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Each user's exact GMV and V_gamma under per-segment sequences (G, T)."""
    A, T = tree.n_actions, tree.horizon
    k = np.array([_seq_index(sequences[g], A) for g in range(tree.n_segments)])
    r = tree.rewards[np.arange(tree.rewards.shape[0]), k[tree.segments]]  # (U, T)
    disc = float(gamma) ** np.arange(T)
    return r.sum(axis=1), r @ disc


def brute_force_sequences(tree: PageTree, gamma: float) -> tuple[float, np.ndarray]:
    """max over all per-segment sequences of the panel's V_gamma(h0), by enumeration
    (a check of :func:`solve_tree`).  Returns (value, sequences (G, T))."""
    gamma = check_gamma(gamma)
    T, G = tree.horizon, tree.n_segments
    U = tree.rewards.shape[0]
    disc = float(gamma) ** np.arange(T)
    total = 0.0
    seqs = np.zeros((G, T), dtype=np.int64)
    every = all_sequences(tree.n_actions, T)
    for g in range(G):
        v = (tree.rewards[tree.segments == g] @ disc).sum(axis=0) / U  # (A^T,)
        k = int(np.argmax(v))
        total += float(v[k])
        seqs[g] = every[k]
    return total, seqs
