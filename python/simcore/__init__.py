"""simcore: fast, deterministic simulation of e-commerce search sessions.

The C++ core lives in :mod:`simcore._core`; its Python face is :mod:`simcore.core`
and its plain NumPy twin is :mod:`simcore.reference`.  Importing :mod:`simcore`
registers the Gymnasium environments (``simcore/SearchSession-v0`` ...).
"""

from simcore import core
from simcore.config import SessionConfig, UserModelConfig, WorldConfig

__version__ = "0.1.0"

from simcore import envs as _envs  # noqa: E402  (registers Gymnasium ids)

__all__ = ["core", "SessionConfig", "UserModelConfig", "WorldConfig", "__version__"]
