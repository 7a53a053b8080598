"""Contextual bandits on logged data: the Open Bandit Dataset's loader
(:mod:`~simcore.domains.bandits.obd`) and the dataset paper's off-policy benchmark
(:mod:`~simcore.domains.bandits.protocol`), on the estimators of :mod:`simcore.algos.ope`
(docs/ope.md).  A base domain (imports no other domain)."""

from simcore.domains.bandits.obd import OBDFormatError, OBDLog, find_wheel, load_item_context, load_obd

__all__ = ["OBDFormatError", "OBDLog", "find_wheel", "load_item_context", "load_obd"]
