"""The C++ search-session simulator: reference equality, SSMDP invariants, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.reference import ReferenceSessionBatch
from simcore.domains.search.simulator import SearchSimulator

FIELDS = ("obs", "reward", "terminated", "truncated", "outcome", "item", "price", "page",
          "clicks", "b", "l", "c", "m", "expected_clicks")


def _assert_step_equal(got, want, where):
    for k in FIELDS:
        a, b = getattr(got, k), want[k]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{where}: {k}")
        else:
            np.testing.assert_array_equal(a, b, err_msg=f"{where}: {k}")


@pytest.mark.parametrize("reward", ["gmv", "clicks"])
@pytest.mark.parametrize("window", [1, 4])
def test_matches_numpy_reference(small_config, reward, window):
    from dataclasses import replace

    cfg = replace(small_config, reward=reward,
                  user=UserModelConfig(window=window, click_intent=0.3, click_retention=0.2,
                                          price_aversion=1.5, saturation=0.6))
    B = 48
    sim, ref = SearchSimulator(cfg, B, seed=7), ReferenceSessionBatch(cfg, B, seed=7)
    np.testing.assert_array_equal(sim.reset(), ref.reset())
    rng = np.random.default_rng(1)
    for t in range(30):  # several episodes per slot, autoresets included
        A = rng.normal(size=(B, 8)).astype(np.float32)
        if t % 5 == 0:
            A[: B // 2] = A[0]  # identical actions on many sessions
        peek = sim.peek(A)
        rpeek = ref.peek(A)
        np.testing.assert_array_equal(peek.page, rpeek["page"])
        np.testing.assert_allclose(peek.b, rpeek["b"], rtol=1e-9, atol=1e-12)
        _assert_step_equal(sim.step(A), ref.step(A), f"step {t}")


def test_expectation_mode_matches_reference(small_config):
    B = 16
    sim, ref = SearchSimulator(small_config, B, seed=3), ReferenceSessionBatch(small_config, B, seed=3)
    sim.reset(), ref.reset()
    A = np.tile(np.linspace(-1, 1, 8, dtype=np.float32), (B, 1))
    for t in range(sim.horizon):
        _assert_step_equal(sim.step(A, sample=False), ref.step(A, sample=False), f"step {t}")


def test_pages_disjoint_and_candidates_shrink(small_config):
    B = 32
    sim = SearchSimulator(small_config, B, seed=1)
    sim.reset()
    rng = np.random.default_rng(0)
    seen = [set() for _ in range(B)]
    N, K = small_config.world.n_items, small_config.page_size
    for t in range(sim.horizon):
        r = sim.step(rng.normal(size=(B, 8)).astype(np.float32), sample=False)
        for i in range(B):
            page = r.page[i][r.page[i] >= 0]
            expected = min(K, N - len(seen[i]))
            assert page.size == expected  # D shrinks by exactly one page
            assert not seen[i] & set(page.tolist())  # pages are disjoint
            seen[i] |= set(page.tolist())
        assert (sim.steps_taken() == t + 1).all()
    assert all(len(s) == N for s in seen)  # the horizon ceil(N/K) = 6 shows every item
    assert r.truncated.all() and not r.terminated.any()


def test_page_is_topk_of_unseen_items(small_config):
    from simcore import kernels

    sim = SearchSimulator(small_config, 1, seed=4)
    sim.reset()
    q = int(sim.users()["query"][0])
    X = sim.world.features[q]
    shown = np.zeros(X.shape[0], bool)
    rng = np.random.default_rng(2)
    for _ in range(4):
        a = rng.normal(size=(1, 8)).astype(np.float32)
        r = sim.step(a, sample=False)
        np.testing.assert_array_equal(r.page[0], kernels.topk(X, a[0], 10, shown))
        shown[r.page[0]] = True


def test_probabilities_valid(small_config):
    B = 256
    sim = SearchSimulator(small_config, B, seed=9)
    sim.reset()
    rng = np.random.default_rng(0)
    for _ in range(20):
        r = sim.step(rng.normal(size=(B, 8)).astype(np.float32))
        stepped = r.outcome >= 0
        for p in (r.b, r.l, r.c):
            assert ((p >= 0) & (p <= 1)).all()
        np.testing.assert_allclose((r.b + r.l + r.c)[stepped], 1.0, rtol=1e-12)
        assert (r.m[stepped] > 0).all()
        assert (r.reward[r.outcome == 1] == r.price[r.outcome == 1]).all()
        assert (r.reward[r.outcome != 1] == 0).all()
        np.testing.assert_array_equal(r.terminated, r.outcome > 0)


def test_monte_carlo_matches_exact_probabilities():
    """Many sessions with the same user and actions: outcome frequencies vs exact b, l, c,
    and mean purchase price vs m."""
    # a user who both buys and leaves often enough to measure (the calibrated default
    # population holds many one-page visitors)
    cfg = SessionConfig(world=WorldConfig(n_queries=1, n_items=100), max_steps=3,
                        user=UserModelConfig(leave_bias=-1.0, patience_noise=0.5))
    B = 40_000
    sim = SearchSimulator(cfg, B, seed=11)
    probe = SearchSimulator(cfg, 1, seed=0)
    probe.reset()
    users = {k: np.repeat(v, B, axis=0) for k, v in probe.users().items()}
    sim.reset_to(users)
    A = np.tile(np.array([0.2, 0.5, 0.1, 0.6, 0, 0, 0, 0], np.float32), (B, 1))
    r = sim.step(A)
    b, l = r.b[0], r.l[0]
    assert np.allclose(r.b, b) and np.allclose(r.l, l)  # identical histories
    for p, freq in ((b, np.mean(r.outcome == 1)), (l, np.mean(r.outcome == 2))):
        se = np.sqrt(p * (1 - p) / B)
        assert abs(freq - p) < 5 * se, (freq, p)
    prices = r.price[r.outcome == 1]
    assert abs(prices.mean() - r.m[0]) < 5 * prices.std() / np.sqrt(prices.size)
    clicks = r.clicks.sum(axis=1)
    assert abs(clicks.mean() - r.expected_clicks[0]) < 5 * clicks.std() / np.sqrt(B)


def test_peek_predicts_step_without_changing_state(small_config):
    B = 20
    sim = SearchSimulator(small_config, B, seed=2)
    sim.reset()
    rng = np.random.default_rng(5)
    a1 = rng.normal(size=(B, 8)).astype(np.float32)
    first = {k: getattr(sim.peek(a1), k).copy() for k in ("page", "b", "l", "c", "m")}
    sim.peek(rng.normal(size=(B, 8)).astype(np.float32))  # another peek changes nothing
    r = sim.step(a1, sample=False)
    for k, v in first.items():
        np.testing.assert_array_equal(getattr(r, k), v)


def _trajectory(cfg, seed, threads, B=900, steps=25):
    # B large enough that 2, 3 and 7 threads really split the batch (>= 128 sessions each)
    from dataclasses import replace

    sim = SearchSimulator(replace(cfg, num_threads=threads), B, seed=seed)
    out = [sim.reset().copy()]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        r = sim.step(rng.normal(size=(B, 8)).astype(np.float32))
        out += [r.obs.copy(), r.reward.copy(), r.outcome.copy(), r.page.copy(), r.clicks.copy()]
    return out


def test_deterministic_across_thread_counts(small_config):
    base = _trajectory(small_config, 5, 1)
    for threads in (2, 3, 7):
        for a, b in zip(base, _trajectory(small_config, 5, threads)):
            assert np.array_equal(a, b)  # bit-identical


def test_different_seeds_differ(small_config):
    a, b = _trajectory(small_config, 5, 2), _trajectory(small_config, 6, 2)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))


def test_reseed_replays(small_config):
    sim = SearchSimulator(small_config, 8, seed=0)
    sim.seed(42)
    o1 = sim.reset().copy()
    r1 = sim.step(np.ones((8, 8))).reward.copy()
    sim.seed(42)
    assert np.array_equal(sim.reset(), o1)
    assert np.array_equal(sim.step(np.ones((8, 8))).reward, r1)


def test_next_step_autoreset(small_config):
    B = 16
    sim = SearchSimulator(small_config, B, seed=3)
    sim.reset()
    A = np.ones((B, 8), np.float32)
    ended = np.zeros(B, bool)
    for _ in range(sim.horizon + 2):
        r = sim.step(A)
        # a slot that ended on the previous step is reset now: no page, no reward
        assert (r.outcome[ended] == -1).all()
        assert (r.reward[ended] == 0).all() and (r.page[ended] == -1).all()
        assert not (r.terminated[ended] | r.truncated[ended]).any()
        ended = r.terminated | r.truncated


def test_obs_layout(small_config):
    sim = SearchSimulator(small_config, 4, seed=0)
    obs = sim.reset()
    m, W, G = 8, 4, 4
    assert obs.shape == (4, W * m + m + 1 + G + 1)
    assert (obs[:, : W * m + m] == 0).all()  # nothing seen yet
    users = sim.users()
    np.testing.assert_allclose(obs[:, W * m + m], users["power"], rtol=1e-6)
    np.testing.assert_array_equal(obs[:, W * m + m + 1 : -1].argmax(1), users["segment"])
    r = sim.step(np.ones((4, 8)), sample=False)
    q = users["query"]
    want = np.stack([sim.world.features[q[i], r.page[i]].mean(0) for i in range(4)])
    np.testing.assert_allclose(r.obs[:, :m], want, rtol=1e-5)
    assert ((r.obs >= 0) & (r.obs <= 1)).all()
    np.testing.assert_allclose(r.obs[:, -1], 1 / sim.horizon, rtol=1e-6)


def test_ranking_has_delayed_effects(small_config):
    """What is shown now changes later conversion/abandonment: same second action,
    different first action => different b and l on page 2."""
    sim = SearchSimulator(small_config, 2, seed=0)
    probe = SearchSimulator(small_config, 1, seed=1)
    probe.reset()
    sim.reset_to({k: np.repeat(v, 2, axis=0) for k, v in probe.users().items()})
    first = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [-1, 0, 0, 0, 0, 0, 0, 0]], np.float32)
    sim.step(first, sample=False)
    r = sim.step(np.zeros((2, 8), np.float32) + np.float32([0, 1, 0, 0, 0, 0, 0, 0]), sample=False)
    assert r.b[0] != r.b[1] and r.l[0] != r.l[1]


def test_seed_slots_matches_reference(small_config):
    B = 12
    seeds = [3, 3, 0, 2**64 - 1, 17, 3, 5, 6, 7, 8, 9, 2**63]
    sim, ref = SearchSimulator(small_config, B), ReferenceSessionBatch(small_config, B)
    sim.seed_slots(seeds), ref.seed_slots(seeds)
    np.testing.assert_array_equal(sim.reset(), ref.reset())
    rng = np.random.default_rng(2)
    for t in range(25):  # several episodes per slot, autoresets included
        A = rng.normal(size=(B, 8)).astype(np.float32)
        _assert_step_equal(sim.step(A), ref.step(A), f"step {t}")


def test_seed_slots_slot_equals_one_session_simulator(small_config):
    seeds = [5, 5, 5, 9]
    sim = SearchSimulator(small_config, 4)
    sim.seed_slots(seeds)
    ones = [SearchSimulator(small_config, 1, seed=s) for s in seeds]
    np.testing.assert_array_equal(sim.reset(), np.concatenate([o.reset() for o in ones]))
    a = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    for t in range(20):  # identical actions in every slot
        r = sim.step(np.tile(a[t], (4, 1)))
        rows = [o.step(a[t][None]) for o in ones]
        for k in FIELDS:
            np.testing.assert_array_equal(getattr(r, k), np.concatenate([getattr(x, k) for x in rows]),
                                          err_msg=f"step {t}: {k}")
        assert np.array_equal(r.obs[0], r.obs[1]) and np.array_equal(r.obs[0], r.obs[2])
    assert not np.array_equal(sim.users()["prefs"][0], sim.users()["prefs"][3])


def test_seed_slots_deterministic_across_thread_counts(small_config):
    from dataclasses import replace

    def run(threads):
        sim = SearchSimulator(replace(small_config, num_threads=threads), 300)
        sim.seed_slots(list(range(1000, 1300)))
        out = [sim.reset().copy()]
        rng = np.random.default_rng(0)
        for _ in range(10):
            r = sim.step(rng.normal(size=(300, 8)).astype(np.float32))
            out += [r.obs.copy(), r.outcome.copy(), r.page.copy()]
        return out

    assert all(np.array_equal(x, y) for x, y in zip(run(1), run(2)))


@pytest.mark.parametrize("intent,retention", [(0.4, 0.0), (0.0, 0.4)])
def test_engagement_is_a_delayed_effect(small_config, intent, retention):
    """click_intent / click_retention act through the expected clicks of the *earlier*
    pages only: page 1 is unchanged, page 2 moves in the documented direction."""
    from dataclasses import replace

    base = SearchSimulator(small_config, 4, seed=5)
    eng = SearchSimulator(replace(small_config, user=replace(
        small_config.user, click_intent=intent, click_retention=retention)), 4, seed=5)
    base.reset(), eng.reset()
    A = np.tile(np.float32([0, 1, 1, 1, 0, 0, 0, 0]), (4, 1))
    r0, r1 = base.step(A, sample=False), eng.step(A, sample=False)
    np.testing.assert_array_equal(r0.b, r1.b)  # nothing remembered yet
    np.testing.assert_array_equal(r0.l, r1.l)
    # E = delta * expected clicks of page 1 (> 0); utilities shift by intent * E / -retention * E
    # (copied: step results are views of buffers the next step overwrites)
    E = small_config.user.recency * r0.expected_clicks.copy()
    s0, s1 = base.step(A, sample=False), eng.step(A, sample=False)
    assert (E > 0).all()
    if intent:
        np.testing.assert_allclose(np.log(s1.b / s1.c) - np.log(s0.b / s0.c), intent * E, rtol=1e-9)
    else:
        np.testing.assert_allclose(np.log(s0.l / s0.c) - np.log(s1.l / s1.c), retention * E, rtol=1e-9)
