"""The autoscaling report: report.md (claims table first), results.json and a plot of a
few zones over the week, from the results of :func:`~.run.run`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.autoscaling.report_sections import (
    PAPER,
    forecast_claim,
    forecast_kind,
    sections,
    strongest_rule,
)
from simcore.experiments.autoscaling.report_sections import _d as _pm
from simcore.experiments.autoscaling.report_sections import _pair as _paired
from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import Claim, claims_json, verdict_from_ci
from simcore.report.plots import new_figure, save_figure
from simcore.report.stats import paired

__all__ = ["write_report", "render", "claims", "summary"]

NOT_RUN = "not run: 'meta-rl' (and 'ppo') not among the methods"


def _d(d: dict[str, float], digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
    return plus_minus(d["mean"], d["half"], digits=digits, scale=scale, suffix=suffix)


def _both(verdicts: list[str]) -> str:
    """reproduced if every part is, not reproduced if any part is, else partly / inconclusive."""
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    if any(v == "not reproduced" for v in verdicts):
        return "not reproduced" if not any(v == "reproduced" for v in verdicts) else "partly reproduced"
    return "partly reproduced" if any(v == "reproduced" for v in verdicts) else "inconclusive"


def _meta_claims(R: dict[str, Any]) -> list[Claim]:
    S, n, M = R["summary"], R["config"]["seeds"], R["meta_rl"]
    out = []
    parts, verdicts = [], []
    for other in ("autopilot", "threshold"):
        if other not in S:
            continue
        ds, dv = _paired(S, "meta-rl", other, "stability"), _paired(S, "meta-rl", other, "vm_hours")
        verdicts += [verdict_from_ci(ds["mean"] - ds["half"], ds["mean"] + ds["half"]),
                     verdict_from_ci(dv["mean"] - dv["half"], dv["mean"] + dv["half"], expect_positive=False)]
        parts.append(f"vs {other}: stability {_d(ds)}, VM-hours {_d(dv, 0)}")
    if parts:
        out.append(Claim("Meta model-based RL keeps CPU stable near the target with fewer VMs than Autopilot-style "
                         "and threshold autoscalers", PAPER, "; ".join(parts) + f" ({n} seeds, paired)",
                         _both(verdicts), f"default workload, delay {R['config']['sim']['delay']}; policy fed the "
                         f"{forecast_kind(R)} forecast; autopilot aimed at the target (p95 + 15 %); "
                         "see the autopilot-limit, target-tracking and predictive rows"))
    best = strongest_rule(R)
    if best is not None:
        d = _paired(S, "meta-rl", best, "reward", "heldout")
        ds = _paired(S, "meta-rl", best, "stability", "heldout")
        f = M["filter"]
        out.append(Claim("One model scales 1000+ zones, including zones of apps never seen in training",
                         PAPER, f"one policy + one ANP on {R['config']['zones']} zones; held-out apps' zones: "
                         f"mean reward minus the strongest rule's ({best}) {_d(d, 4)}, stability {_d(ds)} "
                         f"({n} seeds, paired); {f['fallback']['mean']:.0f} of {f['zones']['mean']:.0f} zones "
                         "filtered to target tracking", verdict_from_ci(d["mean"] - d["half"], d["mean"] + d["half"]),
                         f"trained on {max(R['config']['meta']['app_counts'])} apps x "
                         f"{R['config']['meta']['zones_per_app']} zones of static logs; strongest rule = the rule "
                         "baseline with the best held-out mean reward in this run"))
    b = str(M["budget"])
    if M["curve"].get("ppo"):
        eq = min(M["curve"]["ppo"], key=int)   # the equal budget (SB3 rounds up to whole rollouts)
        d = paired(M["curve"]["meta-rl"][b]["per_seed"], M["curve"]["ppo"][eq]["per_seed"])
        big = max(M["curve"]["ppo"], key=int)
        d2 = paired(M["curve"]["meta-rl"][b]["per_seed"], M["curve"]["ppo"][big]["per_seed"])
        out.append(Claim("Model-based RL needs fewer samples than model-free RL", PAPER,
                         f"held-out reward, meta-RL ({int(b):,} env steps) minus PPO at {int(eq):,} {_d(d, 4)}; "
                         f"minus PPO at "
                         f"{int(big):,} steps {_d(d2, 4)} ({n} seeds, paired)",
                         verdict_from_ci(d["mean"] - d["half"], d["mean"] + d["half"]),
                         "SB3 PPO defaults (2048-sample rollouts, normalised obs), no z and no forecast in its "
                         "observation; meta-RL's env steps are static logs (no exploration)"))
    K = str(max(int(k) for k in M["accuracy"]))
    a = M["accuracy"][K]
    out.append(Claim("The ANP meta-predictor (task embedding z) predicts CPU of unseen zones better than one "
                     "global model", PAPER + "; Kim et al., ICLR 2019", f"RMSE ANP {_pm(a['anp'])} vs global "
                     f"{_pm(a['global'])} (diff {_d(a['anp-global'])}), vs per-zone linear {_pm(a['linear'])} "
                     f"(diff {_d(a['anp-linear'])})",
                     _both([verdict_from_ci(a["anp-global"]["mean"] - a["anp-global"]["half"],
                                            a["anp-global"]["mean"] + a["anp-global"]["half"], expect_positive=False),
                            verdict_from_ci(a["anp-linear"]["mean"] - a["anp-linear"]["half"],
                                            a["anp-linear"]["mean"] + a["anp-linear"]["half"],
                                            expect_positive=False)]),
                     f"trained on {K} apps; context = one day at static allocation, targets = CPU under target "
                     "tracking (other VM counts)"))
    fc = forecast_claim(R)
    if fc is not None:
        out.append(fc)
    return out


def claims(R: dict[str, Any]) -> list[Claim]:
    """The paper's claims (tested when meta-rl ran) and the baseline facts this run measures."""
    S, n = R["summary"], R["config"]["seeds"]
    if "meta_rl" in R and "meta-rl" in S:
        out = _meta_claims(R)
    else:
        out = [Claim(c, PAPER, NOT_RUN, "not tested", "–") for c in (
            "Meta model-based RL keeps CPU stable near the target with fewer VMs than Autopilot-style and "
            "threshold autoscalers", "One model scales 1000+ zones, including zones never seen in training",
            "Model-based RL needs fewer samples than model-free RL")]
    if "autopilot" in S and "vm_saved" in S["autopilot"]:
        v = S["autopilot"]["vm_saved"]
        out.append(Claim("An Autopilot-style moving-window recommender needs fewer resources than static peak "
                         "provisioning", "Rzadca et al., EuroSys 2020", f"VM-hours saved {_pm(v, 1, 100, ' %')} "
                         f"({n} seeds)", verdict_from_ci(v["mean"] - v["half"], v["mean"] + v["half"]),
                         "p95 of 24 h half-life usage histograms, +15 % margin; hindsight peak static"))
    if "predictive" in S and "threshold" in S:
        d = paired(S["predictive"]["per_seed"]["stability"], S["threshold"]["per_seed"]["stability"])
        out.append(Claim("Predictive scaling keeps CPU in the target band more often than reactive threshold "
                         "rules", PAPER + ", motivation", f"stability difference {plus_minus(d['mean'], d['half'], 3)} "
                         f"({n} seeds, paired)", verdict_from_ci(d["mean"] - d["half"], d["mean"] + d["half"]),
                         f"our {forecast_kind(R)} forecast and online linear CPU fit, not the paper's"))
    return out


