"""The tiered-traffic simulator's step spec (:data:`TRAFFIC_STEP_SPEC`), declared once.

Dims: ``K`` page size, ``F`` ranking columns (m base features + m_t tier flags), ``T``
tiers (m_t), ``W`` remembered pages, ``G`` segments; :func:`traffic_dims` gives them
for a TrafficConfig.  The observation is the search simulator's over the F columns
(docs/user_model.md, "Observation"), so it holds the tier shares of the remembered
pages and of the items clicked on them.
"""

from __future__ import annotations

from simcore.domains.search.spec import SEARCH_STEP_SPEC
from simcore.domains.traffic.config import TrafficConfig
from simcore.envs.spec import Field, ObsSlice, StepSpec

__all__ = ["TRAFFIC_STEP_SPEC", "traffic_dims"]

_SEARCH = {f.name: f for f in SEARCH_STEP_SPEC.fields}

TRAFFIC_STEP_SPEC = StepSpec(
    name="traffic",
    fields=(
        _SEARCH["obs"],
        Field("reward", "float64", (), "reward_gmv + reward_tier (the article's r(s, a))"),
        _SEARCH["terminated"], _SEARCH["truncated"], _SEARCH["outcome"], _SEARCH["item"],
        _SEARCH["price"], _SEARCH["page"], _SEARCH["clicks"],
        Field("carts", "bool", ("K",), "positions added to the cart (a subset of the clicked ones)"),
        _SEARCH["b"], _SEARCH["l"], _SEARCH["c"], _SEARCH["m"], _SEARCH["expected_clicks"],
        Field("expected_carts", "float64", (), "expected number of add-to-carts on the page"),
        Field("n_click", "int32", (), "clicks on the page"),
        Field("n_cart", "int32", (), "add-to-carts on the page"),
        Field("n_buy", "int32", (), "1 if the user bought after this page, else 0"),
        Field("share", "float64", ("T",), "p_i(pi): fraction of the shown items in each tier"),
        Field("share_basic", "float64", ("T",),
              "p_i(pi_basic): the same for the control ranking's page of the same query and page index"),
        Field("reward_gmv", "float64", (),
              "GMV(n_click, n_cart, n_buy) = click n_click + cart n_cart + buy n_buy + price paid "
              "(sample=False: its expectation)"),
        Field("reward_tier", "float64", (), "sum_i lambda_i (share_i - share_basic_i)"),
    ),
    obs_layout=(
        ObsSlice("pages", ("W", "F"),
                 "mean features (base, then tier flags) of each of the last W pages, most recent first"),
        ObsSlice("clicked", "F", "mean features of the items clicked on the remembered pages"),
        ObsSlice("power", 1, "the user's purchasing power"),
        ObsSlice("segment", "G", "segment one-hot"),
        ObsSlice("progress", 1, "pages shown / horizon"),
    ),
)


def traffic_dims(config: TrafficConfig) -> dict[str, int]:
    """The dims of :data:`TRAFFIC_STEP_SPEC` for ``config``: K, F, T, W, G and D."""
    dims = {
        "K": config.session.page_size,
        "F": config.n_base + config.n_tiers,
        "T": config.n_tiers,
        "W": config.session.user.window,
        "G": config.session.world.n_segments,
    }
    dims["D"] = TRAFFIC_STEP_SPEC.obs_dim(dims)
    return dims
