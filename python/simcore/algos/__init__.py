"""Agents behind one protocol (:class:`simcore.algos.protocol.AgentProtocol`), learning
from :class:`~simcore.algos.protocol.Batch`; they know no env and no domain.

Modules (imported on demand, so that importing this package needs neither torch
networks nor any optional module):

* :mod:`~simcore.algos.protocol` - the agent protocol and the batch column store;
* :mod:`~simcore.algos.hooks` - hook points for domain terms (critic target, actor
  term, reward shaping);
* :mod:`~simcore.algos.dpg` - the ranking article's linear DPG (softmax actor,
  advantage critic);
* :mod:`~simcore.algos.ddpg` - DDPG (tanh actor, or a sigmoid actor mapped into
  movable bounds [L, U]: :mod:`~simcore.algos.bounds`);
* :mod:`~simcore.algos.cem_bounds` - dynamic action bounds by CEM (a slow gradient
  step on the elite log-likelihood) and the agent wrapper that moves them;
* :mod:`~simcore.algos.replay` - the replay memory;
* :mod:`~simcore.algos.base` - checkpoint and validation helpers;
* :mod:`~simcore.algos.a2c`, :mod:`~simcore.algos.a3c` - advantage actor-critic with
  K-step advantages and a Lagrangian spend price; A3C with global/local networks;
* :mod:`~simcore.algos.mtl` (+ :mod:`~simcore.algos.trace_norm`) - the single-DNN,
  cross-stitch and tensor-trace-norm multi-task response models;
* bandits: :mod:`~simcore.algos.bandits` (epsilon-greedy, UCB1, Thompson),
  :mod:`~simcore.algos.linear_bandits` (LinUCB, linear TS), :mod:`~simcore.algos.neural_bandit`;
* decisions without an agent: :mod:`~simcore.algos.allocation` (budgeted incentive
  allocation), :mod:`~simcore.algos.uplift`, :mod:`~simcore.algos.ope`,
  :mod:`~simcore.algos.ope_sequential`, :mod:`~simcore.algos.hcope`;
* baselines: :mod:`~simcore.algos.fixed`, :mod:`~simcore.algos.random_weights`,
  :mod:`~simcore.algos.cem`.

The search domain's terms (LTR fusion, DPG-FBE's backup, shaping potentials, the
fitted LTR model) live in :mod:`simcore.domains.search.agents`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: class name -> module defining it
_CLASSES = {
    "AgentProtocol": "simcore.algos.protocol",
    "AgentBase": "simcore.algos.protocol",
    "Batch": "simcore.algos.protocol",
    "LinearDPG": "simcore.algos.dpg",
    "DPGConfig": "simcore.algos.dpg",
    "DDPG": "simcore.algos.ddpg",
    "DDPGConfig": "simcore.algos.ddpg",
    "FixedWeights": "simcore.algos.fixed",
    "RandomWeights": "simcore.algos.random_weights",
    "CEMWeights": "simcore.algos.cem",
    "CEMConfig": "simcore.algos.cem",
    "ActionBounds": "simcore.algos.bounds",
    "CEMBounds": "simcore.algos.cem_bounds",
    "CEMBoundsConfig": "simcore.algos.cem_bounds",
    "CEMBoundedAgent": "simcore.algos.cem_bounds",
    "BanditConfig": "simcore.algos.bandits",
    "EpsilonGreedy": "simcore.algos.bandits",
    "UCB1": "simcore.algos.bandits",
    "ThompsonSampling": "simcore.algos.bandits",
    "LinearBanditConfig": "simcore.algos.linear_bandits",
    "LinUCB": "simcore.algos.linear_bandits",
    "LinearTS": "simcore.algos.linear_bandits",
    "NeuralBanditConfig": "simcore.algos.neural_bandit",
    "NeuralLinearTS": "simcore.algos.neural_bandit",
    "A2C": "simcore.algos.a2c",
    "A2CConfig": "simcore.algos.a2c",
    "A3C": "simcore.algos.a3c",
    "A3CConfig": "simcore.algos.a3c",
    "MTLConfig": "simcore.algos.mtl",
    "MTLPolicy": "simcore.algos.mtl",
}

__all__ = sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'simcore.algos' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
