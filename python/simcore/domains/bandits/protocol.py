"""The Open Bandit Dataset's off-policy benchmark (Saito et al., "Open Bandit Dataset and
Pipeline"): estimate one logging policy's CTR from the other policy's logs and compare it
with its own on-policy CTR (docs/ope.md).

Target policies are context-free ranked lists: ``dist`` float (A, L), the probability of
item a at position l (each column sums to 1), tiled over rounds for
:mod:`simcore.algos.ope`:

* the uniform-random policy: 1/A everywhere (:func:`uniform_dist`);
* Bernoulli-TS with the production prior (obp's ``BernoulliTS(is_zozotown_prior=True)
  .compute_batch_action_dist``): theta_a ~ Beta(alpha_a, beta_a), the L largest in
  order, frequencies over ``n_sim`` draws (:func:`bts_dist`; the prior is read from
  ``obp/policy/conf/prior_bts.yaml`` in the wheel by :func:`read_bts_prior`);
* the empirical (item, position) frequencies of a log (:func:`empirical_dist`): the
  time-averaged policy that produced it;
* the BTS log's own propensities, time-matched (:func:`logged_dist`, float (n, A, L), one
  distribution per evaluated round): the logged BTS policy's parameters changed during
  the week (its propensities vary from round to round), and for each (item, position)
  they form a smooth time series, so the nearest-in-time logged propensity estimates
  what BTS would have shown at a random-log round's time.

The reward model of DM/DR/switch-DR is q_hat(a, l) = the (item, position) CTR with a
Beta(1, 1/ctr0 - 1) prior centred on the fold's overall CTR ctr0, cross-fitted over K
folds (rounds of fold k predicted by a model fitted on the others).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.bandits.obd import OBDLog
from simcore.domains.bandits.obd_ope import MAX_BOOT_UNITS, MAX_DROPPED, cross_fit_q, cross_fit_tables, evaluate
from simcore.util.seeds import SeedTree

__all__ = ["LOGGED_MAX_ENTRIES", "MAX_BOOT_UNITS", "MAX_DROPPED", "PRIOR", "benchmark", "bts_dist", "cross_fit_q",
           "cross_fit_tables", "empirical_dist", "evaluate", "logged_dist", "loo_time_match", "parse_prior",
           "read_bts_prior", "uniform_dist"]

PRIOR = "obp/policy/conf/prior_bts.yaml"
#: the most float64 entries :func:`logged_dist` builds (n A L; 240 MB); larger logs skip that target
LOGGED_MAX_ENTRIES = 30_000_000


def parse_prior(text: str) -> dict[str, dict[str, np.ndarray]]:
    """``{campaign: {"alpha": float64 (A,), "beta": float64 (A,)}}`` from the prior file's
    YAML (two levels of keys, lists of numbers; parsed without a YAML library)."""
    out: dict[str, dict[str, list[float]]] = {}
    camp = key = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        s = line.strip()
        if s.startswith("- ") and camp is not None and key is not None:
            out[camp][key].append(float(s[2:]))
        elif s.endswith(":") and indent == 0:
            camp, key = s[:-1], None
            out[camp] = {}
        elif s.endswith(":") and camp is not None:
            key = s[:-1]
            out[camp][key] = []
        else:
            raise ValueError(f"prior: cannot read the line {raw!r}")
    res = {}
    for c, d in out.items():
        if set(d) != {"alpha", "beta"} or len(d["alpha"]) != len(d["beta"]):
            raise ValueError(f"prior: campaign {c!r} needs alpha and beta lists of one length")
        res[c] = {k: np.array(v) for k, v in d.items()}
    return res


def read_bts_prior(wheel: str | Path, campaign: str) -> tuple[np.ndarray, np.ndarray]:
    """The production Beta prior (alpha, beta), float64 (A,) each, from the obp wheel."""
    with zipfile.ZipFile(wheel) as z:
        prior = parse_prior(z.read(PRIOR).decode())
    if campaign not in prior:
        raise ValueError(f"campaign: {campaign!r} not in the prior ({sorted(prior)})")
    return prior[campaign]["alpha"], prior[campaign]["beta"]


def bts_dist(alpha: np.ndarray, beta: np.ndarray, n_positions: int, n_sim: int,
             rng: np.random.Generator, chunk: int = 20000) -> np.ndarray:
    """Bernoulli-TS's (A, L) action distribution by Monte Carlo over ``n_sim`` draws."""
    counts = np.zeros((alpha.size, n_positions))
    done = 0
    while done < n_sim:
        m = min(chunk, n_sim - done)
        theta = rng.beta(alpha, beta, size=(m, alpha.size))
        top = np.argsort(-theta, axis=1)[:, :n_positions]
        for pos in range(n_positions):
            counts[:, pos] += np.bincount(top[:, pos], minlength=alpha.size)
        done += m
    return counts / n_sim


