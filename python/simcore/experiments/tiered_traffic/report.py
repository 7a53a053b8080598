"""The tiered-traffic report: report.md (opening with the claims table), results.json and
the PNG plots, all from the results dict of :func:`~simcore.experiments.tiered_traffic.run.run`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simcore.experiments.tiered_traffic.claims import claims
from simcore.experiments.tiered_traffic.plots import STYLE, plot_all
from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import claims_json

__all__ = ["write_report", "render", "summary"]


def _pm(v: Any, d: int = 2) -> str:
    return plus_minus(float(v[0]), float(v[1]), digits=d)


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes the plots, results.json (the results plus ``plots``, ``claims`` and
    ``command``) and report.md into ``out_dir``; returns the written file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_all(results, out)
    data = {**results, "plots": plots, "claims": claims_json(claims(results)), "command": command}
    write_json(out / "results.json", data)
    (out / "report.md").write_text(render(data, plots, command))
    return [*plots, "results.json", "report.md"]


def _points_table(R: dict[str, Any]) -> str:
    rows = []
    for method in STYLE:
        for p in sorted((p for p in R["points"] if p["method"] == method), key=lambda p: p["value"]):
            rows.append([method, f"{p['param']} = {p['value']:g}", p["n"], _pm(p["lift_pct"], 1),
                         _pm(p["gmv_change_pct"]), _pm(p["reward"], 3), _pm(p["page_lift"], 4)])
    return markdown_table(["method", "setting", "seeds", "share lift %", "GMV change %", "E[return of r]",
                           "reward's lift term (per page)"], rows)


def _comparisons_table(R: dict[str, Any]) -> str:
    rows = []
    for k, c in R["comparisons"].items():
        rows.append([k, *(plus_minus(c[f]["mean"], c[f]["half"], digits=3) for f in ("reward", "lift_pct",
                                                                                      "gmv_change_pct")),
                     f"{c['reward']['p']:.3g}"])
    return markdown_table(["a - b (paired by seed)", "E[return]", "share lift (points)", "GMV change (points)",
                           "p (return)"], rows)


def _segments_table(R: dict[str, Any]) -> str:
    seg = R["segments"]
    rows = []
    for g, s in enumerate(seg["segments"]):
        row = [g, f"{s['users'][0]:.0f}", _pm(s["affinity"]), _pm(s["likes"]), _pm(s["dislikes"])]
        for method in ("segment-opt", "uniform-opt", "ddpg-cem", "cem-uniform", "cem-segment"):
            r = seg["methods"].get(method, [None] * (g + 1))[g]
            row += [f"{_pm(r['lift_pct'], 1)} / {_pm(r['gmv_change_pct'])}" if r else "–"]
        rows.append(row)
    return markdown_table(["segment", "panel users", "mean affinity", "share liking", "share disliking",
                           "segment-opt lift / GMV %", "uniform-opt", "ddpg-cem", "cem-uniform", "cem-segment"], rows)


def _transient_table(R: dict[str, Any]) -> str:
    rows = []
    for key, c in R["curves"].items():
        lift = c["exact"]["lift_pct"]
        gmv = c["exact"]["gmv_change_pct"]
        rows.append([key, _pm(c["transient"]), _pm(c["settled"]),
                     plus_minus(c["recovery"]["mean"], c["recovery"]["half"], digits=2),
                     f"{_pm(lift[0], 1)} / {_pm(gmv[0])}", f"{_pm(lift[-1], 1)} / {_pm(gmv[-1])}"])
    return markdown_table(["learner", "online GMV change %, first iterations", "online, last iterations",
                           "settled - first (points)", "greedy exact lift / GMV %, start", "greedy exact, end"], rows)


def _bounds_table(R: dict[str, Any]) -> str:
    rows = []
    for key, c in R["curves"].items():
        tr = c["trajectories"]
        if "low" not in tr:
            continue
        lo0, hi0, lo1, hi1 = tr["low"]["mean"][0], tr["high"]["mean"][0], tr["low"]["mean"][-1], tr["high"]["mean"][-1]
        ga = tr.get("greedy_action", {}).get("mean", [[float("nan")] * len(lo0)])[-1]
        for k in range(len(lo0)):
            rows.append([key, k, f"[{lo0[k]:.2f}, {hi0[k]:.2f}]", f"[{lo1[k]:.2f}, {hi1[k]:.2f}]", f"{ga[k]:.2f}"])
    return markdown_table(["learner", "tier", "bounds after warm-up (seed mean)", "bounds at the end",
                           "greedy action at the end (mean over states)"], rows)


def render(R: dict[str, Any], plots: list[str], command: str) -> str:
    """report.md from the results dict."""
    cfg, meta = R["config"], R["meta"]
    b = R["basic"]
    parts = [
        "# Tiered traffic control: DDPG with CEM-moved action bounds", "",
        "## Claims", "", claims_table(claims(R)), "",
        "CIs: Student-t 95 % between seeds (learners: training seeds; exact baselines: the seeds' panels). "
        "Lift and GMV change are against the control bucket (pi_basic) on the same exact panel.", "",
        "## Setup", "",
        f"Target tier {cfg['target_tier']}; control bucket: GMV {_pm(b['gmv'], 3)} per session, target-tier share "
        f"{_pm(b['share'], 4)}. {cfg['seeds']} seeds, {cfg['iterations']} iterations x {cfg['steps']} steps x "
        f"{cfg['num_envs']} sessions; exact panel {cfg['panel']} users per seed; lambdas {cfg['lambdas']} "
        f"(headline {cfg['headline_lambda']:g}); up-weighting amounts {cfg['uplifts']}; exact optima over "
        f"{cfg['optimum_grid']} on the target tier x {cfg['optimum_grid_other']} on each other tier at lambdas "
        f"{cfg['optimum_lambdas']}. Control bucket: {cfg['control']} (base weights "
        f"{[round(w, 3) for w in R['control']['weights']]}).", "",
        "## Frontier: share lift vs GMV change", "", "![frontier](frontier.png)", "", _points_table(R), "",
        "GMV change at the same share lift (exact frontiers interpolated, per seed):", "",
        markdown_table(["family", "GMV change % at +20 % share"], [[k, _pm(v)] for k, v in R["at_20pct"].items()]),
        "", "## Sensitivity to lambda", "", "![lambda](lambda.png)", "",
        "## Paired comparisons (headline lambda)", "", _comparisons_table(R), "",
        "## Who absorbs the push (personalised vs uniform)", "", "![segments](segments.png)", "", _segments_table(R),
        "", "## CEM bounds next to the learned actions", "", "![bounds](bounds.png)", "", _bounds_table(R), "",
        "## Transient loss and where it settles", "", "![transient](transient.png)", "", _transient_table(R), "",
        "## Reproducibility", "",
        f"Command: `{command}`; commit {meta.get('git_commit')}; python {meta.get('python')}, numpy "
        f"{meta.get('numpy')}, torch {meta.get('torch')} ({meta.get('torch_threads_per_job')} thread per job); "
        f"CPU {meta.get('cpu')} ({meta.get('cpus')} cores); workers {meta.get('workers')}; wall "
        f"{meta['wall_seconds']:.0f} s; load average {meta['load_average_start']:.2f} -> "
        f"{meta['load_average_end']:.2f}.", "",
        "Plots: " + ", ".join(plots) + ".", ""]
    return "\n".join(parts)


def summary(R: dict[str, Any]) -> str:
    """The claims table, printed after the run."""
    return claims_table(claims(R))
