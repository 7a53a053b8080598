"""Deprecated path: the kernels' NumPy twins moved to :mod:`simcore.kernels.reference`,
the simulator's to :mod:`simcore.domains.search.reference`, the random streams' to
:mod:`simcore.kernels.rng`.  Names resolve with a DeprecationWarning."""

from simcore.util.compat import forwarder

__getattr__ = forwarder("simcore.reference", {
    "scores": "simcore.kernels.reference",
    "topk": "simcore.kernels.reference",
    "topk_batch": "simcore.kernels.reference",
    "discordant_pairs": "simcore.kernels.reference",
    "splitmix64": "simcore.kernels.rng",
    "stream_key": "simcore.kernels.rng",
    "ReferenceSessionBatch": "simcore.domains.search.reference",
})
