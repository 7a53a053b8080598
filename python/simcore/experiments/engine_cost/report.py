"""The engine-cost report: report.md (opening with the claims table), results.json and
the PNG plots, all from the results dict of :func:`~simcore.experiments.engine_cost.run.run`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simcore.domains.feature_cost.data import FEATURE_NAMES
from simcore.experiments.engine_cost.claims import claims
from simcore.experiments.engine_cost.losses import label, unit
from simcore.experiments.engine_cost.plots import plot_all
from simcore.report import Claim, claims_table, markdown_table, write_json
from simcore.report.claims import claims_json

__all__ = ["write_report", "render"]

_FAMILIES = ("exhaustive", "actor-critic", "reinforce", "static-greedy", "static-hindsight")


def _pm(x: Any, scale: float = 100.0, d: int = 1) -> str:
    if not isinstance(x, (list, tuple)):
        return f"{scale * x:.{d}f}"
    m, h = x
    if h != h:
        return f"{scale * m:.{d}f}"
    return f"{scale * m:.{d}f} ± {scale * h:.{d}f}"


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes the plots, results.json (the results plus ``plots``, ``claims`` and
    ``command``) and report.md into ``out_dir``; returns the written file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_all(results, out)
    rows = claims(results)
    data = {**results, "plots": plots, "claims": claims_json(rows), "command": command}
    write_json(out / "results.json", data)
    (out / "report.md").write_text(render(data, plots, command))
    return [*plots, "results.json", "report.md"]


def _threshold_table(cfg: dict[str, Any], P: dict[str, Any], loss: str) -> str:
    rows = []
    for C in cfg_grid(cfg, loss):
        for fam in _FAMILIES:
            for k, v in P.items():
                if v["family"] == fam and v["loss_def"] == loss and v["threshold"] == C:
                    d = 2 if loss != "kl" else 3
                    rows.append([k, v["ci"], _pm(v["cost_saved"]), _pm(v["loss"], 100.0 if loss != "kl" else 1.0, d),
                                 _pm(v["violations"]), _pm(v["reward"], 1.0, 3), _pm(v["gmv_change"], d=2),
                                 _pm(v.get("gmv_change_requests", v["gmv_change"]), d=2),
                                 "yes" if v.get("flat") else "no"])
    t_unit = "nats" if loss == "kl" else "%"
    return markdown_table(["policy", "± over", "cost saved %", f"loss ({t_unit})", "requests over C %", "env return",
                           "GMV change %", "GMV change % (± over requests)", "flat GMV"], rows)


def cfg_grid(cfg: dict[str, Any], loss: str) -> list[float]:
    """The threshold grid of a loss definition in a results config dict."""
    return list({"pairs": cfg["thresholds"], "top-k": cfg["topk_thresholds"], "kl": cfg["kl_thresholds"]}[loss])


def _lambda_table(P: dict[str, Any]) -> str:
    rows = []
    for fam in ("exhaustive", "actor-critic", "static-hindsight"):
        for k, v in P.items():
            if v["family"] == fam and v["lambda"] is not None:
                rows.append([k, v["ci"], _pm(v["cost_saved"]), _pm(v["loss"], d=2), _pm(v["objective"], 1.0, 4),
                             _pm(v["gmv_change"], d=2)])
    return markdown_table(["policy", "± over", "cost saved %", "loss %", "loss + lambda cost", "GMV change %"], rows)


def _greedy_table(P: dict[str, Any]) -> str:
    rows = [[k, _pm(v["cost_saved"]), _pm(v["loss"], d=2), _pm(v["gmv_change"], d=2),
             ", ".join(n for n, f in zip(FEATURE_NAMES, v["eval_frequency"]) if f < 0.5) or "-"]
            for k, v in P.items() if v["family"] == "static-greedy" and "budget" in v]
    return markdown_table(["static subset", "cost saved %", "loss %", "GMV change %", "skipped"], rows)


def _context_table(ctx: dict[str, Any]) -> str:
    rows = [[k, f"{100 * v['cost_saved_rich_tail']:.1f}", f"{100 * v['cost_saved_other']:.1f}",
             _pm((v["difference"]["mean"], v["difference"]["half"])), v["difference"]["ci"]]
            for k, v in ctx.items() if isinstance(v, dict)]
    return markdown_table(["policy", "cost saved %, power > 0.6 and tail > 0.6", "cost saved %, other requests",
                           "difference (points)", "± over"], rows)


def _comparison_table(comp: dict[str, Any]) -> str:
    rows = [[k, f"{d['mean']:+.4f}" + (f" ± {d['half']:.4f}" if d["half"] == d["half"] else ""), str(d["n"])]
            for k, d in comp.items()]
    return markdown_table(["env return, learned minus baseline", "difference (± between seeds)", "seeds"], rows)


def _setting(cfg: dict[str, Any], meta: dict[str, Any]) -> str:
    losses = ", ".join(f"{label(cfg, lo)} (C in {unit(lo)}: {', '.join(f'{c:g}' for c in cfg_grid(cfg, lo))})"
                       for lo in cfg["losses"])
    v = meta.get("versions", {})
    return (
        f"Setting: {cfg['n_train']} training and {cfg['n_test']} held-out requests of {cfg['n_items']} "
        f"candidates; linear production ranker; loss definitions t: {losses}; "
        f"env return = -cost fraction - {cfg['penalty']:g} x [t > C]; learners trained "
        f"{cfg['iterations']} iterations x {cfg['num_envs']} requests with {cfg['seeds']} training seeds each; "
        f"GMV = exact expected GMV of {cfg['users_per_request']} simulated users per held-out request (SSMDP "
        f"simulator, expectation mode; all-features GMV {meta['full_gmv']:.2f} per session).  "
        f"± = 95 % CI: between the training seeds for learned policies (Student-t over the seeds' means on the "
        f"same held-out requests), over the held-out requests for baselines and in the 'over requests' column.  "
        f"'Flat GMV': the GMV change's CIs (seeds and requests, in quadrature) reach 0.  "
        f"Wall time {meta['wall_seconds']:.0f} s, load average {meta['load_average_start']:.1f} -> "
        f"{meta['load_average_end']:.1f} on {meta['cpu_count']} cores ({meta.get('cpu', '?')}); numpy "
        f"{v.get('numpy', '?')}, torch {v.get('torch', '?')}, one torch thread per job, deterministic algorithms."
    )


def _plots_section(plots: Sequence[str]) -> list[str]:
    captions = {
        "sweep_c.png": "Cost saved, GMV change and mean loss against the threshold C, per loss definition "
                       "(bands: 95 % CI between training seeds for learners, over requests for baselines).",
        "pareto_gmv.png": "Cost saved against the change in expected GMV; learned policies and the oracle at each "
                          "C (error bars: 95 % CI), static subsets as points.",
        "learning.png": "Training curves (mean over seeds, bands: 95 % CI between seeds).",
        "context.png": "Which features the policies evaluate at the middle C of the headline loss, and how much "
                       "they save by request context.",
    }
    lines = ["## Plots", ""]
    for p in plots:
        lines += [f"![{p}]({p})", "", captions.get(p, ""), ""]
    return lines


def render(results: dict[str, Any], plots: Sequence[str], command: str = "") -> str:
    """The text of report.md (``results`` holds ``claims`` as written by
    :func:`write_report`)."""
    cfg, meta, P, ctx = results["config"], results["meta"], results["policies"], results["context"]
    lines = [
        "# Engine cost: which ranking features to compute per request",
        "",
        claims_table(Claim(**c) for c in results["claims"]),
        "",
        "Reproduction of the seed article's engine-performance section (引擎性能优化): per search "
        "request, decide for each of 12 ranking features whether the engine computes it (Eval) or "
        "replaces it by its population mean (Skip), keeping the ranking close to the full-feature "
        "ranking while the cost of the computed features falls.  Protocol and definitions: "
        "`docs/engine_cost.md`." + (f"  Command: `{command}`." if command else ""),
        "",
        _setting(cfg, meta),
        "",
    ]
    for loss in cfg["losses"]:
        lines += [f"## Threshold objective, {label(cfg, loss)} loss (the article's reward)", "",
                  _threshold_table(cfg, P, loss), ""]
    if any(v["lambda"] is not None for v in P.values()):
        lines += ["## Relaxed objective min loss + lambda x cost (the article's eq. 2)", "", _lambda_table(P), ""]
    lines += [
        "## Greedy static subsets under a cost budget (fitted on training requests)", "", _greedy_table(P), "",
        "## Learned minus baselines", "", _comparison_table(results["comparisons"]), "",
        "## Context", "",
        f"{100 * ctx['rich_tail_share']:.0f} % of held-out requests come from users with purchasing power > 0.6 "
        "on queries with long-tail degree > 0.6 (the article's example of requests needing fewer "
        "expensive features).",
        "",
        _context_table(ctx),
        "",
        *_plots_section(plots),
    ]
    return "\n".join(lines)
