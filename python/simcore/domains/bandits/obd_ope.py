"""The estimators of the Open Bandit Dataset benchmark, at any log size (docs/ope.md).

:func:`evaluate` runs IPS, SNIPS, DM, DR and switch-DR (:mod:`simcore.algos.ope`) on a
logged policy's rounds for a target (item, position) distribution and compares each with
the target's own on-policy CTR, with percentile-bootstrap CIs.  Memory and time are
linear in the rounds with small constants, so the full release (12M rounds in its
largest log) runs as the 10,000-round sample does:

* the rounds go through the estimators in chunks of ``chunk_rounds``; a context-free
  target (A, L) is broadcast per chunk (never an (n, A, L) array) and the reward model is
  one (A, L) table per cross-fitting fold, looked up per chunk;
* the bootstrap resamples *units*: single rounds when the log has at most
  ``max_units`` rounds (the sample: exactly the round-level bootstrap), else blocks of
  ceil(n / max_units) consecutive rounds (in time order, so a moving block bootstrap
  that also keeps the logging policy's drift within a block), which bounds a resample's
  cost by ``max_units`` whatever the log size.

Per-round terms are those of :mod:`simcore.algos.ope`; the estimate is sum(numer) /
sum(denom) over all rounds, chunked or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.algos import ope
from simcore.domains.bandits.obd import OBDLog
from simcore.util.seeds import SeedTree

#: the largest share of bootstrap resamples :func:`evaluate` may drop (V_on = 0 or 0/0)
MAX_DROPPED = 0.05
#: logs with more rounds are bootstrapped by blocks of ceil(n / MAX_BOOT_UNITS) rounds
MAX_BOOT_UNITS = 100_000
#: rounds per chunk through the estimators (memory about chunk x A x L x 8 bytes x 3)
CHUNK_ROUNDS = 20_000
ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr")


def cross_fit_tables(log: OBDLog, n_items: int, n_folds: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(fold int64 (n,), tables float64 (K, A, L)): round i's reward model is
    ``tables[fold[i]]``, the (item, position) CTR of the other folds smoothed by a
    Beta(1, 1/ctr0 - 1) prior at their overall CTR ctr0: (clicks + 1) / (shows + 1/ctr0)."""
    fold = rng.permutation(log.n_rounds) % n_folds
    tables = np.empty((n_folds, n_items, log.n_positions))
    for k in range(n_folds):
        fit = fold != k
        ctr0 = max(float(log.click[fit].mean()), 1e-6)
        clicks = np.zeros((n_items, log.n_positions))
        shows = np.zeros((n_items, log.n_positions))
        np.add.at(clicks, (log.item_id[fit], log.position[fit]), log.click[fit])
        np.add.at(shows, (log.item_id[fit], log.position[fit]), 1.0)
        tables[k] = (clicks + 1.0) / (shows + 1.0 / ctr0)
    return fold.astype(np.int64), tables


