"""Reproductions, one module each: a config dataclass, ``run()``, a report writer.

Each package registered in :data:`EXPERIMENTS` defines ``EXPERIMENT`` (an
:class:`simcore.experiments.base.Experiment`), from which ``simcore reproduce NAME`` is generated.
"""

from __future__ import annotations

#: CLI name -> (module path, one-line help).  Modules are imported only when their
#: subcommand runs, so ``simcore --help`` does not pay for torch.
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "calibrate": (
        "simcore.experiments.calibrate",
        "fit the search user model to the article's fig. 3 (purchase-episode lengths); writes calibrated.json",
    ),
    "discount": (
        "simcore.experiments.discount",
        "the discount study: DP, Q-learning and actor-critic for gamma in {0, ..., 1} (main job)",
    ),
    "ranking": (
        "simcore.experiments.ranking",
        "ranking control: DPG (+ shaping), DDPG with LTR gradient fusion, DPG-FBE vs baselines",
    ),
    "engine-cost": (
        "simcore.experiments.engine_cost",
        "engine cost: learn which ranking features to compute per request",
    ),
    "tiered-traffic": (
        "simcore.experiments.tiered_traffic",
        "tiered traffic: DDPG with CEM-moved bounds steering a tier's share at a bounded GMV cost",
    ),
    "lifecycle": (
        "simcore.experiments.lifecycle",
        "customer lifecycle marketing: A2C/A3C vs cross-stitch / trace-norm MTL baselines, the BPI table",
    ),
    "bandits": (
        "simcore.experiments.bandits",
        "bandits and OPE: the Open Bandit Dataset benchmark and simulator studies with exact values "
        "(estimators, HCOPE, regret, allocation, uplift, lifecycle)",
    ),
    "autoscaling": (
        "simcore.experiments.autoscaling",
        "cloud autoscaling: threshold, target tracking, Autopilot-style, predictive and peak-static baselines",
    ),
    "virtual-taobao": (
        "simcore.experiments.virtual_taobao",
        "Virtual Taobao: user simulators learned from logs (BC, GAN-SD users, ANC) measured against the truth",
    ),
}

#: CLI name -> the optional imports its run needs (as its ``Experiment.requires``),
#: checked by the CLI before the experiment's module is imported, so that one line
#: names every missing extra at once.
REQUIRES: dict[str, tuple[str, ...]] = {
    "ranking": ("torch",),
    "engine-cost": ("torch",),
    "tiered-traffic": ("torch",),
    "lifecycle": ("torch",),
    "virtual-taobao": ("torch", "pyarrow"),
}
