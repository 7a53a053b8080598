"""The search domain's hooks for the step-wise collector (:mod:`simcore.train.steps`):
how a step of the C++-batched search-session vector env
(``gymnasium.make_vec("simcore/SearchSession-v0", ...)``) becomes a
:class:`~simcore.algos.protocol.Batch`, the business metrics of an iteration, and the
greedy weights by user segment.  :func:`search_collector` wires them up.

Batch columns (n rows, D observation size, m features, K page size):
    obs: float32 (n, D) state s the action was taken in.
    action: float32 (n, m) ranking weights actually used (with exploration).
    reward: float64 (n,) env reward (``reward="clicks"``: price on purchase, else the
        number of clicks on the page).
    next_obs: float32 (n, D) observation after the page.  After a purchase or leave it
        is still the state the user would be in had they continued.
    terminated: bool (n,) the user bought or left.
    truncated: bool (n,) the session reached its horizon without ending.
    last_page: bool (n,) this page was the horizon's last (no continuation is possible,
        whatever the outcome).
    outcome: int8 (n,) 0 continue, 1 buy, 2 leave (-1: autoreset row, dropped).
    price: float64 (n,) purchase price (0 without purchase).
    page_features: float32 (n, K, m) features of the shown items (0 on padding).
    page_mask: bool (n, K) True where a real item was shown.
    clicks: bool (n, K) click labels of the shown items.
    purchased: bool (n, K) True for the bought item when it is on this page.
    item_prices: float64 (n, K) prices of the shown items (0 on padding).
    b, l, c, m: float64 (n,) exact buy / leave / continue probabilities and the expected
        purchase price of the page history just shown (simulator truth).
    expected_clicks: float64 (n,) exact expected clicks on the page.
    slot: int64 (n,) session slot (row of ``act``'s input) of each transition.
    segment: int64 (n,) user segment of each transition.

Per-iteration record (all floats unless noted):
    env_steps (int: slot-steps incl. autoreset rows), pages (int), sessions (int:
    sessions that ended), gmv_per_session (purchase prices / ended sessions), ctr
    (clicks / items shown), clicks_per_session, conversion (purchases / ended
    sessions), reward_per_page, mean_action (m: weights actually used, exploration
    included), mean_action_by_segment (G x m), and after learning greedy_action and
    greedy_action_by_segment (the greedy policy ``act(obs, explore=False)`` on the B
    states reached at the end of the iteration: the weight trajectories of the
    article's figures; None for a segment absent from them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.steps import StepCollector

#: record keys the training loop's evaluations report (as ``eval_<key>``)
EVAL_KEYS = ("gmv_per_session", "ctr", "clicks_per_session", "conversion", "sessions",
             "mean_action", "mean_action_by_segment")


def env_sim(env: Any) -> Any:
    """The :class:`~simcore.domains.search.simulator.SearchSimulator` behind a search
    vector env, or TypeError naming ``env``."""
    sim = getattr(env, "sim", None)
    if sim is None or not hasattr(sim, "world"):
        raise TypeError(
            "env: expected simcore's SearchSessionVectorEnv (gymnasium.make_vec("
            "'simcore/SearchSession-v0', ...)) with a .sim attribute"
        )
    return sim


def make_transition(
    sim: Any,
    obs: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    next_obs: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    info: dict[str, np.ndarray],
) -> Batch:
    """All B rows of one vector-env step as a Batch (copies; module docstring).

    Must be called right after the step (it reads the slots' users and step
    counters).  Autoreset rows (``outcome == -1``) are included; the collector drops
    them.
    """
    users = sim.users()
    query = np.asarray(users["query"])
    steps_taken = np.asarray(sim.steps_taken(), dtype=np.int64)
    page = np.asarray(info["page"])
    mask = page >= 0
    safe = np.where(mask, page, 0)
    world = sim.world
    X = world.features[query[:, None], safe] * mask[..., None]
    item_prices = np.where(mask, world.prices[query[:, None], safe], 0.0)
    outcome = np.asarray(info["outcome"])
    item = np.asarray(info["item"])
    purchased = mask & (page == item[:, None]) & (outcome == 1)[:, None]
    return Batch(
        obs=np.array(obs, dtype=np.float32),
        action=np.array(action, dtype=np.float32),
        reward=np.array(reward, dtype=np.float64),
        next_obs=np.array(next_obs, dtype=np.float32),
        terminated=np.array(terminated, dtype=bool),
        truncated=np.array(truncated, dtype=bool),
        last_page=steps_taken >= sim.horizon,
        outcome=outcome.astype(np.int8),
        price=np.array(info["price"], dtype=np.float64),
        page_features=X.astype(np.float32),
        page_mask=mask,
        clicks=np.array(info["clicks"], dtype=bool) & mask,
        purchased=purchased,
        item_prices=item_prices.astype(np.float64),
        b=np.array(info["b"], dtype=np.float64),
        l=np.array(info["l"], dtype=np.float64),
        c=np.array(info["c"], dtype=np.float64),
        m=np.array(info["m"], dtype=np.float64),
        expected_clicks=np.array(info["expected_clicks"], dtype=np.float64),
        slot=np.arange(page.shape[0], dtype=np.int64),
        segment=np.asarray(users["segment"], dtype=np.int64).copy(),
    )


class SearchStats:
    """Business metrics over the valid rows of an iteration (module docstring).

    Args:
        m: number of ranking features.  G: number of user segments.
    """

    def __init__(self, m: int, G: int) -> None:
        self.env_steps = self.pages = self.sessions = self.purchases = 0
        self.clicks = self.impressions = 0
        self.gmv = self.reward = 0.0
        self.action_sum = np.zeros(m)
        self.seg_action_sum = np.zeros((G, m))
        self.seg_count = np.zeros(G)

    def add(self, batch: Batch, env_steps: int) -> None:
        self.env_steps += env_steps
        self.pages += len(batch)
        self.sessions += int((batch.terminated | batch.truncated).sum())
        self.gmv += float(batch.price.sum())
        self.purchases += int((batch.outcome == 1).sum())
        self.clicks += int(batch.clicks.sum())
        self.impressions += int(batch.page_mask.sum())
        self.reward += float(batch.reward.sum())
        a = batch.action.astype(np.float64)
        self.action_sum += a.sum(axis=0)
        np.add.at(self.seg_action_sum, batch.segment, a)
        self.seg_count += np.bincount(batch.segment, minlength=self.seg_count.shape[0])

    def record(self) -> dict[str, Any]:
        s = max(self.sessions, 1)
        nan = float("nan")
        return {
            "env_steps": self.env_steps,
            "pages": self.pages,
            "sessions": self.sessions,
            "gmv_per_session": self.gmv / s if self.sessions else nan,
            "ctr": self.clicks / self.impressions if self.impressions else nan,
            "clicks_per_session": self.clicks / s if self.sessions else nan,
            "conversion": self.purchases / s if self.sessions else nan,
            "reward_per_page": self.reward / self.pages if self.pages else nan,
            "mean_action": (self.action_sum / max(self.pages, 1)).tolist(),
            "mean_action_by_segment": (self.seg_action_sum / np.maximum(self.seg_count, 1)[:, None]).tolist(),
        }


def greedy_by_segment(sim: Any, agent: AgentProtocol, obs: np.ndarray) -> dict[str, Any]:
    """``greedy_action`` (m,) and ``greedy_action_by_segment`` (G lists or None) of the
    greedy policy on the B states ``obs`` of the slots' current users."""
    G = int(sim.world.segment_probs.shape[0])
    greedy = np.asarray(agent.act(obs, explore=False), dtype=np.float64)
    seg = np.asarray(sim.users()["segment"], dtype=np.int64)
    counts = np.bincount(seg, minlength=G)
    sums = np.zeros((G, greedy.shape[1]))
    np.add.at(sums, seg, greedy)
    return {
        "greedy_action": greedy.mean(axis=0).tolist(),
        "greedy_action_by_segment": [(sums[g] / counts[g]).tolist() if counts[g] else None for g in range(G)],
    }


class SearchHooks:
    """The search domain's :class:`simcore.train.steps.StepHooks`."""

    eval_keys = EVAL_KEYS
    progress_key = "gmv_per_session"

    def to_batch(self, env: Any, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                 next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                 info: dict[str, Any]) -> Batch:
        return make_transition(env_sim(env), obs, action, reward, next_obs, terminated, truncated, info)

    def new_metrics(self, env: Any) -> SearchStats:
        sim = env_sim(env)
        return SearchStats(sim.num_features, int(sim.world.segment_probs.shape[0]))

    def end_record(self, env: Any, agent: AgentProtocol, obs: np.ndarray) -> dict[str, Any]:
        return greedy_by_segment(env_sim(env), agent, obs)


def search_collector(env: Any, steps: int, pages: int | None = None) -> StepCollector:
    """The step-wise collector of ``steps`` batched steps per iteration on a search
    vector env (TypeError if ``env`` is not one); with ``pages``, a training iteration
    instead collects exactly ``pages`` real pages (autoreset rows not counted;
    :class:`simcore.train.steps.StepCollector`, "Page budget")."""
    env_sim(env)
    return StepCollector(env, steps, SearchHooks(), pages=pages)
