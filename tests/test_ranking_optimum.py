"""The ranking study's hard baselines: exact policy evaluation, the per-segment static
optimum, and the equal-budget comparison with Stable-Baselines3 (when installed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.tabular.simeval import sequence_rewards
from simcore.domains.search.world import default_action_set
from simcore.experiments.ranking import run as ranking
from simcore.experiments.ranking.config import RankingConfig
from simcore.experiments.ranking.optimum import (
    SegmentWeights,
    candidates_gmv,
    exact_policy_gmv,
    optimise_segments,
    segment_of,
)

CFG = SessionConfig(world=WorldConfig(n_queries=4, n_items=120), reward="clicks", num_threads=1)


def _panel(n: int, seed: int) -> tuple[SearchSimulator, dict[str, np.ndarray]]:
    sim = SearchSimulator(CFG, num_sessions=n, seed=seed)
    sim.reset()
    return sim, {k: np.array(v, copy=True) for k, v in sim.users().items()}


def test_exact_gmv_matches_the_tabular_sequence_evaluator():
    sim, users = _panel(40, 3)
    w = np.array([[0.5, -0.2, 0.1, 0.3, 0.0, 0.2, -0.4, 0.1]], dtype=np.float32)
    ours = exact_policy_gmv(SearchSimulator(CFG, 40, world=sim.world), lambda o: np.repeat(w, len(o), 0), users)
    seq = np.zeros((1, sim.horizon), dtype=np.int64)  # the one action at every page
    ref = sequence_rewards(CFG, w, users, seq).sum(-1)[:, 0]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    old = candidates_gmv(SearchSimulator(CFG, 40, world=sim.world), w, users)
    assert old[0] == pytest.approx(ours.mean(), rel=1e-12)


def test_segment_policy_reads_the_segment_one_hot():
    sim, users = _panel(64, 5)
    obs = np.array(sim.reset_to(users), copy=True)
    np.testing.assert_array_equal(segment_of(obs, 4), users["segment"])
    W = np.arange(32, dtype=np.float32).reshape(4, 8) / 32
    np.testing.assert_array_equal(SegmentWeights(W).act(obs), W[users["segment"]])


def test_segment_optimum_is_at_least_every_included_vector_on_its_panel():
    sim, users = _panel(48, 11)
    include = np.vstack([default_action_set(8), np.random.default_rng(0).uniform(-1, 1, (3, 8))])
    res = optimise_segments(lambda n: SearchSimulator(CFG, n, world=sim.world), users, 4, include,
                            np.random.default_rng(1), n_candidates=12, iterations=3)
    seg = users["segment"]
    for g in range(4):
        if np.any(seg == g):
            assert np.all(res["segment_gmv"][g] >= res["included_gmv"][g] - 1e-9)
    # the policy's exact GMV on the whole panel is at least that of every included fixed vector
    mk = SearchSimulator(CFG, len(seg), world=sim.world)
    pol = SegmentWeights(res["weights"])
    total = exact_policy_gmv(mk, lambda o: pol.act(o), users).mean()
    fixed = candidates_gmv(SearchSimulator(CFG, len(seg) * len(include), world=sim.world), include, users)
    assert total >= fixed.max() - 1e-9
    assert total == pytest.approx(float(np.sum(res["segment_gmv"] * res["share"])), rel=1e-9)


def test_non_negative_segment_optimum_stays_in_its_class_and_beats_its_clipped_includes():
    sim, users = _panel(48, 11)
    include = np.vstack([default_action_set(8), np.random.default_rng(0).uniform(-1, 1, (3, 8))])
    res = optimise_segments(lambda n: SearchSimulator(CFG, n, world=sim.world), users, 4, include,
                            np.random.default_rng(1), n_candidates=12, iterations=3, low=0.0)
    assert np.all(res["weights"] >= 0) and np.all(res["weights"] <= 1)
    clipped = np.clip(include, 0, 1)
    seg = users["segment"]
    for g in range(4):
        if np.any(seg == g):
            sub = {k: np.asarray(v)[seg == g] for k, v in users.items()}
            fixed = candidates_gmv(SearchSimulator(CFG, int(np.sum(seg == g)) * len(clipped), world=sim.world),
                                   clipped, sub)
            assert res["segment_gmv"][g] >= fixed.max() - 1e-9
    # low=-1 (the default) leaves the unconstrained optimum unchanged
    a = optimise_segments(lambda n: SearchSimulator(CFG, n, world=sim.world), users, 4, include,
                          np.random.default_rng(1), n_candidates=12, iterations=3)
    b = optimise_segments(lambda n: SearchSimulator(CFG, n, world=sim.world), users, 4, include,
                          np.random.default_rng(1), n_candidates=12, iterations=3, low=-1.0)
    np.testing.assert_array_equal(a["weights"], b["weights"])
    assert np.any(a["weights"] < 0)


def test_package_does_not_import_sb3():
    code = ("import sys, simcore, simcore.experiments.ranking, simcore.experiments.ranking.sb3, "
            "simcore.experiments.ranking.run; assert 'stable_baselines3' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_budget_comparison_structure():
    pytest.importorskip("stable_baselines3")
    cfg = RankingConfig(seeds=2, agents=("segment-opt",), num_envs=8, iterations=1, steps_per_iteration=4,
                        eval_every=1, eval_steps=2, final_eval_steps=3, log_steps=4, nonstationary_agents=(),
                        world=WorldConfig(n_queries=4, n_items=100), exact_panel=16, segment_panel=16,
                        ddpg=dict(hidden=(8, 8), batch_size=8, warmup=8), budget_ddpg=dict(updates_per_batch=2),
                        budget_agents=("dpg-fbe", "sb3-ppo"), budget_iterations=1, budget_steps=4, workers=1)
    data = ranking.run(cfg, progress=False)
    b = data["comparisons"]["budget"]
    assert b["pages"] == 32 and set(b["final"]) == {"dpg-fbe", "sb3-ppo"}
    assert set(b["vs"]["dpg-fbe"]) == {"sb3-ppo", "segment-opt"}
    assert len(b["final"]["sb3-ppo"]["exact_gmv_per_seed"]) == 2


def test_budget_agents_consume_exactly_the_real_pages_sb3_does():
    """Equal budget in real pages: a simcore budget agent's run consumes exactly
    ``budget_pages`` non-autoreset pages (the old accounting, slot-steps of the vector
    env, gave it fewer), as many as SB3 PPO's single env (2,048 = one PPO rollout)."""
    pytest.importorskip("stable_baselines3")
    cfg = RankingConfig(seeds=1, agents=(), num_envs=16, iterations=1, steps_per_iteration=4, eval_every=1,
                        eval_steps=2, final_eval_steps=3, nonstationary_agents=(),
                        world=WorldConfig(n_queries=4, n_items=100), exact_panel=16,
                        budget_agents=("segment-pg", "sb3-ppo"), budget_iterations=2, budget_steps=64, workers=1)
    assert cfg.budget_pages == 2048
    data = ranking.run(cfg, progress=False)
    runs = {r["agent"]: r for r in data["runs"] if r["kind"] == "budget"}
    spg, ppo = runs["segment-pg"], runs["sb3-ppo"]
    assert spg["pages"] == ppo["pages"] == cfg.budget_pages
    assert sum(h["pages"] for h in spg["history"]) == cfg.budget_pages
    assert sum(h["env_steps"] for h in spg["history"]) > cfg.budget_pages  # autoreset rows were not counted
    rows = data["comparisons"]["budget"]["final"]
    assert rows["segment-pg"]["pages_per_seed"] == rows["sb3-ppo"]["pages_per_seed"] == [2048]
    from simcore.experiments.ranking.report import _optimum_section

    text = "\n".join(_optimum_section(cfg, data))
    assert "| 2,048 |" in text


