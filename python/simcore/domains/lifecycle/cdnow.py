"""The CDNOW data (shipped in the ``lifetimes`` 0.11.3 wheel, which is neither installed
nor imported) and the maximum-likelihood BG/NBD fit (Fader, Hardie & Lee 2005, "Counting
your customers the easy way") that calibrates the lifecycle population.

Files read from the wheel (a zip): ``lifetimes/datasets/CDNOW_master.txt`` (whitespace
columns customer id, date YYYYMMDD, number of CDs, dollar value; 23,570 customers who
first bought in 1997 Q1) and ``lifetimes/datasets/cdnow_customers_summary.csv`` (the
2,357-customer sample of the paper: ID, frequency, recency, T in weeks, 39-week
calibration).  Tests use synthetic files in the same formats.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

__all__ = ["Transactions", "Summary", "BGNBDFit", "find_wheel", "read_transactions", "read_summary",
           "summarize", "bgnbd_loglik", "fit_bgnbd", "expected_repeats", "prob_repeats", "fit_spend",
           "PUBLISHED", "MASTER", "SUMMARY"]

WHEEL = "Lifetimes-0.11.3-py3-none-any.whl"
MASTER = "lifetimes/datasets/CDNOW_master.txt"
SAMPLE = "lifetimes/datasets/CDNOW_sample.txt"
SUMMARY = "lifetimes/datasets/cdnow_customers_summary.csv"
#: Fader, Hardie & Lee (2005), CDNOW sample of 2,357, weeks: r, alpha, a, b.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
_EPOCH = date(1997, 1, 1)


class CDNOWFormatError(ValueError):
    """A CDNOW file that does not parse (names the file and line)."""


@dataclass(frozen=True)
class Transactions:
    """Raw transactions: customer int64, day int64 (days since 1997-01-01), cds int64,
    value float64 (dollars), one row per line of CDNOW_master.txt."""

    customer: np.ndarray
    day: np.ndarray
    cds: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class Summary:
    """Per-customer BG/NBD statistics (time in ``unit`` days, weeks by default): x
    repeat purchases (distinct later purchase days), t_x time of the last purchase and T
    the time observed, both from the first purchase."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray


@dataclass(frozen=True)
class BGNBDFit:
    """r, alpha (in the data's time unit), a, b, the maximised log-likelihood, n customers."""

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    n: int

    def params(self) -> tuple[float, float, float, float]:
        """(r, alpha, a, b)."""
        return (self.r, self.alpha, self.a, self.b)


def _open(source: str | Path, rel: str) -> str:
    src = Path(source)
    if src.is_dir():
        for cand in (src / rel, src / Path(rel).name):
            if cand.is_file():
                return cand.read_text()
        raise FileNotFoundError(f"{src}: no {rel} (nor {Path(rel).name}) in the directory")
    if zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as z:
            try:
                return z.read(rel).decode("utf-8")
            except KeyError:
                raise FileNotFoundError(f"{src}: the wheel holds no {rel}") from None
    raise FileNotFoundError(f"{src}: expected a directory or the lifetimes wheel (a zip)")


def find_wheel(cache_dir: str | Path | None = None, download: bool = True,
               also: tuple[str, ...] = ("/tmp/dl",)) -> Path:
    """The lifetimes 0.11.3 wheel: in ``cache_dir`` (default ~/.cache/simcore/lifetimes)
    or one of the ``also`` folders; if absent and ``download``, fetched into cache_dir
    with ``pip download lifetimes==0.11.3 --no-deps``.  RuntimeError with a one-line
    reason otherwise."""
    cache = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "simcore" / "lifetimes"
    for d in (cache, *(Path(a) for a in also)):
        hits = sorted(d.glob("[Ll]ifetimes-0.11.3-*.whl")) if d.is_dir() else []
        if hits:
            return hits[0]
    if not download:
        raise RuntimeError(f"no {WHEEL} in {cache} or {list(also)} (download disabled)")
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "lifetimes==0.11.3", "--no-deps", "-d", str(cache), "-q"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"pip download lifetimes==0.11.3 failed: {exc}") from None
    hits = sorted(cache.glob("[Ll]ifetimes-0.11.3-*.whl"))
    if proc.returncode != 0 or not hits:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"pip download lifetimes==0.11.3 failed (exit {proc.returncode}): {last}")
    return hits[0]


def read_transactions(source: str | Path, rel: str = MASTER) -> Transactions:
    """CDNOW_master.txt (or CDNOW_sample.txt, whose extra second column, the sample's id,
    is dropped) from a directory or the wheel (CDNOWFormatError on a bad line)."""
    text = _open(source, rel)
    cust, day, cds, val = [], [], [], []
    for k, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0] == "customer_id":
            continue
        if len(parts) == 5:  # CDNOW_sample.txt: master id, sample id, date, cds, dollars
            parts = [parts[0]] + parts[2:]
        try:
            c, d, n, v = int(parts[0]), parts[1], int(parts[2]), float(parts[3])
            when = date(int(d[:4]), int(d[4:6]), int(d[6:8]))
        except (ValueError, IndexError):
            raise CDNOWFormatError(f"{rel}:{k}: expected 'id YYYYMMDD n_cds dollars', got {line!r}") from None
        if len(parts) != 4 or n < 0 or not np.isfinite(v) or v < 0:
            raise CDNOWFormatError(f"{rel}:{k}: expected 'id YYYYMMDD n_cds dollars' (>= 0), got {line!r}")
        cust.append(c)
        day.append((when - _EPOCH).days)
        cds.append(n)
        val.append(v)
    if not cust:
        raise CDNOWFormatError(f"{rel}: no transactions")
    return Transactions(np.array(cust, np.int64), np.array(day, np.int64), np.array(cds, np.int64),
                        np.array(val, np.float64))


