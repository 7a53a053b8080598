"""The search simulator's step spec (:data:`SEARCH_STEP_SPEC`), declared once.

Dims: ``K`` page size, ``m`` features, ``W`` remembered pages (UserModelConfig.window),
``G`` segments; :func:`search_dims` gives them for a SessionConfig.  The fields are
those of :class:`simcore.domains.search.simulator.StepResult`; the observation layout
is the C++ simulator's (docs/user_model.md, "Observation").
"""

from __future__ import annotations

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.envs.spec import Field, ObsSlice, StepSpec

__all__ = ["SEARCH_STEP_SPEC", "search_dims", "segment_of"]

SEARCH_STEP_SPEC = StepSpec(
    name="search",
    fields=(
        Field("obs", "float32", ("D",), "next observation, in [0, 1] (layout: obs_layout)"),
        Field("reward", "float64", (), "purchase price on purchase; else 0 (gmv) or the page's clicks (clicks)"),
        Field("terminated", "bool", (), "the user bought or left"),
        Field("truncated", "bool", (), "the horizon was reached"),
        Field("outcome", "int8", (), "-1 autoreset step, 0 continue, 1 buy, 2 leave"),
        Field("item", "int64", (), "purchased item, or -1"),
        Field("price", "float64", (), "price of the purchased item, or 0"),
        Field("page", "int64", ("K",), "shown items, best first, -1 padded"),
        Field("clicks", "bool", ("K",), "clicked positions of the page"),
        Field("b", "float64", (), "exact conversion probability of the page history"),
        Field("l", "float64", (), "exact abandon probability"),
        Field("c", "float64", (), "exact continuing probability (b + l + c = 1)"),
        Field("m", "float64", (), "expected purchase price given a purchase"),
        Field("expected_clicks", "float64", (), "expected number of clicks on the page"),
    ),
    obs_layout=(
        ObsSlice("pages", ("W", "m"),
                 "mean features of each of the last W pages, most recent first (zeros before a page exists)"),
        ObsSlice("clicked", "m", "mean features of the items clicked on the remembered pages (zeros without clicks)"),
        ObsSlice("power", 1, "the user's purchasing power"),
        ObsSlice("segment", "G", "segment one-hot"),
        ObsSlice("progress", 1, "pages shown / horizon"),
    ),
)


def search_dims(config: SessionConfig) -> dict[str, int]:
    """The dims of :data:`SEARCH_STEP_SPEC` for ``config``: K, m, W, G and D (obs size)."""
    dims = {
        "K": config.page_size,
        "m": config.world.n_features,
        "W": config.user.window,
        "G": config.world.n_segments,
    }
    dims["D"] = SEARCH_STEP_SPEC.obs_dim(dims)
    return dims


def segment_of(obs: np.ndarray, n_segments: int) -> np.ndarray:
    """int64 (n,) segment index of each observation float (n, D) of the search layout
    (and of the domains that keep it, e.g. tiered traffic): the argmax of the
    ``segment`` one-hot, the G columns before the last (``progress``)."""
    one_hot = np.asarray(obs)[:, -1 - n_segments:-1]
    return np.argmax(one_hot, axis=1).astype(np.int64)
