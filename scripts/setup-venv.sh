#!/usr/bin/env bash
# Creates (or refreshes) .venv and installs simcore with the given extras.
# torch is pinned to 2.13.0 (a CPU build on these machines) so no CUDA build is pulled.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1-all}"      # "" = the base install
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
case ",$extras," in
  *,all,*|*,torch,*|*,agents,*|*,experiments,*|*,clients,*)
    .venv/bin/python -m pip install -q "torch==2.13.0" ;;
esac
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install -q ".[${extras}]"
else
  .venv/bin/python -m pip install -q .
fi
