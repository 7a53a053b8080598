"""Configuration of ``simcore reproduce bandits`` (:class:`BanditsConfig`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simcore.envs.ranges import check_int, check_real

CAMPAIGNS = ("all", "men", "women")


@dataclass(frozen=True)
class BanditsConfig:
    """``simcore reproduce bandits``: the Open Bandit Dataset's off-policy benchmark.

    Attributes:
        source: the dataset: its root directory (``random/``, ``bts/`` inside; e.g. the
            full release) or the ``obp`` 0.4.1 wheel holding the 10,000-round sample;
            "" (default) = the wheel in ``cache_dir``, fetched there by
            ``pip download obp==0.4.1 --no-deps`` if absent (obp is never installed).
        wheel: the obp wheel holding the BTS production prior
            (``obp/policy/conf/prior_bts.yaml``); "" (default) = ``source`` if it is a
            wheel, else the wheel in ``cache_dir``.
        cache_dir: where the wheel is looked for and downloaded (default
            "~/.cache/simcore/obd").
        campaigns: comma-separated subset of all, men, women (default "all", the paper's).
        n_sim: Monte Carlo draws of Bernoulli-TS's action distribution; integer in
            [1000, 10000000] (default 100000, obp's).
        n_boot: bootstrap resamples of the rounds; integer in [100, 100000] (default 1000).
        tau: switch-DR's weight threshold; real in (0, inf] (default 100).
        seed: root of the named seed tree (streams ``obd-benchmark/<campaign>/...``);
            integer in [0, 2**63 - 1].
    """

    source: str = ""
    wheel: str = ""
    cache_dir: str = "~/.cache/simcore/obd"
    campaigns: str = "all"
    n_sim: int = 100000
    n_boot: int = 1000
    tau: float = 100.0
    seed: int = 0

    def __post_init__(self) -> None:
        camps = self.campaign_list()
        if not camps or len(set(camps)) != len(camps) or any(c not in CAMPAIGNS for c in camps):
            raise ValueError(f"campaigns: expected distinct names among {CAMPAIGNS}, got {self.campaigns!r}")
        check_int("n_sim", self.n_sim, 1000, 10_000_000)
        check_int("n_boot", self.n_boot, 100, 100_000)
        check_int("seed", self.seed, 0, 2**63 - 1)
        if not (isinstance(self.tau, (int, float)) and self.tau > 0) or math.isnan(self.tau):
            raise ValueError(f"tau: expected a real > 0 (inf allowed), got {self.tau!r}")
        if math.isfinite(self.tau):
            check_real("tau", self.tau, 0.0, 1e300, lo_open=True)

    def campaign_list(self) -> tuple[str, ...]:
        """The campaigns as a tuple."""
        return tuple(c.strip() for c in self.campaigns.split(",") if c.strip())

    @classmethod
    def quick(cls) -> BanditsConfig:
        """A fast check (10,000 Monte Carlo draws, 200 resamples)."""
        return cls(n_sim=10000, n_boot=200)
