"""A context-dependent data generator for the engine-cost problem.

Each *context* is one search request (u, q): a user (age, sex, purchasing power) and a
query (category, long-tail degree), with its own candidate set of N items described by
n = 12 ranking features.  Cheap features (price, sales, text relevance, ...) are
informative everywhere; the expensive ones (personalised and deep-model features)
are informative only in some contexts, by design:

* ``deep_ctr``, ``deep_cvr``: nearly constant over the candidates when power + tail
  is high: high-purchasing-power users on long-tail queries (the article's example)
  barely need them;
* ``price_match`` (personal price fit): matters for price-sensitive (low-power) users;
* ``brand_pref``: matters for young users;  ``interest`` (long-term interest): for
  older users, more on head queries;
* ``image`` (image quality): matters in category 0 ("fashion"), a little in
  category 1, hardly elsewhere.

A feature is generated as sigmoid(a_j(context) * z + b) with z standard normal per
item, so a small spread a_j makes it nearly constant over the candidate set: skipping
it (replacing it with its mean) then barely changes the ranking.  A contextual policy
can therefore skip different features for different requests and beat any static
subset.  ``context_strength`` in [0, 1] blends every spread towards its population
mean (0: no context effect; the best static subset is then as good as any policy).

The same data drives the session simulator (:func:`make_simulator_world`): each
context becomes a "query" of a :class:`simcore.domains.search.world.World` whose users prefer what
the production ranker scores (segment preferences proportional to its weights), so
rankings that drift from the full-feature ranking lose GMV where the skipped features
carried signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.search.config import UserModelConfig
from simcore.domains.search.world import World

__all__ = [
    "FEATURE_NAMES",
    "FEATURE_COSTS",
    "RANKER_WEIGHTS",
    "CONTEXT_NAMES",
    "FeatureCostDataConfig",
    "FeatureCostData",
    "generate",
    "make_simulator_world",
    "simulator_users",
]

#: The n = 12 ranking features.  Column 0 is the normalised price level (the session
#: simulator's convention).
FEATURE_NAMES = (
    "price", "sales", "relevance", "quality", "ctr_stat", "seller",
    "price_match", "brand_pref", "deep_ctr", "deep_cvr", "image", "interest",
)
#: Cost of computing each feature for one item (relative engine time units).  The six
#: cheap features make 8 of the 52 units per item.
FEATURE_COSTS = (1.0, 1.0, 2.0, 1.0, 2.0, 1.0, 4.0, 6.0, 10.0, 10.0, 6.0, 8.0)
#: The production ranker: a linear model over the 12 features.
RANKER_WEIGHTS = (0.0, 0.6, 1.2, 0.8, 0.6, 0.3, 1.0, 0.8, 1.2, 1.2, 0.8, 0.8)
#: Columns of the context matrix (all in [0, 1]).
CONTEXT_NAMES = ("age", "sex", "power", "cat0", "cat1", "cat2", "cat3", "tail")

N_CATEGORIES = 4


@dataclass(frozen=True)
class FeatureCostDataConfig:
    """Size and seed of a generated data set.

    Attributes:
        n_contexts: number of (user, query) requests.
        n_items: N, candidates per request (>= 2).
        context_strength: in [0, 1]; 1 = the designed context effects, 0 = every
            feature's spread is its population mean in every context.
        seed: seed of the generator (one ``np.random.default_rng`` stream).
    """

    n_contexts: int = 1024
    n_items: int = 200
    context_strength: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, lo in (("n_contexts", 1), ("n_items", 2)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")
        if not 0.0 <= float(self.context_strength) <= 1.0:
            raise ValueError(f"context_strength: must lie in [0, 1], got {self.context_strength!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class FeatureCostData:
    """Requests, their candidates and the production ranker.

    Attributes (Q requests, N items, n = 12 features):
        X: float32 (Q, N, n) features in [0, 1].
        prices: float64 (Q, N) item prices (> 0).
        context: float32 (Q, 8) request context in [0, 1] (:data:`CONTEXT_NAMES`).
        age, power, tail: float64 (Q,) in [0, 1];  sex: int64 (Q,) in {0, 1};
        category: int64 (Q,) in [0, 4).
        spread: float64 (Q, n) the spread a_j of every feature in every request.
        cost: float64 (n,) per-item cost of each feature.
        weights: float32 (n,) the production ranker.
    """

    X: np.ndarray
    prices: np.ndarray
    context: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    power: np.ndarray
    category: np.ndarray
    tail: np.ndarray
    spread: np.ndarray
    cost: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[2])

    @property
    def n_items(self) -> int:
        return int(self.X.shape[1])

    @property
    def segment(self) -> np.ndarray:
        """int64 (Q,) simulator segment: 2 * sex + (age >= 0.5)."""
        return 2 * self.sex + (self.age >= 0.5).astype(np.int64)

    def subset(self, idx: np.ndarray) -> FeatureCostData:
        """The requests ``idx`` (int indices or bool mask), as copies."""
        idx = np.asarray(idx)
        kw = {}
        for name in ("X", "prices", "context", "age", "sex", "power", "category", "tail", "spread"):
            kw[name] = np.ascontiguousarray(getattr(self, name)[idx])
        return FeatureCostData(cost=self.cost, weights=self.weights, **kw)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def spreads(age: np.ndarray, sex: np.ndarray, power: np.ndarray, category: np.ndarray,
            tail: np.ndarray, context_strength: float = 1.0) -> np.ndarray:
    """float64 (Q, n): the spread a_j of each feature in each context (see module doc).

    Cheap features have fixed spreads; with ``context_strength`` s < 1 each expensive
    feature's spread is (1 - s) * its population mean + s * its contextual value.
    """
    Q = age.shape[0]
    a = np.empty((Q, len(FEATURE_NAMES)))
    a[:, 0] = 1.7  # price level
    a[:, 1] = 1.0  # sales
    a[:, 2] = 1.5  # relevance
    a[:, 3] = 1.0  # quality
    a[:, 4] = 1.2 * (1.0 - 0.5 * tail)  # ctr statistics: less data on long-tail queries
    a[:, 5] = 0.8  # seller rating
    # Smooth gates in [0, 1]: which requests a feature matters for.
    rich_tail = _sigmoid(12.0 * (power + tail - 1.15))  # high power on a long-tail query
    a[:, 6] = 3.0 * _sigmoid(10.0 * (0.55 - power))  # price match: price-sensitive users
    a[:, 7] = 2.2 * _sigmoid(10.0 * (0.45 - age))  # brand preference: young users
    a[:, 8] = 2.0 * (1.0 - rich_tail) + 0.05  # deep CTR
    a[:, 9] = 2.0 * (1.0 - rich_tail) + 0.05  # deep CVR
    a[:, 10] = np.choose(category, [2.0, 0.7, 0.1, 0.1])  # image quality: fashion
    a[:, 11] = 2.2 * _sigmoid(10.0 * (age - 0.55)) * (1.0 - tail)  # long-term interest
    s = float(context_strength)
    if s < 1.0:
        # Population means of the contextual spreads, from a large fixed sample.
        ref = _population_spread_means()
        a[:, 6:] = (1.0 - s) * ref[None, 6:] + s * a[:, 6:]
    return a


def _draw_contexts(rng: np.random.Generator, Q: int):
    age = rng.uniform(size=Q)
    sex = (rng.uniform(size=Q) < 0.5).astype(np.int64)
    u = rng.uniform(size=(Q, 3))
    power = np.median(u, axis=1)  # Beta(2, 2), as the simulator draws power
    category = rng.integers(0, N_CATEGORIES, size=Q)
    tail = rng.uniform(size=Q)
    return age, sex, power, category, tail


_POP_MEANS: np.ndarray | None = None


def _population_spread_means() -> np.ndarray:
    global _POP_MEANS
    if _POP_MEANS is None:
        rng = np.random.default_rng(20260101)
        _POP_MEANS = spreads(*_draw_contexts(rng, 200_000), context_strength=1.0).mean(axis=0)
    return _POP_MEANS


def generate(config: FeatureCostDataConfig | None = None) -> FeatureCostData:
    """Generates a data set deterministically from ``config.seed``."""
    cfg = config if config is not None else FeatureCostDataConfig()
    rng = np.random.default_rng(cfg.seed)
    Q, N = cfg.n_contexts, cfg.n_items
    age, sex, power, category, tail = _draw_contexts(rng, Q)
    a = spreads(age, sex, power, category, tail, cfg.context_strength)
    n = len(FEATURE_NAMES)

    z_price = rng.normal(size=(Q, N))
    mu = 4.0 + 0.3 * (category - 1.5) + rng.normal(0.0, 0.3, size=Q)
    sd = 0.8 * (1.0 - 0.5 * tail)
    prices = np.exp(mu[:, None] + sd[:, None] * z_price)
    Z = rng.normal(size=(Q, N, n))
    X = np.empty((Q, N, n))
    X[:, :, 0] = _sigmoid(a[:, None, 0] * z_price)
    X[:, :, 1] = _sigmoid(a[:, None, 1] * (-0.5 * z_price + Z[:, :, 1]) - 0.5)
    X[:, :, 2] = _sigmoid(a[:, None, 2] * Z[:, :, 2] + 0.5)
    X[:, :, 3] = _sigmoid(a[:, None, 3] * (0.6 * z_price + Z[:, :, 3]))
    X[:, :, 4] = _sigmoid(a[:, None, 4] * Z[:, :, 4])
    X[:, :, 5] = _sigmoid(a[:, None, 5] * Z[:, :, 5] + 0.3)
    fit = 0.5 - 4.0 * (X[:, :, 0] - power[:, None]) ** 2  # personal price fit
    X[:, :, 6] = _sigmoid(a[:, None, 6] * (fit + 0.3 * Z[:, :, 6]))
    X[:, :, 7] = _sigmoid(a[:, None, 7] * Z[:, :, 7])
    X[:, :, 8] = _sigmoid(a[:, None, 8] * (0.5 * Z[:, :, 4] + 0.87 * Z[:, :, 8]))
    X[:, :, 9] = _sigmoid(a[:, None, 9] * Z[:, :, 9])
    X[:, :, 10] = _sigmoid(a[:, None, 10] * Z[:, :, 10])
    X[:, :, 11] = _sigmoid(a[:, None, 11] * Z[:, :, 11])

    context = np.zeros((Q, len(CONTEXT_NAMES)), dtype=np.float32)
    context[:, 0] = age
    context[:, 1] = sex
    context[:, 2] = power
    context[np.arange(Q), 3 + category] = 1.0
    context[:, 7] = tail
    return FeatureCostData(
        X=np.ascontiguousarray(np.clip(X, 0.0, 1.0), dtype=np.float32),
        prices=prices,
        context=context,
        age=age,
        sex=sex,
        power=power,
        category=category.astype(np.int64),
        tail=tail,
        spread=a,
        cost=np.asarray(FEATURE_COSTS, dtype=np.float64),
        weights=np.asarray(RANKER_WEIGHTS, dtype=np.float32),
    )


def make_simulator_world(data: FeatureCostData, pref_scale: float = 1.5) -> World:
    """A :class:`simcore.domains.search.world.World` whose "queries" are the requests of ``data``.

    Every segment's mean preference is ``pref_scale * weights`` (users like what the
    production ranker scores; price enters the user model through its price-fit term,
    and the ranker's price weight is 0).  Segments: 2 * sex + (age >= 0.5).
    """
    pref = np.tile(pref_scale * data.weights.astype(np.float64), (4, 1))
    return World(
        features=data.X,
        prices=np.ascontiguousarray(data.prices, dtype=np.float64),
        segment_probs=np.full(4, 0.25),
        segment_pref=pref,
    )


def simulator_users(data: FeatureCostData, world: World, users_per_context: int,
                    user: UserModelConfig, seed: int) -> dict[str, np.ndarray]:
    """A panel of simulated users: ``users_per_context`` users for every request, with
    the request's segment and purchasing power and latent preference / patience noise
    drawn as the simulator draws them (one ``default_rng(seed)`` stream).

    Returns the dict :meth:`simcore.domains.search.simulator.SearchSimulator.reset_to` takes (B = Q *
    users_per_context rows; row b is request b // users_per_context)."""
    rng = np.random.default_rng(seed)
    Q, n = len(data), data.n_features
    q = np.repeat(np.arange(Q, dtype=np.int64), users_per_context)
    seg = data.segment[q].astype(np.int32)
    prefs = world.segment_pref[seg] + user.pref_noise * rng.normal(size=(q.size, n))
    return {
        "query": q,
        "segment": seg,
        "power": data.power[q].astype(np.float64),
        "patience": user.patience_noise * rng.normal(size=q.size),
        "prefs": prefs,
    }
