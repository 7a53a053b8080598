"""Markdown sections and PNG plots of the simulator studies (``simcore reproduce bandits``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.report import markdown_table, new_figure, save_figure
from simcore.report.stats import t_ci

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr")
BOUNDS = ("thomas", "thomas-20%", "bootstrap", "t-test")


def _pm(x: list[float] | np.ndarray, scale: float = 1.0, digits: int = 3) -> str:
    m, h = t_ci(np.asarray(x, dtype=float) * scale)
    return f"{m:.{digits}f} +- {h:.{digits}f}"


def ope_section(res: dict[str, Any]) -> list[str]:
    rows = [[f"{r['t']:g}", f"{r['value']:.4f}", f"{r['max_weight']:.1f}"] +
            [f"{r[e]['bias']:+.4f} / {r[e]['sd']:.4f} / {100 * r[e]['coverage']:.0f} %" for e in ESTIMATORS]
            for r in res["shifts"].values()]
    return ["## (a) Estimators against the exact value", "",
            f"Synthetic Bernoulli contextual bandit (100 contexts, 5 arms, d = 5), logging policy "
            f"softmax(-mu/0.1) with 5 % uniform (it favours the arms the optimum avoids; V = {res['v_logging']:.4f}, "
            f"optimum {res['v_optimal']:.4f}); "
            f"target (1 - t) pi_b + t pi_opt; {res['reps']} repetitions of {res['n_rounds']} rounds; reward model "
            f"a cross-fitted per-arm ridge (misspecified); switch-DR tau = {res['tau']:g}.  "
            "Cells: bias / sd / coverage of the normal 95 % CI.", "",
            markdown_table(["t", "exact V", "max weight", *[e.upper() for e in ESTIMATORS]], rows), "",
            "![bias and coverage](ope_bias_coverage.png)", ""]


def seq_section(res: dict[str, Any]) -> list[str]:
    names = ("is", "pdis", "wpdis", "dr")

    def cell(r: dict[str, Any], e: str) -> str:
        cov = "" if r[e]["coverage"] is None else f" / {100 * r[e]['coverage']:.0f} %"
        return f"{r[e]['bias']:+.3f} / {r[e]['sd']:.3f}{cov}"

    rows = [[f"{r['t']:g}", f"{r['value']:.3f}", f"{r['max_weight']:.0f}"] + [cell(r, e) for e in names]
            for r in res["shifts"].values()]
    return ["## (a') Sequential estimators against the exact value", "",
            f"EpisodicMDP (5 states, 3 actions, horizon 5, gamma 1), logging: Dirichlet rows mixed 50 % with "
            f"uniform (V = {res['v_logging']:.3f}; optimum {res['v_optimal']:.3f}); target (1 - t) pi_b + t pi_opt; "
            f"{res['reps']} repetitions of {res['n_episodes']} episodes; DR's model: the tabular MDP fitted on the "
            "other fold.  Cells: bias / sd / coverage of the normal 95 % CI (none for WPDIS).", "",
            markdown_table(["t", "exact V", "max trajectory weight", "IS", "PDIS", "WPDIS", "DR"], rows), ""]


def hcope_section(res: dict[str, Any]) -> list[str]:
    rows = [[f"{r['t']:g}", f"{r['value']:.4f}"] +
            [f"{100 * r[b]['coverage']:.1f} % / {r[b]['looseness']:.4f}" for b in BOUNDS]
            for r in res["shifts"].values()]
    return ["## (b) High-confidence lower bounds", "",
            f"Level {100 * (1 - res['delta']):.0f} %, {res['reps']} repetitions of {res['n_rounds']} rounds per "
            "shift.  Cells: coverage (share of repetitions with bound <= V) / mean V - bound.", "",
            markdown_table(["t", "exact V", "Thomas et al. (5 % split)", "Thomas et al. (20 % split)", "bootstrap",
                            "Student t"], rows), "",
            "![bound coverage](hcope_coverage.png)", ""]


def regret_section(res: dict[str, Any]) -> list[str]:
    rows = []
    for world, curves in res["worlds"].items():
        for name, c in curves.items():
            fin = [x[-1] for x in c]
            rows.append([world, name, _pm(fin, digits=1), _pm(fin, 1.0 / (res["steps"] * res["batch"]), 4)])
    return ["## (c) Regret against the per-context optimum", "",
            f"{res['n_seeds']} seeds (each its own world), {res['steps']} batches of {res['batch']} rows "
            "(contexts from a pool of 200; one act/update per batch, as on a vector env).", "",
            markdown_table(["world", "agent", "cumulative regret (95 % CI)", "per round"], rows), "",
            "![regret curves](regret_curves.png)", ""]


def allocation_section(res: dict[str, Any]) -> list[str]:
    rows = []
    for b, rs in res["budgets"].items():
        gap = lambda key: [(r["ilp"] - r[key]) / r["ilp"] for r in rs]  # noqa: E731
        lp = [(r["lp"] - r["ilp"]) / r["ilp"] for r in rs]
        pace = {k: [r["pacing"][k] / r["dual"] for r in rs] for k in rs[0]["pacing"]}
        rows.append([b, _pm(gap("dual"), 100, 3), _pm(gap("greedy"), 100, 4), _pm(lp, 100, 4)] +
                    [_pm(v, 100, 1) for v in pace.values()])
    keys = list(next(iter(res["budgets"].values()))[0]["pacing"])
    return ["## (d) Budgeted allocation against the exact optimum", "",
            f"{res['n_users']} users x 3 incentives (values: incremental conversions, costs: expected coupon "
            "spend); gaps in % of the ILP optimum (scipy milp, HiGHS, relative gap 1e-9); pacing over "
            f"{res['periods']} periods in % of the hindsight dual's value, for price0 = (factor x the hindsight "
            "price) / eta.", "",
            markdown_table(["budget", "dual gap %", "greedy gap %", "LP - ILP %",
                            *[f"pacing {k}" for k in keys]], rows),
            "", "![allocation gaps](allocation_gap.png)", ""]


def uplift_section(res: dict[str, Any]) -> list[str]:
    rs = res["seeds"]
    rows = [[n, _pm([r[n]["true_qini_share"] for r in rs], digits=2), _pm([r[n]["observed_qini"] for r in rs], 1, 4),
             _pm([r[n]["policy_gain"] for r in rs], digits=1)] for n in ("t-learner", "x-learner", "dr-learner")]
    rows += [["oracle (true uplift)", "1", "", _pm([r["oracle_policy"] for r in rs], digits=1)],
             ["random targeting", "", "", _pm([r["random_policy"] for r in rs], digits=1)]]
    return ["## (e) Uplift learners against the true uplift", "",
            f"{res['n_users']} users, a 50/50 experiment of the cheapest incentive; learners (logistic/ridge "
            "bases) fitted on half, scored on the other half; the budgeted policy treats by predicted uplift "
            f"per cost with {100 * res['budget_share']:.0f} % of the cost of treating everyone.", "",
            markdown_table(["learner", "true-gain Qini (share of oracle)", "observed Qini coefficient",
                            "policy: true incremental conversions"], rows), "",
            "![uplift](uplift_qini.png)", ""]


def lifecycle_section(res: dict[str, Any]) -> list[str]:
    rows = []
    for b, rs in res["alloc"].items():
        rows.append([b, _pm([(r["ilp"] - r["dual"]) / r["ilp"] for r in rs], 100, 3),
                     _pm([(r["ilp"] - r["greedy"]) / r["ilp"] for r in rs], 100, 4),
                     _pm([(r["lp"] - r["ilp"]) / r["ilp"] for r in rs], 100, 4),
                     _pm([r["ilp"] / r["unconstrained"] for r in rs], 100, 1)])
    up = [[n, _pm([r[n]["true_qini_share"] for r in res["uplift"]], digits=2),
           _pm([r[n]["corr"] for r in res["uplift"]], digits=2)] for n in ("t-learner", "x-learner", "dr-learner")]
    return ["## (f) Allocation and uplift on the lifecycle simulator", "",
            f"simcore.domains.lifecycle (helper lsim's customer-lifecycle simulator, its default population), "
            f"day 0, exact one-day expectations.  Allocation: {res['n_alloc']} customers x "
            f"{len(res['actions']) - 1} actions, value = incremental expected reward, cost = expected cost.", "",
            markdown_table(["budget", "dual gap %", "greedy gap %", "LP - ILP %", "ILP / unconstrained %"], rows), "",
            f"Uplift of {res['actions'][res['treatment']]} vs nothing ({res['n_uplift']} customers, 50/50):", "",
            markdown_table(["learner", "true-gain Qini (share of oracle)", "corr(predicted, true uplift)"], up), ""]


SECTIONS = {"ope": ope_section, "ope_seq": seq_section, "hcope": hcope_section, "regret": regret_section,
            "allocation": allocation_section, "uplift": uplift_section, "lifecycle": lifecycle_section}


def sections(sim: dict[str, Any]) -> list[str]:
    """The report's simulator sections, in part order."""
    return [line for part, fn in SECTIONS.items() if part in sim for line in fn(sim[part])]


