"""Behaviour cloning of the user: maximum likelihood of the logged responses.

``train_bc(data, BCConfig(...))`` minimises the mean negative log-likelihood of
:meth:`BehaviourModel.loss` (clicks + outcome + bought item) over minibatches of page
views with Adam.  Sessions are split into train / validation by a seeded permutation
of session ids.  Checkpoints are plain dicts of ``state_dict``s (model, optimiser)
and counters, saved with ``torch.save`` and loaded with ``weights_only=True``;
``resume=True`` continues from the checkpoint exactly (the minibatch order of each
epoch is a function of (seed, epoch), so a resumed run equals an uninterrupted one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from simcore.domains.virtual_taobao.data import PageData
from simcore.domains.virtual_taobao.model import BehaviourConfig, BehaviourModel, Response, as_tensor, seeded_model
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

__all__ = ["BCConfig", "BCResult", "train_bc", "batch_tensors", "predict", "load_model", "save_model", "outcome_rates",
           "calibrate_outcome"]


@dataclass(frozen=True)
class BCConfig:
    """Behaviour-cloning run.

    Attributes:
        model: the model's shape (BehaviourConfig; window W must match the data's).
        epochs: passes over the training pages (>= 1).
        batch_size: page views per step (>= 1).
        lr: Adam step size (> 0).  weight_decay: L2 (>= 0).
        val_frac: share of sessions held out for validation, in [0, 0.9].
        seed: the run's root seed (SeedTree paths "init", "split", "epoch/<e>").
        patience: early stopping on the validation split (>= 1, or None: run all
            ``epochs``): stop once the validation NLL has not improved for ``patience``
            epochs and return the weights of the best validation epoch (``epochs`` is
            then the maximum).  Needs val_frac > 0.
        checkpoint: file to save to after every epoch (None: no checkpoint).
        resume: continue from ``checkpoint`` when it exists.
    """

    model: BehaviourConfig = field(default_factory=BehaviourConfig)
    epochs: int = 5
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 0.0
    val_frac: float = 0.1
    seed: int = 0
    patience: int | None = None
    checkpoint: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr: must be > 0, got {self.lr!r}")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay: must be >= 0, got {self.weight_decay!r}")
        if not (isinstance(self.val_frac, (int, float)) and 0 <= self.val_frac <= 0.9):
            raise ValueError(f"val_frac: must lie in [0, 0.9], got {self.val_frac!r}")
        if self.patience is not None:
            if not isinstance(self.patience, int) or isinstance(self.patience, bool) or self.patience < 1:
                raise ValueError(f"patience: must be None or an integer >= 1, got {self.patience!r}")
            if self.val_frac <= 0:
                raise ValueError("patience: early stopping needs val_frac > 0")


@dataclass
class BCResult:
    """The trained model, its per-epoch mean train / validation NLL and the epoch
    (1-based) whose weights it holds (the best validation epoch under early stopping)."""

    model: BehaviourModel
    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int = 0


def batch_tensors(data: PageData, rows: np.ndarray) -> dict[str, torch.Tensor]:
    """The model inputs and labels of page views ``rows`` as tensors."""
    x, p, v = data.window_items(rows)
    return {
        "x": as_tensor(x), "prices": as_tensor(p), "valid": as_tensor(v),
        "power": as_tensor(data.power[rows].astype(np.float32)), "segment": as_tensor(data.segment[rows]),
        "t": as_tensor(((data.page[rows] + 1) / max(data.horizon, 1)).astype(np.float32)),
        "clicks": as_tensor(data.clicks[rows]), "outcome": as_tensor(data.outcome[rows]),
        "bought": as_tensor(data.bought[rows]), "valid0": as_tensor(data.valid[rows]),
    }


def predict(model: BehaviourModel, b: dict[str, torch.Tensor]) -> Response:
    """The model's response on a batch from :func:`batch_tensors`."""
    return model(b["x"], b["prices"], b["valid"], b["power"], b["segment"], b["t"])


def _split(data: PageData, cfg: BCConfig) -> tuple[np.ndarray, np.ndarray]:
    ids = np.unique(data.session)
    perm = SeedTree(cfg.seed).generator("split").permutation(ids.size)
    n_val = int(round(cfg.val_frac * ids.size))
    val_ids = ids[perm[:n_val]]
    is_val = np.isin(data.session, val_ids)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _eval(model: BehaviourModel, data: PageData, rows: np.ndarray, batch: int) -> float:
    if rows.size == 0:
        return float("nan")
    total = 0.0
    with torch.no_grad():
        for lo in range(0, rows.size, batch * 4):
            r = rows[lo: lo + batch * 4]
            b = batch_tensors(data, r)
            loss, _ = model.loss(predict(model, b), b["clicks"], b["outcome"], b["bought"], b["valid0"])
            total += float(loss) * r.size
    return total / rows.size


def save_model(model: BehaviourModel, path: str | os.PathLike) -> None:
    """Saves the model's config and state_dict (a plain dict; load with :func:`load_model`)."""
    from dataclasses import asdict

    torch.save({"config": asdict(model.config), "state": model.state_dict()}, path)