def uniform_dist(n_items: int, n_positions: int) -> np.ndarray:
    """The uniform-random policy's (A, L) distribution: 1/A."""
    return np.full((n_items, n_positions), 1.0 / n_items)


def empirical_dist(log: OBDLog, n_items: int) -> np.ndarray:
    """The (item, position) frequencies of ``log``: (A, L), each column summing to 1."""
    counts = np.zeros((n_items, log.n_positions))
    np.add.at(counts, (log.item_id, log.position), 1.0)
    return counts / counts.sum(axis=0, keepdims=True)


def logged_dist(log: OBDLog, times: np.ndarray, n_items: int) -> np.ndarray:
    """float64 (n, A, L): for each time in ``times`` (datetime64 (n,)) and each (item a,
    position l), the logged propensity of (a, l) at the round of ``log`` nearest in time
    that showed a at l (0 for pairs never logged), each ``[i, :, l]`` renormalised to sum
    to 1.  Memory n A L floats (the 10,000-round sample: 19 MB for 80 items)."""
    t_log = log.timestamp.astype("datetime64[us]").astype(np.int64)
    t = np.asarray(times).astype("datetime64[us]").astype(np.int64)
    if t.size * n_items * log.n_positions > LOGGED_MAX_ENTRIES:
        raise ValueError(f"times: {t.size} rounds x {n_items} items x {log.n_positions} positions exceed "
                         f"{LOGGED_MAX_ENTRIES} entries (LOGGED_MAX_ENTRIES)")
    out = np.zeros((t.size, n_items, log.n_positions))
    for a in range(n_items):
        for pos in range(log.n_positions):
            rows = np.nonzero((log.item_id == a) & (log.position == pos))[0]
            if rows.size == 0:
                continue
            tr = t_log[rows]
            j = np.clip(np.searchsorted(tr, t), 1, max(rows.size - 1, 1))
            if rows.size == 1:
                out[:, a, pos] = log.pscore[rows[0]]
                continue
            left_closer = np.abs(t - tr[j - 1]) <= np.abs(tr[j] - t)
            out[:, a, pos] = log.pscore[rows[np.where(left_closer, j - 1, j)]]
    total = out.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("log: a position with no logged propensities")
    return out / total


def loo_time_match(log: OBDLog) -> float:
    """Pearson correlation between each round's logged propensity and that of the nearest
    other round (in time) with the same (item, position): how well :func:`logged_dist`'s
    nearest-in-time rule tracks the logging policy."""
    t = log.timestamp.astype("datetime64[us]").astype(np.int64)
    pred = np.full(log.n_rounds, np.nan)
    key = log.item_id * log.n_positions + log.position
    for k in np.unique(key):
        rows = np.nonzero(key == k)[0]
        if rows.size < 2:
            continue
        tr = t[rows]
        prev = np.r_[np.inf, np.abs(np.diff(tr))]
        nxt = np.r_[np.abs(np.diff(tr)), np.inf]
        pick = np.where(prev <= nxt, np.arange(rows.size) - 1, np.arange(rows.size) + 1)
        pred[rows] = log.pscore[rows[pick]]
    ok = ~np.isnan(pred)
    return float(np.corrcoef(pred[ok], log.pscore[ok])[0, 1])


