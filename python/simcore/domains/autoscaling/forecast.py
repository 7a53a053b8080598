"""The workload forecaster (Xue et al., KDD 2022, "Workload Forecaster"; docs/autoscaling_forecast.md):
an attention-based encoder-decoder with explicit periodicity, one model for many zones.

Inputs (:mod:`.forecast_features`, all scaled by the sample's level s): the recent window
x[t0 - W .. t0 - 1], the values one day and one week before each of its steps and before
each forecast step (with availability flags), and sin/cos of the time of day and week.

Model (per sample; d = ``d_model``):

* encoder: e_j = Linear(recent_j, lag_day_j, lag_week_j, masks_j, cal_j) + p_j (learned
  position), then ``layers`` post-norm self-attention blocks over the W steps
  (multi-head attention, residual, LayerNorm, a GELU feed-forward of width 2d);
* decoder: q_h = Linear(lag_day_h, lag_week_h, last, masks_h, cal_h) + p'_h, then ``layers``
  blocks of cross-attention from the H forecast steps to the encoder's outputs (no
  self-attention among the forecast steps, to keep fits cheap);
* explicit periodicity: per forecast step h and dimension k, softmax weights w over the
  three candidates (last value, day lag, week lag) and a correction delta, both linear in
  the decoder's output: y_hat[h, k] = s_k (sum_c w_c cand_c[h, k] + delta[h, k]), clipped at 0.

Training: Adam on the mean squared error of the scaled forecasts, mini-batches of
(series, position) pairs drawn uniformly (positions from ``min_history`` on, so short
histories, as at an episode's start, are trained too); a share ``val_share`` of the series is
held out and the weights with the lowest validation loss (checked every ``eval_every`` steps)
are kept.  Everything random comes from ``SeedTree(seed)`` streams "split", "init",
"samples"; fits and forecasts run on ``threads`` torch threads, so the same seed and
threads give identical weights (tested).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from simcore.domains.autoscaling.config import STEPS_PER_DAY, STEPS_PER_WEEK
from simcore.domains.autoscaling.forecast_features import Windows, check_t0, check_traffic, running_sum, windows
from simcore.util.progress import Progress
from simcore.util.seeds import SeedTree

__all__ = ["ForecasterConfig", "WorkloadForecaster", "FitReport", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _int(name: str, v: Any, lo: int, hi: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {v!r}")


def _num(name: str, v: Any, lo: float, hi: float) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
        raise ValueError(f"{name}: must be a number in [{lo}, {hi}], got {v!r}")


@dataclass(frozen=True)
class ForecasterConfig:
    """The forecaster's size and training budget (defaults: about 20-40 s on 2 shared cores).

    Attributes:
        horizon: H, steps forecast (in [1, 144]; 12 = two hours, enough for a provisioning
            delay of up to 8 steps).
        window: W, recent steps the encoder reads (in [1, 1008]).
        d_model: width of the attention layers (in [4, 256]); heads: attention heads (in
            [1, 16], dividing d_model); layers: encoder and decoder layers each (in [1, 4]).
        steps: optimiser steps (in [0, 10**6]; 0 = the untrained network, for tests).
        batch: samples per step (in [1, 65536]); lr: Adam's step size (in (0, 1]);
            weight_decay: Adam's L2 weight (in [0, 1]).
        val_share: share of the series held out to select the weights (in [0, 0.5]; 0 = the
            training loss on a fixed sample selects them).
        eval_every: steps between validation checks (in [1, 10**6]); val_samples: the fixed
            validation sample's size (in [1, 10**6]).
        min_history: the shortest history a training sample has (in [1, 2016]).
        scale_window: steps whose mean is a sample's level s (in [1, 2016]).
        threads: torch threads during fit and predict (in [1, 64]; results depend on it only
            through floating-point summation order, so keep it fixed for identical runs).
        predict_chunk: samples per forward pass in predict (in [1, 10**6]).
        periodic: False = the ablation without explicit periodicity: the day and week lags
            are hidden (replaced by the last value, flags 0), as if the history were shorter
            than a day.
    """

    horizon: int = 12
    window: int = 24
    d_model: int = 32
    heads: int = 2
    layers: int = 1
    steps: int = 400
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0
    val_share: float = 0.1
    eval_every: int = 50
    val_samples: int = 2048
    min_history: int = 1
    scale_window: int = STEPS_PER_DAY
    threads: int = 1
    predict_chunk: int = 8192
    periodic: bool = True

    def __post_init__(self) -> None:
        for name, lo, hi in (("horizon", 1, STEPS_PER_DAY), ("window", 1, STEPS_PER_WEEK), ("d_model", 4, 256),
                             ("heads", 1, 16), ("layers", 1, 4), ("steps", 0, 10**6), ("batch", 1, 65536),
                             ("eval_every", 1, 10**6), ("val_samples", 1, 10**6), ("min_history", 1, 2016),
                             ("scale_window", 1, 2016), ("threads", 1, 64), ("predict_chunk", 1, 10**6)):
            _int(name, getattr(self, name), lo, hi)
        if self.d_model % self.heads:
            raise ValueError(f"heads: must divide d_model = {self.d_model}, got {self.heads}")
        _num("lr", self.lr, 1e-12, 1.0)
        _num("weight_decay", self.weight_decay, 0.0, 1.0)
        _num("val_share", self.val_share, 0.0, 0.5)
        if not isinstance(self.periodic, bool):
            raise ValueError(f"periodic: must be a bool, got {self.periodic!r}")


@dataclass
class FitReport:
    """What a fit did: optimiser steps, wall seconds, the series used for training and
    validation, the (step, loss) checks (scaled MSE), and the step whose weights were kept."""

    steps: int
    seconds: float
    n_train: int
    n_val: int
    checks: list[tuple[int, float, float]] = field(default_factory=list)  # (step, train loss, val loss)
    best_step: int = 0
    best_val: float = float("nan")


class _Block(nn.Module):
    """Post-norm attention block: x <- LN(x + MHA(x, m, m)); x <- LN(x + FF(x)) (m = x: self-attention)."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.kv, self.o = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        m = x if memory is None else memory
        N, L, d = x.shape
        S, h = m.shape[1], self.heads
        q = self.q(x).view(N, L, h, d // h).transpose(1, 2)
        k, v = self.kv(m).view(N, S, 2, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) * (d // h) ** -0.5, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(N, L, d)
        x = self.n1(x + self.o(a))
        return self.n2(x + self.ff(x))


class _Net(nn.Module):
    """The encoder-decoder (module docstring); forward(inputs) -> scaled forecasts (N, H, D)."""

    def __init__(self, c: ForecasterConfig, D: int) -> None:
        super().__init__()
        d, self.D = c.d_model, D
        self.enc_in = nn.Linear(3 * D + 6, d)
        self.dec_in = nn.Linear(3 * D + 6, d)
        self.pos_enc = nn.Parameter(0.02 * torch.randn(c.window, d))
        self.pos_dec = nn.Parameter(0.02 * torch.randn(c.horizon, d))
        self.encoder = nn.ModuleList([_Block(d, c.heads) for _ in range(c.layers)])
        self.decoder = nn.ModuleList([_Block(d, c.heads) for _ in range(c.layers)])
        self.mix = nn.Linear(d, 3 * D)
        self.delta = nn.Linear(d, D)
        nn.init.zeros_(self.delta.weight)
        nn.init.zeros_(self.delta.bias)

    def forward(self, enc: torch.Tensor, dec: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """enc (N, W, 3D+6), dec (N, H, 3D+6), cand (N, H, D, 3) -> (N, H, D)."""
        m = self.enc_in(enc) + self.pos_enc
        for blk in self.encoder:
            m = blk(m)
        h = self.dec_in(dec) + self.pos_dec
        for blk in self.decoder:
            h = blk(h, m)
        N, H = h.shape[0], h.shape[1]
        w = torch.softmax(self.mix(h).view(N, H, self.D, 3), dim=-1)
        return (w * cand).sum(-1) + self.delta(h)


def _tensors(x: Windows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The network's float32 inputs from the windows."""
    H = x.lag_day.shape[1]
    enc = np.concatenate([x.recent, x.lag_day_w, x.lag_week_w, x.mask_day_w[..., None], x.mask_week_w[..., None],
                          x.cal_w], axis=-1)
    last = np.repeat(x.last[:, None, :], H, axis=1)
    dec = np.concatenate([x.lag_day, x.lag_week, last, x.mask_day[..., None], x.mask_week[..., None], x.cal], axis=-1)
    f = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    return f(enc), f(dec), f(x.candidates())


def _hide_lags(w: Windows, c: ForecasterConfig) -> Windows:
    """The ablation ``periodic=False``: every lag as if unavailable (the last value, flag 0)."""
    if c.periodic:
        return w
    for name in ("lag_day_w", "lag_week_w", "lag_day", "lag_week"):
        a = getattr(w, name)
        setattr(w, name, np.broadcast_to(w.last[:, None, :], a.shape).copy())
    for name in ("mask_day_w", "mask_week_w", "mask_day", "mask_week"):
        getattr(w, name)[:] = 0.0
    return w


class _Threads:
    """Sets torch's intra-op threads for a block and restores them."""

    def __init__(self, n: int) -> None:
        self.n, self.old = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.old)


class WorkloadForecaster:
    """One forecaster for many zones: ``fit`` on traffic (B, T, D), ``predict`` the next H steps."""

    def __init__(self, config: ForecasterConfig | None = None) -> None:
        self.config = config if config is not None else ForecasterConfig()
        if not isinstance(self.config, ForecasterConfig):
            raise TypeError(f"config: expected ForecasterConfig, got {type(self.config).__name__}")
        self.net: _Net | None = None
        self.dims: int | None = None

    @property
    def horizon(self) -> int:
        return self.config.horizon

    def _build(self, D: int, seed: int) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SeedTree(seed).seed("init") % (1 << 63))
            self.net = _Net(self.config, D)
        self.dims = D

    def _windows(self, series: np.ndarray, rows: np.ndarray, pos: np.ndarray, cal0: np.ndarray,
                 cumsum: np.ndarray | None = None) -> Windows:
        c = self.config
        return _hide_lags(windows(series, rows, pos, cal0, c.window, c.horizon, c.scale_window, cumsum), c)

    def _sample(self, rng: np.random.Generator, series_idx: np.ndarray, T: int, n: int) -> tuple[np.ndarray, ...]:
        rows = series_idx[rng.integers(0, series_idx.size, n)]
        pos = rng.integers(self.config.min_history, T - self.config.horizon + 1, n)
        return rows, pos

    def _loss(self, x: Windows, series: np.ndarray, rows: np.ndarray, pos: np.ndarray) -> torch.Tensor:
        assert self.net is not None
        tgt = series[rows[:, None], pos[:, None] + np.arange(self.config.horizon)] / x.scale[:, None, :]
        y = self.net(*_tensors(x))
        return ((y - torch.from_numpy(tgt.astype(np.float32))) ** 2).mean()

    def fit(self, traffic: np.ndarray, seed: int, progress: bool = False, t_start: int = 0) -> FitReport:
        """Trains on ``traffic`` float64 (B, T, D) (B series, T >= min_history + horizon),
        whose first step has calendar index ``t_start``; returns a :class:`FitReport`."""
        c = self.config
        x = check_traffic(traffic, "traffic", c.min_history + c.horizon)
        check_t0(t_start, 1, "t_start")
        B, T, D = x.shape
        tree = SeedTree(int(seed))
        perm = tree.generator("split").permutation(B)
        n_val = int(round(c.val_share * B)) if B >= 2 else 0
        val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        self._build(D, int(seed))
        assert self.net is not None
        cs = running_sum(x)
        rng = tree.generator("samples")
        vr, vp = self._sample(tree.generator("val"), val_idx if n_val else train_idx, T, c.val_samples)
        vx = self._windows(x, vr, vp, t_start + vp, cs)
        opt = torch.optim.Adam(self.net.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        rep = FitReport(steps=c.steps, seconds=0.0, n_train=int(train_idx.size), n_val=n_val)
        best: dict[str, torch.Tensor] | None = None
        t0, run = time.perf_counter(), 0.0
        bar = Progress(c.steps, desc="forecaster", unit="step", enabled=progress and c.steps > 0)
        with _Threads(c.threads):
            for step in range(c.steps + 1):
                if step % c.eval_every == 0 or step == c.steps:
                    with torch.no_grad():
                        v = float(self._loss(vx, x, vr, vp))
                    rep.checks.append((step, run, v))
                    if best is None or v < rep.best_val:
                        rep.best_val, rep.best_step = v, step
                        best = {k: t.detach().clone() for k, t in self.net.state_dict().items()}
                if step == c.steps:
                    break
                rows, pos = self._sample(rng, train_idx, T, c.batch)
                loss = self._loss(self._windows(x, rows, pos, t_start + pos, cs), x, rows, pos)
                opt.zero_grad()
                loss.backward()
                opt.step()
                run = float(loss.detach()) if step == 0 else 0.95 * run + 0.05 * float(loss.detach())
                bar.update(1)
        bar.close()
        assert best is not None
        self.net.load_state_dict(best)
        rep.seconds = time.perf_counter() - t0
        return rep

    def predict(self, history: np.ndarray, t0: np.ndarray | int) -> np.ndarray:
        """Forecasts float64 (B, H, D) >= 0 of the H steps at calendar indices t0 .. t0 + H - 1
        from ``history`` (B, T_hist, D) (its last step at t0 - 1; T_hist >= 1: missing lags
        fall back as in :mod:`.forecast_features`)."""
        if self.net is None or self.dims is None:
            raise RuntimeError("WorkloadForecaster: call fit() or load_state_dict() before predict()")
        h = check_traffic(history, "history")
        B, T, D = h.shape
        if D != self.dims:
            raise ValueError(f"history: expected {self.dims} traffic dimensions (as fitted), got {D}")
        t = check_t0(t0, B)
        out = np.empty((B, self.config.horizon, D))
        pos = np.full(B, T, dtype=np.int64)
        with _Threads(self.config.threads), torch.no_grad():
            self.net.eval()
            for a in range(0, B, self.config.predict_chunk):
                rows = np.arange(a, min(B, a + self.config.predict_chunk))
                w = _hide_lags(windows(h[rows], np.arange(rows.size), pos[rows], t[rows], self.config.window,
                                       self.config.horizon, self.config.scale_window), self.config)
                out[rows] = self.net(*_tensors(w)).double().numpy() * w.scale[:, None, :]
            self.net.train()
        return np.maximum(out, 0.0)

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Plain values and tensors only (``torch.load(..., weights_only=True)`` reads it)."""
        if self.net is None:
            raise RuntimeError("WorkloadForecaster: nothing to save before fit() or load_state_dict()")
        return {"format": FORMAT_VERSION, "config": dataclasses.asdict(self.config), "dims": self.dims,
                "model": {k: t.detach().clone() for k, t in self.net.state_dict().items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a :meth:`state_dict` (ValueError on another format or config)."""
        if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
            raise ValueError(f"state: expected a forecaster state_dict of format {FORMAT_VERSION}")
        if state.get("config") != dataclasses.asdict(self.config):
            raise ValueError("state: saved with another ForecasterConfig (use WorkloadForecaster.from_state_dict)")
        D = state.get("dims")
        if not isinstance(D, int) or D < 1:
            raise ValueError(f"state: dims must be an integer >= 1, got {D!r}")
        self._build(D, 0)
        assert self.net is not None
        self.net.load_state_dict(state["model"])

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> WorkloadForecaster:
        """A forecaster with the saved config and weights."""
        if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
            raise ValueError("state: expected a forecaster state_dict")
        f = cls(ForecasterConfig(**state["config"]))
        f.load_state_dict(state)
        return f
