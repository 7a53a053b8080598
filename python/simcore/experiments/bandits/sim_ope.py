"""Simulator studies with exact values, off-policy part (docs/bandits.md):

(a) :func:`estimator_study` - IPS, SNIPS, DM, DR, switch-DR on a synthetic Bernoulli
    contextual bandit: bias, standard deviation, RMSE and the coverage of each one's
    normal 95 % CI (value +- 1.96 stderr) against the exact V(pi_e), as the target
    pi_e(t) = (1 - t) pi_b + t pi_opt moves from the logging policy (t = 0) to the
    per-context optimum (t = 1);
(b) :func:`hcope_study` - the coverage of Thomas et al.'s high-confidence lower bound
    (and of the bootstrap and Student-t bounds) at level 1 - delta over repetitions.

The reward model of DM/DR/switch-DR is a per-arm ridge regression of the reward on the
context, cross-fitted over 2 folds (linear in x, so misspecified for the logistic truth).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcore.algos import hcope, ope
from simcore.algos.uplift import Ridge
from simcore.domains.bandits.synthetic import SyntheticBandit, SyntheticBanditConfig
from simcore.util.seeds import SeedTree

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch-dr")
Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score 95 % interval of a binomial proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(mid - half), float(mid + half)


def world(seeds: SeedTree, n_contexts: int = 100, n_arms: int = 5, dim: int = 5
          ) -> tuple[SyntheticBandit, np.ndarray, np.ndarray]:
    """(env, pi_b, pi_opt): the Bernoulli bandit, the logging policy softmax(-mu / 0.1)
    mixed with 5 % uniform (it prefers the arms the optimum avoids, so the targets on
    the path to the optimum move far from it: weights up to 1 / (0.05 / K)), and the
    per-context optimum."""
    env = SyntheticBandit(SyntheticBanditConfig(n_contexts=n_contexts, n_arms=n_arms, dim=dim),
                          seeds.generator("world"))
    return env, _anti_softmax(env, 0.1, 0.05), env.optimal_policy()


def _anti_softmax(env: SyntheticBandit, temperature: float, epsilon: float) -> np.ndarray:
    z = -env.mu / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return (1 - epsilon) * p + epsilon / env.config.n_arms


def cross_fit_model(x: np.ndarray, a: np.ndarray, r: np.ndarray, contexts: np.ndarray, ctx: np.ndarray,
                    n_arms: int, rng: np.random.Generator) -> np.ndarray:
    """q_hat float64 (n, K): per-arm ridge (alpha 1) of r on x, each round predicted by
    the model fitted on the other fold; rounds' contexts are ``contexts[ctx]``."""
    n = r.size
    fold = rng.permutation(n) % 2
    q = np.zeros((n, n_arms))
    for k in range(2):
        fit, out = fold != k, fold == k
        for arm in range(n_arms):
            m = fit & (a == arm)
            if m.sum() >= 3:
                q[out, arm] = Ridge(1.0).fit(x[m], r[m]).predict(contexts[ctx[out]])
            elif m.any():
                q[out, arm] = r[m].mean()
    return np.clip(q, 0.0, 1.0)


