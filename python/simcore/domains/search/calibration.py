"""Calibration of the user-response model to session-length statistics.

The only behavioural data the source article gives (``003_*``, section 三, fig. 3) is
the length distribution of *purchase* episodes under the production ranking: among
sessions that end in a purchase, the share that ends on page n.  For a deterministic
ranking that distribution is an exact function of the user model, computed here in
expectation mode (no sampling):

    P_u(buy at n) = (prod_{j<n} c_{u,j}) b_{u,n},
    share(n)      = sum_u P_u(buy at n) / sum_u sum_k P_u(buy at k)

over a fixed panel of users (common random numbers: the fit is a smooth deterministic
function of the parameters).  :func:`calibrate` fits chosen ``UserModelConfig`` fields
by bounded least squares (``scipy.optimize.least_squares``, trust-region reflective)
to :class:`Fig3Targets`; :func:`length_distribution` is the forward map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simcore.domains.search.config import _USER_RANGES, SessionConfig, UserModelConfig
from simcore.domains.search.world import ACTION_NAMES, default_action_set

#: fittable fields and their bounds (the documented ranges; recency kept off 0)
_FIT_RANGES: dict[str, tuple[float, float]] = {**_USER_RANGES, "recency": (1e-3, 1.0)}


@dataclass(frozen=True)
class Fig3Targets:
    """Point targets for the purchase-episode length distribution (fig. 3).

    The article states bounds ("n = 1, 2, 3 hold more than 20 %, 15 %, 10 %; more
    than 60 % of purchases happen within the first 6 PVs; length 30 holds at most
    1 %; the share falls with n").  A least-squares fit needs points, so each bound is
    moved inside by a small stated margin; these defaults are the assumption.

    Attributes:
        share_1: share of purchase episodes of length 1; in (0, 1) (article: > 0.20).
        share_2: of length 2; in (0, 1) (article: > 0.15).
        share_3: of length 3; in (0, 1) (article: > 0.10).
        within_6: of length <= 6; in (0, 1) (article: > 0.60).
        share_30: of length 30 (the horizon); in (0, 1) (article: <= 0.01).
        purchase_rate: purchases per search session under the ranking; in (0, 1).
            Not in the article (fig. 3 is conditional on a purchase); without a
            level the fit can drive the conversion rate to ~0, so this assumed
            rate anchors it (its residual is log(rate / purchase_rate)).
        rate_weight: weight of that residual; finite, in [0, 1000].
        bound_weight: weight of the hinge residuals max(0, bound + margin - value)
            (and the mirror for "at most"), which push the fit inside the article's
            bounds where the point targets conflict; finite, in [0, 1000].
        bound_margin: the margin of those hinges; finite, in [0, 0.1].
        weight_30: weight of the share_30 residual (it is ~20x smaller than the
            others); finite, in [0, 1000].
        monotone_weight: weight of the penalty sum_n max(0, share(n+1) - share(n))
            (the article: the share falls with n); finite, in [0, 1000].
    """

    share_1: float = 0.22
    share_2: float = 0.16
    share_3: float = 0.11
    within_6: float = 0.68
    share_30: float = 0.005
    purchase_rate: float = 0.10
    rate_weight: float = 0.02
    bound_weight: float = 5.0
    bound_margin: float = 0.01
    weight_30: float = 10.0
    monotone_weight: float = 10.0

    def __post_init__(self) -> None:
        from simcore.envs.ranges import check_real

        for name in ("share_1", "share_2", "share_3", "within_6", "share_30", "purchase_rate"):
            check_real(name, getattr(self, name), 0.0, 1.0, lo_open=True, hi_open=True)
        for name in ("weight_30", "monotone_weight", "rate_weight", "bound_weight"):
            check_real(name, getattr(self, name), 0.0, 1000.0)
        check_real("bound_margin", self.bound_margin, 0.0, 0.1)


#: the article's statements, as (statistic, relation, bound) for the claims table
FIG3_BOUNDS: tuple[tuple[str, str, float], ...] = (
    ("share_1", ">", 0.20), ("share_2", ">", 0.15), ("share_3", ">", 0.10),
    ("within_6", ">", 0.60), ("share_30", "<=", 0.01),
)


def length_statistics(shares: np.ndarray) -> dict[str, float]:
    """The fig. 3 statistics of a length distribution ``shares`` (T,) (sums to 1)."""
    s = np.asarray(shares, dtype=np.float64)
    rises = np.diff(s)
    return {
        "share_1": float(s[0]),
        "share_2": float(s[1]) if s.size > 1 else 0.0,
        "share_3": float(s[2]) if s.size > 2 else 0.0,
        "within_6": float(s[:6].sum()),
        "share_30": float(s[29]) if s.size >= 30 else 0.0,
        "max_rise": float(max(0.0, rises.max())) if rises.size else 0.0,
    }


def ranking_weights(config: SessionConfig, ranking: str) -> np.ndarray:
    """float32 (m,) weights of a named ranking of :data:`ACTION_NAMES`."""
    if ranking not in ACTION_NAMES:
        raise ValueError(f"ranking: expected one of {ACTION_NAMES}, got {ranking!r}")
    return default_action_set(config.world.n_features)[ACTION_NAMES.index(ranking)]


def length_distribution(
    config: SessionConfig, users: Mapping[str, np.ndarray], weights: np.ndarray
) -> tuple[np.ndarray, float]:
    """Exact purchase-episode length distribution of a fixed ranking on a panel.

    Args:
        config: the simulator (horizon T pages).
        users: a panel of U users (``SearchSimulator.users()`` layout).
        weights: float (m,) ranking weights used on every page.

    Returns:
        (shares float64 (T,), purchase probability per session) where shares[n-1] is
        the share of purchase episodes that end on page n.
    """
    from simcore.domains.search.simulator import SearchSimulator

    U = int(np.asarray(users["query"]).shape[0])
    if U == 0:
        raise ValueError("users: the panel is empty")
    sim = SearchSimulator(config, U, seed=0)
    sim.reset_to(users)
    act = np.tile(np.asarray(weights, dtype=np.float32), (U, 1))
    alive = np.ones(U)
    buy = np.zeros(config.horizon)
    for t in range(config.horizon):
        r = sim.step(act, sample=False)
        buy[t] = float((alive * r.b).sum())
        alive = alive * r.c
    total = buy.sum()
    if not total > 0:
        raise ValueError("the user model never buys under this ranking: no length distribution")
    return buy / total, float(total / U)


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes:
        params: fitted field -> value (rounded to ``decimals``).
        start: field -> starting value.
        user: the calibrated UserModelConfig.
        shares: float64 (T,) achieved length distribution.
        purchase_rate: purchases per session under the calibration ranking.
        achieved, targets: fig. 3 statistic -> value.
        residuals: the least-squares residual vector at the optimum.
        cost: 0.5 * sum of squared residuals; nfev: function evaluations.
    """

    params: dict[str, float]
    start: dict[str, float]
    user: UserModelConfig
    shares: np.ndarray
    purchase_rate: float
    achieved: dict[str, float]
    targets: dict[str, float]
    residuals: np.ndarray
    cost: float
    nfev: int
    history: list[dict[str, float]] = field(default_factory=list)


def _residuals(stats: dict[str, float], t: Fig3Targets, shares: np.ndarray, rate: float) -> np.ndarray:
    mono = np.maximum(0.0, np.diff(shares))
    hinge = [max(0.0, (b + t.bound_margin - stats[k]) if rel == ">" else (stats[k] - (b - t.bound_margin)))
             for k, rel, b in FIG3_BOUNDS]
    return np.concatenate([
        t.bound_weight * np.asarray(hinge) * np.array([1, 1, 1, 1, t.weight_30]),
        [t.rate_weight * float(np.log(max(rate, 1e-300) / t.purchase_rate))],
        [stats[k] - getattr(t, k) for k in ("share_1", "share_2", "share_3", "within_6")],
        [t.weight_30 * (stats["share_30"] - t.share_30)],
        [t.monotone_weight * float(np.sqrt((mono**2).sum()))],
    ])


def calibrate(
    config: SessionConfig,
    users: Mapping[str, np.ndarray],
    params: Sequence[str] = ("buy_bias", "leave_bias", "leave_fatigue", "patience_noise"),
    targets: Fig3Targets | None = None,
    ranking: str = "ltr",
    decimals: int = 3,
    max_nfev: int = 200,
) -> CalibrationResult:
    """Fits ``params`` (real fields of ``config.user``) to ``targets`` under ``ranking``.

    Bounded least squares over the fields' documented ranges, from their current
    values.  ``patience_noise`` changes the users themselves, so the panel stores
    standard-normal impatience draws scaled by the candidate value (``users['patience']``
    is divided by the starting sigma once).  Deterministic given the panel.
    """
    from scipy.optimize import least_squares

    t = targets or Fig3Targets()
    names = list(params)
    for n in names:
        if n not in _FIT_RANGES:
            raise ValueError(f"params: {n!r} is not a real UserModelConfig field ({sorted(_FIT_RANGES)})")
    w = ranking_weights(config, ranking)
    start = {n: float(getattr(config.user, n)) for n in names}
    z_patience = _standard_patience(config, users) if "patience_noise" in names else None
    history: list[dict[str, float]] = []

    def forward(x: np.ndarray) -> tuple[SessionConfig, np.ndarray, float]:
        user = replace(config.user, **{n: float(v) for n, v in zip(names, x)})  # type: ignore[arg-type]
        panel = dict(users)
        if z_patience is not None:
            panel["patience"] = z_patience * user.patience_noise
        cfg = replace(config, user=user)
        shares, rate = length_distribution(cfg, panel, w)
        return cfg, shares, rate

    def fun(x: np.ndarray) -> np.ndarray:
        _, shares, rate = forward(x)
        res = _residuals(length_statistics(shares), t, shares, rate)
        history.append({**dict(zip(names, map(float, x))), "cost": float(0.5 * (res**2).sum())})
        return res

    lo = np.array([_FIT_RANGES[n][0] for n in names], dtype=np.float64)
    hi = np.array([_FIT_RANGES[n][1] for n in names], dtype=np.float64)
    x0 = np.clip(np.array([start[n] for n in names]), lo, hi)
    sol = least_squares(fun, x0, bounds=(lo, hi), x_scale=np.maximum(np.abs(x0), 0.1),
                        diff_step=1e-4, max_nfev=max_nfev)
    x = np.round(sol.x, decimals)
    cfg, shares, rate = forward(x)
    stats = length_statistics(shares)
    return CalibrationResult(
        params=dict(zip(names, map(float, x))), start=start, user=cfg.user, shares=shares,
        purchase_rate=rate, achieved=stats, targets={k: getattr(t, k) for k, _, _ in FIG3_BOUNDS},
        residuals=_residuals(stats, t, shares, rate), cost=float(sol.cost), nfev=int(sol.nfev),
        history=history,
    )


def _standard_patience(config: SessionConfig, users: Mapping[str, np.ndarray]) -> np.ndarray:
    """The panel's impatience as standard-normal draws (patience / sigma_xi)."""
    sd = float(config.user.patience_noise)
    p = np.asarray(users["patience"], dtype=np.float64)
    if sd == 0:
        if np.any(p != 0):
            raise ValueError("users: patience must be 0 when user.patience_noise is 0")
        return np.zeros_like(p)
    return p / sd


def to_config_dict(user: UserModelConfig) -> dict[str, Any]:
    """``{"session": {"user": {...}}}``: a ``--config`` file the experiments accept."""
    from simcore.util.config import to_dict

    return {"session": {"user": to_dict(user)}}
