"""``simcore`` command line (also ``python -m simcore``).

``simcore reproduce <name>`` runs an experiment and writes its report; its flags are
generated from the experiment's config dataclass (:mod:`simcore.experiments.base`).
Experiments are imported only when their subcommand runs, so ``simcore --help``
stays fast and needs no optional dependency.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

from simcore.experiments import EXPERIMENTS, REQUIRES


def _requested_experiment(argv: Sequence[str]) -> str | None:
    """The NAME of ``reproduce NAME`` in argv, if any."""
    argv = list(argv)
    if "reproduce" in argv:
        i = argv.index("reproduce")
        if i + 1 < len(argv):
            return argv[i + 1]
    return None


def _load(name: str) -> Any:
    """The experiment package's EXPERIMENT (or, for an experiment not yet converted,
    its module with add_arguments/main)."""
    from simcore.experiments.base import EXTRAS

    missing = [m for m in REQUIRES.get(name, ()) if importlib.util.find_spec(m) is None]
    if missing:
        hint = "; ".join(EXTRAS.get(m, f"pip install {m}") for m in missing)
        print(f"simcore reproduce {name}: error: needs {', '.join(missing)}: {hint}", file=sys.stderr)
        raise SystemExit(2)
    try:
        module = importlib.import_module(EXPERIMENTS[name][0])
    except ModuleNotFoundError as e:  # an optional dependency: one line, before any work
        if e.name and e.name.split(".")[0] in EXTRAS:
            dep = e.name.split(".")[0]
            print(f"simcore reproduce {name}: error: needs {dep}: {EXTRAS[dep]}", file=sys.stderr)
            raise SystemExit(2) from None
        raise
    return getattr(module, "EXPERIMENT", module)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The CLI parser; only the experiment named in argv is imported and given its options."""
    listing = "\n".join(f"  {n:<12} {h}" for n, (_, h) in EXPERIMENTS.items())
    parser = argparse.ArgumentParser(
        prog="simcore",
        description="Fast, deterministic simulation of e-commerce search and marketing decisions.",
        epilog="experiments (simcore reproduce NAME --help for each one's config fields):\n" + listing
        + "\n\nsimcore calibrate ... is short for simcore reproduce calibrate ...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run a reproduction and write its report",
                         description="experiments:\n" + listing,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    exps = rep.add_subparsers(dest="experiment", required=True, metavar="NAME")
    wanted = _requested_experiment(argv)
    for name, (_, help_) in EXPERIMENTS.items():
        p = exps.add_parser(name, help=help_, description=help_)
        if name == wanted:
            _attach(p, _load(name), argv)
    info = sub.add_parser("info", help="print version, threads and the default configuration")
    info.set_defaults(_main=_info)
    cmp = sub.add_parser("compare", help="check that two runs' results.json hold the same numbers",
                         description="Exit 0 when every number of A equals B's (timings and machine ignored).")
    cmp.add_argument("a", help="results.json or a run's output directory")
    cmp.add_argument("b", help="results.json or a run's output directory")
    cmp.set_defaults(_main=_compare)
    _add_log_commands(sub)
    return parser


def _add_log_commands(sub: Any) -> None:
    log = sub.add_parser("log", help="record a policy's search sessions to a log file, or check a log file",
                         description="Search logs (docs/logs.md); needs pyarrow: pip install \"simcore[logs]\".")
    cmds = log.add_subparsers(dest="log_command", required=True)
    rec = cmds.add_parser("record", help="log a policy on the search simulator (Parquet or CSV by suffix)")
    rec.add_argument("out", help="output file, *.parquet or *.csv")
    rec.add_argument("--sessions", type=int, default=100_000, help="sessions to log (default 100000)")
    rec.add_argument("--policy", choices=("ltr", "premium", "popular", "quality", "bargain"), default="ltr",
                     help="mean ranking weights: a named action of the discrete env (default ltr)")
    rec.add_argument("--std", type=float, default=0.1,
                     help="Gaussian exploration around the weights (0: the fixed ranking; default 0.1)")
    rec.add_argument("--seed", type=int, default=0, help="simulator and policy seed (default 0)")
    rec.add_argument("--slots", type=int, default=1024, help="sessions stepped together (default 1024)")
    rec.add_argument("--quiet", action="store_true", help="no progress bar")
    rec.set_defaults(_main=_log_record)
    chk = cmds.add_parser("check", help="check a log file against the format; print its size")
    chk.add_argument("path")
    chk.set_defaults(_main=_log_check)


def _logs_module() -> Any:
    try:
        import simcore.domains.search.logs as logs
    except ModuleNotFoundError as e:
        if e.name != "pyarrow":
            raise
        print('simcore log: error: needs pyarrow: pip install "simcore[logs]"', file=sys.stderr)
        raise SystemExit(2) from None
    return logs


def _log_record(args: argparse.Namespace) -> int:
    logs = _logs_module()
    from simcore.domains.search.world import ACTION_NAMES, default_action_set

    if args.std < 0 or args.std != args.std:
        print(f"simcore log record: error: --std: must be >= 0, got {args.std}", file=sys.stderr)
        return 2
    w = default_action_set(8)[ACTION_NAMES.index(args.policy)]
    policy = (logs.FixedPolicy(w, name=args.policy) if args.std == 0
              else logs.GaussianPolicy(w, args.std, seed=args.seed, name=f"{args.policy}+N(0,{args.std}^2)"))
    try:
        s = logs.record(args.out, policy, sessions=args.sessions, seed=args.seed, num_slots=args.slots,
                        progress=not args.quiet)
    except ValueError as e:
        print(f"simcore log record: error: {e}", file=sys.stderr)
        return 2
    print(f"{s.path}: {s.rows} page views, {s.sessions} sessions in {s.seconds:.1f} s "
          f"({s.pages_per_minute / 1e6:.2f}M page views per minute)")
    return 0


def _log_check(args: argparse.Namespace) -> int:
    logs = _logs_module()
    try:
        reader = logs.open_log(args.path)
        rows = sessions = 0
        for b in reader.batches():
            rows += len(b["session_id"])
            sessions += int(((b["outcome"] != 0) | b["truncated"]).sum())
    except (logs.LogSchemaError, FileNotFoundError) as e:
        print(f"simcore log check: {e}", file=sys.stderr)
        return 1
    print(f"{args.path}: ok (format version {reader.metadata['version']}, {rows} page views, {sessions} sessions)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    import json

    from simcore.report.compare import main as compare

    try:
        return compare(args.a, args.b)
    except (OSError, json.JSONDecodeError) as e:  # a missing or unreadable run: one line, exit 2
        print(f"simcore compare: {e}", file=sys.stderr)
        return 2


def _attach(p: argparse.ArgumentParser, exp: Any, argv: Sequence[str]) -> None:
    from simcore.experiments.base import Experiment, add_arguments, main

    if isinstance(exp, Experiment):
        add_arguments(p, exp)
        rest = list(argv)[list(argv).index("reproduce") + 2:]
        p.set_defaults(_main=lambda args: main(exp, args, rest))
    else:  # an experiment module with its own add_arguments/main
        exp.add_arguments(p)
        p.set_defaults(_main=exp.main)


def _info(args: argparse.Namespace) -> int:
    from simcore._version import __version__
    from simcore.domains.search.config import SessionConfig
    from simcore.kernels import hardware_threads

    print(f"simcore {__version__}, {hardware_threads()} hardware threads")
    print(SessionConfig())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["calibrate"]:  # ``simcore calibrate ...`` = ``simcore reproduce calibrate ...``
        argv = ["reproduce", *argv]
    args = build_parser(argv).parse_args(argv)
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