def _one(env: SyntheticBandit, pi_b: np.ndarray, pi_e: np.ndarray, n: int, tau: float,
         rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    log = env.log(pi_b, n, rng)
    q = cross_fit_model(log["x"], log["action"], log["reward"], env.contexts, log["ctx"], env.config.n_arms, rng)
    args = (log["reward"], log["action"], log["pscore"], pi_e[log["ctx"]])
    ests = {"ips": ope.ips(*args), "snips": ope.snips(*args), "dm": ope.dm(*args, q),
            "dr": ope.dr(*args, q), "switch-dr": ope.switch_dr(*args, q, tau=tau)}
    return {k: (e.value, e.stderr()) for k, e in ests.items()}


def estimator_study(seeds: SeedTree, shifts: tuple[float, ...], reps: int, n: int, tau: float = 20.0
                    ) -> dict[str, Any]:
    """(a): per shift t, per estimator: bias, sd, rmse, coverage (+ Wilson CI), and the
    bias's 95 % CI (mean +- 1.96 sd / sqrt(reps)); also the largest weight and the
    exact value.  Streams ``world`` and ``rep/<t index>/<rep>``."""
    env, pi_b, pi_opt = world(seeds)
    out: dict[str, Any] = {"v_logging": env.value(pi_b), "v_optimal": env.value(pi_opt), "n_rounds": n,
                           "reps": reps, "tau": tau, "shifts": {}}
    for j, t in enumerate(shifts):
        pi_e = (1 - t) * pi_b + t * pi_opt
        v = env.value(pi_e)
        runs = [_one(env, pi_b, pi_e, n, tau, seeds.generator("rep", j, r)) for r in range(reps)]
        row: dict[str, Any] = {"t": t, "value": v, "max_weight": float((pi_e / pi_b).max())}
        for name in ESTIMATORS:
            val = np.array([r[name][0] for r in runs])
            se = np.array([r[name][1] for r in runs])
            cover = int(np.sum(np.abs(val - v) <= Z95 * se))
            err = val - v
            half = Z95 * err.std(ddof=1) / np.sqrt(reps)
            row[name] = {"bias": float(err.mean()), "bias_ci": (float(err.mean() - half), float(err.mean() + half)),
                         "sd": float(val.std(ddof=1)), "rmse": float(np.sqrt((err ** 2).mean())),
                         "coverage": cover / reps, "coverage_ci": wilson(cover, reps)}
        out["shifts"][f"{t:g}"] = row
    return out


def hcope_study(seeds: SeedTree, shifts: tuple[float, ...], reps: int, n: int, delta: float = 0.05,
                n_boot: int = 200) -> dict[str, Any]:
    """(b): per shift, the share of repetitions whose lower bound is <= the exact value
    (Thomas et al. with a 5 % split, and with 20 % as a sensitivity; bootstrap; Student-t),
    its Wilson CI, and the mean
    looseness V - bound.  Streams ``world``, ``log/<j>/<r>``, ``split/...``, ``boot/...``."""
    env, pi_b, pi_opt = world(seeds)
    out: dict[str, Any] = {"delta": delta, "n_rounds": n, "reps": reps, "shifts": {}}
    for j, t in enumerate(shifts):
        pi_e = (1 - t) * pi_b + t * pi_opt
        v = env.value(pi_e)
        bounds: dict[str, list[float]] = {"thomas": [], "thomas-20%": [], "bootstrap": [], "t-test": []}
        for r in range(reps):
            log = env.log(pi_b, n, seeds.generator("log", j, r))
            x = pi_e[log["ctx"], log["action"]] / log["pscore"] * log["reward"]
            split = seeds.generator("split", j, r)
            bounds["thomas"].append(hcope.hcope_lower_bound(x, delta, pre=0.05, rng=split).lower)
            split20 = seeds.generator("split20", j, r)
            bounds["thomas-20%"].append(hcope.hcope_lower_bound(x, delta, pre=0.2, rng=split20).lower)
            bounds["bootstrap"].append(hcope.bootstrap_lower_bound(x, delta, rng=seeds.generator("boot", j, r),
                                                                   n_boot=n_boot))
            bounds["t-test"].append(hcope.t_lower_bound(x, delta))
        row: dict[str, Any] = {"t": t, "value": v}
        for name, b in bounds.items():
            arr = np.array(b)
            k = int(np.sum(arr <= v))
            row[name] = {"coverage": k / reps, "coverage_ci": wilson(k, reps), "looseness": float(np.mean(v - arr)),
                         "mean_bound": float(arr.mean())}
        out["shifts"][f"{t:g}"] = row
    return out


SEQ_ESTIMATORS = ("is", "pdis", "wpdis", "dr")


def _q_table(P: np.ndarray, R: np.ndarray, pi: np.ndarray, gamma: float) -> np.ndarray:
    """float64 (H, S, K) Q of the (H, S, K) policy ``pi`` in the MDP (P (S, K, S), R (S, K))."""
    q = np.zeros(pi.shape)
    v = np.zeros(P.shape[0])
    for t in range(pi.shape[0] - 1, -1, -1):
        q[t] = R + gamma * P @ v
        v = (pi[t] * q[t]).sum(axis=1)
    return q


def _fitted_q(log: dict[str, np.ndarray], rows: np.ndarray, n_s: int, n_k: int, pi: np.ndarray,
              gamma: float) -> np.ndarray:
    """Q of ``pi`` in the tabular MDP fitted on the episodes ``rows`` (rewards: (sum + 0.5)
    / (count + 1); transitions: add-one counts)."""
    s, a, r = log["state"][rows], log["action"][rows], log["reward"][rows]
    cnt = np.zeros((n_s, n_k))
    rsum = np.zeros((n_s, n_k))
    trans = np.ones((n_s, n_k, n_s))
    np.add.at(cnt, (s, a), 1.0)
    np.add.at(rsum, (s, a), r)
    np.add.at(trans, (s[:, :-1], a[:, :-1], s[:, 1:]), 1.0)
    return _q_table(trans / trans.sum(axis=2, keepdims=True), (rsum + 0.5) / (cnt + 1.0), pi, gamma)


def sequential_study(seeds: SeedTree, shifts: tuple[float, ...], reps: int, n_episodes: int) -> dict[str, Any]:
    """(a, sequential): IS, PDIS, WPDIS and DR (a tabular model cross-fitted over 2 folds) on
    an :class:`EpisodicMDP` (5 states, 3 actions, H = 5) with exact values, the target
    (1 - t) pi_b + t pi_opt (pi_opt: the finite-horizon optimum by backward recursion);
    bias, sd, and the normal CI's coverage (not for WPDIS, a ratio)."""
    from simcore.algos import ope_sequential as seq
    from simcore.domains.bandits.synthetic import EpisodicConfig, EpisodicMDP

    cfg = EpisodicConfig(n_states=5, n_actions=3, horizon=5, gamma=1.0)
    mdp = EpisodicMDP(cfg, seeds.generator("world"))
    pi_b = np.broadcast_to(0.5 * mdp.random_policy(seeds.generator("logging")) + 0.5 / 3, (5, 5, 3))
    q_star = np.zeros((5, 5, 3))
    v_next = np.zeros(5)
    for h in range(4, -1, -1):
        q_star[h] = mdp.R + mdp.P @ v_next
        v_next = q_star[h].max(axis=1)
    pi_opt = np.eye(3)[q_star.argmax(axis=2)]
    out: dict[str, Any] = {"n_episodes": n_episodes, "reps": reps, "v_logging": mdp.value(pi_b),
                           "v_optimal": mdp.value(pi_opt), "shifts": {}}
    for j, t in enumerate(shifts):
        pi_e = (1 - t) * pi_b + t * pi_opt
        val = mdp.value(pi_e)
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in SEQ_ESTIMATORS}
        for r in range(reps):
            rng = seeds.generator("rep", j, r)
            log = mdp.log(pi_b, n_episodes, rng)
            terms = mdp.target_terms(log, pi_e)
            args = (log["reward"], log["pscore"], terms["target_prob"])
            fold = rng.permutation(n_episodes) % 2
            q_hat, v_hat = np.zeros(log["reward"].shape), np.zeros(log["reward"].shape)
            for k in range(2):
                q = _fitted_q(log, fold != k, 5, 3, pi_e, 1.0)
                fitted = mdp.target_terms({kk: vv[fold == k] for kk, vv in log.items()}, pi_e, q)
                q_hat[fold == k], v_hat[fold == k] = fitted["q_hat"], fitted["v_hat"]
            for name, est in (("is", seq.trajectory_is(*args)), ("pdis", seq.pdis(*args)),
                              ("dr", seq.sequential_dr(*args, q_hat, v_hat))):
                runs[name].append((est.value, est.stderr()))
            runs["wpdis"].append((seq.wpdis(*args).value, float("nan")))
        row: dict[str, Any] = {"t": t, "value": val,
                               "max_weight": float(np.prod((pi_e / pi_b).max(axis=(1, 2))))}
        for name in SEQ_ESTIMATORS:
            est_v = np.array([x[0] for x in runs[name]])
            se = np.array([x[1] for x in runs[name]])
            err = est_v - val
            half = Z95 * err.std(ddof=1) / np.sqrt(reps)
            cover = int(np.sum(np.abs(err) <= Z95 * se)) if name != "wpdis" else -1
            row[name] = {"bias": float(err.mean()), "bias_ci": (float(err.mean() - half), float(err.mean() + half)),
                         "sd": float(est_v.std(ddof=1)), "rmse": float(np.sqrt((err ** 2).mean())),
                         "coverage": cover / reps if cover >= 0 else None,
                         "coverage_ci": wilson(cover, reps) if cover >= 0 else None}
        out["shifts"][f"{t:g}"] = row
    return out
