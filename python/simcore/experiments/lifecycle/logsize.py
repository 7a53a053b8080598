"""Are the classification baselines fair?  Their diagnosis and their BPI row against the
size of the random log they are fit on (docs/lifecycle.md, "Are the classifiers a fair
baseline?").

For a classifier ``label``, a seed index s and a log factor f, :func:`point` refits the
classifier exactly as :func:`.learners.run_mtl` does on a log of ``f * log_users``
customers (everything else the config's: the same uniformly random logging policy, the
same passes, the same held-out replay log and evaluation activity) and records:

* the log: rows, sign positives and click positives per action
  (:func:`~simcore.domains.lifecycle.baselines.action_counts`);
* the fit: held-out AUC / log loss of P(sign | x, a) on the replay log;
* the predicted-probability spread (:func:`prob_spread`) of p(x, a) = P(sign | x, a)
  (float64 (n, A)) over the replay log's n observations: per action its mean over the
  rows and its standard deviation across the rows, the range of the per-action means
  (``between``: how far apart the actions are on average) and the mean within-action
  deviation (``within``: how much the customers differ), and the mean margin
  p_(1) - p_(2) between the best and second-best action of a row;
* what the argmax policy plays (entropy, top share, distinct actions) and its agreement
  with the simulator's true argmax_a P(sign | state, a);
* its BPI (replay convRate, hits) and its online LTV, as in the reproduction.

:func:`summarise` gives, per (label, f), means with Student-t 95 % CIs over seeds and the
convRate lift against a recorded run's ``a2c-conv`` (ratio of seed means,
:func:`.analysis.ratio_lift`) and the LTV difference to its ``a2c`` (paired by seed):
the learners do not depend on the log, so their recorded per-seed numbers are the
reference (:func:`reference` checks that the record's seeds and sizes are the config's).

``python -m simcore.experiments.lifecycle.logsize OUT_DIR RECORD_JSON [FACTORS [LABELS]]``
(FACTORS e.g. ``1,2,4,8``; LABELS e.g. ``DNN,MTL-CS-125,MTL-TN-LAF``) writes
``OUT_DIR/logsize.json`` and ``OUT_DIR/logsize.md``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.lifecycle.baselines import action_counts
from simcore.experiments.lifecycle.analysis import ratio_lift
from simcore.experiments.lifecycle.config import LifecycleExperimentConfig
from simcore.experiments.lifecycle.evaluate import agent_policy
from simcore.experiments.lifecycle.learners import _fit_quality, _logs, _measure, fit_classifier, seed_lifecycle
from simcore.report.machine import machine_info
from simcore.report.stats import paired, t_ci

__all__ = ["FACTORS", "LABELS", "prob_spread", "point", "reference", "summarise", "markdown"]

#: log factors of the curve (x the default's 2,000 customers x 30 days)
FACTORS: tuple[int, ...] = (1, 2, 4, 8)
#: one classifier of each family: single-task, cross-stitch, trace norm
LABELS: tuple[str, ...] = ("DNN", "MTL-CS-125", "MTL-TN-LAF")
#: the record's config fields that must equal the curve's (the reference's seeds and sizes)
_SAME = ("seed", "seeds", "eval_users", "replay_users", "iterations", "train_users", "k")


def prob_spread(p: np.ndarray) -> dict[str, Any]:
    """Spread of predicted probabilities p float (n, A) (module docstring): ``mean`` and
    ``sd`` per action (lists of A), ``between`` = max - min of the per-action means,
    ``within`` = mean over actions of the per-action sd, ``margin`` = mean over rows of
    the best minus the second-best action's p."""
    q = np.asarray(p, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] < 2 or not len(q):
        raise ValueError(f"p: expected shape (n >= 1, A >= 2), got {q.shape}")
    mean, sd = q.mean(axis=0), q.std(axis=0)
    top2 = np.sort(q, axis=1)[:, -2:]
    return {"mean": mean.tolist(), "sd": sd.tolist(), "between": float(mean.max() - mean.min()),
            "within": float(sd.mean()), "margin": float((top2[:, 1] - top2[:, 0]).mean())}


