"""Baseline marketing policies of the lifecycle domain, the random logging policy and
the logged data the classification baselines (:mod:`simcore.algos.mtl`) are fit on.

A *policy* here is a callable ``policy(obs, sim) -> actions``: obs float32 (B, 19) of
the current day, ``sim`` the :class:`~simcore.domains.lifecycle.simulator.LifecycleSimulator`
(only the oracle reads it), actions int64 (B,).

* :func:`do_nothing` - action 0 for everyone;
* :class:`RandomPolicy` - uniform over all A actions (do-nothing included);
* :class:`FixedAction` - one action for everyone every day ("always offer": the
  budget blocks it once spent);
* :class:`GreedyUplift` - the rule a marketer fits on a random log: per observable
  stage, the action whose logged mean reward (value - cost) most exceeds do-nothing's,
  or do-nothing when none does;
* :class:`MyopicOptimum` - the hardest baseline available: per customer and day the
  action maximising the exact E[reward_a] - price * E[cost_a] (the simulator's
  expectations, latent ``alive`` included: an oracle the agents do not have), the
  price the best of a grid on a calibration activity
  (:func:`calibrate_price`).  It is myopic: it ignores what a touch does to later
  days (stage transitions, fatigue), which a sequential learner could exploit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from simcore.domains.lifecycle.config import LifecycleConfig
from simcore.domains.lifecycle.simulator import LifecycleSimulator

__all__ = ["do_nothing", "RandomPolicy", "FixedAction", "GreedyUplift", "MyopicOptimum", "calibrate_price",
           "logging_config", "log_random", "action_counts", "Policy", "stage_from_obs"]

#: policy(obs, sim) -> actions
Policy = Callable[[np.ndarray, LifecycleSimulator], np.ndarray]

#: observation columns of the stage one-hot (spec layout: features 0-3, stage 4-7)
STAGE_COLUMNS = slice(4, 8)


def stage_from_obs(obs: np.ndarray) -> np.ndarray:
    """int64 (B,) observable stage: the argmax of the obs's stage one-hot."""
    return np.asarray(obs)[:, STAGE_COLUMNS].argmax(axis=1).astype(np.int64)


def do_nothing(obs: np.ndarray, sim: LifecycleSimulator) -> np.ndarray:
    """Action 0 for every slot."""
    return np.zeros(obs.shape[0], dtype=np.int64)


class RandomPolicy:
    """Uniform over ``n_actions`` actions from its own stream ``rng``."""

    def __init__(self, n_actions: int, rng: np.random.Generator) -> None:
        self.n_actions, self.rng = int(n_actions), rng

    def __call__(self, obs: np.ndarray, sim: LifecycleSimulator) -> np.ndarray:
        return np.asarray(self.rng.integers(0, self.n_actions, obs.shape[0]), dtype=np.int64)


class FixedAction:
    """``action`` for every slot every day."""

    def __init__(self, action: int) -> None:
        self.action = int(action)

    def __call__(self, obs: np.ndarray, sim: LifecycleSimulator) -> np.ndarray:
        return np.full(obs.shape[0], self.action, dtype=np.int64)


class GreedyUplift:
    """Per observable stage s, the action argmax_a (mean reward(s, a) - mean reward(s, 0))
    on a log (0 where no action beats do-nothing, or the stage is unseen).

    Args:
        log: a :func:`log_random` dict (obs, action, reward).
        n_actions: A.
        min_rows: a (stage, action) cell needs this many rows to be chosen.
    """

    def __init__(self, log: dict[str, np.ndarray], n_actions: int, min_rows: int = 30) -> None:
        stage = stage_from_obs(log["obs"])
        a = np.asarray(log["action"], dtype=np.int64)
        r = np.asarray(log["reward"], dtype=np.float64)
        cell = stage * n_actions + a
        counts = np.bincount(cell, minlength=4 * n_actions).reshape(4, n_actions)
        sums = np.bincount(cell, weights=r, minlength=4 * n_actions).reshape(4, n_actions)
        seen = counts >= min_rows
        mean = sums / np.maximum(counts, 1)
        uplift = np.where(seen & seen[:, :1], mean - mean[:, :1], -np.inf)
        best = uplift.argmax(axis=1)
        self.uplift = np.where(np.isfinite(uplift), uplift, np.nan)
        self.choice = np.where(uplift[np.arange(4), best] > 0, best, 0).astype(np.int64)

    def __call__(self, obs: np.ndarray, sim: LifecycleSimulator) -> np.ndarray:
        return np.asarray(self.choice[stage_from_obs(obs)], dtype=np.int64)


