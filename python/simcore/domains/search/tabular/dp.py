"""Exact dynamic programming on a :class:`~simcore.domains.search.tabular.model.TabularSSMDP`.

Backward induction over pages t = T-1, ..., 0 (the states of a page are a contiguous
block, so each page is one vectorised NumPy step)::

    Q_gamma(s, a) = b(s, a) m(s, a) + gamma * c(s, a) * V_gamma(next(s, a)),
    V_gamma(s) = max_a Q_gamma(s, a),        V = 0 after the last page.

The expected reward of a step is b*m (reward m on purchase, else 0), and a session
continues with probability c, so with gamma = 1 the value of the initial state is
the expected GMV of a session (the article's Proposition 2).  ``V_gamma(h0)`` is the
segment-probability-weighted value of the initial states.
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from simcore.domains.search.tabular.model import TabularSSMDP


def check_gamma(gamma: object, name: str = "gamma") -> float:
    """Validates a discount rate in [0, 1] and returns it as a float."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"{name}: expected a number in [0, 1], got {gamma!r}")
    g = float(gamma)
    if not 0.0 <= g <= 1.0:  # also rejects NaN
        raise ValueError(f"{name}: the discount rate must lie in [0, 1], got {gamma!r}")
    return g


@dataclass
class DPSolution:
    """Result of :func:`solve`.

    Attributes:
        gamma: the discount rate.
        policy: int64 (S,) a gamma-optimal deterministic action per state (ties: lowest
            action index).
        V: float64 (S,) optimal gamma-discounted values.
        Q: float64 (S, A) optimal action values.
        v_h0: V_gamma(h0), the segment-weighted value of the initial states.
        gmv: exact expected GMV per session of ``policy`` (its undiscounted value).
    """

    gamma: float
    policy: np.ndarray
    V: np.ndarray
    Q: np.ndarray
    v_h0: float
    gmv: float


def _initial_value(model: TabularSSMDP, V: np.ndarray) -> np.ndarray:
    """Segment-weighted value of the initial states; V (..., S)."""
    return V[..., model.space.initial] @ model.segment_probs


def solve(model: TabularSSMDP, gamma: float) -> DPSolution:
    """Gamma-optimal policy and values by backward induction (exact for the model)."""
    gamma = check_gamma(gamma)
    sp = model.space
    S, A = sp.n_states, sp.n_actions
    V = np.zeros(S + 1)  # V[S] = 0: the terminal sentinel
    Q = np.zeros((S, A))
    nxt = np.where(sp.next_state < 0, S, sp.next_state)
    for t in range(sp.horizon - 1, -1, -1):
        lo, hi = int(sp.offset[t]), int(sp.offset[t + 1])
        Q[lo:hi] = model.reward[lo:hi] + gamma * model.c[lo:hi] * V[nxt[lo:hi]]
        V[lo:hi] = Q[lo:hi].max(axis=1)
    policy = np.argmax(Q, axis=1).astype(np.int64)
    v = V[:S]
    gmv = float(evaluate(model, policy, 1.0))
    return DPSolution(gamma, policy, v.copy(), Q, float(_initial_value(model, v)), gmv)


