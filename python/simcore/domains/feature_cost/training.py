"""Training and greedy subsets of the feature-selection learners on
``simcore/FeatureSelection-v0`` (any env with its vector API: ``env.core.n`` decisions
per episode, the last step's info holding ``loss``, ``cost``, ``penalized``, ``mask``).

* :func:`make_collector`: the shared episode-wise collector
  (:class:`simcore.train.episodes.EpisodeCollector`) with this domain's business
  metrics (:func:`episode_metrics`);
* :func:`train`: iterations of (B episodes, one update);
* :func:`greedy_masks`: each request's subset under the greedy policy.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.collector import Collector
from simcore.train.episodes import EpisodeCollector, play_episodes

__all__ = ["episode_metrics", "make_collector", "train", "greedy_masks"]


def episode_metrics(batch: Batch, info: Mapping[str, Any]) -> dict[str, float]:
    """Means over the B episodes of the env's last-step info: ``loss`` (pairwise loss
    of the chosen subset, fraction of pairs), ``cost`` (its cost, fraction of the full
    cost) and ``penalized`` (share of episodes whose loss exceeded C)."""
    return {k: float(np.mean(info[k])) for k in ("loss", "cost", "penalized")}


def make_collector(env: Any) -> EpisodeCollector:
    """The training collector of a FeatureSelection vector env: one episode of
    ``env.core.n`` decisions per slot and iteration.  The env is not reseeded per
    iteration (``reseed=False``): seed it once with ``env.reset(seed=...)`` before
    training; the requests of every iteration follow from that seed."""
    return EpisodeCollector(env, int(env.core.n), episode_metrics, reseed=False)


def train(
    env: Any,
    agent: AgentProtocol,
    iterations: int,
    on_iteration: Callable[[int, dict[str, Any]], None] | None = None,
    collector: Collector | None = None,
) -> list[dict[str, Any]]:
    """``iterations`` rounds of (B exploring episodes, one update).

    A thin loop over :meth:`Collector.run` until the shared loop
    (:func:`simcore.train.loop.train`) takes a collector.

    Args:
        env: the training vector env (seeded beforehand, see :func:`make_collector`).
        agent: the learner.
        iterations: number of iterations (>= 0).
        on_iteration: called with (iteration, record) after each.
        collector: None: :func:`make_collector` of ``env``.

    Returns:
        per-iteration records: ``iteration``, ``return`` (mean episode return),
        ``loss``, ``cost``, ``penalized`` and the agent's update metrics.
    """
    col = collector if collector is not None else make_collector(env)
    history = []
    for it in range(int(iterations)):
        rec: dict[str, Any] = {"iteration": it}
        rec.update(col.run(agent, it, explore=True, learn=True))
        history.append(rec)
        if on_iteration is not None:
            on_iteration(it, rec)
    return history


def greedy_masks(env: Any, agent: AgentProtocol, contexts: np.ndarray) -> np.ndarray:
    """bool (len(contexts), n): the agent's greedy subset (``explore=False``) for each
    request index in ``contexts``, run through the env B requests at a time (the last
    batch padded with request 0)."""
    contexts = np.asarray(contexts, dtype=np.int64)
    B, n = env.num_envs, env.core.n
    out = np.zeros((contexts.size, n), bool)
    for s in range(0, contexts.size, B):
        c = contexts[s : s + B]
        pad = np.zeros(B, np.int64)
        pad[: c.size] = c
        _, info = play_episodes(env, agent, n, explore=False, options={"contexts": pad})
        out[s : s + c.size] = info["mask"][: c.size]
    return out