def cross_fit_q(log: OBDLog, n_items: int, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Cross-fitted q_hat as one array: float64 (n, A, L) (small logs; :func:`evaluate`
    uses :func:`cross_fit_tables`)."""
    fold, tables = cross_fit_tables(log, n_items, n_folds, rng)
    return tables[fold]


@dataclass(frozen=True)
class _Terms:
    """An estimator's numerators and denominators summed per bootstrap unit (float64 (u,))."""

    numer: np.ndarray
    denom: np.ndarray

    @property
    def value(self) -> float:
        return float(self.numer.sum() / self.denom.sum())

    def resample(self, idx: np.ndarray) -> float:
        return float(self.numer[idx].sum() / self.denom[idx].sum())


def _unit_sums(x: np.ndarray, block: int) -> np.ndarray:
    """Sums of consecutive ``block`` entries of ``x`` (the last block may be shorter)."""
    return x if block == 1 else np.add.reduceat(x, np.arange(0, x.size, block))


def _chunk_terms(log: OBDLog, dist: np.ndarray, q: np.ndarray, s: int, e: int, tau: float
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-round (numer, denom) of every estimator on rounds [s, e)."""
    d = dist[s:e] if dist.ndim == 3 else np.broadcast_to(dist, (e - s, *dist.shape))
    args = (log.click[s:e].astype(float), log.item_id[s:e], log.pscore[s:e], d)
    pos = log.position[s:e]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in ESTIMATORS:
        try:
            if name in ("ips", "snips"):
                est = getattr(ope, name)(*args, position=pos)
            elif name == "switch-dr":
                est = ope.switch_dr(*args, q, position=pos, tau=tau)
            else:
                est = getattr(ope, name)(*args, q, position=pos)
        except ValueError:
            if name != "snips" or "ips" not in out:
                raise
            # no logged action of this chunk has target probability > 0: all weights 0
            est = ope.Estimate("snips", np.zeros(e - s), np.zeros(e - s))
        out[name] = (est.numer, est.denom)
    return out


def estimate_terms(log: OBDLog, dist: np.ndarray, fold: np.ndarray, tables: np.ndarray, *, tau: float,
                   block: int = 1, chunk_rounds: int = CHUNK_ROUNDS) -> dict[str, _Terms]:
    """Every estimator's terms on ``log``, summed per unit of ``block`` rounds."""
    n = log.n_rounds
    step = max(1, chunk_rounds // block) * block
    parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {k: ([], []) for k in ESTIMATORS}
    for s in range(0, n, step):
        e = min(n, s + step)
        for name, (num, den) in _chunk_terms(log, dist, tables[fold[s:e]], s, e, tau).items():
            parts[name][0].append(_unit_sums(num, block))
            parts[name][1].append(_unit_sums(den, block))
    return {k: _Terms(np.concatenate(a), np.concatenate(b)) for k, (a, b) in parts.items()}


def _block(n: int, max_units: int) -> int:
    return max(1, -(-n // max_units))


def evaluate(log: OBDLog, dist: np.ndarray, on_policy: OBDLog, seeds: SeedTree, *,
             n_boot: int = 1000, tau: float = 100.0, n_folds: int = 2, max_units: int = MAX_BOOT_UNITS,
             chunk_rounds: int = CHUNK_ROUNDS) -> dict[str, dict[str, Any]]:
    """Every estimator's value of the target ``dist`` (A, L), or (n, A, L) per round of
    ``log``, from ``log``, against the on-policy CTR of ``on_policy`` (the target's own log).

    Returns ``{estimator: {"value", "value_ci", "rel_error", "rel_error_ci", "rel_diff",
    "rel_diff_ci", "boot_dropped", "boot_block"}}`` plus ``"on_policy": {"value",
    "value_ci", "boot_block"}``; rel_error = |V_hat - V_on| / V_on (the paper's measure),
    rel_diff = (V_hat - V_on) / V_on (signed: a CI holding 0 means no detectable error),
    its 95 % percentile-bootstrap CI from resampling both logs independently (the reward
    model fixed; units of ``boot_block`` rounds, module docstring), and rel_error's CI the
    image of that interval under |.| (a percentile interval of |.| itself can exclude its
    own point estimate near 0); streams ``seeds.generator("q_hat")`` and
    ``bootstrap/<name>``.  A resample whose on-policy CTR is 0 or whose estimate is not
    finite (SNIPS's 0/0) has no relative difference: it is dropped from both CIs and
    counted in ``"boot_dropped"`` (ValueError when more than :data:`MAX_DROPPED` of the
    resamples are, or when V_on or an estimate itself is undefined).
    """
    n_items = dist.shape[-2]
    if log.item_id.max() >= n_items or on_policy.item_id.max() >= n_items:
        raise ValueError(f"dist: {n_items} items, the logs hold larger item ids")
    if dist.ndim == 3 and dist.shape[0] != log.n_rounds:
        raise ValueError(f"dist: expected ({log.n_rounds}, A, L) or (A, L), got {dist.shape}")
    if not (isinstance(max_units, int) and max_units >= 1):
        raise ValueError(f"max_units: expected an int >= 1, got {max_units!r}")
    fold, tables = cross_fit_tables(log, n_items, n_folds, seeds.generator("q_hat"))
    block, block_on = _block(log.n_rounds, max_units), _block(on_policy.n_rounds, max_units)
    terms = estimate_terms(log, dist, fold, tables, tau=tau, block=block, chunk_rounds=chunk_rounds)
    v_on = on_policy.ctr()
    if not v_on > 0:
        raise ValueError("on_policy: no clicks (CTR 0), so the relative error (V_hat - V_on) / V_on is undefined")
    clicks_on = _Terms(_unit_sums(on_policy.click.astype(float), block_on),
                       _unit_sums(np.ones(on_policy.n_rounds), block_on))
    out: dict[str, dict[str, Any]] = {}
    for name, est in terms.items():
        if not np.isfinite(est.value):
            raise ValueError(f"dist: {name}'s estimate is {est.value} (e.g. SNIPS with zero weight on every "
                             "logged action)")
        val, sgn, bad = _boot_rel(est, clicks_on, n_boot, seeds.generator("bootstrap", name))
        lo, hi = (float(x) for x in np.quantile(sgn, [0.025, 0.975]))
        out[name] = {
            "value": est.value,
            "boot_dropped": bad,
            "boot_block": block,
            "value_ci": tuple(float(x) for x in np.quantile(val, [0.025, 0.975])),
            "rel_error": abs(est.value - v_on) / v_on,
            "rel_error_ci": (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi)), max(abs(lo), abs(hi))),
            "rel_diff": (est.value - v_on) / v_on,
            "rel_diff_ci": (lo, hi),
        }
    if block_on == 1:
        raw = on_policy.click.astype(float)
        boot_on = ope.bootstrap_ci(lambda idx: float(raw[idx].mean()), raw.size, seeds, "on_policy",
                                   n_boot=max(n_boot, 100))
    else:
        rng = seeds.generator("bootstrap", "on_policy")
        u = clicks_on.numer.size
        draws = [clicks_on.resample(rng.integers(0, u, size=u)) for _ in range(max(n_boot, 100))]
        boot_on = tuple(float(x) for x in np.quantile(draws, [0.025, 0.975]))
    out["on_policy"] = {"value": v_on, "value_ci": boot_on, "boot_block": block_on}
    return out


def _boot_rel(est: _Terms, clicks_on: _Terms, n_boot: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray, int]:
    """(V_hat resamples, (V_hat - V_on) / V_on resamples, dropped count): ``n_boot``
    paired resamples of the logged units and of the on-policy units; the returned arrays
    hold only the valid ones (V_on_b > 0, V_hat_b finite)."""
    n, m = est.numer.size, clicks_on.numer.size
    val = np.empty(n_boot)
    von = np.empty(n_boot)
    with np.errstate(divide="ignore", invalid="ignore"):
        for b in range(n_boot):
            val[b] = est.resample(rng.integers(0, n, size=n))
            von[b] = clicks_on.resample(rng.integers(0, m, size=m))
    ok = np.isfinite(val) & (von > 0)
    bad = int(n_boot - ok.sum())
    if bad > MAX_DROPPED * n_boot:
        raise ValueError(f"n_boot: {bad} of {n_boot} resamples have V_on = 0 or an undefined estimate (more than "
                         f"MAX_DROPPED = {MAX_DROPPED:g}); the logs are too small for a relative error")
    return val[ok], (val[ok] - von[ok]) / von[ok], bad
