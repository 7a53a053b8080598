"""The shape every reproduction has, and the command line generated from it.

An experiment package (``simcore.experiments.<name>``) defines ``EXPERIMENT``, an
:class:`Experiment`: its config dataclass (every field documented and validated),
``run(config, progress) -> results`` (computes, writes nothing), and
``write_report(results, out_dir, command) -> files`` (report.md opening with the
claims table, results.json, PNGs).  ``simcore reproduce <name>`` is generated from it:

* ``--set PATH=VALUE`` (repeatable): any config field by dotted path, e.g.
  ``--set session.user.leave_frustration=6`` (parsed by the field's type);
* ``--config FILE``: a JSON file of config fields (nested dicts), applied first;
* ``--preset NAME``: a named starting config (e.g. ``full``);
* ``--out DIR``, ``--seed N``, ``--workers N``, ``--quiet``: the common flags
  (``--seed``/``--workers`` set the config's ``seed``/``workers`` fields);
* ``--backend inline|process|ray``, ``--address ADDR``, ``--resume``: where the run's
  jobs execute (identical results) and reuse of the job results an interrupted run
  stored in ``OUT/jobs`` (:mod:`simcore.runner.context`).

A bad value exits with code 2 and one line naming the field.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from simcore.util.config import iter_fields, set_path


@dataclass(frozen=True)
class Experiment:
    """A reproduction as the CLI and the runner see it.

    Attributes:
        name: the CLI name (``simcore reproduce <name>``).
        help: one line for ``simcore --help``.
        config_cls: the config dataclass (defaults = the built-in default run).
        run: ``run(config, progress: bool) -> results`` (plain dict).
        write_report: ``write_report(results, out_dir, command) -> list of file names``.
        presets: name -> callable returning a config (e.g. ``"full"``).
        requires: import names the run needs beyond the base install (e.g.
            ``("torch",)``); checked before any work.
        summary: ``summary(results) -> str`` printed after the report (optional).
        requires_for: ``requires_for(config) -> {import name: why}``: what a given
            configuration needs beyond ``requires`` (e.g. torch only when a torch agent
            is switched on); checked after the flags are parsed, before any work.
    """

    name: str
    help: str
    config_cls: type
    run: Callable[..., dict[str, Any]]
    write_report: Callable[..., list[str]]
    presets: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    summary: Callable[[dict[str, Any]], str] | None = None
    requires_for: Callable[[Any], Mapping[str, str]] | None = None


#: what to pip-install for a missing import
EXTRAS = {"torch": 'pip install "simcore[torch]"  (pins torch==2.13.0)',
          "pyarrow": 'pip install "simcore[logs]"  (pyarrow)'}


def missing_requirements(exp: Experiment) -> list[str]:
    """The import names of ``exp.requires`` that are not installed."""
    return [m for m in exp.requires if importlib.util.find_spec(m) is None]


def add_arguments(parser: argparse.ArgumentParser, exp: Experiment) -> None:
    """The generated flags of ``exp`` (see the module docstring)."""
    default = exp.config_cls()
    names = {f.name for f in fields(default)}
    parser.add_argument("--out", default=f"results/{exp.name}", help=f"output directory (default: results/{exp.name})")
    if "seed" in names:
        parser.add_argument("--seed", type=int, default=None, help=f"root seed of the run (default {default.seed})")
    if "workers" in names:
        parser.add_argument("--workers", type=int, default=None,
                            help=f"worker processes (default {default.workers!r}; None: all cores, 1: in this process)")
    parser.add_argument("--backend", choices=("inline", "process", "ray"), default=None,
                        help="where the run's jobs execute (default: the experiment's own choice from "
                             "--workers); results are identical on all three; ray needs simcore[ray]")
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="Ray cluster to connect to (with --backend ray; default: a local Ray)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the job results an interrupted run left in OUT/jobs (same jobs only)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    if exp.presets:
        parser.add_argument("--preset", choices=sorted(exp.presets), default=None,
                            help="start from a named config: " + ", ".join(sorted(exp.presets)))
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="JSON file of config fields (nested dicts), applied before --set")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", dest="overrides",
                        help="set a config field by dotted path (repeatable); fields and defaults below")
    lines = [f"  {p} = {v!r}\n      {d}" if d else f"  {p} = {v!r}" for p, v, d in iter_fields(default)]
    parser.epilog = "config fields (--set PATH=VALUE):\n" + "\n".join(lines)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def config_from_args(exp: Experiment, args: argparse.Namespace) -> Any:
    """The config the flags describe: preset (or defaults), then --config, then --set,
    then --seed/--workers.  Raises ValueError naming the field on a bad value."""
    preset = getattr(args, "preset", None)
    cfg = exp.presets[preset]() if preset else exp.config_cls()
    if getattr(args, "config", None):
        try:
            with open(args.config) as f:
                d = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"--config: cannot read {args.config}: {e}") from None
        for path, value in _flatten(d):
            cfg = set_path(cfg, path, value)
    for item in getattr(args, "overrides", []) or []:
        path, sep, value = item.partition("=")
        if not sep or not path.strip():
            raise ValueError(f"--set: expected PATH=VALUE, got {item!r}")
        cfg = set_path(cfg, path.strip(), value)
    for name in ("seed", "workers"):
        v = getattr(args, name, None)
        if v is not None:
            cfg = set_path(cfg, name, v)
    return cfg


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.extend(_flatten(v, prefix + k + "."))
        else:
            out.append((prefix + k, tuple(v) if isinstance(v, list) else v))
    return out


def command_line(exp: Experiment, argv: Sequence[str]) -> str:
    """The command as a user would retype it (for report.md)."""
    return " ".join(["simcore", "reproduce", exp.name, *argv])


def main(exp: Experiment, args: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    """Runs ``exp`` from parsed flags; returns the exit code (2: bad flags or a
    missing optional dependency, before any work)."""
    prog = f"simcore reproduce {exp.name}"
    missing = missing_requirements(exp)
    if missing:
        hint = "; ".join(EXTRAS.get(m, f"pip install {m}") for m in missing)
        print(f"{prog}: error: needs {', '.join(missing)}: {hint}", file=sys.stderr)
        return 2
    try:
        cfg = config_from_args(exp, args)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    wanted = dict(exp.requires_for(cfg)) if exp.requires_for is not None else {}
    absent = [m for m in wanted if importlib.util.find_spec(m) is None]
    if absent:
        hint = "; ".join(f"{m} ({wanted[m]}): {EXTRAS.get(m, f'pip install {m}')}" for m in absent)
        print(f"{prog}: error: needs {hint}", file=sys.stderr)
        return 2
    backend = getattr(args, "backend", None)
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        from simcore.runner.ray_backend import RAY_HINT

        print(f"{prog}: error: {RAY_HINT}", file=sys.stderr)
        return 2
    if getattr(args, "address", None) and backend != "ray":
        print(f"{prog}: error: --address: needs --backend ray", file=sys.stderr)
        return 2
    from pathlib import Path

    from simcore.runner.context import execution

    with execution(backend=backend, address=getattr(args, "address", None),
                   store=Path(args.out) / "jobs", resume=bool(getattr(args, "resume", False))):
        results = exp.run(cfg, progress=not args.quiet)
    files = exp.write_report(results, args.out, command_line(exp, argv))
    print(f"wrote {', '.join(files)} to {args.out}")
    if exp.summary is not None:
        print(exp.summary(results))
    return 0
