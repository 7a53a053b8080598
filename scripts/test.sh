#!/usr/bin/env bash
# Builds and installs simcore (the wheel, not the source tree) into .venv, then runs
# the test suite: tests/ only (benchmarks: `pytest bench --benchmark-only`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh all
exec .venv/bin/python -m pytest "$@"
