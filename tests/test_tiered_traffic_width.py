"""The bound-width sensitivity study of the tiered-traffic reproduction (width.py)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")

from simcore.experiments.tiered_traffic import width  # noqa: E402
from simcore.experiments.tiered_traffic.config import smoke_config  # noqa: E402


def _seg(lift: float) -> dict[str, float]:
    return {"lift_pct": lift}


def test_personalisation_is_lift_of_liking_segments_minus_the_rest():
    # affinities 0.7, 0.1, 0.1, 0.3: median 0.2, so segments 0 and 3 like the tier
    segs = [_seg(300.0), _seg(-5.0), _seg(35.0), _seg(290.0)]
    assert width.personalisation(segs, [0.7, 0.1, 0.1, 0.3]) == pytest.approx(295.0 - 15.0)
    # a uniform push that lifts every segment alike is not personalised
    assert width.personalisation([_seg(50.0)] * 4, [0.7, 0.1, 0.1, 0.3]) == pytest.approx(0.0)
    # segments without panel users are left out; fewer than two usable gives NaN
    assert width.personalisation([_seg(10.0), None, _seg(2.0)], [0.9, 0.5, 0.1]) == pytest.approx(8.0)
    assert math.isnan(width.personalisation([_seg(1.0), None], [0.5, 0.2]))
    # all segments with the same affinity: no "liking" group
    assert math.isnan(width.personalisation([_seg(1.0), _seg(3.0)], [0.2, 0.2]))


def test_floor_reaches_the_learners_and_rows_are_paired(tmp_path):
    cfg = smoke_config()
    js = width.jobs(cfg, (0.02, 0.2))
    floors = {j.key.split("/")[1] for j in js if not j.key.startswith("exact")}
    assert floors == {"0.02", "0.2"}
    for j in js:
        if j.key.startswith("exact"):
            continue
        assert j.kwargs["cfg"].cem.min_std == float(j.key.split("/")[1])
        # the same named stream at every floor: rows are paired across floors
        assert j.seed_path == ("seed", j.kwargs["seed"], "agent", j.kwargs["key"], f"{cfg.headline_lambda:g}")
    res = width.run(cfg, (0.02, 0.2), progress=False)
    assert [r["floor"] for r in res["rows"]] == [0.02, 0.2]
    for r in res["rows"]:
        assert set(r) >= {"ddpg-cem", "cem-uniform", "vs_segment_opt", "vs_uniform_opt", "vs_cem_uniform", "width_end"}
    width.write(res, str(tmp_path), "test")
    assert (tmp_path / "width.png").stat().st_size > 0
    assert (tmp_path / "width.md").read_text().count("\n| 0.") == 2


def test_bad_floors_are_rejected():
    with pytest.raises(ValueError, match="--floors"):
        width.main(["--floors", "0,0.1", "--out", "/nonexistent"])
