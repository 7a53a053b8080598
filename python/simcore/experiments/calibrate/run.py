"""``simcore calibrate``'s computation: ``run(config, progress) -> results`` (writes nothing).

1. a fixed panel of users (``calibrate/panel``) under the starting model;
2. bounded least squares of the chosen fields to the fig. 3 targets
   (:func:`simcore.domains.search.calibration.calibrate`);
3. the fitted model's statistics on ``holdout_panels`` fresh panels
   (``calibrate/holdout/<k>``): between-panel 95 % CIs, so the fit is not a property
   of one panel;
4. the fitted values beside the package default (``simcore calibrate`` with its
   defaults reproduces them).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from typing import Any

import numpy as np

from simcore.domains.search.calibration import (
    FIG3_BOUNDS,
    calibrate,
    length_distribution,
    length_statistics,
    ranking_weights,
    to_config_dict,
)
from simcore.domains.search.config import UserModelConfig
from simcore.domains.search.tabular.simeval import draw_users
from simcore.experiments.calibrate.config import CalibrateConfig
from simcore.report import t_ci
from simcore.util.config import to_dict
from simcore.util.seeds import SeedTree

#: fresh panels the fitted model is re-measured on
HOLDOUT_PANELS = 5


def _met(value: float, rel: str, bound: float) -> bool:
    return value > bound if rel == ">" else value <= bound


def _verdict(ci: list[float], rel: str, bound: float) -> str:
    """'reproduced' when the between-panel CI lies inside the article's bound,
    'not reproduced' when wholly outside, else 'partly reproduced' (on the bound)."""
    lo, hi = ci
    inside, outside = (lo > bound, hi <= bound) if rel == ">" else (hi <= bound, lo > bound)
    return "reproduced" if inside else ("not reproduced" if outside else "partly reproduced")


def _holdout(cfg: CalibrateConfig, user: UserModelConfig, seeds: SeedTree) -> dict[str, Any]:
    """Fig. 3 statistics of the fitted model on fresh panels (mean and t-CI)."""
    sess = replace(cfg.session, user=user)
    w = ranking_weights(sess, cfg.ranking)
    rows, shares = [], []
    for k in range(HOLDOUT_PANELS):
        users = draw_users(sess, cfg.panel_users, seed=seeds.seed("calibrate", "holdout", k))
        s, rate = length_distribution(sess, users, w)
        rows.append({**length_statistics(s), "purchase_rate": rate})
        shares.append(s)
    out: dict[str, Any] = {}
    for key in rows[0]:
        vals = [r[key] for r in rows]
        m, h = t_ci(vals)
        out[key] = {"mean": m, "ci": [m - h, m + h], "panels": vals}
    out["shares"] = np.mean(shares, axis=0).tolist()
    return out


def run(cfg: CalibrateConfig, progress: bool = True) -> dict[str, Any]:
    """Fits ``cfg.params`` and measures the fit; returns a plain results dict."""
    t0 = time.perf_counter()
    seeds = SeedTree(cfg.seed)
    start = cfg.start_session()
    users = draw_users(start, cfg.panel_users, seed=seeds.seed("calibrate", "panel"))
    w = ranking_weights(start, cfg.ranking)
    start_shares, start_rate = length_distribution(start, users, w)
    if progress:
        print(f"calibrate: fitting {', '.join(cfg.params)} on {cfg.panel_users} users ...", flush=True)
    fit = calibrate(start, users, cfg.params, cfg.targets, cfg.ranking, cfg.decimals, cfg.max_nfev)
    hold = _holdout(cfg, fit.user, seeds)
    default = UserModelConfig()
    rows = []
    for stat, rel, bound in FIG3_BOUNDS:
        rows.append({"statistic": stat, "relation": rel, "bound": bound, "target": fit.targets[stat],
                     "start": length_statistics(start_shares)[stat], "fit": fit.achieved[stat],
                     "holdout": hold[stat]["mean"], "holdout_ci": hold[stat]["ci"],
                     "holdout_panels": hold[stat]["panels"],
                     "met": _met(fit.achieved[stat], rel, bound),
                     "verdict": _verdict(hold[stat]["ci"], rel, bound)})
    params = [{"name": n, "start": fit.start[n], "fit": fit.params[n], "default": float(getattr(default, n)),
               "matches_default": abs(fit.params[n] - float(getattr(default, n))) <= 10.0 ** -cfg.decimals * 5}
              for n in cfg.params]
    return {
        "settings": to_dict(cfg),
        "statistics": rows,
        "monotone": bool(fit.achieved["max_rise"] <= 1e-3),
        "params": params,
        "purchase_rate": {"start": start_rate, "fit": fit.purchase_rate, "holdout": hold["purchase_rate"],
                          "target": cfg.targets.purchase_rate},
        "shares": {"start": start_shares.tolist(), "fit": fit.shares.tolist(), "holdout": hold["shares"]},
        "fit": {"cost": fit.cost, "nfev": fit.nfev, "residuals": fit.residuals.tolist(), "history": fit.history},
        "calibrated_config": to_config_dict(fit.user),
        "seeds": {"panel": seeds.describe("calibrate", "panel"),
                  "holdout": [seeds.describe("calibrate", "holdout", k) for k in range(HOLDOUT_PANELS)]},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__},
        "runtime_s": time.perf_counter() - t0,
    }
