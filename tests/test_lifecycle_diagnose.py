"""The A2C diagnosis tools of the lifecycle reproduction (simcore.experiments.lifecycle.diagnose):
returns against a hand computation, the bootstrap bias vanishing when K covers the whole
activity, the probe leaving training unchanged, the variant runner and its overrides."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simcore.experiments.lifecycle.config import smoke_config
from simcore.experiments.lifecycle.diagnose import (
    COLLAPSE_TOUCHES,
    CURVE_KEYS,
    _returns,
    bootstrap_bias,
    group_means,
    main,
    variant,
    with_overrides,
)


def test_returns_match_hand_computation() -> None:
    """G = discounted sum to the end; R = K-step forward view with the bootstrap V at each
    rollout's end (rollouts at days 0, K, ...), no bootstrap after the last day."""
    r = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]], dtype=np.float32)
    nv = np.array([[10.0, 20.0, 30.0, 40.0, 50.0]], dtype=np.float32)
    g, ret = _returns(r, nv, k=2, gamma=0.5)
    np.testing.assert_allclose(g[0], [1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 4 + 0.0625 * 5,
                                      2 + 0.5 * 3 + 0.25 * 4 + 0.125 * 5, 3 + 0.5 * 4 + 0.25 * 5, 4 + 0.5 * 5, 5],
                               rtol=1e-6)
    # rollout [0, 1]: R_1 = r_1 + g V(s_2) = 2 + 0.5 * 20, R_0 = 1 + 0.5 R_1; [2, 3]: R_3 = 4 + 0.5 * 40;
    # [4]: terminal, R_4 = 5
    np.testing.assert_allclose(ret[0], [1 + 0.5 * 12, 12, 3 + 0.5 * 24, 24, 5], rtol=1e-6)


def test_group_means() -> None:
    x = np.array([[1.0, 3.0], [5.0, 7.0]])
    touch = np.array([[False, True], [True, True]])
    m = group_means(x, touch, blocks=2)
    assert (m["nothing"], m["touch"], m["diff"]) == (1.0, 5.0, 4.0)
    assert np.isnan(m["diff_se"])  # the second block has no do-nothing row: one block difference
    x4 = np.array([[0.0, 1.0], [0.0, 3.0], [1.0, 2.0], [1.0, 6.0]])
    t4 = np.array([[False, True]] * 4)
    m4 = group_means(x4, t4, blocks=4)  # block differences 1, 3, 1, 5: se = std / 2
    assert m4["diff"] == 2.5 and m4["diff_se"] == pytest.approx(np.std([1, 3, 1, 5], ddof=1) / 2)


def test_bootstrap_bias_is_zero_when_k_covers_the_activity() -> None:
    """With K = the horizon the K-step return is the MC return: bias exactly 0 and the two
    advantages equal; with K = 1 they differ."""
    base = dataclasses.replace(smoke_config(), workers=1)
    full = bootstrap_bias(dataclasses.replace(base, k=base.lifecycle.horizon_days), 0, [0, 1], probe_users=16)
    assert [r["iteration"] for r in full] == [0, 1]
    for r in full:
        assert 0.0 <= r["pi0"] <= 1.0
        for g in ("nothing", "touch"):
            if np.isfinite(r["bias"][g]):
                assert abs(r["bias"][g]) < 1e-5
                assert r["mc_adv"][g] == pytest.approx(r["learner_adv"][g], abs=1e-5)
    one = bootstrap_bias(dataclasses.replace(base, k=1), 0, [1], probe_users=16)
    assert abs(one[0]["bias"]["touch"]) > 1e-6


def test_probe_leaves_training_unchanged() -> None:
    """Probing at every iteration gives the same later snapshots as probing once: the
    probe restores the agent's sampling stream and never learns."""
    base = dataclasses.replace(smoke_config(), workers=1, iterations=3)
    every = bootstrap_bias(base, 1, [0, 1, 2], probe_users=16)
    last = bootstrap_bias(base, 1, [2], probe_users=16)
    assert every[-1] == last[0]


def test_variant_and_overrides() -> None:
    base = dataclasses.replace(smoke_config(), workers=1)
    cfg = with_overrides(base, {"k": 2, "a2c": {"entropy_coef": 0.05}})
    assert cfg.k == 2 and cfg.a2c.entropy_coef == 0.05 and cfg.a2c.hidden == base.a2c.hidden
    rows = variant(cfg, [0, 1])
    assert [r["seed"] for r in rows] == [0, 1]
    for r in rows:
        assert r["collapsed"] == (r["touches"] < COLLAPSE_TOUCHES)
        assert np.isfinite(r["ltv"]) and 0 <= r["entropy_end"] <= np.log(16) + 1e-6 and r["price_max"] >= 0
        assert [c["iteration"] for c in r["curve"]] == list(range(cfg.iterations))
        assert r["curve"][-1]["entropy"] == r["entropy_end"] and set(r["curve"][0]) == set(CURVE_KEYS)
    assert variant(cfg, [0])[0]["ltv"] == rows[0]["ltv"]  # same seed => same run
    with pytest.raises(ValueError, match="snapshots"):
        bootstrap_bias(base, 0, [])
    with pytest.raises(SystemExit):
        main(["nonsense"])
    with pytest.raises(TypeError):  # an unknown field is refused by dataclasses.replace
        with_overrides(base, {"no_such_field": 1})
