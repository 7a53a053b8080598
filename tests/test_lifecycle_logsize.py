"""The classifiers' log-size diagnosis (simcore.experiments.lifecycle.logsize): the random
logging policy covers every action, the per-action counts and the probability spread
against hand computations, a classifier that plays more than one action when the data
say so, the curve's points and summaries, and the fair-log preset."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simcore.algos.mtl import MTLConfig, MTLPolicy
from simcore.domains.lifecycle.baselines import action_counts, log_random, logging_config
from simcore.domains.lifecycle.simulator import LifecycleSimulator
from simcore.experiments.lifecycle import EXPERIMENT
from simcore.experiments.lifecycle.config import (
    FAIR_LOG_FACTOR,
    LifecycleExperimentConfig,
    fair_log_config,
    smoke_config,
)
from simcore.experiments.lifecycle.learners import seed_lifecycle
from simcore.experiments.lifecycle.logsize import markdown, point, prob_spread, reference, summarise
from simcore.util.config import to_dict


def test_logging_policy_covers_every_action() -> None:
    """Uniform logging: every action (do-nothing included) is logged, each about n / A
    times (within 5 binomial sd), and nothing is blocked (propensity 1/A)."""
    cfg = smoke_config()
    lc = seed_lifecycle(cfg, 0)
    sim = LifecycleSimulator(logging_config(lc), num_users=200)
    log = log_random(sim, 2, 7, np.random.default_rng(3))
    n, a = len(log["action"]), sim.n_actions
    assert n == 2 * 200 * lc.horizon_days
    rows = np.array(action_counts(log, a)["rows"])
    p = 1.0 / a
    assert (np.abs(rows - n * p) < 5 * np.sqrt(n * p * (1 - p))).all(), rows
    assert not log["blocked"].any()


def test_action_counts_by_hand() -> None:
    log = {"action": np.array([0, 1, 1, 2, 3, 3]), "converted": np.array([0, 1, 0, 1, 0, 1], dtype=bool),
           "clicked": np.array([1, 1, 0, 0, 0, 1], dtype=bool)}
    c = action_counts(log, 5)
    assert c == {"rows": [1, 2, 1, 2, 0], "sign": [0, 1, 1, 1, 0], "click": [1, 1, 0, 1, 0]}
    with pytest.raises(ValueError, match="log"):
        action_counts(log, 3)


def test_prob_spread_by_hand() -> None:
    p = np.array([[0.1, 0.3, 0.0], [0.3, 0.2, 0.0]])
    s = prob_spread(p)
    np.testing.assert_allclose(s["mean"], [0.2, 0.25, 0.0])
    np.testing.assert_allclose(s["sd"], [0.1, 0.05, 0.0])
    assert s["between"] == pytest.approx(0.25)
    assert s["within"] == pytest.approx(0.05)
    assert s["margin"] == pytest.approx((0.2 + 0.1) / 2)
    with pytest.raises(ValueError, match="p"):
        prob_spread(np.zeros((3,)))


def test_classifier_plays_more_than_one_action_when_the_data_say_so() -> None:
    """A synthetic uniform log where action 1 converts for x0 = 1 and action 2 for
    x0 = 0: the fitted DNN's argmax follows x0 (two actions), not one constant action."""
    rng = np.random.default_rng(0)
    n, a = 6000, 3
    x = np.stack([rng.integers(0, 2, n), rng.normal(size=n), rng.normal(size=n)], axis=1).astype(np.float32)
    act = rng.integers(0, a, n)
    best = np.where(x[:, 0] > 0.5, 1, 2)
    y = rng.random(n) < np.where(act == best, 0.4, 0.03)
    pol = MTLPolicy(3, a, MTLConfig(kind="single", width=16, layers=2, epochs=6, seed=1))
    pol.fit(x, act, np.stack([y, y], axis=1).astype(np.float32))
    probe = np.array([[1, 0, 0], [0, 0, 0]], dtype=np.float32)
    assert pol.act(probe).tolist() == [1, 2]
    played = pol.act(x)
    assert len(np.unique(played)) == 2
    assert np.mean(played == best) > 0.95


def _record(cfg: LifecycleExperimentConfig) -> dict:
    rows = [{"replay": {"conv_rate": 0.01 + 0.001 * s}, "online": {"ltv": 6.0 + s}} for s in range(cfg.seeds)]
    return {"config": to_dict(cfg), "per_seed": {"a2c-conv": rows, "a2c": rows}}


def test_points_summaries_and_reference() -> None:
    """Doubling the factor doubles the log (counts sum to the rows); the summary pairs
    each seed with the record's seed; a record of other sizes is refused."""
    cfg = smoke_config()
    pts = [point(cfg, "DNN", s, f) for f in (1, 2) for s in range(cfg.seeds)]
    days = cfg.lifecycle.horizon_days
    for p in pts:
        assert p["rows"] == p["factor"] * cfg.log_users * days == sum(p["counts"]["rows"])
        assert all(0 <= k <= r for k, r in zip(p["counts"]["sign"], p["counts"]["rows"]))
        assert 0 <= p["agree_truth"] <= 1 and p["replay"]["hits"] > 0
    ref = reference(_record(cfg), cfg)
    summ = summarise(pts, ref)
    assert [(g["label"], g["factor"], g["n"]) for g in summ] == [("DNN", 1, 2), ("DNN", 2, 2)]
    conv = [p["replay"]["conv_rate"] for p in pts[:2]]
    lift = np.mean(conv) / np.mean(ref["a2c-conv"]["conv_rate"]) - 1
    assert summ[0]["lift_vs_a2c_conv"]["mean"] == pytest.approx(lift)
    ltv = [p["online"]["ltv"] for p in pts[:2]]
    assert summ[0]["ltv_minus_a2c"]["mean"] == pytest.approx(np.mean(np.array(ltv) - [6.0, 7.0]))
    assert "| DNN |" in markdown(summ)
    with pytest.raises(ValueError, match="record"):
        reference(_record(dataclasses.replace(cfg, eval_users=64)), cfg)
    with pytest.raises(ValueError, match="factor"):
        point(cfg, "DNN", 0, 0)


def test_fair_log_preset_changes_only_the_log() -> None:
    base, fair = LifecycleExperimentConfig(), fair_log_config()
    assert fair.log_users == FAIR_LOG_FACTOR * base.log_users
    assert dataclasses.replace(fair, log_users=base.log_users) == base
    assert EXPERIMENT.presets["fair-log"] is fair_log_config
