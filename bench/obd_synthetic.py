"""Writes a synthetic dataset in the Open Bandit Dataset's full-release layout and width,
for checking the loader and the benchmark at the full release's scale without its data.

    python bench/obd_synthetic.py --rounds 1000000 --out /tmp/obd_synth
    python -m simcore.domains.bandits.protocol --source /tmp/obd_synth --wheel obp-0.4.1-py3-none-any.whl

Layout ``<out>/{random,bts}/all/all.csv``: the dataset's columns (an index, timestamp,
item_id, position (1-based), click, propensity_score, user_feature_0..3 as 32-hex-digit
hashes, user-item_affinity_0..79), 80 items, 3 positions, about 520 bytes per row like
the real files.  "random" logs uniform items (propensity 1/80); "bts" logs items drawn
from the Bernoulli-TS distribution of the prior in ``--wheel`` (or a flat one without it)
with that probability as propensity.  Clicks are Bernoulli(mu[item, position]) with mu
around 0.4 %, the dataset's CTR.  Not real data: for scale and memory checks only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

A, L = 80, 3


def _dist(wheel: str | None, rng: np.random.Generator) -> np.ndarray:
    if wheel is None:
        return np.full((A, L), 1.0 / A)
    from simcore.domains.bandits import protocol

    alpha, beta = protocol.read_bts_prior(wheel, "all")
    return protocol.bts_dist(alpha, beta, L, 100_000, rng)


def write_log(path: Path, n: int, dist: np.ndarray | None, mu: np.ndarray, rng: np.random.Generator,
              chunk: int = 100_000) -> None:
    """One log CSV of ``n`` rounds (``dist`` None: uniform; ``mu`` float (A, L) the click
    probabilities, shared by both logs so that each policy's CTR is what OPE should find)."""
    hashes = np.array([f"{x:032x}" for x in rng.integers(0, 2**62, size=(64,))])
    t0 = np.datetime64("2019-11-24T00:00:00", "us")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ",timestamp,item_id,position,click,propensity_score," + ",".join(
        [f"user_feature_{k}" for k in range(4)] + [f"user-item_affinity_{k}" for k in range(A)])
    with path.open("w") as fh:
        fh.write(header + "\n")
        for s in range(0, n, chunk):
            m = min(chunk, n - s)
            pos = rng.integers(0, L, m)
            if dist is None:
                item = rng.integers(0, A, m)
                ps = np.full(m, 1.0 / A)
            else:
                u = rng.random(m)
                item = np.minimum((u[:, None] > np.cumsum(dist[:, pos].T, axis=1)).sum(axis=1), A - 1)
                ps = dist[item, pos]
            click = (rng.random(m) < mu[item, pos]).astype(int)
            ts = np.datetime_as_string(t0 + (np.arange(s, s + m) * 50_000).astype("timedelta64[us]"))
            users = hashes[rng.integers(0, hashes.size, size=(m, 4))]
            aff = np.where(rng.random((m, A)) < 0.02, 1.0, 0.0)
            for i in range(m):
                fh.write(f"{s + i},{ts[i].replace('T', ' ')}+00:00,{item[i]},{pos[i] + 1},{click[i]},{float(ps[i])!r},"
                         + ",".join(users[i]) + "," + ",".join("1.0" if a else "0.0" for a in aff[i]) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1_000_000, help="rounds per log")
    ap.add_argument("--out", required=True)
    ap.add_argument("--wheel", default=None, help="obp 0.4.1 wheel: BTS log from its prior")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    root = Path(a.out)
    mu = 0.004 * rng.lognormal(0.0, 0.5, size=(A, L))
    write_log(root / "random" / "all" / "all.csv", a.rounds, None, mu, rng)
    dist = _dist(a.wheel, rng)
    dist = np.where(dist > 0, dist, 1e-6)
    write_log(root / "bts" / "all" / "all.csv", a.rounds, dist / dist.sum(axis=0), mu, rng)


if __name__ == "__main__":
    main()
