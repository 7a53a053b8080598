"""CPU meta-predictor: an attentive neural process (Kim et al., ICLR 2019) over app zones
(seed section 3; Xue et al., KDD 2022, "CPU utilisation meta-predictor").

Each zone is a task: a set of pairs (x_i, y_i), x_i float (D,) the features of the
traffic per VM (:func:`features`: log1p(traffic / VMs) per traffic dimension), y_i the
observed CPU in [0, 1].  One model serves every zone:

* deterministic path: r_i = MLP([x_i, y_i]) for the context C; for a target x*,
  r* = MultiheadAttention(query = e(x*), keys = e(x_C), values = r_C) (e a shared MLP);
* latent path: s_i = MLP([x_i, y_i]), s = mean_i s_i, q(z | C) = N(mu(s), sigma(s)^2)
  with sigma = 0.01 + 0.99 sigmoid(.) (the task embedding z, float (latent,));
* decoder: p(y* | x*, r*, z) = N(mu, sd^2), [mu, sd] = MLP([x*, r*, z]), sd = min_sd +
  softplus(.).

Training maximises the ELBO of the slides per task, C a random subset of T (the
target set):

    ELBO = E_{q(z | T)} [ sum_{t in T} log p(y_t | x_t, r_C(x_t), z) ] - KL(q(z | T) || q(z | C)),

reported per target point (one reparameterised sample of z).  Prediction uses z =
the mean of q(z | C).  ``deterministic=False, latent_path=False`` turns the model into
one global MLP p(y | x) (the "global model without z" comparison);
``latent_path=False`` alone gives an attentive conditional NP.  Inputs are standardised
with the training set's feature mean and sd (buffers of the state dict).

:func:`linear_per_zone` is the per-zone parametric comparison: c = a + b . (x / l)
fitted by ridge least squares on each zone's context.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = ["ANPConfig", "ANP", "ANPContext", "CrossAttention", "features", "linear_per_zone", "check_sets"]


@dataclass(frozen=True)
class ANPConfig:
    """Attentive neural process settings.

    Attributes:
        x_dim: feature dimension D (>= 1; 2 = RPC, messages).
        hidden: width of every MLP and of the attention (>= 4, divisible by ``heads``).
        latent: dimension of z (>= 1).
        heads: attention heads (>= 1).
        deterministic: use the cross-attention path.  latent_path: use z.
        lr: Adam learning rate (in (0, 1)).  steps: gradient steps of :meth:`ANP.fit` (>= 1).
        batch_tasks: tasks per step (>= 1).
        context_min, context_max: the context size of a step is uniform in this range
            (1 <= min <= max); the target set adds ``extra_targets`` (>= 1) points.
        min_sd: floor of the predictive sd (in (0, 1)).
        seed: torch seed of the initial weights and the sampling (>= 0).
    """

    x_dim: int = 2
    hidden: int = 64
    latent: int = 16
    heads: int = 4
    deterministic: bool = True
    latent_path: bool = True
    lr: float = 1e-3
    steps: int = 800
    batch_tasks: int = 32
    context_min: int = 16
    context_max: int = 96
    extra_targets: int = 48
    min_sd: float = 0.005
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("x_dim", 1), ("hidden", 4), ("latent", 1), ("heads", 1), ("steps", 1),
                         ("batch_tasks", 1), ("context_min", 1), ("extra_targets", 1), ("seed", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        if self.hidden % self.heads:
            raise ValueError(f"hidden: must be divisible by heads ({self.heads}), got {self.hidden}")
        if not isinstance(self.context_max, int) or self.context_max < self.context_min:
            raise ValueError(f"context_max: must be an integer >= context_min, got {self.context_max!r}")
        if not 0 < self.lr < 1:
            raise ValueError(f"lr: must lie in (0, 1), got {self.lr!r}")
        if not 0 < self.min_sd < 1:
            raise ValueError(f"min_sd: must lie in (0, 1), got {self.min_sd!r}")


def features(traffic: np.ndarray, vms: np.ndarray) -> np.ndarray:
    """log1p(traffic / VMs): float32 (..., D) from traffic (..., D) >= 0 and VMs (...) >= 1."""
    x = np.asarray(traffic, dtype=np.float64)
    v = np.asarray(vms, dtype=np.float64)
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("traffic: must be finite and >= 0 (negative or NaN traffic)")
    if not np.all(np.isfinite(v)) or np.any(v < 1):
        raise ValueError("vms: must be finite and >= 1 (zero VMs cannot serve)")
    return np.log1p(x / v[..., None]).astype(np.float32)


def check_sets(x: Any, y: Any | None, D: int, name: str = "x") -> tuple[torch.Tensor, torch.Tensor | None]:
    """x float (B, n, D) and y float (B, n) in [0, 1], finite (ValueError naming the argument)."""
    xa = np.asarray(x, dtype=np.float32)
    if xa.ndim != 3 or xa.shape[2] != D or xa.shape[0] < 1 or xa.shape[1] < 1:
        raise ValueError(f"{name}: expected shape (B, n, {D}) with B, n >= 1, got {xa.shape}")
    if not np.all(np.isfinite(xa)):
        raise ValueError(f"{name}: must be finite (NaN or inf given)")
    if y is None:
        return torch.from_numpy(xa), None
    ya = np.asarray(y, dtype=np.float32)
    yname = "y" if name == "x" else name.replace("x", "y", 1)
    if ya.shape != xa.shape[:2]:
        raise ValueError(f"{yname}: expected shape {xa.shape[:2]}, got {ya.shape}")
    if not np.all(np.isfinite(ya)) or ya.min() < 0 or ya.max() > 1:
        raise ValueError(f"{yname}: CPU utilisation must be finite and lie in [0, 1]")
    return torch.from_numpy(xa), torch.from_numpy(ya)


def _mlp(i: int, h: int, o: int, depth: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(depth):
        layers += [nn.Linear(i if k == 0 else h, h), nn.ReLU()]
    layers.append(nn.Linear(h, o))
    return nn.Sequential(*layers)


class ANPContext(NamedTuple):
    """An encoded context: the attention's projected keys and values (B, heads, n,
    hidden / heads) (None without the deterministic path), z (B, latent) the mean of
    q(z | C) (None without z)."""

    keys: torch.Tensor | None
    values: torch.Tensor | None
    z: torch.Tensor | None

    def take(self, idx: torch.Tensor) -> ANPContext:
        """The contexts of tasks ``idx`` (int64 (m,))."""
        return ANPContext(*(None if t is None else t[idx] for t in self))


class CrossAttention(nn.Module):
    """Multi-head scaled dot-product attention (Vaswani et al.) with the key and value
    projections applied once per context (:meth:`project`), so model rollouts that
    query one context many times pay for them once."""

    def __init__(self, h: int, heads: int) -> None:
        super().__init__()
        self.heads, self.d = heads, h // heads
        self.q, self.k, self.v, self.out = (nn.Linear(h, h) for _ in range(4))

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, n, _ = x.shape
        return x.view(B, n, self.heads, self.d).transpose(1, 2)

    def project(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Projected keys and values (B, heads, n, d) of keys, values (B, n, h)."""
        return self._split(self.k(keys)), self._split(self.v(values))

    def forward(self, query: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """softmax(q k^T / sqrt(d)) v per head, concatenated and projected: (B, m, h)."""
        q = self._split(self.q(query))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d), dim=-1)
        B, _, m, _ = q.shape
        return self.out((w @ v).transpose(1, 2).reshape(B, m, self.heads * self.d))


