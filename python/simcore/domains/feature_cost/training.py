"""Training and greedy subsets of the feature-selection learners on
``simcore/FeatureSelection-v0`` (any env with its vector API: ``env.core.n`` decisions
per episode, the last step's info holding ``loss``, ``cost``, ``penalized``, ``mask``).

* :func:`make_collector`: the shared episode-wise collector
  (:class:`simcore.train.episodes.EpisodeCollector`) with this domain's business
  metrics (:func:`episode_metrics`);
  train a learner with the shared loop: ``simcore.train.loop.train(agent,
  make_collector(env), LoopConfig(iterations=...))`` (B episodes and one update per
  iteration);
* :func:`greedy_masks`: each request's subset under the greedy policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch
from simcore.train.episodes import EpisodeCollector, play_episodes

__all__ = ["episode_metrics", "make_collector", "greedy_masks"]


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