def load_model(path: str | os.PathLike) -> BehaviourModel:
    """A model saved by :func:`save_model` (``weights_only=True``)."""
    d = torch.load(path, weights_only=True)
    model = BehaviourModel(BehaviourConfig(**d["config"]))
    model.load_state_dict(d["state"])
    return model


def _restore(cfg: BCConfig, model: BehaviourModel, opt: torch.optim.Optimizer) -> dict[str, Any]:
    state: dict[str, Any] = {"epoch": 0, "train": [], "val": [], "best": None, "best_epoch": 0}
    if cfg.resume and cfg.checkpoint and Path(cfg.checkpoint).exists():
        d = torch.load(cfg.checkpoint, weights_only=True)
        model.load_state_dict(d["model"])
        opt.load_state_dict(d["optim"])
        state = {"epoch": int(d["epoch"]), "train": list(d["train"]), "val": list(d["val"]),
                 "best": d.get("best"), "best_epoch": int(d.get("best_epoch", 0))}
    return state


def _stop(cfg: BCConfig, model: BehaviourModel, state: dict[str, Any]) -> bool:
    """Updates the best-validation weights after an epoch; True when early stopping ends the run."""
    if cfg.patience is None:
        state["best_epoch"] = state["epoch"]
        return False
    val = state["val"]
    if state["best"] is None or val[-1] < val[state["best_epoch"] - 1]:
        state["best"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state["best_epoch"] = state["epoch"]
    return state["epoch"] - state["best_epoch"] >= cfg.patience


def train_bc(data: PageData, cfg: BCConfig | None = None, progress: bool = False) -> BCResult:
    """Fits a :class:`BehaviourModel` to ``data`` by maximum likelihood (module docstring)."""
    cfg = cfg if cfg is not None else BCConfig()
    W = data.window.shape[1]
    if cfg.model.window != W or cfg.model.page_size != data.features.shape[1] \
            or cfg.model.num_features != data.features.shape[2]:
        raise ValueError(f"cfg.model: window/page_size/num_features {cfg.model.window}/{cfg.model.page_size}/"
                         f"{cfg.model.num_features} do not match the data's {W}/{data.features.shape[1]}/"
                         f"{data.features.shape[2]}")
    tree = SeedTree(cfg.seed)
    model = seeded_model(cfg.model, tree.seed("init"))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = _restore(cfg, model, opt)
    train_rows, val_rows = _split(data, cfg)
    steps = (train_rows.size + cfg.batch_size - 1) // cfg.batch_size
    bar = Progress(cfg.epochs * steps, desc="behaviour cloning", unit="batch", enabled=progress)
    bar.update(state["epoch"] * steps)
    done = cfg.patience is not None and state["epoch"] > 0 and state["epoch"] - state["best_epoch"] >= cfg.patience
    for epoch in range(state["epoch"], cfg.epochs if not done else state["epoch"]):
        order = train_rows[tree.generator("epoch", epoch).permutation(train_rows.size)]
        total = 0.0
        for lo in range(0, order.size, cfg.batch_size):
            b = batch_tensors(data, order[lo: lo + cfg.batch_size])
            loss, _ = model.loss(predict(model, b), b["clicks"], b["outcome"], b["bought"], b["valid0"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * b["outcome"].shape[0]
            bar.update(1, postfix=f"nll {float(loss.detach()):.3f}")
        state["train"].append(total / max(order.size, 1))
        state["val"].append(_eval(model, data, val_rows, cfg.batch_size))
        state["epoch"] = epoch + 1
        stop = _stop(cfg, model, state)
        if cfg.checkpoint:
            tmp = f"{cfg.checkpoint}.tmp"
            torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": state["epoch"],
                        "train": state["train"], "val": state["val"], "best": state["best"],
                        "best_epoch": state["best_epoch"]}, tmp)
            os.replace(tmp, cfg.checkpoint)
        if stop:
            break
    bar.close()
    if state["best"] is not None:
        model.load_state_dict(state["best"])
    return BCResult(model, state["train"], state["val"], state["best_epoch"])


def outcome_rates(model: BehaviourModel, data: PageData, rows: np.ndarray, batch: int = 4096) -> np.ndarray:
    """float64 (3,): the model's mean (continue, buy, leave) probabilities over page views ``rows``."""
    acc = np.zeros(3)
    with torch.no_grad():
        for lo in range(0, rows.size, batch):
            acc += predict(model, batch_tensors(data, rows[lo: lo + batch])).prob.double().sum(0).numpy()
    return acc / max(rows.size, 1)


def calibrate_outcome(model: BehaviourModel, data: PageData, rows: np.ndarray, steps: int = 50) -> BehaviourModel:
    """A copy of ``model`` whose outcome head's output bias (3 numbers) minimises the
    outcome NLL on page views ``rows`` (e.g. the validation split; calibration in the
    large, everything else frozen; L-BFGS, ``steps`` iterations)."""
    import copy

    if rows.size == 0:
        raise ValueError("rows: calibration needs at least one page view")
    out = copy.deepcopy(model)
    b = batch_tensors(data, rows)
    with torch.no_grad():
        resp = predict(out, b)
    last = out.outcome[-1]
    assert isinstance(last, nn.Linear)
    base = resp.outcome_logit.detach()
    delta = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([delta], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(base + delta, b["outcome"])
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        last.bias.add_(delta.detach())
    return out
