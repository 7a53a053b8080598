"""Ranking-control agents behind one interface (:class:`simcore.algos.base.Agent`).

Modules (imported on demand, so that importing this package needs neither torch
networks nor any optional module):

* :mod:`~simcore.algos.dpg` - the article's linear DPG (softmax actor, advantage critic);
* :mod:`~simcore.algos.shaping` - the reward-shaping potentials Phi_clk / Phi_pay;
* :mod:`~simcore.algos.ddpg` - DDPG with the LTR gradient-fusion term;
* :mod:`~simcore.algos.fbe` - DPG-FBE (full expected backup, Hu et al. 2018);
* :mod:`~simcore.algos.outcome_model` - b, c, m models fitted from logs (for FBE);
* baselines: :mod:`~simcore.algos.fixed`, :mod:`~simcore.algos.random_weights`,
  :mod:`~simcore.algos.cem`, :mod:`~simcore.algos.ltr`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: class name -> module defining it
_CLASSES = {
    "Agent": "simcore.algos.base",
    "Transition": "simcore.algos.base",
    "LinearDPG": "simcore.algos.dpg",
    "DPGConfig": "simcore.algos.dpg",
    "DDPG": "simcore.algos.ddpg",
    "DDPGConfig": "simcore.algos.ddpg",
    "FixedWeights": "simcore.algos.fixed",
    "RandomWeights": "simcore.algos.random_weights",
    "CEMWeights": "simcore.algos.cem",
    "CEMConfig": "simcore.algos.cem",
}

__all__ = sorted(_CLASSES)


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'simcore.algos' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
