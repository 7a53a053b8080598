"""Budgeted incentive allocation: each user gets one of K incentives or none, under a
total budget (a multiple-choice knapsack; NumPy/SciPy).

Instance: values v float (n, K) (e.g. the incentive's incremental conversions), costs
c float (n, K) >= 0 (e.g. its expected spend), budget B >= 0.  Choice x_ik in {0, 1},
sum_k x_ik <= 1 ("none" is the empty row), sum_ik c_ik x_ik <= B; maximise sum_ik v_ik x_ik.

* :func:`solve_dual` - the Lagrangian method: for a price lam >= 0 each user takes
  argmax_k (v_ik - lam c_ik) if positive, else none; spend(lam) is non-increasing, and
  bisection finds the smallest lam whose choice fits the budget.  The dual function
  D(lam) = lam B + sum_i max(0, max_k v_ik - lam c_ik) bounds the LP (hence the ILP)
  optimum from above at every lam, so ``upper_bound - value`` certifies the gap.
* :func:`solve_greedy` - the multiple-choice knapsack's convex-hull greedy (Sinha &
  Zoltners 1979): per user the upper concave hull of {(0, 0), (c_ik, v_ik)}, its
  increments sorted by slope dv/dc over all users; taken in order while they fit.  Its
  fractional completion is the exact LP optimum (``lp_value``).
* :func:`solve_exact` - the ILP by ``scipy.optimize.milp`` (HiGHS) and its LP relaxation,
  for small instances (the hardest baseline).
* :func:`pace` - online pacing: periods arrive in order, a dual price per period, after
  each lam <- max(0, lam + eta s (spend_t - target_t) / target_t), target_t = the remaining
  budget over the remaining periods, s the price scale (the first price, 1 if that is
  0); a period's users stop receiving incentives once the budget is spent.

A choice is int64 (n,): the incentive index in [0, K), or -1 for none.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Allocation:
    """A choice and its totals.

    Attributes:
        choice: int64 (n,), incentive index or -1 (none).
        value: sum of the chosen values.
        spend: sum of the chosen costs (<= budget).
        price: the dual price lam (NaN for methods without one).
        upper_bound: a bound on the optimum (the dual's D(lam), the LP's value; NaN if none).
    """

    choice: np.ndarray
    value: float
    spend: float
    price: float = math.nan
    upper_bound: float = math.nan


def check_instance(values: object, costs: object, budget: object) -> tuple[np.ndarray, np.ndarray, float]:
    """(v, c, B) as float64, checked: same (n, K) shape, finite, c >= 0, B finite >= 0."""
    try:
        v = np.asarray(values, dtype=np.float64)
        c = np.asarray(costs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("values/costs: expected numbers") from None
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise ValueError(f"values: expected shape (n, K) with n, K >= 1, got {v.shape}")
    if c.shape != v.shape:
        raise ValueError(f"costs: expected the shape of values {v.shape}, got {c.shape}")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(c))):
        raise ValueError("values/costs: contain NaN or inf")
    if np.any(c < 0):
        raise ValueError("costs: must be >= 0")
    if not isinstance(budget, (int, float, np.floating, np.integer)) or isinstance(budget, bool) \
            or not math.isfinite(float(budget)) or float(budget) < 0:
        raise ValueError(f"budget: expected a finite number >= 0, got {budget!r}")
    return v, c, float(budget)


def totals(choice: np.ndarray, values: np.ndarray, costs: np.ndarray) -> tuple[float, float]:
    """(value, spend) of ``choice`` int (n,) (-1 = none)."""
    m = choice >= 0
    rows = np.nonzero(m)[0]
    return float(values[rows, choice[m]].sum()), float(costs[rows, choice[m]].sum())


def choose_at_price(values: np.ndarray, costs: np.ndarray, lam: float) -> np.ndarray:
    """int64 (n,) argmax_k (v_ik - lam c_ik) where positive, else -1 (ties: the cheaper,
    then the lower index)."""
    net = values - lam * costs
    best = net.max(axis=1, keepdims=True)
    cand = np.where(net >= best - 1e-12 * (1 + np.abs(best)), costs, np.inf)
    k = np.argmin(cand, axis=1)
    return np.where(best[:, 0] > 0, k, -1).astype(np.int64)


def dual_bound(values: np.ndarray, costs: np.ndarray, budget: float, lam: float) -> float:
    """D(lam) = lam B + sum_i max(0, max_k v_ik - lam c_ik) >= the LP optimum, lam >= 0."""
    return float(lam * budget + np.maximum(0.0, (values - lam * costs).max(axis=1)).sum())


def solve_dual(values: object, costs: object, budget: object, *, iters: int = 100) -> Allocation:
    """The Lagrangian method (module docstring): bisection on lam over ``iters`` halvings."""
    v, c, b = check_instance(values, costs, budget)
    choice = choose_at_price(v, c, 0.0)
    val, spend = totals(choice, v, c)
    if spend <= b:
        return Allocation(choice, val, spend, 0.0, dual_bound(v, c, b, 0.0))
    pos = (c > 0) & (v > 0)
    hi = float((v[pos] / c[pos]).max()) * (1 + 1e-9) + 1e-300
    lo = 0.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if totals(choose_at_price(v, c, mid), v, c)[1] <= b:
            hi = mid
        else:
            lo = mid
    choice = choose_at_price(v, c, hi)
    val, spend = totals(choice, v, c)
    ub = min(dual_bound(v, c, b, hi), dual_bound(v, c, b, lo))
    return Allocation(choice, val, spend, hi, ub)


def _hull(cost: np.ndarray, value: np.ndarray) -> list[int]:
    """Indices (into the K options) of one user's upper concave hull from (0, 0), by cost."""
    order = [k for k in np.lexsort((-value, cost)) if value[k] > 0]
    pts: list[int] = []
    for k in order:
        if pts and value[k] <= value[pts[-1]]:
            continue                                      # dominated: costs more, gives no more
        while pts:
            c1, v1 = (0.0, 0.0) if len(pts) == 1 else (cost[pts[-2]], value[pts[-2]])
            c2, v2 = cost[pts[-1]], value[pts[-1]]
            # drop the last point if it lies on/below the segment (c1, v1) -> (cost[k], value[k])
            if (v2 - v1) * (cost[k] - c1) <= (value[k] - v1) * (c2 - c1):
                pts.pop()
            else:
                break
        pts.append(int(k))
    return pts


