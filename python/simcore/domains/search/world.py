"""Generation of the query catalogue and the user population from a WorldConfig."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.domains.search.config import WorldConfig

#: Names of the first feature columns of a generated catalogue (the rest are
#: generic attributes).  Column 0 is the normalised price level.
FEATURE_NAMES = ("price", "quality", "sales", "relevance")


@dataclass(frozen=True)
class World:
    """A catalogue and population.

    Attributes:
        features: float32 (Q, N, m), values in [0, 1]; column 0 is the price level.
        prices: float64 (Q, N), > 0.
        segment_probs: float64 (G,).
        segment_pref: float64 (G, m), mean preference of each segment.
    """

    features: np.ndarray
    prices: np.ndarray
    segment_probs: np.ndarray
    segment_pref: np.ndarray

    @property
    def segment_cdf(self) -> np.ndarray:
        cdf = np.cumsum(self.segment_probs)
        cdf[-1] = 1.0
        return cdf


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_world(cfg: WorldConfig) -> World:
    """Generates the catalogue and segment preferences deterministically from cfg.seed.

    Columns (when m allows): 0 price level sigmoid(1.7 z) with price exp(mu_q + s z);
    1 quality (correlated with price); 2 sales (cheaper sells more); 3 query
    relevance; further columns are uniform attributes.
    """
    rng = np.random.default_rng(cfg.seed)
    Q, N, m, G = cfg.n_queries, cfg.n_items, cfg.n_features, cfg.n_segments
    mu = rng.normal(cfg.price_log_mean, cfg.price_log_sd_query, size=(Q, 1))
    z = rng.normal(size=(Q, N))
    prices = np.exp(mu + cfg.price_log_sd_item * z)
    X = rng.uniform(size=(Q, N, m))
    X[:, :, 0] = _sigmoid(1.7 * z)
    if m > 1:
        X[:, :, 1] = _sigmoid(0.6 * z + rng.normal(size=(Q, N)))
    if m > 2:
        X[:, :, 2] = _sigmoid(-0.5 * z + rng.normal(size=(Q, N)) - 0.5)
    if m > 3:
        X[:, :, 3] = _sigmoid(1.5 * rng.normal(size=(Q, N)))
    features = np.clip(X, 0.0, 1.0).astype(np.float32)

    pref = rng.normal(0.0, cfg.pref_scale, size=(G, m))
    pref[:, 0] = 0.0  # price enters through the price-fit term, not a linear taste
    if m > 1:
        pref[:, 1] += 1.0  # everyone likes quality ...
    if m > 3:
        pref[:, 3] += 1.5  # ... and relevance
    probs = (
        np.full(G, 1.0 / G) if cfg.segment_probs is None else np.asarray(cfg.segment_probs, float)
    )
    return World(features=features, prices=prices, segment_probs=probs, segment_pref=pref)


def default_action_set(m: int) -> np.ndarray:
    """Five named ranking weight vectors, float32 (5, m), for the discrete-action env.

    Rows: LTR default (quality+sales+relevance), premium (price-heavy), popular
    (sales), quality, bargain (cheap first).
    """
    base = np.zeros((5, max(m, 4)), dtype=np.float32)
    base[0, :4] = (0.0, 0.3, 0.3, 0.4)
    base[1, :4] = (1.0, 0.2, 0.0, 0.2)
    base[2, :4] = (0.0, 0.0, 1.0, 0.2)
    base[3, :4] = (0.0, 1.0, 0.0, 0.2)
    base[4, :4] = (-1.0, 0.2, 0.3, 0.2)
    return np.ascontiguousarray(base[:, :m])


ACTION_NAMES = ("ltr", "premium", "popular", "quality", "bargain")
