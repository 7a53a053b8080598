"""The sensitivity study of the discount gap (``--preset sensitivity``).

For each point (parameter, value) of ``config.sensitivity``: the user model with that
parameter set, its calibrated fields re-fitted to the article's fig. 3 with
:func:`simcore.domains.search.calibration.calibrate` (panel ``calibration/panel``,
``calibration_users`` users; the swept parameter itself is not re-fitted), then the
whole multi-seed study (the same ``seed/<k>`` replicates: common random numbers
across points) and its between-seed summary.  Every point records its fit
(achieved fig. 3 statistics and the fitted values).  The point at a parameter's
current value is the study's own (calibrated) user model: not re-fitted, it reuses
the main study's replicates.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from simcore.domains.search.calibration import length_distribution, length_statistics, ranking_weights
from simcore.domains.search.config import SessionConfig
from simcore.domains.search.tabular.simeval import draw_users
from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount import summary
from simcore.experiments.discount.config import DiscountConfig, SensitivityConfig
from simcore.experiments.discount.replicates import run_replicates
from simcore.runner import Job, SeedTree, run_jobs


def _panel(session: SessionConfig, cfg: DiscountConfig) -> dict[str, Any]:
    """The calibration panel (``calibration/panel`` of the run's root)."""
    seed = SeedTree(cfg.seed).seed(*paths.CALIBRATION_PANEL)
    return draw_users(session, cfg.sensitivity.calibration_users, seed=seed)


def fig3_fit(session: SessionConfig, cfg: DiscountConfig) -> dict[str, Any]:
    """The fig. 3 statistics of ``session``'s user model under the "ltr" ranking on
    the calibration panel (exact, expectation mode): ``{"achieved", "purchase_rate"}``."""
    users = _panel(session, cfg)
    shares, rate = length_distribution(session, users, ranking_weights(session, "ltr"))
    return {"achieved": length_statistics(shares), "purchase_rate": rate}


def calibrate_job(cfg: DiscountConfig, param: str, value: float) -> dict[str, Any]:
    """One point's user model: ``param`` = ``value``, the ``refit`` fields re-fitted
    to fig. 3 (a runner job).  Returns {"param", "value", "user" (UserModelConfig),
    "params", "achieved", "targets", "purchase_rate", "cost", "nfev"}."""
    from simcore.domains.search.calibration import calibrate

    changed: dict[str, Any] = {param: float(value)}
    session = dataclasses.replace(cfg.session, user=dataclasses.replace(cfg.session.user, **changed))
    refit = tuple(n for n in cfg.sensitivity.refit if n != param)
    out: dict[str, Any] = {"param": param, "value": float(value)}
    if not refit:
        return {**out, "user": session.user, "params": {}, **fig3_fit(session, cfg), "targets": {}, "cost": 0.0,
                "nfev": 0}
    users = _panel(session, cfg)
    res = calibrate(session, users, params=refit)
    return {**out, "user": res.user, "params": res.params, "achieved": res.achieved, "targets": res.targets,
            "purchase_rate": res.purchase_rate, "cost": res.cost, "nfev": res.nfev}


def _compact(summ: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The summary without the regret/GMV-per-gamma metrics (gaps only), per state."""
    return {st: {k: v for k, v in d.items() if "/" not in k} for st, d in summ.items()}


def run_sensitivity(cfg: DiscountConfig, progress: bool, main_reps: list[dict[str, Any]]) -> dict[str, Any]:
    """Every point of ``cfg.sensitivity``: fit, then the multi-seed study.  A point at
    the parameter's current value is the study's own user model (already the fig. 3
    fit): it is not re-fitted and reuses ``main_reps``, the main study's replicates.
    Returns {"points": [{"param", "value", "fit", "summary", "main"}], "default":
    {param: value}, "calibration_users"}."""
    pts = cfg.sensitivity.points()
    new = [(p, v) for p, v in pts if v != float(getattr(cfg.session.user, p))]
    jobs = [Job(key=f"fit/{p}/{v!r}", fn=calibrate_job, kwargs=dict(cfg=cfg, param=p, value=v),
                seed_path=paths.CALIBRATION_PANEL) for p, v in new]
    workers = max(1, min(cfg.workers or os.cpu_count() or 1, max(1, len(jobs))))
    fitted = run_jobs(jobs, backend="process" if workers > 1 else "inline", workers=workers, progress=progress,
                      desc="discount: fig. 3 fits", unit="points")
    cfgs = [dataclasses.replace(cfg, session=dataclasses.replace(cfg.session, user=f["user"]),
                                sensitivity=SensitivityConfig()) for f in fitted]
    new_reps = run_replicates(cfgs, progress, detail=False, desc="discount: sensitivity") if cfgs else []
    by_point = {(f["param"], f["value"]): (f, c, r) for f, c, r in zip(fitted, cfgs, new_reps)}
    own = {"user": cfg.session.user, "params": {}, **fig3_fit(cfg.session, cfg), "targets": {}, "cost": 0.0, "nfev": 0}
    points = []
    for p, v in pts:
        f, c, r = by_point.get((p, v), ({**own, "param": p, "value": v}, cfg, main_reps))
        fit = {k: v for k, v in f.items() if k not in ("user", "param", "value")}
        fit["user"] = dataclasses.asdict(f["user"])
        points.append({"param": p, "value": v, "fit": fit, "main": (p, v) not in by_point,
                       "summary": _compact(summary.summarise(c, r))})
    return {"points": points, "calibration_users": cfg.sensitivity.calibration_users,
            "default": {p: float(getattr(cfg.session.user, p)) for p, _ in pts}}
