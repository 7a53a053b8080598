#!/usr/bin/env bash
# The main job: the discount study (DP, Q-learning, actor-critic on the SSMDP) on its
# built-in default.  Writes results/discount/{report.md,results.json,*.png}.
# Extra arguments go to `simcore reproduce discount` (e.g. --preset full, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh ""   # the main job needs only the base install
exec .venv/bin/simcore reproduce discount --out results/discount "$@"