class MyopicOptimum:
    """argmax_a E[reward_a] - price * E[cost_a] per slot (exact expectations, the oracle;
    reward = value - cost, so price 0 is the unconstrained one-day optimum and a
    positive price rations spend across customers and days)."""

    def __init__(self, price: float = 0.0) -> None:
        if not price >= 0:
            raise ValueError(f"price: must be >= 0, got {price!r}")
        self.price = float(price)

    def __call__(self, obs: np.ndarray, sim: LifecycleSimulator) -> np.ndarray:
        e = sim.expectations_all()
        score = e["expected_reward"] - self.price * e["expected_cost"]
        return score.argmax(axis=1).astype(np.int64)


#: the prices :func:`calibrate_price` tries (dollars of expected reward per dollar of expected cost)
PRICE_GRID = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


def _episode(sim: LifecycleSimulator, policy: Policy, seed: int) -> tuple[float, float]:
    """(total reward, total spend) of one activity after ``sim.seed(seed)``."""
    sim.seed(seed)
    obs = sim.reset()
    reward = spend = 0.0
    for _ in range(sim.horizon):
        res = sim.step(policy(obs, sim))
        reward += float(res.reward.sum())
        spend += float(res.cost.sum())
        obs = res.obs
    return reward, spend


def calibrate_price(sim: LifecycleSimulator, seed: int, grid: tuple[float, ...] = PRICE_GRID) -> dict[str, Any]:
    """The price of :class:`MyopicOptimum` with the highest total reward (LTV) in one
    calibration activity of ``sim`` under ``seed`` (not the evaluation's), over ``grid``.

    Returns:
        ``{"price", "ltv" (per customer), "spend" (per customer), "grid": [[price, ltv, spend], ...]}``.
    """
    rows = []
    for price in grid:
        reward, spend = _episode(sim, MyopicOptimum(price), seed)
        rows.append([float(price), reward / sim.num_users, spend / sim.num_users])
    best = max(rows, key=lambda r: r[1])
    return {"price": best[0], "ltv": best[1], "spend": best[2], "grid": rows}


def logging_config(config: LifecycleConfig) -> LifecycleConfig:
    """``config`` without binding budgets (episode budget and user cap 1e9), so that a
    random logging policy's actions are never blocked (every logged action had
    propensity 1/A)."""
    return dataclasses.replace(config, budget_per_user=1e9, user_cap=1e9)


def log_random(sim: LifecycleSimulator, episodes: int, seed: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Rows (obs, action, reward, value, cost, clicked, converted, purchased, stage) of
    ``episodes`` activities of ``sim`` under the uniform random policy (episode e is
    seeded ``seed`` then reset; actions from ``rng``).  ``sim`` should run a
    :func:`logging_config` (no blocked actions): the propensity of every row is 1/A."""
    policy = RandomPolicy(sim.n_actions, rng)
    keys = ("action", "reward", "value", "cost", "clicked", "converted", "purchased", "stage", "blocked")
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", *keys)}
    sim.seed(seed)
    for _ in range(episodes):
        obs = sim.reset()
        for _ in range(sim.horizon):
            act = policy(obs, sim)
            out["obs"].append(np.array(obs, copy=True))
            res = sim.step(act)
            for k in keys:
                out[k].append(np.array(getattr(res, k), copy=True))
            obs = res.obs
    log = {k: np.concatenate(v) for k, v in out.items()}
    if log["blocked"].any():
        raise ValueError("sim: the logging run blocked actions (use logging_config: no binding budgets)")
    return log


def action_counts(log: dict[str, np.ndarray], n_actions: int) -> dict[str, list[int]]:
    """Per action a of a log (a :func:`log_random` dict): ``rows`` (times a was logged),
    ``sign`` (rows of a with a conversion: the classifiers' sign label) and ``click``
    (rows of a with a click), each a list of ``n_actions`` ints."""
    a = np.asarray(log["action"], dtype=np.int64)
    if a.size and (a.min() < 0 or a.max() >= n_actions):
        raise ValueError(f"log: actions must lie in [0, {n_actions}), got [{a.min()}, {a.max()}]")
    return {"rows": np.bincount(a, minlength=n_actions).tolist(),
            "sign": np.bincount(a[np.asarray(log["converted"], dtype=bool)], minlength=n_actions).tolist(),
            "click": np.bincount(a[np.asarray(log["clicked"], dtype=bool)], minlength=n_actions).tolist()}
