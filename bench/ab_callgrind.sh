#!/usr/bin/env bash
# Instructions per step of the search simulator, by callgrind (repeatable under any load).
#
# Usage: bench/ab_callgrind.sh CHECKOUT [PYTHON]
#   CHECKOUT: a tree whose python/simcore holds a built _core*.so (e.g. /work/main, or a
#             clone at an older commit built the same way).
#   PYTHON:   interpreter (default /work/main/.venv/bin/python).
# Env: CASES (default "sim1 sim1024 gym"), N_LO / N_HI step counts per case
#      (defaults below), OUTDIR (callgrind files; default a temp dir).
#
# For each case it runs bench/ab_callgrind_driver.py (this script's copy, so both trees
# run the same driver) twice under callgrind, with N_LO and N_HI steps, and prints
# (Ir(N_HI) - Ir(N_LO)) / (N_HI - N_LO): setup, imports and warm-up cancel out.  A step is
# one step() call: for sim1024 that is 1024 session-steps.
# Python hash randomisation is off and BLAS/OpenMP pools are one thread, so the count
# repeats to a few instructions per step.
set -euo pipefail
tree=$(cd "${1:?usage: ab_callgrind.sh CHECKOUT [PYTHON]}" && pwd)
py=${2:-/work/main/.venv/bin/python}
here=$(cd "$(dirname "$0")" && pwd)
cases=${CASES:-"sim1 sim1024 gym"}
out=${OUTDIR:-$(mktemp -d /tmp/ab_callgrind.XXXXXX)}
mkdir -p "$out"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONPATH="$tree/python" PYTHONDONTWRITEBYTECODE=1 PYTHONWARNINGS=ignore

total_ir() {  # total Ir of one callgrind output file
  grep -m1 '^summary:' "$1" | awk '{print $2}'
}

printf '%-8s %12s %12s %14s\n' case N_lo N_hi "Ir/step"
for c in $cases; do
  case $c in
    sim1024) lo=${N_LO:-4}; hi=${N_HI:-24} ;;
    *) lo=${N_LO:-200}; hi=${N_HI:-1200} ;;
  esac
  for n in $lo $hi; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$c.$n.out" \
      "$py" "$here/ab_callgrind_driver.py" "$c" "$n" >"$out/$c.$n.log" 2>&1 ||
      { echo "run failed: $c $n (see $out/$c.$n.log)" >&2; exit 1; }
  done
  a=$(total_ir "$out/$c.$lo.out"); b=$(total_ir "$out/$c.$hi.out")
  printf '%-8s %12s %12s %14.0f\n' "$c" "$lo" "$hi" "$(echo "($b - $a) / ($hi - $lo)" | bc -l)"
done
echo "callgrind files: $out (callgrind_annotate $out/<case>.<N_hi>.out)"
