"""``simcore reproduce bandits`` end to end on a synthetic wheel (no download)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from simcore.cli import main
from simcore.domains.bandits import obd, protocol
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
    rc = main(["reproduce", "bandits", "--preset", "quick", "--set", f"source={whl}", "--out", str(out), "--quiet"])
    assert rc == 0
    report = (out / "report.md").read_text()
    assert report.splitlines()[2].startswith("| claim | source | our result (95 % CI) | verdict | conditions |")
    res = json.loads((out / "results.json").read_text())
    assert len(res["claims"]) == 15 and (out / "ope_relative_error.png").stat().st_size > 0
    camp = res["campaigns"]["all"]
    assert camp["prior_vs_logged_pscore"]["pearson"] > 0.95
    # same seed, same numbers
    main(["reproduce", "bandits", "--preset", "quick", "--set", f"source={whl}", "--out", str(tmp_path / "o2"),
          "--quiet"])
    again = json.loads((tmp_path / "o2" / "results.json").read_text())
    assert again["campaigns"] == res["campaigns"]


def test_config_and_verdict():
    for bad, field in (({"campaigns": "all,kids"}, "campaigns"), ({"campaigns": "all,all"}, "campaigns"),
                       ({"n_boot": 10}, "n_boot"), ({"tau": 0.0}, "tau"), ({"n_sim": 5}, "n_sim")):
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
