"""The autoscaling report: report.md (claims table first), results.json and a plot of a
few zones over the week, from the results of :func:`~.run.run`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import Claim, claims_json, verdict_from_ci
from simcore.report.plots import new_figure, save_figure
from simcore.report.stats import paired

__all__ = ["write_report", "render", "claims", "summary"]

PAPER = "Xue et al., KDD 2022 (seed section 3, CRSM slides)"
NOT_RUN = "not yet run: the meta model-based RL method is not implemented"


def _pm(c: dict[str, float], digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
    return plus_minus(c["mean"], c["half"], digits=digits, scale=scale, suffix=suffix)


def claims(R: dict[str, Any]) -> list[Claim]:
    """The paper's claims (not tested yet) and the baseline facts this run measures."""
    S, n = R["summary"], R["config"]["seeds"]
    out = [
        Claim("Meta model-based RL keeps CPU stable near the target with fewer VMs than Autopilot-style and "
              "threshold autoscalers", PAPER, NOT_RUN, "not tested", "–"),
        Claim("One model scales 1000+ zones, including zones never seen in training", PAPER, NOT_RUN, "not tested",
              "–"),
        Claim("Model-based RL needs fewer samples than model-free RL", PAPER, NOT_RUN, "not tested", "–"),
    ]
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
                         "our seasonal-naive forecaster and linear CPU fit, not the paper's"))
    return out


def _table(R: dict[str, Any]) -> str:
    rows = []
    for key, s in R["summary"].items():
        rows.append([key, _pm(s["stability"]), _pm(s["zone_stability_ci"]), _pm(s["vm_hours"], 0),
                     _pm(s["vm_saved"], 1, 100, " %") if "vm_saved" in s else "–", _pm(s["slo_rate"], 2, 100, " %"),
                     _pm(s["ops_per_zone_day"], 1), _pm(s["cpu"]), _pm(s["reward"], 4)])
    return markdown_table(["method", "stability (seeds)", "stability (zones)", "VM-hours", "VM-hours saved vs "
                           "peak static", "SLO violations (of zone-steps)", "scaling ops / zone / day", "mean CPU",
                           "mean reward"], rows)


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
    plot = plot_week(results, out)
    data = {**results, "plots": [plot], "claims": claims_json(claims(results)), "command": command}
    write_json(out / "results.json", data)
    (out / "report.md").write_text(render(data, [plot], command))
    return [plot, "results.json", "report.md"]


def render(R: dict[str, Any], plots: list[str], command: str) -> str:
    """report.md's text."""
    meta, cfg = R["meta"], R["config"]
    lines = [
        "# Cloud autoscaling: rule baselines on thousands of zones", "",
        "## Claims", "", claims_table(claims(R)), "",
        f"Command: `{command}` · commit {meta['git_commit']} · wall {meta['wall_seconds']:.0f} s · "
        f"{cfg['seeds']} seeds × {cfg['zones']} zones · {cfg['sim']['horizon']} steps of 10 minutes · "
        f"load average {meta['load_average_start']:.1f} -> {meta['load_average_end']:.1f}", "",
        "## Baselines", "",
        f"Stability = share of steps with |CPU - {cfg['sim']['cpu_target']}| <= {cfg['sim']['band']}; means ± 95 % "
        "t-CI over seeds (each seed: its own zone population and traffic), and over all zones of all seeds "
        "(zones, normal CI, not independent across seeds' apps). Every method of a seed sees the same traffic. "
        "Peak static: the VMs that put the noise-free CPU at the target under each zone's peak load of that "
        "week (hindsight, latent curve).", "", _table(R), "",
    ]
    lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "Numbers are from this run only; docs/autoscaling_model.md gives the model."]
    return "\n".join(lines) + "\n"


def summary(R: dict[str, Any]) -> str:
    """One line per claim for the terminal."""
    return "\n".join(f"{c.verdict:>18}: {c.claim}" for c in claims(R))
