"""The ranking study's report: report.md (claims table first, then the tables and
verdicts), results.json and the PNGs (:mod:`~simcore.experiments.ranking.plots`), from
the results :func:`simcore.experiments.ranking.run.run` returns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simcore.experiments.ranking.analysis import paired_both, paired_diff
from simcore.experiments.ranking.config import LABELS, RL_AGENTS, RankingConfig
from simcore.experiments.ranking.plots import _feature_names, plot_all
from simcore.report import Claim, claims_table, markdown_table, write_json
from simcore.report.claims import claims_json, verdict_from_ci
from simcore.util.config import from_dict

ARTICLE = "`../shared/seeds/003_*.txt`, 基于强化学习的实时搜索排序调控"
#: a learner "reaches" the per-segment optimum when its GMV is within this fraction at the 95% level
REACH_TOL = 0.05


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str],
                 command: str = "simcore reproduce ranking") -> list[str]:
    """report.md, results.json and the PNGs into ``out_dir``; returns the file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = from_dict(RankingConfig, results["config"])
    summary = {"final": results["final"], "comparisons": results["comparisons"]}
    plots = plot_all(cfg, results["runs"], summary, out)
    claims = build_claims(cfg, summary)
    head = _header(cfg, results["meta"], command)
    lines = head[:2] + ["## Claims", "", claims_table(claims), ""] + head[2:]  # the claims table first
    lines += _final_section(summary) + _optimum_section(cfg, summary) + _rl_section(summary) + _verdicts(summary)
    lines += _weights_section(cfg, summary) + _early_section(cfg, summary) + _ns_section(cfg, summary)
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    (out / "report.md").write_text("\n".join(lines))
    write_json(out / "results.json", {**results, "claims": claims_json(claims)})
    return ["report.md", "results.json", *plots]


# ------------------------------------------------------------------------------ claims


def _ci_text(p: dict[str, float], scale: float = 100.0, unit: str = "%", seeds: int = 0) -> str:
    rel = f"{scale * p['rel']:+.1f}{unit} ± {scale * p['rel_ci']:.1f}{unit}" if p["rel_ci"] == p["rel_ci"] \
        else f"{scale * p['rel']:+.1f}{unit}"
    return rel + (f" ({seeds} seeds)" if seeds else "")


def _claim_from_paired(claim: str, source: str, p: dict[str, float] | None, seeds: int, cond: str) -> Claim:
    if p is None:
        return Claim(claim, source, "not run", "not tested", cond)
    verdict = verdict_from_ci(p["diff"] - p["ci"], p["diff"] + p["ci"])
    return Claim(claim, source, _ci_text(p, seeds=seeds), verdict, cond)


def build_claims(cfg: RankingConfig, summary: dict[str, Any]) -> list[Claim]:
    """The source's claims, where they are, our result with its 95% CI and the verdict."""
    fin, comps = summary["final"], summary["comparisons"]
    cond = (f"{cfg.iterations * cfg.steps_per_iteration * cfg.num_envs:,} training pages per run, "
            f"reward `{cfg.reward}`, N={cfg.world.n_items}, m={cfg.world.n_features}")
    rl = [k for k in RL_AGENTS if k in fin]
    best = max(rl, key=lambda k: fin[k]["gmv"][0]) if rl else None
    vs_ltr = comps["rl_vs"].get(best, {}).get("ltr-default") if best else None
    claims = _optimum_claims(cfg, comps, best, cond, fin) + [_claim_from_paired(
        "RL ranking control raises GMV over the fixed LTR weights "
        f"(best RL agent: {LABELS.get(best, best) if best else 'none run'})",
        f"{ARTICLE}, section 实验效果", vs_ltr, cfg.seeds, cond + "; paired by seed vs fixed LTR default")]
    e = comps["early"]
    claims.append(_claim_from_paired(
        "reward shaping (LTR potentials) speeds up early learning", f"{ARTICLE}, section 奖赏塑形",
        e.get("dpg-shaped vs dpg"), cfg.seeds,
        f"mean greedy GMV over the first {100 * cfg.early_frac:.0f}% of evaluations, beta={cfg.shaping_weight}"))
    claims.append(_claim_from_paired(
        "the LTR gradient term speeds up DDPG's learning", f"{ARTICLE}, section DDPG与梯度融合",
        e.get("ddpg-ltr vs ddpg"), cfg.seeds, f"lambda={cfg.ltr_weight}, early window as above"))
    fbe = paired_diff(fin["dpg-fbe"]["gmv_per_seed"], fin["ddpg"]["gmv_per_seed"]) \
        if "dpg-fbe" in fin and "ddpg" in fin else None
    claims.append(_claim_from_paired(
        "the full expected backup (DPG-FBE) beats sampled-outcome DDPG on GMV",
        "Hu et al., KDD 2018, section 5 (DPG-FBE)", fbe, cfg.seeds, cond + f"; FBE reward `{cfg.fbe_reward}`"))
    claims.append(_rneu_claim(cfg, comps["nonstationary"]))
    return claims


