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


def test_equivalence_verdict_rules_on_hand_made_cis():
    from simcore.experiments.bandits.verdicts import aggregate, bias_outcome, coverage_outcome

    # V = 0.5, margin 2 % -> delta = 0.01
    assert bias_outcome(-0.005, 0.008, 0.5, 0.02) == "unbiased"
    assert bias_outcome(-0.01, 0.01, 0.5, 0.02) == "unbiased"            # the margin's ends count
    assert bias_outcome(-0.028, 0.028, 0.5, 0.02) == "inconclusive"       # holds 0 but too wide: not "unbiased"
    assert bias_outcome(0.002, 0.03, 0.5, 0.02) == "inconclusive"         # excludes 0, yet may lie within the margin
    assert bias_outcome(0.011, 0.05, 0.5, 0.02) == "biased"
    assert bias_outcome(-0.3, -0.2, -0.5, 0.02) == "biased"               # |V| sets the margin
    assert bias_outcome(float("nan"), float("nan"), 0.5, 0.02) == "inconclusive"
    for bad in ({"rel": 0.0}, {"lo": 0.1, "hi": 0.0}):
        with pytest.raises(ValueError, match=f"^{next(iter(bad))}"):
            bias_outcome(**{"lo": -0.01, "hi": 0.01, "value": 0.5, "rel": 0.02, **bad})
    # level 95 %, tolerance 2 %: holds iff lower end >= 93 %, fails iff upper end < 95 %
    assert coverage_outcome(0.93, 0.99, 0.95, 0.02) == "holds"
    assert coverage_outcome(0.981, 1.0, 0.95, 0.02) == "holds"
    assert coverage_outcome(0.911, 0.975, 0.95, 0.02) == "inconclusive"  # 95 % of 200 reps: too few to tell
    assert coverage_outcome(0.85, 0.949, 0.95, 0.02) == "fails"
    assert coverage_outcome(0.90, 0.95, 0.95, 0.0) == "inconclusive"
    with pytest.raises(ValueError, match="^tol"):
        coverage_outcome(0.9, 0.95, 0.95, 0.96)
    assert aggregate(["holds"] * 3, "holds", "fails") == "reproduced"
    assert aggregate(["holds", "inconclusive"], "holds", "fails") == "partly reproduced"
    assert aggregate(["inconclusive", "fails"], "holds", "fails") == "not reproduced"
    assert aggregate(["inconclusive"] * 2, "holds", "fails") == "inconclusive"
    assert aggregate([], "holds", "fails") == "not tested"


def test_claims_use_the_equivalence_rules():
    from simcore.experiments.bandits import sim_report

    def est(bias_ci, cov_ci):
        return {"bias": sum(bias_ci) / 2, "bias_ci": bias_ci, "sd": 0.1, "coverage": sum(cov_ci) / 2,
                "coverage_ci": cov_ci}

    # a low-power study: every bias CI holds 0 but spans +-6 % of V; coverage CIs hold 95 % but reach below 93 %
    wide = {"t": 1.0, "value": 0.5, "max_weight": 100.0,
            **{e: est((-0.03, 0.03), (0.91, 0.975)) for e in sim_report.ESTIMATORS}}
    wide["dm"] = est((-0.25, -0.2), (0.0, 0.02))
    tight = {**wide, "t": 0.0, **{e: est((-0.004, 0.004), (0.935, 0.99)) for e in ("ips", "snips", "dr", "switch-dr")}}
    res = {"reps": 200, "n_rounds": 1000, "shifts": {"1": wide}}
    by = {(c.claim, i % 2): c for i, c in enumerate(sim_report.ope_claims(res))}
    verdicts = {k: c.verdict for k, c in by.items()}
    ips_bias = next(c for c in by.values() if c.claim.startswith("IPS is unbiased"))
    assert ips_bias.verdict == "inconclusive" and "inconclusive 1/1" in ips_bias.result
    assert "+-2 % of V" in ips_bias.conditions and "93 %" in ips_bias.conditions
    assert next(c for c in by.values() if c.claim.startswith("DM is biased")).verdict == "reproduced"
    assert sum(v == "inconclusive" for v in verdicts.values()) == 8      # 4 bias + 4 coverage rows
    res2 = {"reps": 200, "n_rounds": 1000, "shifts": {"0": tight, "1": wide}}
    ips = [c for c in sim_report.ope_claims(res2) if c.claim.startswith("IPS")]
    assert [c.verdict for c in ips] == ["partly reproduced", "partly reproduced"]
    # a looser margin (a config setting) turns the wide CIs into "unbiased"
    loose = sim_report.ope_claims(res, rel=0.1)
    assert next(c for c in loose if c.claim.startswith("IPS is unbiased")).verdict == "reproduced"
    hc = {"delta": 0.05, "reps": 200, "n_rounds": 1000,
          "shifts": {"0": {"t": 0.0, "value": 0.1, **{b: {"coverage": 0.95, "coverage_ci": ci, "looseness": 0.1}
                                                       for b, ci in (("thomas", (0.981, 1.0)),
                                                                     ("thomas-20%", (0.95, 0.99)),
                                                                     ("bootstrap", (0.90, 0.965)),
                                                                     ("t-test", (0.85, 0.94)))}}}}
    assert [c.verdict for c in sim_report.hcope_claims(hc)] == ["reproduced", "reproduced", "inconclusive",
                                                                 "not reproduced"]
    with pytest.raises(ValueError, match="^equiv_rel:"):
        BanditsConfig(equiv_rel=0.0)
    with pytest.raises(ValueError, match="^coverage_tol:"):
        BanditsConfig(coverage_tol=0.3)


