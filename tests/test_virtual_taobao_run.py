"""The virtual-taobao run end to end on the smoke preset: the calibrated BC is the
default simulator, the uncalibrated one an ablation row; the report names both."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pyarrow")

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
