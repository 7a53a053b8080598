#!/usr/bin/env bash
# A new user's first minutes: `pip install simcore` (the wheel, no extras) into a
# fresh venv, then every command either works or fails at once with one line naming
# the `pip install "simcore[...]"` to run.  Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
"$py" -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip wheel -q --no-deps . -w "$tmp/dist" >/dev/null
"$py" -m pip install -q "$tmp"/dist/simcore-*.whl
if "$py" -c "import torch" 2>/dev/null; then echo "bare install: torch got installed" >&2; exit 1; fi
cd "$tmp"
sc="$tmp/venv/bin/simcore"
"$sc" --help >/dev/null
"$sc" info >/dev/null
"$py" -c "import simcore, gymnasium as gym; e = gym.make_vec('simcore/SearchSession-v0', num_envs=4); e.reset(seed=0)"
# the main job runs on the base install (tiny settings) and writes its PNGs
"$sc" reproduce discount --quiet --out "$tmp/d" --set runs=2 --set sessions=2000 --set model_sessions=2000 \
    --set tree_horizon=2 >/dev/null
ls "$tmp/d"/report.md "$tmp/d"/results.json >/dev/null
ls "$tmp/d"/*.png >/dev/null
# torch experiments: exit 2 at once with the one-line instruction
for e in ranking engine-cost tiered-traffic lifecycle virtual-taobao bandits; do
  set +e
  out="$("$sc" reproduce "$e" --quiet --out "$tmp/$e" 2>&1)"
  rc=$?
  set -e
  if [ "$rc" -ne 2 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! grep -q 'pip install "simcore\[torch\]"' <<<"$out"; then
    echo "bare install: 'simcore reproduce $e' should exit 2 with one line naming simcore[torch]; got rc=$rc:" >&2
    echo "$out" >&2
    exit 1
  fi
  if [ -e "$tmp/$e" ]; then echo "bare install: $e wrote output before failing" >&2; exit 1; fi
done
# the search logs need pyarrow: exit 2 at once with one line naming simcore[logs]
set +e
out="$("$sc" log record "$tmp/x.parquet" --sessions 10 2>&1)"
rc=$?
set -e
if [ "$rc" -ne 2 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! grep -q 'pip install "simcore\[logs\]"' <<<"$out"; then
  echo "bare install: 'simcore log record' should exit 2 with one line naming simcore[logs]; got rc=$rc:" >&2
  echo "$out" >&2
  exit 1
fi
echo "bare install: ok"
