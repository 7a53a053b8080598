"""The lifecycle report: report.md (claims table first), results.json and the PNGs, all
from the results dict of :func:`~simcore.experiments.lifecycle.run.run`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.lifecycle.claims import claims
from simcore.experiments.lifecycle.plots import plot_all
from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import claims_json
from simcore.report.stats import t_ci

__all__ = ["write_report", "render", "summary"]


def _pm(c: dict[str, float], digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
    return plus_minus(c["mean"], c["half"], digits=digits, scale=scale, suffix=suffix)


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes the plots, results.json (results + plots, claims, command) and report.md
    into ``out_dir``; returns the file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_all(results, out)
    data = {**results, "plots": plots, "claims": claims_json(claims(results)), "command": command}
    write_json(out / "results.json", data)
    (out / "report.md").write_text(render(data, plots, command))
    return [*plots, "results.json", "report.md"]


def _bpi_table(R: dict[str, Any]) -> str:
    rows = []
    refs = list(next(iter(R["bpi"].values()))["lifts"]) if R["bpi"] else []
    for name, b in R["bpi"].items():
        sl = b["slides"]
        lifts = [_pm(b["lifts"][k], 1, 100.0, " %") for k in refs]
        rows.append([name, *lifts, _pm(b["hit_conv_cost"], 2), _pm(b["all_conv_cost"], 2),
                     _pm(b["conv_rate"], 4), f"{b['hits']['mean']:.0f}",
                     "–" if sl is None else f"{100 * sl[0]:.2f} %", "–" if sl is None else f"{sl[1]:.2f}",
                     "–" if sl is None else f"{sl[2]:.2f}"])
    return markdown_table(["method", *(f"convRate lift vs {k}" for k in refs), "avgHitConvCost ($)",
                           "avgAllConvCost ($)",
                           "convRate (replay)", "hits / seed", "slides: lift", "slides: avgHit", "slides: avgAll"],
                          rows)


def _online_table(R: dict[str, Any]) -> str:
    rows = []
    for name, o in R["online"].items():
        rows.append([name, _pm(o["ltv"]), _pm(o["value"]), _pm(o["spend"]), _pm(o["spend_ratio"], 3),
                     _pm(o["conv_rate"], 4), _pm(o["conversions"], 4), _pm(o["ctr"], 4), _pm(o["touches"], 2),
                     _pm(o["blocked"], 2)])
    return markdown_table(["method", "LTV $/customer", "value $", "spend $", "spend / budget",
                           "convRate (online)", "conversions", "CTR", "touches", "blocked requests"], rows)


def _learners_table(R: dict[str, Any]) -> str:
    rows = []
    for key, c in R["curves"].items():
        tr = c["train_ltv"]
        w = max(1, min(5, len(tr) // 2))
        rows.append([key, f"{c['samples_per_iteration'] * len(c['iterations']):,.0f}", _pm(c["train_seconds"], 1),
                     f"{sum(tr[:w]) / w:.3f}", f"{sum(tr[-w:]) / w:.3f}", _pm(c["final_price"], 3)])
    return markdown_table(["learner", "customer-days", "train wall s (mean ± CI)", "training LTV, first iterations",
                           "training LTV, last iterations", "final budget price"], rows)


def _fit_rows(R: dict[str, Any]) -> list[list[str]]:
    """One row per classifier tower: held-out fit and action diversity (means ± CI over seeds)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for key, r in R["runs"].items():
        if key.startswith("mtl/") and "fit" in r:
            by.setdefault(r["label"], []).append(r["fit"])
    rows = []
    for label, fits in by.items():
        for k, task in enumerate(("sign", "click")):
            if task not in fits[0]:
                continue
            def ci(f: Any) -> dict[str, float]:
                m, h = t_ci(np.asarray([f(x) for x in fits], dtype=np.float64))
                return {"mean": m, "half": h}
            name = label if task == "sign" else f"{label} (click tower)"
            rows.append([name, _pm(ci(lambda x: x["epochs_run"]), 1), _pm(ci(lambda x, k=k: x["auc"][k])),
                         _pm(ci(lambda x, k=k: x["log_loss"][k]), 4), _pm(ci(lambda x, k=k: x["base_log_loss"][k]), 4),
                         _pm(ci(lambda x, t=task: x[t]["replay"]["entropy"]), 2),
                         _pm(ci(lambda x, t=task: x[t]["replay"]["top_share"]), 3),
                         "/".join(str(x[task]["replay"]["top_action"]) for x in fits),
                         _pm(ci(lambda x, t=task: x[t]["agree_truth"]), 3),
                         _pm(ci(lambda x, t=task: x[t]["truth"]["entropy"]), 2),
                         _pm(ci(lambda x, t=task: x[t]["truth"]["top_share"]), 3)])
    return rows


