"""Exact static baselines on one panel: the classic fixed up-weighting, and the best
static tier weights for everyone (uniform) and per user segment (the hardest
baseline), from one exact table over a grid of static candidates.

For every candidate c and panel user u the table holds the exact per-user values of
:func:`simcore.experiments.tiered_traffic.evaluate.exact_static`.  At lambda the
objective of user u is the expected return of the article's reward with lambda on
the target tier i,

    J_lambda(c, u) = reward_gmv(c, u) + lambda sum_t S_t (p_{i,t} - p^basic_{i,t}),

computed from the table of a simulator built with lambda = 1 on the target tier and
0 elsewhere, whose reward - reward_gmv is exactly the lift term's expected sum.
The uniform optimum is argmax_c mean_u J_lambda(c, u) and the per-segment optimum
picks argmax_c mean_{u in g} J_lambda(c, u) for every segment g.  Sweeping lambda
traces the upper-left hull of the exact share-lift / GMV frontier: for each reached
share target, no static (per-segment) weights of the grid have a higher expected
reward-GMV (the Lagrangian relaxation of "max GMV subject to share >= target").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcore.experiments.tiered_traffic.evaluate import by_segment, exact_static, summarise


def candidate_grid(grid: tuple[float, ...], grid_other: tuple[float, ...], basic: np.ndarray, tier: int,
                   uplifts: tuple[float, ...]) -> np.ndarray:
    """Rows: the basic tier weights, each uplift (basic + delta on ``tier``), then every
    combination of ``grid`` on the target tier and ``grid_other`` on each other tier:
    float64 (1 + len(uplifts) + len(grid) len(grid_other)^(m_t - 1), m_t)."""
    basic = np.asarray(basic, dtype=np.float64)
    rows = [basic]
    for d in uplifts:
        u = basic.copy()
        u[tier] += d
        rows.append(u)
    axes = [grid if k == tier else grid_other for k in range(basic.size)]
    rows += [np.array(p) for p in itertools.product(*axes)]
    return np.vstack(rows)


def objective(table: Mapping[str, np.ndarray], lam: float) -> np.ndarray:
    """J_lambda(c, u): float64 (n, U) (module docstring: the table's simulator has
    lambda = 1 on the target tier)."""
    return table["reward_gmv"] + lam * (table["reward"] - table["reward_gmv"])


def _pick(table: Mapping[str, np.ndarray], choice: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user values when user u is served candidate choice[u]."""
    u = np.arange(choice.size)
    return {k: v[choice, u] for k, v in table.items()}


def static_optima(make_sim: Callable[[int], Any], users: Mapping[str, np.ndarray], basic: np.ndarray, tier: int,
                  G: int, grid: tuple[float, ...], grid_other: tuple[float, ...], uplifts: tuple[float, ...],
                  lambdas: tuple[float, ...], headline: float) -> dict[str, Any]:
    """Every exact static baseline on the panel ``users`` (module docstring;
    ``make_sim`` builds simulators with lambda = 1 on ``tier``, 0 elsewhere).

    Returns:
        ``basic`` (the control bucket's per-user values, for the learners' summaries),
        ``uplift`` (delta -> summary, by_segment, weights), ``uniform-opt`` and
        ``segment-opt`` (lambda -> summary, by_segment, weights: (m_t,) or (G, m_t)).
        Each summary's ``reward`` is E[return] of r at its lambda (the up-weighting's
        at ``headline``).
        Keys of the inner dicts are ``f"{x:g}"``.
    """
    C = candidate_grid(grid, grid_other, basic, tier, uplifts)
    table = exact_static(make_sim, C, users)
    seg = np.asarray(users["segment"])
    base = {k: v[0] for k, v in table.items()}

    def entry(v: Mapping[str, np.ndarray], weights: np.ndarray, lam: float) -> dict[str, Any]:
        v = {**v, "reward": v["reward_gmv"] + lam * (v["reward"] - v["reward_gmv"])}  # E[return] at lam
        return {**summarise(v, base, tier), "by_segment": by_segment(v, base, tier, seg, G),
                "weights": np.asarray(weights).tolist(), "lambda": lam}

    out: dict[str, Any] = {"basic": base, "uplift": {}, "uniform-opt": {}, "segment-opt": {}}
    for j, d in enumerate(uplifts):
        out["uplift"][f"{d:g}"] = entry({k: v[1 + j] for k, v in table.items()}, C[1 + j], headline)
    for lam in lambdas:
        J = objective(table, lam)
        best = int(np.argmax(J.mean(axis=1)))
        out["uniform-opt"][f"{lam:g}"] = entry({k: v[best] for k, v in table.items()}, C[best], lam)
        per = np.array([int(np.argmax(J[:, seg == g].mean(axis=1))) if np.any(seg == g) else 0 for g in range(G)])
        out["segment-opt"][f"{lam:g}"] = entry(_pick(table, per[seg]), C[per], lam)
    return out


def exact_gmv_full(sim: Any, weights: np.ndarray, users: Mapping[str, np.ndarray]) -> np.ndarray:
    """Exact mean paid GMV per session of full static ranking vectors float (n, F)
    (base columns and tiers) on the panel: float64 (n,); ``sim`` holds n * U sessions."""
    W = np.asarray(weights, dtype=np.float32)
    n, U = W.shape[0], len(users["query"])
    sim.reset_to({k: np.concatenate([np.asarray(v)] * n) for k, v in users.items()})
    rows = np.repeat(W, U, axis=0)
    total, alive = np.zeros(n * U), np.ones(n * U)
    for _ in range(sim.horizon):
        r = sim.step(rows, sample=False)
        total += alive * r.b * r.m
        alive = alive * r.c
    return np.asarray(total.reshape(n, U).mean(axis=1))


def gmv_optimal_control(make_sim: Callable[[int], Any], users: Mapping[str, np.ndarray], start: np.ndarray,
                        m_t: int, iterations: int, rng_seed: int, n_candidates: int = 16) -> dict[str, Any]:
    """The control bucket the article assumes, a local optimum of the market: the static
    base weights (tiers at 0) of highest exact paid GMV on the panel, found by CEM in
    [-1, 1]^m from ``start`` (the package's control, kept if nothing beats it).

    The CEM is :class:`simcore.algos.cem_bounds.CEMBounds` with a step alpha large
    enough that every step is capped at the elite maximiser (classic CEM).

    Returns:
        ``weights`` float (m,), ``gmv`` (its exact GMV), ``start_gmv``, ``history``.
    """
    from simcore.algos.cem_bounds import CEMBounds, CEMBoundsConfig

    m = int(np.asarray(start).size)
    cem = CEMBounds(m, CEMBoundsConfig(n_candidates=n_candidates, elite_frac=0.25, alpha=100.0, init_std=0.3,
                                       min_std=0.02, low=-1.0, high=1.0, seed=rng_seed), init_mean=start)
    sim = make_sim(n_candidates * len(users["query"]))
    pad = np.zeros((n_candidates, m_t))
    start_gmv = float(exact_gmv_full(make_sim(len(users["query"])), np.r_[start, np.zeros(m_t)][None], users)[0])
    best_w, best_v, hist = np.asarray(start, dtype=np.float64).copy(), start_gmv, []
    for _ in range(iterations):
        C = cem.ask()
        v = exact_gmv_full(sim, np.hstack([C, pad]), users)
        cem.tell(v)
        if v.max() > best_v:
            best_v, best_w = float(v.max()), C[int(np.argmax(v))].copy()
        hist.append(best_v)
    return {"weights": best_w.tolist(), "gmv": best_v, "start_gmv": start_gmv, "history": hist}
