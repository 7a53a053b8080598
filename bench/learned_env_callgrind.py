"""Instructions per batch step of the learned search env (issue 12) and of the true C++
simulator, by callgrind: a speed measure that repeats under any machine load.

Usage: python bench/learned_env_callgrind.py [--cases learned,true] [--lo 2] [--hi 8]
       python bench/learned_env_callgrind.py --driver CASE N   (what valgrind runs)

For each case it runs this script's driver twice under callgrind, with ``lo`` and
``hi`` batch steps after one warm-up step, and prints (Ir(hi) - Ir(lo)) / (hi - lo).
Instrumentation is off while Python imports torch and builds the env (valgrind then
runs ~10x faster; that is what makes this usable on a loaded machine): the driver
writes its pid to a file when ready, this script switches instrumentation on with
``callgrind_control -i on`` and releases it, and the driver leaves with ``os._exit``
after its steps (no interpreter teardown counted); the difference of the two runs
removes what remains constant (the wake-up).  Cases, all at B = 1024 on one thread (torch
intra-op and the kernel), default world, the LTR ranking as in bench/test_learned_env.py:
``learned`` steps ``LearnedSearchVectorEnv`` (untrained seeded model), ``true`` the
true ``SearchSimulator``.  Instructions per session-step = Ir/step / 1024.  Caveats:
callgrind counts instructions, not time: memory traffic (e.g. copies of large buffers)
costs more time than its instruction count suggests; and valgrind reports no AVX-512,
so torch runs its AVX2 kernels under it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

B = 1024


def _drive(case: str, n: int, sync: str | None = None) -> None:
    from simcore.domains.search import SearchSimulator, SessionConfig
    from simcore.domains.search.world import default_action_set

    cfg = SessionConfig(num_threads=1)
    ltr = np.tile(default_action_set(8)[0], (B, 1))
    if case == "learned":
        import torch

        torch.set_num_threads(1)
        from simcore.domains.virtual_taobao.env import LearnedSearchVectorEnv

        env = LearnedSearchVectorEnv(B, cfg)
        env.reset(seed=0)
        step = env.step
    elif case == "true":
        sim = SearchSimulator(cfg, B, 0)
        sim.reset()
        step = sim.step
    else:
        raise ValueError(f"case: expected learned or true, got {case!r}")
    step(ltr)  # warm-up, in both runs
    if sync:
        Path(sync + ".ready").write_text(str(os.getpid()))
        while not Path(sync + ".go").exists():
            time.sleep(0.02)
    for _ in range(n):
        step(ltr)
    if sync:
        os._exit(0)


def _total_ir(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary line in {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--driver", nargs=2, metavar=("CASE", "N"))
    p.add_argument("--sync", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cases", default="learned,true")
    p.add_argument("--lo", type=int, default=2)
    p.add_argument("--hi", type=int, default=8)
    p.add_argument("--outdir", default=None)
    a = p.parse_args()
    if a.driver:
        _drive(a.driver[0], int(a.driver[1]), a.sync)
        return
    out = Path(a.outdir or tempfile.mkdtemp(prefix="learned_callgrind."))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONWARNINGS="ignore")
    res = {}
    for case in a.cases.split(","):
        ir = {}
        for n in (a.lo, a.hi):
            f, sync = out / f"{case}.{n}.out", str(out / f"{case}.{n}")
            proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                     f"--callgrind-out-file={f}", sys.executable, __file__, "--driver", case,
                                     str(n), "--sync", sync], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            ready = Path(sync + ".ready")
            while not ready.exists() or not ready.read_text():
                if proc.poll() is not None:
                    raise RuntimeError(f"driver {case} {n} exited with {proc.returncode} before it was ready")
                time.sleep(0.2)
            subprocess.run(["callgrind_control", "-i", "on", ready.read_text()], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            Path(sync + ".go").touch()
            if proc.wait() != 0:
                raise RuntimeError(f"driver {case} {n} exited with {proc.returncode}")
            ir[n] = _total_ir(f)
        res[case] = (ir[a.hi] - ir[a.lo]) / (a.hi - a.lo)
        print(f"{case:8s} Ir/batch step {res[case]:14.0f}  Ir/session-step {res[case] / B:10.0f}", flush=True)
    if "learned" in res and "true" in res:
        print(f"learned / true instructions per step: {res['learned'] / res['true']:.2f}")
    print(f"callgrind files: {out}")


if __name__ == "__main__":
    main()
