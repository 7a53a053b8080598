"""Reproductions, one module each: a config dataclass, ``run()``, a report writer.

Each module registered in :data:`EXPERIMENTS` exposes ``add_arguments(parser)`` and
``main(args) -> int`` for the ``simcore reproduce NAME`` command.
"""

from __future__ import annotations

#: CLI name -> module path.
EXPERIMENTS: dict[str, str] = {
    "discount": "simcore.experiments.discount",
    "ranking": "simcore.experiments.ranking",
    "engine-cost": "simcore.experiments.engine_cost",
}
