"""CDNOW loader (synthetic files, no network), the BG/NBD likelihood and fit, and the real
data: our fit reproduces Fader, Hardie & Lee (2005) and is the population's default."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from scipy.special import beta, gamma

from simcore.domains.lifecycle import cdnow
from simcore.domains.lifecycle.config import PopulationConfig

MASTER_TXT = """ 00001 19970101  1   11.77
 00002 19970112  1   12.00
 00002 19970112  5   77.00
 00003 19970102  2   20.76
 00003 19970330  2   20.76
 00003 19970402  2   19.54
 00003 19971115  5   57.45
"""
SUMMARY_CSV = "ID,frequency,recency,T\n1,2,30.43,38.86\n2,1,1.71,38.86\n3,0,0.0,38.86\n"


@pytest.fixture()
def wheel(tmp_path):
    path = tmp_path / "Lifetimes-0.11.3-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(cdnow.MASTER, MASTER_TXT)
        z.writestr(cdnow.SUMMARY, SUMMARY_CSV)
    return path


def test_loader_reads_wheel_and_directory(wheel, tmp_path):
    tx = cdnow.read_transactions(wheel)
    assert tx.customer.tolist() == [1, 2, 2, 3, 3, 3, 3]
    assert tx.day.tolist()[:2] == [0, 11] and tx.value[1] == 12.0
    d = tmp_path / "dir"
    d.mkdir()
    (d / "CDNOW_master.txt").write_text(MASTER_TXT)
    assert np.array_equal(cdnow.read_transactions(d).value, tx.value)
    s = cdnow.read_summary(wheel)
    assert s.x.tolist() == [2, 1, 0] and s.T[0] == 38.86
    sm = cdnow.summarize(tx, calibration_days=273)
    # customer 3: days 1, 88, 91 in the calibration period (the November purchase is after it)
    assert sm.x.tolist() == [0, 0, 2]
    assert sm.t_x[2] == pytest.approx(90 / 7) and sm.T[2] == pytest.approx(271 / 7)
    assert cdnow.find_wheel(tmp_path, download=False) == wheel


def test_loader_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "CDNOW_master.txt").write_text(" 00001 1997xx01 1 11.77\n")
    with pytest.raises(cdnow.CDNOWFormatError, match="CDNOW_master.txt:1"):
        cdnow.read_transactions(bad)
    (bad / "CDNOW_master.txt").write_text(" 00001 19970101 1 -3\n")
    with pytest.raises(cdnow.CDNOWFormatError, match=">= 0"):
        cdnow.read_transactions(bad)
    with pytest.raises(FileNotFoundError, match="cdnow_customers_summary"):
        cdnow.read_summary(bad)
    with pytest.raises(RuntimeError, match="download disabled"):
        cdnow.find_wheel(tmp_path / "empty", download=False, also=())


def test_loglik_matches_the_direct_formula():
    r, alpha, a, b = 0.3, 4.0, 0.8, 2.5
    x, t_x, T = np.array([0.0, 1.0, 4.0]), np.array([0.0, 5.0, 30.0]), np.array([39.0, 20.0, 35.0])
    ours = np.exp(cdnow.bgnbd_loglik((r, alpha, a, b), x, t_x, T))
    for i in range(3):
        A = beta(a, b + x[i]) / beta(a, b) * gamma(r + x[i]) * alpha**r / (gamma(r) * (alpha + T[i]) ** (r + x[i]))
        B = (beta(a + 1, b + x[i] - 1) / beta(a, b) * gamma(r + x[i]) * alpha**r
             / (gamma(r) * (alpha + t_x[i]) ** (r + x[i]))) if x[i] > 0 else 0.0
        assert ours[i] == pytest.approx(A + B, rel=1e-10)


def test_expectation_and_pmf_agree():
    p = (0.25, 4.4, 0.8, 2.4)
    pmf = np.array([cdnow.prob_repeats(p, 39.0, k) for k in range(300)])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (pmf * np.arange(300)).sum() == pytest.approx(float(cdnow.expected_repeats(p, 39.0)), rel=1e-6)


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(0)
    n, T = 6000, 39.0
    lam, p = rng.gamma(0.5, 1 / 2.0, n), rng.beta(1.0, 3.0, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):  # continuous-time BG/NBD: Poisson purchases, death after each w.p. p
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    f = cdnow.fit_bgnbd(cdnow.Summary(x, t_x, np.full(n, T)))
    assert f.r == pytest.approx(0.5, rel=0.15) and f.alpha == pytest.approx(2.0, rel=0.25)
    assert f.a == pytest.approx(1.0, rel=0.35) and f.b == pytest.approx(3.0, rel=0.45)


def _real_wheel():
    try:
        return cdnow.find_wheel()
    except RuntimeError as exc:
        pytest.skip(f"the lifetimes 0.11.3 wheel is absent and could not be downloaded: {exc}")


def test_fit_reproduces_fader_hardie_lee_2005():
    f = cdnow.fit_bgnbd(cdnow.read_summary(_real_wheel()))
    for k, v in cdnow.PUBLISHED.items():
        assert getattr(f, k) == pytest.approx(v, rel=0.01), k
    assert f.n == 2357 and f.loglik == pytest.approx(-9582.4, abs=0.5)
    d = PopulationConfig()
    assert (d.r, d.alpha / 7, d.a, d.b) == pytest.approx(f.params(), rel=0.01)


def test_sample_transactions_give_the_summary():
    """CDNOW_sample.txt summarised by our rules is cdnow_customers_summary.csv (x, t_x, T)."""
    w = _real_wheel()
    ours = cdnow.summarize(cdnow.read_transactions(w, cdnow.SAMPLE))
    ref = cdnow.read_summary(w)
    key = lambda s: np.lexsort((s.t_x, s.T, s.x))  # noqa: E731
    a, b = key(ours), key(ref)
    assert np.array_equal(ours.x[a], ref.x[b])
    np.testing.assert_allclose(ours.T[a], ref.T[b], atol=0.006)
    np.testing.assert_allclose(ours.t_x[a], ref.t_x[b], atol=0.006)


def test_spend_fit_is_the_default():
    s = cdnow.fit_spend(cdnow.read_transactions(_real_wheel()))
    d = PopulationConfig()
    assert s["customers"] > 23_000
    for k in ("spend_log_mean", "spend_log_sd", "spend_within_sd"):
        assert getattr(d, k) == pytest.approx(s[k], abs=1e-3), k
