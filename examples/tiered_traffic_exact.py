"""The tiered catalogue and the exact cost of pushing a tier (docs/tiered_traffic_model.md).

Prints, for the default TrafficConfig: how tier membership correlates with price,
quality and sales; the users' affinity classes; and, on an exact 2000-user panel, the
expected paid GMV per session and the impression-weighted tier share when one tier's
weight is raised uniformly (all users), split by the users' affinity for that tier.

Run: PYTHONPATH=python python examples/tiered_traffic_exact.py
"""

from __future__ import annotations

import platform
import subprocess

import numpy as np

from simcore.domains.traffic.config import TrafficConfig
from simcore.domains.traffic.exact import exact_static, panel
from simcore.domains.traffic.simulator import TrafficSimulator
from simcore.domains.traffic.world import TIER_NAMES, make_traffic_world

PUSHES = (0.0, 0.05, 0.1, 0.2, 0.4)


def main() -> None:
    cfg = TrafficConfig()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}, {platform.platform()}, Python {platform.python_version()}, NumPy {np.__version__}")
    w = make_traffic_world(cfg)
    X, f = w.base.features, w.flags.astype(bool)
    print("\n| tier | share of items | share range over queries (5-95 %) | price level in / out | "
          "quality in / out | sales in / out |\n|---|---|---|---|---|---|")
    for i, name in enumerate(TIER_NAMES):
        q = f[..., i].mean(axis=1)
        cols = [f"{X[..., j][f[..., i]].mean():.2f} / {X[..., j][~f[..., i]].mean():.2f}" for j in range(3)]
        print(f"| {name} | {f[..., i].mean():.3f} | {np.quantile(q, 0.05):.2f}-{np.quantile(q, 0.95):.2f} | "
              + " | ".join(cols) + " |")
    users = panel(cfg, 2000, seed=1)
    aff = users["prefs"][:, cfg.n_base:]
    print("\n| tier | likes | indifferent | dislikes |\n|---|---|---|---|")
    for i, name in enumerate(TIER_NAMES):
        a = aff[:, i]
        print(f"| {name} | {(a > 0).mean():.3f} | {(a == 0).mean():.3f} | {(a < 0).mean():.3f} |")
    print("\nexact, 2000-user panel (seed 1), uniform push of one tier's weight, pi_basic = ltr")
    print("| tier | weight | tier share | paid GMV / session | GMV change | change: likes | indifferent | dislikes |")
    print("|---|---|---|---|---|---|---|---|")
    for i, name in enumerate(TIER_NAMES):
        W = np.zeros((len(PUSHES), cfg.n_tiers))
        W[:, i] = PUSHES
        r = exact_static(TrafficSimulator(cfg, len(PUSHES) * 2000), W, users)
        g = r["per_user"]["gmv"]  # (n, U)
        groups = [aff[:, i] > 0, aff[:, i] == 0, aff[:, i] < 0]
        for k, p in enumerate(PUSHES):
            rel = [g[k, s].mean() / g[0, s].mean() - 1 for s in groups]
            change = r["gmv"][k] / r["gmv"][0] - 1
            print(f"| {name} | {p:g} | {r['share'][k, i]:.3f} | {r['gmv'][k]:.3f} | {change:+.1%} | "
                  + " | ".join(f"{x:+.1%}" for x in rel) + " |")


if __name__ == "__main__":
    main()
