"""simcore: fast, deterministic simulation of e-commerce search and marketing decisions.

Layers (docs/architecture.md): the C++ core (:mod:`simcore._core`), shared kernels
(:mod:`simcore.kernels`), envs, algos, train, runner, report and util; domains over
them (:mod:`simcore.domains.search`, :mod:`simcore.domains.feature_cost`,
:mod:`simcore.domains.traffic`); experiments
and the CLI on top.  Importing :mod:`simcore` registers every Gymnasium id
(``simcore/SearchSession-v0`` ...).
"""

from simcore import kernels
from simcore._version import __version__  # noqa: E402
from simcore.domains.autoscaling import env as _autoscaling_env  # noqa: E402,F401  (registers ids)
from simcore.domains.bandits import env as _bandits_env  # noqa: E402,F401  (registers ids)
from simcore.domains.feature_cost import env as _feature_cost_env  # noqa: E402,F401  (registers ids)
from simcore.domains.lifecycle import env as _lifecycle_env  # noqa: E402,F401  (registers ids)
from simcore.domains.search import envs as _search_envs  # noqa: E402,F401  (registers ids)
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.traffic import env as _traffic_env  # noqa: E402,F401  (registers ids)

__all__ = ["kernels", "SearchSimulator", "SessionConfig", "UserModelConfig", "WorldConfig", "__version__"]


def __getattr__(name: str):  # simcore.core / simcore.reference as attributes, as before
    if name in ("core", "reference", "config", "world"):
        import importlib

        return importlib.import_module(f"simcore.{name}")
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")
