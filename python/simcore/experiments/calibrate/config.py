"""Configuration of ``simcore calibrate`` (:class:`CalibrateConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from simcore.domains.search.calibration import _FIT_RANGES, Fig3Targets
from simcore.domains.search.config import SessionConfig, UserModelConfig
from simcore.domains.search.world import ACTION_NAMES
from simcore.envs.ranges import check_int

#: The starting point of the default fit: the user model before calibration (the
#: package default up to simcore 0.2), so that ``simcore calibrate`` shows the fit
#: reaches the package default from elsewhere.
NEUTRAL_START: dict[str, float] = {
    "buy_bias": -6.0, "leave_bias": -3.0, "leave_fatigue": 0.05, "patience_noise": 0.5,
    "saturation": 0.0, "click_intent": 0.1,
}

#: The fields the package default was fitted on (the others are assumptions).
DEFAULT_PARAMS: tuple[str, ...] = (
    "buy_bias", "leave_bias", "leave_fatigue", "patience_noise", "saturation", "click_intent",
)


@dataclass(frozen=True)
class CalibrateConfig:
    """``simcore calibrate``: fit user-model fields to the fig. 3 statistics.

    Attributes:
        session: the simulator whose user model is fitted (its non-fitted fields
            stay as given; horizon 30 pages as in the article).
        params: UserModelConfig real fields to fit (names of the model's real
            fields, at least one, no repeats).
        start: "neutral" (start from :data:`NEUTRAL_START` for the fitted fields
            it names, the pre-calibration model) or "session" (start from
            ``session.user`` as given).
        targets: the fig. 3 targets (:class:`Fig3Targets`).
        ranking: the production-like ranking the statistics are computed under,
            one of ltr, premium, popular, quality, bargain (default "ltr": the
            learning-to-rank weights, the engine's default ranking).
        panel_users: users in the fixed panel (common random numbers); integer
            in [50, 100000].
        decimals: the fitted values are rounded to this many decimals; integer in
            [0, 9].
        max_nfev: most function evaluations of the least-squares fit; integer in
            [1, 10000].
        seed: root of the named seed tree (the panel is ``calibrate/panel``);
            integer in [0, 2**63 - 1].
    """

    session: SessionConfig = field(default_factory=SessionConfig)
    params: tuple[str, ...] = DEFAULT_PARAMS
    start: str = "neutral"
    targets: Fig3Targets = field(default_factory=Fig3Targets)
    ranking: str = "ltr"
    panel_users: int = 2000
    decimals: int = 3
    max_nfev: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.params, str):
            object.__setattr__(self, "params", tuple(p for p in self.params.split(",") if p))
        object.__setattr__(self, "params", tuple(self.params))
        if not self.params or len(set(self.params)) != len(self.params):
            raise ValueError(f"params: expected distinct field names, got {self.params!r}")
        for p in self.params:
            if p not in _FIT_RANGES:
                raise ValueError(f"params: {p!r} is not a real UserModelConfig field ({sorted(_FIT_RANGES)})")
        if self.start not in ("neutral", "session"):
            raise ValueError(f"start: expected 'neutral' or 'session', got {self.start!r}")
        if self.ranking not in ACTION_NAMES:
            raise ValueError(f"ranking: expected one of {ACTION_NAMES}, got {self.ranking!r}")
        for name, lo, hi in (("panel_users", 50, 100_000), ("decimals", 0, 9),
                             ("max_nfev", 1, 10_000), ("seed", 0, 2**63 - 1)):
            check_int(name, getattr(self, name), lo, hi)

    def start_session(self) -> SessionConfig:
        """The session the fit starts from."""
        if self.start == "session":
            return self.session
        vals = {k: v for k, v in NEUTRAL_START.items() if k in self.params}
        user: UserModelConfig = replace(self.session.user, **vals)  # type: ignore[arg-type]
        return replace(self.session, user=user)

    @classmethod
    def quick(cls) -> CalibrateConfig:
        """A fast check (200 users, 60 evaluations), e.g. for a smoke test."""
        return cls(panel_users=200, max_nfev=60)
