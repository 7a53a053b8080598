"""Deprecated path: the search configs moved to :mod:`simcore.domains.search.config`
(also exported as ``simcore.SessionConfig`` ...).  Names resolve with a DeprecationWarning."""

from simcore.util.compat import forwarder

__getattr__ = forwarder("simcore.config", {
    n: "simcore.domains.search.config" for n in ("SessionConfig", "UserModelConfig", "WorldConfig")
})
