"""The autoscaling report's later sections (report.md): the forecast ablation, the filter
threshold curve, the provisioning-delay sensitivity and the cost per phase, and the claim
rows they feed (the strongest rule baseline, the forecast ablation)."""

from __future__ import annotations

from typing import Any

from simcore.report import markdown_table, plus_minus
from simcore.report.claims import Claim, verdict_from_ci
from simcore.report.stats import paired

__all__ = ["RULES", "strongest_rule", "forecast_claim", "forecast_table", "threshold_table", "delay_table",
           "cost_table", "sections"]

#: the rule baselines a learner is measured against (peak static is a hindsight reference)
RULES = ("threshold", "target-tracking", "autopilot", "autopilot-limit", "predictive", "predictive-naive")
PAPER = "Xue et al., KDD 2022 (seed section 3, CRSM slides)"


def _d(d: dict[str, float], digits: int = 3, scale: float = 1.0, suffix: str = "") -> str:
    return plus_minus(d["mean"], d["half"], digits=digits, scale=scale, suffix=suffix)


def _pair(S: dict[str, Any], a: str, b: str, q: str, part: str | None = None) -> dict[str, float]:
    sa, sb = (S[a][part] if part else S[a]), (S[b][part] if part else S[b])
    return paired(sa["per_seed"][q], sb["per_seed"][q])


def forecast_kind(R: dict[str, Any]) -> str:
    """"learned" or "seasonal-naive": the forecast of predictive and meta-rl in this run."""
    return str(R["config"].get("forecast", {}).get("kind", "seasonal-naive"))


def strongest_rule(R: dict[str, Any], part: str | None = "heldout") -> str | None:
    """The rule baseline with the highest mean reward (over ``part``'s zones when present)."""
    S = R["summary"]
    keys = [k for k in RULES if k in S]
    if not keys:
        return None
    return max(keys, key=lambda k: (S[k][part] if part and part in S[k] else S[k])["reward"]["mean"])


def forecast_claim(R: dict[str, Any]) -> Claim | None:
    """The forecast ablation as a claim row: meta-RL on the learned forecast minus on seasonal-naive."""
    S, n = R["summary"], R["config"]["seeds"]
    if "meta-rl-naive" not in S or forecast_kind(R) != "learned":
        return None
    dr, ds = _pair(S, "meta-rl", "meta-rl-naive", "reward"), _pair(S, "meta-rl", "meta-rl-naive", "stability")
    return Claim("The workload forecaster's forecast, as the scaling policy's input, improves predictive "
                 "autoscaling (over a seasonal-naive forecast)", PAPER + " (forecaster feeding the decider)",
                 f"meta-RL learned minus seasonal-naive forecast: reward {_d(dr, 4)}, stability {_d(ds)} "
                 f"({n} seeds, paired; same ANP, policy seed and streams)",
                 verdict_from_ci(dr["mean"] - dr["half"], dr["mean"] + dr["half"]),
                 "our attention forecaster, fitted per seed on the training apps' traffic only; refreshed every "
                 f"{R['config']['forecast']['every']} steps; delay {R['config']['sim']['delay']}")


def forecast_table(R: dict[str, Any]) -> list[str]:
    """Paired learned-minus-naive differences for meta-RL and the predictive baseline."""
    S = R["summary"]
    rows = []
    for a, b in (("meta-rl", "meta-rl-naive"), ("predictive", "predictive-naive")):
        if a in S and b in S:
            rows.append([f"{a} - {b}", _d(_pair(S, a, b, "stability")), _d(_pair(S, a, b, "vm_hours"), 0),
                         _d(_pair(S, a, b, "reward"), 4), _d(_pair(S, a, b, "slo_rate"), 3, 100, " %")])
    if not rows:
        return []
    return ["## Forecast ablation: learned vs seasonal-naive", "",
            f"This run's `predictive` and `meta-rl` read the {forecast_kind(R)} forecast; the `-naive` rows the "
            "seasonal-naive one (same zones, traffic and, for meta-RL, the same ANP and policy seed). Paired "
            "differences over seeds:", "",
            markdown_table(["difference", "stability", "VM-hours", "mean reward", "SLO violations"], rows), ""]


def threshold_table(R: dict[str, Any]) -> list[str]:
    """The filter-threshold curve (the policy unchanged, only the filter's threshold)."""
    T = R.get("sensitivity", {}).get("threshold")
    if not T:
        return []
    cur = R["config"]["meta"]["error_threshold"]
    rows = []
    for t, e in sorted(T.items(), key=lambda kv: float(kv[0])):
        tt = e["minus"].get("target-tracking", {})
        vs_tt = [_d(tt["stability"]), _d(tt["reward"], 4)] if tt else ["–", "–"]
        rows.append([("none (1.0)" if float(t) >= 1 else t) + (" (default)" if float(t) == cur else ""),
                     _d(e["fallback"], 0), _d(e["stability"]), _d(e["vm_hours"], 0), _d(e["reward"], 4),
                     _d(e["heldout_reward"], 4), *vs_tt])
    return ["## Sensitivity: the model-quality filter's threshold", "",
            "The same trained policy on every zone; zones whose ANP RMSE on their own day of log exceeds the "
            "threshold run target tracking. Means ± 95 % t-CI over seeds; the last two columns are paired "
            "differences against target tracking. The default threshold was fixed before this curve was "
            "recorded and is not re-picked from it.", "",
            markdown_table(["threshold", "zones on target tracking", "stability", "VM-hours", "mean reward",
                            "held-out reward", "stability - target tracking", "reward - target tracking"], rows),
            ""]


def delay_table(R: dict[str, Any]) -> list[str]:
    """Stability and VM-hours per provisioning delay and method, meta-RL's paired differences."""
    D = R.get("sensitivity", {}).get("delay")
    if not D:
        return []
    rows = []
    for d, per in sorted(D.items(), key=lambda kv: int(kv[0])):
        for k, e in per.items():
            diff = "; ".join(f"vs {o}: stability {_d(x['stability'])}, VM-hours {_d(x['vm_hours'], 0)}"
                             for o, x in e["minus"].items())
            rows.append([d, k, _d(e["stability"]), _d(e["vm_hours"], 0), _d(e["reward"], 4),
                         _d(e["slo_rate"], 2, 100, " %"), diff or "–"])
    return ["## Sensitivity: provisioning delay", "",
            f"New VMs serve `delay` steps (10 minutes each) after the request; removal is immediate. Same zones and "
            f"traffic; the meta-RL policy and its ANP as trained (delay {R['config']['sim']['delay']}, no model of "
            "pending VMs beyond reading the provisioned count); its forecast is the run's. Means ± 95 % t-CI over "
            "seeds; meta-RL's differences are paired.", "",
            markdown_table(["delay", "method", "stability", "VM-hours", "mean reward", "SLO violations",
                            "meta-RL minus (paired)"], rows), ""]


def cost_table(R: dict[str, Any]) -> list[str]:
    """CPU and wall seconds per phase, summed over seeds."""
    ph = R["meta"].get("phases")
    if not ph:
        return []
    rows = [[k, f"{v['cpu']:.1f}", f"{v['wall']:.1f}"] for k, v in ph.items()]
    return ["## Cost per phase", "",
            "Seconds summed over the seeds (`time.process_time` of the process running the seed, all its "
            "threads, and wall time); torch and the simulator on one thread.", "",
            markdown_table(["phase", "CPU s", "wall s"], rows), ""]


def sections(R: dict[str, Any]) -> list[str]:
    """The later sections' lines, in report order."""
    return forecast_table(R) + threshold_table(R) + delay_table(R) + cost_table(R)
