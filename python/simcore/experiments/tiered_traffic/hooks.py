"""Step-wise collector hooks for the tiered-traffic vector env
(``gymnasium.make_vec("simcore/TieredTraffic-v0", ...)``, NEXT_STEP autoreset).

Batch columns (n valid rows, D observation size, m_t tiers):
    obs, next_obs: float32 (n, D).  action: float32 (n, m_t) tier weights used.
    reward: float64 (n,) what the learner trains on: the sampled r = GMV(n_click, n_cart,
        n_buy) + sum_i lambda_i (p_i - p_i^basic), or (``expected_reward``) its
        conditional expectation given the page (click E[n_click] + cart E[n_cart] +
        buy b + price b m + the lift term: the click, cart and purchase draws' noise
        removed).
    reward_sampled: float64 (n,) the sampled r (the env's reward) in either case.
    terminated, truncated: bool (n,).
    price: float64 (n,) paid price (0 without a purchase).
    reward_gmv: float64 (n,) the reward's GMV term.
    egmv: float64 (n,) b m, the page's exact expected paid GMV (simulator truth).
    share, share_basic: float64 (n, m_t) tier shares of the shown page and of the
        control ranking's page.
    slot: int64 (n,) session slot.  segment: int64 (n,) the user's segment.

Per-iteration record: pages, sessions (ended), gmv_per_session (paid prices / ended
sessions), egmv_per_page (mean b m over the served pages: the served traffic's GMV
with the purchase draw's noise removed), reward_per_page, reward_gmv_per_page, share and share_basic (m_t lists:
page means), lift (share - share_basic, m_t list), mean_action (m_t list).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.steps import StepCollector

#: record keys the loop's (sampled) evaluations copy
EVAL_KEYS = ("gmv_per_session", "egmv_per_page", "reward_per_page", "share", "lift")


def _info(info: dict[str, Any], key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    v = info.get(key)
    if v is None:
        raise KeyError(f"info: the traffic env's step info has no {key!r} (keys: {sorted(info)})")
    return np.array(v, dtype=dtype, copy=True).reshape(shape)


class TrafficStats:
    """Sums over the valid rows of one iteration (module docstring)."""

    def __init__(self, m_t: int) -> None:
        self.m_t = m_t
        self.pages = 0
        self.sessions = 0
        self.gmv = 0.0
        self.egmv = 0.0
        self.reward = 0.0
        self.reward_gmv = 0.0
        self.share = np.zeros(m_t)
        self.share_basic = np.zeros(m_t)
        self.action = np.zeros(m_t)

    def add(self, batch: Batch, env_steps: int) -> None:
        n = len(batch)
        if n == 0:
            return
        self.pages += n
        self.sessions += int((batch.terminated | batch.truncated).sum())
        self.gmv += float(batch.price.sum())
        self.egmv += float(batch.egmv.sum())
        self.reward += float(batch.reward_sampled.sum())
        self.reward_gmv += float(batch.reward_gmv.sum())
        self.share += batch.share.sum(axis=0)
        self.share_basic += batch.share_basic.sum(axis=0)
        self.action += batch.action.astype(np.float64).sum(axis=0)

    def record(self) -> dict[str, Any]:
        p = max(self.pages, 1)
        return {"pages": self.pages, "sessions": self.sessions,
                "gmv_per_session": self.gmv / max(self.sessions, 1), "egmv_per_page": self.egmv / p,
                "reward_per_page": self.reward / p, "reward_gmv_per_page": self.reward_gmv / p,
                "share": (self.share / p).tolist(), "share_basic": (self.share_basic / p).tolist(),
                "lift": ((self.share - self.share_basic) / p).tolist(), "mean_action": (self.action / p).tolist()}


class TrafficHooks:
    """:class:`simcore.train.steps.StepHooks` of the traffic vector env.

    Args:
        expected_reward: train on the page's conditional expected reward instead of the
            sampled one (module docstring, ``reward``).
    """

    eval_keys: Sequence[str] | None = EVAL_KEYS
    progress_key: str | None = "reward_per_page"

    def __init__(self, expected_reward: bool = False) -> None:
        self.expected_reward = bool(expected_reward)

    def to_batch(self, env: Any, obs: np.ndarray, action: np.ndarray, reward: np.ndarray, next_obs: np.ndarray,
                 terminated: np.ndarray, truncated: np.ndarray, info: dict[str, Any]) -> Batch:
        B = obs.shape[0]
        sim = env.sim
        m_t = int(sim.n_tiers)
        sampled = np.array(reward, dtype=np.float64, copy=True)
        if self.expected_reward:
            g = sim.config.reward
            b = _info(info, "b", (B,), np.float64)
            train_r = (g.click * _info(info, "expected_clicks", (B,), np.float64)
                       + g.cart * _info(info, "expected_carts", (B,), np.float64) + g.buy * b
                       + g.price * b * _info(info, "m", (B,), np.float64)
                       + _info(info, "reward_tier", (B,), np.float64))
        else:
            train_r = sampled
        return Batch(
            obs=np.array(obs, dtype=np.float32, copy=True),
            action=np.array(action, dtype=np.float32, copy=True).reshape(B, m_t),
            reward=train_r,
            reward_sampled=sampled,
            next_obs=np.array(next_obs, dtype=np.float32, copy=True),
            terminated=np.array(terminated, dtype=bool, copy=True),
            truncated=np.array(truncated, dtype=bool, copy=True),
            price=_info(info, "price", (B,), np.float64),
            reward_gmv=_info(info, "reward_gmv", (B,), np.float64),
            egmv=_info(info, "b", (B,), np.float64) * _info(info, "m", (B,), np.float64),
            share=_info(info, "share", (B, m_t), np.float64),
            share_basic=_info(info, "share_basic", (B, m_t), np.float64),
            slot=np.arange(B, dtype=np.int64),
            segment=np.array(sim.users()["segment"], dtype=np.int64, copy=True),
        )

    def new_metrics(self, env: Any) -> TrafficStats:
        return TrafficStats(int(env.sim.n_tiers))

    def end_record(self, env: Any, agent: AgentProtocol, obs: np.ndarray) -> dict[str, Any]:
        a = np.asarray(agent.act(np.asarray(obs, dtype=np.float32), explore=False), dtype=np.float64)
        return {"greedy_action": a.mean(axis=0).tolist()}


def traffic_collector(env: Any, steps: int, expected_reward: bool = False) -> StepCollector:
    """The step-wise collector on a traffic vector env: ``steps`` batched steps per
    iteration (``expected_reward``: see :class:`TrafficHooks`)."""
    return StepCollector(env, steps, TrafficHooks(expected_reward))