def benchmark(source: str | Path, wheel: str | Path, campaign: str, seeds: SeedTree, *,
              n_sim: int = 100000, n_boot: int = 1000, tau: float = 100.0) -> dict[str, Any]:
    """The paper's two directions on one campaign of the dataset at ``source``:

    * ``"bts_from_random"``: BTS's CTR from the uniform-random logs, target
      :func:`bts_dist` with the production prior (obp's protocol), against BTS's CTR;
    * ``"bts_empirical_from_random"``: the same with the target :func:`empirical_dist` of
      the BTS log (the time-averaged logged policy);
    * ``"bts_logged_from_random"``: the same with the target :func:`logged_dist` (the BTS
      log's propensities, time-matched to the random log's rounds); skipped, with a reason
      in ``"skipped"``, when it would exceed :data:`LOGGED_MAX_ENTRIES` (the full release);
    * ``"random_from_bts"``: the uniform policy's CTR from the BTS logs, against random's CTR;
    * ``"prior_vs_logged_pscore"``: Pearson correlation and median |relative difference|
      between the prior simulation at the BTS log's (item, position) and its logged
      propensities (1 and 0 if the logging policy were the prior's); ``table_pearson``
      the correlation of the prior's (A, L) table with the log's empirical frequencies;
      ``loo_time_match_pearson`` (:func:`loo_time_match`).
    """
    from simcore.domains.bandits.obd import load_obd

    rand = load_obd(source, "random", campaign, context=False)
    bts = load_obd(source, "bts", campaign, context=False)
    n_items = max(rand.n_items, bts.n_items)
    alpha, beta = read_bts_prior(wheel, campaign)
    if alpha.size != n_items:
        raise ValueError(f"prior: {alpha.size} items, the {campaign} logs {n_items}")
    prior = bts_dist(alpha, beta, bts.n_positions, n_sim, seeds.generator("bts_sim"))
    sim = prior[bts.item_id, bts.position]
    kw: dict[str, Any] = {"n_boot": n_boot, "tau": tau}
    logged: dict[str, Any] = {}
    if rand.n_rounds * n_items * bts.n_positions <= LOGGED_MAX_ENTRIES:
        logged["bts_logged_from_random"] = evaluate(rand, logged_dist(bts, rand.timestamp, n_items), bts,
                                                    seeds.child("bts_logged_from_random"), **kw)
    else:
        logged["skipped"] = {"bts_logged_from_random": f"{rand.n_rounds} x {n_items} x {bts.n_positions} entries "
                                                       f"exceed LOGGED_MAX_ENTRIES = {LOGGED_MAX_ENTRIES}"}
    return {
        "campaign": campaign,
        "n_rounds": {"random": rand.n_rounds, "bts": bts.n_rounds},
        "bts_from_random": evaluate(rand, prior, bts, seeds.child("bts_from_random"), **kw),
        "bts_empirical_from_random": evaluate(rand, empirical_dist(bts, n_items), bts,
                                              seeds.child("bts_empirical_from_random"), **kw),
        **logged,
        "random_from_bts": evaluate(bts, uniform_dist(n_items, bts.n_positions), rand,
                                    seeds.child("random_from_bts"), **kw),
        "prior_vs_logged_pscore": {
            "pearson": float(np.corrcoef(sim, bts.pscore)[0, 1]),
            "median_rel_diff": float(np.median(np.abs(sim - bts.pscore) / bts.pscore)),
            "table_pearson": float(np.corrcoef(prior.ravel(), empirical_dist(bts, n_items).ravel())[0, 1]),
            "loo_time_match_pearson": loo_time_match(bts),
        },
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m simcore.domains.bandits.protocol --source DIR_OR_WHEEL [--wheel WHEEL]``:
    the benchmark as JSON on stdout (or ``--out FILE``)."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--source", required=True, help="dataset root or the obp 0.4.1 wheel")
    ap.add_argument("--wheel", default=None, help="the obp wheel holding the BTS prior (default: --source)")
    ap.add_argument("--campaign", default="all", choices=["all", "men", "women"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-sim", type=int, default=100000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--tau", type=float, default=100.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    res = benchmark(a.source, a.wheel or a.source, a.campaign, SeedTree(a.seed).child("obd-benchmark"),
                    n_sim=a.n_sim, n_boot=a.n_boot, tau=a.tau)
    text = json.dumps(res, indent=1)
    if a.out:
        Path(a.out).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