def read_summary(source: str | Path, rel: str = SUMMARY) -> Summary:
    """cdnow_customers_summary.csv (ID, frequency, recency, T; weeks)."""
    rows = list(csv.DictReader(io.StringIO(_open(source, rel))))
    try:
        x = np.array([float(r["frequency"]) for r in rows])
        t_x = np.array([float(r["recency"]) for r in rows])
        T = np.array([float(r["T"]) for r in rows])
    except (KeyError, ValueError, TypeError):
        raise CDNOWFormatError(f"{rel}: expected columns ID, frequency, recency, T with numbers") from None
    if x.size == 0 or np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9):
        raise CDNOWFormatError(f"{rel}: needs rows with frequency >= 0 and 0 <= recency <= T")
    return Summary(x, t_x, T)


def summarize(tx: Transactions, calibration_days: int = 273, unit: float = 7.0) -> Summary:
    """BG/NBD statistics over the calibration period (days [0, calibration_days) of
    1997, 273 = up to 1997-09-30; weeks by default): purchases on the same day are one
    purchase; x counts the distinct purchase days after the first; t_x (the last one) and
    T (the calibration period's last day, calibration_days - 1) are measured from the
    first purchase day, all divided by ``unit`` (as in cdnow_customers_summary.csv)."""
    keep = tx.day < calibration_days
    pairs = np.unique(np.stack([tx.customer[keep], tx.day[keep]], 1), axis=0)
    cust, first_idx, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    first = pairs[first_idx, 1]
    last = pairs[first_idx + counts - 1, 1]
    return Summary((counts - 1).astype(float), (last - first) / unit, (calibration_days - 1 - first) / unit)


def bgnbd_loglik(params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray,
                 T: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6):
    L = B(a, b+x)/B(a, b) G(r+x) a^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))."""
    r, alpha, a, b = params
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    t1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    with np.errstate(invalid="ignore", divide="ignore"):
        t2 = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return base + np.logaddexp(t1, t2)


def fit_bgnbd(s: Summary, start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> BGNBDFit:
    """Maximum-likelihood (r, alpha, a, b) over log-parameters (L-BFGS-B, then Nelder-Mead
    polish); time unit that of ``s``."""
    def nll(z: np.ndarray) -> float:
        v = float(-np.sum(bgnbd_loglik(tuple(np.exp(z)), s.x, s.t_x, s.T)))
        return v if np.isfinite(v) else 1e300

    z0 = np.log(np.asarray(start, float))
    res = minimize(nll, z0, method="L-BFGS-B", bounds=[(-12, 8)] * 4)
    res = minimize(nll, res.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 4000})
    r, alpha, a, b = (float(v) for v in np.exp(res.x))
    return BGNBDFit(r, alpha, a, b, float(-res.fun), int(s.x.size))


def expected_repeats(params: tuple[float, float, float, float], t: np.ndarray) -> np.ndarray:
    """E[X(t)], repeat purchases in (0, t] of a new customer (FHL 2005, eq. 7):
    (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]."""
    r, alpha, a, b = params
    t = np.asarray(t, float)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def prob_repeats(params: tuple[float, float, float, float], t: np.ndarray, x: int) -> np.ndarray:
    """P(X(t) = x) (FHL 2005, eq. 8), for each entry of t."""
    r, alpha, a, b = params
    t = np.asarray(t, float)
    lo, hi = alpha / (alpha + t), t / (alpha + t)
    nb = np.exp(gammaln(r + x) - gammaln(r) - gammaln(x + 1)) * lo**r * hi**x
    p = np.exp(betaln(a, b + x) - betaln(a, b)) * nb
    if x > 0:
        tail = sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)) * hi**j for j in range(x))
        p = p + np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * (1 - lo**r * tail)
    return p


def fit_spend(tx: Transactions) -> dict[str, float]:
    """Log-normal spend per purchase day (docs/lifecycle_model.md, "Spend"): a day's
    value v = m LogNormal(-s^2/2, s) for the customer's mean m, log m ~ N(mu, sd^2).
    s^2 = pooled within-customer variance of log v (customers with >= 2 days); sd^2 =
    var(customer mean log v) - mean(s^2 / n_i) (>= 0); mu = mean(customer mean log v)
    + s^2 / 2.  Days with value 0 are left out.  Returns mu, sd, s and the counts."""
    keep = tx.value > 0
    key = tx.customer[keep] * 100_000 + tx.day[keep]
    uk, inv = np.unique(key, return_inverse=True)
    v = np.bincount(inv, weights=tx.value[keep])
    cust = uk // 100_000
    lv = np.log(v)
    uc, ci, n = np.unique(cust, return_inverse=True, return_counts=True)
    mean = np.bincount(ci, weights=lv) / n
    dev = lv - mean[ci]
    rep = n >= 2
    s2 = float(np.sum(dev[rep[ci]] ** 2) / np.sum(n[rep] - 1))
    sd2 = max(0.0, float(np.var(mean) - np.mean(s2 / n)))
    return {"spend_log_mean": float(np.mean(mean) + s2 / 2), "spend_log_sd": float(np.sqrt(sd2)),
            "spend_within_sd": float(np.sqrt(s2)), "customers": int(uc.size), "purchase_days": int(v.size)}
