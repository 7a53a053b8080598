"""Engine cost: learn which ranking features to compute for each request (引擎性能优化).

Protocol (docs/engine_cost.md):

1. Generate training and held-out requests (:mod:`simcore.domains.feature_cost.data`): 12
   ranking features with per-item costs; which expensive features matter depends on
   the user and the query by design.
2. Train the article's actor-critic and REINFORCE with a baseline on
   ``simcore/FeatureSelection-v0`` for every loss threshold C (reward: -cost fraction,
   -penalty when the pairwise loss exceeds C), and the actor-critic on the relaxed
   reward (-cost fraction - loss / lambda) for a few lambda.
3. Baselines on the held-out requests: all features; static subsets (greedy under a
   cost budget, fitted on the training requests, and the best static subset in
   hindsight); the exhaustive per-request optimum over all 2**12 subsets.
4. Measure on the held-out requests: cost saved, pairwise loss, threshold violations,
   and the exact expected GMV of sessions ranked with each policy's subsets in the
   SSMDP simulator (a panel of simulated users per request, common to all policies;
   ranking with a subset = ranking with weights w * mask, see the docs).
5. Write results.json, report.md and PNG plots (Pareto fronts over C and lambda).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from simcore.domains.feature_cost.agents import (
    ActorCriticAgent,
    FeatureSelectionAgentConfig,
    ReinforceAgent,
    greedy_masks,
    train,
)
from simcore.domains.search.config import SessionConfig, UserModelConfig, WorldConfig
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.feature_cost.env import FeatureSelectionConfig, FeatureSelectionVectorEnv
from simcore.report import markdown_table, mean_ci, new_figure, save_figure, write_json
from simcore.domains.feature_cost import baselines as B
from simcore.domains.feature_cost.data import FEATURE_NAMES, FeatureCostData, FeatureCostDataConfig, generate, make_simulator_world, simulator_users
from simcore.domains.feature_cost.kernels import feature_mean, subset_eval
from simcore.util.progress import Progress

AGENTS = {"actor-critic": ActorCriticAgent, "reinforce": ReinforceAgent}


@dataclass(frozen=True)
class EngineCostConfig:
    """The engine-cost reproduction (defaults: about 3 minutes on 2 busy cores).

    Attributes:
        n_train: training requests (the RL agents' pool; greedy static fits).
        n_test: held-out requests every policy is measured on.
        n_items: candidates per request.
        context_strength: 1 = the designed context effects; 0 = none (ablation).
        thresholds: loss thresholds C (fraction of discordant pairs) of the env reward.
        penalty: r_p, the penalty when the loss exceeds C (> 1: never worth it).
        lambdas: lambda of the relaxed objective loss + lambda * cost fraction, for the
            exhaustive and static fronts.
        learned_lambdas: lambda values the actor-critic is also trained for (reward
            -cost - loss / lambda, no threshold penalty).
        agents: learners trained for every threshold ("actor-critic", "reinforce").
        iterations: training iterations (each: num_envs episodes, one update).
        num_envs: requests decided per iteration.
        agent: hyper-parameters of both learners.
        budgets: cost budgets (fractions) of the greedy static subsets.
        top_k: None: the loss counts all pairs; k: pairs touching the full top-k.
        users_per_request: simulated users per held-out request for GMV.
        seed: master seed (data, agents, env, user panel).
        threads: kernel threads (None: all cores).
    """

    n_train: int = 2048
    n_test: int = 256
    n_items: int = 200
    context_strength: float = 1.0
    thresholds: tuple[float, ...] = (0.02, 0.05, 0.10)
    penalty: float = 1.5
    lambdas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
    learned_lambdas: tuple[float, ...] = (0.1, 0.2)
    agents: tuple[str, ...] = ("actor-critic", "reinforce")
    iterations: int = 400
    num_envs: int = 256
    agent: FeatureSelectionAgentConfig = field(default_factory=FeatureSelectionAgentConfig)
    budgets: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
    top_k: int | None = None
    users_per_request: int = 16
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "iterations", "num_envs", "users_per_request"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {v!r}")
        unknown = set(self.agents) - set(AGENTS)
        if unknown:
            raise ValueError(f"agents: unknown {sorted(unknown)}; choose from {sorted(AGENTS)}")
        if not self.thresholds:
            raise ValueError("thresholds: needs at least one loss threshold C")
        if any(not 0 <= c <= 1 for c in self.thresholds):
            raise ValueError("thresholds: must lie in [0, 1]")
        if any(not lam > 0 for lam in (*self.lambdas, *self.learned_lambdas)):
            raise ValueError("lambdas, learned_lambdas: must be > 0")
        if any(not 0 <= b <= 1 for b in self.budgets):
            raise ValueError("budgets: must lie in [0, 1]")


# ------------------------------------------------------------------- evaluation


@dataclass
class _Eval:
    """Per-request metrics of one policy on the held-out requests."""

    masks: np.ndarray  # bool (Q, n)
    loss: np.ndarray  # (Q,) fraction of pairs
    cost: np.ndarray  # (Q,) fraction of the full cost
    gmv: np.ndarray | None = None  # (Q,) exact expected GMV, mean over the panel


class _Evaluator:
    """Loss, cost and GMV of subsets on the held-out requests."""

    def __init__(self, cfg: EngineCostConfig, test: FeatureCostData, fill: np.ndarray) -> None:
        self.cfg, self.test, self.fill = cfg, test, fill
        Q, N, n = test.X.shape
        self.full_cost = float(test.cost.sum() * N)
        world = make_simulator_world(test)
        user = UserModelConfig()
        scfg = SessionConfig(
            world=WorldConfig(n_queries=Q, n_items=N, n_features=n, n_segments=4),
            user=user,
            num_threads=cfg.threads,
        )
        U = cfg.users_per_request
        self.panel = simulator_users(test, world, U, user, seed=cfg.seed + 7)
        self.sim = SearchSimulator(scfg, num_sessions=Q * U, seed=cfg.seed + 11, world=world)
        self.U = U

    def evaluate(self, masks: np.ndarray, gmv: bool = True) -> _Eval:
        t = self.test
        res = subset_eval(t.X, masks, t.cost, t.weights, fill=self.fill, top_k=self.cfg.top_k,
                          threads=self.cfg.threads)
        e = _Eval(masks=masks.copy(), loss=res.loss_fraction, cost=res.cost / self.full_cost)
        if gmv:
            e.gmv = self.expected_gmv(masks)
        return e

    def expected_gmv(self, masks: np.ndarray) -> np.ndarray:
        """float64 (Q,) exact expected GMV per request, averaged over its users: every
        session is ranked with weights w * mask (the subset ranking of a linear ranker
        with constant fill values) and run in expectation mode to the horizon."""
        q = self.panel["query"]
        W = (self.test.weights[None, :] * masks[q]).astype(np.float32)
        self.sim.reset_to(self.panel)
        alive = np.ones(q.size)
        total = np.zeros(q.size)
        for _ in range(self.sim.horizon):
            r = self.sim.step(W, sample=False)
            total += alive * r.b * r.m
            alive = alive * r.c
        return total.reshape(-1, self.U).mean(axis=1)


def _summary(e: _Eval, ref: _Eval | None, threshold: float | None, penalty: float) -> dict[str, Any]:
    saved = 1.0 - e.cost
    out: dict[str, Any] = {
        "cost_saved": mean_ci(saved),
        "loss": mean_ci(e.loss),
    }
    if threshold is not None:
        out["violations"] = float(np.mean(e.loss > threshold))
        out["reward"] = mean_ci(B.env_reward(e.loss, e.cost, threshold, penalty))
    if e.gmv is not None and ref is not None and ref.gmv is not None:
        base = float(ref.gmv.mean())
        d = e.gmv - ref.gmv
        m, h = mean_ci(d)
        out["gmv"] = float(e.gmv.mean())
        out["gmv_change"] = (m / base, h / base)
    return out


# --------------------------------------------------------------------- learning


def _train_agent(cfg: EngineCostConfig, name: str, train_data: FeatureCostData, fill: np.ndarray,
                 env_cfg: FeatureSelectionConfig, seed: int, bar: Progress) -> tuple[Any, list[dict[str, float]]]:
    env = FeatureSelectionVectorEnv(cfg.num_envs, env_cfg, data=train_data, fill=fill)
    env.reset(seed=seed)
    agent = AGENTS[name](env.core.obs_dim, dataclasses.replace(cfg.agent, seed=seed, heads=env.core.n))

    def cb(it: int, rec: dict[str, float]) -> None:
        bar.update(1, postfix=f"{name} return {rec['return']:.3f}")

    hist = train(env, agent, cfg.iterations, cb)
    return agent, hist


def _policy_masks(cfg: EngineCostConfig, agent: Any, test: FeatureCostData, fill: np.ndarray,
                  env_cfg: FeatureSelectionConfig) -> np.ndarray:
    env = FeatureSelectionVectorEnv(min(cfg.num_envs, len(test)), env_cfg, data=test, fill=fill)
    env.reset(seed=0)
    return greedy_masks(env, agent, np.arange(len(test)))


def _thin(hist: list[dict[str, float]], keys: Sequence[str], points: int = 60) -> dict[str, list[float]]:
    idx = np.unique(np.linspace(0, len(hist) - 1, min(points, len(hist))).astype(int))
    return {"iteration": [int(i) for i in idx], **{k: [float(hist[i][k]) for i in idx] for k in keys}}


# --------------------------------------------------------------------------- run


def run(config: EngineCostConfig, out: str | os.PathLike[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Runs the reproduction; writes results.json, report.md and plots to ``out`` if
    given.  Returns the results dict."""
    import torch

    cfg = config
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest and deterministic
    try:
        dcfg = dict(n_items=cfg.n_items, context_strength=cfg.context_strength)
        train_data = generate(FeatureCostDataConfig(n_contexts=cfg.n_train, seed=cfg.seed * 2 + 1, **dcfg))
        test = generate(FeatureCostDataConfig(n_contexts=cfg.n_test, seed=cfg.seed * 2 + 2, **dcfg))
        fill = feature_mean(train_data.X, threads=cfg.threads)  # the population mean, fixed
        n = test.n_features
        ev = _Evaluator(cfg, test, fill)

        runs = len(cfg.thresholds) * len(cfg.agents) + len(cfg.learned_lambdas)
        bar = Progress(cfg.n_test + runs * cfg.iterations, desc="engine-cost", unit="step",
                       enabled=None if progress else False)

        # Exhaustive per-request optimum over all subsets of the held-out requests.
        table = B.exhaustive_table(test.X, test.weights, test.cost, fill, top_k=cfg.top_k,
                                   threads=cfg.threads, progress=lambda k: bar.update(k, postfix="exhaustive"))
        full = ev.evaluate(np.ones((cfg.n_test, n), bool))
        policies: dict[str, dict[str, Any]] = {}

        def add(key: str, family: str, masks: np.ndarray, C: float | None = None, lam: float | None = None,
                **extra: Any) -> None:
            e = ev.evaluate(masks)
            s = _summary(e, full, C, cfg.penalty)
            if lam is not None:
                s["objective"] = mean_ci(e.loss + lam * e.cost)
            s["eval_frequency"] = masks.mean(axis=0).tolist()
            policies[key] = {"family": family, "threshold": C, "lambda": lam, **s, **extra,
                             "_eval": e}

        add("all features", "all", np.ones((cfg.n_test, n), bool))
        for C in cfg.thresholds:
            m, _, _ = table.pick(table.best_threshold(C, cfg.penalty))
            add(f"exhaustive C={C:g}", "exhaustive", m, C=C)
            s = table.best_static_threshold(C, cfg.penalty)
            add(f"static (hindsight) C={C:g}", "static-hindsight", np.tile(table.masks[s], (cfg.n_test, 1)), C=C)
        for lam in cfg.lambdas:
            m, _, _ = table.pick(table.best_lambda(lam))
            add(f"exhaustive lambda={lam:g}", "exhaustive", m, lam=lam)
            s = table.best_static_lambda(lam)
            add(f"static (hindsight) lambda={lam:g}", "static-hindsight", np.tile(table.masks[s], (cfg.n_test, 1)),
                lam=lam)

        # Greedy static subsets under cost budgets, fitted on (part of) the training requests.
        fit = np.ascontiguousarray(train_data.X[: min(512, cfg.n_train)])
        greedy = []
        for b in cfg.budgets:
            m = B.greedy_static_budget(fit, train_data.weights, train_data.cost, fill, b, top_k=cfg.top_k,
                                       threads=cfg.threads)
            greedy.append(m)
            add(f"static greedy budget={b:g}", "static-greedy", np.tile(m, (cfg.n_test, 1)), budget=b)
        # For each C, the greedy subset (or all features) with the best mean env reward on
        # the training requests.
        fit_q = fit.shape[0]
        for C in cfg.thresholds:
            best, best_r = None, -np.inf
            for m in [np.ones(n, bool), *greedy]:
                r = subset_eval(fit, np.tile(m, (fit_q, 1)), train_data.cost, train_data.weights, fill=fill,
                                top_k=cfg.top_k, threads=cfg.threads)
                cf = r.cost / float(train_data.cost.sum() * cfg.n_items)
                rew = float(B.env_reward(r.loss_fraction, cf, C, cfg.penalty).mean())
                if rew > best_r:
                    best, best_r = m, rew
            add(f"static greedy C={C:g}", "static-greedy", np.tile(best, (cfg.n_test, 1)), C=C)

        # Learned policies.
        histories: dict[str, Any] = {}
        seed = cfg.seed * 1000
        for C in cfg.thresholds:
            env_cfg = FeatureSelectionConfig(loss_threshold=C, penalty=cfg.penalty, top_k=cfg.top_k,
                                             num_threads=cfg.threads)
            for name in cfg.agents:
                seed += 1
                agent, hist = _train_agent(cfg, name, train_data, fill, env_cfg, seed, bar)
                key = f"{name} C={C:g}"
                add(key, name, _policy_masks(cfg, agent, test, fill, env_cfg), C=C)
                histories[key] = _thin(hist, ("return", "loss", "cost", "penalized"))
        for lam in cfg.learned_lambdas:
            env_cfg = FeatureSelectionConfig(loss_threshold=1.0, penalty=0.0, loss_weight=1.0 / lam,
                                             top_k=cfg.top_k, num_threads=cfg.threads)
            seed += 1
            agent, hist = _train_agent(cfg, "actor-critic", train_data, fill, env_cfg, seed, bar)
            key = f"actor-critic lambda={lam:g}"
            add(key, "actor-critic", _policy_masks(cfg, agent, test, fill, env_cfg), lam=lam)
            histories[key] = _thin(hist, ("return", "loss", "cost", "penalized"))
        bar.close()

        evals = {k: v.pop("_eval") for k, v in policies.items()}
        meta = {
            "wall_seconds": time.perf_counter() - t0,
            "load_average_start": load0,
            "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "cpu_count": os.cpu_count(),
            "full_gmv": float(full.gmv.mean()),
            "feature_names": list(FEATURE_NAMES),
            "feature_costs": test.cost.tolist(),
        }
        results = {
            "config": _config_dict(cfg),
            "meta": meta,
            "policies": policies,
            "histories": histories,
            "context": _context_summary(test, evals, cfg),
        }
        if out is not None:
            write_outputs(results, evals, test, Path(out))
        return results
    finally:
        torch.set_num_threads(threads_before)


def _context_summary(test: FeatureCostData, evals: dict[str, _Eval], cfg: EngineCostConfig) -> dict[str, Any]:
    """Cost saved by request group: high power on long-tail queries vs the rest."""
    rich = (test.power > 0.6) & (test.tail > 0.6)
    out: dict[str, Any] = {"rich_tail_share": float(rich.mean())}
    for key, e in evals.items():
        if key.startswith(("exhaustive C", "actor-critic C", "reinforce C", "static greedy C", "all")):
            out[key] = {
                "cost_saved_rich_tail": float(1 - e.cost[rich].mean()) if rich.any() else float("nan"),
                "cost_saved_other": float(1 - e.cost[~rich].mean()) if (~rich).any() else float("nan"),
            }
    return out


def _config_dict(cfg: EngineCostConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    return d


# ------------------------------------------------------------------------ outputs

_STYLE = {
    "exhaustive": ("black", "o"),
    "static-hindsight": ("tab:gray", "s"),
    "static-greedy": ("tab:brown", "D"),
    "actor-critic": ("tab:blue", "^"),
    "reinforce": ("tab:orange", "v"),
    "all": ("tab:green", "*"),
}


def plot_pareto(results: dict[str, Any], out: Path) -> list[str]:
    """Cost saved against pairwise loss, and against GMV change (axes zoomed on the
    policies at the thresholds; far sweep points are left off-scale)."""
    P = results["policies"]
    xmax = 10 + max(100 * v["cost_saved"][0] for v in P.values() if v["threshold"] is not None)
    offsets = {"actor-critic": (6, 6), "reinforce": (6, -11), "exhaustive": (7, -3)}
    files = []
    for metric, ylabel, fname in (
        ("loss", "pairwise loss vs full ranking (% of pairs)", "pareto_loss.png"),
        ("gmv_change", "expected GMV change vs all features (%)", "pareto_gmv.png"),
    ):
        fig, axes = new_figure(1, 1, width=7.5, height=5.0)
        ax = axes[0, 0]
        shown = []
        for family, label in (("exhaustive", "exhaustive per request (oracle), lambda sweep"),
                              ("static-hindsight", "best static subset (hindsight), lambda sweep"),
                              ("static-greedy", "greedy static subsets (cost budgets)")):
            pts = sorted((100 * v["cost_saved"][0], 100 * v[metric][0]) for v in P.values()
                         if v["family"] == family and (v["lambda"] is not None or "budget" in v))
            if pts:
                c, mk = _STYLE[family]
                ax.plot(*zip(*pts), color=c, marker=mk, ms=5, lw=1.2, alpha=0.8, label=label)
                shown += [y for x, y in pts if x <= xmax]
        for key, v in P.items():
            fam = v["family"]
            if fam in ("actor-critic", "reinforce") or (fam == "exhaustive" and v["threshold"] is not None):
                c, mk = _STYLE[fam]
                x, y = 100 * v["cost_saved"][0], 100 * v[metric][0]
                err = 100 * v[metric][1] if metric == "gmv_change" else float("nan")
                face = "none" if fam == "exhaustive" else c
                ax.errorbar([x], [y], yerr=None if err != err else [err], fmt=mk, color=c, mfc=face, ms=9,
                            capsize=3)
                shown.append(y)
                tag = f"C={v['threshold']:g}" if v["threshold"] is not None else f"λ={v['lambda']:g}"
                ax.annotate(tag, (x, y), textcoords="offset points", xytext=offsets[fam], fontsize=7, color=c)
        for fam, lab in (("actor-critic", "actor-critic (learned)"), ("reinforce", "REINFORCE (learned)")):
            c, mk = _STYLE[fam]
            ax.plot([], [], mk, color=c, label=lab)
        ax.plot([], [], "o", color="black", mfc="none", label="exhaustive at threshold C")
        ax.plot([0], [0], "*", color="tab:green", ms=12, label="all features")
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        lo, hi = min(shown + [0.0]), max(shown + [0.0])
        pad = 0.08 * (hi - lo + 1e-9)
        ax.set_xlim(-2, xmax)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("engine cost saved (% of all-feature cost)")
        ax.set_ylabel(ylabel)
        ax.set_title("Engine cost vs ranking fidelity (held-out requests)" if metric == "loss"
                     else "Engine cost vs expected GMV (SSMDP simulator)", fontsize=10)
        ax.legend(fontsize=7, loc="upper left" if metric == "loss" else "lower left")
        ax.grid(alpha=0.3)
        save_figure(fig, out / fname)
        files.append(fname)
    return files


def plot_learning(results: dict[str, Any], out: Path) -> str:
    """Training return (threshold runs) and cost saved (all runs) per iteration."""
    H = results["histories"]
    P = results["policies"]
    fig, axes = new_figure(2, 1, width=6.0, height=4.2)
    ax, ax2 = axes[0, 0], axes[0, 1]
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    drawn_ref: set[float] = set()
    for i, (key, h) in enumerate(H.items()):
        color = palette[i % len(palette)]
        ls = "-" if key.startswith("actor") else "--"
        C = P[key]["threshold"]
        if C is not None:
            ax.plot(h["iteration"], h["return"], color=color, lw=1.2, ls=ls, label=key)
            ex = P.get(f"exhaustive C={C:g}")
            if ex is not None and "reward" in ex and C not in drawn_ref:
                drawn_ref.add(C)
                ax.axhline(ex["reward"][0], color="0.5", lw=0.8, ls=":")
                ax.annotate(f"optimum C={C:g}", (h["iteration"][0], ex["reward"][0]), fontsize=7, color="0.4",
                            textcoords="offset points", xytext=(2, 2))
        ax2.plot(h["iteration"], [100 * (1 - c) for c in h["cost"]], color=color, lw=1.2, ls=ls, label=key)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean episode return (training, exploring)")
    ax.set_title("Training return, threshold reward (dotted: exhaustive optimum, held-out)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("cost saved (%, training episodes)")
    ax2.set_title("Cost saved while training (all runs)", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    ax2.grid(alpha=0.3)
    save_figure(fig, out / "learning.png")
    return "learning.png"


def plot_context(results: dict[str, Any], evals: dict[str, _Eval], test: FeatureCostData, out: Path) -> str:
    """Which features each policy evaluates, and cost saved against the request context."""
    P = results["policies"]
    C = results["config"]["thresholds"][len(results["config"]["thresholds"]) // 2]
    keys = [k for k in (f"exhaustive C={C:g}", f"actor-critic C={C:g}", f"reinforce C={C:g}", f"static greedy C={C:g}")
            if k in P]
    fig, axes = new_figure(2, 1, width=6.5, height=4.4)
    ax, ax2 = axes[0, 0], axes[0, 1]
    n = len(FEATURE_NAMES)
    width = 0.8 / max(1, len(keys))
    for i, k in enumerate(keys):
        c, _ = _STYLE[P[k]["family"]]
        ax.bar(np.arange(n) + (i - (len(keys) - 1) / 2) * width, 100 * np.asarray(P[k]["eval_frequency"]),
               width=width, color=c, label=k, alpha=0.85)
    ax.set_xticks(np.arange(n))
    costs = results["meta"]["feature_costs"]
    ax.set_xticklabels([f"{nm}\n(c={c:g})" for nm, c in zip(FEATURE_NAMES, costs)], rotation=60, fontsize=7)
    ax.set_ylabel("requests where the feature is evaluated (%)")
    ax.set_title(f"Evaluated features, threshold C={C:g}", fontsize=9, pad=28)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    score = test.power + test.tail
    bins = np.linspace(score.min(), score.max() + 1e-9, 7)
    mid = 0.5 * (bins[1:] + bins[:-1])
    for k in keys:
        e = evals[k]
        c, mk = _STYLE[P[k]["family"]]
        saved = [100 * (1 - e.cost[(score >= a) & (score < b)].mean()) if ((score >= a) & (score < b)).any() else np.nan
                 for a, b in zip(bins[:-1], bins[1:])]
        ax2.plot(mid, saved, marker=mk, color=c, label=k)
    ax2.set_xlabel("purchasing power + query long-tail degree")
    ax2.set_ylabel("cost saved (%)")
    ax2.set_title("Cost saved by request context (held-out requests)", fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    save_figure(fig, out / "context.png")
    return "context.png"


def _pm(x: Sequence[float], scale: float = 100.0, d: int = 1) -> str:
    m, h = x
    if h != h:
        return f"{scale * m:.{d}f}"
    return f"{scale * m:.{d}f} ± {scale * h:.{d}f}"


def write_outputs(results: dict[str, Any], evals: dict[str, _Eval], test: FeatureCostData, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_pareto(results, out) + [plot_learning(results, out), plot_context(results, evals, test, out)]
    results["plots"] = plots
    write_json(out / "results.json", results)
    (out / "report.md").write_text(_report(results, plots))


def _report(results: dict[str, Any], plots: list[str]) -> str:
    cfg, meta, P = results["config"], results["meta"], results["policies"]
    rows = []
    for C in cfg["thresholds"]:
        for fam in ("exhaustive", "actor-critic", "reinforce", "static-greedy", "static-hindsight"):
            for k, v in P.items():
                if v["family"] == fam and v["threshold"] == C:
                    rows.append([k, _pm(v["cost_saved"]), _pm(v["loss"], d=2), f"{100 * v['violations']:.1f}",
                                 _pm(v["reward"], 1.0, 3), _pm(v["gmv_change"], d=2)])
    rows.insert(0, ["all features", "0.0", "0.00", "0.0", "-1.000", "0.00"])
    table = markdown_table(
        ["policy", "cost saved %", "pairwise loss %", "requests over C %", "env return", "GMV change %"], rows)
    lam_rows = []
    for fam in ("exhaustive", "actor-critic", "static-hindsight"):
        for k, v in P.items():
            if v["family"] == fam and v["lambda"] is not None:
                lam_rows.append([k, _pm(v["cost_saved"]), _pm(v["loss"], d=2), _pm(v["objective"], 1.0, 4),
                                 _pm(v["gmv_change"], d=2)])
    lam_table = markdown_table(["policy", "cost saved %", "pairwise loss %", "loss + lambda cost", "GMV change %"],
                               lam_rows)
    greedy_rows = [[k, _pm(v["cost_saved"]), _pm(v["loss"], d=2), _pm(v["gmv_change"], d=2),
                    ", ".join(n for n, f in zip(FEATURE_NAMES, v["eval_frequency"]) if f < 0.5) or "-"]
                   for k, v in P.items() if v["family"] == "static-greedy" and "budget" in v]
    greedy_table = markdown_table(["static subset", "cost saved %", "pairwise loss %", "GMV change %", "skipped"],
                                  greedy_rows)
    ctx = results["context"]
    ctx_rows = [[k, f"{100 * v['cost_saved_rich_tail']:.1f}", f"{100 * v['cost_saved_other']:.1f}"]
                for k, v in ctx.items() if isinstance(v, dict)]
    ctx_table = markdown_table(["policy", "cost saved %, power > 0.6 and tail > 0.6", "cost saved %, other requests"],
                               ctx_rows)
    mid = cfg["thresholds"][len(cfg["thresholds"]) // 2]
    lines = [
        "# Engine cost: which ranking features to compute per request",
        "",
        "Reproduction of the seed article's engine-performance section (引擎性能优化): per search "
        "request, decide for each of 12 ranking features whether the engine computes it (Eval) or "
        "replaces it by its population mean (Skip), keeping the ranking close to the full-feature "
        "ranking while the cost of the computed features falls.  Protocol and definitions: "
        "`docs/engine_cost.md`.",
        "",
        f"Setting: {cfg['n_train']} training and {cfg['n_test']} held-out requests of {cfg['n_items']} "
        f"candidates; linear production ranker; pairwise loss = share of candidate pairs the subset "
        f"ranking orders differently from the full ranking ({'all pairs' if cfg['top_k'] is None else 'pairs touching the top-' + str(cfg['top_k'])}); "
        f"env return = -cost fraction - {cfg['penalty']:g} x [loss > C]; learners trained "
        f"{cfg['iterations']} iterations x {cfg['num_envs']} requests; GMV = exact expected GMV of "
        f"{cfg['users_per_request']} simulated users per held-out request (SSMDP simulator, expectation "
        f"mode; all-features GMV {meta['full_gmv']:.2f} per session).  "
        f"± = 95% CI over the {cfg['n_test']} held-out requests (one training seed per learner: "
        f"the CIs do not include seed-to-seed variation).  Wall time {meta['wall_seconds']:.0f} s, "
        f"load average {meta['load_average_start']:.1f} -> {meta['load_average_end']:.1f} on "
        f"{meta['cpu_count']} cores.",
        "",
        "## Threshold objective (the article's reward)",
        "",
        table,
        "",
        "## Relaxed objective min loss + lambda x cost (the article's eq. 2)",
        "",
        lam_table,
        "",
        "## Greedy static subsets under a cost budget (fitted on training requests)",
        "",
        greedy_table,
        "",
        "## Context",
        "",
        f"{100 * ctx['rich_tail_share']:.0f}% of held-out requests come from users with purchasing power > 0.6 "
        "on queries with long-tail degree > 0.6 (the article's example of requests needing fewer "
        "expensive features).",
        "",
        ctx_table,
        "",
        "## Plots",
        "",
    ]
    captions = {
        "pareto_loss.png": "Pareto fronts: cost saved against pairwise loss (lines: lambda sweeps of the exhaustive "
                           "optimum and best static subset, greedy budget path; markers: policies at threshold C).",
        "pareto_gmv.png": "Cost saved against the change in expected GMV (error bars: 95% CI over requests).",
        "learning.png": "Training curves of the learners.",
        "context.png": f"Which features the policies evaluate (C={mid:g}) and how much they save by request context.",
    }
    for p in plots:
        lines += [f"![{p}]({p})", "", captions.get(p, ""), ""]
    lines += ["## What we get", ""] + _verdicts(results) + [""]
    return "\n".join(lines)


def _verdicts(results: dict[str, Any]) -> list[str]:
    P = results["policies"]
    out = []
    for C in results["config"]["thresholds"]:
        ex = P.get(f"exhaustive C={C:g}")
        st = P.get(f"static greedy C={C:g}")
        parts = []
        for name in results["config"]["agents"]:
            v = P.get(f"{name} C={C:g}")
            if v is None:
                continue
            parts.append(f"{name} saves {_pm(v['cost_saved'])}% of the engine cost "
                         f"(GMV {_pm(v['gmv_change'], d=2)}%, {100 * v['violations']:.0f}% of requests over C)")
        line = f"* C = {C:g}: " + "; ".join(parts)
        if ex is not None:
            line += f"; the per-request optimum saves {_pm(ex['cost_saved'])}% (GMV {_pm(ex['gmv_change'], d=2)}%)"
        if st is not None:
            line += f"; the greedy static subset saves {_pm(st['cost_saved'])}% (GMV {_pm(st['gmv_change'], d=2)}%)."
        out.append(line)
    out.append("* The article reports about 30% of engine time saved at flat business metrics; compare the rows "
               "above whose GMV change CI includes 0 or stays within a fraction of a percent.  Our costs and "
               "data are synthetic (docs/engine_cost.md), so the size of the saving reflects the designed "
               "context effects, not Taobao's features.")
    return out


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/engine-cost", help="output directory (default: %(default)s)")
    parser.add_argument("--iterations", type=int, help="training iterations per learner")
    parser.add_argument("--num-envs", type=int, help="requests per training iteration")
    parser.add_argument("--n-train", type=int, help="training requests")
    parser.add_argument("--n-test", type=int, help="held-out requests")
    parser.add_argument("--n-items", type=int, help="candidates per request")
    parser.add_argument("--thresholds", help="comma-separated loss thresholds C")
    parser.add_argument("--learned-lambdas", help="comma-separated lambdas for the actor-critic ('' for none)")
    parser.add_argument("--agents", help=f"comma-separated subset of {','.join(AGENTS)}")
    parser.add_argument("--top-k", type=int, help="count only pairs touching the full top-k")
    parser.add_argument("--context-strength", type=float, help="0: no context effects (ablation), 1: default")
    parser.add_argument("--seed", type=int, help="master seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> EngineCostConfig:
    kw: dict[str, Any] = {}
    for name in ("iterations", "num_envs", "n_train", "n_test", "n_items", "top_k", "context_strength", "seed"):
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    if args.thresholds:
        kw["thresholds"] = tuple(float(x) for x in args.thresholds.split(",") if x.strip())
    if args.learned_lambdas is not None:
        kw["learned_lambdas"] = tuple(float(x) for x in args.learned_lambdas.split(",") if x.strip())
    if args.agents:
        kw["agents"] = tuple(a.strip() for a in args.agents.split(",") if a.strip())
    return EngineCostConfig(**kw)


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    data = run(cfg, args.out, progress=not args.no_progress)
    print(f"wrote {Path(args.out) / 'report.md'} ({data['meta']['wall_seconds']:.0f} s)")
    return 0
