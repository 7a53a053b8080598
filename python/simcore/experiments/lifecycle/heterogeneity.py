"""Sensitivity of the lifecycle verdicts to the response heterogeneity h
(``MarketingConfig.heterogeneity``: the scale of the stage x channel click terms, the
channel responsiveness and the spread of benefit sensitivity; docs/lifecycle_model.md).

For each h of a grid, the reproduction is run with a reduced method set (A2C, A2C-conv,
the DNN, the smallest cross-stitch and the LAF trace-norm classifiers, the rules and the
myopic optimum; every other setting as the given config, >= 5 seeds), and the main
verdicts are collected with their 95 % CIs over seeds:

* how heterogeneous the truth is: entropy and top share of the per-customer exact
  argmax of P(sign) and of E[reward] (day 1 of the evaluation activity);
* the BPI claim: convRate lift of MTL-CS-<w> against a2c-conv (replay);
* LTV vs CTR: the max-CTR policy minus A2C, paired, in CTR and in LTV;
* A2C against the myopic optimum and against the best classifier (LTV, paired).

``python -m simcore.experiments.lifecycle.heterogeneity OUT_DIR [h ...]`` writes
``heterogeneity.json``, ``heterogeneity.md`` and ``heterogeneity.png`` into OUT_DIR
(default grid 0, 0.5, 1, 2).  h is a model parameter, not fitted: the grid shows how the
verdicts move with it, it is not searched for a wanted verdict.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.run import run
from simcore.report import markdown_table, plus_minus
from simcore.report.plots import new_figure, save_figure

__all__ = ["GRID", "reduced", "verdicts", "sweep", "main"]

#: the default grid of h
GRID: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)


def reduced(cfg: LifecycleExperimentConfig, h: float) -> LifecycleExperimentConfig:
    """``cfg`` at heterogeneity h with the reduced method set (module docstring)."""
    lc = cfg.lifecycle
    lc = dataclasses.replace(lc, marketing=dataclasses.replace(lc.marketing, heterogeneity=float(h)))
    return dataclasses.replace(cfg, lifecycle=lc, learners=("a2c", "a2c-conv"), cs_widths=cfg.cs_widths[:1],
                               tn_norms=("laf",))


def verdicts(R: dict[str, Any]) -> dict[str, Any]:
    """The main numbers of one run's results (module docstring), each {mean, half}."""
    p, ba = R["pairs"], R["best_actions"]
    cs = f"MTL-CS-{R['config']['cs_widths'][0]}"
    return {
        "sign_argmax_entropy": ba["p_convert"]["entropy"], "sign_argmax_top": ba["p_convert"]["top_share"],
        "reward_argmax_entropy": ba["expected_reward"]["entropy"],
        "reward_argmax_top": ba["expected_reward"]["top_share"],
        "mtl_lift_vs_a2c_conv": R["bpi"][cs]["lifts"]["a2c-conv"],
        "click_minus_a2c_ctr": p["click_vs_drl_ctr"], "click_minus_a2c_ltv": p["click_vs_drl_ltv"],
        "a2c_minus_myopic_ltv": p["drl_vs_myopic_ltv"],
        "a2c_minus_best_classifier_ltv": p.get("drl_vs_best_classifier_ltv"),
        "best_classifier": R.get("best_classifier"), "click_label": R["click_label"],
        "ltv": {k: R["online"][k]["ltv"] for k in R["online"]},
    }


def sweep(cfg: LifecycleExperimentConfig, grid: tuple[float, ...] = GRID,
          progress: bool = False) -> list[dict[str, Any]]:
    """One reduced run per h; returns [{h, seconds, verdicts}]."""
    out = []
    for h in grid:
        t0 = time.perf_counter()
        R = run(reduced(cfg, h), progress=progress)
        out.append({"h": float(h), "seconds": time.perf_counter() - t0, "commit": R["meta"]["git_commit"],
                    "verdicts": verdicts(R)})
    return out


def _pm(c: dict[str, float] | None, digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
    return "–" if not c else plus_minus(c["mean"], c["half"], digits=digits, scale=scale, suffix=suffix)


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of a sweep."""
    body = []
    for r in rows:
        v = r["verdicts"]
        body.append([f"{r['h']:g}", _pm(v["sign_argmax_entropy"], 2), _pm(v["sign_argmax_top"], 3),
                     _pm(v["reward_argmax_entropy"], 2), _pm(v["mtl_lift_vs_a2c_conv"], 1, 100.0, " %"),
                     _pm(v["click_minus_a2c_ctr"], 4), _pm(v["click_minus_a2c_ltv"], 2),
                     _pm(v["a2c_minus_myopic_ltv"], 2),
                     f"{_pm(v['a2c_minus_best_classifier_ltv'], 2)} ({v['best_classifier']})",
                     _pm(v["ltv"]["a2c"], 2), _pm(v["ltv"]["myopic-opt"], 2), f"{r['seconds']:.0f}"])
    return markdown_table(["h", "P(sign) argmax entropy", "P(sign) argmax top share", "E[reward] argmax entropy",
                           "MTL-CS lift vs a2c-conv", "max-CTR minus A2C: CTR", "max-CTR minus A2C: LTV $",
                           "A2C minus myopic-opt: LTV $", "A2C minus best classifier: LTV $", "A2C LTV $",
                           "myopic-opt LTV $", "run s"], body)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Three panels against h: the truth's argmax entropy, the BPI lift, the LTV differences."""
    fig, ax = new_figure(3, 1, width=4.5)
    hs = [r["h"] for r in rows]

    def line(a: Any, key: str, label: str, scale: float = 1.0) -> None:
        m = [r["verdicts"][key]["mean"] * scale for r in rows]
        e = [r["verdicts"][key]["half"] * scale for r in rows]
        a.errorbar(hs, m, yerr=e, marker="o", capsize=3, label=label)

    line(ax[0][0], "sign_argmax_entropy", "P(sign) argmax")
    line(ax[0][0], "reward_argmax_entropy", "E[reward] argmax")
    ax[0][0].set_ylabel("entropy of the true best action (nats)")
    line(ax[0][1], "mtl_lift_vs_a2c_conv", "MTL-CS vs a2c-conv", 100.0)
    ax[0][1].axhline(0, color="gray", lw=1)
    ax[0][1].set_ylabel("convRate lift (%)")
    line(ax[0][2], "a2c_minus_myopic_ltv", "A2C - myopic-opt")
    line(ax[0][2], "a2c_minus_best_classifier_ltv", "A2C - best classifier")
    line(ax[0][2], "click_minus_a2c_ltv", "max-CTR - A2C")
    ax[0][2].axhline(0, color="gray", lw=1)
    ax[0][2].set_ylabel("LTV difference ($/customer, paired)")
    for a in ax[0]:
        a.set_xlabel("heterogeneity h")
        a.legend(fontsize=7)
    save_figure(fig, path)


def main(argv: list[str]) -> None:
    """CLI (module docstring)."""
    out = Path(argv[0] if argv else "lifecycle-heterogeneity")
    grid = tuple(float(x) for x in argv[1:]) or GRID
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for h in grid:  # written after every h, so that a cut-short sweep keeps what it ran
        rows += sweep(LifecycleExperimentConfig(workers=2), (h,), progress=False)
        (out / "heterogeneity.json").write_text(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0},
                                                           indent=1, default=float))
        (out / "heterogeneity.md").write_text(table(rows) + "\n")
        plot(rows, out / "heterogeneity.png")
        print(table(rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
