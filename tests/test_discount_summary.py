"""The discount study's between-seed summaries: the confirm rule, t-CIs over seeds,
and the sensitivity study's per-point re-fit (small panels; fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.experiments.discount.config import DiscountConfig, SensitivityConfig
from simcore.experiments.discount.sensitivity import calibrate_job
from simcore.experiments.discount.summary import excludes_zero, learner_verdict, summarise


@pytest.mark.parametrize(
    "dp,learner,verdict",
    [
        ((0.5, 0.2), (0.3, 0.1), "confirms"),
        ((-0.5, 0.2), (-0.3, 0.1), "confirms"),
        ((0.5, 0.2), (-0.3, 0.1), "contradicts"),
        ((0.5, 0.2), (0.3, 0.4), "inconclusive (learner CI includes 0)"),
        ((0.1, 0.2), (0.9, 0.1), "not informative (DP gap CI includes 0)"),  # the learner's gap alone does not count
        ((0.5, float("nan")), (0.3, 0.1), "not informative (DP gap CI includes 0)"),  # one seed: no CI
    ],
)
def test_confirm_rule(dp, learner, verdict):
    assert learner_verdict(dp, learner) == verdict


def test_excludes_zero():
    assert excludes_zero(1.0, 0.5) and excludes_zero(-1.0, 0.5)
    assert not excludes_zero(0.4, 0.5) and not excludes_zero(1.0, float("nan"))


def _rep(gap: float) -> dict:
    entry = {"regret": 0.0, "v_regret": 0.0, "gmv_exact": 1.0, "sim_gmv_exact": 1.0}
    algs = {a: {"0.0": dict(entry), "1.0": dict(entry)} for a in ("dp", "q_learning", "actor_critic")}
    gaps = {a: {"model_exact": gap, "model_exact_pct": 10 * gap, "sim_exact": gap / 2, "sim_exact_pct": 5 * gap}
            for a in algs}
    return {"states": {"history": {**algs, "gaps": gaps, "tree": None}}}


def test_summary_is_a_student_t_interval_over_seeds():
    cfg = DiscountConfig(gammas=(0.0, 1.0), states=("history",), n_seeds=4)
    vals = [0.1, 0.4, 0.2, 0.5]
    s = summarise(cfg, [_rep(v) for v in vals])["history"]["dp_model_gap"]
    half = stats.t.ppf(0.975, 3) * np.std(vals, ddof=1) / math.sqrt(4)
    assert s["mean"] == pytest.approx(np.mean(vals)) and s["half"] == pytest.approx(half) and s["n"] == 4
    assert s["values"] == vals
    one = summarise(DiscountConfig(gammas=(0.0, 1.0), states=("history",), n_seeds=1), [_rep(0.3)])
    assert math.isnan(one["history"]["dp_model_gap"]["half"])


def test_each_sensitivity_point_is_refitted_to_fig3():
    session = SessionConfig(world=WorldConfig(n_queries=4, n_items=60))
    cfg = DiscountConfig(session=session, sensitivity=SensitivityConfig(calibration_users=40,
                                                                        refit=("buy_bias", "leave_bias")))
    fit = calibrate_job(cfg, "price_aversion", 6.0)
    assert fit["user"].price_aversion == 6.0  # the swept value is kept, not re-fitted
    assert set(fit["params"]) == {"buy_bias", "leave_bias"}
    assert fit["user"].buy_bias == fit["params"]["buy_bias"] and fit["nfev"] >= 1
    assert set(fit["achieved"]) >= {"share_1", "share_2", "share_3", "within_6", "share_30"}
    assert 0 < fit["purchase_rate"] < 1
    same = calibrate_job(cfg, "leave_frustration", 4.0)
    assert "leave_frustration" not in same["params"] and same["user"].leave_frustration == 4.0
