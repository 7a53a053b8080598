"""The discount study: DP, Q-learning and actor-critic on the SSMDP for gamma in {0, ..., 1}.

Reproduces the "强化学习为何有用" article (sections 4-6): the search session MDP is
finite-horizon and undiscounted; with gamma = 1 the value of the initial state equals
the expected GMV per session (Proposition 2), and a policy optimised with gamma = 1
should earn more GMV than one optimised with gamma = 0.

Pipeline (docs/discount.md): a tabular SSMDP (state = page, last L actions, segment)
is estimated from the C++ simulator's exact b, l, c, m; DP solves it exactly for each
gamma; tabular Q-learning and actor-critic learn on sessions sampled from it (R runs x
S sessions, vectorised); an exact DP over the full page-history tree of the real
simulator is run for a short horizon; every final policy is evaluated exactly and by
Monte Carlo on the model, and transferred to the real simulator.

``simcore reproduce discount --out DIR`` (default: ~2-3 minutes on 2 cores);
``--full`` runs the article's protocol (50 runs x 800,000 sessions).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from simcore.domains.search.config import SessionConfig
from simcore.report import mean_ci
from simcore.domains.search.tabular import dp as tdp
from simcore.domains.search.tabular.learners import LearnerConfig, LearnResult, learn
from simcore.domains.search.tabular.model import TabularSSMDP, extract_model
from simcore.domains.search.tabular.montecarlo import simulate_model
from simcore.domains.search.tabular.rng import run_keys
from simcore.domains.search.tabular.simeval import draw_users, evaluate_paths, simulate_policies
from simcore.domains.search.tabular.space import StateSpace
from simcore.domains.search.tabular.tree import build_tree, solve_tree
from simcore.util.progress import Progress

ALGORITHMS = ("dp", "q_learning", "actor_critic")
LEARNERS = ("q_learning", "actor_critic")
LABELS = {"dp": "DP", "q_learning": "Q-learning", "actor_critic": "Actor-critic"}
Z95 = 1.959963984540054


#: The study's user model: users leave more readily after irrelevant pages
#: (leave_frustration 8 instead of the package default 4).  With the package default,
#: showing premium items on every page is (near) optimal both myopically and in the long
#: run, so no discount rate can matter; see docs/discount.md for the measurements.
STUDY_USER_OVERRIDES: dict[str, float] = {"leave_frustration": 8.0}


def study_session(**overrides: Any) -> SessionConfig:
    """The default simulator of the study: the package defaults (K = 10, 30 pages, the
    default catalogue) with :data:`STUDY_USER_OVERRIDES` applied to the user model."""
    from simcore.domains.search.config import UserModelConfig

    return SessionConfig(user=UserModelConfig(**STUDY_USER_OVERRIDES), **overrides)


def gamma_key(g: float) -> str:
    """results.json key of a discount rate: "0.0", "0.1", ..., "1.0"."""
    return repr(float(g))


@dataclass(frozen=True)
class DiscountConfig:
    """Settings of the discount study (defaults: the <= 3 minute run).

    Attributes:
        session: the simulator (world, user model, K = page_size = 10, max_steps = 30
            pages: the article's horizon).
        actions: ranking weight vectors to choose from, one tuple of m floats each
            (None: the 5 vectors of :func:`simcore.domains.search.world.default_action_set`).
        gammas: discount rates, each in [0, 1].
        memory: L, actions remembered by the tabular state (>= 0).
        runs: R, independent runs per learner and gamma (own seed each).
        sessions: S, sessions per run.
        learner: learner settings (its ``sessions`` is replaced by ``sessions``).
        model_sessions: users run under uniform random actions to estimate the model.
        refine_rounds: further estimation rounds along the current DP policies.
        refine_sessions: users per refinement round.
        refine_epsilon: random-action rate of the refinement rounds.
        min_ess: back-off threshold of the model estimate (effective sample size).
        tree_horizon: horizon of the exact full-tree DP on the real simulator
            (A^T sequences per user; 0 skips it).
        tree_users: users in the tree DP's panel.
        holdout_users: users of the panel that evaluates deterministic policies
            exactly on the real simulator (fresh users, not the tree panel's).
        eval_sessions: Monte Carlo sessions on the model per (algorithm, gamma).
        sim_sessions: Monte Carlo sessions on the real simulator (sampled outcomes)
            per (algorithm, gamma).
        seed: master seed (model users, runs, panels, Monte Carlo).
        workers: processes for the learners (None: all cores; 1: in-process).
        contrast_session: a second simulator configuration on which only the exact
            tree DP is repeated, as a contrast (default: the package's default user
            model; None skips it).
    """

    session: SessionConfig = field(default_factory=lambda: study_session())
    actions: tuple[tuple[float, ...], ...] | None = None
    gammas: tuple[float, ...] = (0.0, 0.1, 0.5, 0.9, 1.0)
    memory: int = 4
    runs: int = 10
    sessions: int = 100_000
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    model_sessions: int = 20_000
    refine_rounds: int = 3
    refine_sessions: int = 10_000
    refine_epsilon: float = 0.2
    min_ess: float = 5.0
    tree_horizon: int = 5
    tree_users: int = 200
    holdout_users: int = 2_000
    eval_sessions: int = 20_000
    sim_sessions: int = 20_000
    seed: int = 0
    workers: int | None = None
    contrast_session: SessionConfig | None = field(default_factory=SessionConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.session, SessionConfig):
            raise TypeError("session: expected a simcore.domains.search.config.SessionConfig")
        if self.contrast_session is not None and not isinstance(self.contrast_session, SessionConfig):
            raise TypeError("contrast_session: expected a simcore.domains.search.config.SessionConfig or None")
        if len(self.gammas) == 0:
            raise ValueError("gammas: need at least one discount rate")
        for g in self.gammas:
            tdp.check_gamma(g, "gammas")
        if len(set(float(g) for g in self.gammas)) != len(self.gammas):
            raise ValueError(f"gammas: duplicates in {self.gammas}")
        if isinstance(self.memory, bool) or not isinstance(self.memory, int):
            raise TypeError(f"memory: expected an integer L >= 0, got {self.memory!r}")
        if self.memory < 0:
            raise ValueError(f"memory: L must be >= 0, got {self.memory}")
        if self.actions is not None:
            a = np.asarray(self.actions, dtype=np.float64)
            if a.ndim != 2 or a.shape[0] == 0:
                raise ValueError("actions: the action set is empty (need at least one weight vector)")
            if a.shape[1] != self.session.world.n_features:
                raise ValueError(
                    f"actions: each weight vector needs {self.session.world.n_features} entries, got {a.shape[1]}"
                )
            if not np.all(np.isfinite(a)):
                raise ValueError("actions: contains NaN or inf")
        for name in ("runs", "sessions", "model_sessions", "holdout_users", "eval_sessions", "sim_sessions"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        for name in ("refine_rounds", "refine_sessions", "tree_horizon", "tree_users", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: must be an integer >= 0, got {v!r}")
        if self.refine_rounds and not self.refine_sessions:
            raise ValueError("refine_sessions: must be >= 1 when refine_rounds > 0")
        if self.tree_horizon and self.tree_users < 1:
            raise ValueError("tree_users: must be >= 1 when tree_horizon > 0")
        if not 0.0 <= self.refine_epsilon <= 1.0:
            raise ValueError(f"refine_epsilon: must lie in [0, 1], got {self.refine_epsilon!r}")
        if not self.min_ess >= 1:
            raise ValueError(f"min_ess: must be >= 1, got {self.min_ess!r}")
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            raise ValueError(f"workers: must be None or an integer >= 1, got {self.workers!r}")
        if not isinstance(self.learner, LearnerConfig):
            raise TypeError("learner: expected a simcore.domains.search.tabular.learners.LearnerConfig")
        # Fail early on state spaces that cannot be built (huge L).
        StateSpace(self.session.horizon, self.n_actions, self.memory, self.session.world.n_segments)

    @property
    def n_actions(self) -> int:
        return 5 if self.actions is None else len(self.actions)

    def action_array(self) -> np.ndarray:
        """float32 (A, m) ranking weight vectors."""
        from simcore.domains.search.world import default_action_set

        if self.actions is None:
            return default_action_set(self.session.world.n_features)
        return np.asarray(self.actions, dtype=np.float32)

    def learner_config(self) -> LearnerConfig:
        return dataclasses.replace(self.learner, sessions=self.sessions)

    @classmethod
    def full(cls, **overrides: Any) -> "DiscountConfig":
        """The article's protocol: 50 runs x 800,000 sessions per learner and gamma,
        with a larger model estimate, tree panel and evaluations."""
        base: dict[str, Any] = dict(
            runs=50,
            sessions=800_000,
            model_sessions=100_000,
            refine_rounds=4,
            refine_sessions=50_000,
            tree_users=1_000,
            holdout_users=4_000,
            eval_sessions=100_000,
            sim_sessions=100_000,
            learner=LearnerConfig(lanes=250),
        )
        base.update(overrides)
        return cls(**base)


# ----------------------------------------------------------------------------- progress


class _Work:
    """One progress bar over the whole run, in rough seconds of work per stage."""

    def __init__(self, stages: dict[str, tuple[float, float]], enabled: bool) -> None:
        # stages: name -> (units, seconds per unit)
        total = sum(u * s for u, s in stages.values()) or 1.0
        # progress in percent of the estimated total work
        self.cost = {k: 100.0 * s / total for k, (u, s) in stages.items()}
        self.bar = Progress(100.0, desc="discount", unit="%", enabled=enabled)
        self.stage = ""

    def begin(self, name: str) -> None:
        self.stage = name
        self.bar.update(0, postfix=name)

    def __call__(self, units: float) -> None:
        self.bar.update(units * self.cost.get(self.stage.split(":")[0], 0.0), postfix=self.stage)

    def close(self) -> None:
        self.bar.close()


# ----------------------------------------------------------------------------- learners

_WORKER: dict[str, Any] = {}


def _init_worker(model: TabularSSMDP, counter: Any) -> None:
    _WORKER["model"] = model
    _WORKER["counter"] = counter


def _learner_job(args: tuple[str, float, np.ndarray, LearnerConfig]) -> LearnResult:
    algorithm, gamma, keys, cfg = args
    counter = _WORKER.get("counter")

    def tick(n: int) -> None:
        if counter is not None:
            with counter.get_lock():
                counter.value += int(n)

    return learn(algorithm, _WORKER["model"], gamma, keys, cfg, progress=tick)


def _run_learners(
    model: TabularSSMDP, config: DiscountConfig, work: _Work
) -> dict[tuple[str, float], LearnResult]:
    cfg = config.learner_config()
    jobs = []
    for ai, alg in enumerate(LEARNERS):
        for gi, g in enumerate(config.gammas):
            keys = np.array([run_keys(config.seed, 1 + ai, gi, r) for r in range(config.runs)], dtype=np.uint64)
            jobs.append((alg, float(g), keys, cfg))
    jobs.sort(key=lambda j: j[0] != "actor_critic")  # the slower learner first
    workers = config.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(jobs)))
    results: dict[tuple[str, float], LearnResult] = {}
    if workers == 1:
        _init_worker(model, None)
        for job in jobs:
            work.begin(f"learn: {LABELS[job[0]]} gamma={job[1]}")
            results[(job[0], job[1])] = learn(job[0], model, job[1], job[2], job[3], progress=work)
        return results
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)
    work.begin(f"learn: {len(jobs)} jobs on {workers} processes")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(model, counter)) as ex:
        futs = {ex.submit(_learner_job, j): (j[0], j[1]) for j in jobs}
        pending, seen = set(futs), 0
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for f in done:
                results[futs[f]] = f.result()
            now = counter.value
            work(now - seen)
            seen = now
    return results


# ----------------------------------------------------------------------------- helpers


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a) - mean(b) and the half-width of its 95% CI (normal approximation)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    va = a.var(ddof=1) / a.size if a.size > 1 else float("nan")
    vb = b.var(ddof=1) / b.size if b.size > 1 else float("nan")
    return float(a.mean() - b.mean()), float(Z95 * math.sqrt(va + vb))


def _paired(d: np.ndarray) -> tuple[float, float]:
    return mean_ci(np.asarray(d, float).ravel())


def _check(checks: list[dict], name: str, held: bool, detail: str) -> None:
    checks.append({"name": name, "held": bool(held), "detail": detail})


def _tree_study(
    sess: SessionConfig,
    acts: np.ndarray,
    cfg: DiscountConfig,
    gammas: list[float],
    g0: float,
    g1: float,
    work: Callable[[float], None],
) -> dict[str, Any]:
    """Exact tree DP on the real simulator for each gamma, with a holdout evaluation."""
    short = dataclasses.replace(sess, max_steps=cfg.tree_horizon)
    panel = draw_users(short, cfg.tree_users, seed=cfg.seed + 101)
    tree = build_tree(short, acts, panel, progress=work)
    hold = draw_users(short, cfg.holdout_users, seed=cfg.seed + 202)
    sols = {g: solve_tree(tree, g) for g in gammas}
    hv = evaluate_paths(short, acts, hold, [sols[g].sequences for g in gammas], (1.0,))[:, 0]  # (n_g, U)
    out: dict[str, Any] = {
        "horizon": int(short.horizon),
        "users": int(cfg.tree_users),
        "holdout_users": int(cfg.holdout_users),
        "gammas": {},
    }
    for i, g in enumerate(gammas):
        s = sols[g]
        hm, hc = mean_ci(hv[i])
        out["gammas"][gamma_key(g)] = {
            "gmv": s.gmv,
            "v_h0": s.v_h0,
            "sequences": s.sequences.tolist(),
            "holdout_gmv": hm,
            "holdout_gmv_ci": hc,
        }
    i0, i1 = gammas.index(g0), gammas.index(g1)
    d_in = sols[g1].user_gmv - sols[g0].user_gmv
    out["gap"] = float(d_in.mean())
    out["gap_ci"] = mean_ci(d_in)[1]
    out["gap_pct"] = 100.0 * float(d_in.mean()) / sols[g0].gmv if sols[g0].gmv else float("nan")
    hd = hv[i1] - hv[i0]
    out["holdout_gap"], out["holdout_gap_ci"] = _paired(hd)
    base = float(hv[i0].mean())
    out["holdout_gap_pct"] = 100.0 * out["holdout_gap"] / base if base else float("nan")
    out["_sols"] = sols
    return out


# ----------------------------------------------------------------------------- run


def run(
    config: DiscountConfig = DiscountConfig(), progress: bool = True, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Runs the study; returns the results dict (the content of results.json)."""
    t_start = time.perf_counter()
    cfg = config
    sess = cfg.session
    acts = cfg.action_array()
    A, T, G = acts.shape[0], sess.horizon, sess.world.n_segments
    gammas = [float(g) for g in cfg.gammas]
    g0 = 0.0 if 0.0 in gammas else min(gammas)
    g1 = 1.0 if 1.0 in gammas else max(gammas)
    stage_s: dict[str, float] = {}
    lanes_per_sess = 3.7  # rough pages per session, only for the progress estimate
    n_model = cfg.model_sessions + cfg.refine_rounds * cfg.refine_sessions
    work = _Work(
        {
            "model": (n_model, T * A * 4.0e-6),
            "tree": (
                (1 + (cfg.contrast_session is not None)) * cfg.tree_users * A**cfg.tree_horizon if cfg.tree_horizon else 0,
                cfg.tree_horizon * 4.0e-6,
            ),
            "learn": (2 * len(gammas) * cfg.runs * cfg.sessions, lanes_per_sess * 1.2e-6 / max(1, cfg.workers or os.cpu_count() or 1)),
            "transfer": (3 * len(gammas) * cfg.sim_sessions, 6 * 5.0e-6),
            "evaluate": (1, 2 * len(gammas) * cfg.runs * 0.05 + 3 * len(gammas) * cfg.eval_sessions * 2e-6),
            "exact": (1, cfg.holdout_users * len(gammas) * (1 + 2 * cfg.runs) * T / max(1, G) * 2.0e-6),
        },
        enabled=progress,
    )

    def stamp(name: str, t0: float) -> None:
        stage_s[name] = round(time.perf_counter() - t0, 2)

    # 1. the tabular model -----------------------------------------------------------
    t0 = time.perf_counter()
    work.begin("model: estimating b, l, c, m")
    model = extract_model(
        sess,
        acts,
        cfg.memory,
        cfg.model_sessions,
        seed=cfg.seed,
        refine_rounds=cfg.refine_rounds,
        refine_sessions=cfg.refine_sessions,
        refine_gammas=tuple(gammas),
        refine_epsilon=cfg.refine_epsilon,
        min_ess=cfg.min_ess,
        progress=work,
    )
    stamp("model", t0)

    # 2. DP on the model ---------------------------------------------------------------
    t0 = time.perf_counter()
    dp_sol = {g: tdp.solve(model, g) for g in gammas}
    stamp("dp", t0)

    # 3. exact DP over the full page-history tree of the real simulator ----------------
    tree_res: dict[str, Any] | None = None
    if cfg.tree_horizon:
        t0 = time.perf_counter()
        work.begin(f"tree: {A}^{cfg.tree_horizon} sequences x {cfg.tree_users} users")
        tree_res = _tree_study(sess, acts, cfg, gammas, g0, g1, work)
        if cfg.contrast_session is not None:
            work.begin("tree: contrast user model")
            tree_res["contrast"] = _tree_study(cfg.contrast_session, acts, cfg, gammas, g0, g1, work)
            tree_res["contrast"].pop("_sols")
            tree_res["contrast"]["user"] = dataclasses.asdict(cfg.contrast_session.user)
        stamp("tree", t0)

    # 4. learners -------------------------------------------------------------------------
    t0 = time.perf_counter()
    learned = _run_learners(model, cfg, work)
    stamp("learn", t0)

    # 5. evaluation on the model ------------------------------------------------------------
    t0 = time.perf_counter()
    work.begin("evaluate: on the model")
    res: dict[str, Any] = {alg: {} for alg in ALGORITHMS}
    per_run: dict[tuple[str, float], dict[str, np.ndarray]] = {}
    dp_best = dp_sol[g1].gmv if 1.0 in gammas else max(s.gmv for s in dp_sol.values())
    for gi, g in enumerate(gammas):
        sol = dp_sol[g]
        mc = simulate_model(model, [sol.policy], cfg.eval_sessions, seed=cfg.seed + 7_000 + gi)
        m_, c_ = mean_ci(mc.gmv[0])
        vm, vc = mean_ci(mc.returns(g)[0])
        res["dp"][gamma_key(g)] = {
            "gmv": m_,
            "gmv_ci": c_,
            "v_h0": sol.v_h0,
            "gmv_exact": sol.gmv,
            "v_h0_exact": sol.v_h0,
            "v_h0_mc": vm,
            "v_h0_mc_ci": vc,
            "regret": dp_best - sol.gmv,
            "regret_ci": 0.0,
            "paths": tdp.paths(model, sol.policy).tolist(),
        }
        per_run[("dp", g)] = {
            "gmv_exact": np.array([sol.gmv]),
            "v_exact": np.array([sol.v_h0]),
            "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, sol.policy)),
        }
    for alg in LEARNERS:
        for gi, g in enumerate(gammas):
            lr = learned[(alg, g)]
            pol = lr.final_policy
            v_ex = tdp.evaluate(model, pol, g)
            gmv_ex = v_ex if g == 1.0 else tdp.evaluate(model, pol, 1.0)
            v_ex, gmv_ex = np.atleast_1d(v_ex), np.atleast_1d(gmv_ex)
            per_eval = -(-cfg.eval_sessions // cfg.runs)
            pols = [pol[r] for r in range(cfg.runs)]
            mc = simulate_model(model, pols, per_eval, seed=cfg.seed + 8_000 + 100 * LEARNERS.index(alg) + gi)
            m_, c_ = mean_ci(mc.gmv.ravel())
            gm, gc = mean_ci(gmv_ex)
            vm_, vc_ = mean_ci(lr.v_h0)
            vxm, vxc = mean_ci(v_ex)
            rg, rc = mean_ci(dp_best - gmv_ex)
            paths_runs = np.stack([tdp.paths(model, lr.greedy[r].astype(np.int64)) for r in range(cfg.runs)])
            res[alg][gamma_key(g)] = {
                "gmv": m_,
                "gmv_ci": c_,
                "v_h0": vm_,
                "v_h0_ci": vc_,
                "gmv_exact": gm,
                "gmv_exact_ci": gc,
                "v_h0_exact": vxm,
                "v_h0_exact_ci": vxc,
                "regret": rg,
                "regret_ci": rc,
                "lane_steps": lr.lane_steps,
                "seconds": round(lr.seconds, 2),
            }
            per_run[(alg, g)] = {
                "gmv_exact": gmv_ex,
                "v_exact": v_ex,
                "v_learned": lr.v_h0,
                "mc": mc.gmv.ravel(),
                "paths": paths_runs,
                "gmv_fwd": np.atleast_1d(tdp.expected_gmv_forward(model, pol)),
            }
    work(1)
    stamp("evaluate_model", t0)

    # 6. transfer to the real simulator ---------------------------------------------------------
    t0 = time.perf_counter()
    work.begin("exact: transfer to a holdout panel")
    hold = draw_users(sess, cfg.holdout_users, seed=cfg.seed + 303)
    det_paths: list[np.ndarray] = []
    det_index: dict[tuple[str, float], list[int]] = {}
    for g in gammas:
        det_index[("dp", g)] = [len(det_paths)]
        det_paths.append(tdp.paths(model, dp_sol[g].policy))
        for alg in LEARNERS:
            idx = []
            for r in range(cfg.runs):
                idx.append(len(det_paths))
                det_paths.append(per_run[(alg, g)]["paths"][r])
            det_index[(alg, g)] = idx
    exact_vals = evaluate_paths(sess, acts, hold, det_paths, (1.0,))[:, 0]  # (n_paths, U)
    work(1)
    work.begin("transfer: Monte Carlo (sampled outcomes)")
    sim_pols: list[np.ndarray] = []
    sim_index: dict[tuple[str, float], list[int]] = {}
    for g in gammas:
        sim_index[("dp", g)] = [len(sim_pols)]
        sim_pols.append(dp_sol[g].policy)
        for alg in LEARNERS:
            lr = learned[(alg, g)]
            idx = []
            for r in range(cfg.runs):
                idx.append(len(sim_pols))
                sim_pols.append(lr.greedy[r].astype(np.int64) if lr.probs is None else lr.probs[r])
            sim_index[(alg, g)] = idx
    per_pol = {}
    for key, idx in sim_index.items():
        for i in idx:
            per_pol[i] = -(-cfg.sim_sessions // len(idx))
    # Policies with the same session count are simulated together.
    sim_gmv: dict[int, np.ndarray] = {}
    for n_s in sorted(set(per_pol.values())):
        ids = [i for i, n in per_pol.items() if n == n_s]
        out = simulate_policies(
            sess,
            acts,
            model.space,
            [sim_pols[i] for i in ids],
            n_s,
            seed=cfg.seed + 404 + n_s,
            lanes=min(n_s, max(64, n_s // 32)),
            progress=work,
        )
        for j, i in enumerate(ids):
            sim_gmv[i] = out[j]
    for alg in ALGORITHMS:
        for g in gammas:
            ex = exact_vals[det_index[(alg, g)]].mean(axis=0)  # per user, averaged over runs
            em, ec = mean_ci(ex)
            mc = np.concatenate([sim_gmv[i] for i in sim_index[(alg, g)]])
            mm, mcc = mean_ci(mc)
            res[alg][gamma_key(g)].update(
                {
                    "sim_gmv": mm,
                    "sim_gmv_ci": mcc,
                    "sim_gmv_exact": em,
                    "sim_gmv_exact_ci": ec,
                }
            )
            per_run[(alg, g)]["sim_user"] = ex
            per_run[(alg, g)]["sim_mc"] = mc
    stamp("transfer", t0)
    work.close()

    # 7. gaps and checks ---------------------------------------------------------------------------
    checks: list[dict] = []
    gaps: dict[str, Any] = {}
    for alg in ALGORITHMS:
        a0, a1 = per_run[(alg, g0)], per_run[(alg, g1)]
        e0 = float(np.mean(a0["gmv_exact"]))
        if alg == "dp":
            gx, gxc = float(a1["gmv_exact"][0] - a0["gmv_exact"][0]), 0.0
            mc0 = simulate_model(model, [dp_sol[g0].policy, dp_sol[g1].policy], cfg.eval_sessions, seed=cfg.seed + 9_000)
            gm, gmc = _welch(mc0.gmv[1], mc0.gmv[0])
        else:
            gx, gxc = _welch(a1["gmv_exact"], a0["gmv_exact"])
            gm, gmc = _welch(a1["mc"], a0["mc"])
        sx, sxc = _paired(a1["sim_user"] - a0["sim_user"])
        sm, smc = _welch(a1["sim_mc"], a0["sim_mc"])
        gaps[alg] = {
            "model_exact": gx,
            "model_exact_ci": gxc,
            "model_exact_pct": 100.0 * gx / e0 if e0 else float("nan"),
            "model_mc": gm,
            "model_mc_ci": gmc,
            "sim_exact": sx,
            "sim_exact_ci": sxc,
            "sim_exact_pct": 100.0 * sx / float(np.mean(a0["sim_user"])),
            "sim_mc": sm,
            "sim_mc_ci": smc,
        }
        sig = "exact" if alg == "dp" else "CI"
        held = gx > 0 if alg == "dp" else gx - gxc > 0
        _check(
            checks,
            f"{LABELS[alg]}: GMV(gamma={g1}) > GMV(gamma={g0}) on the model",
            held,
            f"gap {gx:+.3f} ({gaps[alg]['model_exact_pct']:+.2f}%)"
            + ("" if alg == "dp" else f" +/- {gxc:.3f} (95% CI over runs)")
            + f"; Monte Carlo gap {gm:+.3f} +/- {gmc:.3f}; judged by the {sig}",
        )
        _check(
            checks,
            f"{LABELS[alg]}: GMV(gamma={g1}) > GMV(gamma={g0}) on the real simulator",
            sx - sxc > 0,
            f"exact on {cfg.holdout_users} holdout users (greedy policies): {sx:+.3f} +/- {sxc:.3f} "
            f"({gaps[alg]['sim_exact_pct']:+.2f}%); Monte Carlo with sampled outcomes: {sm:+.3f} +/- {smc:.3f}",
        )
    # Proposition 2, exactly, for every final policy.
    worst_eq, worst_lt, n_pol, n_lt_fail = 0.0, float("inf"), 0, 0
    for (alg, g), pr in per_run.items():
        # E[GMV] by forward propagation minus V_gamma(h0) by backward evaluation
        diff = np.asarray(pr["gmv_fwd"]) - np.asarray(pr["v_exact"])
        n_pol += diff.size
        if g == 1.0:
            worst_eq = max(worst_eq, float(np.max(np.abs(diff))))
        else:
            worst_lt = min(worst_lt, float(np.min(diff)))
            n_lt_fail += int(np.sum(diff <= 0))
    tol = 1e-9 * max(1.0, dp_best)
    _check(
        checks,
        "Proposition 2 (exact): V_gamma(h0) < E[GMV] for gamma < 1 and = at gamma = 1, every final policy",
        worst_eq <= tol and n_lt_fail == 0,
        f"{n_pol} policies, E[GMV] by forward propagation, V_gamma(h0) by backward evaluation; "
        f"max |E[GMV] - V_1(h0)| = {worst_eq:.2e}; "
        f"min E[GMV] - V_gamma(h0) over gamma < 1 = {worst_lt if worst_lt < float('inf') else float('nan'):.4f} "
        f"({n_lt_fail} violations)",
    )
    if 1.0 in gammas:
        d = res["dp"][gamma_key(1.0)]
        dev = abs(d["gmv"] - d["v_h0"])
        _check(
            checks,
            "Proposition 2 (simulated): DP gamma=1 Monte Carlo GMV matches V_1(h0) within its 95% CI",
            dev <= d["gmv_ci"],
            f"MC {d['gmv']:.3f} +/- {d['gmv_ci']:.3f} ({cfg.eval_sessions} sessions) vs V_1(h0) {d['v_h0']:.3f}",
        )
        for alg in LEARNERS:
            pr = per_run[(alg, 1.0)]
            m_, c_ = mean_ci(pr["v_learned"] - pr["gmv_exact"])
            ok = abs(m_) <= (c_ if c_ == c_ else 0.0)
            _check(
                checks,
                f"{LABELS[alg]}: learned V_1(h0) equals the policy's GMV within the CI",
                ok,
                f"learned minus exact GMV {m_:+.3f} +/- {c_:.3f} over {cfg.runs} runs",
            )
        for alg in LEARNERS:
            lt = all(
                np.mean(per_run[(alg, g)]["v_learned"]) < np.mean(per_run[(alg, g)]["gmv_exact"])
                for g in gammas
                if g < 1.0
            )
            _check(
                checks,
                f"{LABELS[alg]}: learned V_gamma(h0) below the GMV for every gamma < 1",
                lt,
                ", ".join(
                    f"gamma={g}: {np.mean(per_run[(alg, g)]['v_learned']):.2f} vs {np.mean(per_run[(alg, g)]['gmv_exact']):.2f}"
                    for g in gammas
                    if g < 1.0
                ),
            )
    # DP optimality: no learned policy beats DP on its own objective.
    worst = 0.0
    for alg in LEARNERS:
        for g in gammas:
            worst = max(worst, float(np.max(per_run[(alg, g)]["v_exact"])) - dp_sol[g].v_h0)
    _check(
        checks,
        "DP is optimal: no learned policy has a higher exact V_gamma(h0) than DP at its gamma",
        worst <= 1e-9 * max(1.0, dp_best),
        f"largest excess {worst:.2e}",
    )
    for alg in LEARNERS:
        rg = [res[alg][gamma_key(g)]["regret"] for g in gammas]
        _check(
            checks,
            f"{LABELS[alg]}: regret to the DP optimum (E[GMV] of DP at gamma={g1}) is >= 0",
            min(rg) >= -1e-9,
            ", ".join(f"gamma={g}: {r:.3f}" for g, r in zip(gammas, rg)),
        )
    # Where do gamma = 0.9 and gamma = 1 coincide?
    coincide: dict[str, Any] = {}
    if 0.9 in gammas and 1.0 in gammas:
        p9, p1 = tdp.paths(model, dp_sol[0.9].policy), tdp.paths(model, dp_sol[1.0].policy)
        same_seg = [bool(np.array_equal(p9[g], p1[g])) for g in range(G)]
        first_diff = [int(np.argmax(p9[g] != p1[g])) if not same_seg[g] else None for g in range(G)]
        states_eq = float(np.mean(dp_sol[0.9].policy == dp_sol[1.0].policy))
        coincide["dp"] = {
            "segments_identical": same_seg,
            "first_different_page": first_diff,
            "states_equal_share": states_eq,
            "gmv_diff": dp_sol[1.0].gmv - dp_sol[0.9].gmv,
        }
        _check(
            checks,
            "DP: the gamma=0.9 and gamma=1 policies coincide on every segment's path",
            all(same_seg),
            f"identical paths per segment: {same_seg}; first differing page: {first_diff}; "
            f"same action in {100 * states_eq:.1f}% of all states; GMV difference {dp_sol[1.0].gmv - dp_sol[0.9].gmv:+.4f}",
        )
        for alg in LEARNERS:
            a9, a1 = per_run[(alg, 0.9)]["paths"], per_run[(alg, 1.0)]["paths"]
            same = float(np.mean(np.all(a9 == a1, axis=2)))
            d9, d1 = per_run[(alg, 0.9)]["gmv_exact"], per_run[(alg, 1.0)]["gmv_exact"]
            dd, dc = _welch(d1, d9)
            coincide[alg] = {"paths_identical_share": same, "gmv_diff": dd, "gmv_diff_ci": dc}
            _check(
                checks,
                f"{LABELS[alg]}: GMV of gamma=0.9 and gamma=1 policies equal within the CI",
                abs(dd) <= dc,
                f"GMV(1) - GMV(0.9) = {dd:+.3f} +/- {dc:.3f}; run-paired greedy paths identical for "
                f"{100 * same:.0f}% of (run, segment) pairs",
            )
    if tree_res is not None:
        _check(
            checks,
            f"Tree DP (real simulator, T={tree_res['horizon']}): GMV(gamma={g1}) > GMV(gamma={g0}) in sample",
            tree_res["gap"] > 0,
            f"gap {tree_res['gap']:+.3f} ({tree_res['gap_pct']:+.2f}%) on the {cfg.tree_users}-user panel",
        )
        _check(
            checks,
            f"Tree DP (real simulator, T={tree_res['horizon']}): the gain holds on fresh users",
            tree_res["holdout_gap"] - tree_res["holdout_gap_ci"] > 0,
            f"holdout gap {tree_res['holdout_gap']:+.3f} +/- {tree_res['holdout_gap_ci']:.3f} "
            f"({tree_res['holdout_gap_pct']:+.2f}%) on {cfg.holdout_users} users",
        )
        ident = max(abs(s.v_h0 - s.gmv) for g, s in tree_res["_sols"].items() if g == 1.0) if 1.0 in gammas else 0.0
        _check(
            checks,
            "Tree DP: V_1(h0) = E[GMV] exactly (Proposition 2 on the real simulator)",
            ident <= 1e-9 * max(1.0, dp_best),
            f"max |V_1(h0) - E[GMV]| = {ident:.2e}",
        )

    curves: dict[str, Any] = {}
    for alg in LEARNERS:
        curves[alg] = {}
        for g in gammas:
            lr = learned[(alg, g)]
            curves[alg][gamma_key(g)] = {
                "sessions": lr.curve_sessions.tolist(),
                "gmv_mean": lr.curve_gmv.mean(axis=0).tolist(),
                "gmv_ci": [mean_ci(lr.curve_gmv[:, i])[1] for i in range(lr.curve_gmv.shape[1])],
                "checkpoint_sessions": lr.ckpt_sessions.tolist(),
                "checkpoint_v_h0": lr.ckpt_v_h0.mean(axis=0).tolist(),
                "checkpoint_gmv_exact": lr.ckpt_gmv.mean(axis=0).tolist(),
                "checkpoint_v_exact": lr.ckpt_v_exact.mean(axis=0).tolist(),
            }
    if tree_res is not None:
        tree_res.pop("_sols")
    out: dict[str, Any] = {
        **res,
        "gaps": gaps,
        "coincide": coincide,
        "tree": tree_res,
        "checks": checks,
        "curves": curves,
        "model": model.info,
        "settings": _settings(cfg),
        "seed": cfg.seed,
        "stage_seconds": stage_s,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    out["runtime_s"] = round(time.perf_counter() - t_start, 2)
    return out


def _settings(cfg: DiscountConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["session"]["horizon"] = cfg.session.horizon
    d["actions"] = cfg.action_array().tolist()
    return d


# ----------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/discount", help="output directory (default: results/discount)")
    parser.add_argument("--full", action="store_true", help="the article's protocol: 50 runs x 800,000 sessions")
    parser.add_argument("--runs", type=int, default=None, help="R, runs per learner and gamma")
    parser.add_argument("--sessions", type=int, default=None, help="S, sessions per run")
    parser.add_argument("--seed", type=int, default=None, help="master seed (default 0)")
    parser.add_argument("--gammas", type=str, default=None, help="comma-separated discount rates in [0, 1]")
    parser.add_argument("--memory", type=int, default=None, help="L, actions in the tabular state (default 4)")
    parser.add_argument("--max-steps", type=int, default=None, help="session horizon in pages (default 30)")
    parser.add_argument("--model-sessions", type=int, default=None, help="users for the model estimate")
    parser.add_argument("--tree-horizon", type=int, default=None, help="horizon of the exact tree DP (0: skip)")
    parser.add_argument("--workers", type=int, default=None, help="learner processes (default: all cores)")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a user-model parameter (UserModelConfig), e.g. --user leave_frustration=8; repeatable",
    )
    parser.add_argument(
        "--world",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a catalogue parameter (WorldConfig), e.g. --world price_log_sd_item=0.4; repeatable",
    )
    parser.add_argument(
        "--config",
        default=None,
        help="JSON file of DiscountConfig fields (nested 'session', 'learner'); flags override it",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _session_from_dict(d: dict[str, Any]) -> SessionConfig:
    """A SessionConfig whose unspecified user-model fields take the study's values."""
    d = dict(d)
    user = d.get("user", {})
    if isinstance(user, dict):
        d["user"] = {**STUDY_USER_OVERRIDES, **user}
    return SessionConfig.from_dict(d)


def config_from_dict(d: dict[str, Any], full: bool = False) -> DiscountConfig:
    """A DiscountConfig from a JSON-style dict (unknown keys raise ValueError)."""
    d = dict(d)
    known = {f.name for f in dataclasses.fields(DiscountConfig)}
    unknown = set(d) - known
    if unknown:
        raise ValueError(f"config: unknown keys {sorted(unknown)}")
    if isinstance(d.get("session"), dict):
        d["session"] = _session_from_dict(d["session"])
    if isinstance(d.get("contrast_session"), dict):
        d["contrast_session"] = SessionConfig.from_dict(d["contrast_session"])
    if isinstance(d.get("learner"), dict):
        d["learner"] = LearnerConfig(**d["learner"])
    if d.get("actions") is not None:
        d["actions"] = tuple(tuple(float(x) for x in row) for row in d["actions"])
    if "gammas" in d:
        d["gammas"] = tuple(d["gammas"])
    return DiscountConfig.full(**d) if full else DiscountConfig(**d)


def config_from_args(args: argparse.Namespace) -> DiscountConfig:
    over: dict[str, Any] = {}
    import json

    if getattr(args, "config", None):
        with open(args.config) as f:
            over.update(json.load(f))
    for name in ("runs", "sessions", "seed", "memory", "model_sessions", "tree_horizon", "workers"):
        v = getattr(args, name, None)
        if v is not None:
            over[name] = v
    if getattr(args, "gammas", None):
        try:
            over["gammas"] = tuple(float(x) for x in args.gammas.split(","))
        except ValueError as e:
            raise ValueError(f"--gammas: expected comma-separated numbers, got {args.gammas!r}") from e
    sess = over.get("session", {})
    sess = dict(sess) if isinstance(sess, dict) else dataclasses.asdict(sess)
    for part in ("user", "world"):
        for item in getattr(args, part, None) or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--{part}: expected KEY=VALUE, got {item!r}")
            sub = dict(sess.get(part, {}))
            try:
                sub[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                sub[key.strip()] = value
            sess[part] = sub
    if getattr(args, "max_steps", None) is not None:
        sess["max_steps"] = args.max_steps
    if sess:
        try:
            over["session"] = _session_from_dict(sess)
        except TypeError as e:  # unknown UserModelConfig / WorldConfig field
            raise ValueError(f"--user/--world: {e}") from e
    return config_from_dict(over, full=bool(getattr(args, "full", False)))


def main(args: argparse.Namespace) -> int:
    import sys

    try:
        cfg = config_from_args(args)
    except (TypeError, ValueError, OSError) as e:
        print(f"simcore reproduce discount: error: {e}", file=sys.stderr)
        return 2
    results = run(cfg, progress=not args.quiet)
    command = "simcore reproduce discount --out " + str(args.out)
    for name in ("full", "quiet"):
        if getattr(args, name, False):
            command += f" --{name}"
    for name in ("config", "runs", "sessions", "seed", "gammas", "memory", "max_steps", "model_sessions", "tree_horizon", "workers"):
        v = getattr(args, name, None)
        if v is not None:
            command += f" --{name.replace('_', '-')} {v}"
    for part in ("user", "world"):
        for item in getattr(args, part, None) or []:
            command += f" --{part} {item}"
    from simcore.experiments.discount.report import write_report

    files = write_report(results, args.out, command=command)
    n_ok = sum(c["held"] for c in results["checks"])
    print(f"wrote {', '.join(files)} to {args.out} in {results['runtime_s']:.1f} s; {n_ok}/{len(results['checks'])} checks held")
    for c in results["checks"]:
        print(f"  [{'ok' if c['held'] else 'NO'}] {c['name']}: {c['detail']}")
    return 0
