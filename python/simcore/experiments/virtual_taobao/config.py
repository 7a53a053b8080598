"""Configuration of the Virtual Taobao reproduction (issue 12; torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simcore.domains.search.config import SessionConfig

__all__ = ["VirtualTaobaoConfig", "smoke_config", "full_config", "segment_logging_config", "LOGGING_POLICIES"]

LOGGING_POLICIES = ("gaussian", "segment")


def _pos_int(name: str, v: object, lo: int = 1) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise ValueError(f"{name}: must be an integer >= {lo}, got {v!r}")


def _pos(name: str, v: object, zero: bool = False) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not (v >= 0 if zero else v > 0):
        raise ValueError(f"{name}: must be a number {'>=' if zero else '>'} 0, got {v!r}")


@dataclass(frozen=True)
class VirtualTaobaoConfig:
    """Learn user simulators from logs of the true search simulator, compare with the truth.

    Attributes:
        session: the true simulator (default: the package's calibrated model, N = 1000,
            m = 8, K = 10, T = 30).
        seeds: independent repetitions (log, models, panel) (>= 2).  seed: root seed.
        sessions: logged sessions per seed (>= 100).
        logging: the logging policy: "gaussian" (LTR + N(0, logging_std^2) per weight
            and page, state-independent) or "segment" (state-dependent: the mean
            depends on the user's segment, mu_g = (1 - logging_mix) LTR + logging_mix
            R_{1 + g mod 4}, :mod:`simcore.domains.virtual_taobao.policies`; same std).
        logging_std: exploration of the logging policy (> 0).
        logging_mix: the "segment" policy's blend, in (0, 1] (unused by "gaussian").
        bc_epochs, bc_lr, bc_batch, bc_hidden: behaviour cloning (epochs >= 1: the
            maximum, lr > 0, batch >= 1, hidden >= 4).
        bc_patience: early stopping of BC on the log's validation split (10 % of the
            sessions; never the truth): stop after this many epochs without a better
            validation NLL, keep the best epoch's weights (>= 1).
        gail_iterations: GAIL fine-tuning iterations of the BC model on the log's states
            (:func:`simcore.domains.virtual_taobao.gail.train_gail`, batch ``bc_batch``,
            2 PPO epochs, lr bc_lr / 10) for the "bc+gail" simulator (>= 1).
        mail_iterations, mail_sessions: MAIL fine-tuning of the BC model for the
            "bc+mail" simulator (:func:`simcore.domains.virtual_taobao.mail.train_mail`
            with its other defaults: sessions generated per iteration from logged first
            states under the logging policy; >= 1, >= 2).
        gansd_steps: GAN-SD updates (>= 1).  gmm_components: mixture size (>= 1).
        panel: users of the exact evaluation panel (>= 10).
        distances: L2 distances from the logging mean of the perturbed panel policies
            (each > 0); ``directions`` random unit directions per distance (>= 1).  The
            panel also holds the five named rankings of ``default_action_set``.
        cem_iterations, cem_population, cem_panel: the engine policy search inside
            each simulator (static weights by CEM; >= 1, >= 4, >= 10).
        anc_ratio, anc_weight: ANC's allowed norm ratio (> 0) and penalty per unit of
            norm beyond it, in GMV units (>= 0).
        workers: 1 (inline); the run is sequential.
    """

    session: SessionConfig = field(default_factory=SessionConfig)
    seeds: int = 5
    seed: int = 0
    sessions: int = 20_000
    logging: str = "gaussian"
    logging_std: float = 0.1
    logging_mix: float = 0.5
    bc_epochs: int = 30
    bc_patience: int = 2
    bc_lr: float = 3e-3
    bc_batch: int = 512
    bc_hidden: int = 32
    gail_iterations: int = 40
    mail_iterations: int = 20
    mail_sessions: int = 512
    gansd_steps: int = 800
    gmm_components: int = 16
    panel: int = 500
    distances: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    directions: int = 2
    cem_iterations: int = 8
    cem_population: int = 24
    cem_panel: int = 200
    anc_ratio: float = 1.0
    anc_weight: float = 20.0
    workers: int = 1

    def __post_init__(self) -> None:
        _pos_int("seeds", self.seeds, 2)
        _pos_int("sessions", self.sessions, 100)
        for name, lo in (("bc_epochs", 1), ("bc_patience", 1), ("bc_batch", 1), ("bc_hidden", 4),
                         ("gansd_steps", 1),
                         ("gail_iterations", 1), ("mail_iterations", 1), ("mail_sessions", 2),
                         ("gmm_components", 1), ("panel", 10), ("directions", 1),
                         ("cem_iterations", 1), ("cem_population", 4), ("cem_panel", 10), ("workers", 1)):
            _pos_int(name, getattr(self, name), lo)
        _pos("logging_std", self.logging_std)
        if self.logging not in LOGGING_POLICIES:
            raise ValueError(f"logging: must be one of {LOGGING_POLICIES}, got {self.logging!r}")
        _pos("logging_mix", self.logging_mix)
        if self.logging_mix > 1:
            raise ValueError(f"logging_mix: must lie in (0, 1], got {self.logging_mix!r}")
        _pos("bc_lr", self.bc_lr)
        _pos("anc_ratio", self.anc_ratio)
        _pos("anc_weight", self.anc_weight, zero=True)
        if not self.distances or any(not (isinstance(d, (int, float)) and d > 0) for d in self.distances):
            raise ValueError(f"distances: needs values > 0, got {self.distances!r}")


def smoke_config() -> VirtualTaobaoConfig:
    """A tiny run for tests (small world, 2 seeds, seconds)."""
    return VirtualTaobaoConfig(
        session=SessionConfig.from_dict({"world": {"n_queries": 4, "n_items": 60}}), seeds=2, sessions=600,
        bc_epochs=1, bc_hidden=8, gail_iterations=2, mail_iterations=2, mail_sessions=32,
        gansd_steps=20, gmm_components=2, panel=20, distances=(0.5,),
        directions=1, cem_iterations=1, cem_population=4, cem_panel=10)


def full_config() -> VirtualTaobaoConfig:
    """The longer protocol: 10 seeds, 100k sessions per log, more training."""
    return VirtualTaobaoConfig(seeds=10, sessions=100_000, bc_epochs=50, gansd_steps=3000, panel=2000,
                               cem_iterations=15, cem_population=32, cem_panel=500)


def segment_logging_config() -> VirtualTaobaoConfig:
    """The default protocol on logs of the state-dependent "segment" logging policy
    (each segment ranked by its own blend of LTR and one other named ranking, mix 0.5)."""
    return VirtualTaobaoConfig(logging="segment")
