"""Simulator studies with exact values, learning and allocation part (docs/bandits.md):

(c) :func:`regret_study` - cumulative pseudo-regret against the per-context optimum of
    the bandit agents on the synthetic contextual bandit (a linear-Gaussian world, where
    LinUCB is well specified, and a logistic-Bernoulli one), >= 5 seeds;
(d) :func:`allocation_study` - the dual (Lagrangian) and hull-greedy allocations against
    the exact ILP and LP optima of the incentive population, and online pacing against
    the hindsight dual, at several budgets;
(e) :func:`uplift_study` - the T-, X- and DR-learners' Qini coefficients against the true
    uplift (the true-gain curve, as a share of the oracle's) and the observed Qini, and
    the incremental conversions of the budgeted treat-by-uplift policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.algos import allocation as al
from simcore.algos import uplift as up
from simcore.algos.bandits import UCB1, BanditConfig, EpsilonGreedy, ThompsonSampling
from simcore.algos.linear_bandits import LinearBanditConfig, LinearTS, LinUCB
from simcore.algos.protocol import Batch
from simcore.domains.bandits.incentives import IncentiveConfig, IncentivePopulation
from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig
from simcore.util.seeds import SeedTree

K, D = 5, 5
#: the regret study's worlds: linear (LinUCB well specified), logistic, and one no linear model fits
WORLDS = ("gaussian", "bernoulli", "nonlinear")


def _agents(reward: str, seed: int) -> dict[str, Callable[[], Any]]:
    ts = BanditConfig(n_arms=K, seed=seed, kind="gaussian", noise_var=0.25) if reward in ("gaussian", "nonlinear") \
        else BanditConfig(n_arms=K, seed=seed)
    out: dict[str, Callable[[], Any]] = {
        "uniform": lambda: None,
        "epsilon-greedy": lambda: EpsilonGreedy(BanditConfig(n_arms=K, epsilon=0.1, seed=seed)),
        "ucb1": lambda: UCB1(BanditConfig(n_arms=K, seed=seed)),
        "thompson": lambda: ThompsonSampling(ts),
        "linucb": lambda: LinUCB(LinearBanditConfig(n_arms=K, dim=D + 1, alpha=1.0, seed=seed)),
        "linucb-alpha0.25": lambda: LinUCB(LinearBanditConfig(n_arms=K, dim=D + 1, alpha=0.25, seed=seed)),
        "linucb-alpha4": lambda: LinUCB(LinearBanditConfig(n_arms=K, dim=D + 1, alpha=4.0, seed=seed)),
        "linear-ts": lambda: LinearTS(LinearBanditConfig(n_arms=K, dim=D + 1, v=0.5, seed=seed)),
        "linear-ts-v2": lambda: LinearTS(LinearBanditConfig(n_arms=K, dim=D + 1, v=2.0, seed=seed)),
    }
    return out


#: the neural-linear agent's settings (the first is the study's; the others its sensitivity)
NEURAL = {"neural-linear-ts": {"train_every": 512, "n_steps": 50},
          "neural-linear-ts-h128": {"train_every": 512, "n_steps": 50, "hidden": 128},
          "neural-linear-ts-t128": {"train_every": 128, "n_steps": 100}}


def _neural(seed: int, name: str = "neural-linear-ts") -> Any:
    from simcore.algos.neural_bandit import NeuralBanditConfig, NeuralLinearTS

    return NeuralLinearTS(NeuralBanditConfig(n_arms=K, dim=D + 1, seed=seed, **NEURAL[name]))


def _play(agent: Any, env: SyntheticBandit, steps: int, batch: int, rng: np.random.Generator,
          uniform_rng: np.random.Generator) -> np.ndarray:
    """float64 (steps,) the regret of each batch (sum over its rows)."""
    reg = np.empty(steps)
    for s in range(steps):
        ctx = env.sample_contexts(batch, rng)
        x = np.hstack([env.contexts[ctx], np.ones((batch, 1))])      # a constant feature: per-arm intercepts
        a = uniform_rng.integers(0, K, batch) if agent is None else agent.act(x)
        r = env.rewards(ctx, a, rng)
        reg[s] = env.regret(ctx, a).sum()
        if agent is not None:
            agent.update(Batch(obs=x, action=a, reward=r))
    return reg


def regret_study(seeds: SeedTree, n_seeds: int, steps: int, batch: int, neural: bool = True,
                 neural_sensitivity: bool = False) -> dict[str, Any]:
    """(c): per world and agent, the cumulative regret curve of every seed (float
    (n_seeds, steps)); each seed draws its own world (stream ``<reward>/<seed>/world``).
    LinUCB's alpha (0.25, 1, 4), linear TS's v (0.5, 2) and the neural agent's width and
    training schedule (:data:`NEURAL`, with ``neural_sensitivity``) are run as a sensitivity."""
    out: dict[str, Any] = {"steps": steps, "batch": batch, "n_seeds": n_seeds, "worlds": {}}
    threads = _torch_threads(1) if neural else None
    try:
        _regret_worlds(seeds, n_seeds, steps, batch, (list(NEURAL) if neural_sensitivity else list(NEURAL)[:1])
                       if neural else [], out)
    finally:
        if threads is not None:
            _torch_threads(threads)
    return out


def _torch_threads(n: int) -> int:
    """Sets torch's intra-op threads to ``n`` (small networks: 1 is fastest); returns the old count."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    return old


