"""The ranking tuning probes (simcore.experiments.ranking.tune) on a tiny world."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simcore.domains.search.config import WorldConfig
from simcore.experiments.ranking import tune

TINY = dict(num_envs=8, iterations=2, steps_per_iteration=3, eval_every=1, eval_steps=2, final_eval_steps=3,
            world=WorldConfig(n_queries=4, n_items=100), exact_panel=16, segment_panel=16)
SMALL_DDPG = dict(hidden=(8, 8), batch_size=8, warmup=8, replay_capacity=200)


def test_probe_is_deterministic_and_seed_dependent():
    a = tune.probe("dpg-fbe", "train", 0, SMALL_DDPG, **TINY)
    b = tune.probe("dpg-fbe", "train", 0, SMALL_DDPG, **TINY)
    c = tune.probe("dpg-fbe", "train", 1, SMALL_DDPG, **TINY)
    assert (a["gmv"], a["exact"], a["by_segment"]) == (b["gmv"], b["exact"], b["by_segment"])
    assert (a["gmv"], a["exact"]) != (c["gmv"], c["exact"])
    assert np.isfinite(a["exact"]) and len(a["by_segment"]) == 4


def test_main_prints_one_json_line(capsys):
    small = {"num_envs": 8, "final_eval_steps": 2, "iterations": 1, "steps_per_iteration": 2, "exact_panel": 8}
    tune.main(["ltr-default", "train", "0", json.dumps(SMALL_DDPG), json.dumps(small)])
    out = json.loads(capsys.readouterr().out)
    assert out["agent"] == "ltr-default" and np.isfinite(out["gmv"])


def test_critic_check_reports_both_policies_per_segment():
    out = tune.critic_check(0, SMALL_DDPG, **TINY)
    for k in ("q_own", "q_opt", "exact_own", "exact_opt"):
        assert len(out[k]) == 4
    assert 0.0 <= out["saturated_share"] <= 1.0
    assert all(np.isfinite(v) for v in out["q_own"] + out["q_opt"] if v == v)


def test_bad_arguments():
    with pytest.raises(SystemExit):
        tune.main(["dpg-fbe"])
    with pytest.raises(ValueError, match="agent"):
        tune.probe("dqn", "train", 0, **TINY)