def _optimum_claims(cfg: RankingConfig, comps: dict[str, Any], best: str | None, cond: str,
                    fin: dict[str, Any]) -> list[Claim]:
    """Ours, not the article's: the best learner vs the per-segment optimum, and simcore's
    learners vs SB3 PPO / SAC at equal env steps."""
    src = "this study (issue 10): hardest baseline"
    vs = comps.get("vs_optimum", {}).get(best, {}).get("segment-opt") if best else None
    claim = f"the best learner ({LABELS.get(best, best) if best else 'none run'}) reaches the per-segment static optimum"
    out = [_reach_claim(claim, src, vs, cfg.seeds, cond, "needs segment-opt, a learner and >= 2 seeds")]
    nonneg = paired_both(fin["segment-opt-nonneg"], fin["segment-opt"]) \
        if "segment-opt-nonneg" in fin and "segment-opt" in fin else None
    out.append(_reach_claim("the article's softmax actor's class (non-negative weights, one vector per segment) "
                            "reaches the per-segment optimum", src + ": why the softmax DPG falls short", nonneg,
                            cfg.seeds, "CEM on exact GMV over [0, 1]^m per segment, same panel and budget as "
                            "segment-opt", "needs segment-opt-nonneg and segment-opt"))
    budget = comps.get("budget", {})
    for k, row in budget.get("vs", {}).items():
        for ref in (r for r in row if r != "segment-opt"):
            out.append(_claim_from_paired(
                f"{LABELS.get(k, k)} beats {LABELS.get(ref, ref)} at equal env steps", src + " (SB3 side by side)",
                row[ref], cfg.seeds, f"{budget['pages']:,} env steps (pages) each; same sampled evaluation "
                f"sessions and held-out panel; exact GMV diff {_pm((row[ref]['exact']['diff'], row[ref]['exact']['ci']))}"))
    return out


def _reach_claim(claim: str, src: str, vs: dict[str, Any] | None, seeds: int, cond: str, missing: str) -> Claim:
    """"Reaches the reference": reproduced when the relative difference's CI lies above
    -REACH_TOL and includes 0 or is above it, not reproduced when it lies below 0."""
    if vs is None or vs["ci"] != vs["ci"]:
        return Claim(claim, src, "not run", "not tested", missing)
    lo, hi = vs["rel"] - vs["rel_ci"], vs["rel"] + vs["rel_ci"]
    verdict = "not reproduced" if hi < 0 else ("reproduced" if lo > -REACH_TOL else "partly reproduced")
    return Claim(claim, src, _ci_text(vs, seeds=seeds), verdict,
                 cond + f"; sampled GMV on the same sessions, paired by seed; reproduced = the CI's lower end "
                 f"above -{100 * REACH_TOL:.0f}%, not reproduced = CI below 0; exact GMV diff "
                 f"{_pm((vs['exact']['diff'], vs['exact']['ci']))}")


def _rneu_claim(cfg: RankingConfig, ns: dict[str, Any]) -> Claim:
    claim, src = "RNEU spikes when user behaviour shifts (the \"midnight jump\")", f"{ARTICLE}, 实验效果 (the RNEU figure after 0:00)"
    if "dpg" not in ns:
        return Claim(claim, src, "not run", "not tested", "needs the non-stationary run of dpg")
    m, ci = ns["dpg"]["spike_ratio"]
    verdict = verdict_from_ci(m - 1 - ci, m - 1 + ci) if ci == ci else "not tested"
    return Claim(claim, src, f"DPG peak/before ratio {_pm((m, ci), 1)} ({cfg.seeds} seeds)", verdict,
                 f"shift at iteration {cfg.ns_iterations // 2} of {cfg.ns_iterations}: {cfg.shift_user}")


