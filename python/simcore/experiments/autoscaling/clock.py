"""Per-phase wall and CPU seconds of one seed of the autoscaling experiment (the cost
table of docs/autoscaling.md, "Cost")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PhaseClock", "add_phases"]


class PhaseClock:
    """Accumulates ``time.perf_counter`` (wall) and ``time.process_time`` (CPU of this
    process, all its threads) per phase name; a phase entered twice adds up."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c

    def as_dict(self) -> dict[str, dict[str, float]]:
        """{phase: {"wall": seconds, "cpu": seconds}} in the order the phases first ran."""
        return {k: {"wall": self.wall[k], "cpu": self.cpu[k]} for k in self.wall}


def add_phases(per_seed: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Sums over seeds of each phase's wall and CPU seconds, plus "total"."""
    out: dict[str, dict[str, float]] = {}
    for ph in per_seed:
        for k, v in ph.items():
            o = out.setdefault(k, {"wall": 0.0, "cpu": 0.0})
            o["wall"] += v["wall"]
            o["cpu"] += v["cpu"]
    out["total"] = {q: sum(v[q] for v in out.values()) for q in ("wall", "cpu")}
    return out