def test_evaluate_drops_and_counts_undefined_resamples(tmp_path, monkeypatch):
    import dataclasses

    whl = _wheel(tmp_path)
    rand, bts = obd.load_obd(whl, "random", "all"), obd.load_obd(whl, "bts", "all")
    dist = protocol.uniform_dist(4, 2)

    def clicks(k):
        c = np.zeros(bts.n_rounds, dtype=np.int64)
        c[:k] = 1
        return dataclasses.replace(bts, click=c)

    # 5 clicks in 800 rounds: a resample has none with probability ~e^-5, so a few of 2000 drop
    res = protocol.evaluate(rand, dist, clicks(5), SeedTree(3), n_boot=2000)
    for e in ("ips", "snips", "dm", "dr", "switch-dr"):
        assert res[e]["boot_dropped"] > 0 and np.all(np.isfinite(res[e]["rel_diff_ci"]))
        assert np.all(np.isfinite(res[e]["value_ci"]))
    assert protocol.evaluate(rand, dist, bts, SeedTree(3), n_boot=200)["ips"]["boot_dropped"] == 0
    with pytest.raises(ValueError, match="^n_boot: .* MAX_DROPPED"):
        protocol.evaluate(rand, dist, clicks(1), SeedTree(3), n_boot=200)
    with pytest.raises(ValueError, match="^on_policy: no clicks"):
        protocol.evaluate(rand, dist, clicks(0), SeedTree(3), n_boot=200)
    # SNIPS resamples that draw only rounds the target never shows are 0/0: counted, not NaN
    from simcore.algos import ope

    w = np.zeros(20)
    w[0] = 1.0          # one round of 20 with weight: a resample misses it with probability (19/20)^20 = 36 %
    est = ope.snips(np.ones(20), np.zeros(20, dtype=np.int64), np.full(20, 0.5), np.c_[w * 0.5, 1 - w * 0.5])
    from simcore.domains.bandits import obd_ope

    terms, on = obd_ope._Terms(est.numer, est.denom), obd_ope._Terms(np.ones(50), np.ones(50))
    with pytest.raises(ValueError, match="MAX_DROPPED"):
        obd_ope._boot_rel(terms, on, 400, SeedTree(4).generator("b"))
    monkeypatch.setattr(obd_ope, "MAX_DROPPED", 0.9)
    val, rel, bad = obd_ope._boot_rel(terms, on, 400, SeedTree(4).generator("b"))
    assert 0.25 * 400 < bad < 0.5 * 400 and val.size == rel.size == 400 - bad and np.all(np.isfinite(rel))
