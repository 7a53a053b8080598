"""Named seeds of the discount study: one ``SeedTree(config.seed)`` per run, one path
per random stream, every stream recorded in ``results.json["seeds"]`` (:func:`record`).

Paths (``<g>`` is :func:`~simcore.experiments.discount.config.gamma_key`):

* ``model/round/<k>/simulator`` and ``.../behaviour`` - model estimation, round k
  (0: the uniform round, then the refinement rounds);
* ``tree/panel`` and ``tree/holdout`` - the tree DP's users and its holdout users.  The
  main and the contrast user model draw from the same two paths (common random numbers,
  as before the paths were named);
* ``learn/<algorithm>/<g>/run/<r>`` - the uint64 key of run r of a learner at gamma g.
  The key paths include gamma: the design gives every (learner, gamma) its own runs
  (independent arms, compared with Welch intervals), as the old (algorithm, gamma
  index, run) keys did;
* ``evaluate/<algorithm>/<g>`` - Monte Carlo on the model of the final policies
  (``algorithm`` is "dp" or a learner), and ``evaluate/dp-pair`` - the DP policies at
  the two gammas compared;
* ``transfer/holdout`` - the holdout panel every policy is evaluated on exactly (one
  panel for all: paired per user by design);
* ``transfer/mc/<n>/simulator`` and ``.../actions`` - Monte Carlo on the simulator of
  the policies that get n sessions each (all such policies share one simulator batch,
  in separate slots).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.domains.search.tabular.rng import tree_key
from simcore.experiments.discount.config import LEARNERS, DiscountConfig, gamma_key
from simcore.util.seeds import PathPart, SeedTree

MODEL: tuple[str, ...] = ("model",)
TREE_PANEL: tuple[str, ...] = ("tree", "panel")
TREE_HOLDOUT: tuple[str, ...] = ("tree", "holdout")
TRANSFER_HOLDOUT: tuple[str, ...] = ("transfer", "holdout")
DP_PAIR: tuple[str, ...] = ("evaluate", "dp-pair")


def learn_path(algorithm: str, gamma: float) -> tuple[str, ...]:
    """The subtree of the run keys of one (learner, gamma) job."""
    return ("learn", algorithm, gamma_key(gamma))


def run_keys(seeds: SeedTree, algorithm: str, gamma: float, runs: int) -> np.ndarray:
    """uint64 (runs,) keys of a job: key r is :func:`tree_key` of
    ``learn/<algorithm>/<g>/run/<r>``."""
    sub = seeds.child(*learn_path(algorithm, gamma))
    return np.array([tree_key(sub, "run", r) for r in range(runs)], dtype=np.uint64)


def evaluate_path(algorithm: str, gamma: float) -> tuple[str, ...]:
    """The Monte Carlo stream of ``algorithm``'s final policies at ``gamma`` on the model."""
    return ("evaluate", algorithm, gamma_key(gamma))


def transfer_mc_path(sessions: int) -> tuple[PathPart, ...]:
    """The subtree of the simulator Monte Carlo of the policies with ``sessions`` each."""
    return ("transfer", "mc", int(sessions))


def transfer_mc_sessions(cfg: DiscountConfig) -> list[int]:
    """Sessions per policy of the simulator Monte Carlo groups: DP (one policy per
    gamma) gets ``sim_sessions``, a learner's R runs ceil(sim_sessions / R) each."""
    return sorted({int(cfg.sim_sessions), -(-int(cfg.sim_sessions) // int(cfg.runs))})


def record(cfg: DiscountConfig, seeds: SeedTree) -> dict[str, dict[str, Any]]:
    """Every stream of a run: "a/b/c" -> ``seeds.describe(a, b, c)`` (root, path, seed);
    run keys also carry ``key``, the full uint64 the learner hashes."""

    def put(*path: PathPart) -> dict[str, Any]:
        d = seeds.describe(*path)
        out["/".join(str(p) for p in path)] = d
        return d

    out: dict[str, dict[str, Any]] = {}
    for k in range(1 + int(cfg.refine_rounds)):
        for name in ("simulator", "behaviour"):
            put(*MODEL, "round", k, name)
    if cfg.tree_horizon:
        put(*TREE_PANEL)
        put(*TREE_HOLDOUT)
    gammas = [float(g) for g in cfg.gammas]
    for alg in LEARNERS:
        for g in gammas:
            for r in range(cfg.runs):
                put(*learn_path(alg, g), "run", r)["key"] = int(tree_key(seeds, *learn_path(alg, g), "run", r))
    for alg in ("dp", *LEARNERS):
        for g in gammas:
            put(*evaluate_path(alg, g))
    put(*DP_PAIR)
    put(*TRANSFER_HOLDOUT)
    for n in transfer_mc_sessions(cfg):
        for name in ("simulator", "actions"):
            put(*transfer_mc_path(n), name)
    return out
