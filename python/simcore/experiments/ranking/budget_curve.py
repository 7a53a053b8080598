"""The equal-budget learning curve of the ranking study: the equal-budget comparison
(simcore's learners vs Stable-Baselines3 at the same number of real pages) recorded at
several budgets, read back from the recorded runs' JSON and drawn as GMV against real
pages, with between-seed 95 % CIs and the per-segment static optimum as a reference.

Each budget is one run of ``simcore reproduce ranking --set budget_agents=... --set
budget_steps=... --out DIR`` (with "segment-opt" among its agents, for the reference);
its results.json is reduced to a summary.json (:func:`summarise`, the histories left
out) kept under ``docs/runs/ranking/budget_curve/<pages>/``.  Nothing here runs an
experiment::

    python -m simcore.experiments.ranking.budget_curve docs/runs/ranking/budget_curve \\
        --png docs/ranking_budget_curve.png

prints one Markdown table per budget and writes the PNG.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.experiments.ranking.config import LABELS
from simcore.report import markdown_table, new_figure, save_figure
from simcore.report.io import write_json

#: the reference of the gap column and of the plot's horizontal line
OPTIMUM = "segment-opt"


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """A recorded run's summary: results.json without the learning histories (config,
    meta with versions and machine, final tables, comparisons, claims, and every job's
    own numbers as ``per_seed_final``)."""
    keep = ("config", "meta", "final", "comparisons", "claims")
    runs = [{k: v for k, v in r.items() if k != "history"} for r in results.get("runs", [])]
    return {**{k: results[k] for k in keep if k in results}, "per_seed_final": runs}


def write_summary(run_dir: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Writes ``summarise(run_dir/results.json)`` as ``dest/summary.json`` (and copies
    run_dir/report.md beside it); returns the summary's path."""
    src, out = Path(run_dir), Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    with open(src / "results.json") as f:
        write_json(out / "summary.json", summarise(json.load(f)))
    if (src / "report.md").exists():
        (out / "report.md").write_text((src / "report.md").read_text())
    return out / "summary.json"