def solve_greedy(values: object, costs: object, budget: object) -> Allocation:
    """The convex-hull greedy; ``upper_bound`` = the LP optimum (its fractional completion)."""
    v, c, b = check_instance(values, costs, budget)
    n = v.shape[0]
    inc_user, inc_from, inc_to, inc_dc, inc_dv = [], [], [], [], []
    for i in range(n):
        prev, pc, pv = -1, 0.0, 0.0
        for k in _hull(c[i], v[i]):
            inc_user.append(i)
            inc_from.append(prev)
            inc_to.append(k)
            inc_dc.append(c[i, k] - pc)
            inc_dv.append(v[i, k] - pv)
            prev, pc, pv = k, c[i, k], v[i, k]
    dc, dv = np.array(inc_dc), np.array(inc_dv)
    slope = np.where(dc > 0, dv / np.where(dc > 0, dc, 1.0), np.inf)
    order = np.lexsort((np.arange(dc.size), -slope))
    choice = np.full(n, -1, dtype=np.int64)
    frozen = np.zeros(n, dtype=bool)
    left, lp, lp_left, lp_done = b, 0.0, b, False
    for j in order:
        if not lp_done:
            take = 1.0 if dc[j] <= lp_left else lp_left / dc[j]
            lp += take * dv[j]
            lp_left -= take * dc[j]
            lp_done = take < 1.0
        i = inc_user[j]
        if frozen[i] or choice[i] != inc_from[j]:
            continue
        if dc[j] <= left + 1e-12:
            choice[i] = inc_to[j]
            left -= dc[j]
        else:
            frozen[i] = True
    val, spend = totals(choice, v, c)
    return Allocation(choice, val, spend, math.nan, float(lp))


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Sends file descriptor 1 to /dev/null (the HiGHS build bundled with SciPy prints
    solver diagnostics from C++, bypassing ``disp=False``); restored afterwards."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def solve_exact(values: object, costs: object, budget: object, *, relax: bool = False,
                time_limit: float = 60.0, mip_rel_gap: float = 1e-9) -> Allocation:
    """The ILP optimum (``relax=False``) or the LP relaxation's value (``relax=True``;
    ``choice`` is then the rounded-down integral part) by ``scipy.optimize.milp``
    (HiGHS, stopped at a relative MIP gap ``mip_rel_gap``; ``upper_bound`` is then the
    solver's dual bound, so ILP optimum in [value, upper_bound])."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, vstack

    v, c, b = check_instance(values, costs, budget)
    n, k = v.shape
    rows = np.repeat(np.arange(n), k)
    one = csr_matrix((np.ones(n * k), (rows, np.arange(n * k))), shape=(n, n * k))
    cons = [LinearConstraint(vstack([one, csr_matrix(c.reshape(1, -1))]),
                             -np.inf, np.concatenate([np.ones(n), [b]]))]
    with _quiet_stdout():
        res = milp(-v.ravel(), constraints=cons, integrality=np.zeros(n * k) if relax else np.ones(n * k),
                   bounds=Bounds(0, 1), options={"time_limit": time_limit, "mip_rel_gap": mip_rel_gap})
    if res.x is None:
        raise RuntimeError(f"milp failed: {res.message}")
    x = res.x.reshape(n, k)
    choice = np.where(x.max(axis=1) > 0.5, x.argmax(axis=1), -1).astype(np.int64) if not relax else \
        np.where(x.max(axis=1) > 1 - 1e-9, x.argmax(axis=1), -1).astype(np.int64)
    val, spend = totals(choice, v, c)
    if relax:
        return Allocation(choice, val, spend, math.nan, float(-res.fun))
    bound = -float(getattr(res, "mip_dual_bound", res.fun) or res.fun)
    return Allocation(choice, val, spend, math.nan, max(bound, val))


@dataclass(frozen=True)
class PacingResult:
    """Online pacing's outcome: ``choice`` int64 (n,) over all periods' users in order,
    ``value``, ``spend``, ``prices`` float64 (T,) (the price each period used),
    ``period_spend`` float64 (T,)."""

    choice: np.ndarray
    value: float
    spend: float
    prices: np.ndarray
    period_spend: np.ndarray


def pace(periods: list[tuple[np.ndarray, np.ndarray]], budget: float, *, eta: float = 0.5,
         price0: float = 0.0) -> PacingResult:
    """Online dual pacing over ``periods`` [(values (n_t, K), costs (n_t, K)), ...]
    (module docstring); ``eta`` > 0 the relative step, ``price0`` >= 0 the first price
    (e.g. the dual price of a past period's solve)."""
    if not periods:
        raise ValueError("periods: needs at least one (values, costs) pair")
    if not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta: expected a finite number > 0, got {eta!r}")
    if not (isinstance(price0, (int, float)) and math.isfinite(price0) and price0 >= 0):
        raise ValueError(f"price0: expected a finite number >= 0, got {price0!r}")
    lam, left = float(price0), float(budget)
    scale = lam if lam > 0 else 1.0
    choices, prices, spends, total_v = [], [], [], 0.0
    for t, (vals, cs) in enumerate(periods):
        v, c, _ = check_instance(vals, cs, left if t else budget)
        ch = choose_at_price(v, c, lam)
        cost = np.where(ch >= 0, c[np.arange(ch.size), np.maximum(ch, 0)], 0.0)
        over = np.cumsum(cost) > left + 1e-12
        ch = np.where(over, -1, ch)                     # budget exhausted: the rest get none
        val, sp = totals(ch, v, c)
        target = left / (len(periods) - t)
        choices.append(ch)
        prices.append(lam)
        spends.append(sp)
        total_v += val
        left = max(0.0, left - sp)                      # spend may pass left by rounding (<= 1e-12)
        lam = max(0.0, lam + eta * scale * (sp - target) / max(target, 1e-12))
    return PacingResult(np.concatenate(choices), total_v, float(sum(spends)), np.array(prices), np.array(spends))
