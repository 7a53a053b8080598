"""Configuration of ``simcore reproduce bandits`` (:class:`BanditsConfig`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simcore.envs.ranges import check_int, check_real

CAMPAIGNS = ("all", "men", "women")
PARTS = ("obd", "ope", "ope_seq", "hcope", "regret", "allocation", "uplift", "lifecycle")


@dataclass(frozen=True)
class BanditsConfig:
    """``simcore reproduce bandits``: the Open Bandit Dataset's off-policy benchmark and
    the simulator studies with exact values (docs/bandits.md).

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
        seed: root of the named seed tree (streams ``obd-benchmark/<campaign>/...``,
            ``sim/<part>/...``); integer in [0, 2**63 - 1].
        parts: comma-separated subset of obd, ope, ope_seq, hcope, regret, allocation,
            uplift, lifecycle (default all eight; "obd" needs the dataset; "ope_seq" is the
            sequential estimators' study (``ope_reps`` repetitions of ``seq_episodes``
            episodes); "lifecycle" runs the allocation and uplift studies on
            :mod:`simcore.domains.lifecycle`).
        ope_reps: repetitions of the estimator study, integer in [10, 100000] (default 1000:
            a Wilson CI of a 95 % coverage is then about +-1.4 points, so a correct CI can be
            shown to hold within ``coverage_tol``; at 200 it is [91, 97.3] %, inconclusive).
        ope_rounds: logged rounds per repetition, integer in [100, 10**7] (default 1000).
        seq_episodes: episodes per repetition of the sequential study, integer in
            [20, 10**6] (default 200).
        shifts: the targets' distances t in [0, 1] from the logging policy,
            comma-separated (default "0,0.25,0.5,0.75,1").
        hcope_reps: repetitions of the bound-coverage study, integer in [10, 100000]
            (default 1000).
        hcope_rounds: rounds per repetition, integer in [100, 10**7] (default 1000).
        hcope_delta: the bounds' delta (level 1 - delta), real in (0, 0.5] (default 0.05).
        equiv_rel: the equivalence margin of the bias verdicts of (a) and (a'), as a share
            of the exact value V: an estimator is "unbiased" only when its whole bias CI lies
            inside +-equiv_rel |V|, "biased" when wholly outside; real in (0, 0.5]
            (default 0.02, set before the runs).
        coverage_tol: the tolerance of the coverage verdicts (normal CIs in (a), (a'); the
            lower bounds in (b)): coverage at level L "holds" when its Wilson CI's lower end
            is >= L - coverage_tol, "fails" when its upper end is < L; real in [0, 0.2]
            (default 0.02).
        regret_seeds: seeds of the regret study, integer in [2, 1000] (default 5).
        regret_steps: batches per run, integer in [2, 100000] (default 150).
        regret_batch: rows per batch (the vector env's B), integer in [1, 100000] (default 32).
        neural: include the neural-linear agent (torch) in the regret study (default True).
        neural_sensitivity: also run the neural agent with a wider network (h = 128) and a
            denser training schedule (every 128 rows, 100 steps) (default False; True in
            ``--preset full``: it multiplies the study's time several-fold).
        alloc_seeds: populations of the allocation study, integer in [2, 1000] (default 5).
        alloc_users: users per population, integer in [10, 10**6] (default 2000).
        alloc_budgets: budgets as shares of the cheapest incentive's total spend,
            comma-separated reals in (0, 1] (default "0.1,0.25,0.5").
        uplift_seeds: populations of the uplift study, integer in [2, 1000] (default 5).
        uplift_users: users per population (half fit, half scored), integer in
            [100, 10**7] (default 20000).
        lifecycle_seeds: seeds of the lifecycle studies, integer in [2, 1000] (default 5).
        lifecycle_users: customers of the lifecycle allocation (x 15 actions in the ILP),
            integer in [10, 10**5] (default 500).
        lifecycle_uplift_users: customers of the lifecycle uplift experiment, integer in
            [100, 10**7] (default 20000).
    """

    source: str = ""
    wheel: str = ""
    cache_dir: str = "~/.cache/simcore/obd"
    campaigns: str = "all"
    n_sim: int = 100000
    n_boot: int = 1000
    tau: float = 100.0
    seed: int = 0
    parts: str = ",".join(PARTS)
    ope_reps: int = 1000
    ope_rounds: int = 1000
    seq_episodes: int = 200
    shifts: str = "0,0.25,0.5,0.75,1"
    hcope_reps: int = 1000
    hcope_rounds: int = 1000
    hcope_delta: float = 0.05
    equiv_rel: float = 0.02
    coverage_tol: float = 0.02
    regret_seeds: int = 5
    regret_steps: int = 150
    regret_batch: int = 32
    neural: bool = True
    neural_sensitivity: bool = False
    alloc_seeds: int = 5
    alloc_users: int = 2000
    alloc_budgets: str = "0.1,0.25,0.5"
    uplift_seeds: int = 5
    uplift_users: int = 20000
    lifecycle_seeds: int = 5
    lifecycle_users: int = 500
    lifecycle_uplift_users: int = 20000

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
        parts = self.part_list()
        if not parts or len(set(parts)) != len(parts) or any(p not in PARTS for p in parts):
            raise ValueError(f"parts: expected distinct names among {PARTS}, got {self.parts!r}")
        for name, lo, hi in (("ope_reps", 10, 100_000), ("ope_rounds", 100, 10**7), ("seq_episodes", 20, 10**6),
                             ("hcope_reps", 10, 100_000),
                             ("hcope_rounds", 100, 10**7), ("regret_seeds", 2, 1000), ("regret_steps", 2, 100_000),
                             ("regret_batch", 1, 100_000), ("alloc_seeds", 2, 1000), ("alloc_users", 10, 10**6),
                             ("uplift_seeds", 2, 1000), ("uplift_users", 100, 10**7), ("lifecycle_seeds", 2, 1000),
                             ("lifecycle_users", 10, 10**5), ("lifecycle_uplift_users", 100, 10**7)):
            check_int(name, getattr(self, name), lo, hi)
        check_real("hcope_delta", self.hcope_delta, 0.0, 0.5, lo_open=True)
        check_real("equiv_rel", self.equiv_rel, 0.0, 0.5, lo_open=True)
        check_real("coverage_tol", self.coverage_tol, 0.0, 0.2)
        for flag in ("neural", "neural_sensitivity"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag}: expected a bool, got {getattr(self, flag)!r}")
        _reals("shifts", self.shifts, 0.0, 1.0, lo_open=False)
        _reals("alloc_budgets", self.alloc_budgets, 0.0, 1.0, lo_open=True)

    def part_list(self) -> tuple[str, ...]:
        """The parts as a tuple."""
        return tuple(p.strip() for p in self.parts.split(",") if p.strip())

    def shift_list(self) -> tuple[float, ...]:
        """The shifts t as floats."""
        return _reals("shifts", self.shifts, 0.0, 1.0, lo_open=False)

    def budget_list(self) -> tuple[float, ...]:
        """The allocation budgets as floats."""
        return _reals("alloc_budgets", self.alloc_budgets, 0.0, 1.0, lo_open=True)

    def campaign_list(self) -> tuple[str, ...]:
        """The campaigns as a tuple."""
        return tuple(c.strip() for c in self.campaigns.split(",") if c.strip())

    @classmethod
    def full(cls) -> BanditsConfig:
        """The longer protocol: all three OBD campaigns, 5,000 repetitions of the estimator
        studies and 2,000 of the bounds' (equivalence at 2 % of V needs them far from the
        logging policy), 20 seeds of the regret and allocation studies, 10 of uplift and
        lifecycle."""
        return cls(campaigns="all,men,women", ope_reps=5000, hcope_reps=2000, regret_seeds=20, alloc_seeds=20,
                   uplift_seeds=10, lifecycle_seeds=10, neural_sensitivity=True)

    @classmethod
    def quick(cls) -> BanditsConfig:
        """A fast check (10,000 Monte Carlo draws, 200 resamples; small simulator studies)."""
        return cls(n_sim=10000, n_boot=200, ope_reps=20, ope_rounds=300, seq_episodes=50, shifts="0,1", hcope_reps=20,
                   hcope_rounds=300, regret_seeds=2, regret_steps=10, regret_batch=16, neural=False,
                   alloc_seeds=2, alloc_users=100, alloc_budgets="0.2", uplift_seeds=2, uplift_users=2000,
                   lifecycle_seeds=2, lifecycle_users=40, lifecycle_uplift_users=2000)


def _reals(name: str, text: str, lo: float, hi: float, lo_open: bool) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, got {text!r}") from None
    if not vals:
        raise ValueError(f"{name}: expected at least one number, got {text!r}")
    for v in vals:
        check_real(name, v, lo, hi, lo_open=lo_open)
    return vals
