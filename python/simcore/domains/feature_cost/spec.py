"""The step spec of ``simcore/FeatureSelection-v0``: output fields and observation layout."""

from __future__ import annotations

from simcore.domains.feature_cost.data import CONTEXT_NAMES
from simcore.envs.spec import Field, ObsSlice, StepSpec

SKIP, EVAL = 0, 1

#: The step spec; dims: ``n`` features, ``C`` = len(CONTEXT_NAMES) (8), ``D`` obs size.
#: The info fields come only with the last decision of an episode.
FEATURE_SELECTION_STEP_SPEC = StepSpec(
    name="feature_selection",
    fields=(
        Field("obs", "float32", ("D",), "next observation, in [0, 1] (layout: obs_layout)"),
        Field("reward", "float64", (), "minus the cost fraction of an Eval, minus penalty / loss terms"),
        Field("terminated", "bool", (), "every feature has been decided"),
        Field("truncated", "bool", (), "max_episode_steps was reached first"),
        Field("loss", "float64", (), "the configured loss t of the chosen subset"),
        Field("cost", "float64", (), "cost of the chosen subset, a fraction of the full cost"),
        Field("penalized", "bool", (), "the loss exceeded C"),
        Field("mask", "bool", ("n",), "the chosen subset (True = Eval)"),
        Field("context", "int64", (), "index of the request in the pool"),
    ),
    obs_layout=(
        ObsSlice("context", "C", "request context: " + ", ".join(CONTEXT_NAMES)),
        ObsSlice("decisions", "n", "1 = Eval; 0 = Skip or not decided yet"),
        ObsSlice("progress", 1, "k / n"),
        ObsSlice("step", "n", "current step k one-hot (all zero once every feature is decided)"),
    ),
)
