"""Deprecated path: the kernels moved to :mod:`simcore.kernels`, the simulator to
:mod:`simcore.domains.search.simulator`.  Names resolve with a DeprecationWarning."""

from simcore.util.compat import forwarder

_K = "simcore.kernels.ranking"
_S = "simcore.domains.search.simulator"
__all__ = ["topk", "topk_batch", "discordant_pairs", "scores", "hardware_threads",
           "SearchSimulator", "StepResult", "PageExpectation"]
__getattr__ = forwarder("simcore.core", {n: (_K if i < 5 else _S) for i, n in enumerate(__all__)})
