"""The Python face of the autoscaling simulator (docs/autoscaling_model.md).

:class:`AutoscalingSimulator` steps B zones one 10-minute interval at a time in one C++
call (``_core.autoscaling.AutoscalingBatch``: GIL released, one counter-based stream
per zone, identical at any thread count); ``backend="numpy"`` runs the NumPy twin
(:class:`~simcore.domains.autoscaling.reference.ReferenceAutoscalingBatch`) on the same
state.  The mutable state is a dict of NumPy arrays owned here (``state()`` /
``set_state``), so pickling and ``copy.deepcopy`` keep it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simcore.domains.autoscaling.config import MAX_DELAY, AutoscalingConfig
from simcore.domains.autoscaling.reference import ReferenceAutoscalingBatch
from simcore.domains.autoscaling.spec import AUTOSCALING_DIMS, AUTOSCALING_STEP_SPEC, OBS_DIM
from simcore.domains.autoscaling.workload import ZoneParams, check_params, draw_zones
from simcore.util.checks import thread_count

__all__ = ["AutoscalingSimulator", "AutoscalingStepResult", "BACKENDS"]

BACKENDS = ("auto", "cpp", "numpy")
_STATE = {"vms": ("int64", ()), "pending": ("int64", (MAX_DELAY,)), "burst": ("float64", ()),
          "traffic": ("float64", (2,)), "cpu": ("float64", ()), "key_seed": ("uint64", ()),
          "key_stream": ("uint64", ()), "episode": ("uint64", ()), "rng": ("uint64", ())}


@dataclass
class AutoscalingStepResult:
    """One step's outputs, B rows (the simulator's buffers, overwritten by the next
    step: copy what you keep).  Meanings: :data:`AUTOSCALING_STEP_SPEC`.

    Attributes: obs float32 (B, 9); reward, action, cpu, cpu_mean (latent), latency,
    scaling_cost float64 (B,); traffic float64 (B, 2); vms, provisioned, delta int64
    (B,); terminated, truncated, slo_violation, in_band, scaled, reset_row bool (B,).
    """

    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    action: np.ndarray
    vms: np.ndarray
    provisioned: np.ndarray
    delta: np.ndarray
    traffic: np.ndarray
    cpu: np.ndarray
    cpu_mean: np.ndarray
    latency: np.ndarray
    scaling_cost: np.ndarray
    slo_violation: np.ndarray
    in_band: np.ndarray
    scaled: np.ndarray
    reset_row: np.ndarray


def _backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "numpy":
        return backend
    try:
        from simcore import _core  # noqa: F401
    except ImportError:
        if backend == "cpp":
            raise
        return "numpy"
    return "cpp"


class AutoscalingSimulator:
    """B zones of heterogeneous apps stepped together.

    Args:
        config: AutoscalingConfig (None: defaults).
        num_zones: B (ignored when ``zones`` is given).
        zones: per-zone parameters (default: ``draw_zones(config.workload, num_zones, zone_seed)``).
        seed: the streams' seed (zone i's e-th episode: stream (seed, i, e)).
        zone_seed: the seed of the drawn zone population.
        backend: "auto" (C++ if built), "cpp" or "numpy" (the twin).
    """

    def __init__(self, config: AutoscalingConfig | None = None, num_zones: int = 1, zones: ZoneParams | None = None,
                 seed: int = 0, zone_seed: int = 0, backend: str = "auto") -> None:
        self.config = config if config is not None else AutoscalingConfig()
        if not isinstance(self.config, AutoscalingConfig):
            raise TypeError(f"config: expected AutoscalingConfig, got {type(self.config).__name__}")
        self.zones = zones if zones is not None else draw_zones(self.config.workload, num_zones, zone_seed)
        self.backend = _backend(backend)
        self.threads = thread_count(self.config.num_threads)
        c = self.config
        self._model = np.array([c.cpu_target, c.band, c.eta, c.slo_penalty, c.ratio_min, c.ratio_max])
        self._core = self._build()
        B = self.num_zones
        self._state = {k: np.zeros((B, *shape), dtype=dt) for k, (dt, shape) in _STATE.items()}
        self._state["t"] = np.array([c.horizon], dtype=np.int64)  # the first step resets
        self._out = AUTOSCALING_STEP_SPEC.buffers(B, AUTOSCALING_DIMS)
        self._obs = np.zeros((B, OBS_DIM), dtype=np.float32)
        self.seed(seed)

    def _build(self) -> Any:
        z, c = self.zones, self.config
        self._check_zones()
        if self.backend == "numpy":
            return ReferenceAutoscalingBatch(z, self._model, c.horizon, c.delay)
        from simcore import _core

        return _core.autoscaling.AutoscalingBatch(
            np.ascontiguousarray(z.params, dtype=np.float64), z.min_vms.astype(np.int64), z.max_vms.astype(np.int64),
            z.init_vms.astype(np.int64), self._model, np.ascontiguousarray(z.holiday, dtype=np.uint8),
            c.horizon, c.delay)

    def _check_zones(self) -> None:
        """The parameter checks, for both backends (the C++ binding checks the same ranges again)."""
        z = self.zones
        check_params(z.params)
        for name in ("min_vms", "max_vms", "init_vms"):
            v = getattr(z, name)
            if v.shape != (z.num_zones,) or v.dtype.kind not in "iu":
                raise ValueError(f"{name}: expected {z.num_zones} integers, got shape {v.shape}, dtype {v.dtype}")
        if np.any(z.min_vms < 1):
            raise ValueError("min_vms: must be >= 1 (zero VMs cannot serve)")
        if np.any(z.max_vms < z.min_vms) or np.any(z.init_vms < z.min_vms) or np.any(z.init_vms > z.max_vms):
            raise ValueError("max_vms, init_vms: need min_vms <= init_vms <= max_vms")

    # ------------------------------------------------------------------ api
    @property
    def num_zones(self) -> int:
        return self.zones.num_zones

    @property
    def dims(self) -> dict[str, int]:
        return dict(AUTOSCALING_DIMS)

    @property
    def t(self) -> int:
        """Steps done in the current episode."""
        return int(self._state["t"][0])

    def seed(self, seed: int) -> None:
        """Zone i's e-th episode draws from stream (seed, i, e); the episode counters restart."""
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            raise ValueError(f"seed: expected an integer in [0, 2**64), got {seed!r}")
        self._state["key_seed"][:] = np.uint64(int(seed))
        self._state["key_stream"][:] = np.arange(self.num_zones, dtype=np.uint64)
        self._state["episode"][:] = 0

    def seed_slots(self, seeds: Sequence[int] | np.ndarray) -> None:
        """Zone i's e-th episode draws from stream (seeds[i], 0, e)."""
        s = np.asarray(seeds)
        if s.shape != (self.num_zones,) or s.dtype.kind not in "iu":
            raise ValueError(f"seeds: expected {self.num_zones} integers, got shape {s.shape}, dtype {s.dtype}")
        self._state["key_seed"][:] = s.astype(np.uint64)
        self._state["key_stream"][:] = 0
        self._state["episode"][:] = 0

    def reset(self) -> np.ndarray:
        """New episode in every zone; returns obs float32 (B, 9) (a view, overwritten later)."""
        self._core.reset(self._state, self._obs, self.threads)
        return self._obs

    def check_actions(self, actions: Any) -> np.ndarray:
        """float64 (B,) ratios in [ratio_min, ratio_max] (TypeError / ValueError naming actions)."""
        a = np.asarray(actions)
        if a.dtype.kind not in "fiu" or a.dtype == np.bool_:
            raise TypeError(f"actions: expected real scaling ratios, got dtype {a.dtype}")
        B = self.num_zones
        if a.shape not in ((B,), (B, 1)):
            raise ValueError(f"actions: expected shape ({B},), got {a.shape}")
        a = np.ascontiguousarray(a.reshape(B), dtype=np.float64)
        lo, hi = self.config.ratio_min, self.config.ratio_max
        if not np.all(np.isfinite(a)) or a.min() < lo or a.max() > hi:
            bad = int(np.argmax(~(np.isfinite(a) & (a >= lo) & (a <= hi))))
            raise ValueError(f"actions: scaling ratios must be finite and lie in [{lo}, {hi}], "
                             f"got {a[bad]} at zone {bad}")
        return a

    def step(self, actions: Any) -> AutoscalingStepResult:
        """One step under ratios (B,): l' = round(l (1 + a)) clipped to the zone's bounds."""
        a = actions
        if (self.backend == "cpp" and type(a) is np.ndarray and a.dtype == np.float64
                and a.shape == (self.num_zones,) and a.flags.c_contiguous):
            # fast path: the binding checks the ratios (finite, in range) before touching the state
            try:
                self._core.step(self._state, a, self._out, self.threads)
            except ValueError:
                self.check_actions(a)  # the face's message (naming the zone) for bad ratios
                raise
        else:
            self._core.step(self._state, self.check_actions(actions), self._out, self.threads)
        return AutoscalingStepResult(**self._out)

    def state(self) -> dict[str, np.ndarray]:
        """A copy of the full mutable state (dict of arrays, ``t`` included)."""
        return {k: v.copy() for k, v in self._state.items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores a ``state()`` dict (ValueError naming a wrong key, dtype, shape or VM count)."""
        B, new = self.num_zones, {}
        for k, (dt, shape) in {**_STATE, "t": ("int64", ())}.items():
            if k not in state:
                raise ValueError(f"state: missing key {k!r}")
            v = np.asarray(state[k])
            want = (1,) if k == "t" else (B, *shape)
            if v.shape != want or v.dtype != np.dtype(dt):
                raise ValueError(f"state: {k} must be {dt} of shape {want}, got {v.dtype} {v.shape}")
            new[k] = v.copy()
        z = self.zones
        prov = new["vms"] + new["pending"].sum(axis=1)
        if np.any(new["vms"] < z.min_vms) or np.any(prov > z.max_vms) or np.any(new["pending"] < 0):
            raise ValueError("state: vms must lie in [min_vms, max_vms] with pending >= 0")
        if not (np.all(np.isfinite(new["burst"])) and np.all(new["burst"] >= 0) and np.all(new["traffic"] >= 0)):
            raise ValueError("state: burst and traffic must be finite and >= 0")
        self._state = new

    def __getstate__(self) -> dict:
        return {"config": self.config, "zones": self.zones, "backend": self.backend, "state": self._state,
                "obs": self._obs}

    def __setstate__(self, s: dict) -> None:
        self.__init__(s["config"], zones=s["zones"], backend=s["backend"])  # type: ignore[misc]
        self._state = {k: v.copy() for k, v in s["state"].items()}
        self._obs = s["obs"].copy()
