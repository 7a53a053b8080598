"""A small terminal progress bar with rate and ETA (stderr; quiet when not a TTY
unless forced)."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def _fmt_seconds(s: float) -> str:
    s = max(0.0, s)
    if s < 60:
        return f"{s:4.1f}s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m:d}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h:d}h{m:02d}m"


class Progress:
    """Progress over ``total`` units of work.

    Use ``update(n)`` as work completes and ``close()`` at the end (or use it as a
    context manager).  Redraws at most every ``min_interval`` seconds.  On a
    non-interactive stream it prints a line every ~10% instead of redrawing, or
    nothing when ``SIMCORE_PROGRESS=0``.
    """

    def __init__(
        self,
        total: float,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        min_interval: float = 0.2,
        enabled: bool | None = None,
    ) -> None:
        self.total = float(total)
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        if enabled is None:
            enabled = os.environ.get("SIMCORE_PROGRESS", "1") != "0"
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0.0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self.postfix = ""

    def update(self, n: float = 1.0, postfix: str | None = None) -> None:
        self.done += n
        if postfix is not None:
            self.postfix = postfix
        now = time.perf_counter()
        if now - self._last_draw >= self.min_interval or self.done >= self.total:
            self._draw(now)

    def _line(self, now: float) -> str:
        elapsed = now - self.start
        frac = min(1.0, self.done / self.total) if self.total > 0 else 1.0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta_s = _fmt_seconds(eta) if eta == eta else "?"
        post = f" {self.postfix}" if self.postfix else ""
        return (
            f"{self.desc} [{bar}] {frac * 100:5.1f}% {self.done:,.0f}/{self.total:,.0f} {self.unit} "
            f"{rate:,.0f} {self.unit}/s elapsed {_fmt_seconds(elapsed)} ETA {eta_s}{post}"
        )

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + self._line(now)[:200] + "\x1b[K")
            self.stream.flush()
            return
        decile = int(10 * min(1.0, self.done / self.total)) if self.total > 0 else 10
        if decile > self._last_decile:
            self._last_decile = decile
            self.stream.write(self._line(now) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
