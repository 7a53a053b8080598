"""The experiment's logging policy (``VirtualTaobaoConfig.logging``) and what the run
measures with it: the policy itself, its mean weights per user or page view, and the
learned engine policy's distance from it.

* "gaussian": :class:`simcore.domains.search.logs.GaussianPolicy` around LTR (the mean
  is the same on every page; the logging row of the panel is LTR itself).
* "segment": :class:`simcore.domains.virtual_taobao.policies.SegmentGaussianPolicy`
  with means :func:`~simcore.domains.virtual_taobao.policies.segment_means` (the mean
  depends on the user's segment; its exact value on a user panel is that of the per-user
  static weights mu_{g(u)}, since the segment does not change within a session).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.domains.search.logs import GaussianPolicy
from simcore.domains.search.world import default_action_set
from simcore.experiments.virtual_taobao.config import VirtualTaobaoConfig

__all__ = ["make_policy", "mean_weights", "engine_distances"]


def _means(cfg: VirtualTaobaoConfig, m: int, segments: int) -> np.ndarray:
    """float64 (G, m): the logging policy's mean weights per segment."""
    from simcore.domains.virtual_taobao.policies import segment_means

    if cfg.logging == "gaussian":
        return np.tile(default_action_set(m)[0].astype(np.float64), (segments, 1))
    return segment_means(m, segments, cfg.logging_mix)


def make_policy(cfg: VirtualTaobaoConfig, m: int, segments: int, window: int, seed: int) -> Any:
    """The logging policy: obs float32 (B, D) -> (actions float32 (B, m), log propensity (B,))."""
    if cfg.logging == "gaussian":
        return GaussianPolicy(default_action_set(m)[0], cfg.logging_std, seed=seed)
    from simcore.domains.virtual_taobao.policies import SegmentGaussianPolicy

    return SegmentGaussianPolicy(_means(cfg, m, segments), cfg.logging_std, window, seed=seed)


def mean_weights(cfg: VirtualTaobaoConfig, segment: np.ndarray, m: int, segments: int) -> np.ndarray:
    """float64 (n, m): the logging policy's mean weights for users / page views of
    segments ``segment`` int (n,)."""
    return _means(cfg, m, segments)[np.asarray(segment, np.int64)]


def engine_distances(mean_rows: np.ndarray, logging_rows: np.ndarray, segment: np.ndarray) -> dict[str, float]:
    """The learned engine's mean weights (n, m) on logged page views against the logging
    policy's (n, m): ``distance`` = || mean_r engine - mean_r logging || (the average
    action), ``row_distance`` = mean_r || engine_r - logging_r || (per state), and
    ``segment_distance`` = mean over segments of the distance of the per-segment averages."""
    d = np.asarray(mean_rows, np.float64) - np.asarray(logging_rows, np.float64)
    seg = np.asarray(segment, np.int64)
    per = [np.linalg.norm(d[seg == g].mean(axis=0)) for g in np.unique(seg)]
    return {"distance": float(np.linalg.norm(d.mean(axis=0))), "row_distance": float(np.linalg.norm(d, axis=1).mean()),
            "segment_distance": float(np.mean(per))}