def plots(sim: dict[str, Any], out: Path) -> list[str]:
    """Writes one PNG per study present; returns their names."""
    names = []
    if "ope" in sim:
        rows = list(sim["ope"]["shifts"].values())
        fig, ax = new_figure(2, 1, width=5.5, height=4.0)
        ax = np.ravel(ax)
        t = [r["t"] for r in rows]
        for e in ESTIMATORS:
            ax[0].errorbar(t, [r[e]["bias"] for r in rows], yerr=[(r[e]["bias_ci"][1] - r[e]["bias_ci"][0]) / 2
                                                                    for r in rows], marker="o", capsize=3, label=e)
            ax[1].plot(t, [100 * r[e]["coverage"] for r in rows], marker="o", label=e)
        ax[0].axhline(0, color="black", lw=0.8)
        ax[0].set(xlabel="shift t (0 = logging policy, 1 = optimum)", ylabel="bias (95 % CI)", title="bias")
        ax[1].axhline(95, color="black", lw=0.8, ls="--")
        ax[1].set(xlabel="shift t", ylabel="coverage of the normal 95 % CI (%)", title="CI coverage")
        for a in ax:
            a.legend(fontsize=7)
            a.grid(alpha=0.3)
        save_figure(fig, out / "ope_bias_coverage.png")
        names.append("ope_bias_coverage.png")
    if "hcope" in sim:
        rows = list(sim["hcope"]["shifts"].values())
        fig, ax = new_figure(1, 1, width=6, height=4)
        ax = np.ravel(ax)[0]
        tt = np.array([r["t"] for r in rows])
        for j, b in enumerate(BOUNDS):
            cov = np.array([100 * r[b]["coverage"] for r in rows])
            ci = np.array([[100 * x for x in r[b]["coverage_ci"]] for r in rows])
            ax.errorbar(tt + 0.01 * (j - 1.5), cov, yerr=[cov - ci[:, 0], ci[:, 1] - cov], marker="o", capsize=3,
                        label=b)
        ax.axhline(100 * (1 - sim["hcope"]["delta"]), color="black", ls="--", lw=0.8, label="stated level")
        ax.set(xlabel="shift t", ylabel="coverage (%) (Wilson 95 % CI)", title="lower bounds <= exact value")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        save_figure(fig, out / "hcope_coverage.png")
        names.append("hcope_coverage.png")
    names += _learn_plots(sim, out)
    return names


