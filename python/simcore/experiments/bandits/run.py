"""``run(config, progress) -> results`` of ``simcore reproduce bandits``."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from simcore.domains.bandits.obd import OBDFormatError, find_wheel
from simcore.domains.bandits.protocol import benchmark
from simcore.experiments.bandits.config import BanditsConfig
from simcore.util.seeds import SeedTree


def resolve(cfg: BanditsConfig) -> tuple[Path, Path]:
    """(dataset source, wheel with the prior) as the config names them."""
    cache = Path(cfg.cache_dir).expanduser()
    source = Path(cfg.source).expanduser() if cfg.source else find_wheel(cache)
    if cfg.wheel:
        wheel = Path(cfg.wheel).expanduser()
    elif source.is_file() and zipfile.is_zipfile(source):
        wheel = source
    else:
        wheel = find_wheel(cache)
    return source, wheel


def run(cfg: BanditsConfig, progress: bool = True) -> dict[str, Any]:
    """The benchmark (:func:`simcore.domains.bandits.protocol.benchmark`) per campaign.
    A missing or malformed dataset (no wheel and no download, a file not found, a schema
    error) ends the command with one line on stderr and exit code 2."""
    try:
        return _run(cfg, progress)
    except (RuntimeError, FileNotFoundError, OBDFormatError) as e:
        print(f"simcore reproduce bandits: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(cfg: BanditsConfig, progress: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    source, wheel = resolve(cfg)
    tree = SeedTree(cfg.seed).child("obd-benchmark")
    out: dict[str, Any] = {"settings": dataclasses.asdict(cfg), "source": str(source), "wheel": str(wheel),
                           "campaigns": {}}
    for camp in cfg.campaign_list():
        if progress:
            print(f"bandits: campaign {camp} ...", flush=True)
        out["campaigns"][camp] = benchmark(source, wheel, camp, tree.child(camp), n_sim=cfg.n_sim,
                                           n_boot=cfg.n_boot, tau=cfg.tau)
    out["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                      "numpy": np.__version__}
    out["runtime_s"] = round(time.perf_counter() - t0, 2)
    return out
