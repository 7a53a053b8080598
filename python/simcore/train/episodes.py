"""The episode-wise collector: one whole episode in every slot of a vector env, then
one update on those episodes (Monte-Carlo and on-policy learners).

It implements :class:`simcore.train.collector.Collector` for envs whose episodes all
last the same number of steps T (every slot ends together, so no autoreset row is
ever taken).  The episodes reach the agent as one time-major
:class:`~simcore.algos.protocol.Batch` of T rows (row t = decision t of every slot):

======== ================= =====================================================
column   shape, dtype      meaning
======== ================= =====================================================
obs      (T, B, D) float32 state before decision t
action   (T, B, ...)       the agent's action (the env's action dtype)
reward   (T, B) float64    r_{t+1}
next_obs (T, B, D) float32 state after it
done     (T, B) bool       the episode ended at step t (terminated or truncated)
======== ================= =====================================================

The record of an iteration holds ``return`` (the mean over slots of the undiscounted
episode return sum_t r_{t+1}), the domain's business metrics (a ``metrics`` hook
reading the batch and the env's last-step info), then the agent's ``update`` and
``end_iteration`` metrics.  This module knows no domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcore.algos.protocol import AgentProtocol, Batch

__all__ = ["play_episodes", "EpisodeCollector", "MetricsHook"]

#: (episode batch, the env's info after the last step) -> business metrics (floats)
MetricsHook = Callable[[Batch, Mapping[str, Any]], Mapping[str, float]]


def play_episodes(
    env: Any,
    agent: AgentProtocol,
    length: int,
    *,
    explore: bool = True,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[Batch, dict[str, Any]]:
    """Plays one episode of ``length`` steps in every slot of ``env``.

    Args:
        env: a vector env (gymnasium API: ``reset(seed=, options=)``, ``step``).
        agent: anything with ``act(obs, explore) -> actions``.
        length: T, the episode length; every slot's episode must end at step T.
        explore: passed to ``agent.act``.
        seed: ``env.reset`` seed (None: the env continues its own random stream).
        options: ``env.reset`` options (for example the requests to play).

    Returns:
        the time-major episode :class:`Batch` (see the module docstring) and the env's
        info dict after the last step.

    Raises:
        ValueError: if ``length`` < 1 or some episode has not ended after T steps.
    """
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length: must be an integer >= 1, got {length!r}")
    obs, _ = env.reset(seed=seed, options=dict(options) if options is not None else None)
    B = obs.shape[0]
    O = np.empty((length, B, obs.shape[1]), np.float32)
    NO = np.empty_like(O)
    R = np.empty((length, B))
    Dn = np.zeros((length, B), bool)
    actions: list[np.ndarray] = []
    info: dict[str, Any] = {}
    for t in range(length):
        O[t] = obs
        a = np.asarray(agent.act(obs, explore=explore))
        actions.append(a)
        obs, r, term, trunc, info = env.step(a)
        NO[t] = obs
        R[t] = r
        Dn[t] = np.asarray(term) | np.asarray(trunc)
    if not Dn[-1].all():
        raise ValueError(f"length: {int((~Dn[-1]).sum())} of {B} episodes have not ended after {length} steps")
    return Batch(obs=O, action=np.stack(actions), reward=R, next_obs=NO, done=Dn), info


class EpisodeCollector:
    """Episode-wise :class:`~simcore.train.collector.Collector` of a fixed-length env.

    Args:
        env: the vector env (``num_envs`` slots B).
        length: T, steps of every episode.
        metrics: the domain's hook for the record's business metrics (None: none).
        reseed: True (the Collector protocol): every ``run`` resets the env with its
            ``seed``.  False: ``run`` ignores ``seed`` and the env continues its own
            random stream (seed it once beforehand); kept for protocols fixed before
            the shared loop (the engine-cost reproduction), whose numbers depend on
            one stream over all iterations.  Such a run is exact from the start but
            not resumable mid-way (the env's stream is not in an agent checkpoint).
        options: ``env.reset`` options of every iteration.
    """

    def __init__(
        self,
        env: Any,
        length: int,
        metrics: MetricsHook | None = None,
        *,
        reseed: bool = True,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(f"length: must be an integer >= 1, got {length!r}")
        self.env = env
        self.length = length
        self.metrics = metrics
        self.reseed = bool(reseed)
        self.options = dict(options) if options is not None else None
        #: slot-steps of one iteration: T * B
        self.steps_per_iteration = length * int(getattr(env, "num_envs", 1))
        #: the record field the shared loop shows on its progress bar
        self.progress_key = "return"

    def run(
        self,
        agent: AgentProtocol,
        seed: int,
        *,
        explore: bool = True,
        learn: bool = True,
        keep: list[Batch] | None = None,
        steps: int | None = None,
    ) -> dict[str, Any]:
        """One episode per slot, then (if ``learn``) one ``agent.update`` on them and
        ``agent.end_iteration()``; returns the record (see the module docstring).

        ``steps`` (what the shared loop's ``evaluate`` passes) must be None or the
        episode length T: an episode-wise iteration is always one whole episode."""
        if steps is not None and steps != self.length:
            raise ValueError(f"steps: an episode-wise iteration takes the episode length {self.length}, "
                             f"got {steps!r}")
        batch, info = play_episodes(
            self.env, agent, self.length, explore=explore,
            seed=int(seed) if self.reseed else None, options=self.options,
        )
        if keep is not None:
            keep.append(batch)
        rec: dict[str, Any] = {"return": float(batch.reward.sum(axis=0).mean())}
        if self.metrics is not None:
            rec.update({k: float(v) for k, v in self.metrics(batch, info).items()})
        if learn:
            rec.update(agent.update(batch))
            rec.update(agent.end_iteration())
        return rec
