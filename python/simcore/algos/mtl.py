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

Training: Adam, lr 1e-3, minibatches of 100 (the slides), rows in an order drawn from
the config's seed, with three choices the slides leave open (each documented, each
switchable):

* inputs standardised, x' = (x - mean) / std with the fitting rows' moments (std 0 -> 1;
  the moments are part of the checkpoint): sigmoid layers saturate on raw counts;
* the heads' biases start at the task's base log-odds log(p / (1 - p)) on the fitting
  rows (``prior_bias``): with a 0.5 % label the first epochs otherwise only learn the
  base rate, and the per-action differences that decide the policy come later;
* early stopping on a validation split of the LOG (``val_fraction`` of the rows, or of
  the groups, e.g. customers, when ``groups`` is given; never the simulator's truth):
  up to ``epochs`` passes, stopped after ``patience`` passes without a lower validation
  BCE (the summed task BCE, no penalty), the best pass's weights kept.
  ``val_fraction = 0`` trains all ``epochs`` passes on every row.

Class imbalance is handled by the per-action outputs trained on the taken action's label
(the rare label is modelled as a probability, not as one class of 16 to predict) and
the prior bias; no re-weighting (it would bias P(sign | x, a), not its argmax, and the
argmax is what the policy plays).  :func:`binary_auc` and :func:`log_loss` measure a
fit on held-out rows.
"""

from __future__ import annotations

import dataclasses
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
        epochs: the most passes over the data (>= 1).
        val_fraction: share of the rows (or groups) held out for early stopping
            (in [0, 0.9]; 0: none, all ``epochs`` passes).
        patience: passes without a better validation loss before stopping (>= 1).
        standardize: standardise the inputs with the fitting rows' moments.
        prior_bias: initialise the heads' biases at the base log-odds.
        seed: initialisation, minibatch order and validation split (>= 0).
    """

    kind: str = "cross-stitch"
    width: int = 125
    layers: int = 3
    norm: str = "tucker"
    norm_weight: float = 5e-4
    lr: float = 1e-3
    batch_size: int = 100
    epochs: int = 3
    val_fraction: float = 0.0
    patience: int = 3
    standardize: bool = True
    prior_bias: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm: expected one of {NORMS}, got {self.norm!r}")
        for name in ("width", "layers", "batch_size", "epochs", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        check_positive("lr", self.lr)
        check_positive("norm_weight", self.norm_weight, allow_zero=True)
        if not (isinstance(self.val_fraction, (int, float)) and 0.0 <= self.val_fraction <= 0.9):
            raise ValueError(f"val_fraction: must lie in [0, 0.9], got {self.val_fraction!r}")
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
        self.x_mean: torch.Tensor
        self.x_std: torch.Tensor
        self.register_buffer("x_mean", torch.zeros(obs_dim))
        self.register_buffer("x_std", torch.ones(obs_dim))
        self.stitch: nn.Parameter | None = None
        if cfg.kind == "cross-stitch":
            init = torch.tensor([[0.9, 0.1], [0.1, 0.9]]).repeat(cfg.layers, 1, 1)
            self.stitch = nn.Parameter(init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.x_mean) / self.x_std
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


def binary_auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC = P(score of a random positive > that of a random negative) + 0.5 P(tie),
    by mid-ranks (Mann-Whitney U); NaN without both classes.  score, y: (n,)."""
    s, t = np.asarray(score, dtype=np.float64), np.asarray(y) > 0.5
    n1, n0 = int(t.sum()), int((~t).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]  # mid-ranks for ties
    return float((ranks[t].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def log_loss(p: np.ndarray, y: np.ndarray, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy -[y log p + (1 - y) log(1 - p)], p clipped to [eps, 1 - eps]."""
    q = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    t = np.asarray(y, dtype=np.float64)
    return float(-np.mean(t * np.log(q) + (1 - t) * np.log(1 - q)))


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

    def _check(self, x: np.ndarray, action: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
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
        return x, action.astype(np.int64), labels[:, :tasks]

    def _split(self, n: int, groups: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """bool (n,): the validation rows (whole groups when ``groups`` is given)."""
        frac = self.config.val_fraction
        if frac <= 0:
            return np.zeros(n, dtype=bool)
        if groups is None:
            return rng.random(n) < frac
        g = np.asarray(groups)
        if g.shape != (n,):
            raise ValueError(f"groups: expected shape ({n},), got {g.shape}")
        uniq = np.unique(g)
        return np.isin(g, uniq[rng.random(len(uniq)) < frac])

    def _init_from(self, x: np.ndarray, y: np.ndarray) -> None:
        """Input moments and prior head biases from the fitting rows x (n, D), y (n, T)."""
        cfg = self.config
        with torch.no_grad():
            if cfg.standardize and len(x):
                std = x.std(axis=0)
                self.net.x_mean.copy_(torch.as_tensor(x.mean(axis=0)))
                self.net.x_std.copy_(torch.as_tensor(np.where(std > 1e-8, std, 1.0).astype(np.float32)))
            if cfg.prior_bias and len(y):
                p = np.clip(y.mean(axis=0), 1e-4, 1 - 1e-4)
                for k, tower in enumerate(self.net.towers):
                    tower[-1].bias.fill_(float(np.log(p[k] / (1 - p[k]))))  # type: ignore[index]

    def fit(self, x: np.ndarray, action: np.ndarray, labels: np.ndarray,
            groups: np.ndarray | None = None) -> list[float]:
        """Fits on logged rows: x float (n, D), action int (n,), labels (n, T) in {0, 1}
        (T = 2: sign, click; only the first column is used by ``single``); ``groups``
        (n,) optional ids (customers) that the validation split keeps together.
        Returns the mean training loss of every pass; ``self.val_history`` holds the
        validation BCE per pass and ``self.best_epoch`` the pass whose weights are kept
        (module docstring)."""
        x, action, y = self._check(x, action, labels)
        cfg = self.config
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0x3171]))
        val = self._split(len(x), groups, rng)
        tr = np.flatnonzero(~val)
        self._init_from(x[tr], y[tr])
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        xt, at, yt = torch.as_tensor(x), torch.as_tensor(action), torch.as_tensor(y)
        xv, av, yv = xt[val], at[val], yt[val]
        best, best_state, bad = float("inf"), None, 0
        self.val_history: list[float] = []
        self.best_epoch = cfg.epochs - 1
        for epoch in range(cfg.epochs):
            order = tr[rng.permutation(len(tr))]
            total = 0.0
            for start in range(0, len(order), cfg.batch_size):
                idx = torch.as_tensor(order[start:start + cfg.batch_size])
                loss = mtl_loss(self.net, cfg, xt[idx], at[idx], yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            self.history.append(total / max(len(tr), 1))
            if not val.any():
                continue
            with torch.no_grad():
                v = float(mtl_loss(self.net, dataclasses.replace(cfg, norm_weight=0.0), xv, av, yv))
            self.val_history.append(v)
            if v < best - 1e-7:
                best, bad, self.best_epoch = v, 0, epoch
                best_state = {k: t.detach().clone() for k, t in self.net.state_dict().items()}
            else:
                bad += 1
                if bad >= cfg.patience:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        return self.history

    def evaluate(self, x: np.ndarray, action: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
        """Held-out fit of p_task(x, a) on logged rows: per task, ``auc`` (of
        p_task(x_i, a_i) against y_i) and ``log_loss`` (mean BCE), and ``base_log_loss``
        (the constant base-rate predictor's, for scale)."""
        x, action, y = self._check(x, action, labels)
        p = self.predict(x)[:, np.arange(len(x)), action]  # (T, n)
        out: dict[str, list[float]] = {"auc": [], "log_loss": [], "base_log_loss": []}
        for k in range(y.shape[1]):
            out["auc"].append(binary_auc(p[k], y[:, k]))
            out["log_loss"].append(log_loss(p[k], y[:, k]))
            out["base_log_loss"].append(log_loss(np.full(len(x), y[:, k].mean()), y[:, k]))
        return out

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
                "history": list(self.history)}  # (the input moments are buffers of "net")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("config"), asdict(self.config))
        self.net.load_state_dict(state["net"])
        self.task = int(state["task"])
        self.history = [float(v) for v in state["history"]]
