"""The engine-cost reproduction: a tiny end-to-end run, determinism, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simcore import cli
from simcore.experiments import engine_cost as E
from simcore.experiments.engine_cost.evaluation import Evaluator
from simcore.runner import SeedTree


def _tiny(**kw) -> E.EngineCostConfig:
    base = dict(n_train=48, n_test=6, n_items=24, thresholds=(0.05,), lambdas=(0.2,), learned_lambdas=(0.2,),
                agents=("actor-critic", "reinforce"), iterations=2, num_envs=8, users_per_request=2,
                budgets=(0.8,), threads=1, workers=1)
    base.update(kw)
    return E.EngineCostConfig(**base)


def _strip(results: dict) -> dict:
    """Results without timing and without the worker count (results do not depend on it)."""
    out = {k: v for k, v in results.items() if k != "meta"}
    out["config"] = {k: v for k, v in out["config"].items() if k != "workers"}
    return out


def test_run_writes_report(tmp_path):
    res = E.run(_tiny(), progress=False)
    assert not any(tmp_path.iterdir())
    files = E.write_report(res, tmp_path, "simcore reproduce engine-cost --preset smoke")
    assert set(files) == {"results.json", "report.md", "pareto_loss.png", "pareto_gmv.png", "learning.png",
                          "context.png"}
    for f in ("results.json", "report.md", "pareto_loss.png", "pareto_gmv.png", "learning.png", "context.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    data = json.loads((tmp_path / "results.json").read_text())
    P = data["policies"]
    for key in ("all features", "exhaustive C=0.05", "actor-critic C=0.05", "reinforce C=0.05",
                "static greedy C=0.05", "static (hindsight) C=0.05", "exhaustive lambda=0.2",
                "actor-critic lambda=0.2", "static greedy budget=0.8"):
        assert key in P, key
    assert P["all features"]["cost_saved"][0] == 0 and P["all features"]["gmv_change"][0] == 0
    ex = P["exhaustive C=0.05"]
    assert ex["violations"] == 0.0  # the per-request optimum never breaks C (r_p > 1)
    # the exhaustive optimum is at least as good as every other policy on the env return
    for k, v in P.items():
        if v["threshold"] == 0.05:
            assert v["reward"][0] <= ex["reward"][0] + 1e-12, k
    assert res["meta"]["wall_seconds"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "| exhaustive C=0.05 |" in report and "![pareto_loss.png]" in report
    # the report opens with the claims table
    first = report.split("\n## ")[0]
    assert "| claim | source | our result (95 % CI) | verdict | conditions |" in first
    assert len(data["claims"]) == 4 and all(c["verdict"] for c in data["claims"])


def test_deterministic_and_seed_dependent():
    a = E.run(_tiny(), progress=False)
    b = E.run(_tiny(workers=2), progress=False)  # the process backend gives the same results
    assert json.dumps(_strip(a), sort_keys=True, default=str) == json.dumps(_strip(b), sort_keys=True, default=str)
    c = E.run(_tiny(seed=1), progress=False)
    assert c["policies"]["exhaustive C=0.05"]["cost_saved"] != a["policies"]["exhaustive C=0.05"]["cost_saved"]


def test_cli(tmp_path):
    rc = cli.main(["reproduce", "engine-cost", "--out", str(tmp_path), "--set", "iterations=1", "--set", "n_train=32",
                   "--set", "n_test=4", "--set", "n_items=20", "--set", "num_envs=8", "--set", "thresholds=0.1",
                   "--set", "learned_lambdas=[]", "--set", "agents=reinforce", "--workers", "1", "--quiet"])
    assert rc == 0
    P = json.loads((tmp_path / "results.json").read_text())["policies"]
    assert "reinforce C=0.1" in P and not any(k.startswith("actor-critic") for k in P)


@pytest.mark.parametrize("bad", [dict(agents=("dqn",)), dict(thresholds=(1.5,)), dict(lambdas=(0.0,)),
                                 dict(iterations=0), dict(budgets=(2.0,)), dict(thresholds=()), dict(n_items=1),
                                 dict(penalty=-1.0), dict(top_k=0), dict(seed=-1), dict(workers=0),
                                 dict(context_strength=-0.5), dict(learned_lambdas=(-1.0,))])
def test_config_rejects(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        _tiny(**bad)


def test_experiment_entry():
    assert E.EXPERIMENT.name == "engine-cost" and E.EXPERIMENT.config_cls is E.EngineCostConfig
    assert E.EXPERIMENT.presets["default"]() == E.EngineCostConfig()
    assert E.EXPERIMENT.presets["smoke"]().iterations == 2


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
