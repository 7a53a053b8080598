"""The lifecycle simulator's step spec (:data:`LIFECYCLE_STEP_SPEC`), declared once.

One row per customer slot and day.  The observation (float32 in [0, 1], D = 19) is
what a marketer sees: features, stage, recency, purchases, membership, the decayed
response history, the customer's spend against the cap, the batch's budget left and
the day.  Latent quantities (alive, the exact probabilities) are in info only, for
analysis, planners and estimators.
"""

from __future__ import annotations

from simcore.envs.spec import Field, ObsSlice, StepSpec

__all__ = ["LIFECYCLE_STEP_SPEC", "OBS_DIM", "LIFECYCLE_DIMS", "RECENCY_SCALE", "PURCHASE_SCALE"]

#: recency enters the observation as min(recency, RECENCY_SCALE) / RECENCY_SCALE.
RECENCY_SCALE = 365.0
#: purchases n enter as n / (n + PURCHASE_SCALE).
PURCHASE_SCALE = 4.0

LIFECYCLE_STEP_SPEC = StepSpec(
    name="lifecycle",
    fields=(
        Field("obs", "float32", ("D",), "the observation after the day (layout below)"),
        Field("reward", "float64", (), "value - cost (dollars)"),
        Field("terminated", "bool", (), "always False (a customer's episode ends only at the horizon)"),
        Field("truncated", "bool", (), "True on the activity's last day (every slot at once)"),
        Field("action", "int64", (), "the action applied (0 when the budget blocked it; -1 on an autoreset row)"),
        Field("blocked", "bool", (), "the requested action was replaced by do-nothing (episode budget or user cap)"),
        Field("clicked", "bool", (), "the touch was clicked"),
        Field("converted", "bool", (), "the offer converted (a purchase with the benefit) or the club was joined"),
        Field("purchased", "bool", (), "the customer bought today (organically or through the offer)"),
        Field("value", "float64", (), "purchase value (0 without a purchase)"),
        Field("cost", "float64", (), "marketing cost paid today (touch + click + conversion costs)"),
        Field("stage", "int8", (), "stage when the action was taken (0 new 1 repeat 2 loyal 3 lapsing; -1 reset row)"),
        Field("next_stage", "int8", (), "stage after the day"),
        Field("alive", "bool", (), "LATENT: the customer is alive (BG/NBD) after the day"),
        Field("member", "bool", (), "club member after the day"),
        Field("p_click", "float64", (), "exact P(click) of the applied action in the day's state"),
        Field("p_convert", "float64", (), "exact P(convert) = P(click) P(convert | click)"),
        Field("p_purchase", "float64", (), "exact P(purchase)"),
        Field("expected_value", "float64", (), "exact E[value] = P(purchase) m"),
        Field("expected_cost", "float64", (), "exact E[cost]"),
        Field("budget_left", "float64", (), "the batch's episode budget left after the day (same in every row)"),
        Field("user_spent", "float64", (), "what this customer has cost in the episode so far"),
        Field("user", "int64", (), "the population index of the slot's customer"),
    ),
    obs_layout=(
        ObsSlice("features", 4, "observable features (age, income, app_activity, sms_affinity) in [0, 1]"),
        ObsSlice("stage", 4, "stage one-hot (new, repeat, loyal, lapsing)"),
        ObsSlice("recency", 1, "min(days since last purchase, 365) / 365"),
        ObsSlice("purchases", 1, "n / (n + 4), n purchases so far (first included)"),
        ObsSlice("member", 1, "1 if a club member"),
        ObsSlice("touches", 3, "h / (1 + h) of the decayed touch count per channel (push, sms, phone)"),
        ObsSlice("clicks", 1, "h / (1 + h) of the decayed click count"),
        ObsSlice("conversions", 1, "h / (1 + h) of the decayed conversion count"),
        ObsSlice("user_spent", 1, "min(1, spent / user_cap) (0 when user_cap = 0)"),
        ObsSlice("budget", 1, "budget left / episode budget (0 when the budget is 0)"),
        ObsSlice("progress", 1, "day / horizon_days"),
    ),
)

#: The spec has no free dimension but D.
LIFECYCLE_DIMS = {"D": 19}
OBS_DIM = LIFECYCLE_STEP_SPEC.obs_dim(LIFECYCLE_DIMS)
assert OBS_DIM == 19
