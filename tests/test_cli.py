"""CLI smoke tests (experiments test their own subcommands)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simcore.cli import main


def test_info(capsys):
    assert main(["info"]) == 0
    assert "simcore" in capsys.readouterr().out


def test_python_dash_m_help():
    r = subprocess.run([sys.executable, "-m", "simcore", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "reproduce" in r.stdout


def test_help_lists_every_experiment_without_importing_them():
    from simcore.experiments import EXPERIMENTS

    r = subprocess.run(
        [sys.executable, "-c",
         "import sys; from simcore.cli import build_parser; p = build_parser([]);"
         "print(sorted(m for m in sys.modules if m.startswith('simcore.experiments.')))"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    for module, _ in EXPERIMENTS.values():
        assert module not in r.stdout
    r = subprocess.run([sys.executable, "-m", "simcore", "reproduce", "--help"], capture_output=True, text=True)
    for name in EXPERIMENTS:
        assert name in r.stdout


@pytest.mark.parametrize("name", ["discount", "ranking", "engine-cost"])
def test_help_shows_every_config_field(capsys, name):
    from simcore.cli import _load
    from simcore.experiments.base import Experiment
    from simcore.util.config import iter_fields

    with pytest.raises(SystemExit) as e:
        main(["reproduce", name, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--set", "--config", "--out", "--seed", "--workers", "--quiet"):
        assert flag in out
    exp = _load(name)
    assert isinstance(exp, Experiment)
    for path, value, doc in iter_fields(exp.config_cls()):
        assert f"{path} = {value!r}" in out, path
        assert doc, f"{name}: config field {path} has no documentation"


def test_bad_value_exits_2_naming_the_field(capsys):
    assert main(["reproduce", "discount", "--set", "runs=many"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "runs" in err[0]
    assert main(["reproduce", "discount", "--set", "session.user.nope=1"]) == 2
    assert "session.user.nope" in capsys.readouterr().err
    assert main(["reproduce", "discount", "--set", "noequals"]) == 2


def test_missing_optional_dependency_is_one_line(monkeypatch, capsys):
    import importlib.util

    from simcore.experiments.base import Experiment
    from simcore.experiments.base import main as run_main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n, *a))
    ran = []
    exp = Experiment(name="x", help="", config_cls=_Cfg, run=lambda c, progress: ran.append(1),
                     write_report=lambda r, o, c: [], requires=("torch",))
    import argparse

    assert run_main(exp, argparse.Namespace(quiet=True, out="unused", overrides=[]), []) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "simcore[torch]"' in err[0] and not ran


def test_cli_requirements_match_the_experiments():
    """The CLI checks experiments.REQUIRES before importing an experiment; it must
    equal each Experiment.requires."""
    import importlib

    from simcore.experiments import EXPERIMENTS, REQUIRES

    for name, (module, _) in EXPERIMENTS.items():
        exp = getattr(importlib.import_module(module), "EXPERIMENT", None)
        if exp is not None:
            assert tuple(REQUIRES.get(name, ())) == tuple(exp.requires), name


def test_a_config_that_needs_torch_says_so_in_one_line(monkeypatch, capsys, tmp_path):
    """bandits needs torch only for its neural agent: one line naming the extra and the
    switch, before any work; with the switch off it does not ask."""
    import importlib.util

    from simcore.experiments.bandits import EXPERIMENT, requires_for
    from simcore.experiments.bandits.config import BanditsConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n, *a))
    assert main(["reproduce", "bandits", "--quiet", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "simcore[torch]"' in err[0] and "neural=false" in err[0]
    assert not (tmp_path / "b").exists()
    assert requires_for(BanditsConfig(neural=False)) == {} and EXPERIMENT.requires_for is requires_for


from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True)
class _Cfg:
    """A config.

    Attributes:
        seed: root seed.
    """

    seed: int = 0
