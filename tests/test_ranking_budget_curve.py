"""The equal-budget learning curve of the ranking study: summaries, tables and the PNG
from recorded runs (synthetic runs here; nothing is trained)."""

from __future__ import annotations

import json

from simcore.experiments.ranking.budget_curve import load_curve, main, plot_budget_curve, summarise, tables


def _row(g: float, pages: int | None) -> dict:
    return {"gmv": [g, 0.3], "exact_gmv": [g + 0.1, 0.2], "gmv_per_seed": [g] * 5,
            "pages_per_seed": [pages] * 5, "cpu_seconds": 1.0}


def _results(pages: int, spg: float, ppo: float) -> dict:
    gap = {"diff": spg - 8.0, "ci": 0.4, "exact": {"diff": spg - 7.9, "ci": 0.3}}
    return {"config": {"budget_steps": pages // 256}, "meta": {"cpu": "x"},
            "final": {"segment-opt": {"gmv": [8.0, 0.4], "exact_gmv": [8.1, 0.4], "cpu_seconds": 9.0}},
            "comparisons": {"budget": {"pages": pages,
                                       "final": {"segment-pg": _row(spg, pages), "sb3-ppo": _row(ppo, pages)},
                                       "vs": {"segment-pg": {"segment-opt": gap}}}},
            "claims": [], "runs": [{"kind": "budget", "agent": "segment-pg", "seed": 0, "pages": pages,
                                    "history": [{"pages": pages}]}]}


def test_summary_tables_and_png(tmp_path, capsys):
    for pages, spg, ppo in ((8192, 7.0, 7.1), (32768, 7.6, 7.4)):
        d = tmp_path / "curve" / str(pages)
        d.mkdir(parents=True)
        s = summarise(_results(pages, spg, ppo))
        assert "runs" not in s and "history" not in s["per_seed_final"][0] and s["per_seed_final"][0]["pages"] == pages
        (d / "summary.json").write_text(json.dumps(s))
    curve = load_curve(tmp_path / "curve")
    assert list(curve) == [8192, 32768]
    text = tables(curve)
    assert "**32,768 real pages per run** (5 seeds)" in text and "| 8,192 |" in text and "-1.00 ± 0.40" in text
    png = plot_budget_curve(curve, tmp_path / "curve.png")
    assert png.exists() and png.stat().st_size > 1000
    assert main([str(tmp_path / "curve"), "--png", str(tmp_path / "c2.png"), "--exact"]) == 0
    assert (tmp_path / "c2.png").exists() and "real pages per run" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 2  # no summary directly under tmp_path/*