def test_tabular_optimum_is_at_least_every_constant_sequence_and_replays_exactly():
    from simcore.experiments.ranking.optimum import SequenceWeights, tabular_optimum

    sim, users = _panel(32, 2)
    acts = default_action_set(8)
    res = tabular_optimum(CFG, acts, users, seed=4, memory=1, n_sessions=256)
    assert res["paths"].shape == (4, sim.horizon)
    seg = users["segment"]
    present = [g for g in range(4) if np.any(seg == g)]
    for g in present:  # the chosen sequence is the better of the DP's and the best constant one
        assert max(res["dp_gmv"][g], res["constant_gmv"][g]) >= res["constant_gmv"][g]
    pol = SequenceWeights(acts, res["paths"])
    total = exact_policy_gmv(SearchSimulator(CFG, len(seg), world=sim.world), lambda o: pol.act(o), users)
    fixed = candidates_gmv(SearchSimulator(CFG, len(seg) * len(acts), world=sim.world), acts.astype(float), users)
    assert total.mean() >= fixed.max() - 1e-9
    best = np.maximum(res["dp_gmv"], res["constant_gmv"])
    for g in present:  # replaying the sequences through the agent gives the solver's exact values
        assert total[seg == g].mean() == pytest.approx(best[g], rel=1e-9)
