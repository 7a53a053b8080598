"""Named seeds of the discount study: one ``SeedTree(config.seed)`` per run, one path
per random stream, every stream recorded in ``results.json["seeds"]`` (:func:`record`).

Seed replicate k (the unit of the between-seed CIs) is the subtree ``seed/<k>``
(:func:`replicate`); a sensitivity point reuses the same replicate subtrees (common
random numbers across points; its simulator differs).  Within a replicate
(``<g>`` is :func:`~simcore.experiments.discount.config.gamma_key`, ``<state>`` is
"history" or "segment"):

* ``model/round/<k>/simulator`` and ``.../behaviour`` - model estimation, round k
  (0: the uniform round, then the refinement rounds); one estimate serves both states
  (the segment-free model pools the segments);
* ``tree/panel`` and ``tree/holdout`` - the tree DP's users and its holdout users,
  shared by both states (the segment-free tree forgets the segments of the same panel);
* ``learn/<state>/<algorithm>/<g>/run/<r>`` - the uint64 key of run r of a learner at
  gamma g: every (state, learner, gamma) has its own runs (independent arms);
* ``evaluate/<state>/<algorithm>/<g>`` - Monte Carlo on the model of the final
  policies (``algorithm`` is "dp" or a learner), and ``evaluate/<state>/dp-pair`` - the
  DP policies at the two gammas compared;
* ``transfer/holdout`` - the holdout panel every policy of both states is evaluated on
  exactly (paired per user by design);
* ``transfer/<state>/mc/<n>/simulator`` and ``.../actions`` - Monte Carlo on the
  simulator of the policies that get n sessions each.

The fig. 3 check of the study's user model and the sensitivity study's re-fits use
the panel ``calibration/panel`` of the run's root.
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
CALIBRATION_PANEL: tuple[str, ...] = ("calibration", "panel")


def replicate(seeds: SeedTree, k: int) -> SeedTree:
    """The subtree of seed replicate k."""
    return seeds.child("seed", int(k))


def dp_pair(state: str) -> tuple[str, ...]:
    """The Monte Carlo stream of the two compared DP policies of ``state``."""
    return ("evaluate", state, "dp-pair")


def learn_path(state: str, algorithm: str, gamma: float) -> tuple[str, ...]:
    """The subtree of the run keys of one (state, learner, gamma) job."""
    return ("learn", state, algorithm, gamma_key(gamma))


def run_keys(seeds: SeedTree, state: str, algorithm: str, gamma: float, runs: int) -> np.ndarray:
    """uint64 (runs,) keys of a job: key r is :func:`tree_key` of
    ``learn/<state>/<algorithm>/<g>/run/<r>``."""
    sub = seeds.child(*learn_path(state, algorithm, gamma))
    return np.array([tree_key(sub, "run", r) for r in range(runs)], dtype=np.uint64)


def evaluate_path(state: str, algorithm: str, gamma: float) -> tuple[str, ...]:
    """The Monte Carlo stream of ``algorithm``'s final policies at ``gamma`` on the model."""
    return ("evaluate", state, algorithm, gamma_key(gamma))


def transfer_mc_path(state: str, sessions: int) -> tuple[PathPart, ...]:
    """The subtree of the simulator Monte Carlo of the policies with ``sessions`` each."""
    return ("transfer", state, "mc", int(sessions))


def transfer_mc_sessions(cfg: DiscountConfig) -> list[int]:
    """Sessions per policy of the simulator Monte Carlo groups: DP (one policy per
    gamma) gets ``sim_sessions``, a learner's R runs ceil(sim_sessions / R) each."""
    return sorted({int(cfg.sim_sessions), -(-int(cfg.sim_sessions) // int(cfg.runs))})


def record(cfg: DiscountConfig, seeds: SeedTree) -> dict[str, dict[str, Any]]:
    """Every stream of a run: "a/b/c" -> ``seeds.describe(a, b, c)`` (root, path, seed);
    run keys also carry ``key``, the full uint64 the learner hashes."""

    out: dict[str, dict[str, Any]] = {}

    def put(*path: PathPart) -> dict[str, Any]:
        d = seeds.describe(*path)
        out["/".join(str(p) for p in path)] = d
        return d

    put(*CALIBRATION_PANEL)
    gammas = [float(g) for g in cfg.gammas]
    for k in range(cfg.n_seeds):
        rep: tuple[PathPart, ...] = ("seed", k)
        for r in range(1 + int(cfg.refine_rounds)):
            for name in ("simulator", "behaviour"):
                put(*rep, *MODEL, "round", r, name)
        if cfg.tree_horizon:
            put(*rep, *TREE_PANEL)
            put(*rep, *TREE_HOLDOUT)
        put(*rep, *TRANSFER_HOLDOUT)
        for st in cfg.states:
            for alg in LEARNERS:
                for g in gammas:
                    for r in range(cfg.runs):
                        path = (*rep, *learn_path(st, alg, g), "run", r)
                        put(*path)["key"] = int(tree_key(seeds, *path))
            for alg in ("dp", *LEARNERS):
                for g in gammas:
                    put(*rep, *evaluate_path(st, alg, g))
            put(*rep, *dp_pair(st))
            for n in transfer_mc_sessions(cfg):
                for name in ("simulator", "actions"):
                    put(*rep, *transfer_mc_path(st, n), name)
    return out
