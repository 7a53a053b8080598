"""GAN-SD: a generative adversarial network over customer features (Virtual Taobao,
Shi et al. 2019, section "GAN-SD"), with the paper's two terms against mode collapse.

Users are encoded as v = [onehot(query) (Q), onehot(segment) (G), power (1)].  The
generator G(z), z ~ N(0, I_d), outputs query and segment logits and power =
sigmoid(.); a generated user is drawn with the straight-through Gumbel-softmax (hard
one-hots forward, soft gradients back), so the discriminator D sees one-hots for both
real and generated users.  The discriminator minimises the usual logistic loss; the
generator minimises

    L_G = E_z[-log D(G(z))] - alpha * H(G) + beta * KL(P_data || P_G),

where H(G) is the entropy of the batch-mean generated distribution of each discrete
feature and of a soft 10-bin histogram of power (summed), and KL(P_data || P_G) the KL
divergence of the same marginals of the data from the generated ones: the entropy term
spreads the generator over the feature space, the KL term ties its marginals to the
data's (the paper's "entropy and KL divergence" constraints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from simcore.domains.virtual_taobao.users import encode_users
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

__all__ = ["GANSDConfig", "GANSDUsers", "train_gansd"]


@dataclass(frozen=True)
class GANSDConfig:
    """GAN-SD training.

    Attributes:
        noise_dim: d >= 1.  hidden: width of both nets (>= 4).
        steps: generator/discriminator updates (>= 1).  batch_size: >= 2.
        lr: Adam step size (> 0).  alpha: entropy weight (>= 0).  beta: KL weight (>= 0).
        power_bins: histogram bins of power for the entropy / KL terms (>= 2).
        temperature: Gumbel-softmax temperature (> 0).  seed: root seed.
    """

    noise_dim: int = 16
    hidden: int = 64
    steps: int = 1500
    batch_size: int = 256
    lr: float = 2e-3
    alpha: float = 0.1
    beta: float = 1.0
    power_bins: int = 10
    temperature: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("noise_dim", 1), ("hidden", 4), ("steps", 1), ("batch_size", 2), ("power_bins", 2)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        for name in ("lr", "temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        for name in ("alpha", "beta"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)!r}")


class _Generator(nn.Module):
    def __init__(self, d: int, hidden: int, Q: int, G: int) -> None:
        super().__init__()
        self.Q, self.G = Q, G
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, Q + G + 1))

    def forward(self, z: torch.Tensor, tau: float, hard: bool = True) -> tuple[torch.Tensor, ...]:
        out = self.net(z)
        lq, lg = out[:, : self.Q], out[:, self.Q: self.Q + self.G]
        q = nn.functional.gumbel_softmax(lq, tau=tau, hard=hard)
        g = nn.functional.gumbel_softmax(lg, tau=tau, hard=hard)
        p = torch.sigmoid(out[:, -1:])
        return torch.cat([q, g, p], dim=1), torch.softmax(lq, 1), torch.softmax(lg, 1), p[:, 0]


def _soft_hist(p: torch.Tensor, bins: int) -> torch.Tensor:
    centres = (torch.arange(bins, dtype=torch.float32) + 0.5) / bins
    w = torch.softmax(-((p[:, None] - centres[None]) ** 2) / (2 * (0.5 / bins) ** 2), dim=1)
    return w.mean(dim=0)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p + 1e-12)).sum()


def _kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (p * (torch.log(p + 1e-12) - torch.log(q + 1e-12))).sum()


class GANSDUsers:
    """A trained GAN-SD generator as a user sampler (``sample(rng, n)``): categorical
    draws from its query and segment probabilities and its power, for noise drawn from
    ``rng`` (so samples are a function of the rng's state)."""

    def __init__(self, gen: _Generator, noise_dim: int) -> None:
        self.gen, self.noise_dim = gen.eval(), noise_dim

    @torch.no_grad()
    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        z = torch.from_numpy(rng.standard_normal((n, self.noise_dim)).astype(np.float32))
        out = self.gen.net(z)
        Q, G = self.gen.Q, self.gen.G
        pq = torch.softmax(out[:, :Q].double(), 1).numpy()
        pg = torch.softmax(out[:, Q: Q + G].double(), 1).numpy()
        u = rng.random((n, 2))
        q = np.minimum((u[:, :1] >= np.cumsum(pq, 1)).sum(1), Q - 1)
        g = np.minimum((u[:, 1:] >= np.cumsum(pg, 1)).sum(1), G - 1)
        return {"query": q.astype(np.int64), "segment": g.astype(np.int32),
                "power": torch.sigmoid(out[:, -1]).double().numpy()}


def train_gansd(users: Mapping[str, np.ndarray], n_queries: int, n_segments: int, cfg: GANSDConfig | None = None,
                progress: bool = False) -> tuple[GANSDUsers, list[float]]:
    """Trains GAN-SD on observable users; returns (sampler, generator losses per step)."""
    cfg = cfg if cfg is not None else GANSDConfig()
    tree = SeedTree(cfg.seed)
    data = torch.from_numpy(encode_users(users, n_queries, n_segments).astype(np.float32))
    if data.shape[0] < 2:
        raise ValueError("users: need at least two users")
    Q, G = n_queries, n_segments
    pq_data, pg_data = data[:, :Q].mean(0), data[:, Q: Q + G].mean(0)
    ph_data = _soft_hist(data[:, -1], cfg.power_bins)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tree.seed("torch") % (1 << 63))
        gen = _Generator(cfg.noise_dim, cfg.hidden, Q, G)
        disc = nn.Sequential(nn.Linear(Q + G + 1, cfg.hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.hidden, 1))
        og = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        od = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        bce = nn.functional.binary_cross_entropy_with_logits
        idx_rng = tree.generator("batches")
        losses: list[float] = []
        bar = Progress(cfg.steps, desc="GAN-SD", unit="step", enabled=progress)
        for _ in range(cfg.steps):
            real = data[torch.from_numpy(idx_rng.integers(0, data.shape[0], cfg.batch_size))]
            fake, pq, pg, p = gen(torch.randn(cfg.batch_size, cfg.noise_dim), cfg.temperature)
            d_loss = (bce(disc(real), torch.ones(cfg.batch_size, 1))
                      + bce(disc(fake.detach()), torch.zeros(cfg.batch_size, 1)))
            od.zero_grad()
            d_loss.backward()
            od.step()
            mq, mg, mh = pq.mean(0), pg.mean(0), _soft_hist(p, cfg.power_bins)
            ent = _entropy(mq) + _entropy(mg) + _entropy(mh)
            kl = _kl(pq_data, mq) + _kl(pg_data, mg) + _kl(ph_data, mh)
            g_loss = bce(disc(fake), torch.ones(cfg.batch_size, 1)) - cfg.alpha * ent + cfg.beta * kl
            og.zero_grad()
            g_loss.backward()
            og.step()
            losses.append(float(g_loss.detach()))
            bar.update(1)
        bar.close()
    return GANSDUsers(gen, cfg.noise_dim), losses
