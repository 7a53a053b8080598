"""Search sessions (SSMDP): configuration, catalogue, the C++ simulator's face, its
NumPy twin, Gymnasium envs, tabular solvers and the search-specific agent terms."""

from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import PageExpectation, SearchSimulator, StepResult
from simcore.domains.search.world import World, make_world

__all__ = [
    "SessionConfig",
    "UserModelConfig",
    "WorldConfig",
    "SearchSimulator",
    "StepResult",
    "PageExpectation",
    "World",
    "make_world",
]
