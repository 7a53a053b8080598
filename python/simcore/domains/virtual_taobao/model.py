"""The behaviour model of a learned user: clicks, outcome and bought item given the
observable user and the remembered pages (torch).

Inputs (r rows, W remembered pages, K ranks, m features, G segments):
    x float32 (r, W, K, m) items of the pages of age 0..W-1, prices float32 (r, W, K),
    valid bool (r, W, K), power float32 (r,), segment int64 (r,), t float32 (r,)
    (page index / horizon).

Structure.  An item encoder e = MLP([x, power, onehot(segment), log v_k, k / K]) -> H
(cached per page by the learned simulator: it does not depend on the page's age).
Heads, with age embeddings A_a in R^H and biases:
    click logit of rank k on the page just shown   q_k = w_c . e_k + b_c
    purchase score of a remembered item            s_ak = w_p . (e_ak + A_a) + u_p . [x_ak, log v_k, k/K]
    P(bought item = (a, k) | buy) = softmax over the valid remembered items of s
    outcome logits (continue, buy, leave) = MLP([per age: mean_k e_ak, logsumexp_k s_ak,
        any valid; power, onehot(segment), t])
so that b, l, c = softmax(outcome logits) and m = sum_ak P(a, k | buy) price_ak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["BehaviourConfig", "BehaviourModel", "FastTanh", "Response", "NEG", "seeded_model", "as_tensor"]

#: the score of an invalid item (finite, so that gradients stay finite)
NEG = -1e30


@dataclass(frozen=True)
class BehaviourConfig:
    """Shape of the behaviour model.

    Attributes:
        page_size: K >= 1.  num_features: m >= 1.  window: W >= 1 remembered pages.
        segments: G >= 1.  hidden: width H of the item encoder and outcome MLP (>= 4).
        layers: hidden layers of the item encoder (>= 1).
    """

    page_size: int = 10
    num_features: int = 8
    window: int = 4
    segments: int = 4
    hidden: int = 32
    layers: int = 2

    def __post_init__(self) -> None:
        for name, lo in (("page_size", 1), ("num_features", 1), ("window", 1), ("segments", 1),
                         ("hidden", 4), ("layers", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")


@dataclass
class Response:
    """What the model says about the page just shown (float32 tensors, r rows).

    click_logit (r, K); outcome_logit (r, 3) continue/buy/leave; item_logit (r, W*K)
    (NEG = -1e30 on invalid items); prob (r, 3); m (r,) expected price given a purchase."""

    click_logit: torch.Tensor
    outcome_logit: torch.Tensor
    item_logit: torch.Tensor
    prob: torch.Tensor
    m: torch.Tensor


class FastTanh(nn.Tanh):
    """tanh, through NumPy's when no gradient is needed (float32 CPU tensors): within
    1 ulp of torch's (measured: max 1 ulp, on 32 % of entries).  torch 2.13's CPU tanh
    measured 12x slower here (0.50 against 0.04 ms CPU time for 6,200 x 32 entries, the
    item encoder's layer in one step of the learned simulator at B = 1024).  With
    autograd on, torch's tanh (so training is unchanged)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.requires_grad and torch.is_grad_enabled()) or x.device.type != "cpu" or x.dtype != torch.float32:
            return torch.tanh(x)
        return torch.from_numpy(np.tanh(x.detach().contiguous().numpy()))


class BehaviourModel(nn.Module):
    """The learned user's response model (module docstring for the maths)."""

    def __init__(self, config: BehaviourConfig | None = None) -> None:
        super().__init__()
        self.config = c = config if config is not None else BehaviourConfig()
        d_in = c.num_features + 1 + c.segments + 2
        enc: list[nn.Module] = []
        for i in range(c.layers):
            enc += [nn.Linear(d_in if i == 0 else c.hidden, c.hidden), FastTanh()]
        self.encoder = nn.Sequential(*enc)
        self.age = nn.Parameter(torch.zeros(c.window, c.hidden))
        self.click = nn.Linear(c.hidden, 1)
        self.purchase = nn.Linear(c.hidden, 1, bias=False)
        self.purchase_x = nn.Linear(c.num_features + 2, 1, bias=False)
        d_out = c.window * (c.hidden + 2) + 1 + c.segments + 1
        self.outcome = nn.Sequential(nn.Linear(d_out, c.hidden), FastTanh(), nn.Linear(c.hidden, 3))
        k = torch.arange(1, c.page_size + 1, dtype=torch.float32)
        self.register_buffer("rank_feat", torch.stack([-torch.log2(k + 1).log(), k / c.page_size], dim=1),
                             persistent=False)

    def user_features(self, power: torch.Tensor, segment: torch.Tensor) -> torch.Tensor:
        """float32 (r, 1 + G): power and the segment one-hot."""
        seg = nn.functional.one_hot(segment.long(), self.config.segments).to(torch.float32)
        return torch.cat([power.to(torch.float32)[:, None], seg], dim=1)

    def encode(self, x: torch.Tensor, user: torch.Tensor) -> torch.Tensor:
        """Item embeddings float32 (..., K, H) of pages x (..., K, m) for users
        (r, 1 + G) (the leading dim of x is r)."""
        shape = x.shape
        u = user.reshape(shape[0], *([1] * (len(shape) - 2)), user.shape[1]).expand(*shape[:-1], user.shape[1])
        rank_feat: torch.Tensor = self.rank_feat  # type: ignore[assignment]
        rank = rank_feat.expand(*shape[:-1], 2)
        return self.encoder(torch.cat([x, u, rank], dim=-1))

    def summarize(self, emb: torch.Tensor, valid: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-page summaries (cacheable: they do not depend on the page's age) of
        embeddings (r, P, K, H) of the items x (r, P, K, m) with valid (r, P, K): mean
        embedding over the valid items (r, P, H) and base purchase scores
        w_p . e + u_p . [x, log v_k, k / K] (r, P, K), NEG = -1e30 where invalid.  The
        linear skip u_p lets the choice among remembered items use the price level
        directly (the true choice is log-linear in it, docs/user_model.md)."""
        vf = valid.to(torch.float32)
        # without autograd and with every item valid, e * 1 = e and masked_fill(all False) are the
        # identity, exactly: skipped (with autograd they stay, so that the graph is unchanged)
        full = not torch.is_grad_enabled() and not emb.requires_grad and emb.is_contiguous() and bool(valid.all())
        mean = (emb if full else emb * vf[..., None]).sum(dim=2) / vf.sum(dim=2).clamp(min=1.0)[..., None]
        rank_feat: torch.Tensor = self.rank_feat  # type: ignore[assignment]
        lin = self.purchase_x(torch.cat([x, rank_feat.expand(*x.shape[:-1], 2)], dim=-1)).squeeze(-1)
        base = self.purchase(emb).squeeze(-1) + lin
        return mean, base if full else base.masked_fill(~valid, NEG)

    def respond(self, mean: torch.Tensor, base: torch.Tensor, click_logit: torch.Tensor, prices: torch.Tensor,
                valid: torch.Tensor, user: torch.Tensor, t: torch.Tensor) -> Response:
        """The response from the summaries of the W remembered pages (age 0 first):
        mean (r, W, H), base (r, W, K), the click logits of the page just shown (r, K),
        prices (r, W, K), valid (r, W, K), users (r, 1 + G), t (r,)."""
        r, W, K = base.shape
        score = base + self.purchase(self.age).reshape(1, W, 1)  # s_ak = w_p . (e_ak + A_a)
        any_valid = valid.any(dim=2)
        lse = torch.logsumexp(score, dim=2)
        lse = torch.where(any_valid, lse, torch.zeros_like(lse))
        pooled = torch.cat([mean, lse[..., None], any_valid.to(torch.float32)[..., None]], dim=2).reshape(r, -1)
        outcome_logit = self.outcome(torch.cat([pooled, user, t.to(torch.float32)[:, None]], dim=1))
        item_logit = score.reshape(r, W * K)
        p_item = torch.softmax(item_logit.masked_fill(~valid.reshape(r, -1), -1e30), dim=1)
        m = (p_item * prices.reshape(r, -1)).sum(dim=1)
        return Response(click_logit, outcome_logit, item_logit, torch.softmax(outcome_logit, dim=1), m)

    def clicks(self, emb: torch.Tensor) -> torch.Tensor:
        """Click logits (..., K) of item embeddings (..., K, H)."""
        return self.click(emb).squeeze(-1)

    def forward(self, x: torch.Tensor, prices: torch.Tensor, valid: torch.Tensor, power: torch.Tensor,
                segment: torch.Tensor, t: torch.Tensor) -> Response:
        """The response to the page of age 0 given the window x (r, W, K, m), prices
        (r, W, K), valid (r, W, K), power (r,), segment (r,), t (r,)."""
        user = self.user_features(power, segment)
        emb = self.encode(x, user)
        mean, base = self.summarize(emb, valid, x)
        return self.respond(mean, base, self.clicks(emb[:, 0]), prices, valid, user, t)

    def loss(self, resp: Response, clicks: torch.Tensor, outcome: torch.Tensor, bought: torch.Tensor,
             valid0: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The sum of three per-head mean negative log-likelihoods: Bernoulli clicks on
        the valid ranks of the page and the categorical outcome, each per page view, and
        the bought item per purchase (on purchases whose item is in the window).  The
        item term is a mean over purchases, not over page views: weighted by the share of
        purchases (~2 % of page views) it got too little of the shared encoder's
        training and the model's E[price | buy] stayed near the window's mean price
        (1.5x the truth).  Returns (total, parts as floats)."""
        vf = valid0.to(torch.float32)
        bce = nn.functional.binary_cross_entropy_with_logits(resp.click_logit, clicks.to(torch.float32),
                                                             reduction="none")
        l_click = (bce * vf).sum(dim=1).mean()
        l_out = nn.functional.cross_entropy(resp.outcome_logit, outcome)
        has = bought >= 0
        if bool(has.any()):
            logits = resp.item_logit[has]
            l_item = -torch.log_softmax(logits, dim=1).gather(1, bought[has][:, None]).mean()
        else:
            l_item = resp.outcome_logit.sum() * 0.0
        total = l_click + l_out + l_item
        parts = {"click": float(l_click.detach()), "outcome": float(l_out.detach()), "item": float(l_item.detach())}
        return total, parts


def seeded_model(config: BehaviourConfig, seed: int) -> BehaviourModel:
    """A BehaviourModel whose initial weights depend only on ``seed`` (the global torch
    stream is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) % (1 << 63))
        return BehaviourModel(config)


def as_tensor(a: np.ndarray) -> torch.Tensor:
    """A torch view of a NumPy array (no copy when contiguous)."""
    return torch.from_numpy(np.ascontiguousarray(a))