def point(cfg: LifecycleExperimentConfig, label: str, seed: int, factor: int) -> dict[str, Any]:
    """Classifier ``label`` of seed index ``seed`` fit on a log ``factor`` times the
    config's (module docstring); plain values."""
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor: must be an integer >= 1, got {factor!r}")
    c = dataclasses.replace(cfg, log_users=cfg.log_users * factor)
    lc = seed_lifecycle(c, seed)
    pol, log, _, seconds = fit_classifier(c, label, seed)
    rlog = _logs(c, lc, seed, "replay")
    q = _fit_quality(c, lc, seed, pol, rlog)
    m = _measure(c, lc, seed, agent_policy(pol), rlog)
    return {"label": label, "seed": seed, "factor": factor, "rows": int(len(log["action"])),
            "counts": action_counts(log, pol.n_actions), "fit_seconds": seconds, "epochs_run": q["epochs_run"],
            "auc": q["auc"][0], "log_loss": q["log_loss"][0], "base_log_loss": q["base_log_loss"][0],
            "spread": prob_spread(pol.predict(rlog["obs"])[0]), "policy": q["sign"]["replay"],
            "agree_truth": q["sign"]["agree_truth"], "online": m["online"], "replay": m["replay"]}


def reference(record: Mapping[str, Any], cfg: LifecycleExperimentConfig) -> dict[str, dict[str, list[float]]]:
    """Per learner (``a2c-conv``, ``a2c``) of a recorded run (its results.json or
    summary.json dict): per seed index the replay convRate and the online LTV.  Raises
    ValueError when the record's seeds or sizes differ from ``cfg``'s."""
    rc = record.get("config", {})
    bad = [k for k in _SAME if rc.get(k) != getattr(cfg, k)]
    if bad:
        raise ValueError(f"record: its config differs from the curve's in {bad}")
    out: dict[str, dict[str, list[float]]] = {}
    for key in ("a2c-conv", "a2c"):
        rows = record["per_seed"][key]
        out[key] = {"conv_rate": [float(r["replay"]["conv_rate"]) for r in rows],
                    "ltv": [float(r["online"]["ltv"]) for r in rows]}
    return out


