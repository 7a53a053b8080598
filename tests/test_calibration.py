"""The user-model calibration (simcore.domains.search.calibration, ``simcore calibrate``)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from simcore.domains.search.calibration import (
    Fig3Targets,
    calibrate,
    length_distribution,
    length_statistics,
    ranking_weights,
)
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.reference import ReferenceSessionBatch
from simcore.domains.search.tabular.simeval import draw_users

SMALL = SessionConfig(world=WorldConfig(n_queries=3, n_items=100), max_steps=10,
                      user=UserModelConfig(buy_bias=-3.0, leave_bias=-1.0, patience_noise=0.5))


def _twin_distribution(cfg: SessionConfig, users: dict, w: np.ndarray) -> tuple[np.ndarray, float]:
    """The same exact distribution from the NumPy twin simulator."""
    U = users["query"].shape[0]
    ref = ReferenceSessionBatch(cfg, U, seed=0)
    ref.reset_to(users)
    alive, buy = np.ones(U), np.zeros(cfg.horizon)
    for t in range(cfg.horizon):
        r = ref.step(np.tile(w, (U, 1)), sample=False)
        buy[t] = (alive * r["b"]).sum()
        alive = alive * r["c"]
    return buy / buy.sum(), buy.sum() / U


@pytest.mark.parametrize("ranking", ["ltr", "premium"])
def test_length_distribution_matches_twin(ranking):
    users = draw_users(SMALL, 40, seed=1)
    w = ranking_weights(SMALL, ranking)
    got, rate = length_distribution(SMALL, users, w)
    want, want_rate = _twin_distribution(SMALL, users, w)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert rate == pytest.approx(want_rate, rel=1e-9)
    assert got.shape == (SMALL.horizon,) and (got >= 0).all() and got.sum() == pytest.approx(1.0)


def test_length_statistics_of_a_geometric_law():
    q = 0.78
    s = (1 - q) * q ** np.arange(30)
    s /= s.sum()
    st = length_statistics(s)
    assert st["share_1"] == pytest.approx(s[0]) and st["share_2"] == pytest.approx(s[1])
    assert st["within_6"] == pytest.approx(s[:6].sum()) and st["share_30"] == pytest.approx(s[29])
    assert st["max_rise"] == 0.0
    assert length_statistics(s[::-1])["max_rise"] > 0


def test_calibrate_recovers_known_parameters():
    """Targets computed from a known model are fitted back from another start."""
    truth = replace(SMALL, user=replace(SMALL.user, buy_bias=-2.5, leave_bias=-0.5))
    users = draw_users(SMALL, 60, seed=2)
    shares, rate = length_distribution(truth, users, ranking_weights(truth, "ltr"))
    st = length_statistics(shares)
    targets = Fig3Targets(share_1=st["share_1"], share_2=st["share_2"], share_3=st["share_3"],
                          within_6=st["within_6"], share_30=0.5, weight_30=0.0, monotone_weight=0.0,
                          purchase_rate=rate, rate_weight=1.0, bound_weight=0.0)
    fit = calibrate(SMALL, users, ("buy_bias", "leave_bias"), targets, decimals=6)
    assert fit.params["buy_bias"] == pytest.approx(-2.5, abs=1e-3)
    assert fit.params["leave_bias"] == pytest.approx(-0.5, abs=1e-3)
    assert fit.start == {"buy_bias": -3.0, "leave_bias": -1.0}


def test_calibrate_refuses_bad_params():
    users = draw_users(SMALL, 10, seed=0)
    with pytest.raises(ValueError, match="params"):
        calibrate(SMALL, users, ("window",))
    with pytest.raises(ValueError, match="ranking"):
        calibrate(SMALL, users, ("buy_bias",), ranking="best")
    with pytest.raises(ValueError, match="share_1"):
        Fig3Targets(share_1=1.5)


def test_package_default_is_a_fixed_point_of_the_default_fit():
    """From the package default, the default fit finds nothing materially better
    (``simcore calibrate`` from the neutral start reproduces it: docs/user_model.md)."""
    from simcore.experiments.calibrate.config import CalibrateConfig
    from simcore.util.seeds import SeedTree

    cfg = CalibrateConfig(start="session", max_nfev=8)
    users = draw_users(cfg.session, cfg.panel_users, seed=SeedTree(cfg.seed).seed("calibrate", "panel"))
    fit = calibrate(cfg.session, users, cfg.params, cfg.targets, cfg.ranking, cfg.decimals, cfg.max_nfev)
    start_cost = fit.history[0]["cost"]
    assert start_cost <= min(h["cost"] for h in fit.history) + 1e-4
    assert all(abs(fit.params[n] - getattr(UserModelConfig(), n)) < 0.05 for n in cfg.params)


def test_cli_writes_a_config_the_experiments_accept(tmp_path):
    from simcore.cli import main
    from simcore.experiments.discount.config import DiscountConfig
    from simcore.util.config import from_dict

    rc = main(["calibrate", "--out", str(tmp_path), "--quiet", "--set", "panel_users=60",
               "--set", "max_nfev=4", "--set", "session.max_steps=12"])
    assert rc == 0
    cfg = json.loads((tmp_path / "calibrated.json").read_text())
    d = from_dict(DiscountConfig, cfg)
    assert isinstance(d.session.user, UserModelConfig)
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["claims"] and (tmp_path / "fig3_lengths.png").stat().st_size > 0
    assert (tmp_path / "report.md").read_text().startswith("# Calibration")
