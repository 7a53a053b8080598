"""Diagnosis of A2C on the lifecycle reproduction (docs/lifecycle.md, "Why A2C collapsed").

Two tools, both on the reproduction's own named streams (a seed index s means what it
means in :mod:`.learners`):

* :func:`variant` trains A2C on seed indices with config overrides and returns, per
  seed, its online LTV and touches per customer (the evaluation activity of
  :func:`.learners.run_learner`), the policy entropy at the end of training and the
  largest budget price of the run, and its learning curve (per iteration: the training
  activity's LTV and spend per customer, policy entropy, value loss, budget price);
  ``collapsed`` marks a run whose evaluation policy touches a customer on fewer than
  ``COLLAPSE_TOUCHES`` of the 30 days.
* :func:`bootstrap_bias` trains A2C on one seed and, at chosen iterations, plays one
  extra activity with the current policy (no learning; the agent's sampling stream is
  restored afterwards, so training is unchanged) and compares, per action group (do
  nothing vs touch), three per-row quantities (reward r = scale * (r - mu c), as learnt):

  - the on-policy Monte Carlo advantage G_t - V(s_t), G_t = sum_{i >= t} gamma^{i-t} r_i
    to the activity's end;
  - the learner's K-step advantage R_t - V(s_t) (forward view, rollouts aligned at days
    0, K, 2K, ..., bootstrap V(s_{t+k}) at each rollout's end, as in training);
  - the bootstrap's bias R_t - G_t.

  A negative ``touch - nothing`` difference of the bias means that the K-step return
  undervalues touching relative to what the policy's own returns show.

``python -m simcore.experiments.lifecycle.diagnose variants OUT.json NAME JSON [SEEDS]``
(JSON: overrides of the experiment config, ``{"a2c": {...}}`` for A2CConfig fields;
SEEDS e.g. ``0,1,2,3,4``) and ``... bias SEED K ITERS`` (ITERS e.g. ``2,8,14,18,22,28``)
print one JSON line per seed / snapshot.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from simcore.experiments.lifecycle.config import LifecycleExperimentConfig

__all__ = ["COLLAPSE_TOUCHES", "CURVE_KEYS", "with_overrides", "variant", "bootstrap_bias", "group_means"]

#: the learning-curve fields :func:`variant` keeps
CURVE_KEYS = ("iteration", "ltv", "spend", "entropy", "value_loss", "price")

#: a run whose evaluation policy touches a customer on fewer days than this (of 30) collapsed
COLLAPSE_TOUCHES = 2.0


def with_overrides(cfg: LifecycleExperimentConfig, overrides: Mapping[str, Any]) -> LifecycleExperimentConfig:
    """``cfg`` with experiment fields replaced; the key ``"a2c"`` holds A2CConfig fields."""
    over = dict(overrides)
    a2c = over.pop("a2c", {})
    return dataclasses.replace(cfg, a2c=dataclasses.replace(cfg.a2c, **a2c), **over)


def variant(cfg: LifecycleExperimentConfig, seeds: Iterable[int]) -> list[dict[str, Any]]:
    """A2C of ``cfg`` on each seed index: ltv, touches (per customer, evaluation
    activity), entropy_end, price_max, collapsed, cpu_seconds (process CPU time), curve."""
    from simcore.experiments.lifecycle.learners import run_learner

    out = []
    for s in seeds:
        t0 = time.process_time()
        r = run_learner(cfg, "a2c", int(s))
        on, curve = r["online"], r["curve"]
        out.append({"seed": int(s), "ltv": float(on["ltv"]), "touches": float(on["touches"]),
                    "entropy_end": float(curve[-1]["entropy"]),
                    "price_max": float(max(c["price"] for c in curve)),
                    "collapsed": bool(on["touches"] < COLLAPSE_TOUCHES),
                    "cpu_seconds": time.process_time() - t0,
                    "curve": [{k: float(c[k]) for k in CURVE_KEYS} for c in curve]})
    return out


def group_means(x: np.ndarray, touch: np.ndarray, blocks: int = 16) -> dict[str, float]:
    """Means of x (B, T) over do-nothing rows and touch rows (bool, same shape), their
    difference touch - nothing, and the difference's standard error ``diff_se`` over
    ``blocks`` contiguous blocks of customers (rows of one customer are correlated;
    NaN when fewer than 2 blocks have both groups)."""

    def diff(xb: np.ndarray, tb: np.ndarray) -> float:
        if not (tb.any() and (~tb).any()):
            return float("nan")
        return float(xb[tb].mean() - xb[~tb].mean())

    n0 = float(x[~touch].mean()) if (~touch).any() else float("nan")
    n1 = float(x[touch].mean()) if touch.any() else float("nan")
    parts = [diff(xb, tb) for xb, tb in zip(np.array_split(x, blocks), np.array_split(touch, blocks)) if len(xb)]
    ok = np.array([d for d in parts if np.isfinite(d)])
    se = float(ok.std(ddof=1) / np.sqrt(len(ok))) if len(ok) > 1 else float("nan")
    return {"nothing": n0, "touch": n1, "diff": n1 - n0, "diff_se": se}


def _returns(r: np.ndarray, next_v: np.ndarray, k: int, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """MC returns G and K-step forward-view returns R, both (B, T), of one activity
    (the last day terminal)."""
    import torch

    from simcore.algos.a2c import kstep_returns

    b, t_len = r.shape
    g = np.zeros_like(r)
    acc = np.zeros(b, dtype=r.dtype)
    for t in range(t_len - 1, -1, -1):
        acc = r[:, t] + gamma * acc
        g[:, t] = acc
    ret = np.zeros_like(r)
    term = np.zeros((b, t_len), dtype=bool)
    term[:, -1] = True
    for t0 in range(0, t_len, k):
        t1 = min(t0 + k, t_len)
        ret[:, t0:t1] = kstep_returns(torch.as_tensor(r[:, t0:t1]), torch.as_tensor(next_v[:, t0:t1]),
                                      torch.as_tensor(term[:, t0:t1]),
                                      torch.zeros(b, t1 - t0, dtype=torch.bool), gamma).numpy()
    return g, ret


def bootstrap_bias(cfg: LifecycleExperimentConfig, seed: int, snapshots: Sequence[int],
                   probe_users: int = 1024, probe_seed: int = 12345) -> list[dict[str, Any]]:
    """The snapshot probe of the module docstring for A2C of ``cfg`` on seed index
    ``seed``; one record per snapshot iteration: pi0 (share of do-nothing rows in the
    probe), and for "mc_adv", "learner_adv", "bias" the :func:`group_means`."""
    import torch

    from simcore.domains.lifecycle.agents import make_a2c
    from simcore.domains.lifecycle.env import LifecycleVectorEnv
    from simcore.domains.lifecycle.simulator import LifecycleSimulator
    from simcore.experiments.lifecycle.hooks import LifecycleHooks
    from simcore.experiments.lifecycle.learners import _tree, seed_lifecycle
    from simcore.train.loop import LoopConfig, train
    from simcore.train.rollouts import RolloutCollector

    snaps = {int(i) for i in snapshots}
    if not snaps or min(snaps) < 0:
        raise ValueError(f"snapshots: need iterations >= 0, got {list(snapshots)!r}")
    tree, lc = _tree(cfg, seed), seed_lifecycle(cfg, seed)
    a2c_cfg = dataclasses.replace(cfg.a2c, seed=tree.seed("agent", "a2c") % 2**31, cost_limit=cfg.cost_limit)
    agent = make_a2c(LifecycleSimulator(lc, num_users=1).n_actions, a2c_cfg, cfg.context_encoder)
    hooks = LifecycleHooks("ltv", expected=cfg.expected_reward, price_on=cfg.price_on)
    col = RolloutCollector(LifecycleVectorEnv(cfg.train_users, lc), cfg.k, hooks, steps=lc.horizon_days)
    probe = RolloutCollector(LifecycleVectorEnv(probe_users, lc), lc.horizon_days, hooks, steps=lc.horizon_days)
    agent.rng = tree.generator("act", "a2c")
    out: list[dict[str, Any]] = []

    def snap(rec: dict[str, Any]) -> None:
        if rec["iteration"] not in snaps:
            return
        state = copy.deepcopy(agent.rng.bit_generator.state)
        keep: list[Any] = []
        probe.run(agent, probe_seed, learn=False, keep=keep)
        agent.rng.bit_generator.state = state
        obs, nobs = np.stack([b.obs for b in keep], 1), np.stack([b.next_obs for b in keep], 1)
        r = a2c_cfg.reward_scale * (np.stack([b.reward for b in keep], 1)
                                    - agent.price * np.stack([b.cost for b in keep], 1))
        touch = np.stack([b.action for b in keep], 1) > 0
        b, t_len = r.shape
        with torch.no_grad():
            v = agent.net.value(torch.as_tensor(obs.reshape(b * t_len, -1))).reshape(b, t_len).numpy()
            nv = agent.net.value(torch.as_tensor(nobs.reshape(b * t_len, -1))).reshape(b, t_len).numpy()
        g, ret = _returns(r.astype(np.float32), nv, cfg.k, a2c_cfg.gamma)
        out.append({"iteration": int(rec["iteration"]), "seed": int(seed), "k": int(cfg.k),
                    "pi0": float(1 - touch.mean()), "mc_adv": group_means(g - v, touch),
                    "learner_adv": group_means(ret - v, touch), "bias": group_means(ret - g, touch)})

    loop = LoopConfig(iterations=max(snaps) + 1, seed=tree.seed("train", "a2c"), eval_every=0,
                      eval_steps=lc.horizon_days, eval_seed=tree.seed("curve"))
    train(agent, col, loop, on_iteration=snap)
    return out


def main(argv: list[str]) -> None:
    """CLI (module docstring)."""
    import torch

    torch.set_num_threads(1)
    if len(argv) >= 3 and argv[0] == "variants":
        seeds = [int(s) for s in argv[4].split(",")] if len(argv) > 4 else list(range(5))
        cfg = with_overrides(LifecycleExperimentConfig(workers=1), json.loads(argv[3]) if len(argv) > 3 else {})
        rows = variant(cfg, seeds)
        for r in rows:
            print(json.dumps({"name": argv[2], **{k: v for k, v in r.items() if k != "curve"}}), flush=True)
        with open(argv[1], "w") as f:
            json.dump({"name": argv[2], "overrides": json.loads(argv[3]) if len(argv) > 3 else {}, "rows": rows}, f)
    elif len(argv) == 4 and argv[0] == "bias":
        cfg = dataclasses.replace(LifecycleExperimentConfig(workers=1), k=int(argv[2]))
        for r in bootstrap_bias(cfg, int(argv[1]), [int(i) for i in argv[3].split(",")]):
            print(json.dumps(r), flush=True)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
