"""The discount experiment: config validation, the end-to-end CLI on a tiny config,
determinism across worker counts, the seed replicates, and the report's content."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simcore.cli import main as cli_main
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.tabular.learners import LearnerConfig
from simcore.experiments.discount import EXPERIMENT
from simcore.experiments.discount import seeds as paths
from simcore.experiments.discount.config import DiscountConfig, SensitivityConfig, gamma_key
from simcore.experiments.discount.report import write_report
from simcore.experiments.discount.run import run
from simcore.util.config import set_path
from simcore.util.seeds import SeedTree

TINY = dict(
    session=dict(world=dict(n_queries=4, n_items=60), max_steps=5),
    n_seeds=2,
    runs=2,
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
    """The tiny config as ``--config`` builds it: each leaf set on the default."""
    cfg = DiscountConfig()
    for path, value in _leaves({**TINY, **over}):
        cfg = set_path(cfg, path, value)
    return cfg


@pytest.fixture(scope="module")
def tiny_results():
    return run(tiny_config(workers=1), progress=False)


def _numbers(results: dict) -> dict:
    """The numeric content that must be reproducible (timings removed)."""
    r = json.loads(json.dumps({k: v for k, v in results.items() if k not in ("runtime_s", "stage_seconds")},
                              default=float))
    for rep in r["replicates"]:
        rep.pop("seconds")
        for st in rep["states"].values():
            st.pop("seconds")
            for alg in ("q_learning", "actor_critic"):
                for g in st[alg].values():
                    g.pop("seconds", None)
    r["settings"].pop("workers")
    return r


def test_results_have_the_documented_fields(tiny_results):
    r = tiny_results
    assert [rep["seed"] for rep in r["replicates"]] == [0, 1]
    for state in ("history", "segment"):
        s = r["summary"][state]
        for key in ("dp_model_gap_pct", "dp_sim_gap", "tree_holdout_gap_pct", "q_learning_model_gap",
                    "actor_critic_regret/1.0", "q_learning_v_regret/0.5", "dp_gmv/1.0"):
            assert s[key]["n"] == 2 and np.isfinite(s[key]["mean"]) and len(s[key]["values"]) == 2, key
        for rep in r["replicates"]:
            st = rep["states"][state]
            for alg in ("dp", "q_learning", "actor_critic"):
                for g in ("0.0", "0.1", "0.5", "0.9", "1.0"):
                    for f in ("gmv", "gmv_ci", "v_h0", "gmv_exact", "regret", "v_regret", "sim_gmv", "sim_gmv_exact"):
                        assert np.isfinite(st[alg][g][f]), (state, alg, g, f)
            d1 = st["dp"]["1.0"]
            assert d1["v_h0"] == pytest.approx(d1["gmv_exact"], rel=1e-12)  # Proposition 2 for DP
            for g in ("0.0", "0.1", "0.5", "0.9"):
                assert st["dp"][g]["v_h0"] < st["dp"][g]["gmv_exact"] <= d1["gmv_exact"] + 1e-9
            for alg in ("q_learning", "actor_critic"):
                assert st[alg]["1.0"]["v_regret"] >= -1e-9  # DP is optimal at its own gamma
        assert len(r["replicates"][0]["states"][state]["dp"]["1.0"]["paths"]) == (1 if state == "history" else 4)
        names = {c["name"]: c for c in r["checks"][state]}
        assert names["DP is optimal: no learned policy has a higher exact V_gamma(h0) than DP at its gamma"]["held"] == 2
        assert any(n.startswith("Proposition 2 (exact)") and c["held"] == 2 for n, c in names.items())
    assert r["settings"]["learner"]["sessions"] == 2_000  # the sessions as run, not LearnerConfig's default
    assert set(r["fig3"]["achieved"]) >= {"share_1", "within_6"}
    assert r["runtime_s"] > 0


def test_same_seed_same_results_whatever_the_workers(tiny_results):
    again = run(tiny_config(workers=2), progress=False)
    assert _numbers(again) == _numbers(tiny_results)


def test_ray_backend_gives_the_same_numbers(tiny_results, local_ray):
    """The real experiment with every job a Ray task (--backend ray): bit for bit."""
    from simcore.runner.context import execution

    with execution(backend="ray"):
        on_ray = run(tiny_config(workers=2), progress=False)
    assert _numbers(on_ray) == _numbers(tiny_results)


def test_different_seed_different_results(tiny_results):
    other = run(tiny_config(workers=1, seed=1, tree_horizon=0, n_seeds=1, states=("segment",)), progress=False)
    a, b = other["replicates"][0]["states"]["segment"], tiny_results["replicates"][0]["states"]["segment"]
    assert a["q_learning"]["1.0"]["gmv"] != b["q_learning"]["1.0"]["gmv"]
    assert a["dp"]["1.0"]["gmv_exact"] != b["dp"]["1.0"]["gmv_exact"]  # another model
    for alg in ("dp", "q_learning", "actor_critic"):
        assert a[alg]["1.0"]["sim_gmv"] != b[alg]["1.0"]["sim_gmv"], alg
    assert a["tree"] is None and "tree_gap" not in other["summary"]["segment"]
    assert not any("/tree/" in k for k in other["seeds"])
    common = set(other["seeds"]) & set(tiny_results["seeds"])
    assert common and all(other["seeds"][k]["seed"] != tiny_results["seeds"][k]["seed"] for k in common)
    # replicates of one run differ from each other
    r0, r1 = (rep["states"]["segment"] for rep in tiny_results["replicates"])
    assert r0["dp"]["1.0"]["gmv_exact"] != r1["dp"]["1.0"]["gmv_exact"]


def test_every_stream_is_a_recorded_named_path(tiny_results):
    seeds = tiny_results["seeds"]
    cfg = tiny_config()
    tree = SeedTree(cfg.seed)
    for key, d in seeds.items():
        assert d["root"] == cfg.seed and "/".join(str(p) for p in d["path"]) == key
        assert d["seed"] == tree.seed(*d["path"])  # re-derivable from (root, path)
    assert len({d["seed"] for d in seeds.values()}) == len(seeds)  # no two streams share a seed
    expected = {"seed/0/model/round/0/simulator", "seed/1/model/round/1/behaviour", "seed/0/tree/panel",
                "seed/1/tree/holdout", "seed/0/evaluate/history/dp/0.0", "seed/0/evaluate/segment/actor_critic/1.0",
                "seed/1/evaluate/segment/dp-pair", "seed/0/transfer/holdout", "seed/0/transfer/history/mc/600/simulator",
                "seed/1/transfer/segment/mc/300/actions", "calibration/panel"}
    assert expected <= set(seeds)
    for k in range(2):
        rep = paths.replicate(tree, k)
        for state in ("history", "segment"):
            for alg in ("q_learning", "actor_critic"):
                for g in cfg.gammas:
                    keys = paths.run_keys(rep, state, alg, float(g), cfg.runs)
                    rec = [seeds[f"seed/{k}/learn/{state}/{alg}/{gamma_key(g)}/run/{r}"]["key"] for r in range(cfg.runs)]
                    assert [int(x) for x in keys] == rec
    n_keys = sum("/learn/" in k for k in seeds)
    assert n_keys == 2 * 2 * 2 * len(cfg.gammas) * cfg.runs  # seeds x states x learners x gammas x runs
    assert len({seeds[k]["key"] for k in seeds if "/learn/" in k}) == n_keys
    rounds = tiny_results["replicates"][1]["states"]["history"]["model"]["rounds"]
    assert [r["seeds"]["simulator"]["path"] for r in rounds] == [["seed", 1, "model", "round", k, "simulator"]
                                                                  for k in (0, 1)]


def test_cli_end_to_end_writes_all_files(tmp_path, capsys):
    cfg_file = tmp_path / "tiny.json"
    cfg_file.write_text(json.dumps(TINY))
    out = tmp_path / "out"
    rc = cli_main(["reproduce", "discount", "--out", str(out), "--config", str(cfg_file), "--quiet",
                   "--set", "runs=1", "--set", "states=history", "--set", "tree_horizon=2", "--workers", "1"])
    assert rc == 0
    for name in ("report.md", "results.json", "fig10_gmv_gamma0_vs_gamma1.png", "fig11_q_learning_curves.png",
                 "fig11_actor_critic_curves.png", "v_h0_vs_gmv.png", "gap_gamma1_vs_gamma0.png"):
        f = out / name
        assert f.exists() and f.stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["runs"] == 1 and res["settings"]["states"] == ["history"]
    report = (out / "report.md").read_text()
    assert report.startswith("# Discount study") and report.split("\n")[2] == "## Claims"
    assert "| claim | source | our result (95 % CI) | verdict | conditions |" in report
    for text in ("## Settings", "Seed: 0", "--set runs=1", "per state", "Learners against DP", "confirm rule",
                 "命题2", "--preset sensitivity", "Seed 0 in detail", "about 6 %"):
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
        (dict(n_seeds=0), "n_seeds"),
        (dict(sessions=0), "sessions"),
        (dict(workers=0), "workers"),
        (dict(memory=40), "states"),
        (dict(min_ess=0.0), "min_ess"),
        (dict(states=()), "states"),
        (dict(states=("user",)), "states"),
        (dict(states=("history", "history")), "states"),
        (dict(sensitivity="none"), "sensitivity"),
    ],
)
def test_bad_configs_are_rejected(over, match):
    with pytest.raises(ValueError, match=match):
        DiscountConfig(**over)


@pytest.mark.parametrize(
    "over,match",
    [
        (dict(price_aversion=(-1.0,)), "price_aversion"),
        (dict(price_aversion=(1.0, 1.0)), "duplicates"),
        (dict(leave_frustration=(60.0,)), "leave_frustration"),
        (dict(click_intent=(float("nan"),)), "click_intent"),
        (dict(click_intent=[0.2]), "click_intent"),
        (dict(calibration_users=5), "calibration_users"),
        (dict(refit=("nope",)), "refit"),
    ],
)
def test_bad_sensitivity_configs_are_rejected(over, match):
    with pytest.raises(ValueError, match=match):
        SensitivityConfig(**over)


def test_sensitivity_points_and_preset():
    s = SensitivityConfig(price_aversion=(0.0, 6.0), leave_frustration=(4.0,))
    assert s.points() == [("price_aversion", 0.0), ("price_aversion", 6.0), ("leave_frustration", 4.0)]
    assert SensitivityConfig().points() == []
    pre = EXPERIMENT.presets["sensitivity"]()
    assert pre.sensitivity.price_aversion == (0.0, 1.5, 3.0, 4.5, 6.0)
    assert pre.sensitivity.leave_frustration == (0.0, 4.0, 8.0, 12.0)
    assert pre.n_seeds >= 5 and "click_intent" in pre.sensitivity.refit
    assert set_path(DiscountConfig(), "sensitivity.price_aversion", "0,3").sensitivity.price_aversion == (0.0, 3.0)


def test_bad_config_keys_and_cli_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown"):
        set_path(DiscountConfig(), "gamas", "0.5")
    with pytest.raises(ValueError, match="session"):
        DiscountConfig(session="default")
    rc = cli_main(["reproduce", "discount", "--out", str(tmp_path), "--set", "gammas=0,2"])
    assert rc == 2 and "gamma" in capsys.readouterr().err
    rc = cli_main(["reproduce", "discount", "--out", str(tmp_path), "--set", "states=user"])
    assert rc == 2 and "states" in capsys.readouterr().err
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


def test_the_study_runs_the_calibrated_package_default():
    cfg = DiscountConfig()
    assert cfg.session == SessionConfig() and cfg.session.user == UserModelConfig()  # no tuned override
    assert cfg.states == ("history", "segment") and cfg.n_seeds >= 5


def test_full_protocol_settings():
    full = EXPERIMENT.presets["full"]()
    assert full.runs == 50 and full.sessions == 800_000 and full.n_seeds >= 5
    assert full.gammas == (0.0, 0.1, 0.5, 0.9, 1.0)
    assert full.session.max_steps == 30 and full.session.page_size == 10 and full.memory == 4
    assert gamma_key(1) == "1.0" and gamma_key(0.1) == "0.1"
    assert DiscountConfig(session=SessionConfig(world=WorldConfig(n_queries=2))).n_actions == 5
    assert isinstance(full.learner_config(), LearnerConfig) and full.learner_config().sessions == 800_000
