"""Uplift (heterogeneous treatment effect) models, Qini/uplift curves and the budgeted
treat-by-uplift policy (NumPy/SciPy; no scikit-learn).

Data: features x float (n, d), binary treatment t in {0, 1} (n,), outcome y float (n,)
(0/1 conversions or real).  tau(x) = E[y | x, t=1] - E[y | x, t=0].

Base learners (intercept unpenalised, L2 penalty ``alpha`` on the slopes):

* :class:`Ridge` - least squares, closed form;
* :class:`Logistic` - L2-penalised logistic regression by Newton's method (IRLS).

Meta-learners:

* :class:`TLearner` - mu_1, mu_0 fitted on the treated / control rows; tau = mu_1 - mu_0;
* :class:`XLearner` (Kunzel et al. 2019) - imputed effects D1 = y - mu_0(x) on the treated,
  D0 = mu_1(x) - y on the controls, ridge fits tau_1, tau_0, combined
  tau = e(x) tau_0 + (1 - e(x)) tau_1 (e: the treatment propensity, fitted or given);
* :class:`DRLearner` (Kennedy 2020) - the pseudo-outcome
  phi = mu_1 - mu_0 + t (y - mu_1)/e - (1 - t)(y - mu_0)/(1 - e), cross-fitted over
  ``n_folds`` (nuisances fitted off-fold), regressed on x by ridge.

An uplift forest is not offered: it would need a new dependency (scikit-uplift /
causalml), which the project does not take.

Curves over the users sorted by predicted uplift (descending), k = 1..n treated:

* Qini Q(k) = Y_T(k) - Y_C(k) N_T(k) / N_C(k) (cumulated outcomes and counts of the
  top k's treated / control rows; 0 while N_C(k) = 0);
* uplift curve U(k) = (Y_T(k)/N_T(k) - Y_C(k)/N_C(k)) k;
* with the true tau (simulators): G(k) = sum of tau over the top k (the expected gain);
* the Qini coefficient of a curve C: the mean over k of (C(k) - (k/n) C(n)), divided by
  n (incremental outcome per user, area between the curve and random targeting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _xy(x: object, y: object, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(x, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"x: expected shape (n, d) with n >= 2, got {X.shape}")
    if Y.shape != (X.shape[0],):
        raise ValueError(f"{name}: expected shape ({X.shape[0]},), got {Y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise ValueError(f"x/{name}: contain NaN or inf")
    return X, Y


def _design(x: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((x.shape[0], 1)), x])


@dataclass
class Ridge:
    """Ridge regression y ~ b0 + x^T w, minimising ||y - b0 - Xw||^2 + alpha ||w||^2
    (``alpha`` >= 0; the intercept is not penalised)."""

    alpha: float = 1.0
    coef: np.ndarray | None = None

    def fit(self, x: object, y: object, weight: object | None = None) -> Ridge:
        X, Y = _xy(x, y)
        D = _design(X)
        w = np.ones(X.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)
        pen = self.alpha * np.eye(D.shape[1])
        pen[0, 0] = 0.0
        self.coef = np.linalg.solve(D.T @ (D * w[:, None]) + pen + 1e-10 * np.eye(D.shape[1]), D.T @ (w * Y))
        return self

    def predict(self, x: object) -> np.ndarray:
        """float64 (n,) predictions."""
        if self.coef is None:
            raise RuntimeError("predict: call fit first")
        return _design(np.asarray(x, dtype=np.float64)) @ self.coef


@dataclass
class Logistic:
    """L2-penalised logistic regression P(y=1|x) = sigmoid(b0 + x^T w) by Newton/IRLS
    (labels in [0, 1]; ``alpha`` > 0 keeps separable data finite)."""

    alpha: float = 1.0
    max_iter: int = 50
    tol: float = 1e-10
    coef: np.ndarray | None = None

    def fit(self, x: object, y: object) -> Logistic:
        X, Y = _xy(x, y)
        if Y.min() < 0 or Y.max() > 1:
            raise ValueError("y: logistic labels must lie in [0, 1]")
        D = _design(X)
        pen = self.alpha * np.eye(D.shape[1])
        pen[0, 0] = 1e-8
        beta = np.zeros(D.shape[1])
        p0 = min(max(Y.mean(), 1e-6), 1 - 1e-6)
        beta[0] = math.log(p0 / (1 - p0))
        for _ in range(self.max_iter):
            p = 1.0 / (1.0 + np.exp(-(D @ beta)))
            grad = D.T @ (p - Y) + pen @ beta
            H = D.T @ (D * (p * (1 - p))[:, None]) + pen
            step = np.linalg.solve(H, grad)
            beta -= step
            if np.max(np.abs(step)) < self.tol:
                break
        self.coef = beta
        return self

    def predict(self, x: object) -> np.ndarray:
        """float64 (n,) P(y = 1 | x)."""
        if self.coef is None:
            raise RuntimeError("predict: call fit first")
        return 1.0 / (1.0 + np.exp(-(_design(np.asarray(x, dtype=np.float64)) @ self.coef)))


def _check_t(t: object, n: int) -> np.ndarray:
    T = np.asarray(t)
    if T.shape != (n,) or not np.all((T == 0) | (T == 1)):
        raise ValueError(f"t: expected 0/1 treatment indicators of shape ({n},)")
    T = T.astype(bool)
    if T.sum() < 2 or (~T).sum() < 2:
        raise ValueError("t: needs at least 2 treated and 2 control rows")
    return T


def _outcome_model(binary: bool, alpha: float) -> Ridge | Logistic:
    return Logistic(alpha) if binary else Ridge(alpha)


def _binary(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


@dataclass
class TLearner:
    """tau = mu_1 - mu_0 (logistic base for 0/1 outcomes, else ridge)."""

    alpha: float = 1.0

    def fit(self, x: object, t: object, y: object) -> TLearner:
        X, Y = _xy(x, y)
        T = _check_t(t, X.shape[0])
        b = _binary(Y)
        self.mu1 = _outcome_model(b, self.alpha).fit(X[T], Y[T])
        self.mu0 = _outcome_model(b, self.alpha).fit(X[~T], Y[~T])
        return self

    def predict(self, x: object) -> np.ndarray:
        """float64 (n,) predicted uplift."""
        return self.mu1.predict(x) - self.mu0.predict(x)


def _check_propensity(propensity: float | None) -> None:
    if propensity is not None and not (isinstance(propensity, (int, float)) and not isinstance(propensity, bool)
                                       and 0 < propensity < 1):
        raise ValueError(f"propensity: expected None or a number in (0, 1), got {propensity!r}")


@dataclass
class XLearner:
    """The X-learner; ``propensity`` None = fitted by logistic regression, or a float in
    (0, 1) (a randomised experiment's known share)."""

    alpha: float = 1.0
    propensity: float | None = None

    def __post_init__(self) -> None:
        _check_propensity(self.propensity)

    def fit(self, x: object, t: object, y: object) -> XLearner:
        X, Y = _xy(x, y)
        T = _check_t(t, X.shape[0])
        base = TLearner(self.alpha).fit(X, T.astype(int), Y)
        self.tau1 = Ridge(self.alpha).fit(X[T], Y[T] - base.mu0.predict(X[T]))
        self.tau0 = Ridge(self.alpha).fit(X[~T], base.mu1.predict(X[~T]) - Y[~T])
        self.e = None if self.propensity is not None else Logistic(self.alpha).fit(X, T.astype(float))
        return self

    def predict(self, x: object) -> np.ndarray:
        """float64 (n,) predicted uplift."""
        X = np.asarray(x, dtype=np.float64)
        e = np.full(X.shape[0], self.propensity) if self.e is None else self.e.predict(X)
        return e * self.tau0.predict(X) + (1 - e) * self.tau1.predict(X)


@dataclass
class DRLearner:
    """The DR-learner, cross-fitted over ``n_folds`` (fold assignment from ``seed``);
    ``propensity`` as for :class:`XLearner`; e clipped to [clip, 1 - clip]."""

    alpha: float = 1.0
    propensity: float | None = None
    n_folds: int = 2
    clip: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        _check_propensity(self.propensity)
        if not isinstance(self.n_folds, int) or isinstance(self.n_folds, bool) or self.n_folds < 2:
            raise ValueError(f"n_folds: expected an integer >= 2 (cross-fitting), got {self.n_folds!r}")
        if not (isinstance(self.clip, (int, float)) and 0 <= self.clip < 0.5):
            raise ValueError(f"clip: expected a number in [0, 0.5), got {self.clip!r}")

    def fit(self, x: object, t: object, y: object) -> DRLearner:
        X, Y = _xy(x, y)
        n = X.shape[0]
        T = _check_t(t, n)
        fold = np.random.default_rng(self.seed).permutation(n) % self.n_folds
        phi = np.empty(n)
        for k in range(self.n_folds):
            tr, te = fold != k, fold == k
            nuis = TLearner(self.alpha).fit(X[tr], T[tr].astype(int), Y[tr])
            if self.propensity is None:
                e = Logistic(self.alpha).fit(X[tr], T[tr].astype(float)).predict(X[te])
            else:
                e = np.full(int(te.sum()), self.propensity)
            e = np.clip(e, self.clip, 1 - self.clip)
            m1, m0 = nuis.mu1.predict(X[te]), nuis.mu0.predict(X[te])
            tt, yy = T[te], Y[te]
            phi[te] = m1 - m0 + tt * (yy - m1) / e - (~tt) * (yy - m0) / (1 - e)
        self.tau = Ridge(self.alpha).fit(X, phi)
        return self

    def predict(self, x: object) -> np.ndarray:
        """float64 (n,) predicted uplift."""
        return self.tau.predict(x)


LEARNERS = {"t-learner": TLearner, "x-learner": XLearner, "dr-learner": DRLearner}


def _order(score: object, n: int, rng: np.random.Generator | None) -> np.ndarray:
    s = np.asarray(score, dtype=np.float64)
    if s.shape != (n,) or not np.all(np.isfinite(s)):
        raise ValueError(f"score: expected {n} finite predicted uplifts")
    tie = rng.random(n) if rng is not None else np.arange(n)
    return np.lexsort((tie, -s))


def _curve_ty(t: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """(bool (n,), float64 (n,)) of 0/1 treatments ``t`` and finite outcomes ``y``."""
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim != 1 or Y.size < 1 or not np.all(np.isfinite(Y)):
        raise ValueError(f"y: expected finite outcomes of shape (n,), got shape {Y.shape}")
    T = np.asarray(t)
    if T.shape != Y.shape or not np.all((T == 0) | (T == 1)):
        raise ValueError(f"t: expected 0/1 treatment indicators of shape {Y.shape}")
    return T.astype(bool), Y


def qini_curve(score: object, t: object, y: object, rng: np.random.Generator | None = None) -> np.ndarray:
    """float64 (n + 1,) Q(0..n) of the users sorted by ``score`` (ties by ``rng`` or index)."""
    T, Y = _curve_ty(t, y)
    o = _order(score, Y.size, rng)
    yt, yc = np.cumsum(Y[o] * T[o]), np.cumsum(Y[o] * ~T[o])
    nt, nc = np.cumsum(T[o]), np.cumsum(~T[o])
    q = yt - np.divide(yc * nt, nc, out=np.zeros_like(yc), where=nc > 0)
    return np.concatenate([[0.0], q])


def uplift_curve(score: object, t: object, y: object, rng: np.random.Generator | None = None) -> np.ndarray:
    """float64 (n + 1,) U(0..n) (0 while either arm of the top k is empty)."""
    T, Y = _curve_ty(t, y)
    o = _order(score, Y.size, rng)
    yt, yc = np.cumsum(Y[o] * T[o]), np.cumsum(Y[o] * ~T[o])
    nt, nc = np.cumsum(T[o]), np.cumsum(~T[o])
    ok = (nt > 0) & (nc > 0)
    u = np.where(ok, yt / np.maximum(nt, 1) - yc / np.maximum(nc, 1), 0.0) * np.arange(1, Y.size + 1)
    return np.concatenate([[0.0], u])


def gain_curve(score: object, true_uplift: object, rng: np.random.Generator | None = None) -> np.ndarray:
    """float64 (n + 1,) G(0..n): cumulated true uplift of the top k by ``score``."""
    tau = np.asarray(true_uplift, dtype=np.float64)
    if tau.ndim != 1 or not np.all(np.isfinite(tau)):
        raise ValueError(f"true_uplift: expected finite values of shape (n,), got shape {tau.shape}")
    return np.concatenate([[0.0], np.cumsum(tau[_order(score, tau.size, rng)])])


def qini_coefficient(curve: object) -> float:
    """mean_k (C(k) - (k/n) C(n)) / n for a curve C(0..n) (module docstring)."""
    c = np.asarray(curve, dtype=np.float64)
    n = c.size - 1
    if n < 1:
        raise ValueError("curve: needs at least 2 points")
    k = np.arange(n + 1)
    return float(np.mean(c - k / n * c[-1]) / n)


def treat_under_budget(uplift: object, cost: object, budget: float, *, by_ratio: bool = True) -> np.ndarray:
    """bool (n,): treat users in order of predicted uplift per cost (``by_ratio``) or
    uplift, while the uplift is positive and the cumulated cost fits ``budget``."""
    u = np.asarray(uplift, dtype=np.float64)
    c = np.broadcast_to(np.asarray(cost, dtype=np.float64), u.shape)
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(c)) and np.all(c >= 0)):
        raise ValueError("uplift/cost: expected finite values, costs >= 0")
    if not (math.isfinite(budget) and budget >= 0):
        raise ValueError(f"budget: expected a finite number >= 0, got {budget!r}")
    key = np.where(c > 0, u / np.where(c > 0, c, 1.0), np.where(u > 0, np.inf, -np.inf)) if by_ratio else u
    o = np.lexsort((np.arange(u.size), -key))
    o = o[u[o] > 0]
    fits = np.cumsum(c[o]) <= budget + 1e-12
    out = np.zeros(u.size, dtype=bool)
    out[o[fits]] = True
    return out
