"""The slides' A/B-test baselines: the decision as classification ("given a user,
predict the action that makes the user sign or click with maximal probability"),
fit on logged (x, a, sign, click) rows.

Every model maps user features x (n, D) to per-action logits of each task, so that
p_task(x, a) = sigmoid(logit_task(x)[a]) estimates P(task outcome | x, action a); it
is fit by binary cross-entropy on the logged action's outcome (under a uniformly
random logging policy, argmax_a P(sign | x, a) is also the argmax of the slides'
multi-class label P(a | x, sign)).  The policy plays argmax_a p_task(x, a).

Models (``MTLConfig.kind``):

* ``single``: one DNN, sign task only (the single-task baseline);
* ``cross-stitch`` (Misra et al., CVPR 2016): two towers (left sign, right click),
  ``layers`` x ``width`` sigmoid layers; after every layer a cross-stitch unit mixes
  the towers' activations, [h1'; h2'] = [[a11, a12], [a21, a22]] [h1; h2], the 2 x 2
  matrix learned per layer (init [[0.9, 0.1], [0.1, 0.9]]); loss L1 + L2;
* ``trace-norm`` (Yang & Hospedales 2017): the same two towers without stitches,
  loss L1 + L2 + weight * sum_l ||[W_1l, W_2l]||_* with the LAF, Tucker or TT norm
  (:mod:`simcore.algos.trace_norm`) of each hidden layer's stacked weights (the slides'
  fig. 1: layers 1-3; the per-action heads are not penalised).

Training: Adam, lr 1e-3, minibatches of 100 (the slides), ``epochs`` passes over the
rows in an order drawn from the config's seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simcore.algos.base import check_config, check_obs, check_positive
from simcore.algos.protocol import AgentBase
from simcore.algos.trace_norm import NORMS, stack_tasks, tensor_trace_norm

#: model kinds
KINDS = ("single", "cross-stitch", "trace-norm")


@dataclass(frozen=True)
class MTLConfig:
    """A multi-task (or single-task) classifier.

    Attributes:
        kind: one of :data:`KINDS`.
        width: units per hidden layer (>= 1; the slides: 125, 256 or 525).
        layers: hidden layers per tower (>= 1; 3).
        norm: the trace norm for ``trace-norm``: "laf", "tucker" or "tt".
        norm_weight: weight of the trace-norm term (>= 0; 5e-4).
        lr: Adam step size (> 0; 1e-3).
        batch_size: rows per minibatch (>= 1; 100).
        epochs: passes over the data (>= 1).
        seed: initialisation and minibatch order (>= 0).
    """

    kind: str = "cross-stitch"
    width: int = 125
    layers: int = 3
    norm: str = "tucker"
    norm_weight: float = 5e-4
    lr: float = 1e-3
    batch_size: int = 100
    epochs: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm: expected one of {NORMS}, got {self.norm!r}")
        for name in ("width", "layers", "batch_size", "epochs"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        check_positive("lr", self.lr)
        check_positive("norm_weight", self.norm_weight, allow_zero=True)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {self.seed!r}")

    @property
    def label(self) -> str:
        """The slides' method name (MTL-CS-125, MTL-TN-Tucker, DNN)."""
        if self.kind == "single":
            return "DNN"
        if self.kind == "cross-stitch":
            return f"MTL-CS-{self.width}"
        return "MTL-TN-" + {"laf": "LAF", "tucker": "Tucker", "tt": "TT"}[self.norm]


def _linear(d_in: int, d_out: int, gen: torch.Generator) -> nn.Linear:
    lin = nn.Linear(d_in, d_out)
    bound = 1.0 / np.sqrt(d_in)
    with torch.no_grad():
        nn.init.uniform_(lin.weight, -bound, bound, generator=gen)
        nn.init.uniform_(lin.bias, -bound, bound, generator=gen)
    return lin


