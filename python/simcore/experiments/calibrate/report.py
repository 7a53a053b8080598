"""``simcore calibrate``'s outputs: report.md (opening with the claims table),
calibrated.json (a ``--config`` file the experiments accept), results.json and
fig3_lengths.png, from the results of :func:`~simcore.experiments.calibrate.run.run`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.report import Claim, claims_table, markdown_table, new_figure, save_figure, write_json
from simcore.report.claims import claims_json

SOURCE = "003_*, 三、数据统计分析, fig. 3"
_LABEL = {"share_1": "purchases on PV 1", "share_2": "on PV 2", "share_3": "on PV 3",
          "within_6": "within the first 6 PVs", "share_30": "on PV 30 (the horizon)"}


def claims(results: dict[str, Any]) -> list[Claim]:
    """One row per fig. 3 statement, measured on the holdout panels."""
    rank = results["settings"]["ranking"]
    out = []
    for r in results["statistics"]:
        lo, hi = r["holdout_ci"]
        out.append(Claim(
            claim=f"share of purchase episodes {_LABEL[r['statistic']]} {r['relation']} {100 * r['bound']:g} %",
            source=SOURCE,
            result=f"{100 * r['holdout']:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] (fit panel {100 * r['fit']:.1f} %)",
            verdict=r["verdict"],
            conditions=f"calibrated model, '{rank}' ranking on every page, T = 30, exact expectations; "
                       f"CI between {len(r['holdout_panels'])} fresh panels of {results['settings']['panel_users']} users",
        ))
    out.append(Claim(
        claim="the share of purchase episodes falls with the episode length n",
        source=SOURCE,
        result=f"largest rise between consecutive n: {results['fit_max_rise']:.4f}",
        verdict="reproduced" if results["monotone"] else "not reproduced",
        conditions="fit panel; a rise below 0.001 counts as falling",
    ))
    return out


def _plot(results: dict[str, Any], out: Path) -> str:
    fig, axes = new_figure(2, 1, width=6.0, height=4.2)
    sh = results["shares"]
    n = np.arange(1, len(sh["fit"]) + 1)
    for key, style, label in (("start", ":", "before calibration"), ("fit", "-", "calibrated (fit panel)"),
                              ("holdout", "--", "calibrated (holdout panels)")):
        axes[0, 0].plot(n, 100 * np.asarray(sh[key]), style, marker="o" if key == "fit" else None, ms=3, label=label)
        axes[0, 1].plot(n, 100 * np.cumsum(sh[key]), style, label=label)
    for r in results["statistics"]:
        k = {"share_1": 1, "share_2": 2, "share_3": 3, "share_30": 30}.get(r["statistic"])
        if k is not None:
            mark = "^" if r["relation"] == ">" else "v"
            axes[0, 0].plot([k], [100 * r["bound"]], mark, color="black", ms=8,
                            label="article's bound (fig. 3)" if k == 1 else None)
    axes[0, 1].plot([6], [60], "^", color="black", ms=8, label="article: > 60 % within 6 PVs")
    axes[0, 0].set(title="Purchase episodes by length", xlabel="episode length n (PVs)",
                   ylabel="share of purchase episodes (%)")
    axes[0, 1].set(title="Cumulative share", xlabel="episode length n (PVs)", ylabel="share with length <= n (%)",
                   ylim=(0, 100))
    for ax in axes[0]:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    name = "fig3_lengths.png"
    save_figure(fig, out / name)
    return name


def render(results: dict[str, Any], command: str) -> str:
    """report.md."""
    s = results["settings"]
    stat_rows = [[_LABEL[r["statistic"]], f"{r['relation']} {100 * r['bound']:g} %", f"{100 * r['target']:.1f} %",
                  f"{100 * r['start']:.1f} %", f"{100 * r['fit']:.1f} %",
                  f"{100 * r['holdout']:.1f} % [{100 * r['holdout_ci'][0]:.1f}, {100 * r['holdout_ci'][1]:.1f}]",
                  r["verdict"]] for r in results["statistics"]]
    par_rows = [[p["name"], p["start"], p["fit"], p["default"], "yes" if p["matches_default"] else "no"]
                for p in results["params"]]
    pr = results["purchase_rate"]
    lines = [
        "# Calibration of the user model to the article's fig. 3", "",
        claims_table(claims(results)), "",
        f"Command: `{command}`  ", f"Runtime: {results['runtime_s']:.1f} s; machine: {results['machine']}", "",
        "## Statistics", "",
        markdown_table(["statistic", "article", "target", "before", "fit panel", "holdout (95 % CI)", "verdict"],
                       stat_rows), "",
        f"Purchases per session (assumed target {100 * pr['target']:.0f} %, not from the article): before "
        f"{100 * pr['start']:.1f} %, fit {100 * pr['fit']:.1f} %, holdout {100 * pr['holdout']['mean']:.1f} %.", "",
        "## Fitted parameters", "",
        markdown_table(["field", "start", "fit", "package default", "fit = default"], par_rows), "",
        f"Least squares (scipy trust-region reflective, bounded to the documented ranges): "
        f"{results['fit']['nfev']} evaluations, cost {results['fit']['cost']:.3g}; ranking '{s['ranking']}' on "
        f"every page; panel of {s['panel_users']} users (`calibrate/panel`), fitted values rounded to "
        f"{s['decimals']} decimals.  `calibrated.json` holds the model as a `--config` file:", "",
        "    simcore reproduce discount --config calibrated.json", "",
        "![purchase-episode lengths](fig3_lengths.png)", "",
    ]
    return "\n".join(lines)


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes fig3_lengths.png, calibrated.json, results.json and report.md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = {**results, "fit_max_rise": max(0.0, float(np.max(np.diff(results["shares"]["fit"]))))}
    plot = _plot(data, out)
    (out / "calibrated.json").write_text(json.dumps(results["calibrated_config"], indent=2) + "\n")
    write_json(out / "results.json", {**data, "plots": [plot], "claims": claims_json(claims(data)),
                                      "command": command})
    (out / "report.md").write_text(render(data, command))
    return [plot, "calibrated.json", "results.json", "report.md"]
