"""GAIL/MAIL pieces on a tiny known problem, ANC, and GAIL on logged pages."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simcore.domains.virtual_taobao.anc import ActionNormConstraint, anc_penalty, reference_norm  # noqa: E402
from simcore.domains.virtual_taobao.gail import (  # noqa: E402
    Discriminator,
    GAILConfig,
    discriminator_step,
    gail_reward,
    ppo_step,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _kl(p, q):
    return float((p * (torch.log(p) - torch.log(q))).sum(1).mean())


def test_gail_recovers_a_known_policy():
    """Expert pi*(a|s) = softmax(A s) over 3 actions; GAIL (D as reward, PPO on a
    linear softmax policy started at uniform) brings KL(pi* || pi) far below its start."""
    torch.manual_seed(0)
    A = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]])
    policy = torch.nn.Linear(2, 3)
    torch.nn.init.zeros_(policy.weight)
    torch.nn.init.zeros_(policy.bias)
    disc = Discriminator(2, 3, hidden=32)
    od = torch.optim.Adam(disc.parameters(), lr=3e-3)
    op = torch.optim.Adam(policy.parameters(), lr=1e-2)
    test_s = torch.randn(2000, 2)
    expert_test = torch.softmax(test_s @ A.T, 1)
    kl0 = _kl(expert_test, torch.softmax(policy(test_s), 1).detach())
    for _ in range(300):
        s = torch.randn(256, 2)
        a_exp = torch.multinomial(torch.softmax(s @ A.T, 1), 1).squeeze(1)
        with torch.no_grad():
            logits = policy(s)
        a_gen = torch.multinomial(torch.softmax(logits, 1), 1).squeeze(1)
        oh = torch.nn.functional.one_hot
        discriminator_step(disc, od, (s, oh(a_exp, 3).float()), (s, oh(a_gen, 3).float()))
        # reward of every action; advantage against the per-state mean under pi
        r_all = torch.stack([gail_reward(disc, s, oh(torch.full_like(a_gen, j), 3).float()) for j in range(3)], 1)
        pi = torch.softmax(logits, 1)
        adv = r_all.gather(1, a_gen[:, None]).squeeze(1) - (pi * r_all).sum(1)
        logp_old = torch.log_softmax(logits, 1).gather(1, a_gen[:, None]).squeeze(1)

        def lp():
            lsm = torch.log_softmax(policy(s), 1)
            return lsm.gather(1, a_gen[:, None]).squeeze(1), -(lsm.exp() * lsm).sum(1)

        for _ in range(2):
            ppo_step(lp, op, logp_old, adv)
    kl1 = _kl(expert_test, torch.softmax(policy(test_s), 1).detach())
    assert kl1 < 0.3 * kl0, (kl0, kl1)


def test_discriminator_separates_and_reward_sign():
    torch.manual_seed(1)
    disc = Discriminator(1, 1, hidden=8)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-2)
    s = torch.zeros(128, 1)
    for _ in range(200):
        discriminator_step(disc, opt, (s, torch.ones(128, 1)), (s, -torch.ones(128, 1)))
    assert float(gail_reward(disc, s[:1], torch.ones(1, 1))) > float(gail_reward(disc, s[:1], -torch.ones(1, 1)))


def test_ppo_clip_limits_the_ratio_gain():
    """With a positive advantage, the surrogate's gradient vanishes once rho > 1 + eps."""
    theta = torch.nn.Parameter(torch.tensor([1.0]))
    opt = torch.optim.SGD([theta], lr=0.1)
    logp_old = torch.tensor([0.0])
    ppo_step(lambda: (theta * 1.0, torch.zeros(1)), opt, logp_old, torch.tensor([1.0]), clip=0.2)
    assert float(theta) == pytest.approx(1.0)  # rho = e > 1.2: clipped, no gradient


def test_gail_config_errors():
    with pytest.raises(ValueError, match="clip"):
        GAILConfig(clip=1.5)
    with pytest.raises(ValueError, match="iterations"):
        GAILConfig(iterations=0)


def test_anc_penalty_and_wrapper():
    a = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(anc_penalty(a, reference=1.0, ratio=2.0, weight=0.5), [1.5, 0.0])
    assert reference_norm(a) == pytest.approx(2.75)
    with pytest.raises(ValueError, match="weight"):
        anc_penalty(a, 1.0, weight=-1.0)
    from simcore.domains.virtual_taobao.env import LearnedSearchVectorEnv

    env = ActionNormConstraint(LearnedSearchVectorEnv(2, config={"world": {"n_queries": 4, "n_items": 60}}),
                               reference=0.5, ratio=1.0, weight=1.0)
    plain = LearnedSearchVectorEnv(2, config={"world": {"n_queries": 4, "n_items": 60}})
    env.reset(seed=0)
    plain.reset(seed=0)
    big = np.full((2, 8), 1.0, np.float32)
    _, r, _, _, info = env.step(big)
    np.testing.assert_allclose(info["anc_penalty"], np.sqrt(8) - 0.5, rtol=1e-6)
    np.testing.assert_allclose(r, plain.step(big)[1] - info["anc_penalty"])
