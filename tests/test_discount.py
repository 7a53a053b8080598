"""The discount experiment: config validation, the end-to-end CLI on a tiny config,
determinism, and the report's content."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simcore.cli import main as cli_main
from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.tabular.learners import LearnerConfig
from simcore.experiments.discount import EXPERIMENT
from simcore.experiments.discount.config import DiscountConfig, gamma_key
from simcore.experiments.discount.report import write_report
from simcore.experiments.discount.run import learner_jobs, run
from simcore.util.config import set_path
from simcore.util.seeds import SeedTree

TINY = dict(
    session=dict(world=dict(n_queries=4, n_items=60), max_steps=5),
    runs=3,
    sessions=2_000,
    model_sessions=1_000,
    refine_rounds=1,
    refine_sessions=500,
    tree_horizon=3,
    tree_users=20,
    holdout_users=200,
    eval_sessions=2_000,
    sim_sessions=600,
    learner=dict(lanes=20, curve_points=10, checkpoints=4),
)


def _leaves(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, prefix + k + ".")
        else:
            yield prefix + k, v


def tiny_config(**over) -> DiscountConfig:
    """The tiny config as ``--config`` builds it: each leaf set on the default (so the
    study's user model is kept)."""
    cfg = DiscountConfig()
    for path, value in _leaves({**TINY, **over}):
        cfg = set_path(cfg, path, value)
    return cfg


@pytest.fixture(scope="module")
def tiny_results():
    return run(tiny_config(workers=1), progress=False)


def _numbers(results: dict) -> dict:
    """The numeric content that must be reproducible (timings removed)."""
    r = json.loads(json.dumps({k: v for k, v in results.items() if k not in ("runtime_s", "stage_seconds")}, default=float))
    for alg in ("q_learning", "actor_critic"):
        for g in r[alg].values():
            g.pop("seconds", None)
    r["settings"].pop("workers")
    return r


def test_results_have_the_documented_fields(tiny_results):
    r = tiny_results
    for alg in ("dp", "q_learning", "actor_critic"):
        for g in ("0.0", "0.1", "0.5", "0.9", "1.0"):
            for f in ("gmv", "gmv_ci", "v_h0", "gmv_exact", "regret", "sim_gmv", "sim_gmv_ci", "sim_gmv_exact"):
                assert np.isfinite(r[alg][g][f]), (alg, g, f)
    assert r["runtime_s"] > 0
    assert {c["name"] for c in r["checks"]}  # checks recorded
    # Proposition 2 holds exactly for every policy, and DP is optimal
    by_name = {c["name"]: c for c in r["checks"]}
    assert by_name["DP is optimal: no learned policy has a higher exact V_gamma(h0) than DP at its gamma"]["held"]
    assert any(n.startswith("Proposition 2 (exact)") and c["held"] for n, c in by_name.items())
    assert any(n.startswith("Tree DP: V_1(h0) = E[GMV]") and c["held"] for n, c in by_name.items())
    # gamma = 1 identity for DP: exact, and within the Monte Carlo CI
    d1 = r["dp"]["1.0"]
    assert d1["v_h0"] == pytest.approx(d1["gmv_exact"], rel=1e-12)
    assert abs(d1["gmv"] - d1["v_h0"]) <= 1.5 * d1["gmv_ci"]
    for g in ("0.0", "0.1", "0.5", "0.9"):
        assert r["dp"][g]["v_h0"] < r["dp"][g]["gmv_exact"]
        assert r["dp"][g]["gmv_exact"] <= d1["gmv_exact"] + 1e-9  # gamma = 1 maximises E[GMV]


def test_same_seed_same_results_whatever_the_workers(tiny_results):
    again = run(tiny_config(workers=2), progress=False)
    assert _numbers(again) == _numbers(tiny_results)


def test_different_seed_different_results(tiny_results):
    other = run(tiny_config(workers=1, seed=1, tree_horizon=0), progress=False)
    assert other["q_learning"]["1.0"]["gmv"] != tiny_results["q_learning"]["1.0"]["gmv"]
    assert other["dp"]["1.0"]["gmv_exact"] != tiny_results["dp"]["1.0"]["gmv_exact"]  # another model
    for alg in ("dp", "q_learning", "actor_critic"):
        assert other[alg]["1.0"]["sim_gmv"] != tiny_results[alg]["1.0"]["sim_gmv"], alg
    assert other["tree"] is None
    assert not any(k.startswith("tree/") for k in other["seeds"])
    assert all(other["seeds"][k]["seed"] != v["seed"] for k, v in tiny_results["seeds"].items() if k in other["seeds"])


def test_every_stream_is_a_recorded_named_path(tiny_results):
    seeds = tiny_results["seeds"]
    cfg = tiny_config()
    tree = SeedTree(cfg.seed)
    for key, d in seeds.items():
        assert d["root"] == cfg.seed and "/".join(str(p) for p in d["path"]) == key
        assert d["seed"] == tree.seed(*d["path"])  # re-derivable from (root, path)
    assert len({d["seed"] for d in seeds.values()}) == len(seeds)  # no two streams share a seed
    expected = {"model/round/0/simulator", "model/round/1/behaviour", "tree/panel", "tree/holdout",
                "evaluate/dp/0.0", "evaluate/actor_critic/1.0", "evaluate/dp-pair", "transfer/holdout",
                "transfer/mc/600/simulator", "transfer/mc/200/actions"}
    assert expected <= set(seeds)
    # the learners' run keys are the recorded ones, one per (learner, gamma, run)
    jobs = {j.key: j for j in learner_jobs(cfg, tree)}
    for alg in ("q_learning", "actor_critic"):
        for g in cfg.gammas:
            keys = jobs[f"{alg}/{gamma_key(g)}"].kwargs["keys"]
            rec = [seeds[f"learn/{alg}/{gamma_key(g)}/run/{r}"]["key"] for r in range(cfg.runs)]
            assert [int(k) for k in keys] == rec
    n_keys = sum(k.startswith("learn/") for k in seeds)
    assert n_keys == 2 * len(cfg.gammas) * cfg.runs
    assert len({seeds[k]["key"] for k in seeds if k.startswith("learn/")}) == n_keys
    rounds = tiny_results["model"]["rounds"]
    assert [r["seeds"]["simulator"]["path"] for r in rounds] == [["model", "round", k, "simulator"] for k in (0, 1)]


def test_cli_end_to_end_writes_all_files(tmp_path, capsys):
    cfg_file = tmp_path / "tiny.json"
    cfg_file.write_text(json.dumps(TINY))
    out = tmp_path / "out"
    rc = cli_main(["reproduce", "discount", "--out", str(out), "--config", str(cfg_file), "--quiet", "--set", "runs=2", "--workers", "1"])
    assert rc == 0
    for name in (
        "report.md",
        "results.json",
        "fig10_gmv_gamma0_vs_gamma1.png",
        "fig11_q_learning_curves.png",
        "fig11_actor_critic_curves.png",
        "v_h0_vs_gmv.png",
        "gap_gamma1_vs_gamma0.png",
    ):
        f = out / name
        assert f.exists() and f.stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["runs"] == 2
    for alg in ("dp", "q_learning", "actor_critic"):
        for g in ("0.0", "0.1", "0.5", "0.9", "1.0"):
            assert set(res[alg][g]) >= {"gmv", "gmv_ci", "v_h0"}
    assert res["runtime_s"] > 0
    report = (out / "report.md").read_text()
    assert report.startswith("# Discount study") and report.split("\n")[2] == "## Claims"
    assert "| claim | source | our result (95 % CI) | verdict | conditions |" in report
    for text in ("## Checks", "## Settings", "Seed: 0", "--set runs=2", "γ=1 vs γ=0", "Transfer", "命题2"):
        assert text in report, text
    assert "checks held" in capsys.readouterr().out
    assert res["claims"] and all(c["verdict"] for c in res["claims"])


def test_write_report_is_rerunnable(tiny_results, tmp_path):
    files = write_report(tiny_results, tmp_path)
    assert files[0] == "report.md" and len([f for f in files if f.endswith(".png")]) == 5


@pytest.mark.parametrize(
    "over,match",
    [
        (dict(gammas=(0.0, 1.5)), "gamma"),
        (dict(gammas=(-0.1,)), "gamma"),
        (dict(gammas=(float("nan"),)), "gamma"),
        (dict(gammas=()), "gammas"),
        (dict(memory=-1), "memory"),
        (dict(actions=()), "empty"),
        (dict(actions=((1.0, 2.0),)), "actions"),
        (dict(runs=0), "runs"),
        (dict(sessions=0), "sessions"),
        (dict(workers=0), "workers"),
        (dict(memory=40), "states"),
        (dict(min_ess=0.0), "min_ess"),
    ],
)
def test_bad_configs_are_rejected(over, match):
    with pytest.raises(ValueError, match=match):
        DiscountConfig(**over)


def test_bad_config_keys_and_cli_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown"):
        set_path(DiscountConfig(), "gamas", "0.5")
    with pytest.raises(ValueError, match="session"):
        DiscountConfig(session="default")
    rc = cli_main(["reproduce", "discount", "--out", str(tmp_path), "--set", "gammas=0,2"])
    assert rc == 2 and "gamma" in capsys.readouterr().err
    rc = cli_main(["reproduce", "discount", "--out", str(tmp_path), "--set", "memory=-1"])
    assert rc == 2 and "memory" in capsys.readouterr().err
    rc = cli_main(["reproduce", "discount", "--out", str(tmp_path), "--set", "session.user.leave_frustration=x"])
    assert rc == 2 and "leave_frustration" in capsys.readouterr().err


def test_cli_flags_map_onto_the_config():
    import argparse

    from simcore.experiments.base import add_arguments, config_from_args

    p = argparse.ArgumentParser()
    add_arguments(p, EXPERIMENT)
    args = p.parse_args(["--preset", "full", "--set", "runs=3", "--set", "session.user.leave_frustration=6",
                         "--seed", "7", "--workers", "2"])
    cfg = config_from_args(EXPERIMENT, args)
    assert (cfg.runs, cfg.sessions, cfg.seed, cfg.workers) == (3, 800_000, 7, 2)
    assert cfg.session.user.leave_frustration == 6.0 and cfg.session.user.window == DiscountConfig().session.user.window
    assert DiscountConfig().session.user.leave_frustration == 8.0


def test_full_protocol_settings():
    full = EXPERIMENT.presets["full"]()
    assert full.runs == 50 and full.sessions == 800_000
    assert full.gammas == (0.0, 0.1, 0.5, 0.9, 1.0)
    assert full.session.max_steps == 30 and full.session.page_size == 10 and full.memory == 4
    assert gamma_key(1) == "1.0" and gamma_key(0.1) == "0.1"
    assert DiscountConfig(session=SessionConfig(world=WorldConfig(n_queries=2))).n_actions == 5
    assert isinstance(full.learner_config(), LearnerConfig) and full.learner_config().sessions == 800_000
