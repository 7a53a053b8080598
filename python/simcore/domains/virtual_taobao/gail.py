"""GAIL / MAIL pieces: a discriminator of real vs generated (state, user action) pairs
as the reward, and PPO on the user policy (Ho & Ermon 2016; the article's LERD, section
3.3: "a discriminator D_w trained on real and generated data is the cost, PPO updates
pi_theta").

* :class:`Discriminator`: D(s, a) = sigmoid(MLP([s, a])), trained to output 1 on real
  pairs and 0 on generated ones (logistic loss); the policy's reward is
  r(s, a) = -log(1 - D(s, a)) (high where the pair looks real).
* :func:`ppo_step`: the clipped surrogate
  L = -E[min(rho A, clip(rho, 1 - eps, 1 + eps) A)] - c_H E[H],  rho = exp(log pi - log pi_old),
  over a batch of (log pi_old, advantage) with any policy given as a function
  returning (log pi(a|s), entropy) per row.
* :func:`user_log_prob`: log pi(a|s) of a user action under a BehaviourModel: the
  Bernoulli clicks of the valid ranks + the categorical outcome + (on a purchase) the
  bought item; :func:`sample_user_actions` draws such actions.
* :func:`train_gail`: GAIL on the logged states of a :class:`.data.PageData` (each page
  a one-step decision: the states are the log's, so this is GAIL without the
  rollouts of the joint engine-user policy; the article's MAIL also re-generates the
  states with the engine policy, which is not done here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from simcore.domains.virtual_taobao.bc import batch_tensors, predict
from simcore.domains.virtual_taobao.data import PageData
from simcore.domains.virtual_taobao.model import BehaviourModel, Response
from simcore.util.seeds import SeedTree

__all__ = ["Discriminator", "gail_reward", "discriminator_step", "ppo_step", "user_log_prob",
           "sample_user_actions", "GAILConfig", "train_gail"]


class Discriminator(nn.Module):
    """D(s, a) in (0, 1): real (1) vs generated (0).  s (r, ds), a (r, da) float32."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(state_dim + action_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def logit(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([s, a], dim=1)).squeeze(1)


