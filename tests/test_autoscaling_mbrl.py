"""The meta model-based RL autoscaler (domains/autoscaling/mbrl.py): the policy trained
through the ANP beats the no-op policy in the simulator, its ratios stay in range,
training is deterministic, the forecast against a hand computation, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simcore.domains.autoscaling.anp import ANP, ANPConfig
from simcore.domains.autoscaling.baselines import Observed, PeakStatic
from simcore.domains.autoscaling.config import AutoscalingConfig, WorkloadConfig
from simcore.domains.autoscaling.evaluate import run_episode
from simcore.domains.autoscaling.mbrl import (
    MBRLConfig,
    MetaScalingPolicy,
    SeasonalNaive,
    model_error,
    static_log,
    train_policy,
)
from simcore.domains.autoscaling.simulator import AutoscalingSimulator
from simcore.domains.autoscaling.workload import draw_zones

torch.set_num_threads(1)
CFG = AutoscalingConfig(num_threads=1, horizon=288, workload=WorkloadConfig(n_apps=8))
ANP_SMALL = ANPConfig(hidden=32, latent=8, steps=150, batch_tasks=8, context_max=48, extra_targets=24, seed=1)
MB_SMALL = MBRLConfig(steps=40, batch=64, rollout=6, hidden=32, seed=2)


@pytest.fixture(scope="module")
def trained():
    zones = draw_zones(CFG.workload, 24, 0)
    log = static_log(CFG, zones, 288, seed=11)
    anp = ANP(ANP_SMALL)
    anp.fit(log.features(), log.cpu)
    net, hist = train_policy(anp, log, zones, CFG, MB_SMALL)
    return zones, log, anp, net, hist


def test_policy_beats_no_op(trained):
    zones, log, anp, net, hist = trained
    assert np.mean(hist[-10:]) > np.mean(hist[:5])                       # model return improves
    ctx = static_log(CFG, zones, 144, seed=12)
    learned = run_episode(AutoscalingSimulator(CFG, zones=zones, seed=5), MetaScalingPolicy(net, anp, ctx, CFG))
    no_op = run_episode(AutoscalingSimulator(CFG, zones=zones, seed=5), PeakStatic(CFG, zones.init_vms))
    assert learned["reward"].mean() > no_op["reward"].mean() + 0.005
    assert learned["stability"].mean() > no_op["stability"].mean()
    err = model_error(anp, ctx)
    assert err.shape == (24,) and np.all(err >= 0) and np.median(err) < 0.1


def test_actions_within_range_and_fallback(trained):
    zones, log, anp, net, _ = trained
    ctx = static_log(CFG, zones, 144, seed=12)
    fb = np.zeros(24, dtype=bool)
    fb[:5] = True
    pol = MetaScalingPolicy(net, anp, ctx, CFG, fallback=fb)
    rng = np.random.default_rng(0)
    for t in range(3):
        o = Observed(rng.uniform(0, 1, 24), rng.integers(1, 50, 24), rng.integers(1, 80, 24),
                     rng.uniform(0, 1e6, (24, 2)) * (rng.uniform(size=(24, 1)) < 0.8), t)
        a = pol.act(o)
        assert a.shape == (24,) and np.all(a >= CFG.ratio_min) and np.all(a <= CFG.ratio_max)
        assert np.all(np.isfinite(a))


def test_training_is_deterministic(trained):
    zones, log, anp, net, hist = trained
    net2, hist2 = train_policy(anp, log, zones, CFG, MB_SMALL)
    assert hist2 == hist
    for (k, v), (_, w) in zip(net.state_dict().items(), net2.state_dict().items()):
        assert torch.equal(v, w), k
    _, hist3 = train_policy(anp, log, zones, CFG, dataclasses.replace(MB_SMALL, seed=3))
    assert hist3 != hist
    a = static_log(CFG, zones, 20, seed=11)
    b = static_log(CFG, zones, 20, seed=11)
    c = static_log(CFG, zones, 20, seed=12)
    np.testing.assert_array_equal(a.cpu, b.cpu)
    assert not np.array_equal(a.cpu, c.cpu)


def test_seasonal_naive_by_hand():
    f = SeasonalNaive(window=2)
    x = 1000.0 + np.arange(150)
    for v in x:
        f.update(np.array([[v, 2 * v]]))
    # next step n = 150: yesterday's x[6] = 1006 (and 2012) times the level (x[149] + x[148]) / (x[5] + x[4])
    level = (1149 + 1148) / (1005 + 1004)
    np.testing.assert_allclose(f.next(), [[1006 * level, 2012 * level]])
    for _ in range(3):                                                     # the level is clipped to [0.5, 2]
        f.update(np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(f.next(), 0.5 * f.hist[-144])
    g = SeasonalNaive()
    g.update(np.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(g.next(), [[3.0, 4.0]])              # persistence before a day of history


def test_bad_input(trained):
    zones, log, anp, _, _ = trained
    for kw, name in (({"rollout": 0}, "rollout"), ({"gamma": 1.0}, "gamma"), ({"rollout_traffic": "x"},
                     "rollout_traffic"), ({"error_threshold": 0.0}, "error_threshold"), ({"batch": 0}, "batch")):
        with pytest.raises(ValueError, match=name):
            MBRLConfig(**kw)
    with pytest.raises(ValueError, match="steps"):
        static_log(CFG, zones, 1, seed=0)
    short = static_log(CFG, zones, 5, seed=0)
    with pytest.raises(ValueError, match="log: needs"):
        train_policy(anp, short, zones, CFG, MB_SMALL)


def test_forecaster_stream_feeds_the_policy(trained):
    """The attention forecaster (forecast.py) behind the streaming protocol: the log's
    forecasts are its one-step predictions, and the policy runs on them."""
    from simcore.domains.autoscaling.forecast import ForecasterConfig, WorkloadForecaster
    from simcore.domains.autoscaling.mbrl import ForecasterStream

    zones, log, anp, net, _ = trained
    f = WorkloadForecaster(ForecasterConfig(steps=5, batch=16, eval_every=5, val_samples=16))
    f.fit(log.traffic, seed=0)
    flog = static_log(CFG, zones, 30, seed=11, forecaster=lambda: ForecasterStream(f))
    np.testing.assert_array_equal(flog.traffic, static_log(CFG, zones, 30, seed=11).traffic)
    np.testing.assert_allclose(flog.forecast[:, 10], f.predict(flog.traffic[:, :10], 10)[:, 0])
    ctx = static_log(CFG, zones, 144, seed=12)
    pol = MetaScalingPolicy(net, anp, ctx, CFG, forecast=ForecasterStream(f))
    m = run_episode(AutoscalingSimulator(dataclasses.replace(CFG, horizon=20), zones=zones, seed=5), pol)
    assert np.all(np.isfinite(m["reward"]))
