"""Virtual Taobao (issue 12): learn user simulators from logs of the true search
simulator and measure them against the truth (docs/virtual_taobao.md).

Per seed index s (SeedTree paths ``seed/<s>/...``), one job (:func:`run_seed`):

1. Log ``sessions`` sessions of the logging policy (LTR + N(0, std^2) per page) on
   the true simulator (:func:`simcore.domains.search.logs.record`).
2. Users: empirical resampling, a Gaussian mixture and GAN-SD fitted to the logged
   users; each generated population's distance from the true population.
3. Behaviour cloning on the log, early-stopped on the log's validation split, then its
   three outcome biases refit on that split (:func:`.bc.calibrate_outcome`): the learned
   simulator's user ("bc"; every fine-tuning starts from it).  The raw early-stopped
   model is kept as the ablation "uncal" (panel row and CEM engine "bc-uncal").
4. A panel of policies (the five named rankings and LTR perturbed at each distance
   along random directions), each evaluated exactly (expectation mode) on the same
   panel of users in the true simulator and in the learned one (observable user
   features only), in the learned one with each generated population, in the BC
   model fine-tuned by GAIL on the log's states ("bc+gail") and in the BC model
   fine-tuned by MAIL on sessions it generates in the learned simulator ("bc+mail",
   :mod:`simcore.domains.virtual_taobao.mail`).
5. Engine policies trained by CEM inside the truth, inside the learned simulator, and
   inside it with ANC; each evaluated exactly in the truth, against the logging policy.
"""

from __future__ import annotations

import copy
import os
import platform
import tempfile
import time
from typing import Any

import numpy as np

from simcore.domains.search.logs import open_log, record
from simcore.domains.search.simulator import SearchSimulator
from simcore.domains.search.world import ACTION_NAMES, default_action_set, make_world
from simcore.experiments.virtual_taobao.config import VirtualTaobaoConfig
from simcore.experiments.virtual_taobao.evaluate import cem_static, kl_pages, paths, summaries
from simcore.experiments.virtual_taobao.logging_policy import engine_distances, make_policy, mean_weights
from simcore.runner import Job, SeedTree, run_jobs
from simcore.util.config import to_dict

__all__ = ["run", "run_seed", "policy_panel"]


