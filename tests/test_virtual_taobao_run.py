"""The virtual-taobao run end to end on the smoke preset: the calibrated BC is the
default simulator, the uncalibrated one an ablation row; the report names both."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pyarrow")

from simcore.domains.search.world import default_action_set  # noqa: E402
from simcore.experiments.virtual_taobao.config import smoke_config  # noqa: E402
from simcore.experiments.virtual_taobao.report import write_report  # noqa: E402
from simcore.experiments.virtual_taobao.run import run  # noqa: E402


@pytest.fixture(scope="module")
def smoke() -> dict:
    return run(smoke_config(), progress=False)


def test_calibrated_bc_is_the_default(smoke):
    for r in smoke["runs"]:
        val = r["calibration"]["val"]
        # the default model's outcome rates on the validation split match the log's (the refit's optimum)
        np.testing.assert_allclose(val["calibrated"], val["empirical"], atol=2e-3)
        assert not np.allclose(val["model"], val["empirical"], atol=2e-3)
        # the panel's "bc" row and the ablation row come from different models
        assert len(r["value_uncal"]) == len(r["value_bc"]) == len(r["policies"])
        assert not np.allclose(r["value_uncal"], r["value_bc"])
        assert r["transfer"]["policies"] == ["logging", "truth", "bc", "bc+anc", "joint-mail", "bc-uncal"]


def test_report_shows_the_ablation(smoke, tmp_path):
    write_report(smoke, tmp_path, command="test")
    md = (tmp_path / "report.md").read_text()
    assert "BC uncalibrated (ablation" in md
    assert "calibrated minus uncalibrated" in md
    A = smoke["analysis"]
    assert A["uncal_minus_bc_rel_err"]["mean"] == pytest.approx(A["rel_err_uncal"][0] - A["rel_err_bc"][0])


def test_segment_logging_run(tmp_path):
    """Logs of the state-dependent policy: the engine's state-independent MLE start matches
    the mixture's average action but not the per-state means; the logging policy's own
    value is measured in the truth and in every learned simulator."""
    from dataclasses import replace

    res = run(replace(smoke_config(), logging="segment"), progress=False)
    for r in res["runs"]:
        assert r["engine"]["start_distance"] < 0.05 < 0.1 < r["engine"]["start_row_distance"]
        assert r["value_logging_true"] > 0
        # the transfer's row 0 is the logging policy (its average weights), not LTR
        assert not np.allclose(r["transfer"]["weights"][0], default_action_set(8)[0], atol=0.05)
        for k in ("bc", "uncal", "gail", "mail", "joint"):
            assert np.isfinite(r[f"value_logging_{k}"])
    write_report(res, tmp_path, command="test")
    md = (tmp_path / "report.md").read_text()
    assert "## The logging policy" in md and "state-dependent segment policy" in md


def test_sweep_default_point_reproduces_the_run(smoke):
    """The joint-MAIL sweep uses the run's log, BC and panel: its default point equals
    the run's joint row, a changed point moves it; unknown points are refused."""
    from simcore.experiments.virtual_taobao.sweep import run_sweep, sweep_seed

    r = smoke["runs"][0]
    s = sweep_seed(smoke_config(), 0, ("default", "disc_steps=2"))
    assert s["bc"]["rel_err"] == pytest.approx(float(np.mean(r["rel_err_bc"])), rel=1e-12)
    assert s["points"]["default"]["rel_err"] == pytest.approx(float(np.mean(r["rel_err_joint"])), rel=1e-12)
    assert s["points"]["default"]["engine"]["row_distance"] == pytest.approx(r["engine"]["row_distance"], rel=1e-9)
    assert s["points"]["disc_steps=2"]["rel_err"] != pytest.approx(s["points"]["default"]["rel_err"], rel=1e-6)
    with pytest.raises(ValueError, match="points"):
        run_sweep(smoke_config(), ("nope",), progress=False)
