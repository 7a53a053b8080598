"""Sensitivity of the classification baselines to their fitting budget: refits one
seed's classifiers at several learning rates and most passes and reports the held-out
fit and the policies' action diversity (:func:`.learners._fit_quality`), so that the
default (lr 1e-3, the slides'; ``MTL_EPOCHS`` passes, early stopping) can be seen not to
be tuned to an effect.

``python -m simcore.experiments.lifecycle.sensitivity [SEED] [LABEL ...]`` prints one
JSON line per (label, lr, epochs).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any

import numpy as np

from simcore.algos.mtl import MTLPolicy
from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.learners import _fit_quality, _logs, _tree, mtl_configs, seed_lifecycle

__all__ = ["GRID", "refit"]

#: (lr, most passes) pairs tried
GRID: tuple[tuple[float, int], ...] = ((3e-4, 4), (1e-3, 2), (1e-3, 4), (1e-3, 8), (3e-3, 4))


def refit(cfg: LifecycleExperimentConfig, label: str, seed: int, lr: float, epochs: int) -> dict[str, Any]:
    """Fits classifier ``label`` of seed index ``seed`` as :func:`.learners.run_mtl` does,
    with ``lr`` and ``epochs`` instead of the config's; returns its fit quality."""
    lc = seed_lifecycle(cfg, seed)
    mc = dataclasses.replace(mtl_configs(cfg)[label], lr=lr, epochs=epochs,
                             seed=_tree(cfg, seed).seed("mtl", label) % 2**31)
    log, rlog = _logs(cfg, lc, seed, "log"), _logs(cfg, lc, seed, "replay")
    pol = MTLPolicy(int(log["obs"].shape[1]), int(log["action"].max()) + 1, mc)
    groups = np.tile(np.arange(cfg.log_users), len(log["action"]) // cfg.log_users)
    t0 = time.perf_counter()
    pol.fit(log["obs"], log["action"], np.stack([log["converted"], log["clicked"]], axis=1), groups=groups)
    q = _fit_quality(cfg, lc, seed, pol, rlog)
    return {"label": label, "seed": seed, "lr": lr, "epochs": epochs, "fit_seconds": time.perf_counter() - t0,
            "epochs_run": q["epochs_run"], "best_epoch": q["best_epoch"], "auc": q["auc"], "log_loss": q["log_loss"],
            "base_log_loss": q["base_log_loss"],
            **{f"{t}_{k}": q[t][k] for t in ("sign", "click") if t in q for k in ("agree_truth",)},
            **{f"{t}_entropy": q[t]["replay"]["entropy"] for t in ("sign", "click") if t in q},
            **{f"{t}_top_share": q[t]["replay"]["top_share"] for t in ("sign", "click") if t in q}}


def main(argv: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    seed = int(argv[0]) if argv else 0
    labels = argv[1:] or ["DNN", "MTL-CS-125"]
    cfg = LifecycleExperimentConfig()
    for label in labels:
        for lr, epochs in GRID:
            print(json.dumps(refit(cfg, label, seed, lr, epochs)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