def _fit_table(R: dict[str, Any]) -> str:
    return markdown_table(["model / task", "passes run", "held-out AUC", "held-out log loss",
                           "base-rate log loss", "policy action entropy (nats)", "top action share",
                           "top action per seed", "agreement with true argmax", "true argmax entropy",
                           "true argmax top share"], _fit_rows(R))


def _best_actions_table(R: dict[str, Any]) -> str:
    """Per criterion: the true per-customer best actions (shares >= 1 %), entropy, top share."""
    rows = []
    names = {"p_convert": "P(sign)", "p_click": "P(click)", "expected_reward": "E[reward] (value - cost)"}
    for k, b in R.get("best_actions", {}).items():
        sh = np.asarray(b["shares"])
        top = ", ".join(f"{a}: {100 * sh[a]:.1f} %" for a in np.argsort(-sh) if sh[a] >= 0.01)
        rows.append([names.get(k, k), top, _pm(b["entropy"], 2), _pm(b["top_share"], 3)])
    return markdown_table(["criterion", "best action: share of customers (>= 1 %)", "entropy (nats)",
                           "top share"], rows)


def render(R: dict[str, Any], plots: list[str], command: str) -> str:
    """report.md's text."""
    meta, cfg = R["meta"], R["config"]
    n = cfg["seeds"]
    cal = R["calibration"]
    lines = [
        "# Customer lifecycle marketing: A2C/A3C vs the slides' multi-task baselines", "",
        "## Claims", "", claims_table(claims(R)), "",
        f"Command: `{command}` · commit {meta['git_commit']} · wall {meta['wall_seconds']:.0f} s · "
        f"{n} seeds · load average {meta['load_average_start']:.1f} -> {meta['load_average_end']:.1f}", "",
        "## BPI table (offline replay, the slides' protocol)", "",
        "convRate = conversions / hits on a held-out uniformly random log (a hit: the policy's action on the "
        "logged observation equals the logged action); lift = mean convRate / mean convRate(DRL) - 1 over "
        "seeds (delta-method CI), against a2c-conv (A2C rewarded for conversions: the metric's own objective) "
        "and a2c (A2C rewarded for LTV); "
        "avgHitConvCost = marketing cost / conversions over the hits; avgAllConvCost = the same over the "
        "whole log (one value for all methods). Means ± 95 % t-CI over seeds; the slides' numbers beside "
        "(their dollars are production costs, ours the simulator's).", "", _bpi_table(R), "",
        "## Online (one 30-day activity per seed, common random numbers)", "",
        "LTV = value - marketing cost per customer over the activity; convRate (online) = share of customers "
        "with a conversion; CTR = clicks / touches; blocked = requests the budget turned into do-nothing.",
        "", _online_table(R), "",
        f"Myopic optimum's budget price (per $ of expected cost) per seed (best of the grid on a calibration activity): "
        f"{', '.join(str(c['price']) for c in cal)}.", "",
        "## Classifiers: held-out fit and action diversity", "",
        "AUC and log loss of P(task | x, a) at the logged action on the held-out replay log (never fitted on; "
        "base rate: the constant predictor's log loss); the policy's chosen actions on the replay log's "
        "observations: entropy of their distribution (0 = a constant policy; log 16 = 2.77 uniform), the "
        "commonest action's share and index per seed; agreement = share of the evaluation activity's "
        "customers (day 1) whose chosen action is the simulator's true argmax_a P(task | state, a), whose own "
        "entropy and top share are beside (the truth is used to measure, never to fit).", "",
        _fit_table(R), "",
        "## How heterogeneous the truth is", "",
        "On the first day of each seed's evaluation activity: the share of customers whose exact "
        "argmax_a of each criterion (simcore.domains.lifecycle.exact, budget not applied) is each action "
        "(mean over seeds), and the entropy / top share of that argmax (mean ± CI over seeds).", "",
        _best_actions_table(R), "",
        "## Learners: A2C vs A3C", "", _learners_table(R), "",
    ]
    lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "Numbers are from this run only; see docs/lifecycle.md for the protocol and caveats."]
    return "\n".join(lines) + "\n"


def summary(R: dict[str, Any]) -> str:
    """One paragraph for the terminal."""
    rows = [f"{c.verdict:>18}: {c.claim}" for c in claims(R)]
    return "\n".join(rows)
