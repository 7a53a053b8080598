"""(f) The allocation and uplift studies on the customer-lifecycle simulator
(:mod:`simcore.domains.lifecycle`, helper lsim's; its exact one-day expectations are
the truth).

* allocation: on day 0 each of n customers may get one of the A - 1 marketing actions
  (or nothing); value v_ia = E[reward | a] - E[reward | nothing] (reward = value - cost,
  so v is the incremental net reward), cost c_ia = E[cost | a], budget = a share of the
  spend of the unconstrained best choice.  Dual and hull greedy against the ILP/LP.
  Myopic: one day, the simulator's expectations (no long-term effect of, e.g., the club).
* uplift: a 50/50 experiment of one action (``treatment``, default sms/coupon10) against
  nothing on day 0, the day's realised reward as the outcome, the 19 observation
  features as covariates; learners (ridge bases) fitted on half, scored on the other
  half, against the true uplift E[reward | a] - E[reward | nothing].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos import allocation as al
from simcore.algos import uplift as up
from simcore.util.seeds import SeedTree


def lifecycle_study(seeds: SeedTree, n_seeds: int, n_alloc: int, n_uplift: int, budgets: tuple[float, ...],
                    treatment: int = 7) -> dict[str, Any]:
    """Both studies per seed (population seed and streams from ``seeds``)."""
    from simcore.domains.lifecycle.simulator import LifecycleSimulator

    out: dict[str, Any] = {"n_alloc": n_alloc, "n_uplift": n_uplift, "treatment": treatment, "alloc": {},
                           "uplift": []}
    for s in range(n_seeds):
        sim = LifecycleSimulator(num_users=n_alloc, seed=seeds.seed("alloc", s))
        sim.reset()
        e = sim.expectations_all()
        out["actions"] = list(sim.table.names)
        v = (e["expected_reward"][:, 1:] - e["expected_reward"][:, :1]).astype(np.float64)
        c = e["expected_cost"][:, 1:].astype(np.float64)
        full = al.solve_dual(v, c, float(c.sum()))                  # ample budget: the unconstrained best
        for b in budgets:
            budget = b * full.spend
            dual, greedy = al.solve_dual(v, c, budget), al.solve_greedy(v, c, budget)
            ilp, lp = al.solve_exact(v, c, budget), al.solve_exact(v, c, budget, relax=True)
            out["alloc"].setdefault(f"{b:g}", []).append(
                {"budget": budget, "dual": dual.value, "greedy": greedy.value, "ilp": ilp.value, "lp": lp.upper_bound,
                 "unconstrained": full.value})
        out["uplift"].append(_uplift(LifecycleSimulator, seeds, s, n_uplift, treatment))
    return out


def _uplift(sim_cls: Any, seeds: SeedTree, s: int, n: int, treatment: int) -> dict[str, Any]:
    from simcore.domains.lifecycle.config import LifecycleConfig

    cfg = LifecycleConfig.from_dict({"budget_per_user": 1e6, "user_cap": 1e6})   # no budget blocks the experiment
    sim = sim_cls(config=cfg, num_users=n, seed=seeds.seed("uplift", s))
    x = sim.reset().astype(np.float64)
    e = sim.expectations_all()
    tau = (e["expected_reward"][:, treatment] - e["expected_reward"][:, 0]).astype(np.float64)
    t = (seeds.generator("assign", s).random(n) < 0.5).astype(np.int64)
    res = sim.step(np.where(t == 1, treatment, 0).astype(np.int64))
    y = np.asarray(res.reward, dtype=np.float64).copy()
    half = seeds.generator("split", s).permutation(n) < n // 2
    tr, te = half, ~half
    oracle = up.qini_coefficient(up.gain_curve(tau[te], tau[te]))
    row: dict[str, Any] = {"oracle_qini": oracle, "mean_uplift": float(tau.mean()),
                           "blocked": int(np.asarray(res.blocked).sum())}
    for name, cls in up.LEARNERS.items():
        kw = {"propensity": 0.5} if name != "t-learner" else {}
        pred = cls(**kw).fit(x[tr], t[tr], y[tr]).predict(x[te])
        row[name] = {"true_qini_share": up.qini_coefficient(up.gain_curve(pred, tau[te])) / oracle,
                     "corr": float(np.corrcoef(pred, tau[te])[0, 1])}
    return row
