"""Exact expected GMV, reward and tier share of deterministic tier-weight policies, from
the simulator's expectation mode (``step(sample=False)``: one path per user, exact
b_t, c_t, m_t, expected clicks and carts, and the page's tier shares).

With S_t = prod_{j<t} c_j the probability that page t is shown, n_t the items on it
and p_t, p_t^basic the page's and the control page's tier shares:

    E[paid GMV]         = sum_t S_t b_t m_t
    E[return]           = sum_t S_t r_t          (r_t: the page's expected reward)
    E[pages]            = sum_t S_t
    tier share          = sum_t S_t n_t p_t / sum_t S_t n_t        (impression-weighted)
    control tier share  = sum_t S_t n_t p_t^basic / sum_t S_t n_t

This is exact for every policy whose action depends on the page history (without
clicks: the expectation mode shows none), the segment, the purchasing power and t;
for static weights it is exact.  The exact constrained optimum ("best static tier
weights per segment subject to a share target") is a search over these values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.simulator import TrafficSimulator

__all__ = ["panel", "exact_policy", "exact_static"]

#: obs float32 (U, D) -> tier weights float (U, m_t)
TierPolicy = Callable[[np.ndarray], np.ndarray]


def panel(config: TrafficConfig, n_users: int, seed: int) -> dict[str, np.ndarray]:
    """``n_users`` users drawn by the traffic model from the session seed ``seed`` (an
    evaluation panel for :func:`exact_static`; users() fields, prefs (U, m + m_t))."""
    sim = TrafficSimulator(config, num_sessions=n_users, seed=seed)
    sim.reset()
    return sim.users()


def exact_policy(sim: TrafficSimulator, policy: TierPolicy, users: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Exact per-user values of a deterministic tier-weight policy.

    Args:
        sim: a TrafficSimulator with as many sessions as ``users`` has users (U).
        policy: obs float32 (U, D) -> tier weights (U, m_t) (added to pi_basic's base weights).
        users: the panel (``TrafficSimulator.users()`` or :func:`panel`).

    Returns:
        float64 arrays: ``gmv`` (U,) E[paid GMV], ``reward_gmv`` (U,) E[sum of the GMV
        term], ``reward`` (U,) E[return], ``pages`` (U,) E[pages], ``impressions`` (U,)
        E[items shown], ``tier_impressions`` and ``basic_impressions`` (U, m_t).
    """
    obs = np.array(sim.reset_to(users), copy=True)
    U, mt = sim.num_sessions, sim.n_tiers
    out = {k: np.zeros(U) for k in ("gmv", "reward_gmv", "reward", "pages", "impressions")}
    out["tier_impressions"], out["basic_impressions"] = np.zeros((U, mt)), np.zeros((U, mt))
    alive = np.ones(U)
    for _ in range(sim.horizon):
        r = sim.step(sim.weights_for(np.asarray(policy(obs), dtype=np.float64)), sample=False)
        n = (r.page >= 0).sum(axis=1).astype(np.float64)
        out["gmv"] += alive * r.b * r.m
        out["reward_gmv"] += alive * r.reward_gmv
        out["reward"] += alive * r.reward
        out["pages"] += alive
        out["impressions"] += alive * n
        out["tier_impressions"] += (alive * n)[:, None] * r.share
        out["basic_impressions"] += (alive * n)[:, None] * r.share_basic
        alive = alive * r.c
        obs = np.array(r.obs, copy=True)
    return out


def _tile(users: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(v)] * n) for k, v in users.items()}


def exact_static(sim: TrafficSimulator, tier_weights: np.ndarray,
                 users: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Exact panel means of n static tier-weight vectors.

    Args:
        sim: a TrafficSimulator holding n * U sessions (n candidates, U panel users).
        tier_weights: float (n, m_t).
        users: the panel.

    Returns:
        ``gmv``, ``reward_gmv``, ``reward``, ``pages``: float64 (n,) means per session;
        ``share``, ``share_basic``, ``lift`` (= share - share_basic): float64 (n, m_t)
        impression-weighted tier shares over the panel; ``per_user``: the
        :func:`exact_policy` arrays reshaped to (n, U[, m_t]).
    """
    w = np.asarray(tier_weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != sim.n_tiers:
        raise ValueError(f"tier_weights: expected shape (n, {sim.n_tiers}), got {w.shape}")
    n, U = w.shape[0], len(users["query"])
    if sim.num_sessions != n * U:
        raise ValueError(f"sim: expected n * U = {n * U} sessions, got {sim.num_sessions}")
    rows = np.repeat(w, U, axis=0)
    v = exact_policy(sim, lambda _obs: rows, _tile(users, n))
    per = {k: a.reshape((n, U) + a.shape[1:]) for k, a in v.items()}
    imp = per["impressions"].sum(axis=1)[:, None]
    share = per["tier_impressions"].sum(axis=1) / imp
    basic = per["basic_impressions"].sum(axis=1) / imp
    res = {k: per[k].mean(axis=1) for k in ("gmv", "reward_gmv", "reward", "pages")}
    res.update(share=share, share_basic=basic, lift=share - basic)
    res["per_user"] = per  # type: ignore[assignment]
    return res