def gail_reward(disc: Discriminator, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """r = -log(1 - D(s, a)) = softplus(logit), (r,) without gradient."""
    with torch.no_grad():
        return nn.functional.softplus(disc.logit(s, a))


def discriminator_step(disc: Discriminator, opt: torch.optim.Optimizer, real: tuple[torch.Tensor, torch.Tensor],
                       fake: tuple[torch.Tensor, torch.Tensor]) -> float:
    """One logistic-loss step (real -> 1, generated -> 0); returns the loss."""
    lr, lf = disc.logit(*real), disc.logit(*fake)
    bce = nn.functional.binary_cross_entropy_with_logits
    loss = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def ppo_step(logp_entropy: Callable[[], tuple[torch.Tensor, torch.Tensor]], opt: torch.optim.Optimizer,
             logp_old: torch.Tensor, adv: torch.Tensor, clip: float = 0.2, entropy_coef: float = 0.0) -> float:
    """One PPO clipped-surrogate step (module docstring); returns the loss."""
    logp, ent = logp_entropy()
    rho = torch.exp(logp - logp_old)
    surr = torch.minimum(rho * adv, torch.clamp(rho, 1 - clip, 1 + clip) * adv)
    loss = -surr.mean() - entropy_coef * ent.mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def user_log_prob(resp: Response, clicks: torch.Tensor, outcome: torch.Tensor, bought: torch.Tensor,
                  valid0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log pi(a|s), entropy of the outcome and clicks) per row for user actions
    (clicks bool (r, K), outcome (r,), bought (r,) window index or -1)."""
    vf = valid0.to(torch.float32)
    lc = -nn.functional.binary_cross_entropy_with_logits(resp.click_logit, clicks.to(torch.float32),
                                                         reduction="none")
    lo = torch.log_softmax(resp.outcome_logit, dim=1)
    logp = (lc * vf).sum(1) + lo.gather(1, outcome[:, None]).squeeze(1)
    li = torch.log_softmax(resp.item_logit, dim=1)
    has = bought >= 0
    logp = logp + torch.where(has, li.gather(1, bought.clamp(min=0)[:, None]).squeeze(1), torch.zeros_like(logp))
    pc = torch.sigmoid(resp.click_logit)
    hc = -(pc * torch.log(pc + 1e-9) + (1 - pc) * torch.log(1 - pc + 1e-9))
    ent = (hc * vf).sum(1) - (lo.exp() * lo).sum(1)
    return logp, ent


def sample_user_actions(resp: Response, valid0: torch.Tensor, gen: torch.Generator
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draws (clicks, outcome, bought) from the model's response (no gradient)."""
    with torch.no_grad():
        clicks = (torch.rand(resp.click_logit.shape, generator=gen) < torch.sigmoid(resp.click_logit)) & valid0
        outcome = torch.multinomial(resp.prob, 1, generator=gen).squeeze(1)
        item = torch.multinomial(torch.softmax(resp.item_logit, 1), 1, generator=gen).squeeze(1)
        return clicks, outcome, torch.where(outcome == 1, item, torch.full_like(item, -1))


def _features(b: dict[str, torch.Tensor], clicks: torch.Tensor, outcome: torch.Tensor, G: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator inputs: state = [page mean features of the W pages, power,
    onehot(segment), t]; action = [clicks (K), onehot(outcome) (3)]."""
    x, v = b["x"], b["valid"].to(torch.float32)
    mean = (x * v[..., None]).sum(2) / v.sum(2).clamp(min=1.0)[..., None]
    seg = nn.functional.one_hot(b["segment"], G).to(torch.float32)
    s = torch.cat([mean.flatten(1), b["power"][:, None], seg, b["t"][:, None]], dim=1)
    a = torch.cat([clicks.to(torch.float32), nn.functional.one_hot(outcome, 3).to(torch.float32)], dim=1)
    return s, a


@dataclass(frozen=True)
class GAILConfig:
    """GAIL fine-tuning: iterations (>= 1), batch (>= 2), ppo_epochs (>= 1), lr (> 0),
    clip (in (0, 1)), entropy_coef (>= 0), seed."""

    iterations: int = 50
    batch: int = 1024
    ppo_epochs: int = 4
    lr: float = 1e-3
    clip: float = 0.2
    entropy_coef: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("iterations", 1), ("batch", 2), ("ppo_epochs", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr: must be > 0, got {self.lr!r}")
        if not 0 < self.clip < 1:
            raise ValueError(f"clip: must lie in (0, 1), got {self.clip!r}")
        if not self.entropy_coef >= 0:
            raise ValueError(f"entropy_coef: must be >= 0, got {self.entropy_coef!r}")


def train_gail(data: PageData, model: BehaviourModel, cfg: GAILConfig | None = None) -> list[float]:
    """GAIL on the logged states (module docstring): per iteration, a batch of logged
    pages; the model draws user actions on them; D is trained real vs generated; the
    reward -log(1 - D) minus its batch mean is the advantage of PPO steps on the
    model.  Updates ``model`` in place; returns the mean reward per iteration."""
    cfg = cfg if cfg is not None else GAILConfig()
    tree = SeedTree(cfg.seed)
    rng = tree.generator("batches")
    gen = torch.Generator().manual_seed(tree.seed("actions") % (1 << 63))
    K = data.features.shape[1]
    W = data.window.shape[1]
    m = data.features.shape[2]
    G = model.config.segments
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tree.seed("disc") % (1 << 63))
        disc = Discriminator(W * m + 1 + G + 1, K + 3)
    od = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    op = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rewards = []
    for _ in range(cfg.iterations):
        rows = rng.integers(0, len(data), cfg.batch)
        b = batch_tensors(data, rows)
        with torch.no_grad():
            resp = predict(model, b)
        clicks, outcome, bought = sample_user_actions(resp, b["valid0"], gen)
        real = _features(b, b["clicks"], b["outcome"], G)
        fake = _features(b, clicks, outcome, G)
        discriminator_step(disc, od, real, fake)
        r = gail_reward(disc, *fake)
        adv = r - r.mean()
        logp_old = user_log_prob(resp, clicks, outcome, bought, b["valid0"])[0].detach()

        def logp_entropy() -> tuple[torch.Tensor, torch.Tensor]:
            return user_log_prob(predict(model, b), clicks, outcome, bought, b["valid0"])

        for _ in range(cfg.ppo_epochs):
            ppo_step(logp_entropy, op, logp_old, adv, cfg.clip, cfg.entropy_coef)
        rewards.append(float(r.mean()))
    return rewards
