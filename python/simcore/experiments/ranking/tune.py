"""One-seed tuning probes of the ranking learners (diagnosis, not results).

``python -m simcore.experiments.ranking.tune AGENT KIND SEED [DDPG_JSON [CONFIG_JSON]]``
runs one job of the experiment (:func:`simcore.experiments.ranking.run.run_job`, kind
"train" or "budget") with ``RankingConfig(ddpg={**defaults, **DDPG_JSON}, **CONFIG_JSON)``
and prints one JSON line: final sampled GMV per session, exact GMV on the held-out
panel (overall and per segment) and the CPU seconds.  ``--critic`` (DDPG / DPG-FBE,
kind "train") also prints the critic's diagnosis (:func:`critic_check`): the learned
Q of the actor's own actions and of the per-segment optimum's weights, per segment, on
the first page of the held-out panel's users, next to their exact GMV.  The tuning runs
of docs/ranking.md ("Making the learners good enough") are these probes; they are one
seed each and are not used as results.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

from simcore.experiments.ranking.config import ALL_AGENTS, RankingConfig


def probe(agent: str, kind: str, seed: int, ddpg: dict[str, Any] | None = None,
          **config: Any) -> dict[str, Any]:
    """One job's final numbers: ``{"gmv", "exact", "by_segment", "cpu"}`` (floats; by_segment (G,))."""
    from simcore.experiments.ranking.run import run_job

    base = RankingConfig()
    cfg = RankingConfig(**{"agents": (agent,) if agent in ALL_AGENTS else (), "nonstationary_agents": (), "workers": 1,
                           "ddpg": {**base.ddpg, **(ddpg or {})}, **config})
    t0 = time.process_time()
    r = run_job(cfg, agent, seed, kind)
    return {"gmv": r["final"]["gmv_per_session"], "exact": r["exact"]["gmv"],
            "by_segment": r["exact"]["by_segment"], "cpu": time.process_time() - t0}


def critic_check(seed: int, ddpg: dict[str, Any] | None = None, agent: str = "dpg-fbe",
                 **config: Any) -> dict[str, Any]:
    """Trains ``agent`` as the experiment does (seed index ``seed``) and compares, per
    segment g, on the first page of the held-out panel's users:
    ``q_own[g]`` = mean Q(s, mu(s)) / reward_scale, ``q_opt[g]`` = mean Q(s, W*[g]) /
    reward_scale (W* the per-segment optimum), with the exact GMV of both policies
    (``exact_own``, ``exact_opt``), and the share of the actor's weights with |w| > 0.95
    (``saturated_share``).  ``config``: further RankingConfig fields.  A critic that ranks its own actions above W*
    where W* is truly better is being exploited by the actor."""
    import torch

    from simcore.domains.search.simulator import SearchSimulator
    from simcore.domains.search.training import search_collector
    from simcore.experiments.ranking import run as R
    from simcore.experiments.ranking.agents import build_agent, optimise_segment_weights
    from simcore.experiments.ranking.optimum import SegmentWeights, segment_of
    from simcore.runner import SeedTree
    from simcore.train.loop import train

    base = RankingConfig()
    cfg = RankingConfig(**{"agents": (agent,), "nonstationary_agents": (), "workers": 1,
                           "ddpg": {**base.ddpg, **(ddpg or {})}, **config})
    env = R._make_env(cfg)
    seeds = SeedTree(cfg.seed).child("seed", seed)
    R._deterministic_torch(seeds.seed("agent", agent, "torch") % 2**63)
    learner = build_agent(agent, cfg, env, seeds)
    train(learner, search_collector(env, cfg.steps_per_iteration), R._loop(cfg, cfg.iterations, seeds))
    w_opt = optimise_segment_weights(cfg, env, seeds)["weights"]
    draw = SearchSimulator(env.sim.config, num_sessions=cfg.exact_panel, seed=seeds.seed("exact-panel"),
                           world=env.sim.world)
    draw.reset()
    users = {k: np.array(v, copy=True) for k, v in draw.users().items()}
    sim = SearchSimulator(env.sim.config, num_sessions=cfg.exact_panel, world=env.sim.world)
    obs = np.array(sim.reset_to(users), copy=True)
    G = w_opt.shape[0]
    g = segment_of(obs, G)
    own = learner.act(obs, explore=False)
    scale = learner.config.reward_scale
    with torch.no_grad():
        o = torch.as_tensor(obs)
        q_own = learner.critic(o, torch.as_tensor(own)).numpy() / scale
        q_opt = learner.critic(o, torch.as_tensor(w_opt[g].astype(np.float32))).numpy() / scale
    ex_own = R.exact_final(cfg, learner, env, seeds)
    ex_opt = R.exact_final(cfg, SegmentWeights(w_opt), env, seeds)
    per = [[float(x[g == k].mean()) for k in range(G)] for x in (q_own, q_opt)]
    return {"q_own": per[0], "q_opt": per[1], "exact_own": ex_own["by_segment"], "exact_opt": ex_opt["by_segment"],
            "saturated_share": float(np.mean(np.abs(own) > 0.95))}


def main(argv: list[str] | None = None) -> None:
    """Command line (module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    critic = "--critic" in args
    args = [a for a in args if a != "--critic"]
    if len(args) < 3:
        raise SystemExit(__doc__)
    agent, kind, seed = args[0], args[1], int(args[2])
    ddpg = json.loads(args[3]) if len(args) > 3 else {}
    extra = json.loads(args[4]) if len(args) > 4 else {}
    out: dict[str, Any] = {"agent": agent, "kind": kind, "seed": seed, "ddpg": ddpg, "config": extra}
    if critic:
        out["critic"] = critic_check(seed, ddpg, agent, **extra)
    else:
        out.update(probe(agent, kind, seed, ddpg, **extra))
    print(json.dumps(out, default=float), flush=True)


if __name__ == "__main__":
    main()