def _learn_plots(sim: dict[str, Any], out: Path) -> list[str]:
    from scipy import stats as st

    names = []
    if "regret" in sim:
        worlds = sim["regret"]["worlds"]
        fig, ax = new_figure(len(worlds), 1, width=5.5, height=4.2)
        ax = np.ravel(ax)
        for a, (world, curves) in zip(ax, worlds.items()):
            for name, c in curves.items():
                arr = np.array(c)
                m = arr.mean(axis=0)
                h = float(st.t.ppf(0.975, arr.shape[0] - 1)) * arr.std(axis=0, ddof=1) / np.sqrt(arr.shape[0])
                x = np.arange(1, m.size + 1) * sim["regret"]["batch"]
                a.plot(x, m, label=name)
                a.fill_between(x, m - h, m + h, alpha=0.2)
            a.set(xlabel="rounds", ylabel="cumulative regret", title=f"{world} world", yscale="log")
            a.legend(fontsize=7)
            a.grid(alpha=0.3)
        save_figure(fig, out / "regret_curves.png")
        names.append("regret_curves.png")
    if "allocation" in sim:
        res = sim["allocation"]
        fig, ax = new_figure(1, 1, width=6, height=4)
        ax = np.ravel(ax)[0]
        for key in ("dual", "greedy"):
            b = [float(k) for k in res["budgets"]]
            g = [np.mean([100 * (r["ilp"] - r[key]) / r["ilp"] for r in rs]) for rs in res["budgets"].values()]
            ax.plot(b, g, marker="o", label=key)
        ax.set(xlabel="budget (share of the cheapest incentive's total spend)", ylabel="gap to the ILP optimum (%)",
               title="allocation gap (mean over populations)")
        ax.legend()
        ax.grid(alpha=0.3)
        save_figure(fig, out / "allocation_gap.png")
        names.append("allocation_gap.png")
    if "uplift" in sim:
        rs = sim["uplift"]["seeds"]
        fig, ax = new_figure(1, 1, width=6, height=4)
        ax = np.ravel(ax)[0]
        learners = ("t-learner", "x-learner", "dr-learner")
        vals = [[r[n]["true_qini_share"] for r in rs] for n in learners]
        ax.boxplot(vals)
        ax.set_xticks(range(1, 4), learners)
        ax.axhline(1, color="black", ls="--", lw=0.8, label="oracle")
        ax.axhline(0, color="grey", lw=0.8, label="random")
        ax.set(ylabel="true-gain Qini / oracle's", title="uplift ranking quality over seeds")
        ax.legend()
        save_figure(fig, out / "uplift_qini.png")
        names.append("uplift_qini.png")
    return names
