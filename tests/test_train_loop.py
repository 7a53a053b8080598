"""The training loop: autoreset handling, transition contents vs the simulator,
determinism, exact checkpoint resume, schedules, evaluation, concurrent checkpoint
saves, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import simcore  # noqa: F401  (registers the envs)
from simcore.algos.cem import CEMWeights
from simcore.algos.ddpg import DDPG, DDPGConfig
from simcore.algos.dpg import DPGConfig, LinearDPG
from simcore.algos.fixed import FixedWeights
from simcore.algos.random_weights import RandomWeights
from simcore.domains.search.agents.fbe import dpg_fbe
from simcore.domains.search.agents.fusion import LTRFusion, LTRFusionConfig
from simcore.domains.search.agents.shaping import PotentialShaping
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.training import make_transition, search_collector
from simcore.train.checkpoint import load_checkpoint, save_checkpoint
from simcore.train.loop import LoopConfig, collect, evaluate, train

torch.set_num_threads(1)

TINY = WorldConfig(n_queries=4, n_items=100)


def _env(B=16, **user):
    cfg = SessionConfig(world=TINY, user=UserModelConfig(**user), reward="clicks", num_threads=1)
    return gym.make_vec("simcore/SearchSession-v0", num_envs=B, config=cfg)


def _agents(env):
    D, m = env.sim.obs_dim, env.sim.num_features
    small = dict(hidden=(16, 16), batch_size=16, warmup=32, replay_capacity=200)
    return {
        "dpg": lambda: LinearDPG(D, m, DPGConfig(seed=1), shaping=PotentialShaping("article")),
        "ddpg": lambda: DDPG(D, m, DDPGConfig(**small, seed=1), actor_term=LTRFusion(LTRFusionConfig(weight=0.3))),
        "fbe": lambda: dpg_fbe(D, m, DDPGConfig(**small, seed=1)),
        "cem": lambda: CEMWeights(m),
        "random": lambda: RandomWeights(m, seed=4),
    }


def test_transitions_drop_autoreset_rows_and_match_simulator():
    env = _env(B=24)
    sim = env.sim
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    seen_reset = 0
    pending_reset = np.zeros(24, bool)  # the step-wise collector's NEXT_STEP rule
    for _ in range(25):
        a = rng.uniform(-1, 1, (24, 8)).astype(np.float32)
        peek = sim.peek(a)
        pb, pc, pm, ppage = peek.b.copy(), peek.c.copy(), peek.m.copy(), peek.page.copy()
        nobs, r, term, trunc, info = env.step(a)
        full = make_transition(sim, obs, a, r, nobs, term, trunc, info)
        valid = info["outcome"] != -1
        np.testing.assert_array_equal(valid, ~pending_reset)
        pending_reset = term | trunc
        t = full.select(valid)
        seen_reset += int((~valid).sum())
        assert len(t) == valid.sum()
        np.testing.assert_array_equal(t.slot, np.flatnonzero(valid))
        np.testing.assert_array_equal(t.obs, obs[valid])
        np.testing.assert_array_equal(t.action, a[valid])
        # exact b, c, m of the shown page equal what peek predicted from the same state
        np.testing.assert_allclose(t.b, pb[valid])
        np.testing.assert_allclose(t.c, pc[valid])
        np.testing.assert_allclose(t.m, pm[valid])
        np.testing.assert_array_equal(info["page"][valid], ppage[valid])
        q = sim.users()["query"][valid]
        page = info["page"][valid]
        for i in range(len(t)):
            for k in range(page.shape[1]):
                if page[i, k] >= 0:
                    np.testing.assert_array_equal(t.page_features[i, k], sim.world.features[q[i], page[i, k]])
                    assert t.item_prices[i, k] == sim.world.prices[q[i], page[i, k]]
                else:
                    assert not t.page_mask[i, k] and not t.clicks[i, k]
        bought = t.outcome == 1
        assert np.all(t.purchased.sum(axis=1) <= 1)
        assert not t.purchased[~bought].any()
        np.testing.assert_array_equal(t.price > 0, bought)
        assert np.all((t.terminated | t.truncated)[t.last_page])
        obs = nobs
    assert seen_reset > 0  # the autoreset path was exercised


@pytest.mark.parametrize("name", ["dpg", "ddpg", "fbe", "cem", "random"])
def test_resume_is_bit_identical(tmp_path, name):
    env = _env()
    make = _agents(env)[name]
    full_cfg = LoopConfig(iterations=4, seed=11, eval_every=2, eval_steps=4)
    a = make()
    h_full = train(a, search_collector(env, 6), full_cfg)
    ckpt = tmp_path / "ck.pt"
    b = make()
    train(b, search_collector(env, 6), LoopConfig(iterations=2, seed=11, eval_every=2, eval_steps=4,
                                                  checkpoint_path=str(ckpt)))
    # a fresh agent (different seed state) resumes from the checkpoint; a new env too
    c = make()
    env2 = _env()
    h_res = train(c, search_collector(env2, 6), full_cfg, resume_from=ckpt)
    assert h_res == h_full
    sa, sc = a.state_dict(), c.state_dict()
    _assert_state_equal(sa, sc)


def _assert_state_equal(x, y):
    if isinstance(x, torch.Tensor):
        assert torch.equal(x, y)
    elif isinstance(x, dict):
        assert x.keys() == y.keys()
        for k in x:
            _assert_state_equal(x[k], y[k])
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y)
        for p, q in zip(x, y):
            _assert_state_equal(p, q)
    else:
        assert x == y


def test_same_seed_same_history_different_seed_differs():
    env = _env()
    mk = _agents(env)["dpg"]
    col = search_collector(env, 8)
    cfg = LoopConfig(iterations=2, seed=5)
    h1, h2 = train(mk(), col, cfg), train(mk(), col, cfg)
    assert h1 == h2
    h3 = train(mk(), col, LoopConfig(iterations=2, seed=6))
    assert h3 != h1


def test_records_and_metrics():
    env = _env()
    agent = LinearDPG(env.sim.obs_dim, 8)
    h = train(agent, search_collector(env, 10), LoopConfig(iterations=3, eval_every=2, eval_steps=5))
    assert [r["iteration"] for r in h] == [0, 1, 2]
    r = h[-1]
    for k in ("gmv_per_session", "ctr", "sessions", "rneu", "neu", "td_error", "mean_action",
              "eval_gmv_per_session", "eval_ctr"):
        assert k in r, k
    assert "eval_ctr" in h[1] and "eval_ctr" not in h[0]
    assert 0 <= r["ctr"] <= 1 and r["env_steps"] == 10 * 16
    assert len(r["mean_action"]) == 8 and len(r["mean_action_by_segment"]) == 4


def test_evaluate_and_collect_do_not_change_the_agent():
    env = _env()
    agent = LinearDPG(env.sim.obs_dim, 8)
    before = agent.state_dict()
    col = search_collector(env, 10)
    e1 = evaluate(agent, col, 6, seed=3)
    e2 = evaluate(agent, col, 6, seed=3)
    assert e1 == e2
    _assert_state_equal(before, agent.state_dict())
    logs, rec = collect(FixedWeights(np.full(8, 0.1)), col, 5, seed=2)
    assert len(logs) == rec["pages"] and logs.obs.shape[1] == env.sim.obs_dim
    assert rec["env_steps"] == 5 * 16 and e1["env_steps"] == 6 * 16


def test_schedule_switches_env():
    env_a, env_b = _env(), _env(buy_bias=-1.0)
    used = []
    agent = FixedWeights(np.full(8, 0.1))

    col_a, col_b = search_collector(env_a, 6), search_collector(env_b, 6)

    def schedule(it):
        used.append(it)
        return col_a if it < 2 else col_b

    h = train(agent, schedule, LoopConfig(iterations=4))
    assert sorted(set(used)) == [0, 1, 2, 3]
    assert np.mean([r["conversion"] for r in h[2:]]) > np.mean([r["conversion"] for r in h[:2]])


def test_checkpoint_errors(tmp_path):
    env = _env()
    agent = LinearDPG(env.sim.obs_dim, 8)
    p = tmp_path / "c.pt"
    save_checkpoint(p, agent, 1, [{"iteration": 0, "x": np.float64(1.5)}])
    assert load_checkpoint(p)["history"][0]["x"] == 1.5
    with pytest.raises(ValueError, match="checkpoint is for agent"):
        train(CEMWeights(8), search_collector(env, 2), LoopConfig(iterations=2), resume_from=p)
    torch.save({"foo": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a simcore training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_bad_input():
    with pytest.raises(ValueError, match="iterations"):
        LoopConfig(iterations=0)
    with pytest.raises(ValueError, match="eval_every"):
        LoopConfig(eval_every=-1)
    with pytest.raises(TypeError, match="env"):
        search_collector(gym.make("CartPole-v1"), 1)
    with pytest.raises(TypeError, match="collector"):
        train(FixedWeights(np.zeros(8)), _env(), LoopConfig(iterations=1))
    with pytest.raises(ValueError, match="steps"):
        search_collector(_env(), 0)


def _save_and_load(path: str, worker: int, rounds: int) -> list[int]:
    """Saves ``rounds`` checkpoints to ``path`` and loads it after each; returns the
    iterations read (every load must be a complete checkpoint)."""
    agent = FixedWeights(np.full(64, float(worker)))
    history = [{"iteration": i, "x": float(worker)} for i in range(50)]
    seen = []
    for r in range(rounds):
        save_checkpoint(path, agent, r, history)
        ck = load_checkpoint(path)
        assert len(ck["history"]) == 50 and ck["agent"]["weights"].shape == (64,)
        seen.append(int(ck["iteration"]))
    return seen


def test_concurrent_checkpoint_saves(tmp_path):
    import multiprocessing as mp

    path = str(tmp_path / "shared.pt")
    stale = tmp_path / ".shared.pt.tmp.999999999.x"  # left by a dead saver (no such pid)
    stale.write_bytes(b"partial")
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_save_and_load, [(path, w, 30) for w in range(2)])
    assert all(len(r) == 30 for r in results)
    assert load_checkpoint(path)["iteration"] == 29
    assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["shared.pt"]


def test_page_budget_counts_real_pages_exactly():
    """With ``pages``, an iteration stops at exactly that many real (non-autoreset) rows,
    the learner sees exactly those, while slot-steps (autoreset rows included) exceed it."""
    env = _env(B=16)
    budget = 16 * 40  # 40 steps' worth of slots; sessions end and autoreset meanwhile
    seen: list[int] = []

    class Counting(FixedWeights):
        def update(self, batch):
            seen.append(len(batch))
            return {}

    agent = Counting(np.zeros(8), name="fixed")
    h = train(agent, search_collector(env, 40, pages=budget), LoopConfig(iterations=2, eval_every=1, eval_steps=5))
    for r in h:
        assert r["pages"] == budget and r["env_steps"] > budget  # the old count (slot-steps) overstates
    assert sum(seen) == 2 * budget
    ev = evaluate(agent, search_collector(env, 40, pages=budget), 5, seed=1)  # explicit steps win
    assert ev["env_steps"] == 5 * 16
    fixed = search_collector(env, 40).run(agent, 3, learn=False)  # no budget: 40 steps of slots
    assert fixed["env_steps"] == budget and fixed["pages"] < budget
    with pytest.raises(ValueError, match="pages"):
        search_collector(env, 4, pages=0)
