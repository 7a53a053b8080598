"""One-seed diagnosis probes of the tiered-traffic learner (docs/tiered_traffic.md,
"Why the learner fell short, and the fixes").

Run: ``PYTHONPATH=python python -m simcore.experiments.tiered_traffic.diagnose``
(about a minute of CPU; prints two tables).

1. CEM scoring noise (:func:`cem_noise`): ``reps`` times, 10 candidates drawn from
   N(centre, sigma^2) per tier weight are scored the CEM's way (3 chunks of 64 sessions
   of conditional expected rewards, :func:`.evaluate.session_returns`) with independent
   sessions per candidate and with common sessions (the same seed for all), and exactly
   on the seed's panel (E[return] at the headline lambda).  Reported per sigma: the
   spread (sd) of the exact values, the mean Spearman correlation of score and exact
   value, and the elite regret = mean exact value of the true top 3 minus that of the
   top 3 by score (0: the CEM keeps the right elite).
2. Actor saturation (:func:`saturation`): ddpg-cem trained ``iterations`` iterations at
   the headline lambda with the barrier weight beta; reported: the fraction of sigmoid
   outputs o within 1e-3 of 0 or 1 on the last observations, and the greedy policy's
   exact E[return] on the panel.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simcore.experiments.tiered_traffic.config import TieredTrafficConfig
from simcore.util.seeds import SeedTree

__all__ = ["cem_noise", "saturation", "main"]


def cem_noise(cfg: TieredTrafficConfig, seed: int = 0, sigmas: tuple[float, ...] = (0.25, 0.1, 0.04),
              reps: int = 6, centre: float = 0.05) -> list[dict[str, float]]:
    """The module docstring's probe 1; ``cfg`` has its control fixed (run.with_control)."""
    from scipy.stats import spearmanr

    from simcore.experiments.tiered_traffic import learners as L
    from simcore.experiments.tiered_traffic.evaluate import exact_static, session_returns

    seeds = SeedTree(cfg.seed).child("seed", seed)
    lam = cfg.headline_lambda
    world = L.make_env(cfg, lam).sim.world
    make = L._sim_factory(L.traffic_config(cfg, lam), world)
    users = L.panel_users(cfg, seeds)
    sim = make(cfg.cem_chunk)
    rng = np.random.default_rng(seeds.seed("diagnose", "candidates"))
    m_t = cfg.traffic.n_tiers
    rows = []
    for sigma in sigmas:
        rho: dict[str, list[float]] = {"independent": [], "common": []}
        regret: dict[str, list[float]] = {"independent": [], "common": []}
        spread = []
        for rep in range(reps):
            C = rng.normal(centre, sigma, size=(cfg.cem.n_candidates, m_t))
            J = exact_static(make, C, users)["reward"].mean(axis=1)
            spread.append(float(J.std()))
            top = float(J[np.argsort(-J)[:cfg.cem.n_elite]].mean())
            for mode in rho:
                sc = np.array([np.mean(np.concatenate([
                    session_returns(sim, c, seeds.seed("diagnose", rep, 0 if mode == "common" else j, i), True)
                    for i in range(cfg.cem_max_chunks)])) for j, c in enumerate(C)])
                rho[mode].append(float(spearmanr(sc, J)[0]))
                regret[mode].append(top - float(J[np.argsort(-sc)[:cfg.cem.n_elite]].mean()))
        rows.append({"sigma": sigma, "exact_sd": float(np.mean(spread)),
                     **{f"spearman_{k}": float(np.mean(v)) for k, v in rho.items()},
                     **{f"regret_{k}": float(np.mean(v)) for k, v in regret.items()}})
    return rows


def saturation(cfg: TieredTrafficConfig, beta: float, iterations: int = 10, seed: int = 0) -> dict[str, float]:
    """The module docstring's probe 2; ``cfg`` has its control fixed."""
    import torch

    from simcore.experiments.tiered_traffic import learners as L
    from simcore.experiments.tiered_traffic.evaluate import exact_policy, summarise
    from simcore.experiments.tiered_traffic.hooks import traffic_collector
    from simcore.train.loop import LoopConfig, train

    cfg = dataclasses.replace(cfg, actor_barrier=float(beta), iterations=int(iterations))
    seeds = SeedTree(cfg.seed).child("seed", seed)
    lam = cfg.headline_lambda
    torch.set_num_threads(1)
    torch.manual_seed(seeds.seed("torch", "ddpg-cem", f"{lam:g}") % 2**63)
    env = L.make_env(cfg, lam)
    learner = L.build_learner("ddpg-cem", cfg, lam, env.sim, seeds)
    collector: Any = traffic_collector(env, cfg.steps)
    train(learner, collector, LoopConfig(iterations=cfg.iterations, seed=seeds.seed("train")))
    obs, _ = env.reset(seed=seeds.seed("diagnose", "obs") % 2**31)
    with torch.no_grad():
        o = learner.agent.actor(torch.as_tensor(obs)).numpy()
    users = L.panel_users(cfg, seeds)
    esim = L._sim_factory(env.sim.config, env.sim.world)(cfg.panel)
    m_t = int(env.sim.n_tiers)
    basic = np.asarray(env.sim.basic_weights, dtype=np.float32)[-m_t:]
    base = exact_policy(esim, lambda x: np.tile(basic, (x.shape[0], 1)), users)
    v = exact_policy(esim, lambda x: np.asarray(learner.act(np.asarray(x, np.float32), explore=False)), users)
    s = summarise(v, base, cfg.target_tier)
    return {"beta": float(beta), "iterations": float(iterations), "gradient_steps": float(learner.agent.gradient_steps),
            "saturated": float(np.mean((o < 1e-3) | (o > 1 - 1e-3))), "reward": s["reward"],
            "lift_pct": s["lift_pct"], "gmv_change_pct": s["gmv_change_pct"]}


def main() -> None:
    """Prints both probes on the default config (control fixed as in the run)."""
    from simcore.experiments.tiered_traffic.run import with_control

    cfg, _ = with_control(TieredTrafficConfig(workers=1))
    print("| sigma | sd of exact E[return] | Spearman, independent | Spearman, common | elite regret, independent "
          "| elite regret, common |\n|---|---|---|---|---|---|")
    for r in cem_noise(cfg):
        print(f"| {r['sigma']:g} | {r['exact_sd']:.3f} | {r['spearman_independent']:.2f} | {r['spearman_common']:.2f} "
              f"| {r['regret_independent']:.3f} | {r['regret_common']:.3f} |")
    print("\n| beta | iterations | gradient steps | saturated sigmoid outputs | exact E[return] | lift % | GMV % |"
          "\n|---|---|---|---|---|---|---|")
    for beta in (0.0, cfg.actor_barrier):
        for it in (10, cfg.iterations):
            r = saturation(cfg, beta, it)
            print(f"| {beta:g} | {it} | {r['gradient_steps']:.0f} | {r['saturated']:.3f} | {r['reward']:.3f} "
                  f"| {r['lift_pct']:.1f} | {r['gmv_change_pct']:.2f} |")


if __name__ == "__main__":
    main()
