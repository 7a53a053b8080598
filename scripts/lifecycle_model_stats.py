"""The numbers of docs/lifecycle_model.md ("Population", "Exact expectations"): stage
shares of the default population, the mean exact expectations of every action at day 0,
30 days without marketing, the budget use of two constant policies, the
phone-cost sensitivity, and the per-customer best actions (shares of customers whose
exact argmax of P(sign), P(click), E[reward] is each action; overall and per stage) at
heterogeneity h = 0, 0.5, 1, 2.

Run: PYTHONPATH=python python scripts/lifecycle_model_stats.py
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simcore.domains.lifecycle.config import STAGES, LifecycleConfig, MarketingConfig
from simcore.domains.lifecycle.exact import stage_of
from simcore.domains.lifecycle.simulator import LifecycleSimulator


def main() -> None:
    cfg = LifecycleConfig(budget_per_user=1e6, user_cap=1e6)
    B = cfg.population.n_users
    sim = LifecycleSimulator(cfg, B, seed=1)
    sim.reset_to(np.arange(B))
    st = sim.state()
    stg = stage_of(st["n"], st["recency"], st["member"], cfg.lapse_days, cfg.loyal_purchases)
    print("stage shares", {STAGES[k]: round(float(np.mean(stg == k)), 3) for k in range(4)},
          "alive", float(sim.population.alive0.mean()))
    e = sim.expectations_all()
    print("| action | P(click) | P(convert) | P(purchase) | E[value] | E[cost] | E[reward] |")
    for a, name in enumerate(sim.table.names):
        print(f"| {a} {name} | {e['p_click'][:, a].mean():.4f} | {e['p_convert'][:, a].mean():.4f} | "
              f"{e['p_purchase'][:, a].mean():.4f} | {e['expected_value'][:, a].mean():.3f} | "
              f"{e['expected_cost'][:, a].mean():.3f} | {e['expected_reward'][:, a].mean():.3f} |")
    idle = LifecycleSimulator(cfg, B, seed=2)
    idle.reset_to(np.arange(B))
    pur = val = 0.0
    for _ in range(cfg.horizon_days):
        r = idle.step(np.zeros(B, np.int64))
        pur, val = pur + r.purchased.sum(), val + r.value.sum()
    print(f"no marketing, {cfg.horizon_days} days: purchases/customer {pur / B:.4f}, value/customer {val / B:.3f}")
    budgeted = LifecycleConfig()  # the default budget ($6 per slot) and cap ($30)
    for a in (7, 11):
        s = LifecycleSimulator(budgeted, B, seed=1)
        s.reset()
        spend = blocked = 0.0
        for _ in range(budgeted.horizon_days):
            r = s.step(np.full(B, a))
            spend, blocked = spend + r.cost.sum(), blocked + r.blocked.sum()
        print(f"{s.table.names[a]} to every slot every day: spend / budget {spend / s.total_budget:.3f}, "
              f"blocked slot-days {blocked / (B * budgeted.horizon_days):.4f}")
    for cost in (0.5, 1.5, 3.0):
        m = MarketingConfig(channel_touch_cost=(0.01, 0.05, cost))
        s = LifecycleSimulator(dataclasses.replace(cfg, marketing=m), B, seed=1)
        s.reset_to(np.arange(B))
        ex = s.expectations_all()
        ctr, rew = ex["p_click"].mean(0), ex["expected_reward"].mean(0)
        print(f"phone cost {cost}: highest CTR {s.table.names[int(ctr.argmax())]} ({ctr.max():.4f}, "
              f"E[r] {rew[ctr.argmax()]:.3f}); highest E[r] {s.table.names[int(rew.argmax())]} ({rew.max():.3f}); "
              f"do-nothing best for {np.mean(ex['expected_reward'].argmax(1) == 0):.3f}")

    best_actions()


def best_actions() -> None:
    """Shares of the default population (day 0) per true best action, per criterion and h."""
    for h in (0.0, 0.5, 1.0, 2.0):
        cfg = LifecycleConfig(budget_per_user=1e6, user_cap=1e6, marketing=MarketingConfig(heterogeneity=h))
        B = cfg.population.n_users
        s = LifecycleSimulator(cfg, B, seed=1)
        s.reset_to(np.arange(B))
        st = s.state()
        stg = stage_of(st["n"], st["recency"], st["member"], cfg.lapse_days, cfg.loyal_purchases)
        ex = s.expectations_all()
        for key in ("p_convert", "p_click", "expected_reward"):
            best = ex[key].argmax(1)
            c = np.bincount(best, minlength=s.n_actions) / B
            ent = float(-(c[c > 0] * np.log(c[c > 0])).sum())
            top = ", ".join(f"{a} {s.table.names[a]} {100 * c[a]:.1f} %" for a in np.argsort(-c) if c[a] >= 0.01)
            print(f"h={h:g} {key}: entropy {ent:.2f}, top share {c.max():.3f}: {top}")
            if h == 1.0:
                for k in range(4):
                    sel = stg == k
                    ck = np.bincount(best[sel], minlength=s.n_actions) / max(sel.sum(), 1)
                    tk = ", ".join(f"{a} {100 * ck[a]:.0f} %" for a in np.argsort(-ck) if ck[a] >= 0.05)
                    print(f"    stage {STAGES[k]} ({sel.mean():.3f} of customers): {tk}")


if __name__ == "__main__":
    main()
