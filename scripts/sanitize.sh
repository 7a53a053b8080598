#!/usr/bin/env bash
# Builds simcore._core with AddressSanitizer + UndefinedBehaviorSanitizer into
# build/sanitize, stages it with a copy of the Python package in a temp dir (the
# working tree's python/simcore/_core*.so is never touched), and runs the kernel,
# simulator, feature-cost, traffic and hardening tests under it.  Fails on any test failure
# or sanitizer report.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
BUILD="$ROOT/build/sanitize"
JOBS="${JOBS:-2}"
PYBIND11_DIR="$("$PY" -m pybind11 --cmakedir 2>/dev/null || python3 -m pybind11 --cmakedir)"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMCORE_SANITIZE=ON \
  -DPython_EXECUTABLE="$PY" -Dpybind11_DIR="$PYBIND11_DIR" >/dev/null
cmake --build "$BUILD" -j"$JOBS"

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -r "$ROOT/python/simcore" "$STAGE/"
rm -f "$STAGE"/simcore/_core*.so
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
cp "$BUILD"/_core*.so "$STAGE/simcore/"

LIBASAN="$(gcc -print-file-name=libasan.so)"
LIBUBSAN="$(gcc -print-file-name=libubsan.so)"
LOGDIR="$STAGE/logs"
mkdir -p "$LOGDIR"
export LD_PRELOAD="$LIBASAN${LIBUBSAN:+:$LIBUBSAN}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$LOGDIR/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGDIR/ubsan"
export PYTHONPATH="$STAGE"
cd "$ROOT"
status=0
"$PY" -m pytest -x -q -p no:cacheprovider \
  tests/test_kernels.py tests/test_simulator.py tests/test_feature_cost.py tests/test_gil.py \
  tests/test_bad_input.py tests/test_hardening_kernels.py tests/test_hardening_simulator.py \
  tests/test_concurrency.py tests/test_fuzz_bindings.py tests/test_traffic_sim.py \
  tests/test_lifecycle_sim.py tests/test_autoscaling_sim.py tests/test_worker_pool.py "$@" || status=$?
unset LD_PRELOAD
if compgen -G "$LOGDIR/*" >/dev/null; then
  echo "sanitize.sh: sanitizer reports:" >&2
  cat "$LOGDIR"/* >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "sanitize.sh: clean (ASan + UBSan)"
exit "$status"