def _ci(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    m, h = t_ci(np.asarray(values, dtype=np.float64))
    return {"mean": float(m), "half": float(h)}


def _group(rows: list[dict[str, Any]], ref: Mapping[str, Mapping[str, list[float]]]) -> dict[str, Any]:
    """One (label, factor) cell: rows sorted by seed index."""
    rows = sorted(rows, key=lambda r: r["seed"])
    seeds = [r["seed"] for r in rows]
    sign = np.array([r["counts"]["sign"][1:] for r in rows], dtype=np.float64)  # touch actions only
    conv = [r["replay"]["conv_rate"] for r in rows]
    ltv = [r["online"]["ltv"] for r in rows]
    return {
        "label": rows[0]["label"], "factor": rows[0]["factor"], "n": len(rows), "rows": rows[0]["rows"],
        "sign_min": _ci(sign.min(axis=1)), "sign_median": _ci(np.median(sign, axis=1)),
        "sign_total": _ci(sign.sum(axis=1)),
        **{k: _ci([r[k] for r in rows]) for k in ("auc", "agree_truth", "fit_seconds")},
        **{k: _ci([r["spread"][k] for r in rows]) for k in ("between", "within", "margin")},
        **{k: _ci([r["policy"][k] for r in rows]) for k in ("entropy", "top_share", "distinct")},
        "top_actions": [r["policy"]["top_action"] for r in rows],
        "conv_rate": _ci(conv), "ltv": _ci(ltv),
        "lift_vs_a2c_conv": ratio_lift(conv, [ref["a2c-conv"]["conv_rate"][s] for s in seeds]),
        "ltv_minus_a2c": paired(ltv, [ref["a2c"]["ltv"][s] for s in seeds]),
    }


def summarise(points: list[dict[str, Any]], ref: Mapping[str, Mapping[str, list[float]]]) -> list[dict[str, Any]]:
    """Per (label, factor), in label then factor order: the module docstring's summaries."""
    cells: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for p in points:
        cells.setdefault((p["label"], p["factor"]), []).append(p)
    order = list(dict.fromkeys(p["label"] for p in points))
    return [_group(cells[k], ref) for k in sorted(cells, key=lambda k: (order.index(k[0]), k[1]))]


def _pm(c: Mapping[str, float], digits: int, scale: float = 1.0) -> str:
    return f"{scale * c['mean']:.{digits}f} ± {scale * c['half']:.{digits}f}"


def markdown(summary: list[dict[str, Any]]) -> str:
    """Two tables: the diagnosis (log, fit, spread, policy) and the BPI row."""
    diag = ["| model | log rows | sign positives per touch action: min / median | held-out AUC | "
            "P(sign) between-action range | within-action sd | best - second margin | policy entropy (nats) | "
            "distinct actions | top share | top action per seed | agreement with true argmax |",
            "|" + "---|" * 12]
    bpi = ["| model | log rows | replay convRate | convRate lift vs a2c-conv | online LTV $ | LTV minus a2c $ |",
           "|" + "---|" * 6]
    for g in summary:
        diag.append(f"| {g['label']} | {g['rows']:,} | {_pm(g['sign_min'], 1)} / {_pm(g['sign_median'], 1)} | "
                    f"{_pm(g['auc'], 3)} | {_pm(g['between'], 4)} | {_pm(g['within'], 4)} | {_pm(g['margin'], 4)} | "
                    f"{_pm(g['entropy'], 2)} | {_pm(g['distinct'], 1)} | {_pm(g['top_share'], 3)} | "
                    f"{'/'.join(str(a) for a in g['top_actions'])} | {_pm(g['agree_truth'], 3)} |")
        bpi.append(f"| {g['label']} | {g['rows']:,} | {_pm(g['conv_rate'], 4)} | "
                   f"{_pm(g['lift_vs_a2c_conv'], 1, 100.0)} % | {_pm(g['ltv'], 2)} | {_pm(g['ltv_minus_a2c'], 2)} |")
    return "\n".join(diag) + "\n\n" + "\n".join(bpi) + "\n"


def _run_point(cfg: LifecycleExperimentConfig, label: str, seed: int, factor: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    return point(cfg, label, seed, factor)


def main(argv: list[str]) -> None:
    from simcore.runner import Job, run_jobs

    out, record = Path(argv[0]), json.loads(Path(argv[1]).read_text())
    factors = tuple(int(f) for f in argv[2].split(",")) if len(argv) > 2 else FACTORS
    labels = tuple(argv[3].split(",")) if len(argv) > 3 else LABELS
    cfg = LifecycleExperimentConfig()
    ref = reference(record, cfg)
    jobs = [Job(key=f"{label}/{f}/{s}", fn=_run_point, kwargs=dict(cfg=cfg, label=label, seed=s, factor=f),
                seed_path=("seed", s, "mtl", label), work=float(f))
            for label in labels for f in factors for s in range(cfg.seeds)]
    t0, load = time.perf_counter(), os.getloadavg()[0]
    points = run_jobs(jobs, backend="process", workers=int(os.environ.get("SIMCORE_WORKERS", "2")), progress=False)
    summary = summarise(points, ref)
    meta = {"argv": argv, "wall_seconds": time.perf_counter() - t0, "load_average_start": load,
            "load_average_end": os.getloadavg()[0], "record_commit": record.get("meta", {}).get("git_commit"),
            **machine_info(torch=True)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "logsize.json").write_text(json.dumps({"meta": meta, "summary": summary, "points": points}, indent=1))
    (out / "logsize.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main(sys.argv[1:])
