"""CLI smoke tests (experiments test their own subcommands)."""

from __future__ import annotations

import subprocess
import sys

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


def test_experiment_options_are_available(capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["reproduce", "discount", "--help"])
    assert e.value.code == 0
    assert "--full" in capsys.readouterr().out
