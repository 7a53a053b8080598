"""Sequential off-policy estimators (simcore.algos.ope_sequential) on an episodic MDP with
exact values by backward recursion (simcore.domains.bandits.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.algos import ope
from simcore.algos import ope_sequential as seq
from simcore.domains.bandits.synthetic import EpisodicConfig, EpisodicMDP, SyntheticBandit, SyntheticBanditConfig
from simcore.util.seeds import SeedTree


def _mdp():
    rng = SeedTree(3).generator("mdp")
    m = EpisodicMDP(EpisodicConfig(n_states=3, n_actions=3, horizon=3, gamma=0.9), rng)
    pi_b = 0.5 * m.random_policy(rng) + 0.5 / 3
    pi_e = m.random_policy(rng)
    return m, pi_b, pi_e


def test_exact_value_matches_on_policy_monte_carlo():
    m, _, pi_e = _mdp()
    log = m.log(pi_e, 40000, SeedTree(3).generator("on"))
    ret = (log["reward"] * 0.9 ** np.arange(3)).sum(axis=1)
    assert abs(ret.mean() - m.value(pi_e)) < 4 * ret.std() / np.sqrt(ret.size)
    env = SyntheticBandit(SyntheticBanditConfig(n_contexts=7), SeedTree(3).generator("b"))
    pi = env.softmax_policy(0.5)
    lg = env.log(pi, 40000, SeedTree(3).generator("bl"))
    assert abs(lg["reward"].mean() - env.value(pi)) < 4 * lg["reward"].std() / 200


@pytest.mark.parametrize("name", ["is", "pdis", "dr-true", "dr-wrong"])
def test_unbiased_on_known_value(name):
    m, pi_b, pi_e = _mdp()
    v = m.value(pi_e)
    wrong = m.q_values(pi_e) * 0.5 + 0.3
    tree = SeedTree(4).child("seq-unbiased", name)
    vals = []
    for rep in range(300):
        log = m.log(pi_b, 100, tree.generator(rep))
        t = m.target_terms(log, pi_e, None if name != "dr-wrong" else wrong)
        args = (log["reward"], log["pscore"], t["target_prob"])
        if name == "is":
            vals.append(seq.trajectory_is(*args, gamma=0.9).value)
        elif name == "pdis":
            vals.append(seq.pdis(*args, gamma=0.9).value)
        else:
            vals.append(seq.sequential_dr(*args, t["q_hat"], t["v_hat"], gamma=0.9).value)
    vals = np.array(vals)
    assert abs(vals.mean() - v) < 4 * vals.std(ddof=1) / np.sqrt(vals.size)


def test_wpdis_consistent_and_dr_identities():
    m, pi_b, pi_e = _mdp()
    log = m.log(pi_b, 50000, SeedTree(5).generator("big"))
    t = m.target_terms(log, pi_e)
    args = (log["reward"], log["pscore"], t["target_prob"])
    assert abs(seq.wpdis(*args, gamma=0.9).value - m.value(pi_e)) < 0.02
    zero = np.zeros_like(log["reward"])
    # DR with a zero model is PDIS exactly
    assert seq.sequential_dr(*args, zero, zero, gamma=0.9).value == pytest.approx(seq.pdis(*args, gamma=0.9).value)
    # DR with the true model has a far smaller spread than PDIS (per-episode terms)
    dr = seq.sequential_dr(*args, t["q_hat"], t["v_hat"], gamma=0.9)
    assert dr.stderr() < 0.7 * seq.pdis(*args, gamma=0.9).stderr()
    # H = 1: PDIS is the bandit IPS
    one = {k: v[:, :1] for k, v in log.items()}
    tp = t["target_prob"][:, :1]
    dist = np.zeros((one["action"].shape[0], 3))
    dist[np.arange(dist.shape[0]), one["action"][:, 0]] = tp[:, 0]
    dist[:, :] += (1 - dist.sum(axis=1, keepdims=True)) * (dist == 0) / np.maximum((dist == 0).sum(1, keepdims=True), 1)
    ips = ope.ips(one["reward"][:, 0], one["action"][:, 0], one["pscore"][:, 0], dist).value
    assert seq.pdis(one["reward"], one["pscore"], tp).value == pytest.approx(ips)


def test_mask_equals_truncation_and_bad_input():
    rng = SeedTree(6).generator("m")
    r, p, q = rng.random((5, 4)), rng.uniform(0.2, 1, (5, 4)), rng.random((5, 4))
    mask = np.ones((5, 4), dtype=bool)
    mask[:, 2:] = False
    for f in (seq.trajectory_is, seq.pdis, seq.wpdis):
        assert f(r, p, q, mask, 0.8).value == pytest.approx(f(r[:, :2], p[:, :2], q[:, :2], None, 0.8).value)
    with pytest.raises(ValueError, match="pscore"):
        seq.pdis(r, np.zeros((5, 4)), q)
    with pytest.raises(ValueError, match="target_prob"):
        seq.pdis(r, p, q + 1.5)
    with pytest.raises(ValueError, match="mask"):
        bad = mask.copy()
        bad[0, 3] = True
        seq.pdis(r, p, q, bad)
    with pytest.raises(ValueError, match="gamma"):
        seq.pdis(r, p, q, gamma=1.5)
    with pytest.raises(ValueError, match="shape"):
        seq.pdis(r, p[:, :3], q)
