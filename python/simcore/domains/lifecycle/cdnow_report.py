"""The CDNOW fit, shown: the parameter table (ours against Fader, Hardie & Lee 2005) and
a PNG with the calibration-period histogram of repeat purchases (actual against the
fitted BG/NBD) and the cumulative repeat purchases over 78 weeks (39 calibration, 39
hold-out).  ``fit_report(source, out_dir)`` is what docs/lifecycle_model.md's numbers
and plot come from (scripts or an experiment may call it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.lifecycle.cdnow import (
    PUBLISHED,
    SAMPLE,
    BGNBDFit,
    Summary,
    Transactions,
    expected_repeats,
    fit_bgnbd,
    fit_spend,
    prob_repeats,
    read_summary,
    read_transactions,
    summarize,
)

__all__ = ["histogram", "tracking", "fit_report"]


def histogram(fit: BGNBDFit, s: Summary, top: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Customers with 0, 1, ..., top-1 and >= top repeat purchases in the calibration
    period: actual counts and the model's sum_i P(X(T_i) = x)."""
    actual = np.array([np.sum(s.x == k) for k in range(top)] + [np.sum(s.x >= top)], float)
    exp = np.array([np.sum(prob_repeats(fit.params(), s.T, k)) for k in range(top)])
    return actual, np.append(exp, s.x.size - exp.sum())


def tracking(fit: BGNBDFit, tx: Transactions, weeks: int = 78) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative repeat purchase days by the end of week w = 1..weeks: actual, and the
    model's sum_i E[X(w - s_i)] with s_i the customer's first purchase (weeks)."""
    pairs = np.unique(np.stack([tx.customer, tx.day], 1), axis=0)
    _, first_idx, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    first = pairs[first_idx, 1]
    is_first = np.zeros(pairs.shape[0], bool)
    is_first[first_idx] = True
    rep_days = pairs[~is_first, 1]
    w = np.arange(1, weeks + 1)
    actual = np.array([np.sum(rep_days < 7 * k) for k in w], float)
    starts, n_at = np.unique(first, return_counts=True)
    model = np.array([np.sum(n_at * expected_repeats(fit.params(), np.maximum(0.0, (7 * k - starts) / 7.0)))
                      for k in w])
    return actual, model


def _plot(hist: tuple[np.ndarray, np.ndarray], track: tuple[np.ndarray, np.ndarray], path: Path) -> None:
    from simcore.report.plots import new_figure, save_figure

    fig, ax = new_figure(2, 1, width=5.5, height=3.8)
    k = np.arange(hist[0].size)
    ax[0, 0].bar(k - 0.2, hist[0], 0.4, label="actual")
    ax[0, 0].bar(k + 0.2, hist[1], 0.4, label="BG/NBD")
    ax[0, 0].set_xticks(k, [str(i) for i in k[:-1]] + [f"{k[-1]}+"])
    ax[0, 0].set_xlabel("repeat purchases, weeks 1-39")
    ax[0, 0].set_ylabel("customers (sample of 2,357)")
    ax[0, 0].legend()
    w = np.arange(1, track[0].size + 1)
    ax[0, 1].plot(w, track[0], label="actual")
    ax[0, 1].plot(w, track[1], "--", label="BG/NBD (fit on weeks 1-39)")
    ax[0, 1].axvline(39, color="grey", lw=0.8)
    ax[0, 1].set_xlabel("week")
    ax[0, 1].set_ylabel("cumulative repeat purchases (sample of 2,357)")
    ax[0, 1].legend()
    save_figure(fig, path)


def fit_report(source: str | Path, out_dir: str | Path | None = None) -> dict[str, Any]:
    """Fits BG/NBD on the 2,357 sample (weeks) and on the full 23,570 cohort (weeks 1-39
    of CDNOW_master), the spend model on the full cohort, and (with ``out_dir``) writes
    ``cdnow_fit.png`` (the sample's histogram and its 78-week tracking, FHL 2005's
    setting).  Returns the fits, the published values, the relative differences, the
    histogram, the tracking at weeks 39 and 78 (sample and full cohort) and the markdown
    table."""
    s = read_summary(source)
    sample = fit_bgnbd(s)
    tx = read_transactions(source)
    full = fit_bgnbd(summarize(tx, 273, 7.0))
    rel = {k: getattr(sample, k) / v - 1 for k, v in PUBLISHED.items()}
    hist = histogram(sample, s)
    track = tracking(sample, read_transactions(source, SAMPLE))
    track_full = tracking(full, tx)
    spend = fit_spend(tx)
    rows = ["| | r | alpha (weeks) | a | b | log-lik | customers |", "|---|---|---|---|---|---|---|",
            "| Fader, Hardie & Lee (2005) | 0.243 | 4.414 | 0.793 | 2.426 | -9582.4 | 2,357 |"]
    for name, f in (("ours, sample", sample), ("ours, full cohort (weeks 1-39)", full)):
        rows.append(f"| {name} | {f.r:.4f} | {f.alpha:.4f} | {f.a:.4f} | {f.b:.4f} | {f.loglik:.1f} | {f.n:,} |")
    weeks = {name: {w: (float(t[0][w - 1]), float(t[1][w - 1])) for w in (39, 78)}
             for name, t in (("sample", track), ("full", track_full))}
    out: dict[str, Any] = {"sample": sample, "full": full, "published": PUBLISHED, "relative_diff": rel,
                           "histogram": hist, "tracking": weeks, "spend": spend, "table": "\n".join(rows)}
    if out_dir is not None:
        path = Path(out_dir) / "cdnow_fit.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        _plot(hist, track, path)
        out["png"] = str(path)
    return out
