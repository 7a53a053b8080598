"""Tiered traffic control (the article's 分层流量调控): the search simulator over a
catalogue with binary tier flags as extra ranking columns, users with a latent tier
affinity, add-to-cart responses, page and control tier shares and the article's reward
(docs/tiered_traffic_model.md).  Derived from :mod:`simcore.domains.search`."""

from simcore.domains.traffic.config import TierWorldConfig, TrafficConfig, TrafficRewardConfig
from simcore.domains.traffic.simulator import TrafficSimulator, TrafficStepResult
from simcore.domains.traffic.world import TrafficWorld, make_traffic_world

__all__ = [
    "TierWorldConfig",
    "TrafficConfig",
    "TrafficRewardConfig",
    "TrafficSimulator",
    "TrafficStepResult",
    "TrafficWorld",
    "make_traffic_world",
]
