"""``simcore reproduce bandits``'s outputs: report.md (opening with the claims table),
results.json, ope_relative_error.png (the Open Bandit Dataset) and the simulator studies'
PNGs (:mod:`~simcore.experiments.bandits.sim_tables`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.bandits import sim_report, sim_tables
from simcore.report import Claim, claims_table, markdown_table, new_figure, save_figure, write_json
from simcore.report.claims import claims_json

SOURCE = "Saito et al., Open Bandit Dataset and Pipeline, benchmark of OPE (issue 14)"
ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr")
#: direction key -> (target, logs, target distribution)
DIRECTIONS = {
    "bts_from_random": ("Bernoulli-TS", "uniform-random", "production prior (obp's protocol)"),
    "bts_empirical_from_random": ("Bernoulli-TS", "uniform-random", "BTS log's empirical (item, position) frequencies"),
    "bts_logged_from_random": ("Bernoulli-TS", "uniform-random",
                               "BTS log's own propensities, nearest in time to each random-log round"),
    "random_from_bts": ("uniform-random", "Bernoulli-TS", "uniform 1/A (A items)"),
}
#: a CI of the signed relative difference inside +-PRECISE counts as precise
PRECISE = 0.25


def verdict(lo: float, hi: float) -> str:
    """'not reproduced' if the CI of (V_hat - V_on)/V_on excludes 0; 'reproduced' if it
    holds 0 and lies inside +-PRECISE; else 'inconclusive' (too wide to tell)."""
    if lo > 0 or hi < 0:
        return "not reproduced"
    return "reproduced" if -PRECISE <= lo and hi <= PRECISE else "inconclusive"


def claims(results: dict[str, Any]) -> list[Claim]:
    """One row per campaign, direction and estimator, then the simulator studies' claims."""
    st = results.get("settings", {})
    return obd_claims(results) + sim_report.claims(results.get("sim", {}), st.get("equiv_rel", sim_report.EQUIV_REL),
                                                   st.get("coverage_tol", sim_report.COVERAGE_TOL))


def obd_claims(results: dict[str, Any]) -> list[Claim]:
    """One row per campaign, direction and estimator of the Open Bandit Dataset study."""
    out = []
    for camp, res in results["campaigns"].items():
        n = res["n_rounds"]
        n_boot = results.get("settings", {}).get("n_boot", "?")
        for key, (target, logs, dist) in DIRECTIONS.items():
            if key not in res:
                continue            # a direction the benchmark skipped (see "skipped")
            on = res[key]["on_policy"]["value"]
            for est in ESTIMATORS:
                r = res[key][est]
                lo, hi = r["rel_diff_ci"]
                out.append(Claim(
                    claim=f"{est.upper()} estimates the {target} policy's CTR from the {logs} logs",
                    source=SOURCE,
                    result=f"(V-V_on)/V_on = {100 * r['rel_diff']:+.0f} % [{100 * lo:+.0f}, {100 * hi:+.0f}]",
                    verdict=verdict(lo, hi),
                    conditions=f"campaign {camp}, {n['random']} + {n['bts']} rounds; target = {dist}; "
                               f"V_on = {on:.4f}; reproduced = CI holds 0 within +-{100 * PRECISE:.0f} %" +
                               (f"; {r['boot_dropped']} of {n_boot} resamples dropped (V_on = 0 or 0/0)"
                                if r.get("boot_dropped") else ""),
                ))
    return out


