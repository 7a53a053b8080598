"""The tiered-traffic simulator: C++ against its NumPy twin, tier and control shares
against NumPy counts, the reward decomposition, determinism, bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcore.domains.search.config import SessionConfig, WorldConfig
from simcore.domains.traffic.config import TierWorldConfig, TrafficConfig, TrafficRewardConfig
from simcore.domains.traffic.reference import ReferenceTrafficBatch
from simcore.domains.traffic.simulator import TrafficSimulator, core_arguments
from simcore.domains.traffic.world import make_traffic_world
from simcore.kernels.reference import scores


def small(n_tiers: int = 3, q: int = 4, n: int = 60, k: int = 10, steps: int = 8, m: int = 8,
          **kw: object) -> TrafficConfig:
    t = TierWorldConfig(n_tiers=n_tiers, share=(0.3,) * n_tiers, price_coef=(1.0,) * n_tiers,
                        quality_coef=(0.5,) * n_tiers, sales_coef=(-0.5,) * n_tiers,
                        like_prob=(0.3,) * n_tiers, dislike_prob=(0.2,) * n_tiers)
    s = SessionConfig(world=WorldConfig(n_queries=q, n_items=n, n_features=m), page_size=k, max_steps=steps)
    return TrafficConfig(session=s, tiers=t, **kw)  # type: ignore[arg-type]


def assert_step_equal(x, y: dict, where: str) -> None:
    for key, v in vars(x).items():
        if v.dtype.kind == "f":
            np.testing.assert_allclose(v, y[key], rtol=1e-9, atol=1e-12, err_msg=f"{where}: {key}")
        else:
            assert np.array_equal(v, y[key]), f"{where}: {key}"


def run_both(cfg: TrafficConfig, B: int, actions: list[np.ndarray], samples: list[bool], seed: int = 0) -> None:
    sim, ref = TrafficSimulator(cfg, B, seed=seed), ReferenceTrafficBatch(cfg, B, seed=seed)
    assert np.array_equal(sim.control_pages(), ref.control_pages())
    assert np.array_equal(sim.control_share(), ref.control_share())
    assert np.array_equal(sim.reset(), ref.reset())
    for t, (a, s) in enumerate(zip(actions, samples)):
        assert_step_equal(sim.step(a, sample=s), ref.step(a, sample=s), f"step {t}")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(n_tiers=st.integers(1, 4), q=st.integers(1, 3), n=st.integers(3, 40), k=st.integers(1, 12),
       steps=st.integers(1, 6), m=st.integers(4, 8), B=st.integers(1, 7), seed=st.integers(0, 2**63),
       mode=st.sampled_from(["random", "ties", "huge_tiers", "close", "zero", "tiers_only"]),
       basic=st.sampled_from(["ltr", "zero", "random"]), data=st.data())
def test_cpp_matches_twin(n_tiers, q, n, k, steps, m, B, seed, mode, basic, data):
    F = m + n_tiers
    rng0 = np.random.default_rng(seed % 2**32)
    bw = {"ltr": None, "zero": (0.0,) * F, "random": tuple(np.round(rng0.uniform(-1, 1, F), 1))}[basic]
    cfg = small(n_tiers, q, n, k, steps, m, basic_weights=bw)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    acts, samples = [], []
    for _ in range(2 * steps + 2):
        if mode == "random":
            a = rng.uniform(-1, 1, (B, F))
        elif mode == "ties":  # integer weights on 0/1 flags and few distinct values: many tied scores
            a = rng.integers(-1, 2, (B, F)).astype(float)
            a[:, :m] *= 0.0
        elif mode == "huge_tiers":
            a = rng.uniform(-1, 1, (B, F))
            a[:, m:] = rng.choice([-100.0, 100.0], (B, n_tiers))
        elif mode == "close":  # base terms below float32 resolution of the tier terms: the
            a = rng.uniform(-1, 1, (B, F))  # flag-lookup pre-scores must defer to exact rescoring
            a[:, :m] *= 2.0**-26
            a[:, m:] = rng.choice([-1.0, 0.5, 1.0], (B, n_tiers))
        elif mode == "tiers_only":  # pi_basic's base weights: the per-class merge ranking
            a = np.repeat(np.asarray(cfg.basic_vector(), np.float32)[None], B, axis=0).astype(float)
            a[:, m:] = rng.choice([-100.0, -1.0, 0.0, 0.25, 1.0, 100.0], (B, n_tiers))
        else:
            a = np.zeros((B, F))
        acts.append(a.astype(np.float32))
        samples.append(bool(rng.integers(0, 4)))
    run_both(cfg, B, acts, samples, seed)


def test_twin_matches_at_default_size():
    cfg = TrafficConfig()
    rng = np.random.default_rng(3)
    acts = [np.concatenate([np.tile(cfg.basic_vector()[:8], (16, 1)), rng.uniform(-0.3, 0.3, (16, 3))],
                           axis=1).astype(np.float32) for _ in range(12)]
    run_both(cfg, 16, acts, [True] * 11 + [False], seed=9)


@pytest.mark.parametrize("scale", [1.0, 2.0**-26])
def test_twin_matches_at_default_size_under_any_weights(scale):
    # The general ranking (base weights not pi_basic's): tier flags added by class lookup
    # in the float32 pre-scores at N = 1000; scale 2^-26 puts the base terms below float32
    # resolution next to the tier terms, where only the exact rescoring can order items.
    cfg = TrafficConfig()
    rng = np.random.default_rng(4)
    acts = [np.concatenate([scale * rng.uniform(-1, 1, (16, 8)), rng.choice([-1.0, 0.5, 1.0], (16, 3))],
                           axis=1).astype(np.float32) for _ in range(12)]
    run_both(cfg, 16, acts, [True] * 11 + [False], seed=10)


def test_class_merge_ranking_breaks_rounded_ties_by_index():
    """Two tier items whose base scores differ by one float32 step round to the same
    full score once the tier weight is added: the lower index ranks first, as in the
    general ranking (the class list, sorted by base score, holds them the other way)."""
    from simcore.domains.search.world import World
    from simcore.domains.traffic.world import TrafficWorld

    cfg = small(1, q=1, n=3, k=1, steps=3, m=2, basic_weights=(0.0, 2.0**-28, 0.0))
    x = np.zeros((1, 3, 2), np.float32)
    x[0, :, 1] = (np.nextafter(np.float32(1), np.float32(0)), 1.0, 0.5)
    flags = np.array([[[1], [1], [0]]], np.uint8)
    base = World(features=x, prices=np.ones((1, 3)), segment_probs=np.full(4, 0.25), segment_pref=np.zeros((4, 2)))
    w = TrafficWorld(base=base, flags=flags, features=np.concatenate([x, flags.astype(np.float32)], axis=2),
                     prices=base.prices, segment_probs=base.segment_probs, segment_pref=np.zeros((4, 3)),
                     like_prob=np.zeros((4, 1)), dislike_prob=np.zeros((4, 1)))
    a = np.array([[0.0, 2.0**-28, 4.0]], np.float32)
    s = scores(w.features[0], a[0])
    assert s[0] == s[1]  # the rounded tie the test is about
    sim, ref = TrafficSimulator(cfg, 1, world=w), ReferenceTrafficBatch(cfg, 1, world=w)
    sim.reset(), ref.reset()
    pages = []
    for _ in range(3):
        x_, y_ = sim.step(a, sample=False), ref.step(a, sample=False)
        assert_step_equal(x_, y_, "tie")
        pages.append(int(x_.page[0, 0]))
    assert pages == [0, 1, 2]


def _live(r) -> np.ndarray:
    return np.asarray(r.outcome) != -1


def test_shares_are_counts_of_the_shown_pages_and_control_comes_from_pi_basic():
    cfg = small(3, q=3, n=45, k=7, steps=7)
    sim = TrafficSimulator(cfg, 20, seed=4)
    world = make_traffic_world(cfg)
    # the control ranking is pi_basic's full ranking, cut into pages of K
    X, F, T, K = world.features, sim.num_features, sim.horizon, 7
    for q in range(3):
        order = np.lexsort((np.arange(45), -scores(X[q], sim.basic_weights)))
        for t in range(T):
            items = order[t * K:(t + 1) * K]
            assert np.array_equal(sim.control_pages()[q, t, :items.size], items)
            np.testing.assert_array_equal(sim.control_share()[q, t], world.flags[q, items].mean(axis=0))
    sim.reset()
    rng = np.random.default_rng(0)
    for _ in range(25):
        r = sim.step(rng.uniform(-1, 1, (20, F)).astype(np.float32))
        live, users, t = _live(r), sim.users(), sim.steps_taken() - 1
        for i in np.flatnonzero(live):
            items = r.page[i][r.page[i] >= 0]
            q = users["query"][i]
            np.testing.assert_array_equal(r.share[i], world.flags[q, items].sum(axis=0) / items.size)
            cp = sim.control_pages()[q, t[i]]
            np.testing.assert_array_equal(r.share_basic[i], world.flags[q, cp[cp >= 0]].mean(axis=0))
        assert np.all(r.share[~live] == 0) and np.all(r.share_basic[~live] == 0)


def test_pi_basic_shows_the_control_pages():
    cfg = small(2, q=3, n=50, k=6, steps=8)
    sim = TrafficSimulator(cfg, 12, seed=1)
    sim.reset()
    w = sim.weights_for(np.asarray(cfg.basic_vector()[-2:]))
    for _ in range(20):
        r = sim.step(w)
        live, q, t = _live(r), sim.users()["query"], sim.steps_taken() - 1
        assert np.array_equal(r.page[live], sim.control_pages()[q[live], t[live]])
        assert np.array_equal(r.share, r.share_basic) and np.all(r.reward_tier == 0)


def test_reward_decomposition_adds_up():
    rw = TrafficRewardConfig(click=0.2, cart=0.5, buy=2.0, price=0.01, lambdas=(3.0, -1.0, 0.5))
    cfg = small(3, reward=rw)
    sim = TrafficSimulator(cfg, 64, seed=2)
    sim.reset()
    rng = np.random.default_rng(1)
    lam = np.array(rw.lambdas)
    for t in range(30):
        sample = t % 3 != 2
        r = sim.step(sim.weights_for(rng.uniform(-0.5, 0.5, (64, 3))), sample=sample)
        assert np.array_equal(r.reward, r.reward_gmv + r.reward_tier)
        np.testing.assert_allclose(r.reward_tier, ((r.share - r.share_basic) * lam).sum(axis=1), atol=1e-12)
        if sample:
            gmv = 0.2 * r.n_click + 0.5 * r.n_cart + 2.0 * r.n_buy + 0.01 * r.price
            assert np.array_equal(r.n_click, r.clicks.sum(axis=1)) and np.array_equal(r.n_cart, r.carts.sum(axis=1))
            assert not np.any(r.carts & ~r.clicks)
            assert np.array_equal(r.n_buy, (r.outcome == 1).astype(np.int32))
        else:
            gmv = 0.2 * r.expected_clicks + 0.5 * r.expected_carts + 2.0 * r.b + 0.01 * r.b * r.m
            assert not r.clicks.any() and not r.n_click.any() and not r.n_buy.any()
        np.testing.assert_allclose(r.reward_gmv, np.where(_live(r), gmv, 0.0), rtol=1e-12, atol=1e-12)
        assert np.all(r.expected_carts <= r.expected_clicks + 1e-12)


def _trajectory(cfg: TrafficConfig, B: int, seed: int, threads: int | None = None) -> list[np.ndarray]:
    if threads is not None:
        cfg = TrafficConfig(session=SessionConfig(world=cfg.session.world, page_size=cfg.session.page_size,
                                                  max_steps=cfg.session.max_steps, num_threads=threads),
                            tiers=cfg.tiers)
    sim = TrafficSimulator(cfg, B, seed=seed)
    out = [sim.reset().copy()]
    rng = np.random.default_rng(5)
    for _ in range(12):
        r = sim.step(sim.weights_for(rng.uniform(-0.3, 0.3, (B, sim.n_tiers))))
        out += [v.copy() for v in vars(r).values()]
    return out


def test_deterministic_across_threads_and_seeds():
    cfg = small(3, n=40)
    one, two = _trajectory(cfg, 300, 7, threads=1), _trajectory(cfg, 300, 7, threads=2)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    other = _trajectory(cfg, 300, 8, threads=2)
    assert not all(np.array_equal(a, b) for a, b in zip(one, other))


def test_equal_slot_seeds_give_equal_slots_and_users_carry_affinity():
    cfg = small(2)
    sim = TrafficSimulator(cfg, 4)
    sim.seed_slots([5, 5, 6, 5])
    sim.reset()
    u = sim.users()
    assert np.array_equal(u["prefs"][0], u["prefs"][1]) and not np.array_equal(u["prefs"][0], u["prefs"][2])
    r = sim.step(sim.weights_for(np.zeros(2)))
    assert np.array_equal(r.page[0], r.page[3]) and r.clicks[0].tolist() == r.clicks[1].tolist()


def test_affinity_classes_follow_the_segment_probabilities():
    cfg = small(3, q=2, n=20)
    world = make_traffic_world(cfg)
    sim = TrafficSimulator(cfg, 20000, seed=3)
    sim.reset()
    u = sim.users()
    aff = u["prefs"][:, cfg.n_base:]
    for g in range(world.like_prob.shape[0]):
        sel = u["segment"] == g
        n = sel.sum()
        for p, got in ((world.like_prob[g], (aff[sel] > 0).mean(axis=0)),
                       (world.dislike_prob[g], (aff[sel] < 0).mean(axis=0))):
            assert np.all(np.abs(got - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-9)


def test_tier_membership_correlates_with_price_quality_sales_as_configured():
    w = make_traffic_world(TrafficConfig())
    X, f = w.base.features, w.flags.astype(bool)
    brand, next_day = f[..., 0], f[..., 1]
    assert X[..., 0][brand].mean() > X[..., 0][~brand].mean() + 0.2  # brand: expensive
    assert X[..., 1][brand].mean() > X[..., 1][~brand].mean() + 0.1  # ... high quality
    assert X[..., 2][next_day].mean() > X[..., 2][~next_day].mean() + 0.1  # next day: sells
    share = f.mean(axis=(0, 1))
    np.testing.assert_allclose(share, (0.2, 0.3, 0.15), atol=0.05)
    assert f.mean(axis=1).std(axis=0).min() > 0.02  # queries differ in their tier shares


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_copy_continues_identically(how):
    sim = TrafficSimulator(small(2), 5, seed=3)
    sim.reset()
    w = sim.weights_for(np.array([0.2, -0.1]))
    for _ in range(3):
        sim.step(w)
    twin = pickle.loads(pickle.dumps(sim)) if how == "pickle" else copy.deepcopy(sim)
    for _ in range(10):
        a = {k: v.copy() for k, v in vars(sim.step(w)).items()}
        b = vars(twin.step(w))
        assert all(np.array_equal(a[k], b[k]) for k in a)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="lambdas"):
        TrafficConfig(reward=TrafficRewardConfig(lambdas=(1.0, 2.0)))
    with pytest.raises(ValueError, match="lambdas"):
        TrafficRewardConfig(lambdas=(1.0, float("nan")))
    with pytest.raises(ValueError, match="n_tiers"):
        TierWorldConfig(n_tiers=0)
    with pytest.raises(ValueError, match="n_tiers"):
        TierWorldConfig(n_tiers=17)
    with pytest.raises(ValueError, match="share"):
        TierWorldConfig(n_tiers=2)  # the default tuples hold 3 tiers
    with pytest.raises(ValueError, match="basic_weights"):
        TrafficConfig(basic_weights=(0.0,) * 5)
    with pytest.raises(ValueError, match="like_prob"):
        TierWorldConfig(like_prob=(0.6, 0.1, 0.1), dislike_prob=(0.5, 0.1, 0.1))
    sim = TrafficSimulator(small(2), 3)
    sim.reset()
    with pytest.raises(ValueError, match="actions"):
        sim.step(np.zeros((3, 9), np.float32))
    with pytest.raises(TypeError, match="actions"):
        sim.step(np.zeros((3, 10), np.int64))
    with pytest.raises(ValueError, match="actions"):
        sim.step(np.full((3, 10), np.nan, np.float32))
    with pytest.raises(ValueError, match="tier_weights"):
        sim.weights_for(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="tier_weights"):
        sim.weights_for(np.array([np.inf, 0.0]))


def test_binding_rejects_bad_tier_inputs():
    from simcore import _core

    cfg = small(2)
    world = make_traffic_world(cfg)
    good = core_arguments(cfg, world)

    def make(**kw):
        _core.traffic.TrafficBatch(num_sessions=2, **{**good, **kw})

    make()
    with pytest.raises(ValueError, match="lambdas"):
        make(lambdas=np.ones(3))
    with pytest.raises(ValueError, match="n_tiers"):
        make(n_tiers=0)
    with pytest.raises(ValueError, match="n_tiers"):
        make(n_tiers=10)
    bad = good["features"].copy()
    bad[0, 0, -1] = 0.5
    with pytest.raises(ValueError, match="tier flags"):
        make(features=bad)
    with pytest.raises(ValueError, match="basic_weights"):
        make(basic_weights=np.ones(9, np.float32))
    with pytest.raises(ValueError, match="basic_weights"):
        make(basic_weights=np.full(10, np.nan, np.float32))
    with pytest.raises(TypeError, match="gmv_weights"):
        make(gmv_weights=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="affinity_cdf"):
        make(affinity_cdf=np.full((4, 2, 2), 0.7) * np.array([1.0, 0.5]))


def test_step_releases_the_gil_and_calls_serialise():
    import threading

    sim = TrafficSimulator(TrafficConfig(session=SessionConfig(num_threads=1)), 1024, seed=0)
    sim.reset()
    a = sim.weights_for(np.array([0.1, 0.0, -0.1]))
    done, count = threading.Event(), 0

    def work():
        for _ in range(20):
            sim.step(a)
        done.set()

    threads = [threading.Thread(target=work) for _ in range(2)]  # two callers on one object
    for t in threads:
        t.start()
    while not done.is_set():
        count += 1
    for t in threads:
        t.join()
    assert count > 1000  # with the GIL held this loop could not advance during a step
    # 40 serialised steps: every slot's page count equals a serial replay's
    ref = TrafficSimulator(TrafficConfig(session=SessionConfig(num_threads=1)), 1024, seed=0)
    ref.reset()
    for _ in range(40):
        ref.step(a)
    assert np.array_equal(sim.steps_taken(), ref.steps_taken())