class ANP(nn.Module):
    """The attentive neural process (module docstring).  All tensors float32."""

    x_mean: torch.Tensor
    x_sd: torch.Tensor

    def __init__(self, config: ANPConfig | None = None) -> None:
        super().__init__()
        self.config = c = config if config is not None else ANPConfig()
        if not isinstance(c, ANPConfig):
            raise TypeError(f"config: expected ANPConfig, got {type(c).__name__}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self._build(c)

    def _build(self, c: ANPConfig) -> None:
        D, h = c.x_dim, c.hidden
        self.register_buffer("x_mean", torch.zeros(D))
        self.register_buffer("x_sd", torch.ones(D))
        if c.deterministic:
            self.det_enc = _mlp(D + 1, h, h)
            self.embed = _mlp(D, h, h, depth=1)
            self.attn = CrossAttention(h, c.heads)
        if c.latent_path:
            self.lat_enc = _mlp(D + 1, h, h)
            self.lat_head = _mlp(h, h, 2 * c.latent, depth=1)
        dec_in = D + (h if c.deterministic else 0) + (c.latent if c.latent_path else 0)
        self.decoder = _mlp(dec_in, h, 2, depth=3)

    # ------------------------------------------------------------ pieces
    def _std(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.x_mean) / self.x_sd

    def _q(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | set): mean and sd (B, latent) of the set (x (B, n, D) standardised, y (B, n))."""
        s = self.lat_enc(torch.cat([x, y[..., None]], dim=-1)).mean(dim=1)
        mu, raw = self.lat_head(s).chunk(2, dim=-1)
        return mu, 0.01 + 0.99 * torch.sigmoid(raw)

    def _encode(self, xc: torch.Tensor, yc: torch.Tensor) -> ANPContext:
        keys = values = z = None
        if self.config.deterministic:
            keys, values = self.attn.project(self.embed(xc), self.det_enc(torch.cat([xc, yc[..., None]], dim=-1)))
        if self.config.latent_path:
            z = self._q(xc, yc)[0]
        return ANPContext(keys, values, z)

    def _decode(self, ctx: ANPContext, xt: torch.Tensor, z: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and sd (B, m) at standardised targets xt (B, m, D)."""
        parts = [xt]
        if self.config.deterministic:
            assert ctx.keys is not None and ctx.values is not None
            parts.append(self.attn(self.embed(xt), ctx.keys, ctx.values))
        if self.config.latent_path:
            assert z is not None
            parts.append(z[:, None, :].expand(-1, xt.shape[1], -1))
        mu, raw = self.decoder(torch.cat(parts, dim=-1)).unbind(-1)
        return mu, self.config.min_sd + nn.functional.softplus(raw)

    def elbo(self, xc: torch.Tensor, yc: torch.Tensor, xt: torch.Tensor, yt: torch.Tensor,
             eps: torch.Tensor | None = None) -> torch.Tensor:
        """The ELBO per target point (scalar tensor), raw features in, one sample of z
        (z = mu + sd eps, eps (B, latent) standard normal; None: z = mu, no sampling)."""
        xc, xt = self._std(xc), self._std(xt)
        ctx = self._encode(xc, yc)
        z, kl = None, torch.zeros(())
        if self.config.latent_path:
            mu_t, sd_t = self._q(xt, yt)
            mu_c, sd_c = self._q(xc, yc)
            z = mu_t if eps is None else mu_t + sd_t * eps
            kl = (torch.log(sd_c / sd_t) + (sd_t**2 + (mu_t - mu_c) ** 2) / (2 * sd_c**2) - 0.5).sum(-1).mean()
        mu, sd = self._decode(ctx, xt, z)
        ll = (-0.5 * ((yt - mu) / sd) ** 2 - torch.log(sd) - 0.5 * math.log(2 * math.pi)).mean()
        return ll - kl / xt.shape[1]

    # ------------------------------------------------------------ api
    def fit(self, x: Any, y: Any, progress: bool = False) -> list[float]:
        """Trains on tasks x float (N, n, D) (raw features), y (N, n); returns the
        negative ELBO per step (list of ``steps`` floats).  Needs n >= context_min +
        extra_targets; each step draws ``batch_tasks`` tasks, a context size in
        [context_min, min(context_max, n - extra_targets)] and a random split."""
        c = self.config
        X, Y = check_sets(x, y, c.x_dim)
        assert Y is not None
        N, n = X.shape[0], X.shape[1]
        if n < c.context_min + c.extra_targets:
            raise ValueError(f"x: need n >= context_min + extra_targets = {c.context_min + c.extra_targets} "
                             f"points per task, got {n}")
        flat = X.reshape(-1, c.x_dim)
        self.x_mean.copy_(flat.mean(0))
        self.x_sd.copy_(flat.std(0).clamp_min(1e-3))
        g = torch.Generator().manual_seed(c.seed + 1)
        opt = torch.optim.Adam(self.parameters(), lr=c.lr)
        hi = min(c.context_max, n - c.extra_targets)
        hist: list[float] = []
        from simcore.util.progress import Progress

        with Progress(c.steps, desc="anp", unit="step", enabled=None if progress else False) as bar:
            for _ in range(c.steps):
                idx = torch.randint(0, N, (c.batch_tasks,), generator=g)
                nc = int(torch.randint(c.context_min, hi + 1, (1,), generator=g))
                perm = torch.argsort(torch.rand(c.batch_tasks, n, generator=g), dim=1)[:, : nc + c.extra_targets]
                xb = torch.gather(X[idx], 1, perm[..., None].expand(-1, -1, c.x_dim))
                yb = torch.gather(Y[idx], 1, perm)
                eps = torch.randn(c.batch_tasks, c.latent, generator=g)
                loss = -self.elbo(xb[:, :nc], yb[:, :nc], xb, yb, eps)
                opt.zero_grad()
                loss.backward()
                opt.step()
                hist.append(float(loss.detach()))
                bar.update(1)
        return hist

    def context(self, xc: Any, yc: Any) -> ANPContext:
        """Encodes contexts xc (B, n, D) raw features, yc (B, n) without gradients."""
        X, Y = check_sets(xc, yc, self.config.x_dim, "x_context")
        assert Y is not None
        with torch.no_grad():
            return self._encode(self._std(X), Y)

    def decode(self, ctx: ANPContext, xt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Differentiable mean and sd (B, m) at raw target features xt (B, m, D) given an
        encoded context (for model rollouts; gradients flow into xt)."""
        return self._decode(ctx, self._std(xt), ctx.z)

    def predict(self, xc: Any, yc: Any, xt: Any) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and sd float32 (B, m) at targets xt (B, m, D), z = E[q(z | C)]."""
        ctx = self.context(xc, yc)
        X, _ = check_sets(xt, None, self.config.x_dim, "x_target")
        if X.shape[0] != (ctx.z if ctx.z is not None else ctx.keys if ctx.keys is not None else X).shape[0]:
            raise ValueError(f"x_target: expected {np.asarray(xc).shape[0]} tasks, got {X.shape[0]}")
        with torch.no_grad():
            mu, sd = self.decode(ctx, X)
        return mu.numpy(), sd.numpy()

    def encode(self, xc: Any, yc: Any) -> np.ndarray:
        """The task embeddings E[q(z | C)] float32 (B, latent) (ValueError without the latent path)."""
        if not self.config.latent_path:
            raise ValueError("encode: this model has no latent path (latent_path=False)")
        z = self.context(xc, yc).z
        assert z is not None
        return z.numpy()


def linear_per_zone(u_context: np.ndarray, y_context: np.ndarray, u_target: np.ndarray,
                    ridge: float = 1e-6) -> np.ndarray:
    """Per-zone ridge fit c = a + b . u on the context, u = traffic / VMs (B, n, D),
    y (B, n); predictions (B, m) at u_target (B, m, D), clipped to [0, 1]."""
    u, y, ut = (np.asarray(a, dtype=np.float64) for a in (u_context, y_context, u_target))
    scale = np.maximum(np.abs(u).max(axis=1, keepdims=True), 1e-12)
    F = np.concatenate([np.ones(u.shape[:2] + (1,)), u / scale], axis=2)
    A = np.einsum("bni,bnj->bij", F, F) + ridge * np.eye(F.shape[2]) * u.shape[1]
    coef = np.linalg.solve(A, np.einsum("bni,bn->bi", F, y)[..., None])[..., 0]
    Ft = np.concatenate([np.ones(ut.shape[:2] + (1,)), ut / scale], axis=2)
    return np.clip(np.einsum("bmi,bi->bm", Ft, coef), 0.0, 1.0)