def _plot(results: dict[str, Any], out: Path) -> str:
    camps = list(results["campaigns"])
    fig, axes = new_figure(len(DIRECTIONS), len(camps), width=4.6, height=3.8)
    x = np.arange(len(ESTIMATORS))
    for i, camp in enumerate(camps):
        for j, (key, (target, logs, _)) in enumerate(DIRECTIONS.items()):
            ax = axes[i, j]
            if key not in results["campaigns"][camp]:
                ax.set_axis_off()
                continue
            r = results["campaigns"][camp][key]
            mid = np.array([100 * r[e]["rel_diff"] for e in ESTIMATORS])
            ci = np.array([[100 * v for v in r[e]["rel_diff_ci"]] for e in ESTIMATORS])
            ax.errorbar(x, mid, yerr=[mid - ci[:, 0], ci[:, 1] - mid], fmt="o", capsize=4, label="estimate, 95 % CI")
            ax.axhline(0, color="black", lw=0.8, label="on-policy CTR")
            ax.set_xticks(x, [e.upper() for e in ESTIMATORS], fontsize=8)
            extra = " (empirical target)" if "empirical" in key else (" (logged target)" if "logged" in key else "")
            ax.set(title=f"{target} from {logs} logs{extra}\ncampaign {camp}", xlabel="estimator",
                   ylabel="(V_hat - V_on) / V_on (%)")
            ax.title.set_fontsize(9)
            ax.grid(alpha=0.3)
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.3 * (hi - lo))  # room for the legend above the bars
            ax.legend(fontsize=7, loc="upper right", ncol=2)
    name = "ope_relative_error.png"
    save_figure(fig, out / name)
    return name


def render(results: dict[str, Any], command: str) -> str:
    """report.md."""
    lines = ["# Bandits, allocation, uplift and off-policy evaluation (Open Bandit Dataset and simulators)", "",
             claims_table(claims(results)), "",
             f"Command: `{command}`  ", f"Runtime: {results['runtime_s']:.1f} s ({results.get('timings_s', {})}); "
             f"machine: {results['machine']}  "]
    if results["campaigns"]:
        lines += [f"Data: `{results['source']}`; prior: `{results['wheel']}`", "",
                  "# Off-policy evaluation on the Open Bandit Dataset", ""]
    lines += _obd_sections(results)
    lines += sim_tables.sections(results.get("sim", {}))
    return "\n".join(lines)


def _obd_sections(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if not results["campaigns"]:
        return lines
    for camp, res in results["campaigns"].items():
        lines += [f"## Campaign {camp}", ""]
        for key, (target, logs, dist) in DIRECTIONS.items():
            if key not in res:
                lines += [f"**{target} from the {logs} logs** (target: {dist}): skipped: "
                          f"{res.get('skipped', {}).get(key, '')}", ""]
                continue
            r = res[key]
            on, (olo, ohi) = r["on_policy"]["value"], r["on_policy"]["value_ci"]
            rows = [[e, f"{r[e]['value']:.5f} [{r[e]['value_ci'][0]:.5f}, {r[e]['value_ci'][1]:.5f}]",
                     f"{100 * r[e]['rel_error']:.1f} % [{100 * r[e]['rel_error_ci'][0]:.1f}, "
                     f"{100 * r[e]['rel_error_ci'][1]:.1f}]"] for e in ESTIMATORS]
            lines += [f"**{target} from the {logs} logs** (target: {dist}; on-policy CTR {on:.5f} "
                      f"[{olo:.5f}, {ohi:.5f}])", "",
                      markdown_table(["estimator", "V_hat (95 % CI)", "relative error (95 % CI)"], rows), ""]
        d = res["prior_vs_logged_pscore"]
        lines += [f"The prior's simulated BTS distribution at the BTS log's (item, position) against its logged "
                  f"propensities: Pearson {d['pearson']:.3f}, median relative difference "
                  f"{100 * d['median_rel_diff']:.0f} % (the logged policy is not the prior's); the prior's (item, "
                  f"position) table against the log's empirical frequencies: Pearson "
                  f"{d.get('table_pearson', float('nan')):.3f}; a round's logged propensity against the nearest "
                  f"other round's with the same (item, position): Pearson "
                  f"{d.get('loo_time_match_pearson', float('nan')):.3f} (the time-matched target's basis).", ""]
    lines += ["![relative error per estimator](ope_relative_error.png)", "",
              "CIs: percentile bootstrap over the rounds of both logs (resampled independently), the reward "
              "model (cross-fitted (item, position) CTR) held fixed.  docs/ope.md describes the protocol.", ""]
    return lines


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes the PNGs, results.json and report.md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = ([_plot(results, out)] if results["campaigns"] else []) + sim_tables.plots(results.get("sim", {}), out)
    write_json(out / "results.json", {**results, "plots": plots, "claims": claims_json(claims(results)),
                                      "command": command})
    (out / "report.md").write_text(render(results, command))
    return [*plots, "results.json", "report.md"]
