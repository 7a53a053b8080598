"""The collector protocol: how the one training loop (:mod:`simcore.train.loop`)
gathers experience from an env, whatever the domain.

A collector owns an env and the domain's knowledge of what a step means (which
columns a :class:`~simcore.algos.protocol.Batch` holds, which rows are valid, which
business metrics an iteration reports).  The loop owns iterations, evaluation,
checkpoints and progress.  Two collectors serve every domain:

* step-wise (:mod:`simcore.train.steps`): ``steps`` batched env steps, the agent
  updated after every step (off-policy and TD learners; NEXT_STEP autoreset rows
  dropped);
* episode-wise (:mod:`simcore.train.episodes`): one whole episode in every slot, then
  one update on the episodes (Monte-Carlo and on-policy learners).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from simcore.algos.protocol import AgentProtocol, Batch


@runtime_checkable
class Collector(Protocol):
    """One iteration of experience for an agent.

    Optional attributes the loop reads when present: ``eval_keys`` (the record keys
    copied into a training record as ``eval_<key>`` after an evaluation; default all)
    and ``progress_key`` (the record key shown on the progress bar).
    """

    #: slot-steps one iteration takes (for progress bars)
    steps_per_iteration: int

    def run(
        self,
        agent: AgentProtocol,
        seed: int,
        *,
        steps: int | None = None,
        explore: bool = True,
        learn: bool = True,
        keep: list[Batch] | None = None,
    ) -> dict[str, Any]:
        """Resets the env with ``seed``, gathers one iteration (``steps`` batched steps
        where the collector counts steps; None: its own default), updating the agent if
        ``learn``, appends every valid batch to ``keep`` if given, and returns the
        iteration's record (plain values: the domain's metrics plus the means of the
        agent's update metrics; ``end_iteration`` metrics when ``learn``)."""
        ...
