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