# ------------------------------------------------------------------------------ sections


def _pm(x: tuple[float, float], d: int = 2) -> str:
    m, ci = x
    return f"{m:.{d}f} ± {ci:.{d}f}" if ci == ci else f"{m:.{d}f}"


def _cpu_text(row: dict[str, Any]) -> str:
    """A final row's mean CPU seconds per run ("" when not measured; the named vectors: none)."""
    v = row.get("cpu_seconds", float("nan"))
    return f"{v:.0f}" if v == v else ""


def _pages_text(row: dict[str, Any]) -> str:
    """The real pages of a budget row's runs: one number if all seeds agree, else min-max
    ("n/a" for runs recorded before they were counted)."""
    pages = [p for p in row.get("pages_per_seed", []) if p is not None]
    if not pages:
        return "n/a"
    lo, hi = min(pages), max(pages)
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def _header(cfg: RankingConfig, meta: dict[str, Any], command: str) -> list[str]:
    return [
        "# Ranking control: DPG, reward shaping, DDPG + LTR gradient, DPG-FBE",
        "",
        f"Generated by `{command}` in {meta['wall_seconds']:.0f} s wall"
        + (f", {meta['job_cpu_seconds']:.0f} s of CPU in the jobs" if "job_cpu_seconds" in meta else "")
        + f" ({meta['workers']} worker processes, load average before the run {meta['load_before']}, "
        f"{meta['cpus']} CPUs).  Protocol: `docs/ranking.md`.",
        "",
        f"Setting: {cfg.seeds} seeds; each run trains for {cfg.iterations} iterations x "
        f"{cfg.steps_per_iteration} batched steps x {cfg.num_envs} sessions = "
        f"{cfg.iterations * cfg.steps_per_iteration * cfg.num_envs:,} page requests; env reward "
        f"`{cfg.reward}` (price on purchase, else number of clicks); catalogue N={cfg.world.n_items}, "
        f"m={cfg.world.n_features}, {cfg.world.n_queries} queries.  Final numbers: the greedy policy on "
        f"{cfg.final_eval_steps} batched steps of fresh sessions (the same sessions for every agent of a "
        "seed, so differences are paired by seed).  ± is the half-width of the 95% Student-t CI over seeds.",
        "",
    ]


def _final_section(summary: dict[str, Any]) -> list[str]:
    fin = summary["final"]
    order = sorted((k for k in fin if not (k == "fixed-ltr" and "ltr-default" in fin)),
                   key=lambda k: -fin[k]["gmv"][0])
    ref = "ltr-default" if "ltr-default" in fin else None
    rows = []
    for k in order:
        rel = ""
        if ref and k != ref:
            p = paired_diff(fin[k]["gmv_per_seed"], fin[ref]["gmv_per_seed"])
            rel = (f"{100 * p['rel']:+.0f}% ± {100 * p['rel_ci']:.0f}%" if p["rel_ci"] == p["rel_ci"]
                   else f"{100 * p['rel']:+.0f}%")
        rows.append([LABELS.get(k, k), _pm(fin[k]["gmv"]), _pm(fin[k].get("exact_gmv", (float("nan"),) * 2)),
                     _pm(fin[k]["ctr"], 4), f"{fin[k]['clicks_per_session']:.2f}", f"{fin[k]['conversion']:.3f}", rel,
                     _cpu_text(fin[k])])
    return ["## Final GMV and CTR per session", "",
            "\"exact GMV\": the greedy policy's exact expected GMV per session on a held-out panel of users "
            "(expectation mode, no outcome sampled).  Exact for policies that do not read the clicked-item "
            "features (static, per-segment); for the learners it is the value of the policy with those "
            "features held at zero (no clicks are shown in expectation mode), a lower-information variant.", "",
            markdown_table(["agent", "GMV / session", "exact GMV", "CTR", "clicks / session", "conversion",
                            "GMV vs fixed LTR default", "CPU s per run"], rows), ""]


