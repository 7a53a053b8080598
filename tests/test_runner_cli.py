"""``--backend``, ``--address`` and ``--resume`` of every ``simcore reproduce`` command
(simcore.experiments.base over simcore.runner.context), on a tiny experiment."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import pytest
from tests.runner_jobs import tiny_report, tiny_run

from simcore.experiments.base import Experiment, add_arguments, main
from simcore.runner.context import current, execution


@dataclass(frozen=True)
class TinyConfig:
    """A tiny experiment's config.

    Attributes:
        seed: root seed; integer >= 0.
        log: file each job appends a line to.
    """

    seed: int = 0
    log: str = "calls.txt"


TINY = Experiment(name="tiny", help="tiny", config_cls=TinyConfig, run=tiny_run, write_report=tiny_report)


def _cli(tmp_path, out: str, *flags: str) -> tuple[int, dict]:
    p = argparse.ArgumentParser()
    add_arguments(p, TINY)
    argv = ["--out", str(tmp_path / out), "--quiet", "--set", f"log={tmp_path / 'calls.txt'}", *flags]
    rc = main(TINY, p.parse_args(argv), argv)
    res = json.loads((tmp_path / out / "results.json").read_text()) if rc == 0 else {}
    return rc, res


def _calls(tmp_path) -> int:
    f = tmp_path / "calls.txt"
    return len(f.read_text().splitlines()) if f.exists() else 0


def test_resume_reruns_nothing_and_gives_the_same_results(tmp_path):
    rc, first = _cli(tmp_path, "a")
    assert rc == 0 and _calls(tmp_path) == 4
    rc, again = _cli(tmp_path, "a", "--resume")
    assert rc == 0 and again == first and _calls(tmp_path) == 4
    rc, other = _cli(tmp_path, "a", "--resume", "--seed", "1")  # other jobs: recomputed
    assert rc == 0 and other["x"] != first["x"] and _calls(tmp_path) == 8


def test_ray_backend_replaces_the_experiments_choice_with_identical_results(tmp_path, local_ray):
    rc, on_ray = _cli(tmp_path, "r", "--backend", "ray")  # joins the running local Ray
    rc2, inline = _cli(tmp_path, "i", "--backend", "inline")
    assert rc == rc2 == 0
    assert all(on_ray["in_ray"]) and not any(inline["in_ray"])
    assert on_ray["x"] == inline["x"]


def test_bad_backend_flags_exit_2(tmp_path, capsys, monkeypatch):
    rc, _ = _cli(tmp_path, "b", "--address", "ray://x:1")
    assert rc == 2 and "--address: needs --backend ray" in capsys.readouterr().err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ray" else real(n, *a))
    rc, _ = _cli(tmp_path, "b", "--backend", "ray")
    assert rc == 2 and 'pip install "simcore[ray]"' in capsys.readouterr().err


def test_execution_context_is_scoped():
    assert current().backend is None
    with execution(backend="inline"):
        assert current().backend == "inline"
    assert current().backend is None
    with pytest.raises(ValueError, match="backend"):
        with execution(backend="dask"):
            pass
