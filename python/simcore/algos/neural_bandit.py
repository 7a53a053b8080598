"""Neural-linear Thompson sampling behind the agent protocol (torch; Riquelme, Tucker &
Snoek 2018, "Deep Bayesian Bandits Showdown": a network learns features, a Bayesian
linear regression on its last layer gives the posterior).

* network: x (d,) -> ReLU MLP -> phi(x) (h,) -> linear head (K,), trained by Adam on the
  squared error of the logged arm's output, ``n_steps`` minibatch steps every
  ``train_every`` new rows, on a FIFO buffer of the last ``capacity`` rows;
* posterior per arm a over beta_a (h,): precision P_a = lambda I + Phi_a^T Phi_a / sigma^2,
  mean mu_a = P_a^{-1} Phi_a^T r_a / sigma^2 (Phi_a: the features of arm a's buffer rows,
  recomputed from the whole buffer after each training, else updated with the new rows);
* ``act``: beta~_a ~ N(mu_a, P_a^{-1}) per row, argmax_a phi(x)^T beta~_a
  (``explore=False``: phi(x)^T mu_a).

``act(obs)``: float (B, d) -> int64 (B,); ``update(batch)``: ``obs`` (n, d), ``action`` (n,),
``reward`` (n,).  Seeded (a torch Generator for the initialisation and minibatches, a NumPy
Generator for the posterior draws); ``state_dict`` holds tensors and plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from simcore.algos.bandits import _real, argmax_random, batch_arms, check_obs2d
from simcore.algos.protocol import AgentBase, Batch
from simcore.util.checks import int_in_range


@dataclass(frozen=True)
class NeuralBanditConfig:
    """Settings of :class:`NeuralLinearTS`.

    Attributes:
        n_arms: K, integer in [1, 1000] (default 2).
        dim: context dimension d, integer in [1, 10000] (default 2).
        hidden: width h of the two hidden layers, integer in [1, 4096] (default 32).
        lr: Adam's learning rate in (0, 1] (default 0.01).
        train_every: new rows between trainings, integer in [1, 10**7] (default 256).
        n_steps: Adam steps per training, integer in [0, 100000] (default 50).
        batch_size: minibatch rows, integer in [1, 100000] (default 128).
        capacity: buffer rows kept, integer in [1, 10**7] (default 20000).
        ridge: lambda, the prior precision of beta_a, in (0, 1e6] (default 1.0).
        noise_var: sigma^2, the reward noise variance, in (0, 1e6] (default 0.25, a
            Bernoulli reward's largest variance).
        seed: integer in [0, 2**63 - 1] (default 0).
    """

    n_arms: int = 2
    dim: int = 2
    hidden: int = 32
    lr: float = 0.01
    train_every: int = 256
    n_steps: int = 50
    batch_size: int = 128
    capacity: int = 20000
    ridge: float = 1.0
    noise_var: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        int_in_range(self.n_arms, "n_arms", 1, 1000)
        int_in_range(self.dim, "dim", 1, 10_000)
        int_in_range(self.hidden, "hidden", 1, 4096)
        int_in_range(self.train_every, "train_every", 1, 10**7)
        int_in_range(self.n_steps, "n_steps", 0, 100_000)
        int_in_range(self.batch_size, "batch_size", 1, 100_000)
        int_in_range(self.capacity, "capacity", 1, 10**7)
        int_in_range(self.seed, "seed", 0, 2**63 - 1)
        _real("lr", self.lr, 0.0, 1.0, lo_open=True)
        _real("ridge", self.ridge, 0.0, 1e6, lo_open=True)
        _real("noise_var", self.noise_var, 0.0, 1e6, lo_open=True)


class NeuralLinearTS(AgentBase):
    """Neural-linear Thompson sampling (module docstring)."""

    name = "neural-linear-ts"

    def __init__(self, config: NeuralBanditConfig) -> None:
        self.config = c = config
        self.rng = np.random.default_rng(c.seed)
        self.gen = torch.Generator().manual_seed(c.seed % (2**63))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed % (2**63))
            self.body = torch.nn.Sequential(torch.nn.Linear(c.dim, c.hidden), torch.nn.ReLU(),
                                            torch.nn.Linear(c.hidden, c.hidden), torch.nn.ReLU()).double()
            self.head = torch.nn.Linear(c.hidden, c.n_arms).double()
        self.opt = torch.optim.Adam([*self.body.parameters(), *self.head.parameters()], lr=c.lr)
        self.buf_x = np.zeros((0, c.dim))
        self.buf_a = np.zeros(0, dtype=np.int64)
        self.buf_r = np.zeros(0)
        self.since_train = 0
        self._reset_posterior()

    def _features(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.body(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).numpy()

    def _reset_posterior(self) -> None:
        k, h = self.config.n_arms, self.config.hidden
        self.P = np.tile(self.config.ridge * np.eye(h), (k, 1, 1))
        self.f = np.zeros((k, h))

    def _add_posterior(self, x: np.ndarray, a: np.ndarray, r: np.ndarray) -> None:
        phi = self._features(x)
        s2 = self.config.noise_var
        for arm in np.unique(a):
            m = a == arm
            self.P[arm] += phi[m].T @ phi[m] / s2
            self.f[arm] += phi[m].T @ r[m] / s2

    def _train(self) -> float:
        c = self.config
        x = torch.from_numpy(self.buf_x)
        a = torch.from_numpy(self.buf_a)
        r = torch.from_numpy(self.buf_r)
        loss = torch.zeros(())
        for _ in range(c.n_steps):
            idx = torch.randint(0, x.shape[0], (min(c.batch_size, x.shape[0]),), generator=self.gen)
            pred = self.head(self.body(x[idx])).gather(1, a[idx].unsqueeze(1)).squeeze(1)
            loss = ((pred - r[idx]) ** 2).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self._reset_posterior()
        self._add_posterior(self.buf_x, self.buf_a, self.buf_r)
        return float(loss.detach())

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(mu (K, h), linv (K, h, h)) with P_a = L_a L_a^T, linv = L_a^{-1}, mu_a = P_a^{-1} f_a."""
        chol = np.linalg.cholesky(self.P)
        linv = np.linalg.solve(chol, np.broadcast_to(np.eye(self.config.hidden), chol.shape))
        mu = np.einsum("kji,kj->ki", linv, np.einsum("kij,kj->ki", linv, self.f))
        return mu, linv

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        x = check_obs2d(obs, self.config.dim)
        phi = self._features(x)
        mu, linv = self._posterior()
        scores = phi @ mu.T
        if explore:
            z = self.rng.standard_normal((self.config.n_arms, self.config.hidden, x.shape[0]))
            dev = np.einsum("kji,kjb->bki", linv, z)                     # L^-T z: covariance P_a^{-1}
            scores += np.einsum("bkh,bh->bk", dev, phi)
        return argmax_random(scores, self.rng)

    def update(self, batch: Batch) -> dict[str, float]:
        c = self.config
        a, r = batch_arms(batch, c.n_arms)
        if "obs" not in batch:
            raise ValueError(f"batch: needs the column 'obs' (columns: {batch.keys()})")
        x = check_obs2d(np.asarray(batch.obs), c.dim)
        if x.shape[0] != a.size:
            raise ValueError(f"batch.obs: expected {a.size} rows, got {x.shape[0]}")
        self.buf_x = np.concatenate([self.buf_x, x])[-c.capacity:]
        self.buf_a = np.concatenate([self.buf_a, a])[-c.capacity:]
        self.buf_r = np.concatenate([self.buf_r, r])[-c.capacity:]
        self.since_train += a.size
        out = {"mean_reward": float(r.mean()) if r.size else 0.0}
        if self.since_train >= c.train_every and c.n_steps > 0:
            out["loss"] = self._train()
            self.since_train = 0
        else:
            self._add_posterior(x, a, r)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "body": self.body.state_dict(), "head": self.head.state_dict(),
                "opt": self.opt.state_dict(), "buf_x": torch.from_numpy(self.buf_x.copy()),
                "buf_a": torch.from_numpy(self.buf_a.copy()), "buf_r": torch.from_numpy(self.buf_r.copy()),
                "P": torch.from_numpy(self.P.copy()), "f": torch.from_numpy(self.f.copy()),
                "since_train": self.since_train, "rng": dict(self.rng.bit_generator.state),
                "gen": self.gen.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        strip = lambda d: {k: v for k, v in dict(d).items() if k != "seed"}  # noqa: E731
        if strip(state["config"]) != strip(asdict(self.config)):
            raise ValueError("state: saved with a different config")
        self.body.load_state_dict(state["body"])
        self.head.load_state_dict(state["head"])
        self.opt.load_state_dict(state["opt"])
        self.buf_x = state["buf_x"].numpy().copy()
        self.buf_a = state["buf_a"].numpy().copy()
        self.buf_r = state["buf_r"].numpy().copy()
        self.P, self.f = state["P"].numpy().copy(), state["f"].numpy().copy()
        self.since_train = int(state["since_train"])
        self.rng.bit_generator.state = dict(state["rng"])
        self.gen.set_state(state["gen"])
