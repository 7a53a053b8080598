"""The Virtual Taobao report: analysis over seeds, the claims table, report.md,
results.json and the PNG plots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simcore.report import claims_table, markdown_table, plus_minus, write_json
from simcore.report.claims import Claim, claims_json, verdict_from_ci
from simcore.report.stats import paired, t_ci

__all__ = ["analyse", "claims", "write_report", "summary"]

SRC = "seeds/003 虚拟淘宝 and Shi et al. (AAAI 2019)"
GENS = ("empirical", "gmm", "gan-sd")


def _ci(x: Any) -> list[float]:
    return list(t_ci(np.asarray(x, np.float64).ravel()))


def analyse(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means and Student-t 95 % half-widths over seeds of every headline metric."""
    A: dict[str, Any] = {"seeds": len(runs)}
    for key in ("spearman_bc", "spearman_gail", "spearman_mail", "spearman_joint", "spearman_uncal",
                *(f"spearman_{g}" for g in GENS)):
        A[key] = _ci([r[key] for r in runs])
    A["rel_err_bc"] = _ci([np.mean(r["rel_err_bc"]) for r in runs])
    A["rel_err_gail"] = _ci([np.mean(r["rel_err_gail"]) for r in runs])
    A["gail_minus_bc_rel_err"] = paired([np.mean(r["rel_err_gail"]) for r in runs],
                                        [np.mean(r["rel_err_bc"]) for r in runs])
    A["gail_minus_bc_spearman"] = paired([r["spearman_gail"] for r in runs], [r["spearman_bc"] for r in runs])
    A["rel_err_mail"] = _ci([np.mean(r["rel_err_mail"]) for r in runs])
    A["mail_minus_bc_rel_err"] = paired([np.mean(r["rel_err_mail"]) for r in runs],
                                        [np.mean(r["rel_err_bc"]) for r in runs])
    A["mail_minus_bc_spearman"] = paired([r["spearman_mail"] for r in runs], [r["spearman_bc"] for r in runs])
    A["mail_reward_last"] = _ci([r["mail_reward"][-1] for r in runs])
    _joint_and_calibration(A, runs)
    A["conv_ratio_ltr_mail"] = _ci([r["conversion_mail"][0] / r["conversion_true"][0] for r in runs])
    for g in GENS:
        A[f"rel_err_{g}"] = _ci([np.mean(r[f"rel_err_{g}"]) for r in runs])
    A["r2p_tv_ltr"] = _ci([r["r2p_tv"][0] for r in runs])
    # the logging policy (panel row 0): conversion and E[price | buy] = value / conversion, BC sim / truth
    A["conv_ratio_ltr"] = _ci([r["conversion_bc"][0] / r["conversion_true"][0] for r in runs])
    A["price_ratio_ltr"] = _ci([(r["value_bc"][0] / r["conversion_bc"][0]) / (r["value_true"][0] / r["conversion_true"][0])
                                for r in runs])
    A["bc_epochs_run"] = _ci([len(r["bc_val_nll"]) for r in runs])
    A["bc_best_epoch"] = _ci([r.get("bc_best_epoch", len(r["bc_val_nll"])) for r in runs])
    A["bc_best_val_nll"] = _ci([min(r["bc_val_nll"]) for r in runs])
    A["kl_ltr_mean"] = _ci([np.mean(r["kl_pages_ltr"]) for r in runs])
    comp = np.array([r["compounding"] for r in runs])
    A["compounding"] = [list(t_ci(comp[:, h])) for h in range(comp.shape[1])]
    A["compounding_last_minus_first"] = paired(comp[:, -1], comp[:, 0])
    for key in ("gail", "mail", "joint"):
        cg = np.array([r[f"compounding_{key}"] for r in runs])
        A[f"compounding_{key}"] = [list(t_ci(cg[:, h])) for h in range(cg.shape[1])]
    rho = []
    from scipy.stats import spearmanr

    for r in runs:
        rho.append(float(spearmanr(r["distance"], r["rel_err_bc"])[0]))
    A["err_vs_distance_spearman"] = _ci(rho)
    for g in (*GENS, "true-resample"):
        for k in ("tv_query", "tv_segment", "tv_query_segment", "tv_segment_power", "w1_power"):
            A[f"pop_{g}_{k}"] = _ci([r["population"][g][k] for r in runs])
    tr = [r["transfer"] for r in runs]
    names = tr[0]["policies"]
    vals = np.array([t["true_value"] for t in tr])
    A["transfer_policies"] = names
    A["transfer_true_value"] = [list(t_ci(vals[:, i])) for i in range(len(names))]
    A["transfer_bc_value"] = [list(t_ci(np.array([t["bc_value"] for t in tr])[:, i])) for i in range(len(names))]
    A["transfer_norm"] = [list(t_ci(np.array([t["norms"] for t in tr])[:, i])) for i in range(len(names))]
    ix = {n: i for i, n in enumerate(names)}
    A["bc_minus_logging"] = paired(vals[:, ix["bc"]], vals[:, ix["logging"]])
    A["anc_minus_bc"] = paired(vals[:, ix["bc+anc"]], vals[:, ix["bc"]])
    A["truth_minus_bc"] = paired(vals[:, ix["truth"]], vals[:, ix["bc"]])
    A["joint_minus_logging"] = paired(vals[:, ix["joint-mail"]], vals[:, ix["logging"]])
    A["joint_minus_bc_transfer"] = paired(vals[:, ix["joint-mail"]], vals[:, ix["bc"]])
    if "bc-uncal" in ix:
        A["uncal_minus_logging"] = paired(vals[:, ix["bc-uncal"]], vals[:, ix["logging"]])
        A["bc_minus_uncal_transfer"] = paired(vals[:, ix["bc"]], vals[:, ix["bc-uncal"]])
    return A


