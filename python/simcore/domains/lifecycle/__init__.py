"""Customer-lifecycle marketing (issue 13): a population of CDNOW-calibrated BG/NBD
customers, day-by-day touches (offer type x channel x benefit, or a club invitation)
through a touch -> click -> convert funnel with fatigue, lifecycle stages, an episode
budget and a per-customer cap (docs/lifecycle_model.md)."""

from simcore.domains.lifecycle.actions import ActionTable, default_actions
from simcore.domains.lifecycle.config import (
    CHANNELS,
    FEATURES,
    STAGES,
    LifecycleConfig,
    MarketingConfig,
    PopulationConfig,
)
from simcore.domains.lifecycle.population import Population, make_population
from simcore.domains.lifecycle.simulator import LifecycleSimulator, LifecycleStepResult

__all__ = [
    "ActionTable", "CHANNELS", "FEATURES", "STAGES", "LifecycleConfig", "LifecycleSimulator",
    "LifecycleStepResult", "MarketingConfig", "Population", "PopulationConfig", "default_actions",
    "make_population",
]