def _table(R: dict[str, Any], part: str | None = None) -> str:
    rows = []
    for key, s0 in R["summary"].items():
        s = s0[part] if part else s0
        rows.append([key, _pm(s["stability"]), _pm(s0["zone_stability_ci"]) if part is None else "–",
                     _pm(s["vm_hours"], 0), _pm(s["vm_saved"], 1, 100, " %") if "vm_saved" in s else "–",
                     _pm(s["slo_rate"], 2, 100, " %"), _pm(s["ops_per_zone_day"], 1), _pm(s["cpu"]),
                     _pm(s["reward"], 4)])
    return markdown_table(["method", "stability (seeds)", "stability (zones)", "VM-hours", "VM-hours saved vs "
                           "peak static", "SLO violations (of zone-steps)", "scaling ops / zone / day", "mean CPU",
                           "mean reward"], rows)


def _meta_tables(R: dict[str, Any]) -> list[str]:
    M = R["meta_rl"]
    acc = markdown_table(["training apps", "ANP", "global (no z)", "per-zone linear", "ANP - global",
                          "ANP - linear"],
                         [[k, _pm(a["anp"]), _pm(a["global"]), _pm(a["linear"]), _pm(a["anp-global"]),
                           _pm(a["anp-linear"])] for k, a in sorted(M["accuracy"].items(), key=lambda t: int(t[0]))])
    rows = [[m, f"{int(b):,}", _pm(c["reward"], 4), _pm(c["stability"])]
            for m, cur in M["curve"].items() for b, c in sorted(cur.items(), key=lambda t: int(t[0]))]
    cur = markdown_table(["method", "env steps", "held-out mean reward", "held-out stability"], rows)
    f = M["filter"]
    filt = (f"Model-quality filter (ANP RMSE on a zone's own day of log > "
            f"{R['config']['meta']['error_threshold']}): {_pm(f['fallback'], 0)} of {f['zones']['mean']:.0f} zones "
            f"fall back to target tracking ({_pm(f['fallback_heldout'], 0)} of {f['heldout_zones']['mean']:.0f} "
            f"held-out); median error {_pm(f['error_median'])}.")
    return ["## CPU meta-predictor accuracy vs number of training apps", "",
            "RMSE of CPU on the held-out apps' zones (mean of per-zone RMSE; 95 % t-CI over seeds): context = the "
            "zone's one day at static allocation, targets = its CPU during the target-tracking week.", "", acc, "",
            "## Sample efficiency", "",
            "Held-out apps' zones over the evaluation episode; meta-RL env steps = the training zones' static "
            "logs (one ANP + policy per number of training apps), PPO's = its own interaction.", "", cur, "",
            "![sample efficiency](sample_efficiency.png)", "", filt, ""]