def _joint_and_calibration(A: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """Joint MAIL's and the uncalibrated BC's (ablation) panel metrics, the engine's fit,
    and the diagnosis of the default BC's conversion error (calibration on the log, b vs
    survival on the path)."""
    bc_err = [np.mean(r["rel_err_bc"]) for r in runs]
    for key in ("joint", "uncal"):
        A[f"rel_err_{key}"] = _ci([np.mean(r[f"rel_err_{key}"]) for r in runs])
        A[f"{key}_minus_bc_rel_err"] = paired([np.mean(r[f"rel_err_{key}"]) for r in runs], bc_err)
        A[f"{key}_minus_bc_spearman"] = paired([r[f"spearman_{key}"] for r in runs], [r["spearman_bc"] for r in runs])
        A[f"conv_ratio_ltr_{key}"] = _ci([r[f"conversion_{key}"][0] / r["conversion_true"][0] for r in runs])
    A["joint_reward_last"] = _ci([r["joint_reward"][-1] for r in runs])
    for k in sorted(set.intersection(*(set(r["engine"]) for r in runs)) - {"logging_std"}):
        A[f"engine_{k}"] = _ci([r["engine"][k] for r in runs])
    _logging_policy(A, runs)
    ct = np.array([r["conversion_true"][0] for r in runs])
    A["conv_ratio_bc_b_true_survival"] = _ci(np.array([r["conv_bcb_true_survival"] for r in runs]) / ct)
    A["conv_ratio_true_b_bc_survival"] = _ci(np.array([r["conv_trueb_bc_survival"] for r in runs]) / ct)
    A["b_page1_ratio"] = _ci([r["b_page1_bc"] / r["b_page1_true"] for r in runs])
    A["length_ratio"] = _ci([r["mean_len_bc"] / r["mean_len_true"] for r in runs])
    for split in ("train", "val"):
        for j, name in ((1, "buy"), (2, "leave")):
            for ref in ("empirical", "exact"):
                if all(ref in r["calibration"][split] for r in runs):
                    A[f"calib_{split}_{name}_model_over_{ref}"] = _ci(
                        [r["calibration"][split]["model"][j] / r["calibration"][split][ref][j] for r in runs])
            A[f"calib_{split}_{name}_calibrated_over_empirical"] = _ci(
                [r["calibration"][split]["calibrated"][j] / r["calibration"][split]["empirical"][j] for r in runs])


LOGGED_SIMS = ("bc", "uncal", "gail", "mail", "joint")


def _logging_policy(A: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """A state-dependent logging policy's own value (runs with ``value_logging_true``):
    the true value and each learned simulator's relative error, joint MAIL minus BC paired."""
    if not all("value_logging_true" in r for r in runs):
        return
    vt = np.array([r["value_logging_true"] for r in runs])
    A["logging_value_true"] = _ci(vt)
    err = {k: np.abs(np.array([r[f"value_logging_{k}"] for r in runs]) - vt) / vt for k in LOGGED_SIMS}
    for k, e in err.items():
        A[f"logging_rel_err_{k}"] = _ci(e)
    A["logging_joint_minus_bc_rel_err"] = paired(err["joint"], err["bc"])
    A["logging_mail_minus_bc_rel_err"] = paired(err["mail"], err["bc"])


def _logging_text(A: dict[str, Any]) -> str:
    if "logging_value_true" not in A:
        return ""
    return (f"; the state-dependent logging policy's own value: rel. error joint MAIL "
            f"{_pm(A['logging_rel_err_joint'])} vs BC {_pm(A['logging_rel_err_bc'])}, paired "
            f"{_pp(A['logging_joint_minus_bc_rel_err'])}; engine per-state distance from the logging mean "
            f"{_pm(A['engine_start_row_distance'])} -> {_pm(A['engine_row_distance'])}")


def _logs(results: dict[str, Any]) -> str:
    c = results.get("config", {})
    if c.get("logging", "gaussian") == "gaussian":
        return f"logs: LTR + N(0, {c.get('logging_std', 0.1)}^2) (state-independent)"
    return (f"logs: the state-dependent segment policy (mean (1 - {c['logging_mix']}) LTR + {c['logging_mix']} R_g "
            f"per segment, std {c['logging_std']})")


def _pm(v: Any, d: int = 3) -> str:
    return plus_minus(float(v[0]), float(v[1]), digits=d)


def _pp(p: dict[str, float], d: int = 3) -> str:
    return plus_minus(p["mean"], p["half"], digits=d)


def _uncal_transfer(A: dict[str, Any]) -> str:
    if "uncal_minus_logging" not in A:
        return ""
    return (f"; CEM-in-uncalibrated-BC-sim minus logging {_pp(A['uncal_minus_logging'])}, calibrated minus "
            f"uncalibrated {_pp(A['bc_minus_uncal_transfer'])}")


def claims(results: dict[str, Any]) -> list[Claim]:
    A, n = results["analysis"], results["analysis"]["seeds"]
    sp = A["spearman_bc"]
    c1 = Claim("A simulator learned from logs recovers the real environment's properties",
               SRC + ", fig. R2P / policy values",
               f"policy-value Spearman {_pm(sp)}, mean rel. value error {_pm(A['rel_err_bc'])} (uncalibrated BC "
               f"{_pm(A['rel_err_uncal'])}, paired {_pp(A['uncal_minus_bc_rel_err'])}), R2P TV "
               f"{_pm(A['r2p_tv_ltr'])} ({n} seeds)",
               "reproduced" if sp[0] - sp[1] > 0.8 and A["r2p_tv_ltr"][0] < 0.1 else "partly reproduced",
               "BC user (outcome bias refit on the log's validation split) + true ranking; reproduced iff the Spearman CI lies above 0.8 and the purchase-page TV "
               "of the logging policy is below 0.1 (thresholds set before the run)")
    comp = A["compounding_last_minus_first"]
    c2 = Claim("Supervised imitation (BC) suffers compounding error as the horizon grows", SRC + ", section 二",
               f"rel. value error at h = T minus at h = 1: {_pp(comp)} ({n} seeds)",
               verdict_from_ci(comp["mean"] - comp["half"], comp["mean"] + comp["half"]),
               "mean over the policy panel; the state here (pages shown) does not depend on the user's past "
               "responses, so the errors compound through survival only")
    d = A["err_vs_distance_spearman"]
    c3 = Claim("Fidelity falls as the evaluated policy moves away from the logging policy", "issue 12",
               f"Spearman(distance, rel. error) {_pm(d)} ({n} seeds)", verdict_from_ci(d[0] - d[1], d[0] + d[1]),
               f"panel of named + perturbed LTR rankings; distance from LTR; {_logs(results)}")
    bl = A["bc_minus_logging"]
    c4 = Claim("Policies trained in the learned simulator beat the supervised (logged) ranking online",
               SRC + ", section 三 / paper's online test",
               f"true GMV/session of CEM-in-BC-sim minus logging policy {_pp(bl)}{_uncal_transfer(A)} ({n} seeds)",
               verdict_from_ci(bl["mean"] - bl["half"], bl["mean"] + bl["half"]),
               "static weights by CEM; 'supervised' = the logging LTR ranking; BC = the calibrated default; the "
               "joint-MAIL simulator has its own row")
    an = A["anc_minus_bc"]
    c5 = Claim("ANC reduces overfitting to the learned simulator", "Shi et al. (AAAI 2019), ANC",
               f"true value of CEM+ANC minus CEM, both in the BC sim: {_pp(an)} ({n} seeds)",
               verdict_from_ci(an["mean"] - an["half"], an["mean"] + an["half"]),
               "ANC ratio/weight from the config (no tuning); sensitivity not run")
    g = A["pop_gan-sd_tv_segment_power"][0]
    c6 = Claim("GAN-SD generates customers matching the real distribution", "Shi et al. (AAAI 2019), GAN-SD",
               f"TV(segment x power decile): GAN-SD {_pm(A['pop_gan-sd_tv_segment_power'])}, GMM "
               f"{_pm(A['pop_gmm_tv_segment_power'])}, empirical {_pm(A['pop_empirical_tv_segment_power'])}, "
               f"true resample {_pm(A['pop_true-resample_tv_segment_power'])}",
               "partly reproduced" if g < 0.1 else "not reproduced",
               "20k generated users vs 20k true ones; 'partly': TV < 0.1, not compared with the paper's numbers")
    me = A["mail_minus_bc_rel_err"]
    c7 = Claim("Adversarial imitation (MAIL) learns a better user model than BC", SRC + ", section 3.3 (LERD)",
               f"mean rel. value error of BC+MAIL minus BC {_pp(me)}; Spearman {_pm(A['spearman_mail'])} vs "
               f"{_pm(A['spearman_bc'])}; one-step GAIL minus BC {_pp(A['gail_minus_bc_rel_err'])} ({n} seeds)",
               verdict_from_ci(me["mean"] - me["half"], me["mean"] + me["half"], expect_positive=False),
               "MAIL fine-tuning of the BC model: sessions rolled out in the learned simulator from logged first "
               "states under the (known) logging engine policy, discriminator on (state, page, response), PPO "
               "on the user; the engine policy is not learned jointly; same policy panel and users")
    jm = A["joint_minus_bc_rel_err"]
    c8 = Claim("MAIL with the joint engine-user policy pi(a_u, a_e | s_u) learns a better user model than BC",
               SRC + ", section 3.3 (the engine policy is unknown, learned jointly)",
               f"mean rel. value error of joint MAIL minus BC {_pp(jm)}; Spearman {_pm(A['spearman_joint'])} vs "
               f"{_pm(A['spearman_bc'])}; engine mean action's distance from the logging mean "
               f"{_pm(A['engine_start_distance'])} -> {_pm(A['engine_distance'])}{_logging_text(A)} ({n} seeds)",
               verdict_from_ci(jm["mean"] - jm["half"], jm["mean"] + jm["half"], expect_positive=False),
               "BC user and the logged actions' MLE Gaussian engine as the start; D on (user state, a_e, clicks, "
               f"outcome); PPO on log pi_u + log pi_e; same panel and users; {_logs(results)}")
    jl = A["joint_minus_logging"]
    c9 = Claim("Policies trained in the jointly-MAIL-learned simulator beat the logged ranking online",
               SRC + ", section 三", f"true GMV/session of CEM-in-joint-MAIL-sim minus logging {_pp(jl)}; minus "
               f"CEM-in-BC-sim {_pp(A['joint_minus_bc_transfer'])} ({n} seeds)",
               verdict_from_ci(jl["mean"] - jl["half"], jl["mean"] + jl["half"]),
               "static weights by CEM, evaluated exactly in the truth")
    return [c1, c2, c3, c4, c5, c6, c7, c8, c9]


def _plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results["runs"]
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    pt = np.mean([r["pmf_true_ltr"] for r in runs], axis=0)
    pl = np.mean([r["pmf_bc_ltr"] for r in runs], axis=0)
    t = np.arange(1, pt.size + 1)
    ax[0].plot(t, pt / pt.sum(), label="truth")
    ax[0].plot(t, pl / pl.sum(), label="BC simulator")
    ax[0].set(xlabel="page of purchase", ylabel="share of purchases", title="R2P (logging policy)")
    ax[0].legend()
    for r in runs:
        ax[1].scatter(r["value_true"], r["value_bc"], s=10)
    lim = max(max(r["value_true"] + r["value_bc"]) for r in runs)
    ax[1].plot([0, lim], [0, lim], "k--", lw=0.8)
    ax[1].set(xlabel="true value (GMV/session)", ylabel="BC-simulator value", title="policy panel")
    for key, label in (("compounding", "BC"), ("compounding_gail", "BC + GAIL"), ("compounding_mail", "BC + MAIL"),
                       ("compounding_joint", "joint MAIL")):
        comp = np.array(results["analysis"][key])
        ax[2].errorbar(np.arange(1, comp.shape[0] + 1), comp[:, 0], yerr=comp[:, 1], label=label, capsize=2)
    ax[2].set(xlabel="horizon h", ylabel="rel. error of V(h)", title="error vs horizon (panel mean)")
    ax[2].legend()
    fig.tight_layout()
    fig.savefig(out / "fidelity.png", dpi=110)
    plt.close(fig)
    return ["fidelity.png"]


def _engine_rows(A: dict[str, Any]) -> list[list[str]]:
    rows = []
    for k, what in (("row_distance", "mean per-state distance of the engine's mean from the logging policy's"),
                    ("segment_distance", "mean over segments of the per-segment mean action's distance")):
        if f"engine_{k}" in A:
            rows.append([f"engine: {what}, MLE start / after joint MAIL",
                         f"{_pm(A[f'engine_start_{k}'])} / {_pm(A[f'engine_{k}'])}"])
    return rows


def _logging_table(A: dict[str, Any]) -> str:
    if "logging_value_true" not in A:
        return ""
    rows = [["truth (GMV/session)", _pm(A["logging_value_true"])]]
    rows += [[f"rel. error of its value in the {k} simulator", _pm(A[f"logging_rel_err_{k}"])] for k in LOGGED_SIMS]
    rows += [["joint MAIL minus BC (paired)", _pp(A["logging_joint_minus_bc_rel_err"])],
             ["user-only MAIL (known engine) minus BC (paired)", _pp(A["logging_mail_minus_bc_rel_err"])]]
    t = markdown_table(["the state-dependent logging policy's own value", "mean over seeds (95 % CI)"], rows)
    return f"## The logging policy\n\n{t}\n\n"


def _tables(A: dict[str, Any]) -> str:
    rows = [[g, *(_pm(A[f"pop_{g}_{k}"]) for k in ("tv_query", "tv_segment", "tv_query_segment",
                                                    "tv_segment_power", "w1_power"))]
            for g in (*GENS, "true-resample")]
    pop = markdown_table(["population", "TV query", "TV segment", "TV query x segment", "TV segment x power",
                          "W1 power"], rows)
    rows = [["behaviour cloning, outcome bias calibrated on the validation split (default; true panel users)",
             _pm(A["spearman_bc"]), _pm(A["rel_err_bc"])],
            ["BC uncalibrated (ablation: the early-stopped model before the bias refit)", _pm(A["spearman_uncal"]),
             _pm(A["rel_err_uncal"])],
            ["BC + GAIL fine-tuning (true panel users)", _pm(A["spearman_gail"]), _pm(A["rel_err_gail"])],
            ["BC + MAIL fine-tuning (true panel users)", _pm(A["spearman_mail"]), _pm(A["rel_err_mail"])],
            ["BC + joint engine-user MAIL (true panel users)", _pm(A["spearman_joint"]), _pm(A["rel_err_joint"])]]
    rows += [[f"BC + {g} users", _pm(A[f"spearman_{g}"]), _pm(A[f"rel_err_{g}"])] for g in GENS]
    val = markdown_table(["learned simulator", "Spearman of policy values", "mean rel. value error"], rows)
    rows = [[n, _pm(A["transfer_true_value"][i], 2), _pm(A["transfer_bc_value"][i], 2), _pm(A["transfer_norm"][i])]
            for i, n in enumerate(A["transfer_policies"])]
    tr = markdown_table(["engine policy (CEM inside)", "true value", "value in the (calibrated) BC sim", "||w||"],
                        rows)
    fit = markdown_table(["BC fit (logging policy, BC sim / truth)", "mean over seeds (95 % CI)"], [
        ["conversion ratio (calibrated BC, the default)", _pm(A["conv_ratio_ltr"])],
        ["conversion ratio, uncalibrated BC (ablation)", _pm(A["conv_ratio_ltr_uncal"])], ["E[price given a purchase] ratio", _pm(A["price_ratio_ltr"])],
        ["epochs run (early stopping on the log's validation split)", _pm(A["bc_epochs_run"], 1)],
        ["best validation epoch", _pm(A["bc_best_epoch"], 1)], ["best validation NLL", _pm(A["bc_best_val_nll"])],
        ["conversion ratio after MAIL", _pm(A["conv_ratio_ltr_mail"])],
        ["MAIL reward (logit D) of the last iteration", _pm(A["mail_reward_last"])],
        ["conversion ratio after joint MAIL", _pm(A["conv_ratio_ltr_joint"])],
        ["joint MAIL reward (logit D) of the last iteration", _pm(A["joint_reward_last"])],
        ["engine: distance of the mean action from the logging mean, MLE start", _pm(A["engine_start_distance"])],
        ["engine: same after joint MAIL", _pm(A["engine_distance"])],
        ["engine: mean std, MLE start / after (logging 0.1)",
         f"{_pm(A['engine_start_std'])} / {_pm(A['engine_std'])}"], *_engine_rows(A)])
    diag = [[k.replace("_", " ").replace(" model ", " uncalibrated BC ").replace(" calibrated ", " calibrated BC "),
             _pm(A[k])] for k in sorted(A) if k.startswith("calib_")]
    diag += [["conversion ratio, BC's b with the true survival", _pm(A["conv_ratio_bc_b_true_survival"])],
             ["conversion ratio, true b with BC's survival", _pm(A["conv_ratio_true_b_bc_survival"])],
             ["b on the first page, BC / truth", _pm(A["b_page1_ratio"])],
             ["expected pages per session, BC / truth", _pm(A["length_ratio"])],
             ["conversion ratio, uncalibrated BC (ablation)", _pm(A["conv_ratio_ltr_uncal"])]]
    cal = markdown_table(["BC conversion diagnosis (logging policy; path rows: the default, calibrated BC)",
                          "mean over seeds (95 % CI)"], diag)
    return (f"## BC fit\n\n{fit}\n\n{_logging_table(A)}## BC's conversion\n\n{cal}\n\n## User populations\n\n{pop}\n\n## Policy values\n\n{val}\n\n"
            f"## Sim-to-real\n\n{tr}\n")


def write_report(results: dict[str, Any], out_dir: str | os.PathLike[str], command: str = "") -> list[str]:
    """Writes fidelity.png, results.json and report.md into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(results, out)
    cl = claims(results)
    write_json(out / "results.json", {**results, "claims": claims_json(cl), "command": command})
    A, meta = results["analysis"], results["meta"]
    md = (f"# Virtual Taobao: user simulators learned from logs, against the truth\n\n{claims_table(cl)}\n\n"
          f"Command: `{command}`; wall {meta['wall_seconds']:.0f} s, {A['seeds']} seeds, torch {meta['torch']}, "
          f"load average {meta['load_average']:.1f}.\n\n{_tables(A)}\n![fidelity](fidelity.png)\n")
    (out / "report.md").write_text(md)
    return [*plots, "results.json", "report.md"]


def summary(results: dict[str, Any]) -> str:
    A = results["analysis"]
    return (f"BC simulator: policy-value Spearman {_pm(A['spearman_bc'])}, rel. error {_pm(A['rel_err_bc'])}, "
            f"R2P TV {_pm(A['r2p_tv_ltr'])}")
