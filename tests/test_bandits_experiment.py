"""``simcore reproduce bandits`` end to end on a synthetic wheel (no download)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from simcore.cli import main
from simcore.domains.bandits import obd, protocol
from simcore.experiments.bandits import EXPERIMENT
from simcore.experiments.bandits.config import BanditsConfig
from simcore.experiments.bandits.report import verdict
from simcore.util.seeds import SeedTree

ALPHA, BETA = (2.0, 9.0, 4.0, 1.0), (8.0, 9.0, 6.0, 9.0)


def _csv(rng: np.random.Generator, dist: np.ndarray, n: int) -> str:
    ctr = np.array([[0.1, 0.2], [0.5, 0.3], [0.3, 0.2], [0.05, 0.1]])
    lines = [",timestamp,item_id,position,click,propensity_score,user_feature_0"]
    for i in range(n):
        pos = int(rng.integers(0, 2))
        item = int(rng.choice(4, p=dist[:, pos]))
        click = int(rng.random() < ctr[item, pos])
        lines.append(f"{i},2019-11-24 00:{i // 60 % 60:02d}:{i % 60:02d}+00:00,{item},{pos + 1},{click},"
                     f"{float(dist[item, pos])!r},u{i % 3}")
    return "\n".join(lines) + "\n"


def _wheel(tmp_path):
    rng = SeedTree(5).generator("wheel")
    prior = "all:\n  alpha:\n" + "".join(f"    - {a}\n" for a in ALPHA)
    prior += "  beta:\n" + "".join(f"    - {b}\n" for b in BETA)
    bts = protocol.bts_dist(np.array(ALPHA), np.array(BETA), 2, 20000, rng)
    whl = tmp_path / obd.WHEEL
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr(protocol.PRIOR, prior)
        z.writestr(f"{obd.WHEEL_ROOT}/random/all/all.csv", _csv(rng, np.full((4, 2), 0.25), 800))
        z.writestr(f"{obd.WHEEL_ROOT}/bts/all/all.csv", _csv(rng, bts, 800))
    return whl


def test_reproduce_bandits_writes_the_report(tmp_path, capsys):
    whl = _wheel(tmp_path)
    out = tmp_path / "out"
    rc = main(["reproduce", "bandits", "--preset", "quick", "--set", f"source={whl}", "--set", "parts=obd",
               "--out", str(out), "--quiet"])
    assert rc == 0
    report = (out / "report.md").read_text()
    assert report.splitlines()[2].startswith("| claim | source | our result (95 % CI) | verdict | conditions |")
    res = json.loads((out / "results.json").read_text())
    assert len(res["claims"]) == 20 and (out / "ope_relative_error.png").stat().st_size > 0
    camp = res["campaigns"]["all"]
    assert camp["prior_vs_logged_pscore"]["pearson"] > 0.95
    # the BTS log's propensities are constant here, so the time-matched target is the BTS policy itself
    assert camp["prior_vs_logged_pscore"]["loo_time_match_pearson"] > 0.999
    assert camp["bts_logged_from_random"]["ips"]["value"] == pytest.approx(camp["bts_from_random"]["ips"]["value"],
                                                                          rel=0.05)
    # same seed, same numbers
    main(["reproduce", "bandits", "--preset", "quick", "--set", f"source={whl}", "--set", "parts=obd",
          "--out", str(tmp_path / "o2"), "--quiet"])
    again = json.loads((tmp_path / "o2" / "results.json").read_text())
    assert again["campaigns"] == res["campaigns"]


def test_config_and_verdict():
    for bad, field in (({"campaigns": "all,kids"}, "campaigns"), ({"campaigns": "all,all"}, "campaigns"),
                       ({"n_boot": 10}, "n_boot"), ({"tau": 0.0}, "tau"), ({"n_sim": 5}, "n_sim"),
                       ({"parts": "obd,foo"}, "parts"), ({"shifts": "0,2"}, "shifts"), ({"ope_reps": 1}, "ope_reps"),
                       ({"alloc_budgets": "0"}, "alloc_budgets"), ({"hcope_delta": 0.7}, "hcope_delta")):
        with pytest.raises(ValueError, match=f"^{field}:"):
            BanditsConfig(**bad)
    assert BanditsConfig(campaigns="men, women").campaign_list() == ("men", "women")
    assert verdict(-0.1, 0.2) == "reproduced"
    assert verdict(-0.5, 0.2) == "inconclusive"
    assert verdict(0.05, 0.2) == "not reproduced"


def test_missing_wheel_is_a_one_line_error(tmp_path, monkeypatch):
    import importlib

    run_mod = importlib.import_module("simcore.experiments.bandits.run")

    def fail(cache, download=True):
        raise RuntimeError("pip download obp==0.4.1 failed (exit 1): offline")

    monkeypatch.setattr(run_mod, "find_wheel", fail)
    with pytest.raises(RuntimeError, match="offline"):
        run_mod.resolve(BanditsConfig(cache_dir=str(tmp_path)))


def test_bad_dataset_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "data" / "random" / "all").mkdir(parents=True)
    (tmp_path / "data" / "random" / "all" / "all.csv").write_text(",timestamp,item_id\n0,2019-11-24,1\n")
    with pytest.raises(SystemExit) as e:
        main(["reproduce", "bandits", "--set", f"source={tmp_path / 'data'}", "--set", f"wheel={tmp_path / 'w.whl'}",
              "--out", str(tmp_path / "out"), "--quiet"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("simcore reproduce bandits: error: ") and "missing columns" in err[0]


def test_logged_dist_matches_the_logged_propensities(tmp_path):
    whl = _wheel(tmp_path)
    bts = obd.load_obd(whl, "bts", "all")
    d = protocol.logged_dist(bts, bts.timestamp, 4)
    assert d.shape == (bts.n_rounds, 4, 2)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    np.testing.assert_allclose(d[np.arange(bts.n_rounds), bts.item_id, bts.position], bts.pscore, rtol=1e-9)


def test_simulator_studies_quick(tmp_path):
    cfg = BanditsConfig.quick()
    cfg = BanditsConfig(**{**cfg.__dict__, "parts": "ope,ope_seq,hcope,regret,allocation,uplift,lifecycle"})
    res = EXPERIMENT.run(cfg, progress=False)
    assert set(res["sim"]) == {"ope", "ope_seq", "hcope", "regret", "allocation", "uplift", "lifecycle"} and not res["campaigns"]
    out = tmp_path / "sim"
    files = EXPERIMENT.write_report(res, out, "test")
    for png in ("ope_bias_coverage.png", "hcope_coverage.png", "regret_curves.png", "allocation_gap.png",
                "uplift_qini.png"):
        assert png in files and (out / png).stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "## (a) Estimators against the exact value" in report and "## (e) Uplift" in report
    assert "## (f) Allocation and uplift on the lifecycle simulator" in report and "## (a') Sequential" in report
    claims = json.loads((out / "results.json").read_text())["claims"]
    assert len(claims) >= 20
    again = EXPERIMENT.run(cfg, progress=False)
    assert again["sim"] == res["sim"]
    other = EXPERIMENT.run(BanditsConfig(**{**cfg.__dict__, "seed": 1}), progress=False)
    assert other["sim"]["ope"] != res["sim"]["ope"]


def test_logged_target_skipped_when_too_large(tmp_path, monkeypatch):
    whl = _wheel(tmp_path)
    monkeypatch.setattr(protocol, "LOGGED_MAX_ENTRIES", 100)
    with pytest.raises(ValueError, match="LOGGED_MAX_ENTRIES"):
        protocol.logged_dist(obd.load_obd(whl, "bts", "all"), np.zeros(50, dtype="datetime64[us]"), 4)
    out = tmp_path / "skip"
    rc = main(["reproduce", "bandits", "--preset", "quick", "--set", f"source={whl}", "--set", "parts=obd",
               "--out", str(out), "--quiet"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    camp = res["campaigns"]["all"]
    assert "bts_logged_from_random" not in camp and "LOGGED_MAX_ENTRIES" in camp["skipped"]["bts_logged_from_random"]
    assert len(res["claims"]) == 15 and "skipped" in (out / "report.md").read_text()
