"""The Open Bandit Dataset benchmark protocol on synthetic logs with known CTRs."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from simcore.domains.bandits import obd, protocol
from simcore.util.seeds import SeedTree

A, L = 4, 2
MU = np.array([[0.1, 0.2], [0.5, 0.3], [0.3, 0.2], [0.05, 0.1]])  # CTR of (item, position)


def _log(rng: np.random.Generator, dist: np.ndarray, n: int, behavior: str) -> obd.OBDLog:
    pos = rng.integers(0, L, n)
    u = rng.random(n)
    item = (u[:, None] > np.cumsum(dist[:, pos].T, axis=1)).sum(axis=1)
    click = (rng.random(n) < MU[item, pos]).astype(np.int64)
    return obd.OBDLog(
        behavior=behavior, campaign="all", timestamp=np.arange(n).astype("datetime64[s]").astype("datetime64[us]"),
        item_id=item, position=pos, click=click, pscore=dist[item, pos], user_features=np.empty((n, 0), dtype=str),
        affinity=np.empty((n, 0)), n_items=A, n_positions=L,
    )


PRIOR_TEXT = "all:\n  alpha:\n    - 2.0\n    - 1.0\n  beta:\n    - 1.0\n    - 1.0\n"


def test_parse_prior():
    p = protocol.parse_prior("# c\n" + PRIOR_TEXT)
    np.testing.assert_array_equal(p["all"]["alpha"], [2.0, 1.0])
    np.testing.assert_array_equal(p["all"]["beta"], [1.0, 1.0])
    with pytest.raises(ValueError, match="^prior: cannot read"):
        protocol.parse_prior("all:\n  alpha: 3\n")
    with pytest.raises(ValueError, match="^prior: campaign 'all' needs"):
        protocol.parse_prior("all:\n  alpha:\n    - 1.0\n")


def test_bts_dist_matches_the_exact_probability():
    # theta_0 ~ Beta(2, 1), theta_1 ~ U(0, 1): P(theta_0 > theta_1) = int 2x * x dx = 2/3
    n_sim = 20000
    d = protocol.bts_dist(np.array([2.0, 1.0]), np.array([1.0, 1.0]), 2, n_sim, SeedTree(0).generator("bts"), chunk=7000)
    np.testing.assert_allclose(d.sum(axis=0), 1.0)
    se = np.sqrt(2 / 9 / n_sim)
    assert abs(d[0, 0] - 2 / 3) < 4 * se and abs(d[1, 1] - 2 / 3) < 4 * se


def test_empirical_dist_and_cross_fit():
    log = _log(SeedTree(1).generator("log"), protocol.uniform_dist(A, L), 2000, "random")
    emp = protocol.empirical_dist(log, A)
    np.testing.assert_allclose(emp.sum(axis=0), 1.0)
    assert emp[2, 1] == pytest.approx(np.mean(log.item_id[log.position == 1] == 2))
    q = protocol.cross_fit_q(log, A, 2, SeedTree(1).generator("q"))
    assert q.shape == (2000, A, L)
    # each round's model comes from the other fold: rebuild fold 1's from fold 0's rounds
    fold = SeedTree(1).generator("q").permutation(2000) % 2
    fit = fold == 0
    ctr0 = log.click[fit].mean()
    shows = ((log.item_id[fit] == 1) & (log.position[fit] == 0)).sum()
    clicks = log.click[fit][(log.item_id[fit] == 1) & (log.position[fit] == 0)].sum()
    i = np.flatnonzero(~fit)[0]
    assert q[i, 1, 0] == pytest.approx((clicks + 1) / (shows + 1 / ctr0))


def test_evaluate_recovers_a_known_ctr():
    seeds = SeedTree(2)
    uni = protocol.uniform_dist(A, L)
    target = np.array([[0.1, 0.4], [0.6, 0.2], [0.2, 0.2], [0.1, 0.2]])
    logged = _log(seeds.generator("logged"), uni, 4000, "random")
    own = _log(seeds.generator("own"), target, 4000, "bts")
    res = protocol.evaluate(logged, target, own, seeds.child("eval"), n_boot=200, tau=1e9)
    for name in ("ips", "snips", "dr", "switch-dr"):
        lo, hi = res[name]["rel_diff_ci"]
        assert lo < 0 < hi, (name, res[name])
        assert res[name]["rel_error_ci"][0] <= res[name]["rel_error"] <= res[name]["rel_error_ci"][1]
    assert res["dr"]["value"] == res["switch-dr"]["value"]  # tau above every weight
    # evaluating the logging policy on its own log: IPS and SNIPS are its CTR exactly
    same = protocol.evaluate(logged, uni, logged, seeds.child("same"), n_boot=100)
    assert same["ips"]["rel_error"] == pytest.approx(0, abs=1e-12)
    assert same["snips"]["value"] == pytest.approx(logged.ctr(), rel=1e-12)
    with pytest.raises(ValueError, match="^dist:"):
        protocol.evaluate(logged, uni[:2] / uni[:2].sum(axis=0), own, seeds, n_boot=100)


def _csv(log: obd.OBDLog) -> str:
    lines = [",timestamp,item_id,position,click,propensity_score"]
    for i in range(log.n_rounds):
        lines.append(f"{i},2019-11-24 00:00:{i % 60:02d}.000000+00:00,{log.item_id[i]},{log.position[i] + 1},"
                     f"{log.click[i]},{float(log.pscore[i])!r}")
    return "\n".join(lines) + "\n"


def test_benchmark_end_to_end_on_a_synthetic_wheel(tmp_path, capsys):
    seeds = SeedTree(3)
    prior = "all:\n  alpha:\n" + "".join(f"    - {a}\n" for a in (2.0, 9.0, 4.0, 1.0))
    prior += "  beta:\n" + "".join(f"    - {b}\n" for b in (8.0, 9.0, 6.0, 9.0))
    bts_d = protocol.bts_dist(np.array([2.0, 9.0, 4.0, 1.0]), np.array([8.0, 9.0, 6.0, 9.0]), L, 20000,
                              seeds.generator("d"))
    whl = tmp_path / obd.WHEEL
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr(protocol.PRIOR, prior)
        z.writestr(f"{obd.WHEEL_ROOT}/random/all/all.csv", _csv(_log(seeds.generator("r"), protocol.uniform_dist(A, L),
                                                                         600, "random")))
        z.writestr(f"{obd.WHEEL_ROOT}/bts/all/all.csv", _csv(_log(seeds.generator("b"), bts_d, 600, "bts")))
    protocol.main(["--source", str(whl), "--n-sim", "20000", "--n-boot", "100", "--out", str(tmp_path / "r.json")])
    res = json.loads((tmp_path / "r.json").read_text())
    assert set(res) >= {"bts_from_random", "bts_empirical_from_random", "random_from_bts", "prior_vs_logged_pscore"}
    # the BTS log was drawn from the prior's own distribution: its propensities match it
    assert res["prior_vs_logged_pscore"]["pearson"] > 0.95
    assert res["random_from_bts"]["on_policy"]["value"] == pytest.approx(
        obd.load_obd(whl, "random", "all").ctr())


def test_evaluate_is_the_same_in_any_chunking_and_blocks_large_logs():
    seeds = SeedTree(4)
    uni = protocol.uniform_dist(A, L)
    # a target with zero mass on items 2, 3: chunks whose logged items are all 2 or 3 have
    # zero SNIPS weight, which must not raise (only the whole log's 0/0 does)
    target = np.array([[0.3, 0.5], [0.7, 0.5], [0.0, 0.0], [0.0, 0.0]])
    logged = _log(seeds.generator("logged"), uni, 3000, "random")
    own = _log(seeds.generator("own"), target, 3000, "bts")
    base = protocol.evaluate(logged, target, own, seeds.child("e"), n_boot=200)
    for chunk in (1, 7, 1000):
        again = protocol.evaluate(logged, target, own, seeds.child("e"), n_boot=200, chunk_rounds=chunk)
        assert again == base, chunk
    assert base["ips"]["boot_block"] == 1 and base["on_policy"]["boot_block"] == 1
    # blocks of ceil(3000 / 100) = 30 consecutive rounds: same point estimates, a CI of
    # similar width around them
    blk = protocol.evaluate(logged, target, own, seeds.child("e"), n_boot=300, max_units=100)
    assert blk["ips"]["boot_block"] == 30 and blk["on_policy"]["boot_block"] == 30
    for name in ("ips", "snips", "dm", "dr", "switch-dr"):
        assert blk[name]["value"] == pytest.approx(base[name]["value"], rel=1e-12)
        lo, hi = blk[name]["value_ci"]
        assert lo < blk[name]["value"] < hi
        w0 = base[name]["value_ci"][1] - base[name]["value_ci"][0]
        assert 0.5 * w0 < hi - lo < 2.0 * w0, name
    with pytest.raises(ValueError, match="^max_units:"):
        protocol.evaluate(logged, target, own, seeds, max_units=0)
    with pytest.raises(ValueError, match="^dist:"):
        protocol.evaluate(logged, np.broadcast_to(target, (5, A, L)), own, seeds)


def test_cross_fit_tables_are_the_per_round_model():
    log = _log(SeedTree(5).generator("log"), protocol.uniform_dist(A, L), 500, "random")
    fold, tables = protocol.cross_fit_tables(log, A, 3, SeedTree(5).generator("q"))
    q = protocol.cross_fit_q(log, A, 3, SeedTree(5).generator("q"))
    assert tables.shape == (3, A, L) and set(np.unique(fold)) == {0, 1, 2}
    np.testing.assert_array_equal(q, tables[fold])
