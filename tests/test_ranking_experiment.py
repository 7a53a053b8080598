"""The ranking experiment end to end on a tiny world (files, JSON, report), its CLI."""

from __future__ import annotations

import argparse
import json

import pytest

from simcore.domains.search.config import WorldConfig
from simcore.experiments.ranking import EXPERIMENT
from simcore.experiments.ranking import run as ranking
from simcore.experiments.ranking.analysis import mean_ci, paired_diff
from simcore.experiments.ranking.config import ALL_AGENTS, RL_AGENTS, RankingConfig
from simcore.experiments.ranking.report import write_report


def _tiny(**kw) -> RankingConfig:
    base = dict(
        seeds=2, agents=ALL_AGENTS, num_envs=16, iterations=4, steps_per_iteration=4, eval_every=2,
        eval_steps=3, final_eval_steps=5, log_steps=80, ns_iterations=4,
        world=WorldConfig(n_queries=4, n_items=100),
        ddpg=dict(hidden=(8, 8), batch_size=16, warmup=32, replay_capacity=500),
        nonstationary_agents=("dpg",), workers=1, exact_panel=24, segment_panel=32,
    )
    base.update(kw)
    return RankingConfig(**base)


def test_run_writes_report_json_and_plots(tmp_path):
    cfg = _tiny()
    data = ranking.run(cfg, progress=False)
    assert not any(tmp_path.iterdir())  # run() writes nothing
    files = write_report(data, tmp_path, command="pytest")
    assert set(files) >= {"report.md", "results.json"}
    for f in ("report.md", "results.json", "learning_curves.png", "online_curves.png", "rneu.png",
              "weights.png", "weights_by_segment.png", "nonstationary.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    js = json.loads((tmp_path / "results.json").read_text())
    assert set(ALL_AGENTS) <= set(js["final"])
    assert {"fixed-premium", "fixed-ltr"} <= set(js["final"])
    for k in ALL_AGENTS:
        assert len(js["final"][k]["gmv_per_seed"]) == 2
    comps = js["comparisons"]
    assert comps["best_static"] in js["final"]
    assert set(comps["rl_vs"]) == {k for k in ALL_AGENTS if k in RL_AGENTS}
    assert "dpg-shaped vs dpg" in comps["early"] and "ddpg-ltr vs ddpg" in comps["early"]
    assert "dpg" in comps["nonstationary"]
    report = (tmp_path / "report.md").read_text()
    assert "Final GMV and CTR" in report and "Non-stationary" in report
    assert report.index("## Claims") < report.index("Final GMV and CTR")
    assert len(js["claims"]) == 7 and all(c["verdict"] for c in js["claims"])
    assert "per-segment static optimum" in js["claims"][0]["claim"] or "per-segment" in js["claims"][0]["claim"]
    assert set(comps["vs_optimum"]) == set(RL_AGENTS) - {"dpg-fbe-fitted"} or set(comps["vs_optimum"]) <= set(RL_AGENTS)
    for k in ALL_AGENTS:  # every final policy also has its exact expected GMV on the held-out panel
        assert len(js["final"][k]["exact_gmv_per_seed"]) == 2
    assert data["meta"]["workers"] == 1
    # every job measures its CPU time; the report header and the final rows carry it
    assert all(r["cpu_seconds"] > 0 for r in data["runs"])
    assert data["meta"]["job_cpu_seconds"] == pytest.approx(sum(r["cpu_seconds"] for r in data["runs"]))
    assert all(js["final"][k]["cpu_seconds"] > 0 for k in ALL_AGENTS)
    assert "s of CPU in the jobs" in report and "CPU s per run" in report
    # the fixed LTR default row is exactly the named "ltr" vector evaluated on the same sessions
    assert js["final"]["ltr-default"]["gmv_per_seed"] == js["final"]["fixed-ltr"]["gmv_per_seed"]


def test_deterministic_across_runs_and_worker_counts(tmp_path):
    cfg = _tiny(agents=("dpg", "cem", "dpg-fbe"), nonstationary_agents=(), seeds=2)
    def strip(d):  # wall-clock seconds differ between runs
        return {k: {q: v for q, v in row.items() if q not in ("seconds", "cpu_seconds")} for k, row in d["final"].items()}

    a = ranking.run(cfg, progress=False)
    b = ranking.run(RankingConfig(**{**cfg.__dict__, "workers": 2}), progress=False)
    assert strip(a) == strip(b)
    assert [r["history"] for r in a["runs"] if r["kind"] == "train"] == [
        r["history"] for r in b["runs"] if r["kind"] == "train"]
    c = ranking.run(RankingConfig(**{**cfg.__dict__, "seed": 1}), progress=False)
    assert c["final"]["dpg"]["gmv_per_seed"] != a["final"]["dpg"]["gmv_per_seed"]


def test_cli_arguments():
    from simcore.experiments.base import add_arguments, config_from_args

    p = argparse.ArgumentParser()
    add_arguments(p, EXPERIMENT)
    args = p.parse_args(["--set", "seeds=2", "--set", "agents=dpg,cem", "--set", "nonstationary_agents=[]",
                         "--set", "iterations=3", "--seed", "4"])
    cfg = config_from_args(EXPERIMENT, args)
    assert cfg.seeds == 2 and cfg.agents == ("dpg", "cem") and cfg.nonstationary_agents == ()
    assert cfg.iterations == 3 and cfg.seed == 4
    long = config_from_args(EXPERIMENT, p.parse_args(["--preset", "long"]))
    assert long.seeds == 5 and long.iterations > RankingConfig().iterations
    full = config_from_args(EXPERIMENT, p.parse_args(["--preset", "full"]))
    assert {"sb3-ppo", "sb3-sac"} <= set(full.budget_agents) and full.seeds >= 5
    assert RankingConfig().seeds >= 5 and RankingConfig().budget_agents == ()
    assert EXPERIMENT.presets["long"]() == long and EXPERIMENT.config_cls is RankingConfig
    with pytest.raises(ValueError, match="seeds"):
        config_from_args(EXPERIMENT, p.parse_args(["--set", "seeds=zero"]))


def test_bad_config():
    with pytest.raises(ValueError, match="agents"):
        RankingConfig(agents=("dqn",))
    with pytest.raises(ValueError, match="seeds"):
        RankingConfig(seeds=0)
    with pytest.raises(ValueError, match="reward"):
        RankingConfig(reward="revenue")
    for kw, name in ((dict(log_noise=-1.0), "log_noise"), (dict(shaping_mode="x"), "shaping_mode"),
                     (dict(fbe_reward="x"), "fbe_reward"), (dict(early_frac=0.0), "early_frac"),
                     (dict(seed=-1), "seed"), (dict(nonstationary_agents=("dqn",)), "nonstationary_agents"),
                     (dict(budget_agents=("static-opt",)), "budget_agents"), (dict(exact_panel=0), "exact_panel"),
                     (dict(budget_iterations=0), "budget_iterations"), (dict(budget_steps=0), "budget_steps")):
        with pytest.raises(ValueError, match=name):
            RankingConfig(**kw)


def test_student_t_intervals():
    m, ci = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and ci == pytest.approx(4.302653 * 1.0 / 3**0.5)  # t_{0.975, 2}
    m, ci = mean_ci([5.0])
    assert m == 5.0 and ci != ci  # one seed: no interval
    p = paired_diff([3.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert p["diff"] == pytest.approx(7 / 3) and p["rel"] == pytest.approx((7 / 3) / 2.0)
