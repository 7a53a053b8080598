"""The engine-cost reproduction: a tiny end-to-end run, determinism, CLI, config."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simcore import cli
from simcore.experiments import engine_cost as E
from simcore.experiments.engine_cost.evaluation import Evaluator
from simcore.runner import SeedTree

LOSSES = ("pairs", "top-k", "kl")


def _tiny(**kw) -> E.EngineCostConfig:
    base = dict(n_train=48, n_test=6, n_items=24, losses=LOSSES, thresholds=(0.05,), topk_thresholds=(0.05,),
                kl_thresholds=(0.01,), lambdas=(0.2,), learned_lambdas=(0.2,), agents=("actor-critic", "reinforce"),
                seeds=2, iterations=2, num_envs=8, users_per_request=2, budgets=(0.8,), threads=1, workers=1)
    base.update(kw)
    return E.EngineCostConfig(**base)


def _strip(results: dict) -> dict:
    """Results without timing and without the worker count (results do not depend on it)."""
    out = {k: v for k, v in results.items() if k != "meta"}
    out["config"] = {k: v for k, v in out["config"].items() if k != "workers"}
    return out


@pytest.fixture(scope="module")
def tiny_results():
    return E.run(_tiny(), progress=False)


def test_run_writes_report(tmp_path, tiny_results):
    res = tiny_results
    files = E.write_report(res, tmp_path, "simcore reproduce engine-cost --preset smoke")
    plots = {"sweep_c.png", "pareto_gmv.png", "learning.png", "context.png"}
    assert set(files) == plots | {"results.json", "report.md"}
    for f in files:
        assert (tmp_path / f).stat().st_size > 0, f
    data = json.loads((tmp_path / "results.json").read_text())
    P = data["policies"]
    for key in ("all features", "exhaustive pairs C=0.05", "actor-critic pairs C=0.05", "reinforce pairs C=0.05",
                "static greedy pairs C=0.05", "static (hindsight) pairs C=0.05", "exhaustive lambda=0.2",
                "actor-critic lambda=0.2", "static greedy budget=0.8", "actor-critic top-k C=0.05",
                "exhaustive kl C=0.01", "actor-critic kl C=0.01"):
        assert key in P, key
    assert "reinforce kl C=0.01" not in P  # sweep_agents: the actor-critic only
    assert P["all features"]["cost_saved"][0] == 0 and P["all features"]["gmv_change"][0] == 0
    for loss, C in (("pairs", 0.05), ("top-k", 0.05), ("kl", 0.01)):
        ex = P[f"exhaustive {loss} C={C:g}"]
        assert ex["violations"] == 0.0 and ex["ci"] == "requests"  # the optimum never breaks C (r_p > 1)
        for k, v in P.items():  # the exhaustive optimum is at least as good as every policy on the env return
            if v["threshold"] == C and v["loss_def"] == loss:
                assert v["reward"][0] <= ex["reward"][0] + 1e-12, k
    ac = P["actor-critic pairs C=0.05"]
    assert ac["ci"] == "seeds" and ac["n_seeds"] == 2 and len(ac["per_seed"]) == 2
    assert ac["cost_saved"][0] == pytest.approx(np.mean([s["cost_saved"] for s in ac["per_seed"]]))
    assert len(data["histories"]["actor-critic pairs C=0.05"]) == 2
    assert "learner/actor-critic pairs C=0.05/1" in data["seeds"]
    assert {"numpy", "torch"} <= set(data["meta"]["versions"])
    report = (tmp_path / "report.md").read_text()
    assert "| exhaustive pairs C=0.05 |" in report and "![pareto_gmv.png]" in report
    first = report.split("\n## ")[0]  # the report opens with the claims table
    assert first.index("| claim | source | our result (95 % CI) | verdict | conditions |") < first.index("Setting:")
    assert len(data["claims"]) == 5 and all(c["verdict"] for c in data["claims"])


def test_deterministic_across_backends_and_seed_dependent():
    small = dict(losses=("pairs",), agents=("actor-critic",), learned_lambdas=(), iterations=3)
    a = E.run(_tiny(**small), progress=False)
    b = E.run(_tiny(workers=2, **small), progress=False)  # the process backend gives the same results
    dump = lambda r: json.dumps(_strip(r), sort_keys=True, default=str)  # noqa: E731
    assert dump(a) == dump(b)
    c = E.run(_tiny(seed=1, **small), progress=False)
    assert c["policies"]["exhaustive pairs C=0.05"]["cost_saved"] != a["policies"]["exhaustive pairs C=0.05"]["cost_saved"]


def test_cli(tmp_path):
    rc = cli.main(["reproduce", "engine-cost", "--out", str(tmp_path), "--set", "iterations=1", "--set", "n_train=32",
                   "--set", "n_test=4", "--set", "n_items=20", "--set", "num_envs=8", "--set", "thresholds=0.1",
                   "--set", "seeds=1", "--set", "agents=reinforce", "--workers", "1", "--quiet"])
    assert rc == 0
    P = json.loads((tmp_path / "results.json").read_text())["policies"]
    assert "reinforce pairs C=0.1" in P and not any(k.startswith("actor-critic") for k in P)


@pytest.mark.parametrize("bad", [dict(agents=("dqn",)), dict(sweep_agents=("dqn",)), dict(thresholds=(1.5,)),
                                 dict(lambdas=(0.0,)), dict(iterations=0), dict(budgets=(2.0,)), dict(thresholds=()),
                                 dict(n_items=1), dict(penalty=-1.0), dict(top_k=0), dict(seed=-1), dict(workers=0),
                                 dict(context_strength=-0.5), dict(learned_lambdas=(-1.0,)), dict(seeds=0),
                                 dict(losses=()), dict(losses=("pairs", "pairs")), dict(losses=("ndcg",)),
                                 dict(kl_thresholds=(-0.1,)), dict(topk_thresholds=(0.1, 0.1)),
                                 dict(kl_temperature=0.0)])
def test_config_rejects(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        _tiny(**bad)


def test_presets():
    assert E.EXPERIMENT.name == "engine-cost" and E.EXPERIMENT.config_cls is E.EngineCostConfig
    default = E.EXPERIMENT.presets["default"]()
    assert default == E.EngineCostConfig()
    # the headline claim: the article's actor-critic, REINFORCE beside it, >= 3 training seeds
    assert default.headline == "pairs" and default.agents[0] == "actor-critic" and "reinforce" in default.agents
    assert default.seeds >= 3
    full = E.EXPERIMENT.presets["full"]()
    assert set(full.losses) == set(LOSSES) and full.seeds >= 5 and len(full.thresholds) > len(default.thresholds)
    smoke = E.EXPERIMENT.presets["smoke"]()
    assert smoke.iterations == 2 and set(smoke.losses) == set(LOSSES)


def test_grids_and_context_keys():
    cfg = _tiny(thresholds=(0.02, 0.05, 0.1))
    assert cfg.thresholds_of("kl") == (0.01,) and cfg.agents_of("kl") == ("actor-critic",)
    assert cfg.agents_of("pairs") == ("actor-critic", "reinforce")
    from simcore.experiments.engine_cost.run import context_keys, learner_specs

    assert context_keys(cfg)[1:3] == ["exhaustive pairs C=0.05", "actor-critic pairs C=0.05"]
    specs = learner_specs(cfg, SeedTree(0))
    assert len(specs) == 3 * 2 + 1 + 1 + 1 and all(len(s.seeds) == 2 for s in specs)
    assert len({seed for s in specs for seed in s.seeds}) == 2 * len(specs)  # every stream distinct
    assert specs[0].seeds[1] == SeedTree(0).seed("learner", specs[0].key, 1)


def test_gmv_of_all_features_is_reference():
    cfg = _tiny()
    from simcore.domains.feature_cost.data import FeatureCostDataConfig, generate
    from simcore.domains.feature_cost.kernels import feature_mean

    test = generate(FeatureCostDataConfig(n_contexts=cfg.n_test, n_items=cfg.n_items, seed=2))
    ev = Evaluator(test, feature_mean(test.X), cfg.users_per_request, SeedTree(cfg.seed).child("eval"), threads=1)
    full = ev.expected_gmv(np.ones((cfg.n_test, 12), bool))
    again = ev.expected_gmv(np.ones((cfg.n_test, 12), bool))
    np.testing.assert_array_equal(full, again)  # the same panel every time
    none = ev.expected_gmv(np.zeros((cfg.n_test, 12), bool))
    assert np.all(full > 0) and full.mean() > none.mean()