def _optimum_section(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    """Learners vs the per-segment and the global static optimum, and the equal-budget
    comparison with SB3."""
    fin, comps = summary["final"], summary["comparisons"]
    rows = []
    for k, refs in comps.get("vs_optimum", {}).items():
        for ref, p in refs.items():
            rows.append([LABELS[k], LABELS[ref], _pm((p["diff"], p["ci"])), _pm((p["exact"]["diff"], p["exact"]["ci"]))])
    out = []
    if rows:
        seg = fin.get("segment-opt", {}).get("exact_by_segment")
        out += ["## Learners vs the per-segment optimum", "",
                "The per-segment (contextual) static optimum: one weight vector per user segment, CEM on the exact "
                f"expected GMV of a panel of {cfg.segment_panel} users (the global static optimum and the named "
                "vectors among its first candidates), evaluated like every agent.  Differences paired by seed.", "",
                markdown_table(["learner", "reference", "sampled GMV difference", "exact GMV difference"], rows), ""]
        if seg:
            out += ["Exact GMV per segment (held-out panel): " + "; ".join(
                f"{LABELS.get(k, k)}: " + ", ".join(f"{v:.1f}" for v in fin[k]["exact_by_segment"])
                for k in ("tabular-opt", "segment-opt", "segment-opt-nonneg", "static-opt", *RL_AGENTS)
                if k in fin and "exact_by_segment" in fin[k]), ""]
    b = comps.get("budget", {})
    if b.get("final"):
        brow = [[LABELS.get(k, k), _pages_text(r), _pm(r["gmv"]), _pm(r["exact_gmv"]), f"{r['seconds']:.0f}",
                 _cpu_text(r)] for k, r in b["final"].items()]
        vrow = [[LABELS.get(k, k), LABELS.get(ref, ref), _pm((p["diff"], p["ci"])), _pm((p["exact"]["diff"], p["exact"]["ci"]))]
                for k, row in b["vs"].items() for ref, p in row.items()]
        out += ["## Equal env steps: simcore's learners vs Stable-Baselines3", "",
                f"Every agent trains on {b['pages']:,} real pages (env steps that show a page; the vector "
                "env's NEXT_STEP autoreset rows are not counted, and simcore's collector stops at exactly the "
                f"budget): simcore's on the {cfg.num_envs}-session "
                f"vector env (DDPG and DPG-FBE with `budget_ddpg` = {cfg.budget_ddpg} on top of `ddpg` = {cfg.ddpg}; "
                f"segment-pg with `budget_segment_pg` = {cfg.budget_segment_pg} on top of `segment_pg` = "
                f"{cfg.segment_pg}); SB3's PPO and SAC "
                "with their default settings on `gymnasium.make(\"simcore/SearchSession-v0\")` (same session "
                "config).  All are evaluated on the same sessions and held-out panel.", "",
                markdown_table(["agent", "real pages per run", "GMV / session", "exact GMV", "seconds per run",
                                "CPU s per run"], brow), "",
                markdown_table(["agent", "reference", "sampled GMV difference", "exact GMV difference"], vrow), ""]
    return out


def _rl_section(summary: dict[str, Any]) -> list[str]:
    comps = summary["comparisons"]
    bs, bl = comps["best_static"], comps["best_ltr_fit"]
    crow = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            crow.append([LABELS[k], LABELS.get(refk, refk), _pm((p["diff"], p["ci"])),
                         _pm((100 * p["rel"], 100 * p["rel_ci"]), 1) + "%"])
    table = markdown_table(["RL agent", "reference", "GMV difference", "relative"], crow) if crow \
        else "No RL agent in this run."
    return ["## Does RL beat the best fixed weights and the fitted LTR model?", "",
            f"Best static policy (over the exact-GMV CEM optimum, online CEM, the fitted LTR models and the "
            f"named weight vectors): **{LABELS.get(bs, bs)}**; best fitted LTR model: **{LABELS.get(bl, bl)}**.", "",
            table, ""]


def _weights_section(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    fin, bs = summary["final"], summary["comparisons"]["best_static"]
    names = _feature_names(cfg.world.n_features)
    wkeys = [k for k in ("segment-opt", "segment-opt-nonneg", "tabular-opt", "static-opt", "cem", "ltr-gmv", "ltr-click", "ltr-default", *RL_AGENTS) if k in fin]
    if not wkeys:
        return []
    lines = ["## Final greedy weights", "",
             "Mean ranking weights of each final policy over the evaluation states and seeds (the ranking "
             "depends only on the direction of the weight vector).  The article's softmax actor can only "
             "output positive weights; the DDPG/FBE actors (tanh) and the baselines can go negative.", "",
             markdown_table(["agent", *names], [[LABELS.get(k, k), *[f"{w:+.2f}" for w in fin[k]["weights"]]]
                                                for k in wkeys]), ""]
    if bs in fin:
        neg = [f"{n} ({w:+.2f})" for n, w in zip(names, fin[bs]["weights"]) if w < -0.05]
        lines += [f"Features with a clearly negative weight (< -0.05) in the best static policy "
                  f"({LABELS.get(bs, bs)}): {', '.join(neg) if neg else 'none'}.", ""]
    return lines


def _early_section(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    early = summary["comparisons"]["early"]
    if not early:
        return []
    erow = []
    for name, e in early.items():
        a, b = name.split(" vs ")
        fg, fc = e["final_gmv"], e["final_ctr"]
        erow.append([f"{LABELS[a]} vs {LABELS[b]}", _pm(e["early_gmv"][a]), _pm(e["early_gmv"][b]),
                     f"{e['diff']:+.2f} ± {e['ci']:.2f}", f"{fg['diff']:+.2f} ± {fg['ci']:.2f}",
                     f"{fc['diff']:+.4f} ± {fc['ci']:.4f}"])
    return ["## Early learning: reward shaping and the LTR term", "",
            f"Mean greedy-policy GMV over the first {100 * cfg.early_frac:.0f}% of the learning-curve "
            "evaluations (paired by seed):", "",
            markdown_table(["comparison", "early GMV (first)", "early GMV (second)", "early difference",
                            "final GMV difference", "final CTR difference"], erow), ""]


def _ns_section(cfg: RankingConfig, summary: dict[str, Any]) -> list[str]:
    ns = summary["comparisons"]["nonstationary"]
    if not ns:
        return []
    nrow = [[LABELS[k], _pm(v["rneu_before"], 4), _pm(v["rneu_peak_after"], 4), _pm(v["spike_ratio"], 1),
             _pm(v["rneu_end"], 4), _pm(v["final_gmv_shifted"])] for k, v in ns.items()]
    return ["## Non-stationary run (user behaviour shifts mid-run)", "",
            f"At iteration {cfg.ns_iterations // 2} of {cfg.ns_iterations} the user model changes to "
            f"{cfg.shift_user} and the segment mix to {cfg.shift_segment_probs}.", "",
            markdown_table(["agent", "RNEU before", "RNEU peak after", "spike ratio", "RNEU at end",
                            "final GMV (shifted users)"], nrow), ""]


def _verdicts(summary: dict[str, Any]) -> list[str]:
    """Plain-language conclusions computed from the numbers (never hard-coded)."""
    comps = summary["comparisons"]
    out = []
    for k, row in comps["rl_vs"].items():
        for refk, p in row.items():
            lo, hi = p["diff"] - p["ci"], p["diff"] + p["ci"]
            if not (p["ci"] == p["ci"]):
                verdict = "undetermined (one seed)"
            elif lo > 0:
                verdict = "beats"
            elif hi < 0:
                verdict = "is beaten by"
            else:
                verdict = "is not distinguishable from"
            out.append(f"- {LABELS[k]} {verdict} {LABELS.get(refk, refk)} on GMV "
                       f"({100 * p['rel']:+.1f}% ± {100 * p['rel_ci']:.1f}%).")
    for name, e in comps["early"].items():
        a, b = name.split(" vs ")
        lo, hi = e["diff"] - e["ci"], e["diff"] + e["ci"]
        word = "faster" if lo > 0 else ("slower" if hi < 0 else "no detectable difference")
        out.append(f"- Early learning, {LABELS[a]} vs {LABELS[b]}: {word} "
                   f"(early GMV difference {e['diff']:+.2f} ± {e['ci']:.2f}).")
    return out + [""]