class TaskNet(nn.Module):
    """One or two towers of sigmoid layers with per-action heads (module docstring).

    ``forward(x)`` returns logits (T, n, A): T = 1 (single) or 2 (sign, click)."""

    def __init__(self, obs_dim: int, n_actions: int, cfg: MTLConfig) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(cfg.seed)
        towers = 1 if cfg.kind == "single" else 2
        sizes = [obs_dim] + [cfg.width] * cfg.layers
        self.towers = nn.ModuleList(
            nn.ModuleList([_linear(sizes[i], sizes[i + 1], gen) for i in range(cfg.layers)]
                          + [_linear(cfg.width, n_actions, gen)])
            for _ in range(towers))
        self.stitch: nn.Parameter | None = None
        if cfg.kind == "cross-stitch":
            init = torch.tensor([[0.9, 0.1], [0.1, 0.9]]).repeat(cfg.layers, 1, 1)
            self.stitch = nn.Parameter(init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs = [x for _ in self.towers]
        n_hidden = len(self.towers[0]) - 1  # type: ignore[arg-type]
        for layer in range(n_hidden):
            hs = [torch.sigmoid(t[layer](h)) for t, h in zip(self.towers, hs)]  # type: ignore[index]
            if self.stitch is not None:
                a = self.stitch[layer]
                hs = [a[0, 0] * hs[0] + a[0, 1] * hs[1], a[1, 0] * hs[0] + a[1, 1] * hs[1]]
        return torch.stack([t[n_hidden](h) for t, h in zip(self.towers, hs)])  # type: ignore[index]

    def layer_weights(self) -> list[list[torch.Tensor]]:
        """Per hidden layer (the slides' W_1l, W_2l, l = 1..layers; heads excluded), the
        towers' weights (d_out, d_in)."""
        return [[t[i].weight for t in self.towers] for i in range(len(self.towers[0]) - 1)]  # type: ignore[index, arg-type]


def mtl_loss(net: TaskNet, cfg: MTLConfig, x: torch.Tensor, action: torch.Tensor,
             labels: torch.Tensor) -> torch.Tensor:
    """sum_task BCE(logit_task(x)[a], y_task) (+ the trace-norm term).

    Args:
        x: float32 (n, D); action: int64 (n,); labels: float32 (n, T) in {0, 1}.
    """
    logits = net(x)
    taken = logits.gather(2, action.view(1, -1, 1).expand(logits.shape[0], -1, 1)).squeeze(-1)
    loss = sum((F.binary_cross_entropy_with_logits(taken[k], labels[:, k]) for k in range(taken.shape[0])),
               torch.zeros(()))
    if cfg.kind == "trace-norm" and cfg.norm_weight > 0:
        reg = sum((tensor_trace_norm(stack_tasks(ws), cfg.norm) for ws in net.layer_weights()), torch.zeros(()))
        loss = loss + cfg.norm_weight * reg
    return loss


class MTLPolicy(AgentBase):
    """A fitted :class:`TaskNet` acting argmax_a p_task(x, a).

    Args:
        obs_dim, n_actions: D and A.
        config: :class:`MTLConfig`.
        task: the task whose probability the policy maximises: 0 = sign, 1 = click
            (only 0 for ``single``).
    """

    name = "mtl"

    def __init__(self, obs_dim: int, n_actions: int, config: MTLConfig, task: int = 0) -> None:
        if task not in ((0,) if config.kind == "single" else (0, 1)):
            allowed = "0 (sign)" if config.kind == "single" else "0 (sign) or 1 (click)"
            raise ValueError(f"task: expected {allowed}, got {task!r}")
        self.config, self.task, self.obs_dim, self.n_actions = config, task, obs_dim, n_actions
        with torch.random.fork_rng(devices=[]):  # nn.Linear's default init uses the global generator
            self.net = TaskNet(obs_dim, n_actions, config)
        self.history: list[float] = []

    def fit(self, x: np.ndarray, action: np.ndarray, labels: np.ndarray) -> list[float]:
        """Fits on logged rows: x float (n, D), action int (n,), labels (n, T) in {0, 1}
        (T = 2: sign, click; only the first column is used by ``single``).  Returns the
        mean loss of every epoch."""
        x = check_obs(np.asarray(x, dtype=np.float32), self.obs_dim)
        action = np.asarray(action)
        labels = np.asarray(labels, dtype=np.float32)
        labels = labels[:, None] if labels.ndim == 1 else labels
        if labels.ndim != 2 or labels.shape[0] != len(x):   # (a reshape took (2n,) as (n, 2))
            raise ValueError(f"labels: expected shape ({len(x)},) or ({len(x)}, T), got {labels.shape}")
        if action.shape != (len(x),) or action.dtype.kind not in "iu":
            raise ValueError(f"action: expected integers of shape ({len(x)},), got {action.dtype}{action.shape}")
        if action.size and (action.min() < 0 or action.max() >= self.n_actions):
            raise ValueError(f"action: must lie in [0, {self.n_actions})")
        tasks = len(self.net.towers)
        if labels.shape[1] < tasks or not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError(f"labels: expected (n, >= {tasks}) values in {{0, 1}}, got shape {labels.shape}")
        cfg = self.config
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0x3171]))
        xt, at, yt = torch.as_tensor(x), torch.as_tensor(action.astype(np.int64)), torch.as_tensor(labels[:, :tasks])
        for _ in range(cfg.epochs):
            order = rng.permutation(len(x))
            total = 0.0
            for start in range(0, len(x), cfg.batch_size):
                idx = torch.as_tensor(order[start:start + cfg.batch_size])
                loss = mtl_loss(self.net, cfg, xt[idx], at[idx], yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            self.history.append(total / max(len(x), 1))
        return self.history

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """p_task(x, a): float64 (T, B, A)."""
        obs = check_obs(obs, self.obs_dim)
        with torch.no_grad():
            return torch.sigmoid(self.net(torch.as_tensor(obs, dtype=torch.float32)).double()).numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """argmax_a p_task(x, a): int64 (B,) (deterministic; ``explore`` ignored)."""
        return self.predict(obs)[self.task].argmax(axis=1).astype(np.int64)

    def state_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "task": self.task, "net": self.net.state_dict(),
                "history": list(self.history)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        self.net.load_state_dict(state["net"])
        self.task = int(state["task"])
        self.history = [float(v) for v in state["history"]]