def _regret_worlds(seeds: SeedTree, n_seeds: int, steps: int, batch: int, neural: list[str],
                   out: dict[str, Any]) -> None:
    for reward in WORLDS:
        curves: dict[str, list[list[float]]] = {}
        for s in range(n_seeds):
            tree = seeds.child(reward, s)
            env = SyntheticBandit(SyntheticBanditConfig(n_contexts=200, n_arms=K, dim=D, reward=reward),
                                  tree.generator("world"))
            makers = _agents(reward, tree.seed("agent"))
            for key in neural:
                makers[key] = lambda key=key: _neural(tree.seed("agent"), key)
            for name, make in makers.items():
                reg = _play(make(), env, steps, batch, tree.generator("play"), tree.generator("uniform"))
                curves.setdefault(name, []).append(np.cumsum(reg).tolist())
        out["worlds"][reward] = curves


def allocation_study(seeds: SeedTree, n_seeds: int, n_users: int, budgets: tuple[float, ...],
                     periods: int = 10) -> dict[str, Any]:
    """(d): per budget share b (of the spend of giving everyone the cheapest incentive)
    and seed: the values of dual, greedy, ILP and LP, pacing's value (price0 = the
    hindsight price x {0.5, 1, 2}, eta in {0.2, 0.5}) and the spends."""
    out: dict[str, Any] = {"n_users": n_users, "periods": periods, "budgets": {}}
    for b in budgets:
        rows = []
        for s in range(n_seeds):
            pop = IncentivePopulation(IncentiveConfig(n_users=n_users), seeds.generator("pop", s))
            v, c = pop.values(), pop.costs()
            budget = b * float(c[:, 0].sum())
            dual, greedy = al.solve_dual(v, c, budget), al.solve_greedy(v, c, budget)
            ilp, lp = al.solve_exact(v, c, budget), al.solve_exact(v, c, budget, relax=True)
            order = seeds.generator("arrival", s).permutation(n_users)
            parts = [(v[idx], c[idx]) for idx in np.array_split(order, periods)]
            pacing = {f"{f:g}x/{eta:g}": al.pace(parts, budget, eta=eta, price0=f * dual.price).value
                      for f in (0.5, 1.0, 2.0) for eta in (0.2, 0.5)}
            rows.append({"budget": budget, "dual": dual.value, "dual_spend": dual.spend, "dual_bound": dual.upper_bound,
                         "greedy": greedy.value, "ilp": ilp.value, "lp": lp.upper_bound, "price": dual.price,
                         "pacing": pacing})
        out["budgets"][f"{b:g}"] = rows
    return out


def uplift_study(seeds: SeedTree, n_seeds: int, n_users: int, budget_share: float = 0.2) -> dict[str, Any]:
    """(e): per seed, a 50/50 experiment of incentive 1 vs none on ``n_users`` users, the
    learners fitted on half and scored on the other half: the true-gain Qini coefficient
    (share of the oracle's), the observed Qini coefficient, and the true incremental
    conversions of treating by predicted uplift per cost under a budget (``budget_share``
    of treating everyone), against the oracle and random targeting."""
    rows = []
    for s in range(n_seeds):
        pop = IncentivePopulation(IncentiveConfig(n_users=n_users), seeds.generator("pop", s))
        exp = pop.experiment(np.array([0.5, 0.5, 0.0, 0.0]), seeds.generator("exp", s))
        tau, cost = pop.values()[:, 0], pop.costs()[:, 0]
        half = seeds.generator("split", s).permutation(n_users) < n_users // 2
        tr, te = half, ~half
        t = exp["t"]
        budget = budget_share * float(cost[te].sum())
        oracle_q = up.qini_coefficient(up.gain_curve(tau[te], tau[te]))
        row: dict[str, Any] = {"oracle_qini": oracle_q,
                               "oracle_policy": float(tau[te][up.treat_under_budget(tau[te], cost[te], budget)].sum())}
        rnd = seeds.generator("random", s).random(int(te.sum()))
        row["random_policy"] = float(tau[te][up.treat_under_budget(rnd, cost[te], budget, by_ratio=False)].sum())
        for name, cls in up.LEARNERS.items():
            kw = {"propensity": 0.5} if name != "t-learner" else {}
            pred = cls(**kw).fit(pop.x[tr], t[tr], exp["y"][tr]).predict(pop.x[te])
            treat = up.treat_under_budget(pred, cost[te], budget)
            row[name] = {"true_qini_share": up.qini_coefficient(up.gain_curve(pred, tau[te])) / oracle_q,
                         "observed_qini": up.qini_coefficient(up.qini_curve(pred, t[te], exp["y"][te])),
                         "policy_gain": float(tau[te][treat].sum()), "spend": float(cost[te][treat].sum())}
        rows.append(row)
    return {"n_users": n_users, "budget_share": budget_share, "seeds": rows}
