"""``simcore`` command line (also ``python -m simcore``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from simcore.experiments import EXPERIMENTS


def _requested_experiment(argv: Sequence[str]) -> str | None:
    """The NAME of ``reproduce NAME`` in argv, if any."""
    argv = list(argv)
    if "reproduce" in argv:
        i = argv.index("reproduce")
        if i + 1 < len(argv):
            return argv[i + 1]
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The CLI parser; only the experiment named in argv is imported and given its options."""
    parser = argparse.ArgumentParser(
        prog="simcore",
        description="Fast, deterministic simulation of e-commerce search sessions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run a reproduction and write its report")
    exps = rep.add_subparsers(dest="experiment", required=True)
    wanted = _requested_experiment(argv)
    for name, (module, help_) in EXPERIMENTS.items():
        p = exps.add_parser(name, help=help_, description=help_)
        if name == wanted:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_main=mod.main)
    info = sub.add_parser("info", help="print version, threads and the default configuration")
    info.set_defaults(_main=_info)
    return parser


def _info(args: argparse.Namespace) -> int:
    import simcore
    from simcore.domains.search.config import SessionConfig
    from simcore.kernels import hardware_threads

    print(f"simcore {simcore.__version__}, {hardware_threads()} hardware threads")
    print(SessionConfig())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
