"""Shared ranking kernels (C++), knowing no domain: top-k selection, scores, Kendall
distance.  :mod:`simcore.kernels.reference` holds their plain NumPy twins and
:mod:`simcore.kernels.rng` the twin of the counter-based random streams."""

from simcore.kernels.ranking import discordant_pairs, hardware_threads, scores, topk, topk_batch, topk_indexed

__all__ = ["topk", "topk_batch", "topk_indexed", "scores", "discordant_pairs", "hardware_threads"]