def plot_curve(R: dict[str, Any], out: Path) -> str:
    """Held-out mean reward vs env steps, model-based vs model-free."""
    fig, axes = new_figure(width=5.0, height=3.5)
    ax = np.asarray(axes).ravel()[0]
    for m, cur in R["meta_rl"]["curve"].items():
        b = sorted(cur, key=int)
        mean = np.array([cur[k]["reward"]["mean"] for k in b])
        half = np.array([cur[k]["reward"]["half"] for k in b])
        ax.errorbar([int(k) for k in b], mean, yerr=half, marker="o", capsize=3, label=m)
    ax.set_xscale("log")
    ax.set_xlabel("env steps")
    ax.set_ylabel("held-out mean reward")
    ax.legend()
    save_figure(fig, out / "sample_efficiency.png")
    return "sample_efficiency.png"


def plot_week(R: dict[str, Any], out: Path) -> str:
    """Traffic, VMs and CPU of the plotted zones of seed 0 over the episode, per method."""
    tr = R["traces"]
    methods = [k for k in tr if k != "traffic"]
    P = len(tr["traffic"])
    fig, ax = new_figure(ncols=P, nrows=3, width=5.0, height=2.6)
    hours = np.arange(len(tr["traffic"][0])) / 6.0
    for z in range(P):
        ax[0][z].plot(hours, tr["traffic"][z], lw=0.7, color="k")
        ax[0][z].set_title(f"zone {z}: RPC calls / 10 min")
        for m in methods:
            ax[1][z].plot(hours, tr[m]["vms"][z], lw=0.8, label=m)
            ax[2][z].plot(hours, tr[m]["cpu"][z], lw=0.5, label=m)
        ax[1][z].set_title("VMs")
        ax[2][z].set_title("CPU")
        ax[2][z].axhline(R["config"]["sim"]["cpu_target"], color="k", lw=0.5, ls="--")
        ax[2][z].set_xlabel("hours")
    ax[1][0].legend(fontsize=6)
    save_figure(fig, out / "zones_week.png")
    return "zones_week.png"


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes zones_week.png, results.json and report.md into ``out_dir``; returns the names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = [plot_week(results, out)] + ([plot_curve(results, out)] if "meta_rl" in results else [])
    data = {**results, "plots": plots, "claims": claims_json(claims(results)), "command": command}
    write_json(out / "results.json", data)
    (out / "report.md").write_text(render(data, plots, command))
    return [*plots, "results.json", "report.md"]


def render(R: dict[str, Any], plots: list[str], command: str) -> str:
    """report.md's text."""
    meta, cfg = R["meta"], R["config"]
    lines = [
        "# Cloud autoscaling: meta model-based RL and rule baselines on thousands of zones", "",
        "## Claims", "", claims_table(claims(R)), "",
        f"Command: `{command}` · commit {meta['git_commit']} · wall {meta['wall_seconds']:.0f} s · "
        f"{cfg['seeds']} seeds × {cfg['zones']} zones · {cfg['sim']['horizon']} steps of 10 minutes · "
        f"versions {R.get('versions', {})} · "
        f"load average {meta['load_average_start']:.1f} -> {meta['load_average_end']:.1f}", "",
        "## Methods", "",
        f"Stability = share of steps with |CPU - {cfg['sim']['cpu_target']}| <= {cfg['sim']['band']}; means ± 95 % "
        "t-CI over seeds (each seed: its own zone population and traffic), and over all zones of all seeds "
        "(zones, normal CI, not independent across seeds' apps). Every method of a seed sees the same traffic. "
        "Peak static: the VMs that put the noise-free CPU at the target under each zone's peak load of that "
        "week (hindsight, latent curve).", "", _table(R), "",
    ]
    if "meta_rl" in R:
        held = max(cfg["meta"]["app_counts"])
        lines += [f"### Held-out apps only (apps >= {held}, never trained on)", "", _table(R, "heldout"), ""]
        lines += _meta_tables(R)
    lines += sections(R)
    lines += [f"![{p}]({p})" for p in plots if p != "sample_efficiency.png"]
    lines += ["", "Numbers are from this run only; docs/autoscaling_model.md gives the model."]
    return "\n".join(lines) + "\n"


def summary(R: dict[str, Any]) -> str:
    """One line per claim for the terminal."""
    return "\n".join(f"{c.verdict:>18}: {c.claim}" for c in claims(R))
