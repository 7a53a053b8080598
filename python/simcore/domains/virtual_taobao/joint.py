"""MAIL with the joint engine-user policy pi(a_u, a_e | s_u) (the article's section 3.3).

The engine policy that produced a log is in general unknown, so the article learns it
jointly with the user: the rollouts inside the learned simulator are driven by a
learned engine policy pi_e(a_e | s) (a_e = the ranking weights) and the learned user
pi_u(a_u | s, page); the discriminator sees (s, a_e, a_u) triples, real (the log's
pages, with the log's ``action`` column as a_e) against generated; PPO maximises the
discriminator's logit on log pi_u + log pi_e with one advantage.

* :class:`EnginePolicy`: a Gaussian over the m ranking weights, mean b + A s (A = 0 at
  the start, so a state-independent mean), a learned log-std per weight; s is the
  observation the engine sees before the page (the learned simulator's layout,
  :func:`engine_states`).  :meth:`EnginePolicy.fit_logged` sets (b, std) to the
  maximum-likelihood state-independent Gaussian of logged actions (the BC start).
* :func:`engine_states`: the observation before each page of a :class:`.data.PageData`
  (the pages' mean item features of the W previous pages, the mean features of their
  clicked items, power, onehot(segment), t / T), equal to what the learned simulator
  returns (tested), so real and generated pages get the same state.
* :func:`train_joint_mail`: per iteration, rollouts of both policies from logged first
  states, ``disc_steps`` discriminator steps, PPO on the joint log-probability.

Deterministic given ``JointMAILConfig.seed`` (SeedTree paths "users", "rollout/<i>",
"engine/<i>", "real/<i>", "disc").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from simcore.domains.search.config import SessionConfig
from simcore.domains.search.world import World
from simcore.domains.virtual_taobao.bc import batch_tensors, predict
from simcore.domains.virtual_taobao.data import PageData, first_pages
from simcore.domains.virtual_taobao.gail import Discriminator, _features, discriminator_step, ppo_step, user_log_prob
from simcore.domains.virtual_taobao.mail import MAILConfig, _advantage, generate_sessions, reward_to_go
from simcore.domains.virtual_taobao.model import BehaviourModel
from simcore.util.seeds import SeedTree

__all__ = ["EnginePolicy", "JointMAILConfig", "engine_states", "train_joint_mail"]


def engine_states(data: PageData, segments: int) -> np.ndarray:
    """float32 (n, W*m + m + 1 + G + 1): the engine's observation before each page
    (module docstring); rows grouped by session in page order (as every PageData)."""
    n, K, m = data.features.shape
    W = data.window.shape[1]
    prev = np.arange(n) - 1
    has_prev = data.page > 0
    idx = np.where(has_prev[:, None], data.window[np.where(has_prev, prev, 0)], -1)  # (n, W) pages before
    on = idx >= 0
    safe = np.where(on, idx, 0)
    x = data.features[safe] * on[..., None, None]  # (n, W, K, m)
    nvalid = (data.valid[safe] & on[..., None]).sum(axis=2)
    feat_mean = x.sum(axis=2) / np.maximum(nvalid, 1)[..., None]
    clk = data.clicks[safe] & on[..., None]
    n_clicks = clk.sum(axis=(1, 2)).astype(np.float32)
    click_feat = (x * clk[..., None]).sum(axis=(1, 2))
    G = int(segments)
    s = np.zeros((n, W * m + m + 1 + G + 1), np.float32)
    s[:, : W * m] = feat_mean.reshape(n, W * m)
    s[:, W * m: W * m + m] = np.where(n_clicks[:, None] > 0, click_feat / np.maximum(n_clicks, 1)[:, None], 0.0)
    o = W * m + m
    s[:, o] = data.power
    s[np.arange(n), o + 1 + data.segment] = 1.0
    s[:, -1] = np.minimum(1.0, data.page / max(data.horizon, 1))
    return s


class EnginePolicy(nn.Module):
    """pi_e(a | s) = N(b + A s, diag(exp(2 log_std))) over m ranking weights; s (r, D)."""

    def __init__(self, state_dim: int, num_features: int, mean: np.ndarray | None = None, std: float = 0.5) -> None:
        super().__init__()
        self.state_dim, self.num_features = int(state_dim), int(num_features)
        self.A = nn.Linear(self.state_dim, self.num_features, bias=False)
        nn.init.zeros_(self.A.weight)
        b = np.zeros(self.num_features) if mean is None else np.asarray(mean, np.float64)
        if b.shape != (self.num_features,) or not np.all(np.isfinite(b)):
            raise ValueError(f"mean: expected a finite ({self.num_features},) vector, got shape {b.shape}")
        if not (np.isfinite(std) and std > 0):
            raise ValueError(f"std: must be finite and > 0, got {std!r}")
        self.b = nn.Parameter(torch.tensor(b, dtype=torch.float32))
        self.log_std = nn.Parameter(torch.full((self.num_features,), float(np.log(std))))

    def fit_logged(self, actions: np.ndarray) -> EnginePolicy:
        """The maximum-likelihood state-independent Gaussian of logged actions (n, m): A = 0."""
        a = np.asarray(actions, np.float64)
        if a.ndim != 2 or a.shape[1] != self.num_features or a.shape[0] < 2 or not np.all(np.isfinite(a)):
            raise ValueError(f"actions: expected finite (n >= 2, {self.num_features}), got shape {a.shape}")
        with torch.no_grad():
            nn.init.zeros_(self.A.weight)
            self.b.copy_(torch.tensor(a.mean(axis=0), dtype=torch.float32))
            self.log_std.copy_(torch.tensor(np.log(np.maximum(a.std(axis=0), 1e-4)), dtype=torch.float32))
        return self

    def mean(self, s: torch.Tensor) -> torch.Tensor:
        """(r, m) mean weights of states s (r, D)."""
        return self.b + self.A(s)

    def log_prob(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """(r,) log density of actions a (r, m) at states s (r, D)."""
        z = (a - self.mean(s)) / self.log_std.exp()
        return -(0.5 * z * z + self.log_std + 0.5 * np.log(2 * np.pi)).sum(dim=1)

    def sampler(self, gen: torch.Generator):  # type: ignore[no-untyped-def]
        """obs float32 (B, D) -> float32 (B, m) draws (for :func:`.mail.generate_sessions`)."""
        def draw(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                s = torch.from_numpy(np.ascontiguousarray(obs, np.float32))
                eps = torch.randn((s.shape[0], self.num_features), generator=gen)
                return (self.mean(s) + self.log_std.exp() * eps).numpy()
        return draw


@dataclass(frozen=True)
class JointMAILConfig(MAILConfig):
    """MAILConfig plus the engine policy's Adam step sizes: ``engine_lr`` (> 0) of its
    mean b and log-std, ``engine_state_lr`` (>= 0; 0 keeps the policy state-independent)
    of its state weights A; ``std`` is unused (the engine's spread is learned).  The
    discriminator is stronger than MAILConfig's (10 steps at lr 1e-2 per iteration):
    with 2 steps at 1e-3 the test problem's engine mean moved 1.07 -> 1.00 in 25
    iterations, with 10 at 1e-2 to 0.17 (tests/test_virtual_taobao_joint.py)."""

    disc_steps: int = 10
    disc_lr: float = 1e-2
    engine_lr: float = 3e-2
    engine_state_lr: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.engine_lr > 0:
            raise ValueError(f"engine_lr: must be > 0, got {self.engine_lr!r}")
        if not self.engine_state_lr >= 0:
            raise ValueError(f"engine_state_lr: must be >= 0, got {self.engine_state_lr!r}")


def _disc_inputs(b: dict[str, torch.Tensor], action: torch.Tensor, G: int) -> tuple[torch.Tensor, torch.Tensor]:
    """D's (state, [a_e, a_u]) inputs: the user state of :func:`.gail._features`, the
    engine's weights and the user's clicks and outcome."""
    s, au = _features(b, b["clicks"], b["outcome"], G)
    return s, torch.cat([action, au], dim=1)


def train_joint_mail(data: PageData, model: BehaviourModel, engine: EnginePolicy, config: SessionConfig,
                     world: World, cfg: JointMAILConfig | None = None) -> list[float]:
    """Joint MAIL on the log ``data`` (which needs its ``action`` column); updates
    ``model`` and ``engine`` in place and returns the mean reward logit of the
    generated pages per iteration."""
    cfg = cfg if cfg is not None else JointMAILConfig()
    if data.action is None:
        raise ValueError("data: the log has no engine actions (PageData.action is None)")
    tree = SeedTree(cfg.seed)
    users = first_pages(data)
    n_users = users["query"].shape[0]
    W, K, m, G = data.window.shape[1], data.features.shape[1], data.features.shape[2], model.config.segments
    real_s = torch.from_numpy(engine_states(data, G))
    if real_s.shape[1] != engine.state_dim or m != engine.num_features:
        raise ValueError(f"engine: its (state_dim, m) = {(engine.state_dim, engine.num_features)} do not match "
                         f"the data's {(real_s.shape[1], m)}")
    real_a = torch.from_numpy(np.ascontiguousarray(data.action, np.float32))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tree.seed("disc") % (1 << 63))
        disc = Discriminator(W * m + 1 + G + 1, m + K + 3)
    od = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    op = torch.optim.Adam([{"params": model.parameters(), "lr": cfg.lr},
                           {"params": [engine.b, engine.log_std], "lr": cfg.engine_lr},
                           {"params": engine.A.parameters(), "lr": cfg.engine_state_lr}])
    rewards: list[float] = []
    for it in range(cfg.iterations):
        pick = tree.generator("users", it).integers(0, n_users, cfg.sessions)
        gen_e = torch.Generator().manual_seed(tree.seed("engine", it) % (1 << 63))
        gen = generate_sessions(model, config, world, {k: v[pick] for k, v in users.items()}, engine.b.detach().numpy(),
                                0.0, tree.seed("rollout", it), engine=engine.sampler(gen_e))
        bg = batch_tensors(gen, np.arange(len(gen)))
        gs = torch.from_numpy(engine_states(gen, G))
        ga = torch.from_numpy(np.ascontiguousarray(gen.action, np.float32))
        fake = _disc_inputs(bg, ga, G)
        rrng = tree.generator("real", it)
        for _ in range(cfg.disc_steps):
            rows = rrng.integers(0, len(data), len(gen))
            discriminator_step(disc, od, _disc_inputs(batch_tensors(data, rows), real_a[rows], G), fake)
        with torch.no_grad():
            r = disc.logit(*fake).numpy()
        rewards.append(float(r.mean()))
        adv = torch.from_numpy(_advantage(reward_to_go(r, gen.session), gen.page).astype(np.float32))

        def logp_entropy() -> tuple[torch.Tensor, torch.Tensor]:
            lu, ent = user_log_prob(predict(model, bg), bg["clicks"], bg["outcome"], bg["bought"], bg["valid0"])
            return lu + engine.log_prob(gs, ga), ent

        with torch.no_grad():
            logp_old = logp_entropy()[0]
        for _ in range(cfg.ppo_epochs):
            ppo_step(logp_entropy, op, logp_old, adv, clip=cfg.clip)
    return rewards
