"""The discount study's progress bar: one bar over the whole run, in percent of the
estimated work of its stages (:func:`work_plan`)."""

from __future__ import annotations

import os

from simcore.experiments.discount.config import DiscountConfig
from simcore.util.progress import Progress


class Work:
    """One progress bar over the whole run, in percent of the estimated work."""

    def __init__(self, stages: dict[str, tuple[float, float]], enabled: bool) -> None:
        # stages: name -> (units, seconds per unit)
        total = sum(u * s for u, s in stages.values()) or 1.0
        self.cost = {k: 100.0 * s / total for k, (u, s) in stages.items()}
        self.share = {k: 100.0 * u * s / total for k, (u, s) in stages.items()}
        self.bar = Progress(100.0, desc="discount", unit="%", enabled=enabled)
        self.stage = ""

    def begin(self, name: str) -> None:
        self.stage = name
        self.bar.update(0, postfix=name)

    def __call__(self, units: float) -> None:
        self.bar.update(units * self.cost.get(self.stage.split(":")[0], 0.0), postfix=self.stage)

    def close(self) -> None:
        self.bar.close()


def work_plan(cfg: DiscountConfig, enabled: bool) -> Work:
    """The study's progress bar, its stages weighted by rough seconds per unit of work."""
    A, T, G, n_g = cfg.n_actions, cfg.session.horizon, cfg.session.world.n_segments, len(cfg.gammas)
    n_model = cfg.model_sessions + cfg.refine_rounds * cfg.refine_sessions
    n_tree = (1 + (cfg.contrast_session is not None)) * cfg.tree_users * A**cfg.tree_horizon if cfg.tree_horizon else 0
    return Work(
        {
            "model": (n_model, T * A * 4.0e-6),
            "tree": (n_tree, cfg.tree_horizon * 4.0e-6),
            "learn": (2 * n_g * cfg.runs * cfg.sessions, 3.7 * 1.2e-6 / max(1, cfg.workers or os.cpu_count() or 1)),
            "transfer": (3 * n_g * cfg.sim_sessions, 6 * 5.0e-6),
            "evaluate": (1, 2 * n_g * cfg.runs * 0.05 + 3 * n_g * cfg.eval_sessions * 2e-6),
            "exact": (1, cfg.holdout_users * n_g * (1 + 2 * cfg.runs) * T / max(1, G) * 2.0e-6),
        },
        enabled=enabled,
    )
