"""The discount study's data curve (experiments/discount/data_curve.py): the per-point
job is a pure function of (config, seed), the summary's gaps and optimism are the
per-seed values' arithmetic, and the CLI checks its arguments."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simcore.experiments.discount import data_curve as dc
from simcore.experiments.discount.config import DiscountConfig


@pytest.fixture(scope="module")
def small() -> DiscountConfig:
    return DiscountConfig(n_seeds=2, holdout_users=40, refine_rounds=1)


def test_sized_keeps_the_default_ratio(small):
    c = dc.sized(small, 3000)
    assert (c.model_sessions, c.refine_sessions) == (3000, 1500)
    assert dataclasses.replace(c, model_sessions=small.model_sessions,
                               refine_sessions=small.refine_sessions) == small


def test_point_job_is_deterministic_and_seed_dependent(small):
    c = dc.sized(small, 600)
    a, b, other = dc.point_job(c, 0), dc.point_job(c, 0), dc.point_job(c, 1)
    assert a == b
    assert a != other
    assert set(a) == set(small.states)
    for v in a.values():
        assert all(np.isfinite(x) and x > 0 for x in v.values())
        # DP at gamma = 1 maximises the model's expected GMV: never below gamma = 0's
        assert v["model1"] >= v["model0"] - 1e-9


def test_summarise_is_the_per_seed_arithmetic():
    runs = {"100/0": {"s": {"model0": 2.0, "model1": 2.2, "sim0": 1.9, "sim1": 1.8}},
            "100/1": {"s": {"model0": 2.0, "model1": 2.4, "sim0": 2.1, "sim1": 2.0}}}
    row = dc.summarise([100], ["s"], runs, 2)["rows"][0]
    assert row["model_gap_pct"][0] == pytest.approx(15.0)
    assert row["sim_gap_pct"][0] == pytest.approx(100 * ((1.8 / 1.9 - 1) + (2.0 / 2.1 - 1)) / 2)
    assert row["optimism1"][0] == pytest.approx((0.4 + 0.4) / 2)
    assert row["optimism0"][0] == pytest.approx((0.1 - 0.1) / 2)
    assert row["model_gap_pct"][1] > 0  # a between-seed half-width


@pytest.mark.parametrize("argv, match", [(["--sizes", "5,abc"], "--sizes"), (["--sizes", "50"], "--sizes"),
                                         (["--seeds", "1"], "--seeds")])
def test_cli_rejects_bad_arguments(argv, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        dc.main(["--out", str(tmp_path)] + argv)


def test_replot_redraws_a_recorded_run(tmp_path):
    runs = {f"{n}/{k}": {st: {"model0": 2.0, "model1": 2.1 + 0.1 * k, "sim0": 1.9, "sim1": 1.8 + 0.05 * k}
                         for st in ("history", "segment")} for n in (1000, 2000) for k in range(2)}
    res = dc.summarise([1000, 2000], ["history", "segment"], runs, 2)
    res["meta"] = {"git_commit": "abc", "cpu": "cpu", "cpus": 2, "load_average_start": 0.1,
                   "load_average_end": 0.2, "workers": 1, "wall_seconds": 1.0, "python": "3", "numpy": "2",
                   "command": "python -m simcore.experiments.discount.data_curve --seeds 2"}
    import json

    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps(res))
    dc.main(["--replot", str(rec), "--out", str(tmp_path / "out")])
    md = (tmp_path / "out" / "data_curve.md").read_text()
    assert "--seeds 2" in md and "| 2,000 | segment |" in md
    assert (tmp_path / "out" / "data_curve.png").stat().st_size > 1000
