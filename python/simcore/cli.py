"""``simcore`` command line (also ``python -m simcore``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from simcore.experiments import EXPERIMENTS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simcore",
        description="Fast, deterministic simulation of e-commerce search sessions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run a reproduction and write its report")
    exps = rep.add_subparsers(dest="experiment", required=True)
    for name, module in EXPERIMENTS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue  # not built yet
        p = exps.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(p)
        p.set_defaults(_main=mod.main)
    info = sub.add_parser("info", help="print version, threads and the default configuration")
    info.set_defaults(_main=_info)
    return parser


def _info(args: argparse.Namespace) -> int:
    import simcore
    from simcore.config import SessionConfig
    from simcore.core import hardware_threads

    print(f"simcore {simcore.__version__}, {hardware_threads()} hardware threads")
    print(SessionConfig())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
