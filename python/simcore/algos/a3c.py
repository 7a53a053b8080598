"""A3C (asynchronous advantage actor-critic, Mnih et al. 2016) as drawn in the slides'
"CLTV RL: Algorithm Implementation (2)": a global network, W workers with local
networks, each worker pushing its gradients (dw_pi, dw_V) to the global network and
pulling the global weights (w_pi, w_V) back.

Deterministic schedule (the house rule: the same seed gives the same weights at any
thread count).  Real A3C lets workers push whenever they finish, so the staleness of a
gradient depends on timing.  Here the asynchrony is fixed by construction; one *round*
per rollout of the batched env (B slots, split into W contiguous shards, one per worker)::

    pull:  every local network <- the global weights theta_r
    work:  worker w computes g_w = grad L(theta_r; shard w)        (in parallel threads)
    push:  for w = 0 .. W-1 in this order:  theta <- Adam(theta, clip(g_w))

so worker w's gradient is applied to weights that have already moved by w steps: A3C
with a fixed staleness of w updates, W optimiser steps per round (A2C makes one step
on the whole batch).  The threads only compute gradients (torch releases the GIL in its
kernels); their results are gathered in worker order, so ``threads`` changes the wall
time, never the weights.  Acting uses the global network, which equals every local
network during the rollout (pulled at the start of the round).

Losses, K-step advantages and the Lagrangian budget price are those of
:mod:`simcore.algos.a2c` (the price is global, updated once per iteration).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from simcore.algos.a2c import A2C, A2CConfig, EncoderFactory, a2c_loss, rollout_tensors
from simcore.algos.base import check_config
from simcore.algos.protocol import Batch


@dataclass(frozen=True)
class A3CConfig:
    """Settings of :class:`A3C`.

    Attributes:
        a2c: the learner's hyper-parameters (:class:`~simcore.algos.a2c.A2CConfig`).
        workers: W, worker-local networks = gradient pushes per round (>= 1; each
            round needs at least W env slots).
        threads: threads computing the workers' gradients (>= 1; results do not
            depend on it).
    """

    a2c: A2CConfig = field(default_factory=A2CConfig)
    workers: int = 4
    threads: int = 1

    def __post_init__(self) -> None:
        for name in ("workers", "threads"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")


def _grads(net: nn.Module, t: Mapping[str, torch.Tensor], cfg: A2CConfig,
           price: float) -> tuple[list[torch.Tensor | None], dict[str, float]]:
    """One worker's gradients on its shard (its local network)."""
    loss, metrics = a2c_loss(net, t, cfg, price)  # type: ignore[arg-type]
    net.zero_grad(set_to_none=True)
    loss.backward()
    return [None if p.grad is None else p.grad.detach().clone() for p in net.parameters()], metrics


class A3C(A2C):
    """A3C with W worker-local networks and a fixed push order (module docstring).

    Args:
        obs_dim, n_actions, encoder: as :class:`~simcore.algos.a2c.A2C`.
        config: :class:`A3CConfig`.
    """

    name = "a3c"

    def __init__(self, obs_dim: int, n_actions: int, config: A3CConfig | None = None,
                 encoder: EncoderFactory | None = None) -> None:
        self.a3c = config or A3CConfig()
        super().__init__(obs_dim, n_actions, self.a3c.a2c, encoder)
        self.locals = [copy.deepcopy(self.net) for _ in range(self.a3c.workers)]
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor | None:
        if self.a3c.threads == 1:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.a3c.threads, thread_name_prefix="a3c-worker")
        return self._pool

    def update(self, batch: Batch) -> dict[str, float]:
        """One round (module docstring) on one rollout of B >= W slots."""
        w = self.a3c.workers
        if len(batch) < w:
            raise ValueError(f"batch: A3C with {w} workers needs at least {w} env slots, got {len(batch)}")
        t = rollout_tensors(batch, self.n_actions)
        self._observe_cost(t)
        shards = np.array_split(np.arange(len(batch)), w)
        parts = [{k: v[torch.as_tensor(sh)] for k, v in t.items()} for sh in shards]
        state = self.net.state_dict()
        for local in self.locals:  # pull
            local.load_state_dict(state)
        jobs = [(self.locals[i], parts[i]) for i in range(w) if bool(parts[i]["valid"].any())]
        pool = self._executor()
        if pool is None:
            results = [_grads(net, p, self.config, self.price) for net, p in jobs]
        else:
            # torch's intra-op thread count is per OS thread (an OpenMP setting): each
            # worker takes the caller's, so that its kernels reduce in the same order
            # as on the calling thread (threads = 1) and the weights stay identical.
            intra = torch.get_num_threads()

            def work(job: tuple[nn.Module, dict[str, torch.Tensor]]) -> tuple[list[torch.Tensor | None],
                                                                    dict[str, float]]:
                if torch.get_num_threads() != intra:
                    torch.set_num_threads(intra)
                return _grads(job[0], job[1], self.config, self.price)

            results = list(pool.map(work, jobs))
        sums: dict[str, float] = {}
        for grads, metrics in results:  # push, in worker order
            self.opt.zero_grad(set_to_none=True)
            for p, g in zip(self.net.parameters(), grads):
                p.grad = g
            metrics["grad_norm"] = self._step(self.net)
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
        return {k: v / len(results) for k, v in sums.items()} if results else {}

    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["a3c"] = {"workers": self.a3c.workers}
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_config(state.get("a3c"), {"workers": self.a3c.workers})
        super().load_state_dict(state)

    def close(self) -> None:
        """Stops the worker threads (they also stop with the process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["_pool"] = None
        return d


__all__ = ["A3C", "A3CConfig"]