def _as_probs(model: TabularSSMDP, policy: np.ndarray) -> np.ndarray:
    """(R, S, A) action probabilities from (S,)/(R, S) actions or (S, A)/(R, S, A) probs."""
    S, A = model.n_states, model.n_actions
    p = np.asarray(policy)
    if p.dtype.kind in "iu":
        if p.shape[-1] != S or p.ndim not in (1, 2):
            raise ValueError(f"policy: expected actions of shape (S,) or (R, S) with S={S}, got {p.shape}")
        if p.size and (p.min() < 0 or p.max() >= A):
            raise ValueError(f"policy: actions must lie in [0, {A})")
        p2 = p.reshape(-1, S)
        out = np.zeros((p2.shape[0], S, A))
        np.put_along_axis(out, p2[..., None], 1.0, axis=2)
        return out
    if p.dtype.kind != "f":
        raise TypeError(f"policy: expected integer actions or float probabilities, got {p.dtype}")
    if p.shape[-2:] != (S, A) or p.ndim not in (2, 3):
        raise ValueError(f"policy: expected probabilities of shape (S, A) or (R, S, A), got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.max(np.abs(p.sum(-1) - 1)) > 1e-6:
        raise ValueError("policy: probabilities must be finite, >= 0 and sum to 1 per state")
    return p.reshape(-1, S, A)


def evaluate_values(model: TabularSSMDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """float64 (R, S) gamma-discounted values of R policies (exact backward evaluation).

    Args:
        policy: int (S,) or (R, S) deterministic actions, or float (S, A) or (R, S, A)
            action probabilities (stochastic policies).
    """
    gamma = check_gamma(gamma)
    sp = model.space
    S, A = sp.n_states, sp.n_actions
    nxt = np.where(sp.next_state < 0, S, sp.next_state)
    p = np.asarray(policy)
    if p.dtype.kind in "iu":  # deterministic: gather the chosen action's cell
        if p.shape[-1] != S or p.ndim not in (1, 2):
            raise ValueError(f"policy: expected actions of shape (S,) or (R, S) with S={S}, got {p.shape}")
        if p.size and (p.min() < 0 or p.max() >= A):
            raise ValueError(f"policy: actions must lie in [0, {A})")
        pol = p.reshape(-1, S).astype(np.int64)
        R = pol.shape[0]
        V = np.zeros((R, S + 1))
        rows = np.arange(R)[:, None]
        for t in range(sp.horizon - 1, -1, -1):
            lo, hi = int(sp.offset[t]), int(sp.offset[t + 1])
            cell = np.arange(lo, hi)[None, :] * A + pol[:, lo:hi]
            V[:, lo:hi] = model.reward.ravel()[cell] + gamma * model.c.ravel()[cell] * V[
                rows, nxt.ravel()[cell]
            ]
        return V[:, :S]
    P = _as_probs(model, policy)
    V = np.zeros((P.shape[0], S + 1))
    for t in range(sp.horizon - 1, -1, -1):
        lo, hi = int(sp.offset[t]), int(sp.offset[t + 1])
        q = model.reward[lo:hi] + gamma * model.c[lo:hi] * V[:, nxt[lo:hi]]
        V[:, lo:hi] = (P[:, lo:hi] * q).sum(axis=2)  # per-row sums: independent of R
    return V[:, :S]


def evaluate(model: TabularSSMDP, policy: np.ndarray, gamma: float) -> float | np.ndarray:
    """V^pi_gamma(h0) of a policy (float), or (R,) for a batch of R policies.
    With gamma = 1 this is the policy's exact expected GMV per session."""
    V = evaluate_values(model, policy, gamma)
    v0 = _initial_value(model, V)
    p = np.asarray(policy)
    single = p.ndim == (1 if p.dtype.kind in "iu" else 2)
    return float(v0[0]) if single else v0


def paths(model: TabularSSMDP, policy: np.ndarray) -> np.ndarray:
    """int64 (G, T): the action sequence a deterministic policy (S,) follows in each
    segment.  In the SSMDP the page sequence is a deterministic function of the
    actions, so a deterministic policy is one open-loop sequence per segment."""
    sp = model.space
    pol = np.asarray(policy, dtype=np.int64)
    if pol.shape != (sp.n_states,):
        raise ValueError(f"policy: expected shape ({sp.n_states},), got {pol.shape}")
    out = np.zeros((sp.n_segments, sp.horizon), dtype=np.int64)
    s = sp.initial.copy()
    for t in range(sp.horizon):
        a = pol[s]
        out[:, t] = a
        if t + 1 < sp.horizon:
            s = sp.next_state[s, a]
    return out


def brute_force(model: TabularSSMDP, gamma: float, limit: int = 200_000) -> tuple[float, np.ndarray]:
    """Best V_gamma(h0) over *all* deterministic state -> action maps, by enumeration.

    Only for tiny models (A ** S <= limit): a check of :func:`solve`.  Each policy is
    evaluated forward (probability of reaching each state times its expected reward),
    independently of the backward recursion.  Returns (best value, a best policy).
    """
    gamma = check_gamma(gamma)
    sp = model.space
    S, A = sp.n_states, sp.n_actions
    if A**S > limit:
        raise ValueError(f"brute_force: {A}**{S} policies exceed the limit {limit}")
    best, best_pol = -np.inf, None
    for pol in itertools.product(range(A), repeat=S):
        value = 0.0
        for g in range(sp.n_segments):
            s, reach, disc = int(sp.initial[g]), model.segment_probs[g], 1.0
            while s >= 0:
                a = pol[s]
                value += disc * reach * model.b[s, a] * model.m[s, a]
                reach *= model.c[s, a]
                disc *= gamma
                s = int(sp.next_state[s, a])
        if value > best + 1e-12:
            best, best_pol = value, np.array(pol, dtype=np.int64)
    return float(best), best_pol


def expected_gmv_forward(model: TabularSSMDP, policy: np.ndarray) -> float | np.ndarray:
    """Exact expected GMV per session by *forward* propagation (the article's formula
    E_gmv = sum_t Pr(reach h_t) b_t m_t), independent of the backward recursion of
    :func:`evaluate`; used to check Proposition 2.

    Args:
        policy: int (S,)/(R, S) actions or float (S, A)/(R, S, A) probabilities.

    Returns:
        float, or float64 (R,) for a batch.
    """
    sp = model.space
    S = sp.n_states
    p = np.asarray(policy)
    single = p.ndim == (1 if p.dtype.kind in "iu" else 2)
    P = _as_probs(model, p)  # (R, S, A)
    R = P.shape[0]
    mass = np.zeros((R, S))
    mass[:, sp.initial] = model.segment_probs[None, :]
    gmv = np.zeros(R)
    rows = np.arange(R)[:, None, None]
    for t in range(sp.horizon):
        lo, hi = int(sp.offset[t]), int(sp.offset[t + 1])
        flow = mass[:, lo:hi, None] * P[:, lo:hi]  # (R, n_t, A) probability of (state, action)
        gmv += np.einsum("rsa,sa->r", flow, model.reward[lo:hi])
        if t + 1 < sp.horizon:
            nxt = np.broadcast_to(sp.next_state[lo:hi][None], flow.shape)
            np.add.at(mass, (np.broadcast_to(rows, flow.shape), nxt), flow * model.c[lo:hi][None])
    return float(gmv[0]) if single else gmv
