"""Deprecated path: moved to :mod:`simcore.domains.search.world`.  Names resolve with
a DeprecationWarning."""

from simcore.util.compat import forwarder

__getattr__ = forwarder("simcore.world", {
    n: "simcore.domains.search.world"
    for n in ("World", "make_world", "default_action_set", "FEATURE_NAMES", "ACTION_NAMES")
})