def load_curve(root: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    """Budget (``comparisons.budget.pages``) -> summary, for every ``root/*/summary.json``
    (or results.json) holding an equal-budget comparison, in increasing budget."""
    out: dict[int, dict[str, Any]] = {}
    for d in sorted(Path(root).iterdir()):
        path = next((d / n for n in ("summary.json", "results.json") if (d / n).exists()), None)
        if path is None:
            continue
        with open(path) as f:
            data = json.load(f)
        b = data.get("comparisons", {}).get("budget", {})
        if b.get("final"):
            out[int(b["pages"])] = data
    return dict(sorted(out.items()))


def budget_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per budget agent: real pages (min, max over seeds), sampled and exact GMV with
    their 95 % CIs, and the paired gap to the per-segment optimum (sampled and exact;
    None without it)."""
    b = summary["comparisons"]["budget"]
    rows = []
    for k, r in b["final"].items():
        pages = [p for p in r.get("pages_per_seed", []) if p is not None]
        gap = b.get("vs", {}).get(k, {}).get(OPTIMUM)
        rows.append({"agent": k, "pages": (min(pages), max(pages)) if pages else None,
                     "gmv": tuple(r["gmv"]), "exact_gmv": tuple(r["exact_gmv"]),
                     "gap": (gap["diff"], gap["ci"]) if gap else None,
                     "gap_exact": (gap["exact"]["diff"], gap["exact"]["ci"]) if gap else None,
                     "seeds": len(r["gmv_per_seed"]), "cpu_seconds": r.get("cpu_seconds")})
    return rows


def _pm(x: tuple[float, float] | None) -> str:
    return "n/a" if x is None else f"{x[0]:+.2f} ± {x[1]:.2f}" if x[0] < 0 else f"{x[0]:.2f} ± {x[1]:.2f}"


def tables(curve: dict[int, dict[str, Any]]) -> str:
    """One Markdown table per budget (module docstring)."""
    parts = []
    for budget, summary in curve.items():
        opt = summary["final"].get(OPTIMUM)
        rows = []
        for r in budget_rows(summary):
            pages = "n/a" if r["pages"] is None else f"{r['pages'][0]:,}" if r["pages"][0] == r["pages"][1] \
                else f"{r['pages'][0]:,}-{r['pages'][1]:,}"
            rows.append([LABELS.get(r["agent"], r["agent"]), pages, _pm(r["gmv"]), _pm(r["exact_gmv"]),
                         _pm(r["gap"]), _pm(r["gap_exact"]), f"{r['cpu_seconds']:.1f}"])
        if opt:
            rows.append([LABELS[OPTIMUM] + " (reference)", "", _pm(tuple(opt["gmv"])), _pm(tuple(opt["exact_gmv"])),
                         "", "", f"{opt.get('cpu_seconds', float('nan')):.1f}"])
        parts.append(f"**{budget:,} real pages per run** ({rows and budget_rows(summary)[0]['seeds']} seeds)\n\n"
                     + markdown_table(["agent", "real pages per run", "GMV / session", "exact GMV",
                                       "gap to per-segment optimum", "gap (exact)", "CPU s per run"], rows))
    return "\n\n".join(parts)


def _agent_colors(agents: list[str]) -> dict[str, Any]:
    """A distinct tab10 colour per budget agent, in the curve's order."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {k: cmap(i % 10) for i, k in enumerate(agents)}


def plot_budget_curve(curve: dict[int, dict[str, Any]], path: str | os.PathLike[str],
                      key: str = "gmv") -> Path:
    """Two panels against the real pages each run trained on (log axis), 5 seeds' mean
    and shaded 95 % CI per budget agent.  Left: GMV per session (``key``: "gmv" sampled or
    "exact_gmv"), between-seed CIs, with the per-segment optimum (mean over the budgets'
    runs, its CI shaded) as a dashed line.  Right: the gap to that optimum paired by seed
    (sampled with ``key`` "gmv", else exact), whose CI is the one the verdicts use; 0 is
    the optimum.  Writes a PNG to ``path`` and returns it."""
    budgets = list(curve)
    agents = list(dict.fromkeys(k for s in curve.values() for k in s["comparisons"]["budget"]["final"]))
    col = _agent_colors(agents)
    fig, axes = new_figure(ncols=2, width=5.6, height=4.4)
    ax, gx = axes[0][0], axes[0][1]
    for i, k in enumerate(agents):
        have = [b for b in budgets if k in curve[b]["comparisons"]["budget"]["final"]]
        x = np.array(have, float)
        pts = [curve[b]["comparisons"]["budget"]["final"][k][key] for b in have]
        m, ci = np.array([p[0] for p in pts], float), np.nan_to_num(np.array([p[1] for p in pts], float))
        ax.plot(x, m, marker="o", color=col[k], label=LABELS.get(k, k))
        ax.fill_between(x, m - ci, m + ci, color=col[k], alpha=0.15, linewidth=0)
        gaps = [curve[b]["comparisons"]["budget"].get("vs", {}).get(k, {}).get(OPTIMUM) for b in have]
        gp = [(b, g if key == "gmv" else g["exact"]) for b, g in zip(have, gaps) if g]
        if gp:
            shift = 2.0 ** (0.05 * (i - (len(agents) - 1) / 2))  # side by side, not on top
            gxv = np.array([b for b, _ in gp], float) * shift
            gm = np.array([g["diff"] for _, g in gp], float)
            gc = np.nan_to_num(np.array([g["ci"] for _, g in gp], float))
            gx.errorbar(gxv, gm, yerr=gc, marker="o", color=col[k], capsize=3, label=LABELS.get(k, k))
    opts = [curve[b]["final"][OPTIMUM][key] for b in budgets if OPTIMUM in curve[b]["final"]]
    if opts:
        om, oc = float(np.mean([o[0] for o in opts])), float(np.mean([o[1] for o in opts]))
        ax.axhline(om, color="k", linestyle="--", linewidth=1.2, label=LABELS[OPTIMUM] + " (no online budget)")
        ax.axhspan(om - oc, om + oc, color="k", alpha=0.08, linewidth=0)
    gx.axhline(0.0, color="k", linestyle="--", linewidth=1.2)
    what = "exact expected" if key == "exact_gmv" else "sampled"
    for a in (ax, gx):
        a.set_xscale("log", base=2)
        a.set_xticks(budgets, [f"{b:,}" for b in budgets])
        a.set_xlabel("real pages (env steps that show a page) per training run")
        a.grid(alpha=0.3)
    ax.set_ylabel(f"{what} GMV per session (price units)")
    gx.set_ylabel(f"{what} GMV minus the optimum (paired by seed)")
    seeds = {len(s["comparisons"]["budget"]["final"][a]["gmv_per_seed"]) for s in curve.values()
             for a in s["comparisons"]["budget"]["final"]}
    ns = "/".join(map(str, sorted(seeds)))
    ax.set_title(f"GMV at equal real pages ({ns} seeds, between-seed 95% CI)", fontsize=9)
    gx.set_title("Gap to the per-segment optimum (paired 95% CI; 0 = optimum)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    save_figure(fig, path)
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """CLI: print the tables of the recorded curve and write its PNG (module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", help="folder with one <pages>/summary.json per budget")
    p.add_argument("--png", help="write the learning curve here")
    p.add_argument("--exact", action="store_true", help="plot the exact GMV instead of the sampled one")
    args = p.parse_args(argv)
    curve = load_curve(args.root)
    if not curve:
        print(f"{args.root}: no recorded equal-budget run")
        return 2
    print(tables(curve))
    if args.png:
        plot_budget_curve(curve, args.png, key="exact_gmv" if args.exact else "gmv")
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
