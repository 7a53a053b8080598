"""Engine-cost parts without training: the loss definitions against their NumPy twins
and the env, the exhaustive KL table, between-seed summaries, the verdict logic."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FeatureCostDataConfig, generate
from simcore.domains.feature_cost.env import FeatureSelectionVectorEnv
from simcore.domains.feature_cost.kernels import feature_mean, subset_eval
from simcore.experiments.engine_cost import analysis as An
from simcore.experiments.engine_cost import claims as Cl
from simcore.experiments.engine_cost import losses as L
from simcore.experiments.engine_cost.config import LOSS_NAMES, EngineCostConfig
from simcore.experiments.engine_cost.evaluation import PolicyEval
from simcore.report import t_ci


@pytest.fixture(scope="module")
def data():
    return generate(FeatureCostDataConfig(n_contexts=12, n_items=30, seed=3))


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_loss_definitions_match_numpy_twins(data, loss):
    cfg = EngineCostConfig(top_k=5, kl_temperature=0.7)
    rng = np.random.default_rng(0)
    masks = rng.random((12, 12)) < 0.6
    fill = feature_mean(data.X)
    got = L.loss_values(cfg, loss, data.X, masks, data.cost, data.weights, fill, threads=1)
    ref = L.reference_loss_values(cfg, loss, data.X, masks, data.cost, data.weights, fill)
    if loss == "kl":
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_array_equal(got, ref)
    assert np.all(got >= 0) and np.any(got > 0)
    full = L.loss_values(cfg, loss, data.X, np.ones((12, 12), bool), data.cost, data.weights, fill)
    np.testing.assert_array_equal(full, 0.0)


def test_loss_definitions_differ(data):
    cfg = EngineCostConfig(top_k=5)
    masks = np.random.default_rng(1).random((12, 12)) < 0.5
    fill = feature_mean(data.X)
    vals = {lo: L.loss_values(cfg, lo, data.X, masks, data.cost, data.weights, fill) for lo in LOSS_NAMES}
    assert not np.array_equal(vals["pairs"], vals["top-k"])
    assert L.label(cfg, "top-k") == "top-5 pairs" and L.unit("kl") == "nats"
    with pytest.raises(ValueError, match="loss"):
        L.kernel_kwargs(cfg, "ndcg")


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_env_reward_uses_the_loss_definition(data, loss):
    """The env's final-step loss is the experiment's loss of the same subsets."""
    cfg = EngineCostConfig(top_k=5)
    fill = feature_mean(data.X)
    env = FeatureSelectionVectorEnv(6, L.env_config(cfg, loss, loss_threshold=0.05, penalty=1.5), data=data, fill=fill)
    env.reset(seed=0)
    rng = np.random.default_rng(2)
    for _ in range(12):
        _, _, term, _, info = env.step(rng.integers(0, 2, size=6))
    assert term.all()
    want = L.loss_values(cfg, loss, np.ascontiguousarray(data.X[info["context"]]), info["mask"], data.cost,
                         data.weights, fill)
    np.testing.assert_allclose(info["loss"], want, rtol=1e-12, atol=1e-15)


def test_exhaustive_table_kl(data):
    fill = feature_mean(data.X)
    X = np.ascontiguousarray(data.X[:2])
    t = B.exhaustive_table(X, data.weights, data.cost, fill, threads=1, kl_temperature=1.0)
    pick = np.array([0, 5, 100, 4095])
    for q in range(2):
        r = subset_eval(X[q : q + 1], t.masks[pick], data.cost, data.weights, fill=fill, kl_temperature=1.0,
                        query_index=np.zeros(pick.size, np.int64))
        np.testing.assert_allclose(t.loss[q, pick], r.kl, rtol=1e-12)
    assert t.loss[0, -1] == 0.0 and np.all(t.loss >= 0)


def _eval(cost: float, gmv: np.ndarray, Q: int = 4) -> PolicyEval:
    return PolicyEval(masks=np.ones((Q, 3), bool), loss=np.zeros(Q), cost=np.full(Q, cost), gmv=gmv)


def test_learned_summary_is_between_seeds():
    ref = _eval(1.0, np.array([10.0, 10.0, 10.0, 10.0]))
    seeds = [_eval(c, np.array([10.0, 9.0, 10.0, 11.0]) + d) for c, d in ((0.8, 0.0), (0.7, -0.2), (0.75, 0.1))]
    s = An.learned_summary(seeds, ref, 0.05, 1.5)
    assert s["ci"] == "seeds" and s["n_seeds"] == 3
    assert s["cost_saved"] == pytest.approx(t_ci([0.2, 0.3, 0.25]))
    assert s["gmv_change"] == pytest.approx(t_ci([0.0, -0.02, 0.01]))
    d = np.array([0.0, -1.0, 0.0, 1.0]) - 0.1 / 3
    assert s["gmv_change_requests"] == pytest.approx(t_ci(d / 10.0))
    b = An.baseline_summary(seeds[0], ref, 0.05, 1.5)
    assert b["ci"] == "requests" and b["cost_saved"] == pytest.approx((0.2, 0.0))


def test_is_flat():
    assert An.is_flat(0.0)
    assert An.is_flat(-0.01, 0.02)
    assert not An.is_flat(-0.03, 0.02)
    assert An.is_flat(-0.03, 0.02, 0.03)  # quadrature: sqrt(0.02**2 + 0.03**2) = 0.036
    assert not An.is_flat(-0.03, 0.02, float("nan"))
    assert not An.is_flat(float("nan"), 1.0)


def test_saving_verdict():
    assert Cl.saving_verdict(None) == "not reproduced"
    assert Cl.saving_verdict((0.30, 0.02)) == "reproduced"
    assert Cl.saving_verdict((0.22, 0.04)) == "reproduced"  # reaches 25 %: "about 30 %"
    assert Cl.saving_verdict((0.16, 0.03)) == "partly reproduced"
    assert Cl.saving_verdict((0.05, 0.08)) == "not reproduced"
    assert Cl.saving_verdict((0.40, float("nan"))) == "reproduced"
    assert Cl.saving_verdict((float("nan"), 0.1)) == "not tested"


def test_static_verdict_and_best_flat():
    assert Cl.static_verdict([]) == "not tested"
    assert Cl.static_verdict([0.01, 0.02]) == "reproduced"
    assert Cl.static_verdict([0.01, -0.02]) == "partly reproduced"
    assert Cl.static_verdict([-0.01, float("nan")]) == "not reproduced"
    P = {f"a C={c}": {"family": "actor-critic", "loss_def": "pairs", "threshold": c, "cost_saved": (s, 0.01),
                      "flat": f} for c, s, f in ((0.02, 0.1, True), (0.05, 0.2, True), (0.1, 0.3, False))}
    assert Cl.best_flat(P, "actor-critic", "pairs") == "a C=0.05"
    assert Cl.best_flat(P, "actor-critic", "kl") is None
    assert Cl.best_flat(P, "reinforce", "pairs") is None


def test_seed_band():
    m, h = An.seed_band([[0.0, 1.0], [2.0, 1.0]])
    np.testing.assert_allclose(m, [1.0, 1.0])
    assert h[0] > 0 and h[1] == 0
    _, h1 = An.seed_band([[0.0, 1.0]])
    assert np.isnan(h1).all()
