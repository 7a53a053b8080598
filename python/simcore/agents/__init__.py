"""Ranking-control agents behind one interface (:class:`simcore.agents.base.Agent`).

Modules (imported on demand, so that importing this package needs neither torch
networks nor any optional module):

* :mod:`~simcore.agents.dpg` - the article's linear DPG (softmax actor, advantage critic);
* :mod:`~simcore.agents.shaping` - the reward-shaping potentials Phi_clk / Phi_pay;
* :mod:`~simcore.agents.ddpg` - DDPG with the LTR gradient-fusion term;
* :mod:`~simcore.agents.fbe` - DPG-FBE (full expected backup, Hu et al. 2018);
* :mod:`~simcore.agents.outcome_model` - b, c, m models fitted from logs (for FBE);
* baselines: :mod:`~simcore.agents.fixed`, :mod:`~simcore.agents.random_weights`,
  :mod:`~simcore.agents.cem`, :mod:`~simcore.agents.ltr`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: class name -> module defining it
_CLASSES = {
    "Agent": "simcore.agents.base",
    "Transition": "simcore.agents.base",
    "LinearDPG": "simcore.agents.dpg",
    "DPGConfig": "simcore.agents.dpg",
    "DDPG": "simcore.agents.ddpg",
    "DDPGConfig": "simcore.agents.ddpg",
    "DPGFBE": "simcore.agents.fbe",
    "OutcomeModel": "simcore.agents.outcome_model",
    "FixedWeights": "simcore.agents.fixed",
    "RandomWeights": "simcore.agents.random_weights",
    "CEMWeights": "simcore.agents.cem",
    "CEMConfig": "simcore.agents.cem",
    "FittedLTR": "simcore.agents.ltr",
}

__all__ = sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'simcore.agents' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