def policy_panel(cfg: VirtualTaobaoConfig, m: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Names and float32 (P, m) weights: the named rankings, then LTR + d * u for each
    distance d and ``directions`` random unit directions u."""
    named = default_action_set(m)
    names, rows = list(ACTION_NAMES[: named.shape[0]]), [w for w in named]
    for j in range(cfg.directions):
        u = rng.standard_normal(m)
        u /= np.linalg.norm(u)
        for d in cfg.distances:
            names.append(f"ltr+{d:g}u{j}")
            rows.append(named[0] + d * u)
    return names, np.asarray(rows, np.float32)


def _log_action_norm(path: str) -> float:
    norms = [np.linalg.norm(b["action"], axis=1) for b in open_log(path).batches()]
    return float(np.concatenate(norms).mean())


def _users_fidelity(cfg: VirtualTaobaoConfig, pages: Any, world: Any, tree: SeedTree) -> tuple[dict, dict]:
    from simcore.domains.virtual_taobao.data import first_pages
    from simcore.domains.virtual_taobao.gansd import GANSDConfig, train_gansd
    from simcore.domains.virtual_taobao.users import (
        EmpiricalUsers,
        GaussianMixtureUsers,
        PriorUsers,
        population_distance,
    )

    Q, G = world.features.shape[0], len(world.segment_probs)
    users = first_pages(pages)
    samplers: dict[str, Any] = {
        "empirical": EmpiricalUsers(users),
        "gmm": GaussianMixtureUsers(users, Q, G, cfg.gmm_components, seed=tree.seed("gmm") % 2**32),
        "gan-sd": train_gansd(users, Q, G, GANSDConfig(steps=cfg.gansd_steps, seed=tree.seed("gansd")))[0],
    }
    n = 20_000
    truth = PriorUsers(world).sample(tree.generator("true-population"), n)
    dist = {k: population_distance(s.sample(tree.generator("sample", k), n), truth, Q, G)
            for k, s in samplers.items()}
    dist["true-resample"] = population_distance(PriorUsers(world).sample(tree.generator("true-again"), n),
                                                truth, Q, G)
    return samplers, dist


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def _panel_metrics(cfg: VirtualTaobaoConfig, model: Any, tuned: dict[str, Any], samplers: dict, world: Any,
                   tree: SeedTree, W: np.ndarray) -> dict[str, Any]:
    from scipy.stats import spearmanr

    from simcore.domains.virtual_taobao.sim import LearnedSimulator

    sc, n = cfg.session, cfg.panel
    true_sim = SearchSimulator(sc, n, tree.seed("panel"), world=world)
    true_sim.reset()
    full = true_sim.users()
    obs = {k: full[k] for k in ("query", "segment", "power")}
    tp = paths(lambda B: SearchSimulator(sc, B, 0, world=world), full, W, n)
    lp = paths(lambda B: LearnedSimulator(model, sc, B, world=world), obs, W, n)
    ts, ls = summaries(tp), summaries(lp)
    vt, vl = ts["value_h"][:, -1], ls["value_h"][:, -1]
    out: dict[str, Any] = {
        "value_true": vt.tolist(), "value_bc": vl.tolist(),
        "spearman_bc": float(spearmanr(vt, vl)[0]), "rel_err_bc": _rel(vl, vt).tolist(),
        "compounding": _rel(ls["value_h"], ts["value_h"]).mean(axis=0).tolist(),
        "compounding_ltr": _rel(ls["value_h"][0], ts["value_h"][0]).tolist(),
        "kl_pages_ltr": kl_pages({k: tp[k][:1] for k in "blc"}, {k: lp[k][:1] for k in "blc"})[0].tolist(),
        "pmf_true_ltr": ts["pmf"][0].tolist(), "pmf_bc_ltr": ls["pmf"][0].tolist(),
    }
    pt, pl = ts["pmf"] / ts["pmf"].sum(1, keepdims=True), ls["pmf"] / ls["pmf"].sum(1, keepdims=True)
    out["r2p_tv"] = (0.5 * np.abs(pt - pl).sum(axis=1)).tolist()
    out["conversion_true"], out["conversion_bc"] = ts["pmf"].sum(1).tolist(), ls["pmf"].sum(1).tolist()
    # the logging policy's conversion with BC's b under the true survival and vice versa (same pages:
    # expectation-mode pages depend on the ranking only), and the first page's b (no survival)
    st, sl = ts["survival"][0], ls["survival"][0]
    out["conv_bcb_true_survival"] = float((st * lp["b"][0]).sum(1).mean())
    out["conv_trueb_bc_survival"] = float((sl * tp["b"][0]).sum(1).mean())
    out["b_page1_true"], out["b_page1_bc"] = float(tp["b"][0, :, 0].mean()), float(lp["b"][0, :, 0].mean())
    out["mean_len_true"], out["mean_len_bc"] = float(st.sum(1).mean()), float(sl.sum(1).mean())
    def with_users(name: str, sampler: Any) -> Any:
        return lambda B: LearnedSimulator(model, sc, B, seed=tree.seed("gen-panel", name), users=sampler,
                                          world=world)

    def learned(tm: Any) -> Any:
        return lambda B: LearnedSimulator(tm, sc, B, world=world)

    for key, tm in tuned.items():
        gl = summaries(paths(learned(tm), obs, W, n))
        out[f"value_{key}"] = gl["value_h"][:, -1].tolist()
        out[f"spearman_{key}"] = float(spearmanr(vt, gl["value_h"][:, -1])[0])
        out[f"rel_err_{key}"] = _rel(gl["value_h"][:, -1], vt).tolist()
        out[f"compounding_{key}"] = _rel(gl["value_h"], ts["value_h"]).mean(axis=0).tolist()
        out[f"conversion_{key}"] = gl["pmf"].sum(1).tolist()
    if cfg.logging != "gaussian":  # the state-dependent logging policy's own value (per-user weights)
        G = len(world.segment_probs)
        WL = mean_weights(cfg, obs["segment"], W.shape[1], G)[None]
        out["value_logging_true"] = float(summaries(paths(lambda B: SearchSimulator(sc, B, 0, world=world), full,
                                                          WL, n))["value_h"][0, -1])
        for key, tm in (("bc", model), *tuned.items()):
            out[f"value_logging_{key}"] = float(summaries(paths(learned(tm), obs, WL, n))["value_h"][0, -1])
    for name, sampler in samplers.items():
        gp = paths(with_users(name, sampler), None, W, n)
        vg = summaries(gp)["value_h"][:, -1]
        out[f"value_{name}"] = vg.tolist()
        out[f"spearman_{name}"] = float(spearmanr(vt, vg)[0])
        out[f"rel_err_{name}"] = _rel(vg, vt).tolist()
    return out


def _sim_to_real(cfg: VirtualTaobaoConfig, model: Any, world: Any, tree: SeedTree, ref_norm: float,
                 others: dict[str, Any] | None = None) -> dict[str, Any]:
    from simcore.domains.virtual_taobao.anc import anc_penalty
    from simcore.domains.virtual_taobao.sim import LearnedSimulator

    sc = cfg.session
    m = world.features.shape[2]
    cem_sim = SearchSimulator(sc, cfg.cem_panel, tree.seed("cem-panel"), world=world)
    cem_sim.reset()
    full = cem_sim.users()
    obs = {k: full[k] for k in ("query", "segment", "power")}

    def v_true(W: np.ndarray, users: dict = full, n: int = cfg.cem_panel) -> np.ndarray:
        return summaries(paths(lambda B: SearchSimulator(sc, B, 0, world=world), users, W, n))["value_h"][:, -1]

    def v_in(mod: Any) -> Any:
        def v(W: np.ndarray) -> np.ndarray:
            p = paths(lambda B: LearnedSimulator(mod, sc, B, world=world), obs, W, cfg.cem_panel)
            return summaries(p)["value_h"][:, -1]
        return v

    v_bc = v_in(model)

    ltr = default_action_set(m)[0]
    found = {}
    def v_anc(W: np.ndarray) -> np.ndarray:
        return v_bc(W) - anc_penalty(W, ref_norm, cfg.anc_ratio, cfg.anc_weight)

    fns = [("truth", v_true), ("bc", v_bc), ("bc+anc", v_anc), *((k, v_in(mod)) for k, mod in (others or {}).items())]
    for key, fn in fns:
        found[key] = cem_static(fn, m, ltr, tree.generator("cem", key), cfg.cem_iterations, cfg.cem_population,
                                max(2, cfg.cem_population // 5))
    ev = SearchSimulator(sc, cfg.panel, tree.seed("panel"), world=world)
    ev.reset()
    W = np.stack([ltr, *found.values()]).astype(np.float32)
    vals = v_true(W, ev.users(), cfg.panel)
    in_sim = v_bc(W)
    if cfg.logging != "gaussian":  # row 0: the state-dependent logging policy itself, per-user weights
        eu = ev.users()
        WL = mean_weights(cfg, eu["segment"], m, len(world.segment_probs))[None]
        vals[0] = v_true(WL, eu, cfg.panel)[0]
        in_sim[0] = summaries(paths(lambda B: LearnedSimulator(model, sc, B, world=world),
                                    {k: eu[k] for k in ("query", "segment", "power")}, WL, cfg.panel))["value_h"][0, -1]
        W[0] = WL[0].mean(axis=0)
    names = ["logging", *found]
    return {"policies": names, "weights": W.tolist(), "true_value": vals.tolist(), "bc_value": in_sim.tolist(),
            "norms": np.linalg.norm(W, axis=1).tolist(), "reference_norm": ref_norm}


def _joint_mail(cfg: VirtualTaobaoConfig, pages: Any, model: Any, world: Any, tree: SeedTree,
                overrides: dict[str, Any] | None = None, std_scale: float = 1.0
                ) -> tuple[Any, dict[str, Any], list[float]]:
    """Joint MAIL from the BC user and the logged actions' MLE Gaussian engine (its std
    times ``std_scale``); the engine's mean action on the logged states before and after,
    against the logging mean.  ``overrides``: JointMAILConfig fields (the sweep's)."""
    import torch

    from simcore.domains.virtual_taobao.joint import EnginePolicy, JointMAILConfig, engine_states, train_joint_mail

    G, m = model.config.segments, world.features.shape[2]
    states = torch.from_numpy(engine_states(pages, G))
    engine = EnginePolicy(states.shape[1], m).fit_logged(pages.action)
    if std_scale != 1.0:
        with torch.no_grad():
            engine.log_std.add_(float(np.log(std_scale)))
    logging_rows = mean_weights(cfg, pages.segment, m, G)

    def fit() -> dict[str, float]:
        with torch.no_grad():
            d = engine_distances(engine.mean(states).numpy(), logging_rows, pages.segment)
            return {**d, "std": float(engine.log_std.exp().mean())}

    joint = copy.deepcopy(model)
    start = fit()
    rewards = train_joint_mail(pages, joint, engine, cfg.session, world,
                               JointMAILConfig(**{"iterations": cfg.mail_iterations, "sessions": cfg.mail_sessions,
                                                  "seed": tree.seed("joint-mail"), **(overrides or {})}))
    end = fit()
    return joint, {**{f"start_{k}": v for k, v in start.items()}, **end, "logging_std": cfg.logging_std}, rewards


def _calibration(cfg: VirtualTaobaoConfig, pages: Any, model: Any, tree: SeedTree) -> tuple[Any, dict[str, Any]]:
    """BC's mean outcome probabilities against the log's empirical rates and the exact
    ones (train and validation splits of BC), and the model with its outcome bias
    calibrated on the validation split (:func:`~simcore.domains.virtual_taobao.bc.calibrate_outcome`)."""
    from simcore.domains.virtual_taobao.bc import BCConfig, _split, calibrate_outcome, outcome_rates

    tr, va = _split(pages, BCConfig(seed=tree.seed("bc")))
    out: dict[str, Any] = {}
    cal = calibrate_outcome(model, pages, va)
    for name, rows in (("train", tr), ("val", va)):
        emp = np.bincount(pages.outcome[rows], minlength=3) / max(rows.size, 1)
        out[name] = {"model": outcome_rates(model, pages, rows).tolist(), "empirical": emp.tolist(),
                     "calibrated": outcome_rates(cal, pages, rows).tolist()}
        if pages.exact is not None:
            e = pages.exact[rows]
            out[name]["exact"] = [float(e[:, 2].mean()), float(e[:, 0].mean()), float(e[:, 1].mean())]
    by_page = []
    for p in range(min(int(pages.page.max()) + 1, 10)):
        rows = va[pages.page[va] == p]
        if rows.size:
            by_page.append([p, int(rows.size), float(outcome_rates(model, pages, rows)[1]),
                            float((pages.outcome[rows] == 1).mean())])
    out["val_buy_by_page"] = by_page
    return cal, out


def run_seed(cfg: VirtualTaobaoConfig, seed: int) -> dict[str, Any]:
    """One seed index's whole protocol (module docstring); a JSON-able dict."""
    import torch

    from simcore.domains.virtual_taobao.bc import BCConfig, train_bc
    from simcore.domains.virtual_taobao.data import load_pages
    from simcore.domains.virtual_taobao.gail import GAILConfig, train_gail
    from simcore.domains.virtual_taobao.mail import MAILConfig, train_mail
    from simcore.domains.virtual_taobao.model import BehaviourConfig

    torch.set_num_threads(1)
    tree = SeedTree(cfg.seed).child("seed", seed)
    sc = cfg.session
    world = make_world(sc.world)
    m = world.features.shape[2]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "log.parquet")
        G = len(world.segment_probs)
        log = record(path, make_policy(cfg, m, G, sc.user.window, tree.seed("logging")),
                     sessions=cfg.sessions, config=sc, seed=tree.seed("log"), world=world)
        pages = load_pages(path, window=sc.user.window)
        ref_norm = _log_action_norm(path)
    t_log = time.perf_counter() - t0
    mc = BehaviourConfig(page_size=sc.page_size, num_features=m, window=sc.user.window,
                         segments=len(world.segment_probs), hidden=cfg.bc_hidden)
    bc = train_bc(pages, BCConfig(model=mc, epochs=cfg.bc_epochs, lr=cfg.bc_lr, batch_size=cfg.bc_batch,
                                  patience=cfg.bc_patience, seed=tree.seed("bc")))
    t_bc = time.perf_counter() - t0 - t_log
    # the default learned user: BC with its outcome biases refit on the validation split;
    # the raw early-stopped BC stays as the "uncal" ablation row
    model, calibration = _calibration(cfg, pages, bc.model, tree)
    gail_model = copy.deepcopy(model)
    gail_rewards = train_gail(pages, gail_model, GAILConfig(iterations=cfg.gail_iterations, batch=cfg.bc_batch,
                                                            ppo_epochs=2, lr=cfg.bc_lr / 10,
                                                            seed=tree.seed("gail")))
    mail_model = copy.deepcopy(model)
    known = None if cfg.logging == "gaussian" else make_policy(cfg, m, G, sc.user.window, tree.seed("mail-engine"))
    mail_rewards = train_mail(pages, mail_model, sc, world, default_action_set(m)[0],
                              MAILConfig(iterations=cfg.mail_iterations, sessions=cfg.mail_sessions,
                                         std=cfg.logging_std, seed=tree.seed("mail")),
                              engine=None if known is None else known.actions)
    joint_model, engine_fit, joint_rewards = _joint_mail(cfg, pages, model, world, tree)
    samplers, fidelity = _users_fidelity(cfg, pages, world, tree)
    names, W = policy_panel(cfg, m, tree.generator("panel-directions"))
    panel = _panel_metrics(cfg, model, {"gail": gail_model, "mail": mail_model, "joint": joint_model,
                                        "uncal": bc.model}, samplers, world, tree, W)
    transfer = _sim_to_real(cfg, model, world, tree, ref_norm, {"joint-mail": joint_model, "bc-uncal": bc.model})
    return {"seed": seed, "log_rows": log.rows, "log_sessions": log.sessions, "bc_train_nll": bc.train_loss,
            "bc_val_nll": bc.val_loss, "bc_best_epoch": bc.best_epoch,
            "gail_reward": gail_rewards, "mail_reward": mail_rewards, "joint_reward": joint_rewards,
            "engine": engine_fit, "calibration": calibration, "population": fidelity, "policies": names,
            "distance": np.linalg.norm(W - W[0], axis=1).tolist(), **panel, "transfer": transfer,
            "seconds": {"log": t_log, "bc": t_bc, "total": time.perf_counter() - t0}}


def run(config: VirtualTaobaoConfig, progress: bool = True) -> dict[str, Any]:
    """Runs every seed's job (inline) and returns config, meta, per-seed runs and the
    analysis (:mod:`.report`)."""
    from simcore.experiments.virtual_taobao.report import analyse

    t0 = time.perf_counter()
    js = [Job(key=f"seed/{s}", fn=run_seed, kwargs=dict(cfg=config, seed=s), seed_path=("seed", s))
          for s in range(config.seeds)]
    outs = run_jobs(js, backend="inline", workers=1, progress=progress, desc="virtual-taobao", unit="seed")
    import torch

    meta = {"wall_seconds": time.perf_counter() - t0, "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__, "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")}
    return {"config": to_dict(config), "meta": meta, "runs": outs, "analysis": analyse(outs)}
