"""Exact and sampled measurement of tier-weight policies on the traffic simulator.

Exact: the per-user values of :func:`simcore.domains.traffic.exact.exact_policy`
(expectation mode; S_t = prod_{j<t} c_j the probability that page t is seen, n_t its
items): gmv = sum_t S_t b_t m_t, reward = sum_t S_t r_t, impressions = sum_t S_t n_t,
tier_impressions[i] = sum_t S_t n_t p_{i,t} and basic_impressions[i] (the control
page's).  A group of users G has GMV = mean_{u in G} gmv_u and the impression-weighted
tier share sum_G tier_impressions / sum_G impressions.  Lifts and GMV changes are
against the control bucket: pi_basic's own exact values on the same users.

Sampled: :func:`cem_evaluator` serves each CEM candidate to fresh sampled sessions
(by default the same sessions for all candidates of an iteration: common random
numbers), chunk by chunk, until its mean session return is confident (by default the return
of the pages' conditional expected rewards, which removes the purchase draw's noise:
our stand-in for the article's "sufficient traffic" per candidate)
(:func:`simcore.algos.cem_bounds.confident_mean`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcore.algos.cem_bounds import confident_mean
from simcore.domains.traffic import exact as traffic_exact
from simcore.domains.traffic.exact import exact_policy
from simcore.util.seeds import SeedTree

__all__ = ["exact_policy", "exact_static", "summarise", "by_segment", "page_rewards", "session_returns",
           "served_returns", "cem_evaluator"]


def exact_static(make_sim: Callable[[int], Any], candidates: np.ndarray, users: Mapping[str, np.ndarray],
                 chunk: int = 32) -> dict[str, np.ndarray]:
    """Per-user exact values of static tier weights, ``chunk`` candidates per call of
    :func:`simcore.domains.traffic.exact.exact_static`: each array of its
    ``per_user`` with a leading candidate axis, e.g. gmv float64 (n, U).

    Args:
        make_sim: sessions -> a fresh TrafficSimulator on the experiment's world.
        candidates: float (n, m_t).  users: the panel (U users).
    """
    C = np.asarray(candidates, dtype=np.float64)
    U = len(users["query"])
    parts = [traffic_exact.exact_static(make_sim(C[s:s + chunk].shape[0] * U), C[s:s + chunk], users)["per_user"]
             for s in range(0, C.shape[0], chunk)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarise(v: Mapping[str, np.ndarray], base: Mapping[str, np.ndarray], tier: int,
              mask: np.ndarray | None = None) -> dict[str, float]:
    """Group summary of per-user exact values ``v`` against the control bucket ``base``
    (both :func:`exact_policy` outputs on the same users) over the users in ``mask``
    (None: all).

    Returns:
        gmv, share (target tier), reward (means); gmv_change_pct = 100 (gmv / gmv_basic
        - 1); lift_pct = 100 (share / share_basic - 1) with share_basic pi_basic's own
        share; page_lift = share - the control pages' share on the policy's own pages
        (the reward's lift term, impression-weighted).
    """
    sel = slice(None) if mask is None else np.asarray(mask, dtype=bool)
    imp, imp0 = v["impressions"][sel].sum(), base["impressions"][sel].sum()
    share = float(v["tier_impressions"][sel, tier].sum() / imp)
    share0 = float(base["tier_impressions"][sel, tier].sum() / imp0)
    gmv, gmv0 = float(v["gmv"][sel].mean()), float(base["gmv"][sel].mean())
    return {"gmv": gmv, "share": share, "reward": float(v["reward"][sel].mean()),
            "gmv_change_pct": 100.0 * (gmv / gmv0 - 1.0) if gmv0 > 0 else float("nan"),
            "lift_pct": 100.0 * (share / share0 - 1.0) if share0 > 0 else float("nan"),
            "page_lift": share - float(v["basic_impressions"][sel, tier].sum() / imp)}


def by_segment(v: Mapping[str, np.ndarray], base: Mapping[str, np.ndarray], tier: int,
               segment: np.ndarray, G: int) -> list[dict[str, float] | None]:
    """:func:`summarise` per user segment 0..G-1 (None where no panel user is in it)."""
    seg = np.asarray(segment)
    return [summarise(v, base, tier, seg == g) if np.any(seg == g) else None for g in range(G)]


def page_rewards(sim: Any, r: Any, expected: bool) -> np.ndarray:
    """One step's rewards float64 (B,): the sampled r, or (``expected``) its
    conditional expectation given the pages shown so far: click E[clicks] + cart
    E[carts] + buy b + price b m + the lift term (the purchase, click and cart draws'
    noise removed; summed along a sampled path it is an unbiased estimate of the
    return, by the tower rule)."""
    if not expected:
        return np.asarray(r.reward, dtype=np.float64)
    g = sim.config.reward
    return (g.click * r.expected_clicks + g.cart * r.expected_carts + g.buy * r.b + g.price * r.b * r.m
            + r.reward_tier)


def session_returns(sim: Any, tiers: np.ndarray, seed: int, expected: bool = False) -> np.ndarray:
    """Return (sum of r, or of its conditional expectations: :func:`page_rewards`) of
    one fresh sampled session per slot of ``sim``, every slot served the static tier
    weights ``tiers`` float (m_t,): float64 (B,)."""
    B = sim.num_sessions
    sim.seed(int(seed))
    sim.reset()
    return served_returns(sim, sim.weights_for(np.tile(np.asarray(tiers, dtype=np.float32), (B, 1))), expected)


def served_returns(sim: Any, W: np.ndarray, expected: bool = False) -> np.ndarray:
    """Return of the sessions now in ``sim``'s slots (just reset) served the full
    weights ``W`` float32 (B, F) until each ends: float64 (B,) (see
    :func:`session_returns`)."""
    total, done = np.zeros(sim.num_sessions), np.zeros(sim.num_sessions, bool)
    for _ in range(sim.horizon):
        r = sim.step(W)
        total += np.where(done, 0.0, page_rewards(sim, r, expected))
        done |= np.asarray(r.terminated, bool) | np.asarray(r.truncated, bool)
        if done.all():
            break
    return total


def _confident(x: np.ndarray, rel_tol: float) -> bool:
    """True when the 95 % normal half-width of the mean of ``x`` is <= rel_tol |mean|."""
    return x.size > 1 and 1.959963984540054 * float(x.std(ddof=1)) / np.sqrt(x.size) <= rel_tol * abs(float(x.mean()))


def cem_evaluator(sim: Any, seeds: SeedTree, max_chunks: int, rel_tol: float,
                  expected: bool = True, common: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """evaluate(candidates float (s, m_t)) -> float64 (s,) confident mean session
    returns (``expected``: of the conditional expectations, :func:`page_rewards`).

    ``common`` (common random numbers, default): call k's chunk i uses the stream
    ``seeds`` ("call", k, i) for every candidate, so all candidates of an iteration are
    served the same users (and the same outcome draws where their pages agree), and
    chunks are added for all candidates together until every candidate's mean is
    confident (:func:`simcore.algos.cem_bounds.confident_mean`'s rule) or
    ``max_chunks``: the ranking of the candidates then reflects their differences,
    not the users each happened to get.  ``common=False``: candidate j, chunk i uses
    ("call", k, j, i) and stops on its own (independent samples per candidate).
    The sessions used are counted in ``evaluate.sessions`` (a one-element list)."""
    calls = [0]
    used = [0]

    def evaluate(candidates: np.ndarray) -> np.ndarray:
        k = calls[0]
        calls[0] += 1
        C = np.asarray(candidates)
        out = np.zeros(C.shape[0])
        if common:
            parts: list[list[np.ndarray]] = [[] for _ in range(C.shape[0])]
            xs: list[np.ndarray] = []
            for i in range(max_chunks):
                seed = seeds.seed("call", k, i)
                for j, c in enumerate(C):
                    parts[j].append(session_returns(sim, c, seed, expected))
                xs = [np.concatenate(p) for p in parts]
                if all(_confident(x, rel_tol) for x in xs):
                    break
            for j, x in enumerate(xs):
                out[j] = float(x.mean())
                used[0] += int(x.size)
            return out
        for j, c in enumerate(C):
            def draw(i: int, c: np.ndarray = c, j: int = j) -> np.ndarray:
                return session_returns(sim, c, seeds.seed("call", k, j, i), expected)

            mean, n, _ = confident_mean(draw, max_chunks=max_chunks, rel_tol=rel_tol)
            out[j] = mean
            used[0] += n
        return out

    evaluate.sessions = used  # type: ignore[attr-defined]
    return evaluate
